/*
 * dedupe: a fixed-size, set-associative table of recent (client, repo)
 * hashes (see dedupe.h).
 *
 * Slots come in buckets of 4 (64 bytes, one cache line); a hash picks the
 * bucket, and a new entry takes an empty slot or the bucket's oldest (by
 * millisecond, then by order of insertion, so a flood within one
 * millisecond churns every slot, not one). 64
 * striped locks guard the buckets, so two hits rarely wait on each other,
 * and a call holds one lock for a few comparisons.
 */
#include "dedupe.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "alloc.h"
#include "repo_key.h"
#include "siphash.h"

#define WAYS   4
#define NLOCKS 64

/* A slot's stamp: its millisecond, then its order of insertion within it (within a lock stripe). */
#define SEQ_BITS 16

struct slot {
    uint64_t tag;   /* the hash with its low bit set; 0: empty */
    uint64_t stamp; /* ms << SEQ_BITS | seq: the smallest is the oldest */
};

struct dedupe {
    struct slot *slots;
    size_t nbuckets; /* a power of two */
    uint64_t window_ms;
    uint8_t key[16];
    pthread_mutex_t locks[NLOCKS];
    uint32_t seq[NLOCKS]; /* guarded by the lock of the same index */
};

struct dedupe *dedupe_new(size_t slots, unsigned window_s)
{
    struct dedupe *d = xcalloc(1, sizeof *d);
    d->nbuckets = 16;
    while (d->nbuckets * WAYS < slots)
        d->nbuckets *= 2;
    d->slots = xcalloc(d->nbuckets * WAYS, sizeof *d->slots);
    d->window_ms = (uint64_t)window_s * 1000;
    /* A secret key: without it a client could choose addresses that evict a chosen entry. */
    if (getrandom(d->key, sizeof d->key, 0) != (ssize_t)sizeof d->key)
        memset(d->key, 0xa5, sizeof d->key);
    for (int i = 0; i < NLOCKS; i++)
        pthread_mutex_init(&d->locks[i], NULL);
    return d;
}

void dedupe_free(struct dedupe *d)
{
    if (!d)
        return;
    for (int i = 0; i < NLOCKS; i++)
        pthread_mutex_destroy(&d->locks[i]);
    free(d->slots);
    free(d);
}

size_t dedupe_memory(const struct dedupe *d)
{
    return d->nbuckets * WAYS * sizeof *d->slots;
}

bool dedupe_first(struct dedupe *d, const struct netaddr *client, const char *key, uint64_t now_ms,
                  struct dedupe_mark *mark)
{
    uint8_t msg[16 + REPO_KEY_SIZE];
    struct netaddr who = netaddr_client_prefix(client);
    size_t klen = strnlen(key, REPO_KEY_SIZE - 1);
    memcpy(msg, who.b, 16);
    memcpy(msg + 16, key, klen);
    uint64_t tag = siphash(msg, 16 + klen, d->key) | 1;
    size_t b = (size_t)(tag >> 1) & (d->nbuckets - 1);
    struct slot *bucket = &d->slots[b * WAYS];
    pthread_mutex_t *lock = &d->locks[b % NLOCKS];
    bool first = true;
    pthread_mutex_lock(lock);
    struct slot *victim = &bucket[0];
    for (int i = 0; i < WAYS; i++) {
        struct slot *s = &bucket[i];
        if (s->tag == tag) {
            /* now_ms was read before the lock: another thread's may be later, and is no older. */
            first = now_ms >= (s->stamp >> SEQ_BITS) + d->window_ms;
            victim = s;
            break;
        }
        if (victim->tag && (!s->tag || s->stamp < victim->stamp))
            victim = s;
    }
    if (first) {
        uint32_t seq = d->seq[b % NLOCKS]++ & ((1u << SEQ_BITS) - 1);
        victim->tag = tag;
        victim->stamp = now_ms << SEQ_BITS | seq;
        if (mark)
            *mark = (struct dedupe_mark){tag, victim->stamp, (size_t)(victim - d->slots)};
    }
    pthread_mutex_unlock(lock);
    return first;
}

void dedupe_forget(struct dedupe *d, const struct dedupe_mark *mark)
{
    if (!mark->tag)
        return;
    pthread_mutex_t *lock = &d->locks[(mark->slot / WAYS) % NLOCKS];
    pthread_mutex_lock(lock);
    struct slot *s = &d->slots[mark->slot];
    /* Another fetch may have taken the slot since (a flood, or this pair after the window). */
    if (s->tag == mark->tag && s->stamp == mark->stamp)
        *s = (struct slot){0, 0};
    pthread_mutex_unlock(lock);
}
