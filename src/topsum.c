/*
 * topsum: a top list summed in passes of bounded size (see topsum.h).
 *
 * A pass is an open-addressing table (linear probing, at most 70 % full)
 * of 40-byte slots, with the names in one buffer beside it. The best rows
 * of the passes so far are a heap of at most limit rows, the worst on top,
 * with their own copies of the names; a pass's rows go through it when the
 * pass ends.
 */
#include "topsum.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "alloc.h"
#include "buf.h"
#include "count.h"
#include "siphash.h"

/* Past this many parts a pass holds what it finds: never a loop, whatever the names. */
#define MAX_PARTS 4096

struct slot {
    uint64_t hash;
    size_t off; /* of the name in names, plus one; 0: empty */
    day_t day;  /* the last day added */
    uint64_t hits, last;
};

struct best {
    char *key;
    uint64_t hits, last;
    bool owned; /* key is its own copy (a row kept from an earlier pass), not in names */
};

struct topsum {
    size_t bound, limit;
    uint8_t hash_key[16];
    unsigned part, parts, passes;
    bool full;
    struct slot *slots;
    size_t cap, n; /* cap: a power of two, or 0 */
    struct buf names;
    struct best *best; /* at most limit: a heap, the worst on top */
    size_t nbest, best_cap;
};

struct topsum *topsum_new(size_t bound, size_t limit)
{
    struct topsum *t = xcalloc(1, sizeof *t);
    t->bound = bound ? bound : 1;
    t->limit = limit;
    t->parts = 1;
    /* A secret key: names that all fall in one part cannot be made on purpose. */
    if (getrandom(t->hash_key, sizeof t->hash_key, 0) != (ssize_t)sizeof t->hash_key)
        memset(t->hash_key, 0x5a, sizeof t->hash_key);
    buf_init(&t->names);
    return t;
}

void topsum_expect(struct topsum *t, uint64_t repos)
{
    if (repos <= t->bound)
        return; /* one pass holds them exactly */
    /* Parts a fifth below the bound: the hash spreads names only about evenly. */
    while (t->parts < MAX_PARTS && repos / t->parts > t->bound - t->bound / 5)
        t->parts *= 2;
}

static void forget_best(struct topsum *t)
{
    for (size_t i = 0; i < t->nbest; i++)
        free(t->best[i].key);
    t->nbest = 0;
}

void topsum_free(struct topsum *t)
{
    if (!t)
        return;
    forget_best(t);
    free(t->best);
    free(t->slots);
    buf_fini(&t->names);
    free(t);
}

static uint64_t hash_of(const struct topsum *t, const char *key)
{
    return siphash(key, strlen(key), t->hash_key);
}

bool topsum_wants(const struct topsum *t, const char *key)
{
    /* The high bits pick the part, the low bits the slot: independent. */
    return t->parts == 1 || (hash_of(t, key) >> 32) % t->parts == t->part;
}

/* The slot of key (hash h): its own, or the empty one where it goes. */
static struct slot *slot_of(struct topsum *t, const char *key, uint64_t h)
{
    for (size_t i = h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        struct slot *s = &t->slots[i];
        if (!s->off || (s->hash == h && strcmp(t->names.data + s->off - 1, key) == 0))
            return s;
    }
}

static void grow(struct topsum *t)
{
    struct slot *old = t->slots;
    size_t old_cap = t->cap;
    t->cap = old_cap ? 2 * old_cap : 1024;
    t->slots = xcalloc(t->cap, sizeof *t->slots);
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i].off)
            continue;
        size_t j = old[i].hash & (t->cap - 1);
        while (t->slots[j].off)
            j = (j + 1) & (t->cap - 1);
        t->slots[j] = old[i];
    }
    free(old);
}

