/*
 * flusher: batches pending hits into the store (see flusher.h).
 *
 * A batch is an array of store_delta whose keys live in one string buffer,
 * so taking a thousand repos costs a few allocations that are kept from one
 * flush to the next. The flusher thread owns the batch; `lock` guards the
 * health fields and the stop flag, which other threads read.
 */
#include "flusher.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "buf.h"
#include "log.h"
#include "monotime.h"
#include "metrics.h"
#include "spool.h"

#define BACKOFF_MAX_MS 30000

/* A set or delete taken from the table (issue 10); the batch owns op. */
struct batch_op {
    size_t key_off;
    struct counter_op *op;
};

struct batch {
    struct store_delta *d;
    size_t *key_off; /* d[i].key is keys.data + key_off[i] once the batch is complete */
    size_t n, cap;
    struct batch_op *ops; /* written before the deltas, in the same transaction */
    size_t nops, ops_cap;
    struct buf keys;
};

struct flusher {
    struct counter_table *table;
    struct store *store;
    struct spool *spool; /* told of each take; NULL: none */
    unsigned interval_ms;
    pthread_t thread;
    bool running;
    struct batch batch;
    struct timespec last_check; /* of the store, while idle; flusher thread only */
    struct timespec last_slow;  /* of the last slow-flush line; flusher thread only */
    /* The table's mark before a write: the figures read back are current since it. */
    struct counter_mark before_write;
    uint64_t merged_seen, merges_seen, merge_ms_seen, ambiguous_seen; /* in /metrics already */
    _Atomic uint64_t written; /* every hit of this counter_take() number and before is written */
    _Atomic uint64_t needed;  /* the take number a held reply waits for (durable mode) */
    _Atomic bool wanted;      /* a flush was asked for since the last one began */
    struct notify commits;    /* durable mode's listener (flusher_on_commit) */
    struct notify recovery;   /* told when the store answers again (flusher_on_recovery) */

    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t wake;
    bool stopping;
    bool kicked; /* flush now, without waiting for the interval */
    bool healthy;
    char last_error[256];
    struct flusher_stats stats;
};

struct flusher *flusher_new(struct counter_table *table, struct store *store, unsigned interval_ms)
{
    struct flusher *f = xcalloc(1, sizeof *f);
    f->table = table;
    f->store = store;
    f->interval_ms = interval_ms ? interval_ms : 1;
    f->healthy = true;
    buf_init(&f->batch.keys);
    pthread_mutex_init(&f->lock, NULL);
    notify_init(&f->commits);
    notify_init(&f->recovery);
    monotime_cond_init(&f->wake);
    return f;
}

void flusher_free(struct flusher *f)
{
    if (!f)
        return;
    free(f->batch.d);
    free(f->batch.key_off);
    free(f->batch.ops);
    buf_fini(&f->batch.keys);
    pthread_cond_destroy(&f->wake);
    pthread_mutex_destroy(&f->lock);
    notify_fini(&f->commits);
    notify_fini(&f->recovery);
    free(f);
}

/* counter_take callback: copies one pending delta into the batch. */
static void collect(void *arg, const char *key, day_t day, uint64_t hits)
{
    struct batch *b = arg;
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 256;
        b->d = xrealloc(b->d, b->cap * sizeof *b->d);
        b->key_off = xrealloc(b->key_off, b->cap * sizeof *b->key_off);
    }
    b->key_off[b->n] = b->keys.len;
    buf_append(&b->keys, key, strlen(key) + 1);
    b->d[b->n++] = (struct store_delta){.key = NULL, .day = day, .hits = hits};
}

/* counter_take callback: moves one pending set or delete into the batch. */
static void collect_op(void *arg, const char *key, struct counter_op *op)
{
    struct batch *b = arg;
    if (b->nops == b->ops_cap) {
        b->ops_cap = b->ops_cap ? b->ops_cap * 2 : 16;
        b->ops = xrealloc(b->ops, b->ops_cap * sizeof *b->ops);
    }
    b->ops[b->nops].key_off = b->keys.len;
    b->ops[b->nops++].op = op;
    buf_append(&b->keys, key, strlen(key) + 1);
}

