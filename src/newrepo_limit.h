/*
 * newrepo_limit: how many new repos each client may create, per minute.
 *
 * One client asking for a new name on every request could otherwise fill
 * --max-repos in seconds, after which no new repo can ever be counted. A
 * repo that exists keeps counting whatever this says; only the creation of
 * a counter is limited, per client (IPv4 address, or IPv6 /64), by a token
 * bucket: up to `per_minute` at once, then one every 60/per_minute seconds.
 *
 * Memory is fixed: a table of buckets, 4-way set-associative, keyed by a
 * keyed hash of the client (addresses are never stored). A client not in
 * its set takes the way whose bucket is fullest, which is the one that has
 * been quiet longest: under a flood of addresses the table forgets quiet
 * clients, who lose nothing by it (a full bucket is what a new one gets).
 * Thread-safe: one mutex per set.
 */
#ifndef GHIT_NEWREPO_LIMIT_H
#define GHIT_NEWREPO_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "netaddr.h"

struct newrepo_limit;

/* A limiter of per_minute new repos per client, with sets * 4 buckets. Free with
 * newrepo_limit_free(). */
struct newrepo_limit *newrepo_limit_new(unsigned per_minute, unsigned sets);
void newrepo_limit_free(struct newrepo_limit *l);

/*
 * Takes one new repo from client's bucket at now_ms (a monotonic clock);
 * false if the bucket is empty, in which case the refusal is counted.
 */
bool newrepo_limit_take(struct newrepo_limit *l, const struct netaddr *client, int64_t now_ms);

/* Whether newrepo_limit_take() would succeed now, without taking (HEAD answers as GET would). */
bool newrepo_limit_allows(struct newrepo_limit *l, const struct netaddr *client, int64_t now_ms);

/* New repos refused so far. */
uint64_t newrepo_limit_refused(struct newrepo_limit *l);

#endif
