/*
 * counter: the in-memory counter table, shared by the HTTP threads.
 *
 * One entry per repo key holds what a badge shows (the total and the
 * current UTC day's count) and the hits not yet written to the store, kept
 * per day, since a flush may come after midnight. The HTTP threads count
 * with counter_hit(); the flusher moves the pending hits out with
 * counter_take() and, when the store refuses them, puts them back with
 * counter_give_back(), so a failed write loses nothing.
 *
 * Locking: the table is split into shards by a keyed hash of the key; each
 * shard has its own mutex and nothing else is shared on the hot path but
 * one atomic repo count. A call holds at most one shard lock, briefly, and
 * never does I/O under it. See doc/design.md.
 */
#ifndef GHIT_COUNTER_H
#define GHIT_COUNTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "day.h"

struct counter_table;

/* What a badge shows for one repo. */
struct counter_view {
    uint64_t total;  /* every hit ever, including pending ones */
    uint64_t today;  /* hits on the day asked about */
    day_t first_day; /* the day of its first hit */
    uint64_t take;   /* counter_hit(): the counter_take() that hands the hit over */
    /*
     * Monotonic ms when the store's figures were last read into it
     * (counter_load, counter_refresh); 0: never, so a cache's total is only
     * this process's hits. counter_get() fills it for a repo the store was
     * found not to have, too.
     */
    int64_t loaded_ms;
    /*
     * A cache: its figures were read in the current generation and nothing
     * has said since that the store changed them (counter_invalidate).
     */
    bool current;
    /*
     * A cache: counter_invalidate() said that the store changed it after its
     * figures were last read. Unlike !current, which a new generation makes
     * of every entry, this names the repo: its figures are known to be old.
     */
    bool changed;
};

enum counter_result {
    COUNTER_OK,
    COUNTER_FULL,    /* a new repo, and the table holds max_repos already (a cache: is full) */
    COUNTER_UNKNOWN, /* counter_hit_known(): a new repo, not made */
};

/* A table that accepts at most max_repos distinct keys (0: no limit). Free with counter_free(). */
struct counter_table *counter_new(size_t max_repos);
void counter_free(struct counter_table *t);

/*
 * Counts one hit for key (a valid repo key) on day, and fills *out with the
 * counts after it. A new key beyond the limit is refused with COUNTER_FULL
 * and nothing is counted.
 */
enum counter_result counter_hit(struct counter_table *t, const char *key, day_t day,
                                struct counter_view *out);

/*
 * Counts one hit for key like counter_hit(), but only if key is already in
 * the table: a new key is left alone and COUNTER_UNKNOWN returned, so the
 * caller can decide whether this client may create one; or COUNTER_FULL
 * if the table is a cache that would not keep what a loader read of key.
 */
enum counter_result counter_hit_known(struct counter_table *t, const char *key, day_t day,
                                      struct counter_view *out);

/* Fills *out with key's counts as seen on day, without counting; false if key is unknown. */
bool counter_get(struct counter_table *t, const char *key, day_t day, struct counter_view *out);

/*
 * Sets key's counts as the store has them (at start-up, or after a shared
 * store reported its newer figures): total and day_hits for day. Hits
 * pending in this process are added on top. Loading ignores the repo limit:
 * repos that exist keep counting. A first_day of COUNTER_NO_DAY keeps the
 * one known.
 */
void counter_load(struct counter_table *t, const char *key, uint64_t total, day_t first_day,
                  day_t day, uint64_t day_hits);

/* Hits of one repo on one day. */
struct counter_day {
    day_t day;
    uint64_t hits;
};

/*
 * A pending replacement of a repo's stored counts (issue 10): a set (the
 * repo's counts become total, first_day and days) or a delete (the repo and
 * its history go). It is written before the hits that came after it, in
 * the same store transaction.
 */
struct counter_op {
    uint64_t id; /* this table's number for the change, from 1: the same when given back */
    bool del;
    uint64_t total;
    day_t first_day;
    size_t ndays;
    struct counter_day days[]; /* sorted by day, no zero hits */
};

/* Receives one pending (key, day, hits) from counter_take(). */
typedef void counter_take_fn(void *arg, const char *key, day_t day, uint64_t hits);

/* Receives a pending set or delete from counter_take(); it now owns op (free() it). */
typedef void counter_take_op_fn(void *arg, const char *key, struct counter_op *op);

/*
 * Hands every pending set or delete to opfn, then every pending (key, day,
 * hits) to fn, and clears them; returns how many hits entries were handed
 * over. A repo's op always comes before its hits, which all came after it.
 * fn and opfn run under a shard lock: they must only copy. With opfn NULL,
 * sets and deletes stay pending (for tables that never see them).
 */
/*
 * Each counter_take() has a number, from 1: a hit is handed over by the take
 * numbered view.take (see counter_hit), exactly (takes are made one after
 * the other, by one thread; a Redis frontend's spool relies on it). A durable
 * server answers a hit once the take of that number, or a later one, is
 * written. counter_last_take() is the number of the latest take begun.
 */
uint64_t counter_last_take(struct counter_table *t);

size_t counter_take(struct counter_table *t, counter_take_fn *fn, counter_take_op_fn *opfn,
                    void *arg);

/*
 * The hits of take take_no and before are settled: in the store (with its
 * figures read back, counter_load, if the store reports them), or given
 * back. Until then a loader's read of a repo that take took may lack its
 * hits (counter_refresh). Called by the flusher alone, with numbers that
 * only grow.
 */
