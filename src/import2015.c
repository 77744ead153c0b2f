/*
 * import2015: classifies 2015 keys and finds a 2015 name's ghit repo (see
 * import2015.h).
 *
 * The two decodes are strict: a '%' not followed by two hex digits makes
 * the name invalid. For the first decode that is exact, since
 * set_escape_uri escapes every '%' it is given, so its output never holds a
 * bare one. For the second, libmicrohttpd would have kept the bare '%', and
 * repo_key_parse would have refused the name for it: the same outcome.
 * Either hex case is accepted: set-misc before v0.25 (2014) wrote
 * lower-case escapes.
 */
#include "import2015.h"

#include <string.h>

#include "ascii.h"

/* Percent-decodes the len bytes at s into out (n bytes); the length, or (size_t)-1. */
static size_t decode(const char *s, size_t len, char *out, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= len)
                return (size_t)-1;
            int hi = ascii_hex_digit((unsigned char)s[i + 1]),
                lo = ascii_hex_digit((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return (size_t)-1;
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        }
        if (o >= n)
            return (size_t)-1;
        out[o++] = (char)c;
    }
    return o;
}

const char *import2015_canonical(const char *m, size_t len, char key[REPO_KEY_SIZE])
{
    /*
     * An escaped byte is 3 bytes, twice escaped 5: longer names cannot be
     * valid. Both buffers hold any shorter one, so that a long name is
     * refused by repo_key_parse, for its length.
     */
    char once[REPO_KEY_SIZE * 5], twice[REPO_KEY_SIZE * 5];
    if (len == 0)
        return "empty name";
    if (len > 5 * (REPO_KEY_SIZE - 1))
        return "too long to be OWNER/NAME";
    size_t n1 = decode(m, len, once, sizeof once);
    if (n1 == (size_t)-1)
        return "a '%' that set_escape_uri cannot have written";
    size_t n2 = decode(once, n1, twice, sizeof twice);
    if (n2 == (size_t)-1)
        return "a '%' not followed by two hex digits";
    return repo_key_parse(twice, n2, key);
}

/* Whether the 10 bytes at s are a real YYYY-MM-DD; its day into *day. */
static int day_at(const char *s, size_t len, day_t *day)
{
    char text[DAY_TEXT_SIZE];
    if (len < DAY_TEXT_SIZE - 1)
        return 0;
    memcpy(text, s, DAY_TEXT_SIZE - 1);
    text[DAY_TEXT_SIZE - 1] = '\0';
    return day_parse(text, day) == NULL;
}

void import2015_classify(const char *key, size_t len, struct import2015_key *out)
{
    static const char total[] = "repo:", set[] = "repos", ghit[] = "ghit:";
    const size_t tl = sizeof total - 1, sl = sizeof set - 1, dl = DAY_TEXT_SIZE - 1;
    memset(out, 0, sizeof *out);
    out->kind = IMPORT2015_OTHER;
    /* 2015 wrote no ghit: key: one there is an import's ledger or a ghit store's. */
    if (len >= sizeof ghit - 1 && memcmp(key, ghit, sizeof ghit - 1) == 0) {
        out->kind = IMPORT2015_GHIT;
        return;
    }
    if (len == sl && memcmp(key, set, sl) == 0) {
        out->kind = IMPORT2015_SET;
        return;
    }
    if (len == sl + 1 + dl && memcmp(key, set, sl) == 0 && key[sl] == ':' &&
        day_at(key + sl + 1, dl, &out->day)) {
        out->kind = IMPORT2015_SET;
        out->has_day = 1;
        return;
    }
    if (len <= tl || memcmp(key, total, tl) != 0)
        return;
    const char *rest = key + tl;
    size_t rlen = len - tl;
    /* ':' is always escaped in a member (%3A), so a day prefix cannot be part of one. */
    if (rlen > dl + 1 && rest[dl] == ':' && day_at(rest, dl, &out->day)) {
        out->kind = IMPORT2015_DAY;
        out->member = rest + dl + 1;
        out->member_len = rlen - dl - 1;
        return;
    }
    out->kind = IMPORT2015_TOTAL;
    out->member = rest;
    out->member_len = rlen;
}
