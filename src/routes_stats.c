/*
 * routes_stats: the statistics URLs (see routes_stats.h).
 *
 * Errors: the JSON URLs answer {"error": why} with 400 for a bad request,
 * 404 for an unknown repo, 503 when the store cannot be read; the chart
 * answers an error badge, as every image URL does. Every JSON reply gets
 * Access-Control-Allow-Origin: * from http.c, so a page elsewhere can read
 * it; nothing here sets a cookie or counts a hit.
 */
#include "routes_stats.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "alloc.h"
#include "badge.h"
#include "badge_color.h"
#include "chart.h"
#include "count.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "monotime.h"
#include "policy.h"
#include "repo_key.h"
#include "store.h"

#define POOL_MAX          8  /* readers kept open between requests */
#define DAYS_DEFAULT      30 /* history and chart: the last 30 days */
#define CHART_DAYS_MIN    7
#define CHART_DAYS_MAX    365
#define TOP_LIMIT_DEFAULT 10
#define TOP_LIMIT_MAX     100
#define TOP_CACHE_S       30 /* how long a top list is served from memory */
#define TOP_CACHE_SLOTS   8
/*
 * Lists the dashboard does not show (another day, another span) are read
 * from the store a quarter of the time at most, over time: each client
 * chooses its range, so the cache does not bound those reads, and each
 * takes a core and the store's time while it runs. A leaky bucket of
 * their reading time: each read adds its milliseconds, a millisecond of
 * wall time takes a quarter of one away, and while it holds more than
 * TOP_OTHER_BURST_MS such a list is answered 503. Quick reads (a small
 * store) pass in bursts; a million-repo store's 31-day list (about 0.5 s)
 * then comes once every 2 s.
 */
#define TOP_OTHER_SHARE    0.25
#define TOP_OTHER_BURST_MS 250.0
#define TOP_QUEUE          8 /* lists waiting for the reader thread, at most */

static const char repos_prefix[] = "/api/v1/repos/";

struct top_row {
    char key[REPO_KEY_SIZE];
    uint64_t hits;     /* as stored, over the range */
    uint64_t last_day; /* of which on the range's last day */
};

/*
 * One top list as the store answered it: TOP_LIMIT_MAX rows, cut to the
 * limit asked; or, failed, what kept the store from answering.
 */
struct top_list {
    day_t from, to;
    int64_t at;      /* when read, in monotonic seconds; 0: empty */
    uint64_t ticket; /* the read that filled it (routes_stats_done) */
    bool failed;
    char why[300]; /* failed: the store's message */
    size_t n;
    struct top_row rows[TOP_LIMIT_MAX];
};

/* A top list asked of the reader thread. */
struct top_read {
    day_t from, to;
    bool shown; /* one of the dashboard's two lists, which the bucket does not charge */
    uint64_t ticket;
};

struct routes_stats {
    const char *where;
    pthread_mutex_t lock; /* guards everything below but the thread's own */
    struct store *pool[POOL_MAX];
    unsigned npool;
    /*
     * Top lists cost the rows of their days (a 7-day list of a million-repo
     * store, some 200 ms: bench/README.md), and the dashboard asks for two
     * on every view: each is kept TOP_CACHE_S seconds.
     */
    struct top_list cache[TOP_CACHE_SLOTS];
    /*
     * Lists not in the cache are read by a thread of their own, one after
     * the other, started with the first: a list of many days takes seconds
     * on a large Redis store, and read on an HTTP worker it would hold the
     * badges of every connection of that worker meanwhile. The request
     * waits suspended (http.c), as a badge waits for a load, and runs again
     * once its read is done (routes_stats_done).
     */
    pthread_t thread;
    bool started, stopping;
    pthread_cond_t wake;
    struct top_read queue[TOP_QUEUE]; /* in the order asked */
    unsigned nqueue;
    struct top_read reading; /* ticket 0: none */
    struct store *in_use;    /* the reader it reads with, for routes_stats_stop() */
    uint64_t last;           /* the last read asked for */
    _Atomic uint64_t done;   /* the last read done: each is done in the order asked */
    struct notify dones;     /* told of each read done (routes_stats_on_done) */
    double others_ms;        /* the bucket of other lists' reading time */
    int64_t others_at_ms;    /* monotonic: when others_ms was last brought up to date */
};

