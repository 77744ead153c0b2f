/*
 * counter: a sharded hash table of repo counters (see counter.h).
 *
 * Each shard is an open-addressing table (linear probing, power-of-two
 * size, at most 70 % full) of pointers to entries; an entry never moves
 * once made. Entries with pending hits are listed in their shard's dirty
 * array, so a flush visits only what changed, not every repo.
 *
 * A table of the embedded store holds every repo and frees entries only
 * with the table. A cache (counter_make_cache, for a shared store) also
 * frees clean entries, those without pending hits or op, when it holds
 * more than its size: a clock hand per shard passes over the slots, and an
 * entry used since the hand last passed gets one more round (CLOCK, an
 * approximation of least recently used). Deletion shifts the entries after
 * it back (no tombstones), so probe sequences stay short.
 */
#include "counter.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "alloc.h"
#include "count.h"
#include "monotime.h"
#include "siphash.h"

#define NSHARDS    64  /* a power of two; many more than threads, so two hits rarely meet */
#define NSTAMPS    256 /* groups of keys a shard keeps a stamp for; a power of two */
#define TAKE_AHEAD 8   /* entries counter_take() fetches ahead of the one at hand */

/*
 * Packed (12 bytes, not 16), as is the union that holds one in the entry:
 * the entry is most of ghit's memory a repo (see struct entry).
 */
struct pending {
    day_t day;
    uint64_t hits;
} __attribute__((packed));

struct entry {
    uint64_t hash;
    uint64_t total;
    uint64_t today;
    uint64_t last_take; /* the counter_take() that last took pending hits of it */
    day_t today_day;
    day_t first_day;
    /*
     * Pending hits per day. Nearly always one day: inline, which saves a
     * repo a cache miss a hit and an allocation. Around midnight, or while
     * the store is down, more days go to an array (pend_cap > 0), which is
     * kept when emptied.
     */
    union {
        struct pending one;   /* pend_cap 0 */
        struct pending *many; /* pend_cap > 0 */
    } __attribute__((packed)) pend;
    uint32_t npend, pend_cap;
    uint32_t gen;      /* the generation its figures were read in; 0: none */
    int64_t loaded_ms; /* monotonic ms of the store's figures (counter_load); 0: never */
    /*
     * The event (counter_table.events) that last put its figures in doubt:
     * a change said elsewhere (counter_invalidate), or, when it was made,
     * the last of its group's (struct shard).
     */
    uint64_t last_event;
    struct counter_op *op; /* a pending set or delete, before every pending hit; or NULL */
    /* Bits, not bools: with the key right after them, an entry is 89 bytes and its key. */
    bool dirty : 1;   /* in its shard's dirty array */
    bool deleted : 1; /* by counter_delete(), or absent from the store: reads as unknown */
    bool used : 1;    /* read or hit since the clock hand passed (caches) */
    bool changed : 1; /* counter_invalidate() said so after its figures were last read */
    char key[];       /* NUL-terminated */
};

/*
 * An entry is allocated to the end of its key, not to sizeof (which pads
 * past the flags to a multiple of 8): with a key of 13 bytes, as in the
 * benchmark's, malloc's chunk is then 112 bytes, not 128.
 */
#define ENTRY_SIZE(len) (offsetof(struct entry, key) + (len) + 1)
_Static_assert(offsetof(struct entry, key) == 89, "struct entry has grown");

/* e's pending hits, npend of them. */
static inline struct pending *pending(struct entry *e)
{
    return e->pend_cap ? e->pend.many : &e->pend.one;
}

/* Frees e and what it owns. */
static void entry_free(struct entry *e)
{
    free(e->op);
    if (e->pend_cap)
        free(e->pend.many);
    free(e);
}

struct shard {
    pthread_mutex_t lock;
    struct entry **slots;
    size_t cap; /* a power of two */
    size_t used;
    /*
     * The entries with pending hits or an op, in the order they became so:
     * an array, not a list through the entries, so that counter_take() can
     * fetch the entries ahead of the one at hand (they miss the cache).
     */
    struct entry **dirty;
    size_t ndirty, dirty_cap;
    size_t hand;    /* caches: the clock hand's slot */
    uint64_t taken; /* the last counter_take() that took this shard */
    /*
     * Caches: per group of keys (hash bits), the event (counter_table.events)
     * that last freed an entry of the group, or said that a key of it not
     * held changed elsewhere. What such an entry knew is gone, so a read
     * begun before it cannot be trusted (counter_refresh).
     */
    uint64_t stamps[NSTAMPS];
} __attribute__((aligned(64))); /* cache lines of their own: no false sharing of locks */

