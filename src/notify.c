/* notify: a callback slot (see notify.h). */
#include "notify.h"

#include <stddef.h>

void notify_init(struct notify *slot)
{
    pthread_mutex_init(&slot->lock, NULL);
    slot->fn = NULL;
    slot->arg = NULL;
}

void notify_fini(struct notify *slot)
{
    pthread_mutex_destroy(&slot->lock);
}

void notify_set(struct notify *slot, notify_fn *fn, void *arg)
{
    pthread_mutex_lock(&slot->lock);
    slot->fn = fn;
    slot->arg = arg;
    pthread_mutex_unlock(&slot->lock);
}

void notify_call(struct notify *slot, uint64_t n)
{
    pthread_mutex_lock(&slot->lock);
    if (slot->fn)
        slot->fn(slot->arg, n);
    pthread_mutex_unlock(&slot->lock);
}