struct routes_stats *routes_stats_new(const char *where)
{
    struct routes_stats *st = xcalloc(1, sizeof *st);
    st->where = where;
    pthread_mutex_init(&st->lock, NULL);
    notify_init(&st->dones);
    pthread_cond_init(&st->wake, NULL);
    atomic_init(&st->done, 0);
    METRICS_GAUGE_SET("ghit_start_time_seconds", "When this ghit started, in Unix seconds.", "",
                      (int64_t)time(NULL));
    METRICS_GAUGE_SET("ghit_build_info", "The version of this ghit (always 1).",
                      "version=\"" GHIT_VERSION "\"", 1);
    /* Every limit shows from the start, at 0 until it first refuses. */
    metrics_declare_limit("max_url_bytes");
    metrics_declare_limit("max_header_bytes");
    metrics_declare_limit("request_body");
    metrics_declare_limit("max_params");
    metrics_declare_limit("max_repos");
    metrics_declare_limit("request_timeout");
    metrics_declare_limit("malformed");
    metrics_declare_limit("method");
    metrics_declare_limit("nul_in_path");
    metrics_declare_limit("max_connections_per_ip");
    metrics_declare_limit("idle_connection_closed");
    metrics_declare_limit("new_repos_per_client");
    metrics_counter("ghit_hits_total", METRICS_HITS_HELP, "");
    return st;
}

void routes_stats_stop(struct routes_stats *st)
{
    pthread_mutex_lock(&st->lock);
    st->stopping = true;
    if (st->in_use)
        st->in_use->ops->interrupt(st->in_use);
    pthread_cond_signal(&st->wake);
    pthread_mutex_unlock(&st->lock);
}

void routes_stats_free(struct routes_stats *st)
{
    if (!st)
        return;
    routes_stats_stop(st);
    if (st->started)
        pthread_join(st->thread, NULL);
    for (unsigned i = 0; i < st->npool; i++)
        store_close(st->pool[i]);
    pthread_mutex_destroy(&st->lock);
    notify_fini(&st->dones);
    pthread_cond_destroy(&st->wake);
    free(st);
}

/* A reader from the pool, or a new one; NULL with a message in err. */
static struct store *take_reader(struct routes_stats *st, char *err, size_t errlen)
{
    pthread_mutex_lock(&st->lock);
    struct store *s = st->npool ? st->pool[--st->npool] : NULL;
    pthread_mutex_unlock(&st->lock);
    return s ? s : store_open_server_reader(st->where, err, errlen);
}

/* Gives a reader back to the pool (closed if the pool is full). */
static void give_reader(struct routes_stats *st, struct store *s)
{
    pthread_mutex_lock(&st->lock);
    if (st->npool < POOL_MAX) {
        st->pool[st->npool++] = s;
        s = NULL;
    }
    pthread_mutex_unlock(&st->lock);
    store_close(s);
}

/* The value of parameter name, or NULL; a value holding a NUL byte counts as absent-but-bad. */
static const char *param(const struct request *req, const char *name, bool *bad)
{
    for (unsigned i = 0; i < req->nparams; i++) {
        const struct request_param *p = &req->params[i];
        if (strcmp(p->name, name) == 0) {
            if (strlen(p->value) != p->value_len)
                *bad = true;
            return p->value;
        }
    }
    return NULL;
}

/* Parses a whole number from min to max; NULL if fine, else why not. */
static const char *parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > 9 || strspn(s, "0123456789") != n)
        return "must be a whole number";
    unsigned long v = strtoul(s, NULL, 10);
    if (v < min || v > max)
        return "is out of range";
    *out = (unsigned)v;
    return NULL;
}

/* Starts a JSON reply. */
static void json_reply(struct response *res)
{
    res->status = 200;
    res->content_type = "application/json";
    buf_reset(&res->body);
}

/* Fills res with 400 and "NAME: WHY (HINT)". */
static void bad_param(struct response *res, const char *name, const char *why, const char *hint)
{
    char msg[256];
    snprintf(msg, sizeof msg, "%s: %s%s%s%s", name, why, hint ? " (" : "", hint ? hint : "",
             hint ? ")" : "");
    routes_json_error(res, 400, msg);
}

