/* Unit tests of repo_key: GitHub's naming rules and case folding. */
#include <string.h>

#include "repo_key.h"
#include "test.h"

/* Parses s (with its length, so embedded NULs count) and returns the error or NULL. */
static const char *parse_n(const char *s, size_t len, char *out)
{
    return repo_key_parse(s, len, out);
}

static const char *parse(const char *s, char *out)
{
    return parse_n(s, strlen(s), out);
}

static void good_names_fold_to_lower_case(void)
{
    static const struct {
        const char *in, *key;
    } cases[] = {
        {"foo/bar", "foo/bar"},
        {"Foo/Bar", "foo/bar"},
        {"FOO/BAR", "foo/bar"},
        {"a/b", "a/b"},
        {"a-b/c.d_e-f", "a-b/c.d_e-f"},
        {"user123/repo.js", "user123/repo.js"},
        {"x/.github", "x/.github"},
        {"x/...", "x/..."},
        {"x/-", "x/-"},
        {"x/_", "x/_"},
        {"a1-b2-c3/Z", "a1-b2-c3/z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char key[REPO_KEY_SIZE];
        CHECK(parse(cases[i].in, key) == NULL);
        CHECK_STR(key, cases[i].key);
    }
}

static void longest_valid_parts_pass(void)
{
    char in[200], key[REPO_KEY_SIZE];
    memset(in, 'o', 39);
    in[39] = '/';
    memset(in + 40, 'n', 100);
    in[140] = '\0';
    CHECK(parse(in, key) == NULL);
    CHECK_INT(strlen(key), 140);
}

static void bad_names_are_refused_with_a_reason(void)
{
    static const struct {
        const char *in;
        const char *why; /* a word the message must hold */
    } cases[] = {
        {"", "missing"},
        {"foobar", "OWNER/NAME"},
        {"/bar", "owner is empty"},
        {"foo/", "name is empty"},
        {"/", "owner is empty"},
        {"-foo/bar", "hyphen"},
        {"foo-/bar", "hyphen"},
        {"-/bar", "hyphen"},
        {"foo/.", "'.' or '..'"},
        {"foo/..", "'.' or '..'"},
        {"../etc", "owner may only"},
        {"foo/../bar", "name may only"},
        {"foo/bar/baz", "name may only"},
        {"foo//bar", "name may only"},
        {"fo o/bar", "owner may only"},
        {"foo/b ar", "name may only"},
        {"foo/bar%2F", "name may only"},
        {"foo%2Fbar", "OWNER/NAME"},
        {"fo_o/bar", "owner may only"},
        {"fo.o/bar", "owner may only"},
        {"foo/bär", "name may only"},
        {"föö/bar", "owner may only"},
        {"foo/bar\n", "name may only"},
        {"foo\\bar/x", "owner may only"},
        {"foo/bar?x", "name may only"},
        {"foo/bar<script>", "name may only"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char key[REPO_KEY_SIZE];
        const char *err = parse(cases[i].in, key);
        CHECK(err != NULL);
        if (err && !strstr(err, cases[i].why)) {
            fprintf(stderr, "\"%s\": message \"%s\" lacks \"%s\"\n", cases[i].in, err,
                    cases[i].why);
            test_failures_in_current++;
        }
    }
}

static void length_limits(void)
{
    char in[400], key[REPO_KEY_SIZE];
    memset(in, 'o', 40); /* a 40-character owner */
    memcpy(in + 40, "/bar", 5);
    CHECK(strstr(parse(in, key), "longer than 39") != NULL);

    memcpy(in, "foo/", 4);
    memset(in + 4, 'n', 101); /* a 101-character name */
    in[105] = '\0';
    CHECK(strstr(parse(in, key), "longer than 100") != NULL);

    memset(in, 'a', sizeof in - 1); /* very long: refused before any scan */
    in[sizeof in - 1] = '\0';
    CHECK(parse(in, key) != NULL);
}

static void nul_bytes_are_refused(void)
{
    char key[REPO_KEY_SIZE];
    CHECK(parse_n("foo/bar\0x", 9, key) != NULL);
    CHECK(parse_n("foo\0/bar", 8, key) != NULL);
    CHECK(parse_n("\0", 1, key) != NULL);
}

int main(void)
{
    RUN(good_names_fold_to_lower_case);
    RUN(longest_valid_parts_pass);
    RUN(bad_names_are_refused_with_a_reason);
    RUN(length_limits);
    RUN(nul_bytes_are_refused);
    return test_main_end("repo_key");
}
