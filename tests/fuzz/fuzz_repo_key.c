/*
 * Fuzz target: repo_key_parse and day_parse on arbitrary bytes.
 *
 * Checks the parsers' contracts, not only the absence of crashes: an
 * accepted repo key is OWNER/NAME in [a-z0-9._-] with one '/', as long as
 * GitHub allows, and parsing it again gives itself; an accepted day prints
 * back as the same text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "day.h"
#include "repo_key.h"

static void check_key(const char *key)
{
    const char *slash = strchr(key, '/');
    if (!slash || strchr(slash + 1, '/'))
        abort();
    size_t olen = (size_t)(slash - key), nlen = strlen(slash + 1);
    if (olen < 1 || olen > REPO_OWNER_MAX || nlen < 1 || nlen > REPO_NAME_MAX)
        abort();
    for (const char *p = key; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
              c == '_' || c == '/'))
            abort();
    }
    if (strcmp(slash + 1, ".") == 0 || strcmp(slash + 1, "..") == 0)
        abort();
    char again[REPO_KEY_SIZE];
    if (repo_key_parse(key, strlen(key), again) || strcmp(again, key) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char key[REPO_KEY_SIZE];
    if (!repo_key_parse((const char *)data, size, key))
        check_key(key);

    char text[32];
    if (size < sizeof text) {
        memcpy(text, data, size);
        text[size] = '\0';
        day_t d;
        if (!day_parse(text, &d)) {
            char back[DAY_TEXT_SIZE];
            day_format(d, back);
            if (strcmp(back, text) != 0)
                abort();
        }
    }
    return 0;
}
