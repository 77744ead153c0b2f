/*
 * fold: an open-addressing hash table (linear probing, power-of-two size,
 * at most 70 % full) of (repo, day) sums; see fold.h. A slot is 16 bytes:
 * 32 bits of the hash, where its entry is, and the sum. The entries (the
 * day, the name's length, the name and a NUL) live in one growing arena,
 * 4-byte aligned so that a 32-bit offset in 4-byte units reaches 16 GiB.
 * The arena may move while rows are added; fold_sorted() turns offsets
 * into pointers once adding is over. The merger folds up to MERGE_MAX_ROWS
 * journal rows at a time, up to a million distinct pairs: slots of 32
 * bytes, with the whole hash, the day and the length in them, held 16 MB
 * more for as many, against 4 bytes more an entry here.
 */
#include "fold.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "alloc.h"
#include "buf.h"
#include "count.h"
#include "siphash.h"

#define ENTRY_ALIGN 4

/* An entry's head in the arena; the name and a NUL follow it. */
struct entry {
    day_t day;
    uint32_t len;
};

struct slot {
    uint32_t tag; /* 0: free; else the hash's low 32 bits with the lowest one set */
    uint32_t at;  /* the entry's offset in the arena, in ENTRY_ALIGN units */
    uint64_t hits;
};

struct fold {
    struct slot *slots;
    size_t cap, count;
    struct buf names; /* the entries */
    struct store_delta *rows;
    uint8_t key[16]; /* secret: journal names come from clients, who must not choose collisions */
};

struct fold *fold_new(void)
{
    struct fold *f = xcalloc(1, sizeof *f);
    f->cap = 1024;
    f->slots = xcalloc(f->cap, sizeof *f->slots);
    buf_init(&f->names);
    if (getrandom(f->key, sizeof f->key, 0) != (ssize_t)sizeof f->key)
        memset(f->key, 0x3c, sizeof f->key);
    return f;
}

void fold_free(struct fold *f)
{
    if (!f)
        return;
    free(f->slots);
    free(f->rows);
    buf_fini(&f->names);
    free(f);
}

size_t fold_count(const struct fold *f)
{
    return f->count;
}

static const struct entry *entry_at(const struct fold *f, uint32_t at)
{
    return (const struct entry *)(const void *)(f->names.data + (size_t)at * ENTRY_ALIGN);
}

/* A tag's first slot: from the bits above the lowest, which is always set. */
static size_t home(uint32_t tag, size_t mask)
{
    return (tag >> 1) & mask;
}

/* The slot for (tag, repo, day): the one holding it, or the free one where it goes. */
static struct slot *find(struct fold *f, uint32_t tag, const char *repo, size_t len, day_t day)
{
    size_t mask = f->cap - 1;
    for (size_t i = home(tag, mask);; i = (i + 1) & mask) {
        struct slot *s = &f->slots[i];
        if (s->tag == 0)
            return s;
        if (s->tag != tag)
            continue;
        const struct entry *e = entry_at(f, s->at);
        if (e->day == day && e->len == len && memcmp(e + 1, repo, len) == 0)
            return s;
    }
}

static void grow(struct fold *f)
{
    struct slot *old = f->slots;
    size_t oldcap = f->cap;
    if (oldcap > UINT32_MAX / 2) {
        fprintf(stderr, "ghit: a fold of more than 2^31 journal rows\n");
        abort(); /* as running out of memory: 32 GiB of slots would go first */
    }
    f->cap *= 2;
    f->slots = xcalloc(f->cap, sizeof *f->slots);
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i].tag == 0)
            continue;
        size_t mask = f->cap - 1, j = home(old[i].tag, mask);
        while (f->slots[j].tag != 0)
            j = (j + 1) & mask;
        f->slots[j] = old[i];
    }
    free(old);
}

/* Appends the entry of (repo, day) to the arena; returns its offset in ENTRY_ALIGN units. */
static uint32_t add_entry(struct fold *f, const char *repo, size_t len, day_t day)
{
    size_t at = f->names.len / ENTRY_ALIGN;
    if (at > UINT32_MAX || len > UINT32_MAX) {
        fprintf(stderr, "ghit: a fold of more than 16 GiB of names\n");
        abort();
    }
    struct entry e = {.day = day, .len = (uint32_t)len};
    size_t size = (sizeof e + len + 1 + ENTRY_ALIGN - 1) / ENTRY_ALIGN * ENTRY_ALIGN;
    buf_reserve(&f->names, size);
    char *p = f->names.data + f->names.len;
    memset(p + sizeof e + len, 0, size - sizeof e - len);
    memcpy(p, &e, sizeof e);
    memcpy(p + sizeof e, repo, len);
    f->names.len += size;
    f->names.data[f->names.len] = '\0';
    return (uint32_t)at;
}

