/*
 * policy: counting rules (see policy.h).
 *
 * The counters are atomics, bumped on the request path of a refused fetch
 * only. The log line is a summary of the counts since the last one, made
 * at most once a minute by whichever request wins the compare-and-swap;
 * it names reasons and numbers, never a client.
 */
#include "policy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "camo.h"
#include "dedupe.h"
#include "log.h"

#define LOG_PERIOD_S 60
#define RANGES_MAX   (1024 * 1024) /* bytes of a ranges file; GitHub's list is a few KB */

struct policy {
    bool camo_only;
    struct netaddr_list ranges;
    struct dedupe *dedupe;    /* NULL: no --dedupe */
    atomic_ullong refused[3]; /* by verdict - 1 */
    atomic_ullong logged[3];  /* the counts at the last log line */
    atomic_ullong last_log;   /* now_s of the last log line */
};

struct policy *policy_new(bool camo_only, struct netaddr_list *ranges, unsigned dedupe_s,
                          size_t dedupe_slots)
{
    struct policy *p = xcalloc(1, sizeof *p);
    p->camo_only = camo_only;
    p->ranges = *ranges;
    netaddr_list_init(ranges);
    if (dedupe_s)
        p->dedupe = dedupe_new(dedupe_slots, dedupe_s);
    for (int i = 0; i < 3; i++) {
        atomic_init(&p->refused[i], 0);
        atomic_init(&p->logged[i], 0);
    }
    atomic_init(&p->last_log, 0);
    return p;
}

void policy_free(struct policy *p)
{
    if (!p)
        return;
    netaddr_list_fini(&p->ranges);
    dedupe_free(p->dedupe);
    free(p);
}

/* Logs the refusals since the last line, if a minute has passed and this call wins the turn. */
static void maybe_log(struct policy *p, uint64_t now_s)
{
    unsigned long long last = atomic_load(&p->last_log);
    if (now_s - last < LOG_PERIOD_S ||
        !atomic_compare_exchange_strong(&p->last_log, &last, (unsigned long long)now_s))
        return;
    unsigned long long d[3];
    for (int i = 0; i < 3; i++) {
        unsigned long long now = atomic_load(&p->refused[i]);
        d[i] = now - atomic_exchange(&p->logged[i], now);
    }
    log_info("not counted since the last report: %llu not from the image proxy, %llu with its "
             "agent from an address outside --camo-ranges, %llu repeats within --dedupe",
             d[0], d[1], d[2]);
}

enum policy_verdict policy_judge(struct policy *p, const struct netaddr *client, const char *ua,
                                 const char *key, uint64_t now_ms, struct dedupe_mark *mark)
{
    *mark = (struct dedupe_mark){0};
    bool agent = camo_agent(ua);
    bool proxy = agent && netaddr_list_match(&p->ranges, client);
    enum policy_verdict v = POLICY_COUNT;
    if (p->camo_only && !proxy)
        v = agent ? POLICY_CAMO_UNLISTED : POLICY_NOT_CAMO;
    else if (!proxy && p->dedupe && !dedupe_first(p->dedupe, client, key, now_ms, mark))
        v = POLICY_REPEAT;
    if (v != POLICY_COUNT) {
        atomic_fetch_add(&p->refused[v - 1], 1);
        maybe_log(p, now_ms / 1000);
    }
    return v;
}

void policy_forget(struct policy *p, const struct dedupe_mark *mark)
{
    if (p->dedupe)
        dedupe_forget(p->dedupe, mark);
}

void policy_get_stats(struct policy *p, struct policy_stats *out)
{
    out->not_camo = atomic_load(&p->refused[POLICY_NOT_CAMO - 1]);
    out->camo_unlisted = atomic_load(&p->refused[POLICY_CAMO_UNLISTED - 1]);
    out->repeat = atomic_load(&p->refused[POLICY_REPEAT - 1]);
}

size_t policy_dedupe_memory(const struct policy *p)
{
    return p->dedupe ? dedupe_memory(p->dedupe) : 0;
}

int policy_load_ranges(const char *path, struct netaddr_list *l, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "--camo-ranges %s: %s", path, strerror(errno));
        return -1;
    }
    char *text = xmalloc(RANGES_MAX + 1);
    size_t len = 0;
    ssize_t n;
    while (len <= RANGES_MAX && (n = read(fd, text + len, RANGES_MAX + 1 - len)) > 0)
        len += (size_t)n;
    int read_errno = n < 0 ? errno : 0;
    close(fd);
    unsigned line = 0;
    const char *why = read_errno         ? strerror(read_errno)
                      : len > RANGES_MAX ? "larger than 1 MiB"
                                         : NULL;
    if (!why && (why = camo_ranges_parse(l, text, len, &line)) != NULL) {
        snprintf(err, errlen, "--camo-ranges %s: line %u: %s", path, line, why);
    } else if (why) {
        snprintf(err, errlen, "--camo-ranges %s: %s", path, why);
    } else if (l->n == 0) {
        snprintf(err, errlen, "--camo-ranges %s: lists no address range", path);
        why = "empty";
    }
    free(text);
    return why ? -1 : 0;
}
