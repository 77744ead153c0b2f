/*
 * store: picks a backend for a location (see store.h): a redis:// or
 * unix:// URL is Redis (redis_url.h), anything else a SQLite file.
 */
#include "store.h"

#include <stdio.h>
#include <unistd.h>

#include "count.h"
#include "log.h"
#include "redis_url.h"

static const char *command = "serve"; /* set once, before any thread */

void store_set_command(const char *name)
{
    command = name;
}

const char *store_command(void)
{
    return command;
}

uint64_t store_deltas_hits(const struct store_delta *d, size_t n)
{
    uint64_t hits = 0;
    for (size_t i = 0; i < n; i++)
        hits = count_add(hits, d[i].hits);
    return hits;
}

struct store *store_open(const char *where, char *err, size_t errlen)
{
    if (redis_url_is(where))
        return store_redis_open(where, err, errlen);
    return store_sqlite_open(where, err, errlen);
}

struct store *store_open_existing(const char *where, char *err, size_t errlen)
{
    if (redis_url_is(where))
        return store_redis_open(where, err, errlen);
    return store_sqlite_open_existing(where, err, errlen);
}

struct store *store_open_readonly(const char *where, char *err, size_t errlen)
{
    if (redis_url_is(where))
        return store_redis_open_readonly(where, err, errlen);
    return store_sqlite_open_readonly(where, err, errlen);
}

bool store_is_busy(const char *where)
{
    /* Several frontends share one Redis: there is no single writer to find. */
    return redis_url_is(where) ? false : store_sqlite_is_busy(where);
}

struct store *store_open_reader(const char *where, char *err, size_t errlen)
{
    if (redis_url_is(where))
        return store_redis_open_readonly(where, err, errlen);
    return store_sqlite_open_reader(where, err, errlen);
}

struct store *store_open_server_reader(const char *where, char *err, size_t errlen)
{
    struct store *s = store_open_reader(where, err, errlen);
    if (s && !redis_url_is(where))
        store_sqlite_tables_per_repo(s);
    return s;
}

enum store_result store_write(struct store *s, struct store_put *p, size_t n, char *err,
                              size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        if (!p[i].id)
            p[i].id = i + 1;
    enum store_result r = s->ops->write(s, p, n, NULL, 0, err, errlen);
    /* 1 + 2 + 4 + 8 s: a Redis stall, a restart or a failover, not a long outage. */
    for (unsigned wait = 1; r == STORE_RETRY && s->ops->shared && wait <= 8; wait *= 2) {
        log_warn("%s; writing again in %u s", err, wait);
        sleep(wait);
        r = s->ops->write(s, p, n, NULL, 0, err, errlen);
    }
    return r;
}

void store_close(struct store *s)
{
    if (s)
        s->ops->close(s);
}