/* Fills hits[0..n) with key's daily hits from day from; today's live figure from the table. */
static bool read_history(const struct app *app, const char *key, day_t from, size_t n,
                         uint64_t *hits, struct response *res, bool json)
{
    char err[300];
    struct store *r = take_reader(app->stats, err, sizeof err);
    enum store_result rc = STORE_FAILED;
    if (r) {
        rc = r->ops->history(r, key, from, from + (day_t)n - 1, hits, err, sizeof err);
        if (rc == STORE_OK)
            give_reader(app->stats, r);
        else
            store_close(r); /* a reader that failed is not reused */
    }
    if (rc != STORE_OK) {
        char msg[360];
        snprintf(msg, sizeof msg, "cannot read the store: %s", err);
        if (json)
            routes_json_error(res, 503, msg);
        else
            routes_error_badge(app, res, 503, "store unavailable");
        return false;
    }
    /* The store has what was flushed; the table has today's hits, pending ones included. */
    day_t today = day_from_time(time(NULL));
    struct counter_view v;
    if (today >= from && today < from + (day_t)n && counter_get(app->table, key, today, &v))
        hits[today - from] = v.today;
    return true;
}

/* GET /api/v1/repos/KEY/days?from=&to= */
static void api_days(const struct app *app, const char *name, size_t name_len,
                     const struct request *req, struct response *res)
{
    char key[REPO_KEY_SIZE];
    const char *err = repo_key_parse_path(name, name_len, key);
    if (err) {
        routes_json_error(res, 400, err);
        return;
    }
    if (req->params_error) {
        routes_json_error(res, 400, req->params_error);
        return;
    }
    bool bad_from = false, bad_to = false; /* one each: the message names the one at fault */
    const char *from_s = param(req, "from", &bad_from), *to_s = param(req, "to", &bad_to);
    day_t today = day_from_time(time(NULL)), from, to = today;
    if (to_s && (bad_to || (err = day_parse(to_s, &to)))) {
        bad_param(res, "to", bad_to ? "holds a NUL byte" : err, NULL);
        return;
    }
    from = to > DAYS_DEFAULT - 1 ? to - (DAYS_DEFAULT - 1) : 0; /* no day before 1970-01-01 */
    if (from_s && (bad_from || (err = day_parse(from_s, &from)))) {
        bad_param(res, "from", bad_from ? "holds a NUL byte" : err, NULL);
        return;
    }
    if (from > to) {
        routes_json_error(res, 400, "from is after to");
        return;
    }
    if (to - from >= STORE_HISTORY_MAX_DAYS) {
        char msg[128];
        snprintf(msg, sizeof msg, "the range spans %d days; at most %d are answered at once",
                 (int)(to - from + 1), STORE_HISTORY_MAX_DAYS);
        routes_json_error(res, 400, msg);
        return;
    }
    struct counter_view v;
    int known = routes_get(app, req, key, today, &v, res);
    if (known < 0)
        return;
    if (!known && app->loader && !v.loaded_ms) {
        routes_json_error(res, 503, "the store cannot be read now; try again");
        return;
    }
    if (!known) {
        routes_json_error(res, 404, "unknown repo: it has no hits yet");
        return;
    }
    size_t n = (size_t)(to - from + 1);
    uint64_t hits[STORE_HISTORY_MAX_DAYS];
    if (!read_history(app, key, from, n, hits, res, true))
        return;
    char a[DAY_TEXT_SIZE], b[DAY_TEXT_SIZE];
    day_format(from, a);
    day_format(to, b);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total = count_add(total, hits[i]);
    json_reply(res);
    buf_printf(&res->body,
               "{\"repo\":\"%s\",\"from\":\"%s\",\"to\":\"%s\",\"total\":%" PRIu64 ",\"days\":[",
               key, a, b, total);
    for (size_t i = 0; i < n; i++) {
        day_format(from + (day_t)i, a);
        buf_printf(&res->body, "%s{\"day\":\"%s\",\"hits\":%" PRIu64 "}", i ? "," : "", a, hits[i]);
    }
    buf_puts(&res->body, "]}\n");
}

