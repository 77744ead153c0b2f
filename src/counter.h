/*
 * counter: the in-memory counter table, shared by the HTTP threads.
 *
 * One entry per repo key holds what a badge shows (the total and the
 * current UTC day's count) and the hits not yet written to the store, kept
 * per day, since a flush may come after midnight. The HTTP threads count
 * with counter_hit(); the flusher moves the pending hits out with
 * counter_take() and, when the store refuses them, puts them back with
 * counter_give_back(), so a failed write loses nothing.
 *
 * Locking: the table is split into shards by a keyed hash of the key; each
 * shard has its own mutex and nothing else is shared on the hot path but
 * one atomic repo count. A call holds at most one shard lock, briefly, and
 * never does I/O under it. See doc/design.md.
 */
#ifndef GHIT_COUNTER_H
#define GHIT_COUNTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "day.h"

struct counter_table;

/* What a badge shows for one repo. */
struct counter_view {
    uint64_t total;  /* every hit ever, including pending ones */
    uint64_t today;  /* hits on the day asked about */
    day_t first_day; /* the day of its first hit */
};

enum counter_result {
    COUNTER_OK,
    COUNTER_FULL,    /* a new repo, and the table holds max_repos already */
    COUNTER_UNKNOWN, /* counter_hit_known(): a new repo, not made */
};

/* A table that accepts at most max_repos distinct keys (0: no limit). Free with counter_free(). */
struct counter_table *counter_new(size_t max_repos);
void counter_free(struct counter_table *t);

/*
 * Counts one hit for key (a valid repo key) on day, and fills *out with the
 * counts after it. A new key beyond the limit is refused with COUNTER_FULL
 * and nothing is counted.
 */
enum counter_result counter_hit(struct counter_table *t, const char *key, day_t day,
                                struct counter_view *out);

/*
 * Counts one hit for key like counter_hit(), but only if key is already in
 * the table: a new key is left alone and COUNTER_UNKNOWN returned, so the
 * caller can decide whether this client may create one.
 */
enum counter_result counter_hit_known(struct counter_table *t, const char *key, day_t day,
                                      struct counter_view *out);

/* Fills *out with key's counts as seen on day, without counting; false if key is unknown. */
bool counter_get(struct counter_table *t, const char *key, day_t day, struct counter_view *out);

/*
 * Sets key's counts as the store has them (at start-up, or after a shared
 * store reported its newer figures): total and day_hits for day. Hits
 * pending in this process are added on top. Loading ignores the repo limit:
 * repos that exist keep counting.
 */
void counter_load(struct counter_table *t, const char *key, uint64_t total, day_t first_day,
                  day_t day, uint64_t day_hits);

/* Receives one pending (key, day, hits) from counter_take(). */
typedef void counter_take_fn(void *arg, const char *key, day_t day, uint64_t hits);

/*
 * Hands every pending (key, day, hits) to fn and clears it; returns how
 * many were handed over. fn runs under a shard lock: it must only copy.
 */
size_t counter_take(struct counter_table *t, counter_take_fn *fn, void *arg);

/* Puts hits for key on day back as pending (after a failed store write). */
void counter_give_back(struct counter_table *t, const char *key, day_t day, uint64_t hits);

/* The number of distinct repos in the table. */
size_t counter_size(struct counter_table *t);

#endif
