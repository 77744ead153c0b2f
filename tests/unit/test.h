/*
 * test.h: the unit-test harness, a header and nothing else.
 *
 * A test file defines static void functions and lists them in main() with
 * RUN(fn). CHECK* macros record a failure with file and line and go on, so
 * one run shows every broken expectation. test_main_end() prints the
 * summary line "<file>: N passed, N failed" and gives the exit status.
 */
#ifndef GHIT_TEST_H
#define GHIT_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int test_failures_in_current;
static int tests_passed, tests_failed;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);               \
            test_failures_in_current++;                                                            \
        }                                                                                          \
    } while (0)

#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                      \
        if (va_ != vb_) {                                                                          \
            fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, #a,    \
                    va_, #b, vb_);                                                                 \
            test_failures_in_current++;                                                            \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *sa_ = (a), *sb_ = (b);                                                         \
        if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0) {                                               \
            fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a,      \
                    sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");                                   \
            test_failures_in_current++;                                                            \
        }                                                                                          \
    } while (0)

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        test_failures_in_current = 0;                                                              \
        fn();                                                                                      \
        if (test_failures_in_current) {                                                            \
            fprintf(stderr, "FAIL %s\n", #fn);                                                     \
            tests_failed++;                                                                        \
        } else {                                                                                   \
            tests_passed++;                                                                        \
        }                                                                                          \
    } while (0)

static inline int test_main_end(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, tests_passed, tests_failed);
    return tests_failed ? 1 : 0;
}

#endif
