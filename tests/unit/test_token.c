/*
 * Unit tests of the admin token (issue 10): bearer parsing, the token
 * file's rules, and that token_equal() takes the same time however much of
 * a guess matches.
 *
 * The timing check is built to hold on a shared, noisy 2-core machine: the
 * guesses are timed interleaved, many rounds each, and compared by their
 * fastest round (noise only ever adds time). Its power is shown on the
 * spot: the same measurement of an early-exit compare must see the leak.
 */
#include <stdlib.h>
#include <time.h>

#include "test.h"
#include "token.h"

static void equal_answers_right(void)
{
    const char *t = "abcdefghijklmnop";
    CHECK(token_equal(t, 16, t, 16));
    CHECK(!token_equal("abcdefghijklmnoq", 16, t, 16));
    CHECK(!token_equal("abcdefghijklmno", 15, t, 16));
    CHECK(!token_equal("abcdefghijklmnopabcdefghijklmnop", 32, t, 16));
    CHECK(!token_equal("", 0, t, 16));
    CHECK(!token_equal("", 0, "", 0));
}

static void bearer_and_file_rules(void)
{
    size_t n;
    const char *t = token_bearer("Bearer abc", &n);
    CHECK(t && n == 3 && memcmp(t, "abc", 3) == 0);
    t = token_bearer("bearer   abc  ", &n);
    CHECK(t && n == 3);
    CHECK(token_bearer("Basic abc", &n) == NULL);
    CHECK(token_bearer("Bearer", &n) == NULL);
    CHECK(token_bearer("Bearer ", &n) == NULL);
    CHECK(token_bearer("Bearer a b", &n) == NULL);
    CHECK(token_bearer(NULL, &n) == NULL);
    CHECK(token_check("0123456789abcdef\n", 17, &n) == NULL && n == 16);
    CHECK(token_check("0123456789abcde\n", 16, &n) != NULL);
    CHECK(token_check("0123456789 abcdef", 17, &n) != NULL);
    CHECK(token_check("0123456789abcdef\nsecond-line-here", 33, &n) != NULL);
}

/* An early-exit compare, as memcmp-like code would be: the leak the test must be able to see. */
static bool naive_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++) {
        if (a[i] != b[i])
            return false;
        __asm__ volatile("" ::: "memory");
    }
    return true;
}

typedef bool equal_fn(const char *, size_t, const char *, size_t);

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

#define LEN    4096
#define ROUNDS 300
#define CALLS  20

/*
 * The fastest round's time of eq on a guess wrong in its first byte, and
 * on one wrong in its last byte only (best[0], best[1]).
 */
static void time_guesses(equal_fn *eq, const char *secret, double best[2])
{
    static char early[LEN], late[LEN];
    memcpy(early, secret, LEN);
    memcpy(late, secret, LEN);
    early[0] ^= 1;
    late[LEN - 1] ^= 1;
    const char *guess[2] = {early, late};
    best[0] = best[1] = 1e18;
    volatile bool sink = false;
    for (int r = 0; r < ROUNDS; r++) {
        for (int g = 0; g < 2; g++) {
            int which = (r & 1) ? 1 - g : g; /* alternate the order */
            double t0 = now_ns();
            for (int c = 0; c < CALLS; c++)
                sink = sink ^ eq(guess[which], LEN, secret, LEN);
            double t = now_ns() - t0;
            if (t < best[which])
                best[which] = t;
        }
    }
    (void)sink;
}

static void time_does_not_depend_on_the_matching_prefix(void)
{
    static char secret[LEN];
    for (int i = 0; i < LEN; i++)
        secret[i] = (char)('A' + i % 26);
    double ct[2], naive[2];
    time_guesses(token_equal, secret, ct);
    time_guesses(naive_equal, secret, naive);
    double ct_ratio = ct[1] / ct[0], naive_ratio = naive[1] / naive[0];
    printf("token: %d-byte guesses, fastest of %d rounds: token_equal %.0f ns vs %.0f ns "
           "(ratio %.2f); early-exit compare %.0f vs %.0f ns (ratio %.1f)\n",
           LEN, ROUNDS, ct[0] / CALLS, ct[1] / CALLS, ct_ratio, naive[0] / CALLS, naive[1] / CALLS,
           naive_ratio);
    CHECK(naive_ratio > 10);                   /* the measurement can see a leak... */
    CHECK(ct_ratio > 0.75 && ct_ratio < 1.33); /* ...and token_equal shows none */
}

int main(void)
{
    RUN(equal_answers_right);
    RUN(bearer_and_file_rules);
    RUN(time_does_not_depend_on_the_matching_prefix);
    return test_main_end("token");
}