struct counter_table {
    struct shard shards[NSHARDS];
    uint8_t hash_key[16];
    size_t max_repos;
    size_t cache_size; /* 0: not a cache */
    atomic_size_t nrepos;
    atomic_size_t nentries;   /* entries in memory, those reading as unknown included */
    _Atomic uint32_t gen;     /* caches: figures read in this generation are current */
    _Atomic uint64_t takes;   /* counter_take() calls begun */
    _Atomic uint64_t settled; /* the last take counter_settle() was told of */
    _Atomic uint64_t ops;     /* sets and deletes queued, for their ids */
    /* counter_invalidate() calls and entries freed; on a line apart from gen, which hits read */
    _Alignas(64) _Atomic uint64_t events;
};

struct counter_table *counter_new(size_t max_repos)
{
    struct counter_table *t = xzalloc_aligned(_Alignof(struct counter_table), sizeof *t);
    t->max_repos = max_repos;
    atomic_init(&t->nrepos, 0);
    atomic_init(&t->nentries, 0);
    atomic_init(&t->takes, 0);
    atomic_init(&t->settled, 0);
    atomic_init(&t->ops, 0);
    atomic_init(&t->events, 0);
    /* A secret hash key; should randomness fail the table still works, only guessably. */
    if (getrandom(t->hash_key, sizeof t->hash_key, 0) != (ssize_t)sizeof t->hash_key)
        memset(t->hash_key, 0x5a, sizeof t->hash_key);
    for (int i = 0; i < NSHARDS; i++) {
        struct shard *s = &t->shards[i];
        pthread_mutex_init(&s->lock, NULL);
        s->cap = 16;
        s->slots = xcalloc(s->cap, sizeof *s->slots);
    }
    return t;
}

void counter_free(struct counter_table *t)
{
    if (!t)
        return;
    for (int i = 0; i < NSHARDS; i++) {
        struct shard *s = &t->shards[i];
        for (size_t j = 0; j < s->cap; j++) {
            if (s->slots[j])
                entry_free(s->slots[j]);
        }
        free(s->slots);
        free(s->dirty);
        pthread_mutex_destroy(&s->lock);
    }
    free(t);
}

static struct shard *shard_of(struct counter_table *t, uint64_t h)
{
    /* The high bits pick the shard, the low bits the slot: independent. */
    return &t->shards[h >> 58];
}

/* The entry for key in s, or NULL. Called with s locked. */
static struct entry *find(struct shard *s, const char *key, uint64_t h)
{
    for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        struct entry *e = s->slots[i];
        if (!e)
            return NULL;
        if (e->hash == h && strcmp(e->key, key) == 0)
            return e;
    }
}

/* The stamp of h's group of keys in s (struct shard). Called with s locked. */
static uint64_t *stamp_of(struct shard *s, uint64_t h)
{
    return &s->stamps[(h >> 40) & (NSTAMPS - 1)];
}

/* Puts e in the first free slot of its probe sequence. Called with s locked. */
static void place(struct shard *s, struct entry *e)
{
    size_t i = e->hash & (s->cap - 1);
    while (s->slots[i])
        i = (i + 1) & (s->cap - 1);
    s->slots[i] = e;
}

/* Adds a fresh entry for key to s, growing the slots first if need be. Called with s locked. */
static struct entry *insert(struct shard *s, const char *key, uint64_t h)
{
    if ((s->used + 1) * 10 > s->cap * 7) {
        struct entry **old = s->slots;
        size_t old_cap = s->cap;
        s->cap *= 2;
        s->slots = xcalloc(s->cap, sizeof *s->slots);
        for (size_t i = 0; i < old_cap; i++)
            if (old[i])
                place(s, old[i]);
        free(old);
    }
    size_t len = strlen(key);
    struct entry *e = xcalloc(1, ENTRY_SIZE(len));
    e->hash = h;
    e->last_event = *stamp_of(s, h);
    memcpy(e->key, key, len + 1);
    place(s, e);
    s->used++;
    return e;
}

/* Frees the entry in slot i and shifts the entries after it back into place. Called with s locked.
 */
