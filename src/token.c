/*
 * token: constant-time token compare and bearer parsing (see token.h).
 */
#include "token.h"

#include <strings.h>

bool token_equal(const char *given, size_t glen, const char *secret, size_t slen)
{
    if (slen == 0)
        return false;
    unsigned char diff = glen != slen;
    for (size_t i = 0, j = 0; i < glen; i++) {
        diff |= (unsigned char)(given[i] ^ secret[j]);
        /* Wraps without a branch on the data; the barrier keeps the compiler from exiting early. */
        j = (j + 1) % slen;
        __asm__ volatile("" : "+r"(diff));
    }
    return diff == 0;
}

const char *token_bearer(const char *value, size_t *len)
{
    if (!value || strncasecmp(value, "Bearer ", 7) != 0)
        return NULL;
    const char *t = value + 7;
    while (*t == ' ')
        t++;
    size_t n = 0;
    while (t[n] && t[n] != ' ' && t[n] != '\t')
        n++;
    for (size_t i = n; t[i]; i++)
        if (t[i] != ' ' && t[i] != '\t')
            return NULL; /* more than one word */
    *len = n;
    return n ? t : NULL;
}

const char *token_check(const char *text, size_t len, size_t *tlen)
{
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' ' ||
                   text[len - 1] == '\t'))
        len--;
    if (len < TOKEN_MIN || len > TOKEN_MAX)
        return "the token must be 16 to 1024 characters (make one with: "
               "head -c 32 /dev/urandom | base64 > FILE)";
    for (size_t i = 0; i < len; i++)
        if (text[i] <= ' ' || text[i] > '~')
            return "the token must be printable ASCII without spaces on one line";
    *tlen = len;
    return NULL;
}
