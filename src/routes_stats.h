/*
 * routes_stats: the statistics URLs (issue 9). None of them counts a hit.
 *
 *   GET /api/v1/repos/OWNER/NAME/days?from=&to=   daily hits, zeros included
 *   GET /api/v1/top?day=|days=N&limit=K           the most-viewed repos
 *   GET /endpoint.json?repo=OWNER/NAME            shields.io's endpoint format
 *   GET /chart.svg?repo=OWNER/NAME&days=N         a bar chart of the daily hits
 *   GET /metrics                                  Prometheus text
 *
 * History and top lists come from the store through readers of its own
 * (store_open_reader): the store object belongs to the flusher thread, and
 * SQLite's WAL lets these connections read beside it. A small pool keeps
 * the readers open between requests. Today's figures are the counter
 * table's, which hold the hits not yet written.
 */
#ifndef GHIT_ROUTES_STATS_H
#define GHIT_ROUTES_STATS_H

#include <stdbool.h>

#include "notify.h"
#include "routes.h"

/* The most days /api/v1/top sums over (bench/README.md: what a longer range costs). */
#define ROUTES_TOP_MAX_DAYS 31

struct routes_stats;

/*
 * The statistics' state for a server whose store is at where (borrowed,
 * must outlive it): the reader pool, and the metrics that never change
 * (start time, build info, the limits). Free with routes_stats_free().
 */
struct routes_stats *routes_stats_new(const char *where);
void routes_stats_free(struct routes_stats *st);

/*
 * Stops the statistics' reads (top lists): the one under way is
 * interrupted, those asked are not read, and their requests are answered
 * 503 once they run again. For a server that is stopping.
 */
void routes_stats_stop(struct routes_stats *st);

/*
 * Top lists not in the cache are read by a thread of the statistics' own:
 * such a request waits (response.wait_read) for the read of that number,
 * and is run again (request.waited_read) once routes_stats_done() reaches
 * it. Reads are numbered from 1 and done in order.
 */
uint64_t routes_stats_done(struct routes_stats *st);

/*
 * Sets the callback for reads done (http.c resumes their requests), told
 * from the reader thread the number of the read just done. Safe at any
 * time (notify.h says when the old fn is done with).
 */
void routes_stats_on_done(struct routes_stats *st, notify_fn *fn, void *arg);

/* Answers req if its path is a statistics URL (true), else leaves res alone (false). */
bool routes_stats_handle(const struct app *app, const struct request *req, struct response *res);

/* The route set of --metrics-listen: /metrics, and 404 for anything else. */
void routes_stats_metrics_only(const struct app *app, const struct request *req,
                               struct response *res);

#endif
