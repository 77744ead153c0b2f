/*
 * Unit tests of topsum: sums per repo over days, duplicates of a day
 * ignored, ranking as SQLite's, and the same rows whatever the bound on a
 * pass: one pass or many, after starting over with more parts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "topsum.h"

struct row {
    const char *key;
    day_t day;
    uint64_t hits;
};

struct got {
    size_t n;
    char key[64][40];
    uint64_t hits[64], last[64];
};

static void collect(void *arg, const struct store_top_row *r)
{
    struct got *g = arg;
    if (g->n < 64) {
        snprintf(g->key[g->n], sizeof g->key[0], "%s", r->key);
        g->hits[g->n] = r->hits;
        g->last[g->n] = r->last_day;
        g->n++;
    }
}

/* Runs rows (in day order) through t as a store would, into g. */
static void drive(struct topsum *t, const struct row *rows, size_t n, day_t last, struct got *g)
{
    do {
        for (size_t i = 0; i < n; i++)
            if (topsum_wants(t, rows[i].key) &&
                !topsum_add(t, rows[i].key, rows[i].day, rows[i].hits, rows[i].day == last))
                break;
    } while (topsum_next_pass(t));
    *g = (struct got){0};
    topsum_rows(t, collect, g);
}

/* drive() on a new topsum; the passes it took. */
static unsigned run(const struct row *rows, size_t n, day_t last, size_t bound, size_t limit,
                    struct got *g)
{
    struct topsum *t = topsum_new(bound, limit);
    drive(t, rows, n, last, g);
    unsigned passes = topsum_passes(t);
    topsum_free(t);
    return passes;
}

static void sums_days_and_ranks_as_sqlite(void)
{
    const struct row rows[] = {
        {"b/b", 10, 5}, {"a/a", 10, 2}, {"c/c", 10, 1},
        {"a/a", 11, 3}, {"b/b", 11, 1}, {"a/a", 11, 3}, /* SSCAN gave a/a twice on day 11 */
        {"c/c", 12, 4}, {"d/d", 12, 7}, {"a/a", 12, 1},
    };
    struct got g;
    CHECK_INT(run(rows, sizeof rows / sizeof rows[0], 12, 100, 10, &g), 1);
    CHECK_INT(g.n, 4);
    /* d 7, a 6 (2+3+1), b 6, c 5: ties by key. */
    const char *want[] = {"d/d", "a/a", "b/b", "c/c"};
    const uint64_t hits[] = {7, 6, 6, 5}, last[] = {7, 1, 0, 4};
    for (size_t i = 0; i < 4 && i < g.n; i++) {
        CHECK_STR(g.key[i], want[i]);
        CHECK_INT(g.hits[i], hits[i]);
        CHECK_INT(g.last[i], last[i]);
    }
    CHECK_INT(run(rows, sizeof rows / sizeof rows[0], 12, 100, 2, &g), 1);
    CHECK_INT(g.n, 2);
    CHECK_STR(g.key[1], "a/a");
    CHECK_INT(run(rows, 0, 12, 100, 10, &g), 1);
    CHECK_INT(g.n, 0);
}

/* A pseudo-random range: repos r0..r(nrepos-1), each with hits on some of ndays days. */
static struct row *make_rows(size_t nrepos, int ndays, size_t *n, char names[][24])
{
    struct row *rows = malloc(nrepos * (size_t)ndays * sizeof *rows);
    uint64_t x = 88172645463325252ULL;
    *n = 0;
    for (size_t r = 0; r < nrepos; r++)
        snprintf(names[r], 24, "r/%zu", r);
    for (int d = 0; d < ndays; d++)
        for (size_t r = 0; r < nrepos; r++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            if (x % 3)
                rows[(*n)++] = (struct row){names[r], 100 + d, 1 + x % 50};
        }
    return rows;
}

static void passes_of_any_bound_give_the_same_rows(void)
{
    static char names[600][24];
    size_t n;
    struct row *rows = make_rows(600, 5, &n, names);
    struct got one, many;
    CHECK_INT(run(rows, n, 104, 1000000, 40, &one), 1);
    CHECK_INT(one.n, 40);
    for (size_t bound = 1; bound <= 700; bound = bound * 3 + 1) {
        unsigned passes = run(rows, n, 104, bound, 40, &many);
        /* 600 repos in parts of at most bound: at least that many passes. */
        CHECK(bound >= 600 ? passes == 1 : passes >= (600 + bound - 1) / bound);
        CHECK_INT(many.n, one.n);
        for (size_t i = 0; i < one.n && i < many.n; i++) {
            CHECK_STR(many.key[i], one.key[i]);
            CHECK_INT(many.hits[i], one.hits[i]);
            CHECK_INT(many.last[i], one.last[i]);
        }
    }
    /* No limit: nothing; a limit above the repos: all of them, ranked (the first 64 here). */
    CHECK(run(rows, n, 104, 50, 0, &many) >= 12); /* 600 repos, 50 a pass */
    CHECK_INT(many.n, 0);
    run(rows, n, 104, 1000000, 1000, &one);
    run(rows, n, 104, 50, 1000, &many);
    CHECK_INT(one.n, 64);
    CHECK_INT(many.n, 64);
    for (size_t i = 0; i < 64; i++)
        CHECK(strcmp(many.key[i], one.key[i]) == 0 && many.hits[i] == one.hits[i]);
    free(rows);
}

static void a_full_pass_starts_over_with_twice_the_parts(void)
{
    static char names[100][24];
    size_t n;
    struct row *rows = make_rows(100, 2, &n, names);
    struct topsum *t = topsum_new(30, 5);
    CHECK_INT(topsum_parts(t), 1);
    bool full = false;
    for (size_t i = 0; i < n && !full; i++)
        full = topsum_wants(t, rows[i].key) && !topsum_add(t, rows[i].key, rows[i].day, 1, false);
    CHECK(full); /* 100 repos do not fit in 30 */
    CHECK(topsum_next_pass(t));
    CHECK_INT(topsum_parts(t), 2);
    /* Each name is in exactly one part. */
    size_t in = 0;
    for (size_t r = 0; r < 100; r++)
        in += topsum_wants(t, names[r]);
    CHECK(in > 0 && in < 100);
    topsum_free(t);
    free(rows);
}

static void an_expected_size_starts_with_enough_parts(void)
{
    static char names[600][24];
    size_t n;
    struct row *rows = make_rows(600, 3, &n, names);
    struct got one, got;
    run(rows, n, 102, 1000000, 10, &one);
    struct topsum *t = topsum_new(100, 10);
    topsum_expect(t, 100);
    CHECK_INT(topsum_parts(t), 1); /* as many as the bound: one pass holds them */
    topsum_expect(t, 600);
    unsigned parts = topsum_parts(t);
    CHECK(parts >= 8); /* parts of 75 or fewer: a fifth below the bound */
    drive(t, rows, n, 102, &got);
    CHECK_INT(topsum_parts(t), parts); /* no pass filled up and started over */
    CHECK_INT(topsum_passes(t), parts);
    CHECK_INT(got.n, one.n);
    for (size_t i = 0; i < one.n && i < got.n; i++)
        CHECK(strcmp(got.key[i], one.key[i]) == 0 && got.hits[i] == one.hits[i]);
    topsum_free(t);
    free(rows);
}

int main(void)
{
    RUN(sums_days_and_ranks_as_sqlite);
    RUN(passes_of_any_bound_give_the_same_rows);
    RUN(a_full_pass_starts_over_with_twice_the_parts);
    RUN(an_expected_size_starts_with_enough_parts);
    return test_main_end("topsum");
}
