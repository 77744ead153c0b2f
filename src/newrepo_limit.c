/*
 * newrepo_limit: per-client token buckets for new repos (see newrepo_limit.h).
 *
 * Each bucket is one time stamp, so no timer runs and nothing is rounded.
 */
#include "newrepo_limit.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "alloc.h"
#include "siphash.h"

#define WAYS 4

struct bucket {
    uint64_t tag; /* keyed hash of the client; 0: free */
    int64_t tat;  /* ms: when the bucket would be full again (GCRA's theoretical arrival time) */
};

struct set {
    pthread_mutex_t lock;
    struct bucket way[WAYS];
};

struct newrepo_limit {
    struct set *sets;
    unsigned nsets;
    int64_t interval; /* ms per new repo: 60000 / per_minute */
    int64_t slack;    /* how far tat may run ahead of now: (burst - 1) intervals */
    uint8_t key[16];
    atomic_ullong refused;
};

struct newrepo_limit *newrepo_limit_new(unsigned per_minute, unsigned sets)
{
    struct newrepo_limit *l = xcalloc(1, sizeof *l);
    l->nsets = sets ? sets : 1;
    l->sets = xcalloc(l->nsets, sizeof *l->sets);
    for (unsigned i = 0; i < l->nsets; i++)
        pthread_mutex_init(&l->sets[i].lock, NULL);
    if (per_minute == 0)
        per_minute = 1;
    l->interval = 60000 / per_minute > 0 ? 60000 / per_minute : 1;
    l->slack = (int64_t)(per_minute - 1) * l->interval;
    if (getrandom(l->key, sizeof l->key, 0) != (ssize_t)sizeof l->key)
        memset(l->key, 0xa5, sizeof l->key);
    atomic_init(&l->refused, 0);
    return l;
}

void newrepo_limit_free(struct newrepo_limit *l)
{
    if (!l)
        return;
    for (unsigned i = 0; i < l->nsets; i++)
        pthread_mutex_destroy(&l->sets[i].lock);
    free(l->sets);
    free(l);
}

/*
 * The bucket as GCRA (the generic cell rate algorithm, ITU-T I.371): a
 * take is allowed while the theoretical arrival time runs at most `slack`
 * ahead of now, and moves it one interval on. Unlike a token count, no
 * fraction of a token is ever rounded away. Without take, only says
 * whether a take would be allowed, and changes nothing.
 */
static bool admit(struct newrepo_limit *l, const struct netaddr *client, int64_t now_ms, bool take)
{
    struct netaddr who = netaddr_client_prefix(client);
    uint64_t h = siphash(who.b, sizeof who.b, l->key) | 1; /* never 0, the free tag */
    struct set *s = &l->sets[(h >> 32) % l->nsets];
    pthread_mutex_lock(&s->lock);
    struct bucket *b = NULL, *fullest = &s->way[0];
    for (int i = 0; i < WAYS; i++) {
        struct bucket *w = &s->way[i];
        if (w->tag == h) {
            b = w;
            break;
        }
        /* Free ways first, then the fullest: the one whose tat lies furthest back. */
        if (!w->tag ? fullest->tag : w->tat < fullest->tat)
            fullest = w;
    }
    bool ok = true; /* a client without a bucket would get a full one */
    if (b || take) {
        if (!b) {
            b = fullest;
            b->tag = h;
            b->tat = now_ms;
        }
        int64_t t = b->tat > now_ms ? b->tat : now_ms;
        ok = t - now_ms <= l->slack;
        if (ok && take)
            b->tat = t + l->interval;
    }
    pthread_mutex_unlock(&s->lock);
    if (!ok && take)
        atomic_fetch_add(&l->refused, 1);
    return ok;
}

bool newrepo_limit_take(struct newrepo_limit *l, const struct netaddr *client, int64_t now_ms)
{
    return admit(l, client, now_ms, true);
}

bool newrepo_limit_allows(struct newrepo_limit *l, const struct netaddr *client, int64_t now_ms)
{
    return admit(l, client, now_ms, false);
}

uint64_t newrepo_limit_refused(struct newrepo_limit *l)
{
    return atomic_load(&l->refused);
}
