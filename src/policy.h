/*
 * policy: which badge fetches count (issue 10: --count, --camo-ranges, --dedupe).
 *
 * Every fetch of /badge.svg gets the same badge with the current count;
 * the policy only decides whether it also adds a hit:
 *
 *   --count any (default)  every fetch counts, except repeats within
 *                          --dedupe from a client that is not the image proxy
 *   --count camo           only GitHub's image proxy counts: its agent AND a
 *                          source address in --camo-ranges
 *
 * Behind GitHub's proxy every viewer arrives as the proxy, so nobody can
 * tell viewers apart: ghit counts views, and dedupe leaves the proxy alone.
 * What was not counted is kept as numbers (policy_get_stats(), for
 * /metrics) and logged as numbers at most once a minute; never addresses.
 */
#ifndef GHIT_POLICY_H
#define GHIT_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dedupe.h"
#include "netaddr.h"

struct policy;

enum policy_verdict {
    POLICY_COUNT,         /* counts */
    POLICY_NOT_CAMO,      /* --count camo, and not the proxy's agent */
    POLICY_CAMO_UNLISTED, /* --count camo, the proxy's agent from an address not in the ranges */
    POLICY_REPEAT         /* --dedupe: the client fetched this repo within the window */
};

/* Fetches not counted, by reason, since start (for /metrics). */
struct policy_stats {
    uint64_t not_camo;
    uint64_t camo_unlisted;
    uint64_t repeat;
};

/*
 * A policy: camo_only for --count camo; ranges (taken over, may be empty)
 * the proxy's ranges; dedupe_s 0 for no dedupe, else the window and its
 * table's slots. Free with policy_free().
 */
struct policy *policy_new(bool camo_only, struct netaddr_list *ranges, unsigned dedupe_s,
                          size_t dedupe_slots);
void policy_free(struct policy *p);

/*
 * Whether a fetch of key by client (the forwarded client behind a trusted
 * proxy) with User-Agent ua (or NULL) counts, at now_ms on a monotonic
 * clock in milliseconds. Records and, now and then, logs what it refuses.
 * A fetch that counts is remembered by --dedupe; *mark (set to nothing
 * remembered first) says where, for policy_forget().
 */
enum policy_verdict policy_judge(struct policy *p, const struct netaddr *client, const char *ua,
                                 const char *key, uint64_t now_ms, struct dedupe_mark *mark);

/*
 * A fetch policy_judge() let count was not counted after all (refused, or
 * put off until the store is read): --dedupe forgets it, so that the next
 * fetch counts.
 */
void policy_forget(struct policy *p, const struct dedupe_mark *mark);

void policy_get_stats(struct policy *p, struct policy_stats *out);

/* Bytes the dedupe table holds (0 without --dedupe): fixed from the start. */
size_t policy_dedupe_memory(const struct policy *p);

/*
 * Reads a ranges file (camo_ranges_parse's format) into l; 0, or -1 with a
 * message in err. Start-up I/O, the one function here that reads a file.
 */
int policy_load_ranges(const char *path, struct netaddr_list *l, char *err, size_t errlen);

#endif