bool topsum_add(struct topsum *t, const char *key, day_t day, uint64_t hits, bool last)
{
    if (t->full)
        return false; /* the pass starts over: nothing more is added to it */
    if ((t->n + 1) * 10 > t->cap * 7)
        grow(t);
    uint64_t h = hash_of(t, key);
    struct slot *s = slot_of(t, key, h);
    if (!s->off) {
        *s = (struct slot){h, t->names.len + 1, day, 0, 0};
        buf_append(&t->names, key, strlen(key) + 1);
        t->n++;
    } else if (s->day == day) {
        return true; /* SSCAN gave it twice */
    }
    s->day = day;
    s->hits = count_add(s->hits, hits);
    if (last)
        s->last = count_add(s->last, hits);
    if (t->n > t->bound && t->parts < MAX_PARTS)
        t->full = true;
    return !t->full;
}

/* Most hits first, then by key. */
static int by_rank(const void *a, const void *b)
{
    const struct best *x = a, *y = b;
    if (x->hits != y->hits)
        return x->hits > y->hits ? -1 : 1;
    return strcmp(x->key, y->key);
}

/* The best rows are a heap with the worst on top: a row is never worse than its parent. */
static void swap(struct best *a, struct best *b)
{
    struct best x = *a;
    *a = *b;
    *b = x;
}

static void sift_up(struct best *h, size_t i)
{
    for (size_t p; i > 0 && by_rank(&h[i], &h[p = (i - 1) / 2]) > 0; i = p)
        swap(&h[i], &h[p]);
}

static void sift_down(struct best *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && by_rank(&h[l], &h[w]) > 0)
            w = l;
        if (r < n && by_rank(&h[r], &h[w]) > 0)
            w = r;
        if (w == i)
            return;
        swap(&h[i], &h[w]);
        i = w;
    }
}

/* Keeps the pass's best rows among the best so far (at most limit). */
static void keep_best(struct topsum *t)
{
    for (size_t i = 0; i < t->cap && t->limit; i++) {
        const struct slot *s = &t->slots[i];
        if (!s->off)
            continue;
        struct best b = {t->names.data + s->off - 1, s->hits, s->last, false};
        if (t->nbest < t->limit) {
            if (t->nbest == t->best_cap) {
                t->best_cap = t->best_cap ? 2 * t->best_cap : 16;
                t->best = xrealloc(t->best, t->best_cap * sizeof *t->best);
            }
            t->best[t->nbest++] = b;
            sift_up(t->best, t->nbest - 1);
        } else if (by_rank(&b, &t->best[0]) < 0) {
            if (t->best[0].owned)
                free(t->best[0].key);
            t->best[0] = b;
            sift_down(t->best, t->nbest, 0);
        }
    }
    /* The names of this pass are overwritten by the next: the rows kept get copies. */
    for (size_t i = 0; i < t->nbest; i++) {
        if (!t->best[i].owned) {
            t->best[i].key = xstrdup(t->best[i].key);
            t->best[i].owned = true;
        }
    }
}

bool topsum_next_pass(struct topsum *t)
{
    t->passes++;
    if (t->full) {
        forget_best(t);
        t->parts *= 2;
        t->part = 0;
    } else {
        keep_best(t);
        t->part++;
    }
    t->full = false;
    /* The next pass starts from empty, in a table the size of the last. */
    if (t->slots)
        memset(t->slots, 0, t->cap * sizeof *t->slots);
    t->n = 0;
    buf_reset(&t->names);
    return t->part < t->parts;
}

unsigned topsum_passes(const struct topsum *t)
{
    return t->passes;
}

unsigned topsum_parts(const struct topsum *t)
{
    return t->parts;
}

void topsum_rows(const struct topsum *t, store_top_fn *fn, void *arg)
{
    struct best *rows = xmalloc((t->nbest ? t->nbest : 1) * sizeof *rows);
    if (t->nbest)
        memcpy(rows, t->best, t->nbest * sizeof *rows);
    qsort(rows, t->nbest, sizeof *rows, by_rank);
    for (size_t i = 0; i < t->nbest; i++) {
        struct store_top_row row = {rows[i].key, rows[i].hits, rows[i].last};
        fn(arg, &row);
    }
    free(rows);
}
