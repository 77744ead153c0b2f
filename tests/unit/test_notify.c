/*
 * Unit tests of notify (notify.h): a set slot passes each number to its
 * callback and an empty one drops it; and clearing the slot waits for a
 * call under way, so that once notify_set(NULL) returns the old callback
 * neither runs nor starts again, which is what lets serve.c free the server
 * that the callback's argument points to.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "notify.h"
#include "test.h"

struct seen {
    atomic_int calls;
    atomic_int inside; /* 1 while the callback runs */
    atomic_ullong last;
};

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A slow callback: it is inside for 20 ms a call. */
static void record(void *arg, uint64_t n)
{
    struct seen *s = arg;
    atomic_store(&s->inside, 1);
    sleep_ms(20);
    atomic_store(&s->last, n);
    atomic_fetch_add(&s->calls, 1);
    atomic_store(&s->inside, 0);
}

static void calls_reach_the_callback_while_it_is_set(void)
{
    struct notify slot;
    struct seen s = {0};
    notify_init(&slot);
    notify_call(&slot, 1); /* nobody listens yet */
    notify_set(&slot, record, &s);
    notify_call(&slot, 7);
    notify_call(&slot, 9);
    CHECK_INT(atomic_load(&s.calls), 2);
    CHECK_INT(atomic_load(&s.last), 9);
    notify_set(&slot, NULL, NULL);
    notify_call(&slot, 11);
    CHECK_INT(atomic_load(&s.calls), 2);
    CHECK_INT(atomic_load(&s.last), 9);
    notify_fini(&slot);
}

struct caller {
    struct notify *slot;
    atomic_bool stop;
    uint64_t n;
};

static void *call_in_a_loop(void *arg)
{
    struct caller *c = arg;
    while (!atomic_load(&c->stop))
        notify_call(c->slot, ++c->n);
    return NULL;
}

static void clearing_waits_for_the_call_under_way(void)
{
    struct notify slot;
    struct seen s = {0};
    notify_init(&slot);
    notify_set(&slot, record, &s);
    struct caller c = {.slot = &slot};
    pthread_t t;
    CHECK_INT(pthread_create(&t, NULL, call_in_a_loop, &c), 0);
    for (int i = 0; i < 100 && !atomic_load(&s.inside); i++)
        sleep_ms(1); /* until a call is under way */
    CHECK_INT(atomic_load(&s.inside), 1);
    notify_set(&slot, NULL, NULL);
    /* That call ended before notify_set returned, and none began after it. */
    CHECK_INT(atomic_load(&s.inside), 0);
    int calls = atomic_load(&s.calls);
    CHECK(calls >= 1);
    sleep_ms(60);
    CHECK_INT(atomic_load(&s.calls), calls);
    CHECK_INT(atomic_load(&s.inside), 0);
    atomic_store(&c.stop, true);
    pthread_join(t, NULL);
    notify_fini(&slot);
}

int main(void)
{
    RUN(calls_reach_the_callback_while_it_is_set);
    RUN(clearing_waits_for_the_call_under_way);
    return test_main_end("notify");
}