void fold_add(struct fold *f, const char *repo, size_t len, day_t day, uint64_t hits)
{
    uint32_t tag =
        (uint32_t)(siphash(repo, len, f->key) ^ (uint64_t)(uint32_t)day * 0x9e3779b97f4a7c15u) | 1;
    struct slot *s = find(f, tag, repo, len, day);
    if (s->tag == 0) {
        if (10 * (f->count + 1) > 7 * f->cap) {
            grow(f);
            s = find(f, tag, repo, len, day);
        }
        *s = (struct slot){.tag = tag, .at = add_entry(f, repo, len, day)};
        f->count++;
    }
    s->hits = count_add(s->hits, hits);
}

/*
 * A sum's place in the sort: the name's first 16 bytes as two big-endian
 * numbers (zeros past its end), so that most comparisons are of integers in
 * the array, not of names scattered over the arena. Sorting the 660,000
 * sums of a batch over a million repos took 740-880 ms with strcmp() alone
 * (doc/design.md).
 */
struct order {
    uint64_t hi, lo;
    const struct entry *e;
    uint64_t hits;
};

static uint64_t big_endian(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* A name's first 16 bytes, zeros past its len, as two big-endian numbers. */
static void prefix(const char *name, size_t len, uint64_t *hi, uint64_t *lo)
{
    unsigned char head[16] = {0};
    memcpy(head, name, len < sizeof head ? len : sizeof head);
    *hi = big_endian(head);
    *lo = big_endian(head + 8);
}

static const char *name_of(const struct entry *e)
{
    return (const char *)(e + 1);
}

static int by_order(const void *a, const void *b)
{
    const struct order *x = a, *y = b;
    if (x->hi != y->hi)
        return x->hi < y->hi ? -1 : 1;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    /* The same 16 bytes: memcmp() past them, then the shorter first. Lengths, not NULs,
     * end the names, so a NUL in one (a journal row ghit did not write) reads nothing
     * beyond it. */
    size_t lx = x->e->len, ly = y->e->len, n = lx < ly ? lx : ly;
    int c = n > 16 ? memcmp(name_of(x->e) + 16, name_of(y->e) + 16, n - 16) : 0;
    if (!c)
        c = (lx > ly) - (lx < ly);
    return c ? c : (x->e->day > y->e->day) - (x->e->day < y->e->day);
}

const struct store_delta *fold_sorted(struct fold *f, size_t *n)
{
    if (!f->rows) {
        struct order *o = xmalloc((f->count ? f->count : 1) * sizeof *o);
        size_t k = 0;
        for (size_t i = 0; i < f->cap; i++) {
            const struct slot *s = &f->slots[i];
            if (s->tag == 0)
                continue;
            const struct entry *e = entry_at(f, s->at);
            struct order *x = &o[k++];
            prefix(name_of(e), e->len, &x->hi, &x->lo);
            x->e = e;
            x->hits = s->hits;
        }
        /* Adding is over: the slots go before the sort takes its own memory. */
        free(f->slots);
        f->slots = NULL;
        f->cap = 0;
        qsort(o, k, sizeof *o, by_order);
        /*
         * The rows take the sort's memory, written over it from the front: a
         * row is smaller than a sum's place in the sort, so row i ends before
         * place i + 1 begins, and places are read before they are written.
         */
        _Static_assert(sizeof(struct store_delta) <= sizeof(struct order), "rows fit in place");
        f->rows = (struct store_delta *)(void *)o;
        for (size_t i = 0; i < k; i++) {
            struct order x;
            memcpy(&x, &o[i], sizeof x);
            struct store_delta row = {name_of(x.e), x.e->day, x.hits};
            memcpy(&f->rows[i], &row, sizeof row);
        }
        f->rows = xrealloc(f->rows, (k ? k : 1) * sizeof *f->rows);
    }
    *n = f->count;
    return f->rows;
}

const struct store_delta *fold_by_repo(struct fold *f, size_t *n)
{
    size_t k = 0;
    fold_sorted(f, &k);
    size_t nr = 0;
    for (size_t i = 0; i < k; i++) {
        if (nr && strcmp(f->rows[nr - 1].key, f->rows[i].key) == 0)
            f->rows[nr - 1].hits = count_add(f->rows[nr - 1].hits, f->rows[i].hits);
        else
            f->rows[nr++] = f->rows[i];
    }
    f->count = nr;
    *n = nr;
    return f->rows;
}

/* A delta's place in fold_order()'s sort: as struct order, for names that end at a NUL. */
struct delta_order {
    uint64_t hi, lo;
    const struct store_delta *d;
};

/*
 * Whether x goes before y: by name, then by day. The names' first 16 bytes
 * are compared inline; the rest only where those are the same.
 */
static inline bool delta_before(const struct delta_order *x, const struct delta_order *y)
{
    if (x->hi != y->hi)
        return x->hi < y->hi;
    if (x->lo != y->lo)
        return x->lo < y->lo;
    /* The same 16 bytes: if the 16th is a NUL both names ended there, else both go on. */
    int c = (x->lo & 0xff) ? strcmp(x->d->key + 16, y->d->key + 16) : 0;
    return c ? c < 0 : x->d->day < y->d->day;
}

#define SORT_RUN 16 /* what the sort's insertion sort takes before it merges */

/*
 * Sorts o[0..n) with room for as many in tmp: insertion sorts of SORT_RUN,
 * then merges of runs twice as long, from o to tmp and back. qsort() called
 * the comparison through a pointer, 1.7 million times for a flush of
 * 100,000 deltas: its merge sort and the calls were 20 % of the flusher's
 * CPU over a million repos (perf).
 */
static void sort_deltas(struct delta_order *o, struct delta_order *tmp, size_t n)
{
    for (size_t lo = 0; lo < n; lo += SORT_RUN) {
        size_t end = lo + SORT_RUN < n ? lo + SORT_RUN : n;
        for (size_t j = lo + 1; j < end; j++) {
            struct delta_order v = o[j];
            size_t k = j;
            for (; k > lo && delta_before(&v, &o[k - 1]); k--)
                o[k] = o[k - 1];
            o[k] = v;
        }
    }
    struct delta_order *src = o, *dst = tmp;
    for (size_t width = SORT_RUN; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t a = lo, b = mid, k = lo;
            while (a < mid && b < hi)
                dst[k++] = delta_before(&src[b], &src[a]) ? src[b++] : src[a++];
            while (a < mid)
                dst[k++] = src[a++];
            while (b < hi)
                dst[k++] = src[b++];
        }
        struct delta_order *t = src;
        src = dst;
        dst = t;
    }
    if (src != o)
        memcpy(o, src, n * sizeof *o);
}

