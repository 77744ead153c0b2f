/*
 * token: the operator's admin token, compared in constant time. Pure.
 *
 * A compare that stops at the first differing byte answers sooner the
 * fewer leading bytes of a guess are right, and over many requests that
 * difference can be measured and the token guessed byte by byte. Here the
 * work depends only on the length of the guess, never on its content or on
 * how much of it matches (tests/unit/test_token.c measures it).
 */
#ifndef GHIT_TOKEN_H
#define GHIT_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

/* Fewest and most bytes of a token. */
#define TOKEN_MIN 16
#define TOKEN_MAX 1024

/*
 * Whether the glen bytes at given equal the slen bytes at secret (slen > 0),
 * in time that depends on glen alone.
 */
bool token_equal(const char *given, size_t glen, const char *secret, size_t slen);

/*
 * The token of an "Authorization: Bearer TOKEN" header value (RFC 6750
 * section 2.1; the scheme is case-insensitive): sets *len and returns a
 * pointer into value, or NULL if value is not a bearer credential.
 */
const char *token_bearer(const char *value, size_t *len);

/*
 * Checks the text of a token file (len bytes) and finds the token: the
 * text without trailing white space, TOKEN_MIN to TOKEN_MAX printable
 * ASCII bytes without spaces. NULL if fine (*tlen set), else what is wrong.
 */
const char *token_check(const char *text, size_t len, size_t *tlen);

#endif
