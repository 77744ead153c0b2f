/*
 * topsum: the top of a list of (repo, day, hits) rows summed per repo, in
 * bounded memory.
 *
 * A top list over a range of days must sum each repo's days before it can
 * rank them; a store without an index of its own (Redis: one set of repos
 * a day) hands out the rows day by day, in no order, and may hand out a
 * row twice (SSCAN). Holding every row, or even every repo of the range,
 * is unbounded: 31 days of 10,000,000 repos would be gigabytes in one
 * frontend. So the repos are taken in passes: a pass sums only the repos
 * whose hash falls in its part, at most `bound` of them, and keeps its
 * best rows; a pass that finds more starts all over with twice the parts.
 * Memory is then some 60-120 bytes a repo of one pass (a table at most
 * 70 % full of 40-byte slots, and the names), whatever the range; each
 * pass reads every row again.
 *
 *     struct topsum *t = topsum_new(bound, limit);
 *     do {
 *         for each day d of the range, for each row (key, hits) of d:
 *             if (topsum_wants(t, key) && !topsum_add(t, key, d, hits, d == last))
 *                 break out of both loops;       (the pass is full)
 *     } while (topsum_next_pass(t));
 *     topsum_rows(t, fn, arg);
 *     topsum_free(t);
 *
 * Rows of one day must come together (all of day d before any of the
 * next): a key seen again on the day it was last added is a duplicate and
 * is not added again.
 */
#ifndef GHIT_TOPSUM_H
#define GHIT_TOPSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "day.h"
#include "store.h"

struct topsum;

/* A summer that keeps the best limit repos, at most bound repos a pass (bound >= 1). */
struct topsum *topsum_new(size_t bound, size_t limit);
void topsum_free(struct topsum *t);

/*
 * Before the first pass: at least repos repos are to come (the largest day,
 * say), so the passes start with enough parts, not with one that fills up.
 */
void topsum_expect(struct topsum *t, uint64_t repos);

/* Whether key belongs to the current pass. */
bool topsum_wants(const struct topsum *t, const char *key);

/*
 * Adds hits of key on day (last: day is the range's last day) to the
 * current pass. False if that made the pass hold more than bound repos:
 * the caller stops the pass, and topsum_next_pass() starts over.
 */
bool topsum_add(struct topsum *t, const char *key, day_t day, uint64_t hits, bool last);

/*
 * Ends a pass: keeps its best rows, or, if it was full, forgets every pass
 * and doubles the parts. True if another pass is needed.
 */
bool topsum_next_pass(struct topsum *t);

/* The passes made so far, and the parts the current one is of (for tests and logs). */
unsigned topsum_passes(const struct topsum *t);
unsigned topsum_parts(const struct topsum *t);

/* Gives the best rows to fn, most hits first, then by key (as SQLite's ORDER BY). */
void topsum_rows(const struct topsum *t, store_top_fn *fn, void *arg);

#endif
