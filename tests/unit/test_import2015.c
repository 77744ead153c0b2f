/*
 * test_import2015: the 2015 key classes and the name rule of design 2.2
 * (import2015.c), with the members measured there and what nginx with
 * set-misc 0.33 wrote for the test's requests.
 */
#include "import2015.h"

#include "test.h"

/* The canonical key of m, or "(invalid)". */
static const char *canon(const char *m)
{
    static char key[REPO_KEY_SIZE];
    return import2015_canonical(m, strlen(m), key) ? "(invalid)" : key;
}

static void names_of_one_repo_become_one(void)
{
    CHECK_STR(canon("benwilber%2Fbashids"), "benwilber/bashids");
    CHECK_STR(canon("Benwilber%2FBashIDs"), "benwilber/bashids");
    CHECK_STR(canon("benwilber%252Fbashids"), "benwilber/bashids");
    CHECK_STR(canon("benwilber%2fbashids"), "benwilber/bashids");   /* set-misc < 0.25 */
    CHECK_STR(canon("benwilber%252fbashids"), "benwilber/bashids"); /* raw %2f, escaped */
    CHECK_STR(canon("o%2F%2541"), "o/a");                           /* ?repo=o/%41 */
    CHECK_STR(canon("a-b%2FC_d.E"), "a-b/c_d.e");
}

static void invalid_names_are_refused(void)
{
    const char *bad[] = {"a%2Bb%2Fc", "o%2Fn%3Bx%3D1", "foo%2Fbar.v2_x-y~z", "-x%2Fy",
                         "x%2F..",    "%2Fx",          "no-slash",           "x%2F%2",
                         "x%2Fy%",    "x%2Fy%25",      "x%2Fy%25zz",         "a%2F%2F",
                         "",          "o%2Fn%00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_STR(canon(bad[i]), "(invalid)");
    char key[REPO_KEY_SIZE];
    CHECK(import2015_canonical("o%2Fn\0x", 7, key) != NULL); /* a NUL in a key */
    /* Too long once decoded: said so, not blamed on an escape. */
    char big[200];
    memset(big, 'x', 160);
    memcpy(big + 160, "%2Fn", 5);
    CHECK_STR(import2015_canonical(big, strlen(big), key),
              "invalid repo: longer than OWNER/NAME can be (140 characters)");
    char longname[1200];
    memset(longname, 'a', sizeof longname);
    CHECK(import2015_canonical(longname, sizeof longname, key) != NULL);
}

/* Classifies s; returns its kind and fills *k. */
static enum import2015_kind kind(const char *s, struct import2015_key *k)
{
    import2015_classify(s, strlen(s), k);
    return k->kind;
}

static void keys_are_classified(void)
{
    struct import2015_key k;
    CHECK_INT(kind("repo:Foo%2FBar", &k), IMPORT2015_TOTAL);
    CHECK(k.member_len == 9 && memcmp(k.member, "Foo%2FBar", 9) == 0);
    CHECK_INT(kind("repo:2015-12-25:Foo%2FBar", &k), IMPORT2015_DAY);
    CHECK(k.member_len == 9 && memcmp(k.member, "Foo%2FBar", 9) == 0);
    CHECK_INT(k.day, 16794); /* 2015-12-25 */
    CHECK_INT(kind("repos", &k), IMPORT2015_SET);
    CHECK(!k.has_day);
    CHECK_INT(kind("repos:2015-12-25", &k), IMPORT2015_SET);
    CHECK(k.has_day);
    /* Not a real day: a total of a name that is never valid, so listed, not lost. */
    CHECK_INT(kind("repo:2015-13-45:x%2Fy", &k), IMPORT2015_TOTAL);
    CHECK_STR(canon("2015-13-45:x%2Fy"), "(invalid)");
    CHECK_INT(kind("repo:2015-12-25:", &k), IMPORT2015_TOTAL);
    CHECK_INT(kind("repo:", &k), IMPORT2015_OTHER);
    /* ghit's own keys, the import's ledgers among them: not counted among the others. */
    CHECK_INT(kind("ghit:epoch", &k), IMPORT2015_GHIT);
    CHECK_INT(kind("ghit:import2015:sqlite:/x", &k), IMPORT2015_GHIT);
    CHECK_INT(kind("ghit:import2015:sqlite:/x:pending", &k), IMPORT2015_GHIT);
    CHECK_INT(kind("ghit", &k), IMPORT2015_OTHER);
    CHECK_INT(kind("ghitx:epoch", &k), IMPORT2015_OTHER);
    CHECK_INT(kind("repos:2015-12-2", &k), IMPORT2015_OTHER);
    CHECK_INT(kind("reposx", &k), IMPORT2015_OTHER);
}

int main(void)
{
    RUN(names_of_one_repo_become_one);
    RUN(invalid_names_are_refused);
    RUN(keys_are_classified);
    return test_main_end("import2015");
}
