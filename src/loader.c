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

/* The follower: how long one read of the feed waits for a change, and its slack. */
#define FEED_WAIT_MS  500
#define FEED_SLACK_MS 250

/* Repos a warm-up reads a second time at most (their names: a few MB). */
#define WARM_AGAIN_MAX 100000

#define CHANGES_HELP                                                                               \
    "Repos of the cache that another frontend changed in the shared store (read again at their "   \
    "next badge), and times the whole cache was: the feed of changes was missed."

#define LOADS_HELP                                                                                 \
    "Repos read from the shared store into the cache, by outcome: found, absent (the store has "   \
    "none), superseded (read while this frontend's hits of it were being written: the write's "    \
    "read-back gives its figures), cache_full (not kept: the cache held --cache-repos and a half " \
    "entries, which the flusher frees down at its next interval unless they hold hits), failed "   \
    "(the store did not answer; the badge showed what the cache knew)."

struct loader {
    struct counter_table *table;
    struct store *store;
    size_t max_queued;
    pthread_t thread;
    bool running;
    struct notify dones; /* told of each batch of requests done (loader_on_done) */
    _Atomic uint64_t done;
    _Atomic int64_t failing_until_ms; /* monotonic ms; requests before it are not queued */
    unsigned pause_ms;                /* the thread's: the next failure's pause */

    /* The follower of the store's changes (loader_follow). */
    struct store *feed;
    const char *own; /* the writer id of this process's changes */
    pthread_t follower;
    struct store *warm; /* loader_warm(); the warmer closes it */
    pthread_t warmer;
    _Atomic int64_t current_until_ms; /* monotonic ms; caught up with the feed until then */
    atomic_bool placed;               /* the follower has its place in the feed */

    pthread_mutex_t lock; /* guards what follows */
    pthread_cond_t wake;  /* the loader thread's: a request, or stop */
    pthread_cond_t halt;  /* the follower's pauses: stop, or the store answers (monotonic clock) */
    struct buf queue;     /* keys, each NUL-terminated */
    size_t nqueued;
    uint64_t last;     /* the number of the last request queued */
    uint64_t answered; /* loader_store_answers() calls: a pause ends at the next */
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
    notify_init(&l->dones);
    pthread_cond_init(&l->wake, NULL);
    monotime_cond_init(&l->halt);
    return l;
}

void loader_on_done(struct loader *l, notify_fn *fn, void *arg)
{
    notify_set(&l->dones, fn, arg);
}

