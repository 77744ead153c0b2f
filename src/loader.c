/*
 * loader: the cache's loader thread (see loader.h).
 *
 * Requests are keys appended to one buffer under the lock; the thread
 * swaps the buffer for an empty one and reads what it took in batches, so
 * requests made meanwhile make the next round trip. The figures go into
 * the table with counter_refresh(), which refuses them for a repo whose
 * hits the flusher took after the read began: the flusher's read-back of
 * those is the right figure.
 */
#include "loader.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "buf.h"
#include "log.h"
#include "metrics.h"
#include "monotime.h"

/* After a failed read, requests are done at once for this long, doubling to the max. */
#define FAIL_PAUSE_MS     250
#define FAIL_PAUSE_MAX_MS 4000

#define LOADS_HELP                                                                                 \
    "Repos read from the shared store into the cache, by outcome: found, absent (the store has "   \
    "none), failed (the store did not answer; the badge showed what the cache knew)."

struct loader {
    struct counter_table *table;
    struct store *store;
    size_t max_queued;
    pthread_t thread;
    bool running;
    loader_done_fn *on_done;
    void *done_arg;
    _Atomic uint64_t done;
    _Atomic int64_t failing_until_ms; /* monotonic ms; requests before it are not queued */
    unsigned pause_ms;                /* the thread's: the next failure's pause */

    pthread_mutex_t lock; /* guards what follows */
    pthread_cond_t wake;
    struct buf queue; /* keys, each NUL-terminated */
    size_t nqueued;
    uint64_t last; /* the number of the last request queued */
    bool stopping;
};

struct loader *loader_new(struct counter_table *table, struct store *store, size_t max_queued)
{
    struct loader *l = xcalloc(1, sizeof *l);
    l->table = table;
    l->store = store;
    l->max_queued = max_queued;
    l->pause_ms = FAIL_PAUSE_MS;
    buf_init(&l->queue);
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->wake, NULL);
    return l;
}

void loader_on_done(struct loader *l, loader_done_fn *fn, void *arg)
{
    l->on_done = fn;
    l->done_arg = arg;
}

uint64_t loader_request(struct loader *l, const char *key)
{
    if (monotime_ms() < atomic_load(&l->failing_until_ms))
        return 0;
    uint64_t n = 0;
    pthread_mutex_lock(&l->lock);
    if (!l->stopping && l->nqueued < l->max_queued) {
        buf_append(&l->queue, key, strlen(key) + 1);
        l->nqueued++;
        n = ++l->last;
        pthread_cond_signal(&l->wake);
    }
    pthread_mutex_unlock(&l->lock);
    return n;
}

uint64_t loader_done(struct loader *l)
{
    return atomic_load(&l->done);
}

/* What one batch's figures go into. */
struct fill {
    struct counter_table *table;
    day_t day;
    uint64_t since_take;
    uint64_t found, absent;
};

/* store load callback: one repo's figures into the cache. */
static void fill_one(void *arg, const char *key, const struct store_row *row)
{
    struct fill *f = arg;
    if (!row) {
        f->absent++;
        counter_refresh(f->table, key, NULL, f->day, f->since_take);
        return;
    }
    f->found++;
    struct counter_view stored = {
        .total = row->total, .today = row->day_hits, .first_day = row->first_day};
    counter_refresh(f->table, key, &stored, f->day, f->since_take);
}

/* Reads the n keys at keys in batches; false once the store fails (the rest is not read). */
static bool read_all(struct loader *l, const char **keys, size_t n)
{
    for (size_t i = 0; i < n; i += LOADER_BATCH) {
        size_t m = n - i < LOADER_BATCH ? n - i : LOADER_BATCH;
        struct fill f = {.table = l->table,
                         .day = day_from_time(time(NULL)),
                         .since_take = counter_last_take(l->table)};
        char err[256] = "";
        enum store_result r =
            l->store->ops->load(l->store, keys + i, m, f.day, fill_one, &f, err, sizeof err);
        METRICS_ADD("ghit_loads_total", LOADS_HELP, "outcome=\"found\"", f.found);
        METRICS_ADD("ghit_loads_total", LOADS_HELP, "outcome=\"absent\"", f.absent);
        if (r != STORE_OK) {
            METRICS_ADD("ghit_loads_total", LOADS_HELP, "outcome=\"failed\"",
                        n - i - f.found - f.absent);
            if (l->pause_ms == FAIL_PAUSE_MS)
                log_warn("loader: %s; badges of repos not in the cache show \"?\" until it "
                         "answers",
                         err);
            atomic_store(&l->failing_until_ms, monotime_ms() + l->pause_ms);
            l->pause_ms = l->pause_ms * 2 < FAIL_PAUSE_MAX_MS ? l->pause_ms * 2 : FAIL_PAUSE_MAX_MS;
            return false;
        }
    }
    if (l->pause_ms != FAIL_PAUSE_MS)
        log_info("loader: the store answers again");
    l->pause_ms = FAIL_PAUSE_MS;
    return true;
}

/* The loader thread: take what was asked, read it, say it is done. */
static void *run(void *arg)
{
    struct loader *l = arg;
    struct buf mine;
    buf_init(&mine);
    const char **keys = NULL;
    size_t keys_cap = 0;
    for (;;) {
        pthread_mutex_lock(&l->lock);
        while (!l->stopping && l->nqueued == 0)
            pthread_cond_wait(&l->wake, &l->lock);
        bool stop = l->stopping;
        struct buf taken = l->queue;
        l->queue = mine;
        size_t n = l->nqueued;
        uint64_t last = l->last;
        l->nqueued = 0;
        pthread_mutex_unlock(&l->lock);
        mine = taken;
        if (n > keys_cap) {
            keys_cap = n > 2 * keys_cap ? n : 2 * keys_cap;
            keys = xrealloc(keys, keys_cap * sizeof *keys);
        }
        const char *p = mine.data;
        for (size_t i = 0; i < n; i++, p += strlen(p) + 1)
            keys[i] = p;
        if (!stop && n)
            read_all(l, keys, n);
        buf_reset(&mine);
        atomic_store(&l->done, last);
        if (l->on_done && n)
            l->on_done(l->done_arg, last);
        if (stop)
            break;
    }
    free(keys);
    buf_fini(&mine);
    return NULL;
}

int loader_start(struct loader *l)
{
    int rc = pthread_create(&l->thread, NULL, run, l);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    l->running = true;
    return 0;
}

void loader_free(struct loader *l)
{
    if (!l)
        return;
    if (l->running) {
        pthread_mutex_lock(&l->lock);
        l->stopping = true;
        pthread_cond_signal(&l->wake);
        pthread_mutex_unlock(&l->lock);
        pthread_join(l->thread, NULL);
    }
    store_close(l->store);
    buf_fini(&l->queue);
    pthread_cond_destroy(&l->wake);
    pthread_mutex_destroy(&l->lock);
    free(l);
}