#define ORDER_ROOM_KEEP 262144 /* deltas whose room is kept when a call needs less */

void order_room_fini(struct order_room *r)
{
    free(r->order);
    free(r->tmp);
    free(r->out);
    *r = (struct order_room){0};
}

const struct store_delta *fold_order(const struct store_delta *d, size_t n, struct order_room *r)
{
    /* What a burst needed (a flush after the store came back) goes back with the next call. */
    if (n > r->cap || (r->cap > ORDER_ROOM_KEEP && n <= ORDER_ROOM_KEEP)) {
        order_room_fini(r);
        /*
         * A quarter more than this call needs, up to what is kept: flushes of
         * a steady load vary by a few per cent, and each new largest one
         * made all three arrays anew. A burst gets what it needs.
         */
        size_t cap = n;
        if (n <= ORDER_ROOM_KEEP)
            cap = n + n / 4 < ORDER_ROOM_KEEP ? n + n / 4 : ORDER_ROOM_KEEP;
        r->cap = cap ? cap : 1;
        r->order = xmalloc(r->cap * sizeof *r->order);
        r->tmp = xmalloc(r->cap * sizeof *r->tmp);
        r->out = xmalloc(r->cap * sizeof *r->out);
    }
    struct delta_order *o = r->order;
    for (size_t i = 0; i < n; i++) {
        prefix(d[i].key, strlen(d[i].key), &o[i].hi, &o[i].lo);
        o[i].d = &d[i];
    }
    sort_deltas(o, r->tmp, n);
    for (size_t i = 0; i < n; i++)
        r->out[i] = *o[i].d;
    return r->out;
}

int fold_delta_cmp(const void *a, const void *b)
{
    const struct store_delta *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->day > y->day) - (x->day < y->day);
}

int fold_name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

size_t fold_sum_sorted(struct store_delta *d, size_t n)
{
    qsort(d, n, sizeof *d, fold_delta_cmp);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k && fold_delta_cmp(&d[k - 1], &d[i]) == 0)
            d[k - 1].hits = count_add(d[k - 1].hits, d[i].hits);
        else
            d[k++] = d[i];
    }
    return k;
}
