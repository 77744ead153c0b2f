/*
 * metrics: the registry and the Prometheus text (see metrics.h).
 *
 * The registry is an array of series that only grows; a series never moves
 * or goes away, so a pointer handed out stays valid for the process. The
 * registry lock guards registration and rendering, never an increment.
 *
 * A counter is METRICS_SHARDS cells of one cache line each; a thread adds
 * to the cell of its own index (given out on its first count), so two
 * workers counting hits never write the same line. Rendering sums the
 * cells: a scrape may miss an add in flight, never lose one.
 *
 * Requests by route and status use a small open-addressing table of
 * series, probed without the lock: slots are filled once, under the lock,
 * with a release store, and read with acquire loads.
 */
#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

#define METRICS_SHARDS 8 /* a power of two; the server has a handful of threads */
#define MAX_BOUNDS     16
#define REQUEST_SLOTS  128 /* a power of two, well above routes x statuses seen */

enum kind { COUNTER, GAUGE, HISTOGRAM };

struct cell {
    _Atomic uint64_t v;
} __attribute__((aligned(64)));

struct metrics_counter {
    struct cell cells[METRICS_SHARDS];
};

struct metrics_gauge {
    _Atomic int64_t v;
};

struct metrics_histogram {
    double bounds[MAX_BOUNDS];
    unsigned nbounds;
    _Atomic uint64_t buckets[MAX_BOUNDS + 1]; /* not cumulative; the last is +Inf */
    _Atomic uint64_t sum_ns;                  /* the sum, in billionths of the unit */
};

struct series {
    enum kind kind;
    const char *name, *help, *labels;
    void *value; /* a struct metrics_counter, _gauge or _histogram, by kind */
};

