/*
 * runs: a sorted merge of journal runs (see runs.h). The runs with a row at
 * hand form a binary min-heap by (repo, day), so each row costs a few
 * comparisons whatever the number of runs; a sum takes the rows equal to
 * the heap's top, advancing each run past them. With a chunk, each sum is
 * added to its repo's as well (the last one, or a new one after it); the
 * repos' keys are copied one after the other into one block.
 */
#include "runs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "count.h"
#include "day.h"

struct run {
    sqlite3_stmt *st; /* SELECT repo, day, hits of the run's ids; prepared on first use */
    int64_t first, last;
    const char *key; /* the row at hand: the statement's, until it steps */
    day_t day;
    uint64_t hits;
};

/* A repo's sum, its key at name in struct runs' names. */
struct repo_sum {
    size_t name;
    day_t day;
    uint64_t hits;
};

struct runs {
    sqlite3 *db;
    sqlite3_stmt *next_id, *flush_at;
    struct run run[RUNS_MAX];
    size_t n;              /* runs planned */
    size_t heap[RUNS_MAX]; /* the runs with a row at hand, the least first */
    size_t live;           /* how many */
    int err;
    char *key; /* the last sum's key */
    size_t keycap;
    size_t chunk; /* repos a pause at most; 0: no repos' sums */
    struct repo_sum *repo;
    struct store_delta *taken; /* runs_repos()'s */
    size_t nrepo;
    char *names; /* the repos' keys, NUL-terminated one after the other */
    size_t names_len, names_cap;
};

struct runs *runs_new(sqlite3 *db, char *err, size_t errlen)
{
    struct runs *r = xcalloc(1, sizeof *r);
    r->db = db;
    if (sqlite3_prepare_v2(db, "SELECT id, flush FROM j.journal WHERE id > ?1 ORDER BY id LIMIT 1",
                           -1, &r->next_id, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT flush FROM j.journal WHERE id <= ?1 ORDER BY id DESC LIMIT 1",
                           -1, &r->flush_at, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        runs_free(r);
        return NULL;
    }
    return r;
}

void runs_free(struct runs *r)
{
    if (!r)
        return;
    sqlite3_finalize(r->next_id);
    sqlite3_finalize(r->flush_at);
    for (size_t i = 0; i < RUNS_MAX; i++)
        sqlite3_finalize(r->run[i].st);
    free(r->key);
    free(r->repo);
    free(r->taken);
    free(r->names);
    free(r);
}

/* Steps st, bound to id, to its one row: SQLITE_ROW, SQLITE_DONE or an error; the caller resets. */
static int query_id(sqlite3_stmt *st, int64_t id)
{
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, id);
    return sqlite3_step(st);
}

int runs_plan(struct runs *r, int64_t after, int64_t bound)
{
    runs_end(r);
    r->n = 0;
    int rc;
    while ((rc = query_id(r->next_id, after)) == SQLITE_ROW) {
        int64_t first = sqlite3_column_int64(r->next_id, 0);
        int64_t flush = sqlite3_column_int64(r->next_id, 1);
        if (first > bound) {
            rc = SQLITE_DONE;
            break;
        }
        if (r->n == RUNS_MAX) {
            rc = RUNS_FOLD;
            break;
        }
        /*
         * The run's last id: the greatest up to bound whose row is of this
         * flush. Were the flushes not in id order (rows ghit did not write),
         * the runs would still cover every id once, and an unsorted one would
         * be found as the merge reads it.
         */
        int64_t lo = first, hi = bound;
        while (lo < hi) {
            int64_t mid = lo + (hi - lo + 1) / 2;
            int q = query_id(r->flush_at, mid);
            if (q == SQLITE_ROW && sqlite3_column_int64(r->flush_at, 0) == flush)
                lo = mid;
            else if (q == SQLITE_ROW || q == SQLITE_DONE)
                hi = mid - 1;
            else {
                rc = q;
                break;
            }
        }
        sqlite3_reset(r->flush_at);
        if (rc != SQLITE_ROW)
            break;
        r->run[r->n].first = first;
        r->run[r->n].last = lo;
        r->n++;
        after = lo;
    }
    sqlite3_reset(r->next_id);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Orders the rows at hand of runs a and b. */
static int compare(const struct runs *r, size_t a, size_t b)
{
    const struct run *x = &r->run[a], *y = &r->run[b];
    int c = strcmp(x->key, y->key);
    return c ? c : (x->day > y->day) - (x->day < y->day);
}

/* Moves heap[i] down to its place. */
static void sift_down(struct runs *r, size_t i)
{
    for (;;) {
        size_t least = i, kid = 2 * i + 1;
        for (size_t k = kid; k < kid + 2 && k < r->live; k++)
            if (compare(r, r->heap[k], r->heap[least]) < 0)
                least = k;
        if (least == i)
            return;
        size_t t = r->heap[i];
        r->heap[i] = r->heap[least];
        r->heap[least] = t;
        i = least;
    }
}

/* Steps run u to its next row: SQLITE_ROW with it at hand, SQLITE_DONE at its end, or an error. */
static int step(struct run *u)
{
    int rc = sqlite3_step(u->st);
    if (rc != SQLITE_ROW)
        return rc;
    const char *key = (const char *)sqlite3_column_text(u->st, 0);
    const char *day_text = (const char *)sqlite3_column_text(u->st, 1);
    int64_t hits = sqlite3_column_int64(u->st, 2);
    if (!key || strlen(key) != (size_t)sqlite3_column_bytes(u->st, 0) || !day_text ||
        day_parse(day_text, &u->day) || hits <= 0)
        return RUNS_MALFORMED;
    u->key = key;
    u->hits = (uint64_t)hits;
    return SQLITE_ROW;
}

/* Advances the heap's top run past its row at hand; false on an error (in r->err). */
static bool advance(struct runs *r)
{
    int rc = step(&r->run[r->heap[0]]);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        r->err = rc;
        return false;
    }
    if (rc == SQLITE_DONE)
        r->heap[0] = r->heap[--r->live];
    sift_down(r, 0);
    return true;
}