/* Empties the batch and takes what is pending into it. */
static void take(struct flusher *f)
{
    struct batch *b = &f->batch;
    b->n = 0;
    b->nops = 0;
    buf_reset(&b->keys);
    counter_take(f->table, collect, collect_op, b);
}

/*
 * Writes the batch's ops, then its deltas, in one transaction: an op sets a
 * repo as a whole, and the deltas taken with it all came after it.
 */
static enum store_result write_ops(struct flusher *f, char *err, size_t errlen)
{
    struct batch *b = &f->batch;
    size_t ndays = 0;
    for (size_t i = 0; i < b->nops; i++)
        ndays += b->ops[i].op->ndays;
    struct store_put *puts = xcalloc(b->nops, sizeof *puts);
    struct store_day *days = xcalloc(ndays + 1, sizeof *days), *next = days;
    for (size_t i = 0; i < b->nops; i++) {
        const struct counter_op *op = b->ops[i].op;
        for (size_t j = 0; j < op->ndays; j++)
            next[j] = (struct store_day){op->days[j].day, op->days[j].hits};
        puts[i] = (struct store_put){
            .mode = op->del ? STORE_PUT_DELETE : STORE_PUT_SET,
            .id = op->id,
            .repo = {.key = b->keys.data + b->ops[i].key_off,
                     .total = op->total,
                     .first_day = op->first_day,
                     .days = next,
                     .ndays = op->ndays},
        };
        next += op->ndays;
    }
    enum store_result r = f->store->ops->write(f->store, puts, b->nops, b->d, b->n, err, errlen);
    free(days);
    free(puts);
    return r;
}

/* store apply callback: a shared store's newer figures replace ours. */
static void refresh(void *arg, const struct store_row *row)
{
    struct flusher *f = arg;
    counter_load_written(f->table, row->key, row->total, row->first_day, day_from_time(time(NULL)),
                         row->day_hits, &f->before_write);
}

/*
 * Records the outcome of a write (or, with wrote false, of a check); logs a
 * failure once per distinct cause.
 */
static void note_result(struct flusher *f, bool ok, bool wrote, uint64_t hits, const char *err)
{
    /* Told before healthy is set: who sees /healthz answer 200 finds the listener told. The
     * thread that writes is the only one that changes healthy, so it may read it unlocked. */
    if (ok && !f->healthy)
        notify_call(&f->recovery, 0);
    pthread_mutex_lock(&f->lock);
    if (ok) {
        if (!f->healthy)
            log_info("store: writing again after %u failed attempts", f->stats.consecutive);
        f->healthy = true;
        f->last_error[0] = '\0';
        f->stats.flushes += wrote;
        f->stats.hits_written += hits;
        f->stats.consecutive = 0;
    } else {
        if (strcmp(f->last_error, err) != 0) {
            log_error("store: %s; keeping the hits in memory and retrying", err);
            snprintf(f->last_error, sizeof f->last_error, "%s", err);
        }
        f->healthy = false;
        f->stats.failures++;
        f->stats.consecutive++;
    }
    pthread_mutex_unlock(&f->lock);
}

/* Counts one store failure under its cause (metrics). */
static void count_failure(struct flusher *f)
{
    char labels[64];
    snprintf(labels, sizeof labels, "cause=\"%s\"",
             f->store->ops->cause ? f->store->ops->cause(f->store) : "other");
    metrics_add(metrics_counter("ghit_store_failures_total",
                                "Failed store writes and checks, by cause.", labels),
                1);
}

/*
 * With nothing to write, a failing store would go unnoticed: once per
 * flush interval (a lock taken and dropped: cheap), ask the store whether
 * a write could be made, so /healthz tells the truth while idle.
 */
