/*
 * repo_key: turns the repo parameter into a counter key, or says why not. Pure.
 *
 * A key is OWNER/NAME under GitHub's naming rules (DESIGN.md, "Counting
 * rules"), folded to lower case, because GitHub compares names without
 * case: Foo/Bar and foo/bar are one repository and so one counter. Only
 * [a-z0-9._-] and one '/' survive validation, so a key is safe in a file
 * path, a Redis key, SQL text or XML without further escaping.
 */
#ifndef GHIT_REPO_KEY_H
#define GHIT_REPO_KEY_H

#include <stddef.h>

#define REPO_OWNER_MAX 39
#define REPO_NAME_MAX  100
/* The longest key and its NUL. */
#define REPO_KEY_SIZE (REPO_OWNER_MAX + 1 + REPO_NAME_MAX + 1)

/*
 * Validates the len bytes at s (which may hold NULs or any other byte) as
 * OWNER/NAME and writes the lower-case key into out. Returns NULL on
 * success, otherwise a message for the user that says what is wrong; out is
 * then unspecified.
 */
const char *repo_key_parse(const char *s, size_t len, char out[REPO_KEY_SIZE]);

/* repo_key_parse() for a name in an API path (/api/v1/repos/OWNER/NAME), as its messages say. */
const char *repo_key_parse_path(const char *s, size_t len, char out[REPO_KEY_SIZE]);

#endif
