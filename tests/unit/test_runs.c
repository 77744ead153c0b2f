/*
 * Unit tests for runs.c: the sums of a journal's sorted runs, merged with
 * a cursor a run, against the same rows sorted and summed apart. The runs
 * differ in length and overlap in keys, so that each comes first and last
 * in turn, and they end at different times. (The store's tests reach runs
 * only through merges of flushes that are alike.)
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#include "day.h"
#include "runs.h"
#include "test.h"

#define DAY0     20423 /* 2025-12-01 */
#define MAX_ROWS 40000

struct row {
    char key[16];
    day_t day;
    uint64_t hits;
};

static struct row rows[MAX_ROWS];

static int by_key_day(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->day > y->day) - (x->day < y->day);
}

/* The sums of rows[0..n), sorted (by_key_day), into sums: by (repo, day), or by repo. */
static size_t sums_of(size_t n, bool by_repo, struct row *sums)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        struct row *last = m ? &sums[m - 1] : NULL;
        if (last && strcmp(last->key, rows[i].key) == 0 && (by_repo || last->day == rows[i].day)) {
            last->hits += rows[i].hits; /* rows are sorted: the first day comes first */
            continue;
        }
        sums[m++] = rows[i];
    }
    return m;
}

/*
 * A journal attached as j to an in-memory database, with nruns flushes:
 * flush f holds a random set of the 2 * nkeys (repo, day) pairs, in key
 * order, as ghit's flusher writes them. The rows go to rows[] too; returns
 * how many (the last id).
 */
static size_t make_journal(sqlite3 *db, int nruns, int nkeys, unsigned seed)
{
    CHECK_INT(sqlite3_exec(db,
                           "ATTACH ':memory:' AS j;"
                           "CREATE TABLE j.journal (id INTEGER PRIMARY KEY AUTOINCREMENT,"
                           " flush INTEGER NOT NULL, repo TEXT NOT NULL, day TEXT NOT NULL,"
                           " hits INTEGER NOT NULL)",
                           NULL, NULL, NULL),
              SQLITE_OK);
    sqlite3_stmt *st = NULL;
    CHECK_INT(sqlite3_prepare_v2(
                  db, "INSERT INTO j.journal(flush, repo, day, hits) VALUES (?1, ?2, ?3, ?4)", -1,
                  &st, NULL),
              SQLITE_OK);
    srand(seed);
    size_t n = 0;
    for (int f = 1; f <= nruns; f++) {
        /* Runs of few pairs, of some and of nearly all; each holds pair must at least. */
        int percent = f % 3 == 0 ? 2 : f % 3 == 1 ? 30 : 90, must = rand() % (2 * nkeys);
        for (int k = 0; k < nkeys; k++)
            for (int d = 0; d < 2; d++) {
                if (2 * k + d != must && rand() % 100 >= percent)
                    continue;
                struct row *r = &rows[n++];
                snprintf(r->key, sizeof r->key, "o/r%05d", k);
                r->day = DAY0 + d;
                r->hits = 1 + (uint64_t)(rand() % 5);
                char day[DAY_TEXT_SIZE];
                day_format(r->day, day);
                sqlite3_bind_int(st, 1, f);
                sqlite3_bind_text(st, 2, r->key, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 3, day, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 4, (int64_t)r->hits);
                CHECK_INT(sqlite3_step(st), SQLITE_DONE);
                sqlite3_reset(st);
            }
    }
    sqlite3_finalize(st);
    return n;
}

/*
 * Runs over a journal of nruns flushes (make_journal()) in a new in-memory
 * *db; *n: its rows. NULL, a check failed, if they cannot be made.
 */
static struct runs *runs_over(sqlite3 **db, int nruns, int nkeys, unsigned seed, size_t *n)
{
    CHECK_INT(sqlite3_open(":memory:", db), SQLITE_OK);
    *n = make_journal(*db, nruns, nkeys, seed);
    char err[256] = "";
    struct runs *r = runs_new(*db, err, sizeof err);
    CHECK(r != NULL);
    return r;
}

/*
 * Checks that sums a and b, the ith of what, are alike; prints them if
 * not. False if not.
 */