static void remove_slot(struct shard *s, size_t i)
{
    size_t mask = s->cap - 1;
    entry_free(s->slots[i]);
    for (size_t j = (i + 1) & mask; s->slots[j]; j = (j + 1) & mask) {
        /* An entry may fill the hole if its home slot is not cyclically within (i, j]. */
        size_t home = s->slots[j]->hash & mask;
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            s->slots[i] = s->slots[j];
            i = j;
        }
    }
    s->slots[i] = NULL;
    s->used--;
}

/*
 * e (deleted), or a new entry for key (hash h) if e is NULL, made live with
 * day as its first and current day; the caller has counted it among the
 * repos. Called with s locked.
 */
static struct entry *revive(struct counter_table *t, struct shard *s, struct entry *e,
                            const char *key, uint64_t h, day_t day)
{
    if (!e) {
        e = insert(s, key, h);
        atomic_fetch_add(&t->nentries, 1);
    }
    e->deleted = false;
    e->first_day = day;
    e->today_day = day;
    return e;
}

/*
 * e, or a new entry for key (hash h) if e is NULL, made live (not deleted)
 * and counted among the repos if it was not, with day as its first and
 * current day. The repo limit does not apply. Called with s locked.
 */
static struct entry *make_live(struct counter_table *t, struct shard *s, struct entry *e,
                               const char *key, uint64_t h, day_t day)
{
    if (e && !e->deleted)
        return e;
    atomic_fetch_add(&t->nrepos, 1);
    return revive(t, s, e, key, h, day);
}

/* Moves e's "today" to day if day is newer. */
static void roll(struct entry *e, day_t day)
{
    if (day > e->today_day) {
        e->today_day = day;
        e->today = 0;
    }
}

/* Puts e in its shard's dirty array, once. Called with s locked. */
static void mark_dirty(struct shard *s, struct entry *e)
{
    if (e->dirty)
        return;
    e->dirty = true;
    if (s->ndirty == s->dirty_cap) {
        s->dirty_cap = s->dirty_cap ? 2 * s->dirty_cap : 64;
        s->dirty = xrealloc(s->dirty, s->dirty_cap * sizeof *s->dirty);
    }
    s->dirty[s->ndirty++] = e;
}

/* Adds hits for day to e's pending hits and marks e dirty. Called with s locked. */
static void add_pending(struct shard *s, struct entry *e, day_t day, uint64_t hits)
{
    struct pending *p = pending(e);
    for (uint32_t i = 0; i < e->npend; i++) {
        if (p[i].day == day) {
            p[i].hits = count_add(p[i].hits, hits);
            return;
        }
    }
    uint32_t cap = e->pend_cap ? e->pend_cap : 1;
    if (e->npend == cap) {
        struct pending *many = xmalloc(2 * cap * sizeof *many);
        memcpy(many, p, e->npend * sizeof *many);
        if (e->pend_cap)
            free(e->pend.many);
        e->pend.many = p = many;
        e->pend_cap = 2 * cap;
    }
    p[e->npend++] = (struct pending){day, hits};
    mark_dirty(s, e);
}

/* Copies e's counts as seen on day into out. Called with e's shard locked. */
static void view_of(struct counter_table *t, const struct entry *e, day_t day,
                    struct counter_view *out)
{
    out->current = e->gen && e->gen == atomic_load(&t->gen);
    out->changed = e->changed;
    out->total = e->total;
    out->today = e->today_day == day ? e->today : 0;
    out->first_day = e->first_day;
    out->loaded_ms = e->loaded_ms;
}

/*
 * Locks the shard of key and returns key's entry, or NULL; the caller
 * unlocks *shard. *hash is key's hash, for an insert.
 */
static struct entry *lock_find(struct counter_table *t, const char *key, struct shard **shard,
                               uint64_t *hash)
{
    *hash = siphash(key, strlen(key), t->hash_key);
    *shard = shard_of(t, *hash);
    pthread_mutex_lock(&(*shard)->lock);
    return find(*shard, key, *hash);
}

/*
 * Counts n hits of e on day, today being the current day, as pending; the
 * counts stop at COUNT_MAX. Called with s locked.
 */