static bool check_idle(struct flusher *f)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&f->lock);
    bool healthy = f->healthy;
    pthread_mutex_unlock(&f->lock);
    /* Ticks come an interval apart, start to start: one a little early still checks. */
    if (!f->store->ops->check ||
        (f->last_check.tv_sec &&
         monotime_ms_between(&f->last_check, &now) < f->interval_ms - f->interval_ms / 4))
        return healthy;
    f->last_check = now;
    char err[256] = "";
    bool ok = f->store->ops->check(f->store, err, sizeof err) == STORE_OK;
    if (!ok)
        count_failure(f);
    note_result(f, ok, false, 0, err);
    return ok;
}

/*
 * Records the store's own work in the metrics: SQLite's journal, and its
 * merger folding it into the tables. After each write, and on each tick
 * with nothing to write, so that the figures follow a merge that ends
 * after the last hit.
 */
static void count_store(struct flusher *f)
{
    if (!f->store->ops->stats)
        return;
    struct store_stats st;
    f->store->ops->stats(f->store, &st);
    METRICS_GAUGE_SET("ghit_journal_backlog_rows",
                      "Rows written to the journal and not merged into the tables yet.", "",
                      (int64_t)st.backlog_rows);
    METRICS_ADD("ghit_journal_merged_rows_total", "Journal rows merged into the tables.", "",
                st.merged_rows - f->merged_seen);
    METRICS_ADD("ghit_journal_merges_total",
                "Batches of journal rows merged into the tables, each in one transaction.", "",
                st.merges - f->merges_seen);
    METRICS_ADD("ghit_journal_merge_milliseconds_total",
                "Time the merger spent folding the journal into the tables.", "",
                st.merge_ms - f->merge_ms_seen);
    METRICS_ADD("ghit_ambiguous_commits_total",
                "Commits that reported an error but had reached the disk (counted once).", "",
                st.ambiguous_commits - f->ambiguous_seen);
    f->merged_seen = st.merged_rows;
    f->merges_seen = st.merges;
    f->merge_ms_seen = st.merge_ms;
    f->ambiguous_seen = st.ambiguous_commits;
}

/* Records one write in the metrics: its duration, rows and hits, or what it left behind. */
static void count_flush(struct flusher *f, bool ok, size_t rows, uint64_t hits, double seconds)
{
    static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                    0.05,   0.1,   0.25,   0.5,   1,    2.5};
    static struct metrics_histogram *duration;
    if (!duration) /* the flusher thread only, or the main thread after it */
        duration = metrics_histogram("ghit_flush_duration_seconds",
                                     "Time of one write of pending hits to the store.", bounds,
                                     sizeof bounds / sizeof bounds[0]);
    metrics_observe(duration, seconds);
    METRICS_GAUGE_SET("ghit_flush_backlog_rows",
                      "Repo-days kept in memory after a failed write, waiting for the next.", "",
                      ok ? 0 : (int64_t)rows);
    count_store(f);
    if (ok) {
        METRICS_ADD("ghit_flush_rows_total", "Repo-days written to the store.", "", rows);
        METRICS_ADD("ghit_flush_hits_total", "Hits written to the store.", "", hits);
    } else {
        count_failure(f);
    }
}

/* Records that the hits of take number take_no and before are written, and says so. */
static void written(struct flusher *f, uint64_t take_no)
{
    atomic_store(&f->written, take_no);
    notify_call(&f->commits, take_no);
}

/*
 * A cache frees what it holds beyond its size, between a give-back and the
 * next take (counter_evict): after every flush, one that had nothing to
 * write too, since reads that count nothing (/count.svg, the API) fill it.
 */
static void evict(struct flusher *f)
{
    size_t freed = counter_evict(f->table);
    if (freed)
        log_debug("cache: freed %zu repos", freed);
}