/* store top callback: keeps a row as stored. */
static void keep_top(void *arg, const struct store_top_row *row)
{
    struct top_list *t = arg;
    if (t->n == TOP_LIMIT_MAX)
        return;
    struct top_row *r = &t->rows[t->n++];
    snprintf(r->key, sizeof r->key, "%s", row->key);
    r->hits = row->hits;
    r->last_day = row->last_day;
}

/* Most hits first, then by name: the store's order, after live figures moved some. */
static int by_hits(const void *a, const void *b)
{
    const struct top_row *x = a, *y = b;
    if (x->hits != y->hits)
        return x->hits > y->hits ? -1 : 1;
    return strcmp(x->key, y->key);
}

/* Seconds on the monotonic clock. */
static int64_t now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec + 1; /* never 0, which marks an empty slot */
}

void routes_stats_on_done(struct routes_stats *st, notify_fn *fn, void *arg)
{
    notify_set(&st->dones, fn, arg);
}

uint64_t routes_stats_done(struct routes_stats *st)
{
    return atomic_load(&st->done);
}

/* The cache's slot of from..to if it has one, else the one to fill: the oldest. Under st->lock. */
static struct top_list *cache_slot(struct routes_stats *st, day_t from, day_t to)
{
    struct top_list *oldest = &st->cache[0];
    for (int i = 0; i < TOP_CACHE_SLOTS; i++) {
        struct top_list *c = &st->cache[i];
        if (c->at && c->from == from && c->to == to)
            return c;
        if (c->at < oldest->at)
            oldest = c;
    }
    return oldest;
}

/* Reads rd's list from the store into *t, or what failed. */
static void read_top(struct routes_stats *st, const struct top_read *rd, struct top_list *t)
{
    t->from = rd->from;
    t->to = rd->to;
    t->ticket = rd->ticket;
    t->n = 0;
    char why[sizeof t->why];
    struct store *r = take_reader(st, why, sizeof why);
    pthread_mutex_lock(&st->lock);
    bool go = r && !st->stopping;
    st->in_use = go ? r : NULL;
    pthread_mutex_unlock(&st->lock);
    enum store_result rc =
        go ? r->ops->top(r, rd->from, rd->to, TOP_LIMIT_MAX, keep_top, t, why, sizeof why)
           : STORE_FAILED;
    pthread_mutex_lock(&st->lock);
    st->in_use = NULL;
    if (r && rc != STORE_OK && st->stopping)
        snprintf(why, sizeof why, "interrupted, ghit is stopping");
    pthread_mutex_unlock(&st->lock);
    t->failed = rc != STORE_OK;
    if (t->failed) {
        store_close(r); /* a reader that failed is not reused */
        snprintf(t->why, sizeof t->why, "%s", why);
    } else {
        give_reader(st, r);
    }
    t->at = now_s();
}

/* The reader thread: reads the lists asked for, in order, into the cache. */
static void *top_reader(void *arg)
{
    struct routes_stats *st = arg;
    pthread_setname_np(pthread_self(), "ghit-stats");
    struct top_list *t = xmalloc(sizeof *t);
    pthread_mutex_lock(&st->lock);
    for (;;) {
        while (!st->stopping && st->nqueue == 0)
            pthread_cond_wait(&st->wake, &st->lock);
        if (st->stopping) {
            /* What is still asked is not read: its requests wait no more. */
            atomic_store(&st->done, st->last);
            break;
        }
        /* Only this thread writes reading: it reads its own copy without the lock. */
        st->reading = st->queue[0];
        memmove(st->queue, st->queue + 1, --st->nqueue * sizeof st->queue[0]);
        pthread_mutex_unlock(&st->lock);
        int64_t start_ms = monotime_ms();
        read_top(st, &st->reading, t);
        int64_t took_ms = monotime_ms() - start_ms;
        char a[DAY_TEXT_SIZE], b[DAY_TEXT_SIZE];
        day_format(t->from, a);
        day_format(t->to, b);
        log_debug("read the top list of %s to %s in %lld ms%s", a, b, (long long)took_ms,
                  t->failed ? ", which failed" : "");
        pthread_mutex_lock(&st->lock);
        if (!st->reading.shown)
            st->others_ms += (double)took_ms;
        *cache_slot(st, t->from, t->to) = *t;
        st->reading.ticket = 0;
        atomic_store(&st->done, t->ticket);
        pthread_mutex_unlock(&st->lock);
        notify_call(&st->dones, t->ticket);
        pthread_mutex_lock(&st->lock);
    }
    pthread_mutex_unlock(&st->lock);
    free(t);
    return NULL;
}