static void count_hits(struct shard *s, struct entry *e, day_t day, day_t today, uint64_t n)
{
    roll(e, today);
    e->total = count_add(e->total, n);
    if (day == e->today_day)
        e->today = count_add(e->today, n);
    if (day < e->first_day)
        e->first_day = day;
    add_pending(s, e, day, n);
}

/*
 * Whether a cache holds size + size/slack entries or more (see
 * counter_make_cache): past size + size/4 a new repo is refused, past
 * size + size/2 an entry for what a loader read.
 */
static bool cache_over(struct counter_table *t, size_t slack)
{
    return t->cache_size && atomic_load(&t->nentries) >= t->cache_size + t->cache_size / slack;
}

/*
 * Counts one hit for key; a new key is made only if create says so (else
 * COUNTER_UNKNOWN, or COUNTER_FULL if a cache could not take what a loader
 * would read of it).
 */
static enum counter_result hit(struct counter_table *t, const char *key, day_t day, bool create,
                               struct counter_view *out)
{
    uint64_t h;
    struct shard *s;
    struct entry *e = lock_find(t, key, &s, &h);
    if (!e || e->deleted) {
        /* A deleted repo counts again from nothing, as a new one, within the limits. */
        if (!create) {
            pthread_mutex_unlock(&s->lock);
            return !e && cache_over(t, 2) ? COUNTER_FULL : COUNTER_UNKNOWN;
        }
        /* A place among the repos is taken first, so that racing hits never pass the limit. */
        if (atomic_fetch_add(&t->nrepos, 1) >= t->max_repos && t->max_repos && !t->cache_size) {
            atomic_fetch_sub(&t->nrepos, 1);
            pthread_mutex_unlock(&s->lock);
            return COUNTER_FULL;
        }
        /* A cache refuses only when its clean entries cannot be freed fast enough. */
        if (!e && cache_over(t, 4)) {
            atomic_fetch_sub(&t->nrepos, 1);
            pthread_mutex_unlock(&s->lock);
            return COUNTER_FULL;
        }
        e = revive(t, s, e, key, h, day);
    }
    e->used = true;
    count_hits(s, e, day, day, 1);
    view_of(t, e, day, out);
    /*
     * Read under the shard lock, which each take holds while it takes the
     * shard's hits, one take after the other: this hit goes with the next.
     */
    out->take = s->taken + 1;
    pthread_mutex_unlock(&s->lock);
    return COUNTER_OK;
}

enum counter_result counter_hit(struct counter_table *t, const char *key, day_t day,
                                struct counter_view *out)
{
    return hit(t, key, day, true, out);
}

enum counter_result counter_hit_known(struct counter_table *t, const char *key, day_t day,
                                      struct counter_view *out)
{
    return hit(t, key, day, false, out);
}

bool counter_get(struct counter_table *t, const char *key, day_t day, struct counter_view *out)
{
    uint64_t h;
    struct shard *s;
    struct entry *e = lock_find(t, key, &s, &h);
    bool known = e && !e->deleted;
    if (known)
        view_of(t, e, day, out);
    out->loaded_ms = e ? e->loaded_ms : 0;
    out->current = e && e->gen && e->gen == atomic_load(&t->gen);
    out->changed = e && e->changed;
    if (e)
        e->used = true;
    pthread_mutex_unlock(&s->lock);
    return known;
}

/*
 * Sets e (or a new entry for key if NULL) to the store's figures plus the
 * hits pending here; returns the entry. Called with s locked.
 */
static struct entry *set_figures(struct counter_table *t, struct shard *s, struct entry *e,
                                 const char *key, uint64_t h, uint64_t total, day_t first_day,
                                 day_t day, uint64_t day_hits)
{
    e = make_live(t, s, e, key, h, day);
    e->loaded_ms = monotime_ms();
    /* What the store has, plus what this process holds and the store has not seen yet. */
    uint64_t pending_total = 0, pending_day = 0;
    const struct pending *p = pending(e);
    for (uint32_t i = 0; i < e->npend; i++) {
        pending_total = count_add(pending_total, p[i].hits);
        if (p[i].day == day)
            pending_day = count_add(pending_day, p[i].hits);
    }
    e->total = count_add(total, pending_total);
    if (first_day != COUNTER_NO_DAY)
        e->first_day = first_day;
    if (day >= e->today_day) {
        e->today_day = day;
        e->today = count_add(day_hits, pending_day);
    }
    return e;
}

