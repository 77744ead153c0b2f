/*
 * monotime: times on the monotonic clock, which wall-clock steps do not
 * move, for timeouts, deadlines and durations. The condition variables
 * that wait on these deadlines are set to CLOCK_MONOTONIC.
 */
#ifndef GHIT_MONOTIME_H
#define GHIT_MONOTIME_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Milliseconds from a to b. */
static inline long long monotime_ms_between(const struct timespec *a, const struct timespec *b)
{
    return (b->tv_sec - a->tv_sec) * 1000LL + (b->tv_nsec - a->tv_nsec) / 1000000;
}

/* Milliseconds since start. */
static inline long long monotime_ms_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return monotime_ms_between(start, &now);
}

/* Milliseconds on the monotonic clock. */
static inline int64_t monotime_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The deadline ms milliseconds from now. */
static inline struct timespec monotime_deadline(unsigned ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* Sets up c to wait on the monotonic clock (monotime_deadline): a wall-clock step must not stall
 * it. */
static inline void monotime_cond_init(pthread_cond_t *c)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(c, &ca);
    pthread_condattr_destroy(&ca);
}

#endif
