/*
 * Fuzz target: --db's Redis URLs (redis_url_parse) and the 2015 schema's
 * escaping of names (redis_key_escape, redis_key_unescape), on arbitrary
 * bytes.
 *
 * Contracts checked, not only the absence of crashes: an accepted URL names
 * a host or a socket path, never both nor neither, with a port from 1 to
 * 65535 for a host, a database below 65536 and a timeout from 1 ms to 10
 * minutes, and every string it fills ends inside its array. Escaping keeps
 * only the bytes that nginx's set_escape_uri keeps, and unescaping gives
 * back the bytes escaped.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "redis_url.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts unless the string in field (n bytes) ends inside it. */
static void terminated(const char *field, size_t n)
{
    if (strnlen(field, n) >= n)
        abort();
}

static void check_url(const char *text)
{
    struct redis_url u;
    if (redis_url_parse(text, &u) != NULL)
        return;
    if (!redis_url_is(text))
        abort();
    terminated(u.host, sizeof u.host);
    terminated(u.path, sizeof u.path);
    terminated(u.user, sizeof u.user);
    terminated(u.password, sizeof u.password);
    bool tcp = u.host[0] != '\0', socket = u.path[0] != '\0';
    if (tcp == socket || (socket && u.path[0] != '/'))
        abort();
    if (tcp && (u.port < 1 || u.port > 65535))
        abort();
    if (u.db > 65535 || u.timeout_ms < 1 || u.timeout_ms > 600000)
        abort();
}

static bool upper_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

static void check_escape(const char *s, size_t len)
{
    size_t n = 3 * len + 1;
    char *escaped = malloc(n), *back = malloc(len + 1);
    if (!escaped || !back)
        abort();
    size_t elen = redis_key_escape(s, len, escaped, n);
    if (elen == (size_t)-1 || elen != strlen(escaped))
        abort();
    /* Only the kept bytes, and %XX with upper-case hex digits. */
    static const char kept[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                               "!$'()*,-.@_`|~";
    for (size_t i = 0; i < elen; i++) {
        if (escaped[i] == '%') {
            if (i + 2 >= elen || !upper_hex(escaped[i + 1]) || !upper_hex(escaped[i + 2]))
                abort();
            i += 2;
        } else if (!memchr(kept, escaped[i], sizeof kept - 1)) {
            abort();
        }
    }
    /* One byte short of room is refused, not cut. */
    if (elen > 0 && redis_key_escape(s, len, escaped, elen) != (size_t)-1)
        abort();
    if (redis_key_unescape(escaped, back, len + 1) != len || memcmp(back, s, len) != 0)
        abort();
    free(escaped);
    free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The bytes as a --db value (up to a NUL, as the command line gives it). */
    char *text = fuzz_text(data, size);
    check_url(text);

    /* The same bytes as a repo name to escape (NULs included), and as an escaped one. */
    check_escape((const char *)data, size);
    char out[512];
    size_t back = redis_key_unescape(text, out, sizeof out);
    if (back != (size_t)-1 && (back >= sizeof out || strnlen(out, sizeof out) > back))
        abort();
    free(text);
    return 0;
}
