/*
 * store_redis_2015: the Redis connection of ghit import-2015 (see
 * store_redis_2015.h).
 *
 * Why a second file with hiredis. The rule was "hiredis in its store file
 * only" (STYLE.md), so that the Redis protocol stays behind one seam. The
 * import needs commands the store never sends (SCAN, GET of any key, its
 * own small scripts) on a database that is not ghit's yet, which the
 * store refuses to open. Growing store.h with import-only operations, or
 * writing a second RESP client, were both worse: the first puts a one-off
 * migration into every backend's interface, the second duplicates what
 * hiredis does well. So the rule becomes "hiredis only in the
 * store_redis*.c files", and this file stays a thin connection: it knows
 * which keys are 2015 counters (import2015.h) so that SCAN and GET share one
 * round trip, and nothing of what the import decides.
 *
 * Connection set-up mirrors store_redis.c's: the connect timeout, then
 * redisSetTimeout (hiredis 0.14.1 applies the first to connect() only),
 * AUTH with the URL's password or GHIT_REDIS_PASSWORD, SELECT, a client
 * name (ghit-import2015) for CLIENT LIST.
 */
#include "store_redis_2015.h"

#include <hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "import2015.h"
#include "redis_url.h"
#include "store.h"

#define SCAN_COUNT "1000" /* design 2.2: about 1 ms of Redis per SCAN call */

struct store_redis_2015 {
    redisContext *c;
    char where[512];
    size_t queued;
};

/* Fills err with what hiredis says went wrong on c, after doing what. */
static void io_error(struct store_redis_2015 *c, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "Redis at %s did not answer %s: %s", c->where, what, c->c->errstr);
}

