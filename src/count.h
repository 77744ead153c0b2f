/*
 * count: the arithmetic of hit counts. Pure.
 *
 * A count (a total, a day's hits, hits pending) is at most COUNT_MAX, what
 * SQLite's signed 64-bit integers hold. Counts saturate there: a hit on a
 * count at the maximum leaves it at the maximum. Past it SQLite would turn
 * the column into a REAL that no longer counts exactly, and C's uint64_t
 * would show numbers the store cannot hold.
 */
#ifndef GHIT_COUNT_H
#define GHIT_COUNT_H

#include <stdint.h>

#define COUNT_MAX 9223372036854775807ULL
/* COUNT_MAX as SQL text, for statements that saturate in SQLite. */
#define COUNT_MAX_SQL "9223372036854775807"

/* a + b, or COUNT_MAX if that is more. */
static inline uint64_t count_add(uint64_t a, uint64_t b)
{
    return a > COUNT_MAX || b > COUNT_MAX - a ? COUNT_MAX : a + b;
}

#endif
