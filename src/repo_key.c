/*
 * repo_key: validation and case folding of OWNER/NAME (see repo_key.h).
 *
 * The rules are GitHub's: an owner (user or organisation) is 1-39 of
 * A-Z a-z 0-9 and '-', neither first nor last a hyphen; a repository name is
 * 1-100 of A-Z a-z 0-9 '.', '_' and '-', and not "." or "..". The checks run
 * on bytes, never on the C locale, so the result is the same everywhere.
 */
#include "repo_key.h"

#include <string.h>

#include "ascii.h"

/* Checks the owner part and writes it folded to out. */
static const char *parse_owner(const char *s, size_t len, char *out)
{
    if (len == 0)
        return "invalid repo: the owner is empty (expected OWNER/NAME)";
    if (len > REPO_OWNER_MAX)
        return "invalid repo: the owner is longer than 39 characters";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!ascii_is_alnum(c) && c != '-')
            return "invalid repo: the owner may only hold letters, digits and hyphens";
        out[i] = ascii_lower(c);
    }
    if (s[0] == '-' || s[len - 1] == '-')
        return "invalid repo: the owner may not begin or end with a hyphen";
    return NULL;
}

/* Checks the name part and writes it folded to out. */
static const char *parse_name(const char *s, size_t len, char *out)
{
    if (len == 0)
        return "invalid repo: the name is empty (expected OWNER/NAME)";
    if (len > REPO_NAME_MAX)
        return "invalid repo: the name is longer than 100 characters";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!ascii_is_alnum(c) && c != '-' && c != '_' && c != '.')
            return "invalid repo: the name may only hold letters, digits, '.', '_' and '-'";
        out[i] = ascii_lower(c);
    }
    if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
        return "invalid repo: the name may not be '.' or '..'";
    return NULL;
}

const char *repo_key_parse_path(const char *s, size_t len, char out[REPO_KEY_SIZE])
{
    return len ? repo_key_parse(s, len, out) : "missing repo: use /api/v1/repos/OWNER/NAME";
}

const char *repo_key_parse(const char *s, size_t len, char out[REPO_KEY_SIZE])
{
    if (len == 0)
        return "missing repo: add ?repo=OWNER/NAME";
    if (len > REPO_KEY_SIZE - 1)
        return "invalid repo: longer than OWNER/NAME can be (140 characters)";
    const char *slash = memchr(s, '/', len);
    if (!slash)
        return "invalid repo: expected OWNER/NAME";
    size_t olen = (size_t)(slash - s);
    const char *err = parse_owner(s, olen, out);
    if (err)
        return err;
    out[olen] = '/';
    err = parse_name(slash + 1, len - olen - 1, out + olen + 1);
    if (err)
        return err;
    out[len] = '\0';
    return NULL;
}