/* The number of a read of from..to asked for or under way, or 0. Under st->lock. */
static uint64_t read_asked(const struct routes_stats *st, day_t from, day_t to)
{
    if (st->reading.ticket && st->reading.from == from && st->reading.to == to)
        return st->reading.ticket;
    for (unsigned i = 0; i < st->nqueue; i++)
        if (st->queue[i].from == from && st->queue[i].to == to)
            return st->queue[i].ticket;
    return 0;
}

/* Whether a list the dashboard does not show is asked for or under way. Under st->lock. */
static bool other_asked(const struct routes_stats *st)
{
    if (st->reading.ticket && !st->reading.shown)
        return true;
    for (unsigned i = 0; i < st->nqueue; i++)
        if (!st->queue[i].shown)
            return true;
    return false;
}

enum top_answer { TOP_READY, TOP_WAIT, TOP_REFUSED };

/*
 * The top TOP_LIMIT_MAX of t->from..t->to: copied into *t from the cache
 * (TOP_READY), or asked of the reader thread (TOP_WAIT, *ticket the read to
 * wait for), or refused (err says why, for a 503). A request run again
 * after its wait (waited: the read's ticket) takes what the read left,
 * its failure included, and never asks again; and it takes the range that
 * read was of, into t: a list of "today" asked before midnight UTC and
 * read after it is of the day it was asked on, not of the new day.
 */
static enum top_answer top_of(struct routes_stats *st, struct top_list *t, uint64_t waited,
                              uint64_t *ticket, char *err, size_t errlen)
{
    int64_t now = now_s();
    pthread_mutex_lock(&st->lock);
    for (int i = 0; waited && i < TOP_CACHE_SLOTS; i++) {
        if (st->cache[i].at && st->cache[i].ticket == waited) {
            t->from = st->cache[i].from;
            t->to = st->cache[i].to;
        }
    }
    const struct top_list *c = cache_slot(st, t->from, t->to);
    bool have = c->at && c->from == t->from && c->to == t->to;
    if (have && waited && c->ticket >= waited && c->failed) {
        snprintf(err, errlen, "cannot read the store: %s", c->why);
        pthread_mutex_unlock(&st->lock);
        return TOP_REFUSED;
    }
    if (have && !c->failed && ((waited && c->ticket >= waited) || now - c->at < TOP_CACHE_S)) {
        *t = *c;
        pthread_mutex_unlock(&st->lock);
        return TOP_READY;
    }
    enum top_answer answer = TOP_REFUSED;
    /* The dashboard's two lists: today's, and the 7 days to today. */
    day_t today = day_from_time(time(NULL));
    bool shown = t->to == today && (t->from == today || t->from == today - 6);
    int64_t start_ms = monotime_ms();
    st->others_ms -= (double)(start_ms - st->others_at_ms) * TOP_OTHER_SHARE;
    if (st->others_ms < 0)
        st->others_ms = 0;
    st->others_at_ms = start_ms;
    if (st->stopping) {
        snprintf(err, errlen, "ghit is stopping; try again in a few seconds");
    } else if (waited) {
        /* The wait ran out (http.c), or the list was pushed out of the cache meanwhile. */
        snprintf(err, errlen, "the top list is still being read; try again in a few seconds");
    } else if ((*ticket = read_asked(st, t->from, t->to)) != 0) {
        answer = TOP_WAIT; /* the read under way, or asked for, is waited for, not repeated */
    } else if (!shown && other_asked(st)) {
        /* Charged once read: one at a time, or a burst of them would pass the bucket at once. */
        snprintf(err, errlen, "another top list is being read; try again in a few seconds");
    } else if (!shown && st->others_ms > TOP_OTHER_BURST_MS) {
        snprintf(err, errlen,
                 "top lists other than the dashboard's take a quarter of the server's time at "
                 "most; try again in %lld ms",
                 (long long)((st->others_ms - TOP_OTHER_BURST_MS) / TOP_OTHER_SHARE) + 1);
    } else if (st->nqueue == TOP_QUEUE) {
        snprintf(err, errlen, "too many top lists are being read; try again in a second");
    } else if (!st->started && pthread_create(&st->thread, NULL, top_reader, st) != 0) {
        snprintf(err, errlen, "cannot start a thread to read the top list");
    } else {
        st->started = true;
        *ticket = ++st->last;
        st->queue[st->nqueue++] = (struct top_read){t->from, t->to, shown, *ticket};
        pthread_cond_signal(&st->wake);
        answer = TOP_WAIT;
    }
    pthread_mutex_unlock(&st->lock);
    return answer;
}

