/*
 * Fuzz target: import2015_classify and import2015_canonical on arbitrary
 * bytes (a Redis key can hold any).
 *
 * Checks the contracts, not only the absence of crashes: a counter's member
 * lies inside the key, after "repo:" (and the day); an accepted name gives
 * a key that repo_key_parse accepts unchanged, and that key, escaped as
 * 2015 escaped it, is its own canonical name (so an import run again moves
 * nothing).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "import2015.h"
#include "redis_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct import2015_key k;
    import2015_classify(s, size, &k);
    if (k.kind == IMPORT2015_TOTAL || k.kind == IMPORT2015_DAY) {
        size_t skip = k.kind == IMPORT2015_TOTAL ? 5 : 5 + DAY_TEXT_SIZE;
        if (k.member != s + skip || k.member_len + skip != size || memcmp(s, "repo:", 5) != 0)
            abort();
    }
    char key[REPO_KEY_SIZE], again[REPO_KEY_SIZE], r[REPO_KEY_SIZE * 3];
    if (import2015_canonical(s, size, key))
        return 0;
    if (repo_key_parse(key, strlen(key), again) || strcmp(again, key) != 0)
        abort();
    size_t rlen = redis_key_escape(key, strlen(key), r, sizeof r);
    if (rlen == (size_t)-1 || import2015_canonical(r, rlen, again) || strcmp(again, key) != 0)
        abort();
    return 0;
}
