/*
 * dedupe: repeated hits of one repo from one client count once per window
 * (issue 10, --dedupe). Pure; safe from any thread.
 *
 * The table has a fixed number of slots, chosen at start-up; it never
 * grows. Under a flood of distinct addresses it forgets the oldest entries
 * (a forgotten client counts again), so memory stays bounded whatever
 * clients do. A slot holds a 64-bit SipHash of (client, repo) under a key
 * drawn at start-up, and a time: never an address, and nothing that is
 * written anywhere. Clients are compared by netaddr_client_prefix() (an
 * IPv6 client is its /64).
 */
#ifndef GHIT_DEDUPE_H
#define GHIT_DEDUPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"

struct dedupe;

/* A table of at least slots entries (rounded up to a power of two, at least 64). */
struct dedupe *dedupe_new(size_t slots, unsigned window_s);
void dedupe_free(struct dedupe *d);

/* Where dedupe_first() remembered a hit, for dedupe_forget(); tag 0: nothing remembered. */
struct dedupe_mark {
    uint64_t tag, stamp;
    size_t slot;
};

/*
 * Whether a hit of key from client at now_ms (milliseconds on a monotonic
 * clock) is the first within the window, and so counts; it is then
 * remembered, and *mark (may be NULL) says where. A repeat less than the
 * window after it is not, and does not extend the window.
 */
bool dedupe_first(struct dedupe *d, const struct netaddr *client, const char *key, uint64_t now_ms,
                  struct dedupe_mark *mark);

/*
 * Forgets the hit dedupe_first() remembered at mark, if its slot still
 * holds it: a hit judged first but then not counted (refused), so that the
 * next one counts. Recording first and forgetting on refusal, rather than
 * recording only after the count, keeps two racing fetches from both
 * counting. An entry the hit pushed out stays forgotten, as under a flood.
 */
void dedupe_forget(struct dedupe *d, const struct dedupe_mark *mark);

/* Bytes the table holds: fixed from dedupe_new() on. */
size_t dedupe_memory(const struct dedupe *d);

#endif