/*
 * GET /api/v1/top?day=YYYY-MM-DD&days=N&limit=K: the top K of the N days
 * ending on day (defaults: today, 1, 10).
 */
static void api_top(const struct app *app, const struct request *req, struct response *res)
{
    if (req->params_error) {
        routes_json_error(res, 400, req->params_error);
        return;
    }
    bool bad = false;
    const char *day_s = param(req, "day", &bad), *days_s = param(req, "days", &bad);
    const char *limit_s = param(req, "limit", &bad), *err;
    if (bad) {
        routes_json_error(res, 400, "a parameter holds a NUL byte");
        return;
    }
    unsigned limit = TOP_LIMIT_DEFAULT, days = 1;
    day_t today = day_from_time(time(NULL)), to = today;
    if (limit_s && (err = parse_uint(limit_s, 1, TOP_LIMIT_MAX, &limit))) {
        bad_param(res, "limit", err, "1 to 100");
        return;
    }
    if (day_s && (err = day_parse(day_s, &to))) {
        bad_param(res, "day", err, NULL);
        return;
    }
    if (days_s && (err = parse_uint(days_s, 1, ROUTES_TOP_MAX_DAYS, &days))) {
        bad_param(res, "days", err, "1 to 31");
        return;
    }
    struct top_list *t = xcalloc(1, sizeof *t);
    t->from = to - (day_t)days + 1;
    if (t->from < 0) /* no day before 1970-01-01 is kept: the range starts there */
        t->from = 0;
    t->to = to;
    char msg[400];
    uint64_t ticket = 0;
    enum top_answer answer = top_of(app->stats, t, req->waited_read, &ticket, msg, sizeof msg);
    if (answer != TOP_READY) {
        if (answer == TOP_WAIT)
            res->wait_read = ticket; /* run again once it is read (http.c) */
        else
            routes_json_error(res, 503, msg);
        free(t);
        return;
    }
    /*
     * The read's day, for a request that waited for it across midnight: a
     * list of the day before, which gets no pending hits from the table
     * (those the flusher has not written of its last seconds are left out).
     */
    to = t->to;
    /* The store has what was flushed; the table has today's hits, pending ones included. */
    for (size_t i = 0; i < t->n && to == today; i++) {
        struct counter_view v;
        if (counter_get(app->table, t->rows[i].key, today, &v) && v.today > t->rows[i].last_day)
            t->rows[i].hits = count_add(t->rows[i].hits, v.today - t->rows[i].last_day);
    }
    qsort(t->rows, t->n, sizeof t->rows[0], by_hits);
    char a[DAY_TEXT_SIZE], b[DAY_TEXT_SIZE];
    day_format(t->from, a);
    day_format(t->to, b);
    json_reply(res);
    buf_printf(&res->body, "{\"from\":\"%s\",\"to\":\"%s\",\"limit\":%u,\"repos\":[", a, b, limit);
    for (size_t i = 0; i < t->n && i < limit; i++)
        buf_printf(&res->body, "%s{\"repo\":\"%s\",\"hits\":%" PRIu64 "}", i ? "," : "",
                   t->rows[i].key, t->rows[i].hits);
    buf_puts(&res->body, "]}\n");
    free(t);
}

/*
 * Applies the look parameters of req to look and finds repo; NULL if fine,
 * else what is wrong. Values with a NUL byte are refused (the badge URLs
 * drop it; an endpoint or chart has no reason to send one).
 */