void counter_settle(struct counter_table *t, uint64_t take_no);

/*
 * Puts hits for key on day back as pending (after a failed store write).
 * Hits that a set or delete made since the take has superseded are dropped.
 * Give back hits before ops.
 */
void counter_give_back(struct counter_table *t, const char *key, day_t day, uint64_t hits);

/*
 * Counts hits for key on day at start-up, as pending, from what a crashed
 * process left (a Redis frontend's spool): like that many hits, without
 * the repo limit. today is the current UTC day.
 */
void counter_restore(struct counter_table *t, const char *key, day_t day, uint64_t hits,
                     day_t today);

/* Puts a taken op back as pending, or frees it if a newer set or delete superseded it. */
void counter_give_back_op(struct counter_table *t, const char *key, struct counter_op *op);

/* "No day given", for counter_set's first_day. */
#define COUNTER_NO_DAY ((day_t)-1)

/*
 * Sets key's counts (issue 10): total, and the history in days (n entries,
 * sorted by day, no duplicates, no zero hits), today's count taken from it.
 * The first day is first_day if given, else the earliest of days, else the
 * repo's current first day if it exists, else today. Pending hits are
 * superseded; the change is queued for the store as an op. The repo limit
 * does not apply: the operator asked for it. Fills *out.
 */
void counter_set(struct counter_table *t, const char *key, uint64_t total, day_t first_day,
                 const struct counter_day *days, size_t n, day_t today, struct counter_view *out);

/*
 * Deletes key (issue 10): it reads as unknown, its pending hits are
 * dropped, and the store deletes it and its history. False if key is
 * unknown.
 */
bool counter_delete(struct counter_table *t, const char *key);

/* The number of distinct repos in the table. */
size_t counter_size(struct counter_table *t);

/*
 * --- A cache of a shared store (Redis, issue 8) ---
 *
 * A frontend of a shared store cannot hold every repo: its table is a
 * cache of about size repos. Entries start unknown (loaded_ms 0) and get
 * the store's figures from a loader (counter_refresh) or from the
 * flusher's read-back (counter_load). --max-repos does not apply. The
 * flusher frees clean entries after each write (counter_evict); between,
 * the table may pass size. A new repo is refused (COUNTER_FULL) when size
 * + size/4 entries are held, and a loader's read of a repo the table does
 * not hold is not kept when size + size/2 are (counter_refresh() says
 * COUNTER_CACHE_FULL; counter_hit_known() then says COUNTER_FULL at once):
 * both happen only when reads come faster than the flusher frees (at each
 * flush interval), or when most entries have hits the store has not taken
 * (it refuses writes but answers reads).
 */
void counter_make_cache(struct counter_table *t, size_t size);

/* Where a cache stood when a read of the store began: see counter_refresh(). */
struct counter_mark {
    uint64_t settled, events;
    uint32_t gen;
};

/* Fills *m with where t stands now; take before the read begins. */
void counter_mark(struct counter_table *t, struct counter_mark *m);

/*
 * A loader read key's figures from the store: stored (total, today = hits
 * on day, first_day), or NULL if the store does not have key; the read
 * began at since. Applied like counter_load() unless a set or delete is
 * pending, or a take not settled when the read began took hits of key
 * (what was read may or may not hold them; the flusher's read-back after
 * writing them is right either way). The figures are current (counter_view.current) if read in
 * the generation that is still current and not invalidated since, and if
 * no entry of key was freed, nor a change of key said while none held it,
 * since the read began (key's group of keys, to be exact). Says whether
 * they were applied, or why not.
 */
enum counter_refresh {
    COUNTER_REFRESHED,
    COUNTER_SUPERSEDED, /* a set, delete or take of key came in the way (counter_warm(): or
                           the figures could not be current): not applied */
    COUNTER_CACHE_FULL, /* key not held, and the cache is past its bound for reads */
};
enum counter_refresh counter_refresh(struct counter_table *t, const char *key,
                                     const struct counter_view *stored, day_t day,
                                     const struct counter_mark *since);

/*
 * counter_refresh() for a warm-up, which reads every repo under one mark:
 * figures that could not go in as current are left out, since no request
 * waits for them and a view reads the repo when it needs it.
 */
enum counter_refresh counter_warm(struct counter_table *t, const char *key,
                                  const struct counter_view *stored, day_t day,
                                  const struct counter_mark *since);

/*
 * counter_load() of the figures a shared store read back after a write of
 * this process's hits (the flusher's): they hold every hit the write took,
 * so they are current, as a loader's read is (counter_refresh), if read in
 * the generation still current and key was not invalidated since since, a
 * counter_mark() taken before the write.
 */
void counter_load_written(struct counter_table *t, const char *key, uint64_t total, day_t first_day,
                          day_t day, uint64_t day_hits, const struct counter_mark *since);

/*
 * Another process changed key in the store: what the cache holds of it is
 * not current any more (it is still shown while the store cannot be read),
 * nor, if it holds none, what a read of key under way finds.
 */
void counter_invalidate(struct counter_table *t, const char *key);

/*
 * Starts a new generation: nothing read before is current. For a reader of
 * the store's changes that starts, or may have missed some.
 */
void counter_invalidate_all(struct counter_table *t);

/*
 * Frees clean entries (no pending hits or op), least recently used first,
 * until the cache holds 7/8 of its size; returns how many. Call from the
 * thread that gives hits back (the flusher), between a write and the next
 * take. Does nothing for a table that is not a cache.
 */
size_t counter_evict(struct counter_table *t);

#endif