/*
 * Whether what a read of key (entry e, or NULL if not held) that began at
 * since found may be out of date, and may not be current: something said
 * it changed elsewhere since; or key's entry was freed since, and with it
 * what the entry knew (a take settled, a change said); or a change was
 * said of key while none held it. Its group's stamp tells the last two (the
 * stamp its entry was made with, if one is held). Called with s locked,
 * before the figures go in.
 */
static bool changed_since(struct shard *s, const struct entry *e, uint64_t h,
                          const struct counter_mark *since)
{
    return (e ? e->last_event : *stamp_of(s, h)) > since->events;
}

/* counter_load(), and with since the figures' currency as counter_refresh() sets it. */
static void load(struct counter_table *t, const char *key, uint64_t total, day_t first_day,
                 day_t day, uint64_t day_hits, const struct counter_mark *since)
{
    uint64_t h;
    struct shard *s;
    struct entry *e = lock_find(t, key, &s, &h);
    if (e && e->op) {
        /* A set or delete not yet written: the store's figures are older than it. */
        pthread_mutex_unlock(&s->lock);
        return;
    }
    bool changed = since ? changed_since(s, e, h, since) : e && e->changed;
    uint32_t gen = since && !changed ? since->gen : 0;
    e = set_figures(t, s, e, key, h, total, first_day, day, day_hits);
    e->changed = changed;
    if (since)
        e->gen = gen;
    pthread_mutex_unlock(&s->lock);
}

void counter_load(struct counter_table *t, const char *key, uint64_t total, day_t first_day,
                  day_t day, uint64_t day_hits)
{
    load(t, key, total, first_day, day, day_hits, NULL);
}

void counter_load_written(struct counter_table *t, const char *key, uint64_t total, day_t first_day,
                          day_t day, uint64_t day_hits, const struct counter_mark *since)
{
    load(t, key, total, first_day, day, day_hits, since);
}

void counter_mark(struct counter_table *t, struct counter_mark *m)
{
    m->settled = atomic_load(&t->settled);
    m->gen = atomic_load(&t->gen);
    m->events = atomic_load(&t->events);
}

/* counter_refresh(), and counter_warm() if warm. */
static enum counter_refresh refresh(struct counter_table *t, const char *key,
                                    const struct counter_view *stored, day_t day,
                                    const struct counter_mark *since, bool warm)
{
    uint64_t h;
    struct shard *s;
    struct entry *e = lock_find(t, key, &s, &h);
    /*
     * A set or delete not yet written is newer than the store; hits of a
     * take not settled when the read began (taken before it or since) may
     * or may not be in what was read, and the flusher's write of them reads
     * the figures back anyway. A cache past its bound for reads takes no
     * new entry: with writes refused, no entry can be freed, and each read
     * of another repo would grow it.
     */
    if (e ? e->op || e->last_take > since->settled : cache_over(t, 2)) {
        pthread_mutex_unlock(&s->lock);
        return e ? COUNTER_SUPERSEDED : COUNTER_CACHE_FULL;
    }
    /*
     * Current only if not changed since the read began, in the same
     * generation. A request waits for the figures: they go in even so, so
     * that it is answered, but not as current, so that the next view reads
     * them again. A warm-up leaves them.
     */
    bool changed = changed_since(s, e, h, since);
    if (changed && warm) {
        pthread_mutex_unlock(&s->lock);
        return COUNTER_SUPERSEDED;
    }
    uint32_t gen = changed ? 0 : since->gen;
    if (stored) {
        e = set_figures(t, s, e, key, h, stored->total, stored->first_day, day, stored->today);
    } else if (e && !e->deleted) {
        /* Only this process's hits, none of them written yet. */
        e = set_figures(t, s, e, key, h, 0, e->first_day, day, 0);
    } else {
        /* Unknown to the store: kept as such, so the next hit need not ask again. */
        if (!e) {
            e = insert(s, key, h);
            atomic_fetch_add(&t->nentries, 1);
            e->deleted = true;
        }
        e->loaded_ms = monotime_ms();
    }
    e->gen = gen;
    e->changed = changed;
    e->used = true; /* a request waits to run again on it: not the sweep's first pick */
    pthread_mutex_unlock(&s->lock);
    return COUNTER_REFRESHED;
}

enum counter_refresh counter_refresh(struct counter_table *t, const char *key,
                                     const struct counter_view *stored, day_t day,
                                     const struct counter_mark *since)
{
    return refresh(t, key, stored, day, since, false);
}