static const char *read_look(const struct request *req, struct badge_look *look,
                             const struct request_param **repo)
{
    *repo = NULL;
    if (req->params_error)
        return req->params_error;
    for (unsigned i = 0; i < req->nparams; i++) {
        const struct request_param *p = &req->params[i];
        if (strlen(p->value) != p->value_len)
            return "a parameter holds a NUL byte";
        if (strcmp(p->name, "repo") == 0) {
            *repo = p;
            continue;
        }
        const char *err = badge_look_set(look, p->name, p->value);
        if (err)
            return err;
    }
    return NULL;
}

/* GET /endpoint.json?repo=OWNER/NAME: shields.io's endpoint badge, without counting. */
static void endpoint(const struct app *app, const struct request *req, struct response *res)
{
    struct badge_look look = app->cfg->look;
    const struct request_param *repo;
    const char *err = read_look(req, &look, &repo);
    char key[REPO_KEY_SIZE];
    if (!err)
        err = repo_key_parse(repo ? repo->value : "", repo ? repo->value_len : 0, key);
    struct counter_view v = {0};
    if (!err && routes_get(app, req, key, day_from_time(time(NULL)), &v, res) < 0)
        return;
    json_reply(res);
    buf_puts(&res->body, "{\"schemaVersion\":1,\"label\":");
    struct buf label;
    buf_init(&label);
    badge_label_put(&label, &look);
    json_put_str(&res->body, label.data);
    buf_fini(&label);
    if (err) {
        /*
         * With 200 (json_reply's): shields.io reads the body of a 200 only,
         * and draws any other status as "invalid", without the reason.
         */
        buf_puts(&res->body, ",\"message\":");
        json_put_str(&res->body, err);
        buf_puts(&res->body, ",\"color\":\"red\",\"isError\":true}\n");
        return;
    }
    char message[2 * NUMFMT_OUT_MAX + 8], color[BADGE_COLOR_MAX + 1] = "4c1";
    badge_message(message, sizeof message, &look, v.total, v.today);
    buf_puts(&res->body, ",\"message\":");
    json_put_str(&res->body, message);
    if (look.color && badge_color_resolve(look.color, color, sizeof color) && color[0] == '#')
        memmove(color, color + 1, strlen(color));
    buf_puts(&res->body, ",\"color\":");
    json_put_str(&res->body, color);
    if (look.label_color && badge_color_resolve(look.label_color, color, sizeof color)) {
        buf_puts(&res->body, ",\"labelColor\":");
        json_put_str(&res->body, color[0] == '#' ? color + 1 : color);
    }
    /* shields.io caches an endpoint's answer for cacheSeconds, 300 at the least. */
    buf_puts(&res->body, ",\"cacheSeconds\":300}\n");
}

/* GET /chart.svg?repo=OWNER/NAME&days=N&theme=auto */
static void chart(const struct app *app, const struct request *req, struct response *res)
{
    struct badge_look look = app->cfg->look;
    const struct request_param *repo = NULL;
    bool bad = false;
    const char *days_s = param(req, "days", &bad);
    unsigned days = DAYS_DEFAULT;
    char key[REPO_KEY_SIZE];
    /* days is the chart's, not a badge look parameter: read it first, then the rest. */
    const char *err = days_s && parse_uint(days_s, CHART_DAYS_MIN, CHART_DAYS_MAX, &days)
                          ? "days must be a number from 7 to 365"
                          : read_look(req, &look, &repo);
    if (!err)
        err = repo_key_parse(repo ? repo->value : "", repo ? repo->value_len : 0, key);
    if (err) {
        routes_error_badge(app, res, 400, err);
        return;
    }
    uint64_t hits[CHART_DAYS_MAX];
    day_t from = day_from_time(time(NULL)) - (day_t)days + 1;
    struct counter_view v;
    int known = routes_get(app, req, key, from, &v, res);
    if (known < 0)
        return;
    /* A repo with no hits yet is drawn with zeros: a README may embed it before its first view. */
    if (known) {
        if (!read_history(app, key, from, days, hits, res, false))
            return;
    } else {
        memset(hits, 0, sizeof hits);
    }
    buf_reset(&res->body);
    struct chart c = {key, from, hits, days, look.theme_auto};
    chart_render(&res->body, &c);
    routes_svg_reply(res, 200);
}