/* Writes what is pending; with nothing pending, checks the store if check says so. */
static bool flush(struct flusher *f, bool check)
{
    struct batch *b = &f->batch;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    atomic_store(&f->wanted, false);
    take(f);
    /* Nothing pending: every hit counted before this take began is written (or was given back). */
    uint64_t take_no = counter_last_take(f->table);
    if (f->spool)
        spool_taken(f->spool, take_no);
    if (b->n == 0 && b->nops == 0) {
        counter_settle(f->table, take_no);
        evict(f);
        written(f, take_no);
        count_store(f);
        return check ? check_idle(f) : true;
    }
    for (size_t i = 0; i < b->n; i++)
        b->d[i].key = b->keys.data + b->key_off[i];
    uint64_t hits = store_deltas_hits(b->d, b->n);
    char err[256] = "";
    counter_mark(f->table, &f->before_write);
    enum store_result r =
        b->nops ? write_ops(f, err, sizeof err)
                : f->store->ops->apply(f->store, b->d, b->n, day_from_time(time(NULL)), refresh, f,
                                       err, sizeof err);
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    count_flush(f, r == STORE_OK, b->n, hits,
                (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    if (r != STORE_OK) {
        /* Hits first: giving an op back first would make its own later hits look superseded. */
        for (size_t i = 0; i < b->n; i++)
            counter_give_back(f->table, b->d[i].key, b->d[i].day, b->d[i].hits);
        for (size_t i = 0; i < b->nops; i++)
            counter_give_back_op(f->table, b->keys.data + b->ops[i].key_off, b->ops[i].op);
    } else {
        for (size_t i = 0; i < b->nops; i++)
            free(b->ops[i].op);
    }
    /* In the store (its figures read back, if it reports them), or given back. */
    counter_settle(f->table, take_no);
    b->nops = 0;
    long long took = monotime_ms_since(&t0);
    note_result(f, r == STORE_OK, true, hits, err);
    pthread_mutex_lock(&f->lock);
    f->stats.flush_ms += (uint64_t)took;
    f->stats.flush_rows += b->n;
    if ((uint64_t)took > f->stats.flush_ms_max)
        f->stats.flush_ms_max = (uint64_t)took;
    pthread_mutex_unlock(&f->lock);
    log_debug("store: flushed %zu rows (%llu hits) in %lld ms", b->n, (unsigned long long)hits,
              took);
    /*
     * While a flush runs, the next interval's hits wait in memory: a crash
     * then loses more than one interval. Said at most once a minute.
     */
    if (r == STORE_OK && took > (long long)f->interval_ms &&
        (!f->last_slow.tv_sec || monotime_ms_since(&f->last_slow) >= 60000)) {
        log_info("store: a flush of %zu rows took %lld ms, longer than the flush interval "
                 "(%u ms); a crash meanwhile loses more than one interval of hits",
                 b->n, took, f->interval_ms);
        clock_gettime(CLOCK_MONOTONIC, &f->last_slow);
    }
    evict(f);
    if (r == STORE_OK)
        written(f, take_no);
    return r == STORE_OK;
}

bool flusher_flush(struct flusher *f)
{
    return flush(f, true);
}

/*
 * The flusher thread: flush every interval, back off while the store fails.
 * Intervals count from one flush's start to the next, not from its end: a
 * crash then loses at most one interval and the flush being written. A
 * store slower than that still gets a quarter interval between two flushes,
 * for the hits to fold into fewer rows (Redis at a wide spread) and for the
 * merger to get the journal's lock: a flush longer than three quarters of
 * the interval pushes the next one back by what it takes beyond them.
 */
static void *run(void *arg)
{
    struct flusher *f = arg;
    pthread_setname_np(pthread_self(), "ghit-flusher");
    unsigned delay = f->interval_ms; /* the last wait asked for: 0 while replies wait */
    struct timespec until = monotime_deadline(f->interval_ms);
    for (;;) {
        pthread_mutex_lock(&f->lock);
        while (!f->stopping && !f->kicked &&
               pthread_cond_timedwait(&f->wake, &f->lock, &until) != ETIMEDOUT)
            ;
        bool stop = f->stopping;
        f->kicked = false;
        pthread_mutex_unlock(&f->lock);
        if (stop)
            return NULL;
        struct timespec next = monotime_deadline(f->interval_ms);
        if (flusher_flush(f)) {
            /*
             * Group commit: while replies wait for their hits to be written,
             * write again at once; the hits that came in meanwhile make the
             * next batch, so a commit carries many hits under load.
             */
            bool waiting = atomic_load(&f->needed) > atomic_load(&f->written);
            delay = waiting ? 0 : f->interval_ms;
            if (waiting) {
                until = monotime_deadline(0);
            } else {
                /* The next start, or a quarter interval from now if that is later. */
                struct timespec rest = monotime_deadline(f->interval_ms / 4);
                until = monotime_ms_between(&next, &rest) > 0 ? rest : next;
            }
        } else {
            delay = delay * 2 < BACKOFF_MAX_MS ? delay * 2 : BACKOFF_MAX_MS;
            if (delay < 100)
                delay = 100;
            until = monotime_deadline(delay);
        }
    }
}

int flusher_start(struct flusher *f)
{
    int rc = pthread_create(&f->thread, NULL, run, f);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    f->running = true;
    return 0;
}

void flusher_use_spool(struct flusher *f, struct spool *sp)
{
    f->spool = sp;
}

void flusher_on_commit(struct flusher *f, notify_fn *fn, void *arg)
{
    notify_set(&f->commits, fn, arg);
}

void flusher_on_recovery(struct flusher *f, notify_fn *fn, void *arg)
{
    notify_set(&f->recovery, fn, arg);
}

uint64_t flusher_written(struct flusher *f)
{
    return atomic_load(&f->written);
}

void flusher_need(struct flusher *f, uint64_t take_no)
{
    uint64_t had = atomic_load(&f->needed);
    while (had < take_no && !atomic_compare_exchange_weak(&f->needed, &had, take_no))
        ;
    if (!atomic_exchange(&f->wanted, true))
        flusher_kick(f);
}

void flusher_kick(struct flusher *f)
{
    pthread_mutex_lock(&f->lock);
    f->kicked = true;
    pthread_cond_signal(&f->wake);
    pthread_mutex_unlock(&f->lock);
}

uint64_t flusher_stop(struct flusher *f, unsigned timeout_ms)
{
    if (f->running) {
        pthread_mutex_lock(&f->lock);
        f->stopping = true;
        pthread_cond_signal(&f->wake);
        pthread_mutex_unlock(&f->lock);
        pthread_join(f->thread, NULL);
        f->running = false;
    }
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    unsigned pause = 100;
    while (!flush(f, false)) {
        if (monotime_ms_since(&start) >= timeout_ms)
            break;
        struct timespec ts = {.tv_sec = pause / 1000, .tv_nsec = (long)(pause % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        pause = pause * 2 < 2000 ? pause * 2 : 2000;
    }
    /* Whatever is still pending could not be written. */
    struct batch *b = &f->batch;
    take(f);
    uint64_t lost = store_deltas_hits(b->d, b->n);
    for (size_t i = 0; i < b->nops; i++) {
        log_error("store: the %s of %s could NOT be written", b->ops[i].op->del ? "delete" : "set",
                  b->keys.data + b->ops[i].key_off);
        free(b->ops[i].op);
    }
    pthread_mutex_lock(&f->lock);
    f->stats.ops_lost += b->nops;
    pthread_mutex_unlock(&f->lock);
    b->nops = 0;
    return lost;
}

bool flusher_health(struct flusher *f, char *msg, size_t n)
{
    pthread_mutex_lock(&f->lock);
    bool ok = f->healthy;
    if (!ok && n)
        snprintf(msg, n, "%s", f->last_error);
    pthread_mutex_unlock(&f->lock);
    return ok;
}

void flusher_get_stats(struct flusher *f, struct flusher_stats *out)
{
    pthread_mutex_lock(&f->lock);
    *out = f->stats;
    pthread_mutex_unlock(&f->lock);
}