enum counter_refresh counter_warm(struct counter_table *t, const char *key,
                                  const struct counter_view *stored, day_t day,
                                  const struct counter_mark *since)
{
    return refresh(t, key, stored, day, since, true);
}

void counter_invalidate(struct counter_table *t, const char *key)
{
    uint64_t h;
    struct shard *s;
    struct entry *e = lock_find(t, key, &s, &h);
    if (e) {
        e->gen = 0;
        e->changed = true;
        e->last_event = atomic_fetch_add(&t->events, 1) + 1;
    } else if (t->cache_size) {
        *stamp_of(s, h) = atomic_fetch_add(&t->events, 1) + 1; /* a read under way is out of date */
    }
    pthread_mutex_unlock(&s->lock);
}

void counter_invalidate_all(struct counter_table *t)
{
    atomic_fetch_add(&t->gen, 1);
}

uint64_t counter_last_take(struct counter_table *t)
{
    return atomic_load(&t->takes);
}

size_t counter_take(struct counter_table *t, counter_take_fn *fn, counter_take_op_fn *opfn,
                    void *arg)
{
    uint64_t take_no = atomic_fetch_add(&t->takes, 1) + 1;
    size_t n = 0;
    for (int i = 0; i < NSHARDS; i++) {
        struct shard *s = &t->shards[i];
        pthread_mutex_lock(&s->lock);
        size_t kept = 0; /* entries whose op stays (opfn NULL) */
        s->taken = take_no;
        for (size_t k = 0; k < s->ndirty; k++) {
            /*
             * Over a million repos nearly every entry misses the cache: ask
             * for those a few places ahead, their fields' line and their
             * key's, while this one is read.
             */
            if (k + TAKE_AHEAD < s->ndirty) {
                const struct entry *ahead = s->dirty[k + TAKE_AHEAD];
                __builtin_prefetch(ahead, 1);
                __builtin_prefetch(ahead->key);
            }
            struct entry *e = s->dirty[k];
            if (e->op && opfn) {
                opfn(arg, e->key, e->op);
                e->op = NULL;
            }
            const struct pending *p = pending(e);
            for (uint32_t j = 0; j < e->npend; j++) {
                fn(arg, e->key, p[j].day, p[j].hits);
                n++;
            }
            e->last_take = take_no;
            e->npend = 0;
            e->dirty = e->op != NULL;
            if (e->dirty)
                s->dirty[kept++] = e;
        }
        s->ndirty = kept;
        pthread_mutex_unlock(&s->lock);
    }
    return n;
}

void counter_settle(struct counter_table *t, uint64_t take_no)
{
    atomic_store(&t->settled, take_no);
}

void counter_restore(struct counter_table *t, const char *key, day_t day, uint64_t hits,
                     day_t today)
{
    uint64_t h;
    struct shard *s;
    struct entry *e = lock_find(t, key, &s, &h);
    e = make_live(t, s, e, key, h, day);
    count_hits(s, e, day, today, hits);
    pthread_mutex_unlock(&s->lock);
}

void counter_give_back(struct counter_table *t, const char *key, day_t day, uint64_t hits)
{
    uint64_t h;
    struct shard *s;
    struct entry *e = lock_find(t, key, &s, &h);
    /*
     * Taken hits belong to an entry: a cache frees only clean entries, and
     * only between a write and the next take. A pending op here came after
     * the take (the flusher takes, writes and gives back before it takes
     * again): it supersedes these hits.
     */
    if (e && !e->op)
        add_pending(s, e, day, hits);
    pthread_mutex_unlock(&s->lock);
}