uint64_t loader_request(struct loader *l, const char *key)
{
    if (loader_failing(l))
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

bool loader_failing(struct loader *l)
{
    return monotime_ms() < atomic_load(&l->failing_until_ms);
}

void loader_store_answers(struct loader *l)
{
    atomic_store(&l->failing_until_ms, 0);
    pthread_mutex_lock(&l->lock);
    l->answered++;
    pthread_cond_broadcast(&l->halt);
    pthread_mutex_unlock(&l->lock);
}

uint64_t loader_done(struct loader *l)
{
    return atomic_load(&l->done);
}

/* The pause after one more failure: twice the last one, up to FAIL_PAUSE_MAX_MS. */
static unsigned next_pause(unsigned ms)
{
    return ms * 2 < FAIL_PAUSE_MAX_MS ? ms * 2 : FAIL_PAUSE_MAX_MS;
}

/* What one batch's figures go into. */
struct fill {
    struct counter_table *table;
    day_t day;
    struct counter_mark since;
    uint64_t found, absent, superseded, full;
};

/* The figures of a store's row, as counter_refresh() takes them. */
static struct counter_view stored_of(const struct store_row *row)
{
    return (struct counter_view){
        .total = row->total, .today = row->day_hits, .first_day = row->first_day};
}

/* Points keys[0 .. n-1] at the n NUL-terminated names, one after the other, at names. */
static void split_names(const char *names, size_t n, const char **keys)
{
    for (size_t i = 0; i < n; i++, names += strlen(names) + 1)
        keys[i] = names;
}

/* The keys of the batch that begins at i of n. */
static size_t batch_len(size_t n, size_t i)
{
    return n - i < LOADER_BATCH ? n - i : LOADER_BATCH;
}

/* store load callback: one repo's figures into the cache. */
static void fill_one(void *arg, const char *key, const struct store_row *row)
{
    struct fill *f = arg;
    struct counter_view stored = row ? stored_of(row) : (struct counter_view){0};
    enum counter_refresh r =
        counter_refresh(f->table, key, row ? &stored : NULL, f->day, &f->since);
    if (r == COUNTER_SUPERSEDED)
        f->superseded++;
    else if (r == COUNTER_CACHE_FULL)
        f->full++;
    else if (row)
        f->found++;
    else
        f->absent++;
}

/* Reads the n keys at keys in batches; false once the store fails (the rest is not read). */
static bool read_all(struct loader *l, const char **keys, size_t n)
{
    for (size_t i = 0; i < n; i += LOADER_BATCH) {
        size_t m = batch_len(n, i);
        struct fill f = {.table = l->table, .day = day_from_time(time(NULL))};
        counter_mark(l->table, &f.since);
        char err[256] = "";
        enum store_result r =
            l->store->ops->load(l->store, keys + i, m, f.day, fill_one, &f, err, sizeof err);
        METRICS_ADD("ghit_loads_total", LOADS_HELP, "outcome=\"found\"", f.found);
        METRICS_ADD("ghit_loads_total", LOADS_HELP, "outcome=\"absent\"", f.absent);
        METRICS_ADD("ghit_loads_total", LOADS_HELP, "outcome=\"superseded\"", f.superseded);
        METRICS_ADD("ghit_loads_total", LOADS_HELP, "outcome=\"cache_full\"", f.full);
        if (r != STORE_OK) {
            METRICS_ADD("ghit_loads_total", LOADS_HELP, "outcome=\"failed\"",
                        n - i - f.found - f.absent - f.superseded - f.full);
            if (l->pause_ms == FAIL_PAUSE_MS)
                log_warn("loader: %s; badges of repos not in the cache show \"?\" until it "
                         "answers",
                         err);
            atomic_store(&l->failing_until_ms, monotime_ms() + l->pause_ms);
            l->pause_ms = next_pause(l->pause_ms);
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
    pthread_setname_np(pthread_self(), "ghit-loader");
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
        split_names(mine.data, n, keys);
        if (!stop && n)
            read_all(l, keys, n);
        buf_reset(&mine);
        atomic_store(&l->done, last);
        if (n)
            notify_call(&l->dones, last);
        if (stop)
            break;
    }
    free(keys);
    buf_fini(&mine);
    return NULL;
}

void loader_follow(struct loader *l, struct store *feed, const char *own)
{
    l->feed = feed;
    l->own = own;
}

/* store change callback: a repo another writer changed is not current here any more. */
static void changed(void *arg, const char *key)
{
    struct loader *l = arg;
    counter_invalidate(l->table, key);
    METRICS_INC("ghit_cache_changes_total", CHANGES_HELP, "what=\"repo\"");
}

/*
 * Whether the loader is stopping; sleeps up to ms first (woken by
 * loader_free, or early by loader_store_answers).
 */
static bool pause_unless_stopping(struct loader *l, unsigned ms)
{
    struct timespec until = monotime_deadline(ms);
    pthread_mutex_lock(&l->lock);
    uint64_t answered = l->answered;
    while (!l->stopping && l->answered == answered &&
           pthread_cond_timedwait(&l->halt, &l->lock, &until) != ETIMEDOUT)
        ;
    bool stop = l->stopping;
    pthread_mutex_unlock(&l->lock);
    return stop;
}

/*
 * The follower thread: reads the feed of changes and invalidates what other
 * writers changed. Its first read takes its place in the feed and starts a
 * generation, so that figures read before it are not current; one that
 * finds changes gone (it fell behind, or the feed was cut) starts another.
 */
static void *follow(void *arg)
{
    struct loader *l = arg;
    pthread_setname_np(pthread_self(), "ghit-follower");
    char cursor[STORE_CURSOR_SIZE] = "";
    unsigned pause = FAIL_PAUSE_MS;
    bool failing = false;
    while (!pause_unless_stopping(l, 0)) {
        char err[256] = "";
        bool lost, behind;
        enum store_result r = l->feed->ops->changes(l->feed, cursor, FEED_WAIT_MS, l->own, changed,
                                                    l, &lost, &behind, err, sizeof err);
        if (r != STORE_OK) {
            atomic_store(&l->current_until_ms, 0);
            if (!failing)
                log_warn("loader: cannot follow the store's changes (%s): repos are read again "
                         "when older than --max-age",
                         err);
            failing = true;
            if (pause_unless_stopping(l, pause))
                break;
            pause = next_pause(pause);
            continue;
        }
        if (failing)
            log_info("loader: following the store's changes again");
        failing = false;
        pause = FAIL_PAUSE_MS;
        if (!atomic_load(&l->placed) || lost) {
            counter_invalidate_all(l->table);
            if (lost) {
                METRICS_INC("ghit_cache_changes_total", CHANGES_HELP, "what=\"all\"");
                log_warn("loader: changes of the store were missed: every repo is read again");
            }
            atomic_store(&l->placed, true);
        }
        atomic_store(&l->current_until_ms,
                     behind ? 0 : monotime_ms() + FEED_WAIT_MS + FEED_SLACK_MS);
    }
    store_close(l->feed);
    return NULL;
}

void loader_warm(struct loader *l, struct store *store)
{
    l->warm = store;
}

/* What the warmer's scan fills. */
struct warming {
    struct counter_table *table;
    struct counter_mark since;
    day_t day;
    struct buf again; /* repos to read again (counter_warm() left them), NUL-terminated */
    size_t nagain;
};

/* One repo's figures into the cache, as a load would. */
static enum counter_refresh warm_one(struct warming *w, const char *key,
                                     const struct store_row *row)
{
    struct counter_view stored = stored_of(row);
    return counter_warm(w->table, key, &stored, w->day, &w->since);
}

/*
 * store scan callback. The scan reads every repo under one mark: one that
 * changed or was freed since (the follower's changes, the flusher's sweeps)
 * is read again afterwards, up to WARM_AGAIN_MAX.
 */
static void warm_row(void *arg, const struct store_row *row)
{
    struct warming *w = arg;
    if (warm_one(w, row->key, row) == COUNTER_SUPERSEDED && w->nagain < WARM_AGAIN_MAX) {
        buf_append(&w->again, row->key, strlen(row->key) + 1);
        w->nagain++;
    }
}

/* store load callback: the second reading of a repo the scan's figures left out. */
static void warm_again_one(void *arg, const char *key, const struct store_row *row)
{
    if (row)
        warm_one(arg, key, row);
}

/* Reads the repos in w->again, a batch under a mark of its own. */
static void warm_again(struct loader *l, struct warming *w)
{
    const char **keys = xcalloc(w->nagain + 1, sizeof *keys);
    split_names(w->again.data, w->nagain, keys);
    for (size_t i = 0; i < w->nagain && !pause_unless_stopping(l, 0); i += LOADER_BATCH) {
        counter_mark(w->table, &w->since);
        char err[256] = "";
        if (l->warm->ops->load(l->warm, keys + i, batch_len(w->nagain, i), w->day, warm_again_one,
                               w, err, sizeof err) != STORE_OK)
            break; /* the rest are read when a badge asks */
    }
    free(keys);
}

/* The warmer thread: once the follower has its place, every repo of the store into the cache. */
static void *warm(void *arg)
{
    struct loader *l = arg;
    pthread_setname_np(pthread_self(), "ghit-warmer");
    if (loader_following(l, 5000)) {
        struct warming w = {.table = l->table, .day = day_from_time(time(NULL))};
        buf_init(&w.again);
        counter_mark(l->table, &w.since);
        int64_t t0 = monotime_ms();
        char err[256] = "";
        if (l->warm->ops->scan(l->warm, w.day, warm_row, &w, err, sizeof err) == STORE_OK) {
            warm_again(l, &w);
            log_info("loader: read %zu repos into the cache in %lld ms (%zu of them twice)",
                     counter_size(l->table), (long long)(monotime_ms() - t0), w.nagain);
        } else {
            log_warn("loader: the cache starts empty: %s", err);
        }
        buf_fini(&w.again);
    } else {
        log_warn("loader: the cache starts empty: the store's changes cannot be followed yet");
    }
    store_close(l->warm);
    return NULL;
}

bool loader_following(struct loader *l, unsigned timeout_ms)
{
    int64_t until = monotime_ms() + timeout_ms;
    while (l->feed && !atomic_load(&l->placed) && monotime_ms() < until)
        if (pause_unless_stopping(l, 10))
            break;
    return atomic_load(&l->placed);
}

bool loader_current(struct loader *l)
{
    return monotime_ms() < atomic_load(&l->current_until_ms);
}

/* Stops and joins the threads that started (a failed loader_start, or loader_free). */
static void stop_threads(struct loader *l, bool run_on, bool follower_on, bool warmer_on)
{
    pthread_mutex_lock(&l->lock);
    l->stopping = true;
    pthread_cond_signal(&l->wake);
    pthread_cond_signal(&l->halt);
    pthread_mutex_unlock(&l->lock);
    if (run_on)
        pthread_join(l->thread, NULL);
    if (follower_on)
        pthread_join(l->follower, NULL); /* it closes the feed's store */
    if (warmer_on)
        pthread_join(l->warmer, NULL); /* and this one the scan's */
}

int loader_start(struct loader *l)
{
    bool follower = l->feed != NULL, warmer = follower && l->warm;
    int rc = pthread_create(&l->thread, NULL, run, l);
    if (rc == 0 && follower && (rc = pthread_create(&l->follower, NULL, follow, l)) != 0) {
        stop_threads(l, true, false, false);
    } else if (rc == 0 && warmer && (rc = pthread_create(&l->warmer, NULL, warm, l)) != 0) {
        stop_threads(l, true, true, false);
        l->feed = NULL; /* closed by the follower */
    }
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
        stop_threads(l, true, l->feed != NULL, l->feed && l->warm);
    } else {
        store_close(l->feed);
        store_close(l->warm);
    }
    store_close(l->store);
    buf_fini(&l->queue);
    pthread_cond_destroy(&l->wake);
    pthread_cond_destroy(&l->halt);
    pthread_mutex_destroy(&l->lock);
    notify_fini(&l->dones);
    free(l);
}