int runs_start(struct runs *r, size_t chunk)
{
    if (chunk != r->chunk) {
        r->repo = xrealloc(r->repo, chunk * sizeof *r->repo);
        r->taken = xrealloc(r->taken, chunk * sizeof *r->taken);
        r->chunk = chunk;
    }
    r->nrepo = 0;
    r->err = SQLITE_OK;
    r->live = 0;
    for (size_t i = 0; i < r->n && r->err == SQLITE_OK; i++) {
        struct run *u = &r->run[i];
        if (!u->st && sqlite3_prepare_v2(r->db,
                                         "SELECT repo, day, hits FROM j.journal "
                                         "WHERE id >= ?1 AND id <= ?2 ORDER BY id",
                                         -1, &u->st, NULL) != SQLITE_OK) {
            r->err = sqlite3_errcode(r->db);
            break;
        }
        sqlite3_reset(u->st);
        sqlite3_bind_int64(u->st, 1, u->first);
        sqlite3_bind_int64(u->st, 2, u->last);
        int rc = step(u);
        if (rc == SQLITE_ROW)
            r->heap[r->live++] = i;
        else if (rc != SQLITE_DONE)
            r->err = rc;
    }
    for (size_t i = r->live / 2; i-- > 0;)
        sift_down(r, i);
    return r->err;
}

/* The last repo's key, or NULL if no repo is summed. */
static const char *last_repo(const struct runs *r)
{
    return r->nrepo ? r->names + r->repo[r->nrepo - 1].name : NULL;
}

/* Adds sum d to its repo's: the last one's, or a new one's. */
static void add_to_repo(struct runs *r, const struct store_delta *d)
{
    const char *last = last_repo(r);
    if (last && strcmp(last, d->key) == 0) {
        struct repo_sum *u = &r->repo[r->nrepo - 1];
        u->hits = count_add(u->hits, d->hits);
        if (d->day < u->day)
            u->day = d->day;
        return;
    }
    size_t at = r->nrepo ? r->names_len : 0, size = strlen(d->key) + 1;
    if (!r->names || at + size > r->names_cap) {
        r->names_cap = 2 * (at + size);
        r->names = xrealloc(r->names, r->names_cap);
    }
    memcpy(r->names + at, d->key, size);
    r->names_len = at + size;
    r->repo[r->nrepo++] = (struct repo_sum){at, d->day, d->hits};
}

int runs_next(struct runs *r, struct store_delta *out)
{
    if (r->err != SQLITE_OK)
        return r->err;
    if (r->live == 0)
        return SQLITE_DONE;
    const struct run *top = &r->run[r->heap[0]];
    /* A pause comes between two repos, so that a repo's sum is whole when taken. */
    if (r->chunk && r->nrepo == r->chunk && strcmp(top->key, last_repo(r)) != 0)
        return SQLITE_DONE;
    size_t len = strlen(top->key);
    if (len + 1 > r->keycap) {
        r->keycap = 2 * (len + 1);
        r->key = xrealloc(r->key, r->keycap);
    }
    memcpy(r->key, top->key, len + 1);
    *out = (struct store_delta){r->key, top->day, top->hits};
    if (!advance(r))
        return r->err;
    while (r->live) {
        top = &r->run[r->heap[0]];
        if (strcmp(top->key, r->key) != 0 || top->day != out->day)
            break;
        out->hits = count_add(out->hits, top->hits);
        if (!advance(r))
            return r->err;
    }
    if (r->chunk)
        add_to_repo(r, out);
    return SQLITE_ROW;
}

const struct store_delta *runs_repos(struct runs *r, size_t *n)
{
    for (size_t i = 0; i < r->nrepo; i++)
        r->taken[i] =
            (struct store_delta){r->names + r->repo[i].name, r->repo[i].day, r->repo[i].hits};
    *n = r->nrepo;
    r->nrepo = 0; /* the keys stay in names until the next repo's */
    return r->taken;
}

bool runs_more(const struct runs *r)
{
    return r->err == SQLITE_OK && r->live > 0;
}

int runs_error(const struct runs *r)
{
    return r->err;
}

void runs_end(struct runs *r)
{
    for (size_t i = 0; i < RUNS_MAX; i++)
        if (r->run[i].st)
            sqlite3_reset(r->run[i].st);
    r->live = 0;
}