void counter_give_back_op(struct counter_table *t, const char *key, struct counter_op *op)
{
    uint64_t h;
    struct shard *s;
    struct entry *e = lock_find(t, key, &s, &h);
    if (e && !e->op) {
        e->op = op;
        mark_dirty(s, e);
        op = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    free(op); /* superseded by a newer set or delete */
}

/*
 * Replaces e's pending op with op: the hits pending so far are superseded
 * (they were counted before the op, which sets the counts as a whole).
 * Called with s locked.
 */
static void queue_op(struct shard *s, struct entry *e, struct counter_op *op)
{
    free(e->op);
    e->op = op;
    e->npend = 0;
    mark_dirty(s, e);
}

void counter_set(struct counter_table *t, const char *key, uint64_t total, day_t first_day,
                 const struct counter_day *days, size_t n, day_t today, struct counter_view *out)
{
    struct counter_op *op = xcalloc(1, sizeof *op + n * sizeof op->days[0]);
    op->id = atomic_fetch_add(&t->ops, 1) + 1;
    op->total = total;
    op->ndays = n;
    if (n)
        memcpy(op->days, days, n * sizeof days[0]);
    uint64_t today_hits = 0;
    for (size_t i = 0; i < n; i++)
        if (days[i].day == today)
            today_hits = days[i].hits;
    uint64_t h;
    struct shard *s;
    struct entry *e = lock_find(t, key, &s, &h);
    e = make_live(t, s, e, key, h, today);
    if (first_day != COUNTER_NO_DAY)
        e->first_day = first_day;
    else if (n)
        e->first_day = days[0].day;
    op->first_day = e->first_day;
    e->total = total;
    e->today_day = today;
    e->today = today_hits;
    queue_op(s, e, op);
    view_of(t, e, today, out);
    pthread_mutex_unlock(&s->lock);
}

bool counter_delete(struct counter_table *t, const char *key)
{
    uint64_t h;
    struct shard *s;
    struct entry *e = lock_find(t, key, &s, &h);
    bool known = e && !e->deleted;
    if (known) {
        struct counter_op *op = xcalloc(1, sizeof *op);
        op->id = atomic_fetch_add(&t->ops, 1) + 1;
        op->del = true;
        e->deleted = true;
        e->total = 0;
        e->today = 0;
        atomic_fetch_sub(&t->nrepos, 1);
        queue_op(s, e, op);
    }
    pthread_mutex_unlock(&s->lock);
    return known;
}

size_t counter_size(struct counter_table *t)
{
    return atomic_load(&t->nrepos);
}

void counter_make_cache(struct counter_table *t, size_t size)
{
    t->cache_size = size;
}

/* Whether e may be freed: nothing of it is waiting to be written. */
static bool clean(const struct entry *e)
{
    return !e->dirty && !e->op && e->npend == 0;
}

size_t counter_evict(struct counter_table *t)
{
    size_t freed = 0;
    if (!t->cache_size || atomic_load(&t->nentries) <= t->cache_size)
        return 0;
    /* Down to 7/8 of the size, so that a sweep is not needed at every new repo. */
    size_t target = t->cache_size - t->cache_size / 8;
    for (int round = 0; round < 4 && atomic_load(&t->nentries) > target; round++) {
        for (int i = 0; i < NSHARDS; i++) {
            struct shard *s = &t->shards[i];
            pthread_mutex_lock(&s->lock);
            /*
             * Each shard gives its share, at most one turn of its hand per
             * round. The last round takes what is clean wherever it is, in
             * two turns (the first clears the used marks): while the store
             * is down most entries hold hits, and the few clean ones may
             * all be in shards under their share.
             */
            size_t want = s->used > target / NSHARDS ? s->used - target / NSHARDS : 0, turns = 1;
            if (round == 3) {
                size_t n = atomic_load(&t->nentries);
                want = n > target ? n - target : 0;
                turns = 2;
            }
            /*
             * One event for all the pass frees: the shard is locked
             * throughout, and what the entries knew came before it (the
             * flusher settles its take first), so a read that begins
             * after the event's number was drawn misses nothing of them.
             */
            uint64_t event = 0;
            /* Turns of the hand: a slot freed keeps it in place, and does not count. */
            for (size_t moves = 0; want && moves < turns * s->cap;) {
                size_t j = s->hand;
                struct entry *e = s->slots[j];
                if (e && clean(e) && !e->used) {
                    if (!e->deleted)
                        atomic_fetch_sub(&t->nrepos, 1);
                    if (!event)
                        event = atomic_fetch_add(&t->events, 1) + 1;
                    *stamp_of(s, e->hash) = event;
                    remove_slot(s, j); /* a later entry may move into j: look at it next */
                    atomic_fetch_sub(&t->nentries, 1);
                    freed++;
                    want--;
                    continue;
                }
                if (e)
                    e->used = false;
                s->hand = (j + 1) & (s->cap - 1);
                moves++;
            }
            pthread_mutex_unlock(&s->lock);
        }
    }
    return freed;
}
