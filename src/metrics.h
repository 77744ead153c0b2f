/*
 * metrics: the process's counters, gauges and one histogram, written in
 * the Prometheus text format (issue 9). Pure: no I/O, no HTTP.
 *
 * Any code counts in one line, with no set-up elsewhere:
 *
 *   METRICS_INC("ghit_hits_total", "Hits counted.", "");
 *   METRICS_REFUSED("max_url_bytes");   ghit_requests_refused_total{limit="max_url_bytes"}
 *
 * The first call of a line registers its series (under the registry lock);
 * every later call is one relaxed atomic add on a cache line of the calling
 * thread's own (counters are sharded by thread), so the hit path takes no
 * lock and shares no line between workers. Gauges and the histogram are
 * plain atomics: they move on connect, close and flush, not per request.
 *
 * Names follow Prometheus' conventions: the ghit_ prefix, _total on
 * counters, base units (seconds). Labels are written by the caller as
 * Prometheus text, e.g. "limit=\"max_repos\"" (values are ghit's own
 * words: no escaping is needed or done). Names, help and labels are
 * copied on registration: a caller may pass a temporary.
 */
#ifndef GHIT_METRICS_H
#define GHIT_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "buf.h"

struct metrics_counter;
struct metrics_gauge;
struct metrics_histogram;

/*
 * The series name{labels} of a counter, registered on first use; the same
 * name and labels give the same series. help is the family's text (the
 * first registration's is kept). Never NULL; the registry holds at most
 * METRICS_MAX_SERIES series and aborts beyond (a programming error).
 */
struct metrics_counter *metrics_counter(const char *name, const char *help, const char *labels);
void metrics_add(struct metrics_counter *c, uint64_t n);
/* The counter's value now: the sum of its cells. */
uint64_t metrics_counter_value(struct metrics_counter *c);

/* A gauge series, as metrics_counter(). */
struct metrics_gauge *metrics_gauge(const char *name, const char *help, const char *labels);
void metrics_gauge_set(struct metrics_gauge *g, int64_t v);
void metrics_gauge_add(struct metrics_gauge *g, int64_t delta);

/* A histogram with nbounds upper bounds (ascending, in the family's unit); +Inf is added. */
struct metrics_histogram *metrics_histogram(const char *name, const char *help,
                                            const double *bounds, unsigned nbounds);
void metrics_observe(struct metrics_histogram *h, double v);

/* Counts one request of route (a literal such as "badge") answered with status. */
void metrics_request(const char *route, unsigned status);

/* Appends every registered series in the Prometheus text format (version 0.0.4). */
void metrics_render(struct buf *out);

#define METRICS_MAX_SERIES 256

/* Looks the series up once per call site, then adds lock-free. */
#define METRICS_SITE_(type, ctor, name, help, labels)                                              \
    ({                                                                                             \
        static type *_Atomic site_;                                                                \
        type *s_ = atomic_load_explicit(&site_, memory_order_acquire);                             \
        if (!s_) {                                                                                 \
            s_ = ctor(name, help, labels);                                                         \
            atomic_store_explicit(&site_, s_, memory_order_release);                               \
        }                                                                                          \
        s_;                                                                                        \
    })

/* Adds n to the counter name{labels}: one line anywhere. */
#define METRICS_ADD(name, help, labels, n)                                                         \
    metrics_add(METRICS_SITE_(struct metrics_counter, metrics_counter, name, help, labels), (n))
#define METRICS_INC(name, help, labels) METRICS_ADD(name, help, labels, 1)

/* Adds delta to the gauge name{labels}. */
#define METRICS_GAUGE_ADD(name, help, labels, delta)                                               \
    metrics_gauge_add(METRICS_SITE_(struct metrics_gauge, metrics_gauge, name, help, labels),      \
                      (delta))

/* ghit_hits_total's help: counted in routes.c, read for ghit_pending_hits in routes_stats.c. */
#define METRICS_HITS_HELP "Hits counted (fetches of /badge.svg that counted one)."
#define METRICS_NOT_COUNTED_HELP                                                                   \
    "Badge fetches answered without counting, by the rule that said so."

/* Sets the gauge name{labels} to v. */
#define METRICS_GAUGE_SET(name, help, labels, v)                                                   \
    metrics_gauge_set(METRICS_SITE_(struct metrics_gauge, metrics_gauge, name, help, labels), (v))

/*
 * One request refused by a limit; limit is a literal naming it after its
 * option where it has one ("max_url_bytes", "max_repos", ...). A new limit
 * needs no other change; metrics_declare_limit() shows it at 0 before its
 * first refusal.
 */
#define METRICS_REFUSED_HELP "Requests refused by a limit, by the limit."
#define METRICS_REFUSED(limit)                                                                     \
    METRICS_INC("ghit_requests_refused_total", METRICS_REFUSED_HELP, "limit=\"" limit "\"")
#define metrics_declare_limit(limit)                                                               \
    ((void)metrics_counter("ghit_requests_refused_total", METRICS_REFUSED_HELP,                    \
                           "limit=\"" limit "\""))

#endif
