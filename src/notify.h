/*
 * notify: a slot for a callback that one thread calls with a number and
 * another sets or clears at any time. The flusher tells of each write with
 * it, the loader of each batch of loads, the statistics reader of each top
 * list read; http.c listens, to resume the requests that wait for them.
 *
 * The slot's mutex is held while the callback runs, so clearing the slot
 * (notify_set() with NULL) returns only once no call of the old callback is
 * running or can start: after it, what the old argument points to may go.
 */
#ifndef GHIT_NOTIFY_H
#define GHIT_NOTIFY_H

#include <pthread.h>
#include <stdint.h>

/* Told the number that the notifying thread has reached (a write, a load, a read). */
typedef void notify_fn(void *arg, uint64_t n);

struct notify {
    pthread_mutex_t lock; /* guards fn and arg, and is held while fn runs */
    notify_fn *fn;        /* NULL: nobody listens */
    void *arg;
};

void notify_init(struct notify *slot);
void notify_fini(struct notify *slot);

/* Sets the callback, or clears it with fn NULL (see the top). */
void notify_set(struct notify *slot, notify_fn *fn, void *arg);

/* Calls the callback with n, if one is set. */
void notify_call(struct notify *slot, uint64_t n);

#endif