/* A requests-by-route-and-status slot. */
struct request_slot {
    const char *route;
    unsigned status;
    struct metrics_counter *counter;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct series series[METRICS_MAX_SERIES]; /* guarded by lock */
static unsigned nseries;                         /* guarded by lock */
static struct request_slot *_Atomic request_slots[REQUEST_SLOTS];
static atomic_uint next_shard;

/* The calling thread's counter cell index. */
static unsigned my_shard(void)
{
    static _Thread_local unsigned shard = 0; /* 0: not given yet; else index + 1 */
    if (!shard)
        shard =
            (atomic_fetch_add_explicit(&next_shard, 1, memory_order_relaxed) % METRICS_SHARDS) + 1;
    return shard - 1;
}

/*
 * The value of the series name{labels} of kind, made (size bytes, zeroed)
 * if new, which *made then says. Called with lock held.
 */
static void *value_locked(enum kind kind, const char *name, const char *help, const char *labels,
                          size_t size, bool *made)
{
    labels = labels ? labels : "";
    *made = false;
    for (unsigned i = 0; i < nseries; i++) {
        if (strcmp(series[i].name, name) != 0)
            continue;
        if (series[i].kind != kind) {
            fprintf(stderr, "ghit: bug: metric %s registered with two types\n", name);
            abort();
        }
        if (strcmp(series[i].labels, labels) == 0)
            return series[i].value;
    }
    if (nseries == METRICS_MAX_SERIES) {
        fprintf(stderr, "ghit: bug: more than %d metric series (%s{%s})\n", METRICS_MAX_SERIES,
                name, labels);
        abort();
    }
    struct series *s = &series[nseries++];
    *s = (struct series){kind, xstrdup(name), xstrdup(help), xstrdup(labels), xcalloc(1, size)};
    *made = true;
    return s->value;
}

/* value_locked() under the lock. */
static void *value_of(enum kind kind, const char *name, const char *help, const char *labels,
                      size_t size)
{
    bool made;
    pthread_mutex_lock(&lock);
    void *v = value_locked(kind, name, help, labels, size, &made);
    pthread_mutex_unlock(&lock);
    return v;
}

struct metrics_counter *metrics_counter(const char *name, const char *help, const char *labels)
{
    return value_of(COUNTER, name, help, labels, sizeof(struct metrics_counter));
}

void metrics_add(struct metrics_counter *c, uint64_t n)
{
    atomic_fetch_add_explicit(&c->cells[my_shard()].v, n, memory_order_relaxed);
}

uint64_t metrics_counter_value(struct metrics_counter *c)
{
    uint64_t sum = 0;
    for (int i = 0; i < METRICS_SHARDS; i++)
        sum += atomic_load_explicit(&c->cells[i].v, memory_order_relaxed);
    return sum;
}

struct metrics_gauge *metrics_gauge(const char *name, const char *help, const char *labels)
{
    return value_of(GAUGE, name, help, labels, sizeof(struct metrics_gauge));
}

void metrics_gauge_set(struct metrics_gauge *g, int64_t v)
{
    atomic_store_explicit(&g->v, v, memory_order_relaxed);
}

void metrics_gauge_add(struct metrics_gauge *g, int64_t delta)
{
    atomic_fetch_add_explicit(&g->v, delta, memory_order_relaxed);
}

struct metrics_histogram *metrics_histogram(const char *name, const char *help,
                                            const double *bounds, unsigned nbounds)
{
    bool made;
    pthread_mutex_lock(&lock);
    struct metrics_histogram *h =
        value_locked(HISTOGRAM, name, help, "", sizeof(struct metrics_histogram), &made);
    if (made) {
        h->nbounds = nbounds < MAX_BOUNDS ? nbounds : MAX_BOUNDS;
        memcpy(h->bounds, bounds, h->nbounds * sizeof *bounds);
    }
    pthread_mutex_unlock(&lock);
    return h;
}

void metrics_observe(struct metrics_histogram *h, double v)
{
    unsigned i = 0;
    while (i < h->nbounds && v > h->bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
    if (v > 0)
        atomic_fetch_add_explicit(&h->sum_ns, (uint64_t)llround(v * 1e9), memory_order_relaxed);
}

/* A hash of a route name and a status, for the request table. */
static unsigned request_hash(const char *route, unsigned status)
{
    unsigned h = status * 2654435761u;
    for (; *route; route++)
        h = (h ^ (unsigned char)*route) * 16777619u;
    return h;
}

void metrics_request(const char *route, unsigned status)
{
    unsigned h = request_hash(route, status);
    for (unsigned probe = 0; probe < REQUEST_SLOTS; probe++) {
        unsigned i = (h + probe) & (REQUEST_SLOTS - 1);
        struct request_slot *slot = atomic_load_explicit(&request_slots[i], memory_order_acquire);
        if (!slot) {
            /* Fill it under the lock, unless another thread filled it first. */
            pthread_mutex_lock(&lock);
            slot = atomic_load_explicit(&request_slots[i], memory_order_acquire);
            if (!slot) {
                char labels[96];
                snprintf(labels, sizeof labels, "route=\"%s\",status=\"%u\"", route, status);
                bool made;
                slot = xcalloc(1, sizeof *slot);
                slot->route = xstrdup(route);
                slot->status = status;
                slot->counter = value_locked(COUNTER, "ghit_http_requests_total",
                                             "HTTP requests answered, by route and status.", labels,
                                             sizeof(struct metrics_counter), &made);
                atomic_store_explicit(&request_slots[i], slot, memory_order_release);
            }
            pthread_mutex_unlock(&lock);
        }
        if (slot->status == status && strcmp(slot->route, route) == 0) {
            metrics_add(slot->counter, 1);
            return;
        }
    }
    /* The table is full (more pairs than any server meets): count under "other". */
    METRICS_INC("ghit_http_requests_total", "HTTP requests answered, by route and status.",
                "route=\"other\",status=\"other\"");
}

/* Appends v in Prometheus' float syntax. */
static void put_double(struct buf *out, double v)
{
    if (isinf(v))
        buf_puts(out, v > 0 ? "+Inf" : "-Inf");
    else {
        /* The shortest of %.15g and %.17g that reads back as v: 0.1, not 0.10000000000000001. */
        char text[40];
        snprintf(text, sizeof text, "%.15g", v);
        if (strtod(text, NULL) != v)
            snprintf(text, sizeof text, "%.17g", v);
        buf_puts(out, text);
    }
}

/* Appends the series line(s) of s. */
static void render_series(struct buf *out, const struct series *s)
{
    const char *open = *s->labels ? "{" : "", *close = *s->labels ? "}" : "";
    switch (s->kind) {
    case COUNTER:
        buf_printf(out, "%s%s%s%s %llu\n", s->name, open, s->labels, close,
                   (unsigned long long)metrics_counter_value(s->value));
        break;
    case GAUGE:
        buf_printf(out, "%s%s%s%s %lld\n", s->name, open, s->labels, close,
                   (long long)atomic_load_explicit(&((struct metrics_gauge *)s->value)->v,
                                                   memory_order_relaxed));
        break;
    case HISTOGRAM: {
        const struct metrics_histogram *h = s->value;
        uint64_t cumulative = 0;
        for (unsigned i = 0; i <= h->nbounds; i++) {
            cumulative += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
            buf_printf(out, "%s_bucket{le=\"", s->name);
            put_double(out, i < h->nbounds ? h->bounds[i] : INFINITY);
            buf_printf(out, "\"} %llu\n", (unsigned long long)cumulative);
        }
        buf_printf(out, "%s_sum ", s->name);
        put_double(out, (double)atomic_load_explicit(&h->sum_ns, memory_order_relaxed) / 1e9);
        buf_printf(out, "\n%s_count %llu\n", s->name, (unsigned long long)cumulative);
        break;
    }
    }
}

void metrics_render(struct buf *out)
{
    static const char *const types[] = {
        [COUNTER] = "counter", [GAUGE] = "gauge", [HISTOGRAM] = "histogram"};
    pthread_mutex_lock(&lock);
    bool done[METRICS_MAX_SERIES] = {0};
    /* A family's series together, under one HELP and TYPE, in the order first registered. */
    for (unsigned i = 0; i < nseries; i++) {
        if (done[i])
            continue;
        buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", series[i].name, series[i].help,
                   series[i].name, types[series[i].kind]);
        for (unsigned j = i; j < nseries; j++) {
            if (!done[j] && strcmp(series[j].name, series[i].name) == 0) {
                render_series(out, &series[j]);
                done[j] = true;
            }
        }
    }
    pthread_mutex_unlock(&lock);
}
