/*
 * fold: sums rows of (repo, day, hits) by repo and day, and gives the sums
 * back in key order.
 *
 * The SQLite store's merger folds its journal with it: hashing a row costs
 * a small fraction of what sorting it in SQLite did (GROUP BY sorted every
 * journal row, twice), and only the distinct (repo, day) pairs are sorted,
 * so the tables are then written in key order, one page after the next.
 * Pure: no I/O, no locks; one thread uses a fold at a time.
 */
#ifndef GHIT_FOLD_H
#define GHIT_FOLD_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct fold;

struct fold *fold_new(void);
void fold_free(struct fold *f);

/* Adds hits to (repo, day); repo is len bytes, without a NUL. */
void fold_add(struct fold *f, const char *repo, size_t len, day_t day, uint64_t hits);

/* How many distinct (repo, day) pairs were added. */
size_t fold_count(const struct fold *f);

/*
 * The sums, one delta per (repo, day), sorted by repo (bytewise, as
 * SQLite's BINARY collation orders text) and then day; *n of them. Keys
 * are owned by the fold and the array is valid until fold_free(); adding
 * after this is not allowed.
 */
const struct store_delta *fold_sorted(struct fold *f, size_t *n);

/*
 * After fold_sorted(): the sums by repo, in the same order, in place of the
 * days' (which are then gone): one delta a repo, its hits summed and its
 * day the first of them; *n of them, which fold_count() and fold_sorted()
 * give from then on. Saves a copy as large as the sums.
 */
const struct store_delta *fold_by_repo(struct fold *f, size_t *n);

/*
 * The room fold_order() works in, kept from one call to the next: a flush
 * of 100,000 deltas needs about 7 MB, and fresh memory for each (mapped,
 * faulted in page by page, unmapped) was a quarter of the flusher's CPU
 * over a million repos. Zeroed to start; order_room_fini() frees it.
 */
struct order_room {
    struct delta_order *order, *tmp;
    struct store_delta *out;
    size_t cap;
};

void order_room_fini(struct order_room *r);

/*
 * The n deltas of d in fold_sorted()'s order (by key, then day), in r's
 * room: valid until r is used again; the keys are d's. The SQLite store
 * writes each flush so, and merges such runs without a fold (runs.h).
 */
const struct store_delta *fold_order(const struct store_delta *d, size_t n, struct order_room *r);

/* Orders deltas by key, then day (fold_sorted()'s order), for qsort() and bsearch(). */
int fold_delta_cmp(const void *a, const void *b);

/* Orders pointers to names (const char *), for qsort() and bsearch() of a set of repos. */
int fold_name_cmp(const void *a, const void *b);

/*
 * Sorts the n deltas of d by fold_delta_cmp() and sums those of one (repo,
 * day) into the first of them (count_add()): the deltas left, in place.
 */
size_t fold_sum_sorted(struct store_delta *d, size_t n);

#endif