/*
 * Brings the counters kept by the counting rules and the admin routes (their
 * own atomics) into /metrics as counters: what grew since the last scrape is
 * added, under a lock, since two scrapes may run at once.
 */
static void add_policy_counts(const struct app *app)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static struct policy_stats seen;
    static unsigned long long refused_seen;
    pthread_mutex_lock(&lock);
    if (app->policy) {
        struct policy_stats ps;
        policy_get_stats(app->policy, &ps);
        METRICS_ADD("ghit_not_counted_total", METRICS_NOT_COUNTED_HELP, "reason=\"not_camo\"",
                    ps.not_camo - seen.not_camo);
        METRICS_ADD("ghit_not_counted_total", METRICS_NOT_COUNTED_HELP,
                    "reason=\"camo_unlisted_address\"", ps.camo_unlisted - seen.camo_unlisted);
        METRICS_ADD("ghit_not_counted_total", METRICS_NOT_COUNTED_HELP, "reason=\"dedupe_repeat\"",
                    ps.repeat - seen.repeat);
        seen = ps;
        METRICS_GAUGE_SET("ghit_dedupe_table_bytes",
                          "Memory of the --dedupe table, fixed at start.", "",
                          (int64_t)policy_dedupe_memory(app->policy));
    }
    if (app->admin) {
        unsigned long long r = admin_refused(app->admin);
        METRICS_ADD("ghit_admin_unauthorized_total", "Admin requests refused for their token.", "",
                    r - refused_seen);
        refused_seen = r;
    }
    pthread_mutex_unlock(&lock);
}

/* GET /metrics: the gauges read now, then every series. */
static void metrics(const struct app *app, struct response *res)
{
    uint64_t counted =
        metrics_counter_value(metrics_counter("ghit_hits_total", METRICS_HITS_HELP, ""));
    struct flusher_stats fs;
    flusher_get_stats(app->flusher, &fs);
    METRICS_GAUGE_SET("ghit_pending_hits", "Hits counted and not yet written to the store.", "",
                      counted > fs.hits_written ? (int64_t)(counted - fs.hits_written) : 0);
    METRICS_GAUGE_SET("ghit_repos", "Distinct repos known to this ghit.", "",
                      (int64_t)counter_size(app->table));
    add_policy_counts(app);
    res->status = 200;
    res->content_type = "text/plain; version=0.0.4; charset=utf-8";
    buf_reset(&res->body);
    metrics_render(&res->body);
}

bool routes_stats_handle(const struct app *app, const struct request *req, struct response *res)
{
    const char *path = req->path;
    if (strncmp(path, repos_prefix, sizeof repos_prefix - 1) == 0) {
        /* OWNER/NAME/days: a repo is two segments, so a third one is the history. */
        const char *name = path + sizeof repos_prefix - 1;
        const char *slash = strchr(name, '/');
        const char *third = slash ? strchr(slash + 1, '/') : NULL;
        if (!third || strcmp(third, "/days") != 0)
            return false;
        res->route = "api_days";
        api_days(app, name, (size_t)(third - name), req, res);
    } else if (strcmp(path, "/api/v1/top") == 0) {
        res->route = "api_top";
        api_top(app, req, res);
    } else if (strcmp(path, "/endpoint.json") == 0) {
        res->route = "endpoint";
        endpoint(app, req, res);
    } else if (strcmp(path, "/chart.svg") == 0) {
        res->route = "chart";
        chart(app, req, res);
    } else if (strcmp(path, "/metrics") == 0 && !app->cfg->metrics_listen) {
        res->route = "metrics";
        metrics(app, res);
    } else {
        return false;
    }
    return true;
}

void routes_stats_metrics_only(const struct app *app, const struct request *req,
                               struct response *res)
{
    res->no_cache = false;
    res->etag[0] = '\0';
    res->allow = NULL;
    res->close = false;
    res->csp = NULL;
    res->route = "metrics";
    if (strcmp(req->path, "/metrics") == 0)
        metrics(app, res);
    else
        routes_text(res, 404, "not found: this address serves /metrics only");
}
