/*
 * fold: an open-addressing hash table (linear probing, power-of-two size,
 * at most 70 % full) of (repo, day) sums; see fold.h. Repo names live in
 * one growing arena and slots hold offsets into it, so the arena may move
 * while rows are added; fold_sorted() turns offsets into pointers once
 * adding is over.
 */
#include "fold.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "alloc.h"
#include "buf.h"
#include "siphash.h"

struct slot {
    uint64_t hash; /* 0: free (a real hash has its low bit set) */
    uint64_t hits;
    size_t off; /* the name in the arena */
    uint32_t len;
    day_t day;
};

struct fold {
    struct slot *slots;
    size_t cap, count;
    struct buf names; /* each name NUL-terminated */
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

/* The slot for (hash, repo, day): the one holding it, or the free one where it goes. */
static struct slot *find(struct fold *f, uint64_t hash, const char *repo, size_t len, day_t day)
{
    size_t mask = f->cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        struct slot *s = &f->slots[i];
        if (s->hash == 0 || (s->hash == hash && s->day == day && s->len == len &&
                             memcmp(f->names.data + s->off, repo, len) == 0))
            return s;
    }
}

static void grow(struct fold *f)
{
    struct slot *old = f->slots;
    size_t oldcap = f->cap;
    f->cap *= 2;
    f->slots = xcalloc(f->cap, sizeof *f->slots);
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i].hash == 0)
            continue;
        size_t mask = f->cap - 1, j = old[i].hash & mask;
        while (f->slots[j].hash != 0)
            j = (j + 1) & mask;
        f->slots[j] = old[i];
    }
    free(old);
}

void fold_add(struct fold *f, const char *repo, size_t len, day_t day, uint64_t hits)
{
    uint64_t hash =
        (siphash(repo, len, f->key) ^ (uint64_t)(uint32_t)day * 0x9e3779b97f4a7c15u) | 1;
    struct slot *s = find(f, hash, repo, len, day);
    if (s->hash == 0) {
        if (10 * (f->count + 1) > 7 * f->cap) {
            grow(f);
            s = find(f, hash, repo, len, day);
        }
        *s = (struct slot){.hash = hash, .off = f->names.len, .len = (uint32_t)len, .day = day};
        buf_append(&f->names, repo, len);
        buf_putc(&f->names, '\0');
        f->count++;
    }
    s->hits += hits;
}

static int by_key(const void *a, const void *b)
{
    const struct store_delta *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->day > y->day) - (x->day < y->day);
}

const struct store_delta *fold_sorted(struct fold *f, size_t *n)
{
    if (!f->rows) {
        f->rows = xmalloc((f->count ? f->count : 1) * sizeof *f->rows);
        size_t k = 0;
        for (size_t i = 0; i < f->cap; i++) {
            const struct slot *s = &f->slots[i];
            if (s->hash != 0)
                f->rows[k++] = (struct store_delta){f->names.data + s->off, s->day, s->hits};
        }
        /* Adding is over: the slots go before the sort takes its own memory. */
        free(f->slots);
        f->slots = NULL;
        f->cap = 0;
        qsort(f->rows, k, sizeof *f->rows, by_key);
    }
    *n = f->count;
    return f->rows;
}
