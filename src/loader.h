/*
 * loader: reads repos' figures from a shared store into a frontend's cache
 * (issue 8, shared/design/redis.md section 3.2).
 *
 * A frontend of Redis holds a bounded cache of repos (counter.h). A badge
 * of a repo the cache does not hold, or holds from longer ago than
 * --max-age, must not show a number that misses what other frontends
 * wrote: its request asks the loader for the repo and waits, suspended, for
 * the loader to be done with it (http.c), then answers from the cache.
 *
 * The loader thread has a store connection of its own, so a slow flush
 * never delays a load. It gathers what was asked while it worked and reads
 * it in one pipeline (at most LOADER_BATCH repos). Requests are numbered;
 * once a batch is read (or failed) every request up to its last number is
 * done. While the store fails, a request is done at once, as failed: a
 * badge then shows what the cache knows, or "?".
 */
#ifndef GHIT_LOADER_H
#define GHIT_LOADER_H

#include <stdint.h>

#include "counter.h"
#include "notify.h"
#include "store.h"

/* Repos read in one round trip at most. */
#define LOADER_BATCH 1000

struct loader;

/*
 * A loader of store (opened for it alone, e.g. store_redis_open_loader;
 * the loader closes it) into table, holding at most max_queued requests.
 */
struct loader *loader_new(struct counter_table *table, struct store *store, size_t max_queued);

/*
 * Sets the callback for requests done (http.c resumes their connections),
 * told from the loader thread the number of the last request done. Safe at
 * any time (notify.h says when the old fn is done with).
 */
void loader_on_done(struct loader *l, notify_fn *fn, void *arg);

/* Starts the loader thread; 0, or -1 with errno set. */
int loader_start(struct loader *l);

/*
 * Asks for key's figures; returns the request's number, which is done once
 * loader_done() reaches it; 0 if the queue is full or the store is known to
 * be failing (do not wait).
 */
uint64_t loader_request(struct loader *l, const char *key);

/*
 * Whether the store failed a read lately (requests are not queued until
 * the pause after it is over): a repo the cache does not hold cannot be
 * looked up now.
 */
bool loader_failing(struct loader *l);

/*
 * The store answers again (the flusher wrote to it): ends the pause after a
 * failed read, and the follower's, now rather than when they run out.
 * Safe from any thread.
 */
void loader_store_answers(struct loader *l);

/* The number of the last request done. */
uint64_t loader_done(struct loader *l);

/*
 * Also follows feed's changes (a store of its own, which l closes), those
 * not written under the id own points to: what another writer changed is
 * not current any more in the cache (counter_invalidate). Before
 * loader_start().
 */
void loader_follow(struct loader *l, struct store *feed, const char *own);

/*
 * Waits at most timeout_ms until the follower has its place in the feed
 * (figures read after it are current); false if it has not.
 */
bool loader_following(struct loader *l, unsigned timeout_ms);

/*
 * Whether the follower is caught up now: a repo whose figures are current
 * (counter_view.current) needs no read, whatever their age.
 */
bool loader_current(struct loader *l);

/*
 * Also fills the cache once, at start, with every repo of the store (read
 * with scan, on store, which l closes), in a thread of its own once the
 * follower has its place, so that the figures are current. For a store
 * that holds no more repos than the cache. Before loader_start().
 */
void loader_warm(struct loader *l, struct store *store);

/* Stops the thread (requests still queued are done, as failed) and frees l. */
void loader_free(struct loader *l);

#endif