static bool same_sum(const struct store_delta *a, const struct row *b, const char *what, size_t i)
{
    if (strcmp(a->key, b->key) == 0 && a->day == b->day && a->hits == b->hits)
        return true;
    fprintf(stderr, "%s %zu is %s %d %llu, not %s %d %llu\n", what, i, a->key, a->day,
            (unsigned long long)a->hits, b->key, b->day, (unsigned long long)b->hits);
    CHECK(false);
    return false;
}

/*
 * Merges the runs of a journal of nruns flushes, with no repos' sums and
 * with them by chunks of 1, 7 and RUNS_MAX repos; checks every sum, and
 * that each pause falls between two repos after a whole chunk.
 */
static void merges_like_a_sort(int nruns, int nkeys, unsigned seed)
{
    sqlite3 *db = NULL;
    size_t n;
    struct runs *r = runs_over(&db, nruns, nkeys, seed, &n);
    if (!r) {
        sqlite3_close(db);
        return;
    }
    qsort(rows, n, sizeof rows[0], by_key_day);
    static struct row want[MAX_ROWS], want_repos[MAX_ROWS];
    size_t m = sums_of(n, false, want), mr = sums_of(n, true, want_repos);
    CHECK_INT(runs_plan(r, 0, (int64_t)n), SQLITE_OK);
    static const size_t chunks[] = {0, 1, 7, RUNS_MAX};
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        size_t got = 0, got_repos = 0, pauses = 0;
        bool alike = true;
        CHECK_INT(runs_start(r, chunks[c]), SQLITE_OK);
        struct store_delta d;
        int rc;
        do {
            while (alike && (rc = runs_next(r, &d)) == SQLITE_ROW) {
                alike = got < m && same_sum(&d, &want[got], "sum", got);
                got++;
            }
            size_t k = 0;
            const struct store_delta *repos = chunks[c] ? runs_repos(r, &k) : NULL;
            if (runs_more(r)) {
                pauses++;
                CHECK_INT(k, chunks[c]);
                CHECK(got < m && strcmp(want[got].key, want[got - 1].key) != 0);
            }
            for (size_t i = 0; alike && i < k; i++, got_repos++)
                alike = got_repos < mr &&
                        same_sum(&repos[i], &want_repos[got_repos], "repo", got_repos);
        } while (alike && rc == SQLITE_DONE && runs_more(r));
        if (!alike) {
            fprintf(stderr, "runs %d, seed %u, chunk %zu\n", nruns, seed, chunks[c]);
            break;
        }
        CHECK_INT(rc, SQLITE_DONE);
        CHECK_INT(got, m);
        CHECK_INT(got_repos, chunks[c] ? mr : 0);
        CHECK_INT(pauses, chunks[c] ? (mr - 1) / chunks[c] : 0);
        runs_end(r);
    }
    runs_free(r);
    sqlite3_close(db);
}

static void one_run_merges_to_itself(void)
{
    merges_like_a_sort(1, 50, 1);
}

static void two_and_three_runs(void)
{
    merges_like_a_sort(2, 50, 2);
    merges_like_a_sort(3, 50, 3);
}

/* Numbers of runs of every kind up to RUNS_MAX, powers of two and others. */
static void runs_of_every_count_up_to_the_limit(void)
{
    static const int counts[] = {5, 7, 17, 64, 100, 255, RUNS_MAX};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        merges_like_a_sort(counts[i], 60, 10 + (unsigned)i);
}

/* Runs of one key each, the same key in all: every sum takes a row of every run. */
static void every_run_holds_the_same_key(void)
{
    merges_like_a_sort(33, 1, 4);
}

/* More runs than RUNS_MAX: the batch is to be folded. */
static void too_many_runs_are_folded(void)
{
    sqlite3 *db = NULL;
    size_t n;
    struct runs *r = runs_over(&db, RUNS_MAX + 1, 3, 5, &n);
    if (r) {
        CHECK_INT(runs_plan(r, 0, (int64_t)n), RUNS_FOLD);
        runs_free(r);
    }
    sqlite3_close(db);
}

int main(void)
{
    RUN(one_run_merges_to_itself);
    RUN(two_and_three_runs);
    RUN(runs_of_every_count_up_to_the_limit);
    RUN(every_run_holds_the_same_key);
    RUN(too_many_runs_are_folded);
    return test_main_end("runs");
}
