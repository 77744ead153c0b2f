/*
 * runs: sums a batch of journal rows in key order without holding it in
 * memory.
 *
 * The SQLite store writes each flush to its journal in key order (fold_order()),
 * so a batch of the journal is a few sorted runs, one a flush. The merger,
 * and a scan of the store, read them with one cursor a run and merge them
 * as a sorted merge does: the sums come out in key order, one at a time,
 * and what it holds is a row a run. A fold (fold.h) held the batch's
 * distinct pairs and their names, about 40 MB for a batch over a million
 * repos, on top of everything else. The merger reads the runs once for
 * both tables: each sum by (repo, day) also adds to its repo's, a chunk of
 * repos at a time (runs_start()).
 *
 * A batch of more runs than RUNS_MAX is folded instead: durable mode, which
 * commits every few milliseconds, a --flush-interval under about 40 ms at
 * 100,000 hits a second, or a merger that was held up for that many
 * flushes. Runs out of order (a journal from a ghit before this one) merge
 * right all the same, since the tables' upserts add up a sum that comes
 * twice, but slower than a fold: each row is an upsert of its own, at a
 * random place in the tables. That is once, for what an upgrade finds.
 * Nothing here depends on the flush numbers beyond finding the runs.
 * One thread uses a struct runs at a time, on the connection it was made on.
 */
#ifndef GHIT_RUNS_H
#define GHIT_RUNS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* Runs a batch may have; a cursor each. */
#define RUNS_MAX 256

/* Besides SQLite's result codes: */
#define RUNS_MALFORMED (-1) /* a row with no valid repo, day or hits */
#define RUNS_FOLD      (-2) /* too many runs: fold the batch */

struct runs;

/* For the journal attached as "j" to db; NULL, with SQLite's message in err, if its
 * statements cannot be prepared. */
struct runs *runs_new(sqlite3 *db, char *err, size_t errlen);
void runs_free(struct runs *r);

/*
 * Finds the runs of the journal rows with after < id <= bound: where the
 * flush number changes (it grows with the id). SQLITE_OK, RUNS_FOLD if
 * there are more than RUNS_MAX, or SQLite's error.
 */
int runs_plan(struct runs *r, int64_t after, int64_t bound);

/*
 * Starts handing out the planned rows' sums in key order, by (repo, day).
 * With chunk > 0, runs_next() also sums what it hands out by repo (its
 * first day, its hits summed), for a reader that writes both tables from
 * one reading of the runs: after the sums of chunk repos it pauses, with
 * SQLITE_DONE, until runs_repos() takes those repos' sums. SQLITE_OK or an
 * error, as runs_next().
 */
int runs_start(struct runs *r, size_t chunk);

/*
 * The next sum into *out, whose key lives until the next call: SQLITE_ROW;
 * SQLITE_DONE at the end or at a pause (runs_more() tells which); or an
 * error (RUNS_MALFORMED or SQLite's), which stays until runs_start() and
 * which runs_error() tells.
 */
int runs_next(struct runs *r, struct store_delta *out);

/*
 * With a chunk: the repos' sums of the sums handed out since runs_start()
 * or the last call, *n of them in key order, which live until the next
 * call to runs_next() or runs_repos(). The next runs_next() goes on.
 */
const struct store_delta *runs_repos(struct runs *r, size_t *n);

/* Whether sums are left past a pause. */
bool runs_more(const struct runs *r);
int runs_error(const struct runs *r);

/* Releases the runs' cursors (a read transaction on the journal). */
void runs_end(struct runs *r);

#endif