/* Runs one command; its reply, or NULL with a message in err (error replies too). */
static redisReply *command(struct store_redis_2015 *c, int argc, const char **argv, char *err,
                           size_t errlen)
{
    redisReply *r = redisCommandArgv(c->c, argc, argv, NULL);
    if (!r) {
        io_error(c, argv[0], err, errlen);
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "Redis at %s refused %s: %.120s", c->where, argv[0], r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

/* Runs a command whose reply is not needed; 0, or -1 with a message in err. */
static int run(struct store_redis_2015 *c, int argc, const char **argv, char *err, size_t errlen)
{
    redisReply *r = command(c, argc, argv, err, errlen);
    freeReplyObject(r);
    return r ? 0 : -1;
}

struct store_redis_2015 *store_redis_2015_open(const char *url, char *err, size_t errlen)
{
    struct redis_url u;
    char shown[512];
    store_redis_redact(url, shown, sizeof shown);
    const char *why = redis_url_parse(url, &u);
    if (why) {
        snprintf(err, errlen, "%s: %s", shown, why);
        return NULL;
    }
    const char *env = getenv("GHIT_REDIS_PASSWORD");
    if (!u.password[0] && env && *env)
        snprintf(u.password, sizeof u.password, "%s", env);
    struct store_redis_2015 *c = xcalloc(1, sizeof *c);
    snprintf(c->where, sizeof c->where, "%s", shown);
    struct timeval tv = {.tv_sec = u.timeout_ms / 1000,
                         .tv_usec = (long)(u.timeout_ms % 1000) * 1000};
    c->c = u.host[0] ? redisConnectWithTimeout(u.host, (int)u.port, tv)
                     : redisConnectUnixWithTimeout(u.path, tv);
    if (!c->c || c->c->err) {
        snprintf(err, errlen, "cannot connect to Redis at %s: %s", c->where,
                 c->c ? c->c->errstr : "out of memory");
        store_redis_2015_close(c);
        return NULL;
    }
    if (redisSetTimeout(c->c, tv) != REDIS_OK) {
        snprintf(err, errlen, "Redis at %s: cannot set the timeout: %s", c->where, c->c->errstr);
        store_redis_2015_close(c);
        return NULL;
    }
    char db[16];
    snprintf(db, sizeof db, "%u", u.db);
    const char *auth_user[] = {"AUTH", u.user, u.password}, *auth[] = {"AUTH", u.password},
               *sel[] = {"SELECT", db}, *name[] = {"CLIENT", "SETNAME", "ghit-import2015"};
    int ret = 0;
    if (u.password[0])
        ret = u.user[0] ? run(c, 3, auth_user, err, errlen) : run(c, 2, auth, err, errlen);
    if (ret == 0 && u.db)
        ret = run(c, 2, sel, err, errlen);
    if (ret == 0)
        ret = run(c, 3, name, err, errlen);
    memset(&u, 0, sizeof u); /* the password */
    if (ret < 0) {
        store_redis_2015_close(c);
        return NULL;
    }
    return c;
}

void store_redis_2015_close(struct store_redis_2015 *c)
{
    if (!c)
        return;
    if (c->c)
        redisFree(c->c);
    free(c);
}

const char *store_redis_2015_where(const struct store_redis_2015 *c)
{
    return c->where;
}

int store_redis_2015_server(struct store_redis_2015 *c, char *out, size_t n, char *err,
                            size_t errlen)
{
    const char *info[] = {"INFO", "server"}, *db[] = {"CLIENT", "INFO"};
    redisReply *r = command(c, 2, info, err, errlen);
    if (!r)
        return -1;
    const char *id = r->type == REDIS_REPLY_STRING ? strstr(r->str, "run_id:") : NULL;
    size_t idlen = id ? strcspn(id + 7, "\r\n") : 0;
    if (!id || idlen == 0 || idlen > 64) {
        snprintf(err, errlen, "Redis at %s: INFO server has no run_id", c->where);
        freeReplyObject(r);
        return -1;
    }
    char run_id[65];
    snprintf(run_id, sizeof run_id, "%.*s", (int)idlen, id + 7);
    freeReplyObject(r);
    /* CLIENT INFO (Redis 6.2+) says which database this connection selected. */
    unsigned long dbn = 0;
    r = redisCommandArgv(c->c, 2, db, NULL);
    if (!r) {
        io_error(c, "CLIENT INFO", err, errlen);
        return -1;
    }
    const char *d = r->type == REDIS_REPLY_STRING ? strstr(r->str, " db=") : NULL;
    if (d)
        dbn = strtoul(d + 4, NULL, 10);
    freeReplyObject(r);
    snprintf(out, n, "%s/%lu", run_id, dbn);
    return 0;
}

int store_redis_2015_get(struct store_redis_2015 *c, const char *key, char *out, size_t n,
                         char *err, size_t errlen)
{
    const char *get[] = {"GET", key};
    redisReply *r = command(c, 2, get, err, errlen);
    if (!r)
        return -1;
    int have = r->type == REDIS_REPLY_STRING;
    if (have)
        snprintf(out, n, "%.*s", (int)r->len, r->str);
    freeReplyObject(r);
    return have;
}

/* Whether a SCAN reply is {cursor, [keys]}. */
static int scan_shape(const redisReply *r)
{
    return r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
           r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_ARRAY;
}

/* GETs the counters among keys in one pipeline and hands every key to fn. */
static int scan_batch(struct store_redis_2015 *c, const redisReply *keys,
                      store_redis_2015_key_fn *fn, void *arg, char *err, size_t errlen)
{
    char *counter = xcalloc(keys->elements + 1, 1);
    for (size_t i = 0; i < keys->elements; i++) {
        const redisReply *k = keys->element[i];
        struct import2015_key ck;
        import2015_classify(k->str, k->len, &ck);
        counter[i] = ck.kind == IMPORT2015_TOTAL || ck.kind == IMPORT2015_DAY;
        if (counter[i]) {
            const char *argv[] = {"GET", k->str};
            size_t lens[] = {3, k->len};
            redisAppendCommandArgv(c->c, 2, argv, lens);
        }
    }
    int ret = 0;
    for (size_t i = 0; i < keys->elements; i++) {
        const redisReply *k = keys->element[i];
        redisReply *v = NULL;
        if (counter[i] && redisGetReply(c->c, (void **)&v) != REDIS_OK) {
            io_error(c, "GET", err, errlen);
            ret = -1;
            break;
        }
        int str = v && v->type == REDIS_REPLY_STRING;
        fn(arg, k->str, k->len, str ? v->str : NULL, str ? v->len : 0);
        freeReplyObject(v);
    }
    free(counter);
    return ret;
}

int store_redis_2015_scan(struct store_redis_2015 *c, store_redis_2015_key_fn *fn, void *arg,
                          char *err, size_t errlen)
{
    char cursor[32] = "0";
    do {
        const char *argv[] = {"SCAN", cursor, "COUNT", SCAN_COUNT};
        redisReply *r = command(c, 4, argv, err, errlen);
        if (!r)
            return -1;
        if (!scan_shape(r)) {
            snprintf(err, errlen, "Redis at %s: SCAN answered something else", c->where);
            freeReplyObject(r);
            return -1;
        }
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        int ret = scan_batch(c, r->element[1], fn, arg, err, errlen);
        freeReplyObject(r);
        if (ret < 0)
            return -1;
    } while (strcmp(cursor, "0") != 0);
    return 0;
}

int store_redis_2015_hscan(struct store_redis_2015 *c, const char *key,
                           store_redis_2015_field_fn *fn, void *arg, char *err, size_t errlen)
{
    char cursor[32] = "0";
    do {
        const char *argv[] = {"HSCAN", key, cursor, "COUNT", SCAN_COUNT};
        redisReply *r = command(c, 5, argv, err, errlen);
        if (!r)
            return -1;
        if (!scan_shape(r)) {
            snprintf(err, errlen, "Redis at %s: HSCAN %s answered something else", c->where, key);
            freeReplyObject(r);
            return -1;
        }
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        const redisReply *kv = r->element[1];
        for (size_t i = 0; i + 1 < kv->elements; i += 2)
            if (kv->element[i]->type == REDIS_REPLY_STRING &&
                kv->element[i + 1]->type == REDIS_REPLY_STRING)
                fn(arg, kv->element[i]->str, kv->element[i + 1]->str);
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    return 0;
}

void store_redis_2015_queue(struct store_redis_2015 *c, int argc, const char **argv)
{
    redisAppendCommandArgv(c->c, argc, argv, NULL);
    c->queued++;
}

size_t store_redis_2015_queued(const struct store_redis_2015 *c)
{
    return c->queued;
}

int store_redis_2015_flush(struct store_redis_2015 *c, long long *out, char *err, size_t errlen)
{
    int ret = 0;
    size_t n = c->queued;
    c->queued = 0;
    for (size_t i = 0; i < n; i++) {
        redisReply *r = NULL;
        if (redisGetReply(c->c, (void **)&r) != REDIS_OK) {
            io_error(c, "a pipelined command", err, errlen);
            return -1;
        }
        if (out)
            out[i] = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
        if (r->type == REDIS_REPLY_ERROR && ret == 0) {
            snprintf(err, errlen, "Redis at %s refused a command: %.160s", c->where, r->str);
            ret = -1;
        }
        freeReplyObject(r);
    }
    return ret;
}
