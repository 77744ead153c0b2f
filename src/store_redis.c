/*
 * store_redis: the Redis store (issue 8), the design of shared/design/redis.md.
 * The only file that includes hiredis.
 *
 * Counts are kept in the 2015 key schema (repos, repos:DAY, repo:R,
 * repo:DAY:R, R = owner%2Fname), so the 2015 cron job reads them; ghit's
 * own keys live under ghit:. Several frontends may write one Redis.
 *
 * Exactly once. Each process draws a random 128-bit frontend id and numbers
 * its chunks (at most CHUNK_MAX deltas) 1, 2, 3, ... The Lua script
 * (store_redis_apply.lua) applies chunk s only if the frontend's high-water
 * mark in ghit:fe:<id> is s - 1, and answers "already applied" for s below
 * it. A chunk whose reply never came (timeout, dropped connection) may
 * still run later, so it stays in the owed list and is sent again, with the
 * same id, seq and deltas, before anything new: whichever copy runs first
 * applies it, every other copy only reads. The flusher gives every hit back
 * when apply fails, owed ones included; apply takes the owed ones out again
 * before it makes new chunks, and those of the chunks that did apply in
 * that try (the credit), which are never sent again.
 *
 * Whole repos (issue 10). A write's puts (set, add, delete) are chunks too,
 * applied by store_redis_write.lua under the same id and seq, so set,
 * delete and import are exactly once as well; then its deltas, as apply's.
 * Export and the statistics only read: the 2015 sets and counters, with no
 * index of their own (see each).
 *
 * Wipes. ghit:epoch, a random id made once on an empty Redis, is checked
 * inside every script: a Redis that lost it (FLUSHALL, a restart without
 * persistence) is written no more; the hits stay in memory and /healthz
 * says why. A Redis with keys but no epoch (2015 data) is refused.
 *
 * Used by one thread at a time (store.h): no locks.
 */
#include "store.h"

#include <errno.h>
#include <hiredis.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>
#include <time.h>

#include "alloc.h"
#include "buf.h"
#include "count.h"
#include "fold.h"
#include "import2015.h"
#include "monotime.h"
#include "log.h"
#include "metrics.h"
#include "redis_url.h"
#include "repo_key.h"
#include "spool.h"
#include "store_redis_2015.h"
#include "topsum.h"

#define CHUNK_MAX          1000      /* deltas per script call: about 10 ms of Redis (design 1.8) */
#define PIPELINE           16        /* chunks in flight on the connection */
#define PUT_DAYS_PER_DELTA 16        /* old days a set or delete looks for, per delta's cost */
#define FE_TTL             "2592000" /* 30 days: only clears the keys of dead frontend ids */
#define ID_BYTES           16        /* a frontend id, and the epoch */
#define R_SIZE             (REPO_KEY_SIZE * 3)
#define EPOCH_KEY          "ghit:epoch"
#define SCAN_COUNT         "1000"
#define SCAN_BATCH         1000 /* day sets probed per pipeline (export) */
#define EXPORT_BATCH       2000 /* repos and days read per MULTI (export) */
/*
 * The stream of the repos each applied chunk changed, for the other
 * frontends' caches, and its length: about 1,000 chunks (a chunk is at most
 * CHUNK_MAX names, some 30 bytes each: at most about 30 MB), some seconds of
 * the busiest flushes. A reader further behind than that reads every repo
 * again.
 */
#define FEED_KEY    "ghit:feed"
#define FEED_MAXLEN "1000"
#define FEED_READ   64 /* entries one XREAD takes at most */
/* Applied chunks kept to send again to a Redis that lost them (design 5.2): this long, this big. */
#define REPLAY_MS    30000
#define REPLAY_BYTES (64u << 20)
#define CHUNKS_HELP                                                                                \
    "Chunks sent to Redis, each send by its outcome: applied, already_applied (a copy sent "       \
    "before had run), in_doubt (handed to the connection, no answer: sent again)."

/* The scripts, compiled in by store_redis_lua.S, each followed by a NUL. */
extern const char store_redis_apply_lua[], store_redis_apply_lua_end[];
extern const char store_redis_check_lua[], store_redis_check_lua_end[];
extern const char store_redis_write_lua[], store_redis_write_lua_end[];

/*
 * Deltas, or whole-repo puts (a write), sent under one (frontend id, seq),
 * kept until Redis says they are applied.
 */
struct chunk {
    uint64_t seq;
    uint64_t seq_lo; /* in the credit: the first seq merged into it (else seq) */
    unsigned gen;    /* in the credit: the identity it was numbered under (redis_store.gen) */
    day_t today;
    bool sent;    /* handed to the connection once: a copy may be in Redis, or may come */
    bool fresh;   /* its last send was its first: no copy of it had left before */
    bool spooled; /* in the spool's chunks file, as it is (number and id included) */
    size_t n;
    struct store_delta *d; /* keys point into keys */
    char *keys;
    size_t np;           /* puts (store_redis_write.lua), whose keys point into keys */
    struct store_put *p; /* NULL in a chunk of deltas */
    struct store_day *days;
    size_t bytes;       /* of d and keys */
    int64_t applied_ms; /* in the replay window: when Redis said it was applied */
};

struct redis_store {
    struct store base;
    struct redis_url url;
    char where[512]; /* the URL without its password, for messages */
    bool readonly;
    bool policy_read;        /* check_eviction() read maxmemory-policy */
    redisContext *c;         /* NULL while not connected */
    bool idle;               /* c served an earlier read and has not answered this one yet */
    bool marked_only;        /* a reader that refuses a Redis without ghit's mark (check_mark) */
    atomic_bool interrupted; /* redis_interrupt(): scans stop */
    char id[2 * ID_BYTES + 1];
    char fe_key[48]; /* ghit:fe:<id> */
    char epoch[80];  /* "" until learned */
    char sha[48];    /* of the apply script, once loaded */
    uint64_t next_seq;
    struct chunk *owed; /* sent or numbered, not known applied; in seq order */
    size_t nowed, owed_cap;
    /*
     * The credit: copies of chunks known applied whose hits the flusher gave
     * back all the same (a try whose later chunks failed takes every hit
     * back), taken off the pending hits like the owed ones but never sent
     * again; emptied by the first try that succeeds. In seq order, before
     * owed; consecutive chunks of deltas are merged into one, a delta per
     * (repo, day), so that it holds at most what the table holds pending.
     */
    struct chunk *credit;
    size_t ncredit, credit_cap;
    unsigned gen;         /* the identity's number: new_identity adds one */
    struct chunk *window; /* applied, the last REPLAY_MS of them; in seq order, before owed */
    size_t nwindow, window_cap, window_bytes;
    uint64_t replayed; /* chunks sent again to a Redis that had lost them */
    size_t scan_limit; /* scan stops after about this many repos; 0: none */
    const char *cause;
    uint64_t applied, duplicates; /* chunks: applied, answered "already applied" */
    uint64_t in_doubt;            /* sends of chunks that got no answer */
    struct spool *spool;          /* NULL: none */
    bool spool_stale;             /* the id or the numbers changed since the chunks file */
    size_t spool_listed;          /* chunks the chunks file lists */
};

/* Fills out with n random bytes as hex; 0, or -1 if the kernel gave none. */
static int random_hex(char *out, size_t n)
{
    unsigned char b[64];
    if (n > sizeof b || getrandom(b, n, 0) != (ssize_t)n)
        return -1;
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
    return 0;
}

/* Draws a new frontend id: chunks start again at 1 under it. */
static int new_identity(struct redis_store *s)
{
    if (random_hex(s->id, ID_BYTES) < 0)
        return -1;
    snprintf(s->fe_key, sizeof s->fe_key, "ghit:fe:%s", s->id);
    s->next_seq = 1;
    s->gen++;
    s->spool_stale = true;
    return 0;
}

/* Drops the connection: after a timeout or EOF hiredis's context is unusable. */
static void disconnect(struct redis_store *s)
{
    if (s->c)
        redisFree(s->c);
    s->c = NULL;
}

static int connect_redis(struct redis_store *s, char *err, size_t errlen);

/*
 * Whether the failure hiredis reports on c (errno_was: errno just after
 * it) is the connection found closed: EOF, a reset or a broken pipe, as
 * opposed to a reply that did not come in time.
 */
static bool found_closed(const redisContext *c, int errno_was)
{
    return c->err == REDIS_ERR_EOF ||
           (c->err == REDIS_ERR_IO && (errno_was == ECONNRESET || errno_was == EPIPE));
}

/*
 * Reads the next reply of the commands appended before into *r: 0, or -1
 * with a message (what: the command, or NULL) and the connection dropped.
 *
 * Redis closes a connection that idled past its `timeout`, as CLIENT KILL
 * or a NAT that forgot it does, and hiredis learns that only when the next
 * command fails. So the first reply of a read on a connection kept from
 * before (s->idle) that fails so is not Redis failing: the commands then
 * pending, none of them answered, go once more on a new connection. Only
 * reads, and the idle probe's harmless EXPIRE, come here; the chunks'
 * replies do not (send_owed: a chunk goes again under its own number).
 */
static int get_reply(struct redis_store *s, redisReply **r, const char *what, char *err,
                     size_t errlen)
{
    char *pending = NULL;
    size_t len = 0;
    if (s->idle) {
        len = sdslen(s->c->obuf);
        pending = xmalloc(len + 1);
        memcpy(pending, s->c->obuf, len);
    }
    int ret = redisGetReply(s->c, (void **)r);
    if (ret != REDIS_OK && s->idle && found_closed(s->c, errno)) {
        log_debug("redis: %s had closed an idle connection (%s): connecting again", s->where,
                  s->c->errstr);
        disconnect(s);
        s->idle = false;
        if (connect_redis(s, err, errlen) < 0) {
            free(pending);
            *r = NULL;
            return -1;
        }
        redisAppendFormattedCommand(s->c, pending, len);
        ret = redisGetReply(s->c, (void **)r);
    }
    s->idle = false;
    free(pending);
    if (ret == REDIS_OK)
        return 0;
    snprintf(err, errlen, "Redis at %s did not answer%s%s: %s", s->where, what ? " " : "",
             what ? what : "", s->c->errstr);
    s->cause = s->c->err == REDIS_ERR_EOF ? "down" : "timeout";
    disconnect(s);
    *r = NULL;
    return -1;
}

/*
 * Runs one command (argv NUL-terminated strings); the reply, or NULL with
 * a message in err (an error reply is freed and reported too).
 */
static redisReply *command(struct redis_store *s, int argc, const char **argv, char *err,
                           size_t errlen)
{
    redisReply *r;
    redisAppendCommandArgv(s->c, argc, argv, NULL);
    if (get_reply(s, &r, argv[0], err, errlen) < 0)
        return NULL;
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "Redis at %s refused %s: %.120s", s->where, argv[0], r->str);
        /* A Redis still loading its data set says so; that passes, the rest does not. */
        s->cause = strncmp(r->str, "LOADING", 7) == 0 ? "loading" : "refused";
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

/* Runs a command whose reply is not needed; 0, or -1 with a message in err. */
static int run(struct redis_store *s, int argc, const char **argv, char *err, size_t errlen)
{
    redisReply *r = command(s, argc, argv, err, errlen);
    freeReplyObject(r);
    return r ? 0 : -1;
}

/*
 * Learns the epoch: 0. Without one: with make, on an empty database, makes
 * it (1); else -2 with a message (make: the database holds keys that are
 * not ghit's; not make: it holds no ghit data). -1 if Redis failed.
 */
static int learn_epoch(struct redis_store *s, bool make, char *err, size_t errlen)
{
    const char *get[] = {"GET", EPOCH_KEY};
    for (int attempt = 0; attempt < 2; attempt++) {
        redisReply *r = command(s, 2, get, err, errlen);
        if (!r)
            return -1;
        bool have = r->type == REDIS_REPLY_STRING && r->len < sizeof s->epoch;
        if (have)
            memcpy(s->epoch, r->str, r->len + 1);
        freeReplyObject(r);
        if (have)
            return attempt;
        if (!make) {
            snprintf(err, errlen,
                     "Redis at %s holds no ghit data (no ghit:epoch): it lost its data, or ghit "
                     "never wrote there; nothing was read",
                     s->where);
            s->cause = "wiped";
            return -2;
        }
        const char *dbsize[] = {"DBSIZE"};
        if (!(r = command(s, 1, dbsize, err, errlen)))
            return -1;
        long long keys = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
        freeReplyObject(r);
        if (keys != 0) {
            snprintf(err, errlen,
                     "Redis at %s holds %lld keys but no ghit:epoch: not ghit's data. A 2015 "
                     "ghit.me database must be imported with ghit import-2015",
                     s->where, keys);
            s->cause = "foreign";
            return -2;
        }
        char epoch[2 * ID_BYTES + 1];
        if (random_hex(epoch, ID_BYTES) < 0) {
            snprintf(err, errlen, "getrandom failed");
            return -1;
        }
        const char *set[] = {"SET", EPOCH_KEY, epoch, "NX"};
        if (run(s, 4, set, err, errlen) < 0)
            return -1;
        log_info("redis: %s was empty: made ghit:epoch %s", s->where, epoch);
    }
    snprintf(err, errlen, "Redis at %s: ghit:epoch vanished as it was made", s->where);
    return -1;
}

/*
 * Copies the value of field (as "field:value\r\n") of an INFO answer into
 * out: its length, or -1 if the field is missing, empty or longer than
 * n - 1.
 */
static int info_value(const char *info, const char *field, char *out, size_t n)
{
    size_t flen = strlen(field);
    const char *p = info;
    while (p && (strncmp(p, field, flen) != 0 || p[flen] != ':')) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    size_t len = p ? strcspn(p + flen + 1, "\r\n") : 0;
    if (len == 0 || len >= n)
        return -1;
    memcpy(out, p + flen + 1, len);
    out[len] = '\0';
    return (int)len;
}

/*
 * Warns, once, if Redis may evict keys when full. Any maxmemory-policy but
 * noeviction drops counts (repo:R) without a word, and a volatile-* one
 * ghit:fe:<id>, which has a TTL: its loss reads as Redis having lost that
 * frontend's chunks. A Redis that refuses INFO is not asked again; -1 if
 * it did not answer (the connection is dropped, err says so).
 */
static int check_eviction(struct redis_store *s, char *err, size_t errlen)
{
    if (s->policy_read)
        return 0;
    redisReply *r;
    redisAppendCommand(s->c, "INFO memory");
    if (get_reply(s, &r, "INFO", err, errlen) < 0)
        return -1;
    char max[32], policy[32];
    if (r->type == REDIS_REPLY_STRING && info_value(r->str, "maxmemory", max, sizeof max) > 0 &&
        info_value(r->str, "maxmemory_policy", policy, sizeof policy) > 0 &&
        strcmp(max, "0") != 0 && strcmp(policy, "noeviction") != 0)
        log_warn("redis: %s evicts keys when it is full (maxmemory-policy %s): that would drop "
                 "counts without a word; set maxmemory-policy noeviction (doc/redis.md)",
                 s->where, policy);
    s->policy_read = true;
    freeReplyObject(r);
    return 0;
}

/* What a failed session step means: -2 if Redis refused ghit, -1 if it may pass. */
static int session_failed(struct redis_store *s)
{
    bool refused = s->c && !(s->cause && strcmp(s->cause, "loading") == 0);
    disconnect(s);
    return refused ? -2 : -1;
}

/*
 * Connects and sets the session up (AUTH, SELECT, CLIENT SETNAME, SCRIPT
 * LOAD, the epoch) if not connected: 0; -1 if Redis cannot be reached or
 * failed (try again later); -2 if it refused ghit (wrong password, not
 * ghit's data), with a message in err.
 */
static int connect_redis(struct redis_store *s, char *err, size_t errlen)
{
    if (s->c)
        return 0;
    struct timeval tv = {.tv_sec = s->url.timeout_ms / 1000,
                         .tv_usec = (long)(s->url.timeout_ms % 1000) * 1000};
    s->c = s->url.host[0] ? redisConnectWithTimeout(s->url.host, (int)s->url.port, tv)
                          : redisConnectUnixWithTimeout(s->url.path, tv);
    if (!s->c || s->c->err) {
        snprintf(err, errlen, "cannot connect to Redis at %s: %s", s->where,
                 s->c ? s->c->errstr : "out of memory");
        s->cause = "down";
        disconnect(s);
        return -1;
    }
    /* In hiredis 0.14.1 the connect timeout covers connect() only (design 1.1). */
    if (redisSetTimeout(s->c, tv) != REDIS_OK) {
        snprintf(err, errlen, "Redis at %s: cannot set the timeout: %s", s->where, s->c->errstr);
        disconnect(s);
        return -1;
    }
    if (s->url.host[0])
        redisEnableKeepAlive(s->c);
    if (s->url.password[0]) {
        const char *auth[] = {"AUTH", s->url.user, s->url.password};
        int ret = s->url.user[0]
                      ? run(s, 3, auth, err, errlen)
                      : run(s, 2, (const char *[]){"AUTH", s->url.password}, err, errlen);
        if (ret < 0)
            return session_failed(s);
    }
    char db[16], name[32];
    snprintf(db, sizeof db, "%u", s->url.db);
    snprintf(name, sizeof name, "%s:%.8s", s->readonly ? "ghit-ro" : "ghit", s->id);
    const char *sel[] = {"SELECT", db}, *setname[] = {"CLIENT", "SETNAME", name};
    if ((s->url.db && run(s, 2, sel, err, errlen) < 0) || run(s, 3, setname, err, errlen) < 0)
        return session_failed(s);
    if (s->readonly)
        return 0;
    const char *load[] = {"SCRIPT", "LOAD", store_redis_apply_lua};
    redisReply *r = command(s, 3, load, err, errlen);
    if (!r)
        return session_failed(s);
    snprintf(s->sha, sizeof s->sha, "%.*s", r->type == REDIS_REPLY_STRING ? (int)r->len : 0,
             r->type == REDIS_REPLY_STRING ? r->str : "");
    freeReplyObject(r);
    if (!s->epoch[0]) {
        int ret = learn_epoch(s, true, err, errlen);
        if (ret < 0) {
            disconnect(s);
            return ret;
        }
    }
    return check_eviction(s, err, errlen);
}

/*
 * For a reader that refuses a Redis without ghit's data (marked_only):
 * whether Redis holds ghit's mark, the one the reader first found; 0, or
 * -2 with a message. Read without it, a wiped Redis is an empty database,
 * and a nightly ghit export of it overwrites a good backup with nothing.
 * One GET before each read: the statistics routes keep their readers
 * while Redis may be wiped.
 */
static int check_mark(struct redis_store *s, char *err, size_t errlen)
{
    char had[sizeof s->epoch];
    memcpy(had, s->epoch, sizeof had);
    int ret = learn_epoch(s, false, err, errlen);
    if (ret == 0 && had[0] && strcmp(had, s->epoch) != 0) {
        snprintf(err, errlen,
                 "Redis at %s lost ghit's data and was marked again since this reader connected "
                 "(ghit:epoch %.40s, was %.40s); nothing was read",
                 s->where, s->epoch, had);
        memcpy(s->epoch, had, sizeof had);
        s->cause = "wiped";
        return -2;
    }
    return ret;
}

/*
 * connect_redis for a read, or the idle probe: a connection kept from
 * before is marked idle, so that get_reply connects again if Redis closed
 * it meanwhile.
 */
static int connect_to_read(struct redis_store *s, char *err, size_t errlen)
{
    s->idle = s->c != NULL;
    int ret = connect_redis(s, err, errlen);
    return ret == 0 && s->marked_only ? check_mark(s, err, errlen) : ret;
}

/* --- chunks ------------------------------------------------------------------------------- */

static void free_chunk(struct chunk *c)
{
    free(c->d);
    free(c->keys);
    free(c->p);
    free(c->days);
}

/* Frees the owed chunks from index from on. */
static void drop_owed(struct redis_store *s, size_t from)
{
    for (size_t i = from; i < s->nowed; i++)
        free_chunk(&s->owed[i]);
    s->nowed = from;
}

/* Chunk o as the spool sees it (pointing into o). */
static struct spool_chunk spool_view(const struct chunk *o)
{
    return (struct spool_chunk){o->seq, o->today, o->d, o->n, o->p, o->np};
}

/* The owed chunks as the spool sees them (free() the array; it points into them). */
static struct spool_chunk *owed_view(const struct redis_store *s)
{
    struct spool_chunk *c = xcalloc(s->nowed + 1, sizeof *c);
    for (size_t i = 0; i < s->nowed; i++)
        c[i] = spool_view(&s->owed[i]);
    return c;
}

/*
 * Forgets the owed chunks never handed to a connection (Redis was down, or
 * refused the ones owed before them): they have no copy anywhere and are
 * made again from what is pending, so a long outage keeps one set of
 * chunks, not one per try. They are the last ones.
 */
static void drop_unsent(struct redis_store *s)
{
    size_t unsent = s->nowed;
    while (unsent > 0 && !s->owed[unsent - 1].sent)
        unsent--;
    if (unsent < s->nowed) {
        s->next_seq = s->owed[unsent].seq;
        drop_owed(s, unsent);
    }
}

/* A new owed chunk at the end of the list, numbered next. */
static struct chunk *new_chunk(struct redis_store *s, day_t today)
{
    if (s->nowed == s->owed_cap) {
        s->owed_cap = s->owed_cap ? 2 * s->owed_cap : 16;
        s->owed = xrealloc(s->owed, s->owed_cap * sizeof *s->owed);
    }
    struct chunk *c = &s->owed[s->nowed++];
    *c = (struct chunk){.seq = s->next_seq++, .today = today};
    return c;
}

/* Fills chunk c with copies of the n deltas at d whose rem[] is not 0, with rem[] hits each. */
static void fill_deltas(struct chunk *c, const struct store_delta *d, const uint64_t *rem, size_t n)
{
    size_t keylen = 0, m = 0;
    for (size_t i = 0; i < n; i++)
        if (rem[i]) {
            keylen += strlen(d[i].key) + 1;
            m++;
        }
    c->n = m;
    c->d = xcalloc(m, sizeof *c->d);
    c->keys = xmalloc(keylen);
    c->bytes = m * sizeof *c->d + keylen;
    char *k = c->keys;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (!rem[i])
            continue;
        size_t len = strlen(d[i].key) + 1;
        memcpy(k, d[i].key, len);
        c->d[j++] = (struct store_delta){.key = k, .day = d[i].day, .hits = rem[i]};
        k += len;
    }
}

/* Makes a new owed chunk of the n deltas at d whose rem[] is not 0, with rem[] hits each. */
static void add_chunk(struct redis_store *s, const struct store_delta *d, const uint64_t *rem,
                      size_t n, day_t today)
{
    fill_deltas(new_chunk(s, today), d, rem, n);
}

/* Fills chunk c with copies of the n puts that pp points to. */
static void fill_puts(struct chunk *c, const struct store_put *const *pp, size_t n)
{
    size_t keylen = 0, ndays = 0;
    for (size_t i = 0; i < n; i++) {
        keylen += strlen(pp[i]->repo.key) + 1;
        ndays += pp[i]->repo.ndays;
    }
    c->np = n;
    c->p = xcalloc(n, sizeof *c->p);
    c->days = xcalloc(ndays + 1, sizeof *c->days);
    c->keys = xmalloc(keylen);
    c->bytes = n * sizeof *c->p + ndays * sizeof *c->days + keylen;
    char *k = c->keys;
    struct store_day *days = c->days;
    for (size_t i = 0; i < n; i++) {
        const struct store_repo *r = &pp[i]->repo;
        size_t len = strlen(r->key) + 1;
        memcpy(k, r->key, len);
        if (r->ndays)
            memcpy(days, r->days, r->ndays * sizeof *days);
        c->p[i] = *pp[i];
        c->p[i].repo.key = k;
        c->p[i].repo.days = days;
        k += len;
        days += r->ndays;
    }
}

/* Makes a new owed chunk of the n puts that pp points to, copied. */
static void add_put_chunk(struct redis_store *s, const struct store_put *const *pp, size_t n,
                          day_t today)
{
    fill_puts(new_chunk(s, today), pp, n);
}

/* Orders ids. */
static int by_id(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Fills chunk c with copies of the n deltas at d, their hits as they are. */
static void copy_deltas(struct chunk *c, const struct store_delta *d, size_t n)
{
    uint64_t *hits = xcalloc(n + 1, sizeof *hits);
    for (size_t i = 0; i < n; i++)
        hits[i] = d[i].hits;
    fill_deltas(c, d, hits, n);
    free(hits);
}

/* Frees the credit. */
static void drop_credit(struct redis_store *s)
{
    for (size_t i = 0; i < s->ncredit; i++)
        free_chunk(&s->credit[i]);
    s->ncredit = 0;
}

/*
 * Appends to the credit a copy of chunk c, known applied (see struct
 * redis_store): a chunk of deltas merges into a last one of deltas of the
 * same identity, summed per (repo, day). A chunk of puts stays whole: its
 * ids keep a put given back from being made again (take_puts), and its
 * place keeps the hits before it apart from those after.
 */
static void credit_chunk(struct redis_store *s, const struct chunk *c)
{
    struct chunk *last = s->ncredit ? &s->credit[s->ncredit - 1] : NULL;
    if (!c->p && last && !last->p && last->gen == s->gen) {
        size_t m = last->n + c->n;
        struct store_delta *all = xcalloc(m + 1, sizeof *all);
        memcpy(all, last->d, last->n * sizeof *all);
        memcpy(all + last->n, c->d, c->n * sizeof *all);
        size_t k = fold_sum_sorted(all, m);
        struct chunk merged = {.seq = c->seq, .seq_lo = last->seq_lo, .gen = s->gen};
        copy_deltas(&merged, all, k);
        free_chunk(last);
        *last = merged;
        free(all);
        return;
    }
    if (!s->credit || s->ncredit == s->credit_cap) {
        s->credit_cap = s->credit_cap ? 2 * s->credit_cap : 4;
        s->credit = xrealloc(s->credit, s->credit_cap * sizeof *s->credit);
    }
    struct chunk *to = &s->credit[s->ncredit++];
    *to = (struct chunk){.seq = c->seq, .seq_lo = c->seq, .gen = s->gen, .today = c->today};
    if (c->p) {
        const struct store_put **pp = xcalloc(c->np + 1, sizeof *pp);
        for (size_t i = 0; i < c->np; i++)
            pp[i] = &c->p[i];
        fill_puts(to, pp, c->np);
        free(pp);
    } else {
        copy_deltas(to, c->d, c->n);
    }
}

/* The credit's chunks, then the owed ones: every chunk whose hits the pending ones hold. */
static const struct chunk **held_chunks(const struct redis_store *s, size_t *n)
{
    const struct chunk **all = xcalloc(s->ncredit + s->nowed + 1, sizeof *all);
    for (size_t i = 0; i < s->ncredit; i++)
        all[i] = &s->credit[i];
    for (size_t i = 0; i < s->nowed; i++)
        all[s->ncredit + i] = &s->owed[i];
    *n = s->ncredit + s->nowed;
    return all;
}

/*
 * What a put costs Redis, in deltas' worth: its repo, its days, and for a
 * set or delete the old days it looks for (a membership test per day from
 * its first day to today, in one SMISMEMBER a day for the whole chunk:
 * about a sixteenth of a delta each, measured). The span is guessed from
 * the new first day; the weight is capped so that one put is one chunk at
 * most.
 */
static size_t put_weight(const struct store_put *p, day_t today)
{
    size_t span = 0;
    if (p->mode != STORE_PUT_ADD)
        span = p->repo.first_day > 0 && p->repo.first_day <= today
                   ? (size_t)(today - p->repo.first_day + 1) / PUT_DAYS_PER_DELTA
                   : CHUNK_MAX;
    size_t w = 1 + p->repo.ndays + span;
    return w < CHUNK_MAX ? w : CHUNK_MAX;
}

/*
 * Makes chunks of the n puts at p that no owed or credited chunk holds
 * already (a put given back after a failed write has the id of the copy
 * sent then: only that copy may apply). Returns the keys of the new puts,
 * sorted, in *fresh (free it) and their number in *nfresh.
 */
static void take_puts(struct redis_store *s, const struct store_put *p, size_t n, day_t today,
                      const char ***fresh, size_t *nfresh)
{
    size_t nids = 0, nheld;
    const struct chunk **held = held_chunks(s, &nheld);
    for (size_t i = 0; i < nheld; i++)
        nids += held[i]->np;
    uint64_t *ids = xcalloc(nids + 1, sizeof *ids);
    nids = 0;
    for (size_t i = 0; i < nheld; i++)
        for (size_t j = 0; j < held[i]->np; j++)
            ids[nids++] = held[i]->p[j].id;
    free(held);
    qsort(ids, nids, sizeof *ids, by_id);
    const struct store_put **todo = xcalloc(n + 1, sizeof *todo);
    *fresh = xcalloc(n + 1, sizeof **fresh);
    *nfresh = 0;
    size_t m = 0, weight = 0, first = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i].id && bsearch(&p[i].id, ids, nids, sizeof *ids, by_id))
            continue;
        (*fresh)[(*nfresh)++] = p[i].repo.key;
        size_t w = put_weight(&p[i], today);
        if (m > first && weight + w > CHUNK_MAX) {
            add_put_chunk(s, todo + first, m - first, today);
            first = m;
            weight = 0;
        }
        todo[m++] = &p[i];
        weight += w;
    }
    if (m > first)
        add_put_chunk(s, todo + first, m - first, today);
    qsort(*fresh, *nfresh, sizeof **fresh, fold_name_cmp);
    free(todo);
    free(ids);
}

/* An (key, day) slot of the owed hits' table. */
struct owed_slot {
    const char *key;
    day_t day;
    uint64_t hits;
    bool matched;
};

/* FNV-1a of key and day: the owed table's hash. */
static uint64_t slot_hash(const char *key, day_t day)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)(uint32_t)day;
    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 1099511628211ULL;
    return h;
}

/* The slot of (key, day) in tab (size mask + 1, a power of two): its own or an empty one. */
static struct owed_slot *slot_find(struct owed_slot *tab, size_t mask, const char *key, day_t day)
{
    for (size_t i = slot_hash(key, day) & mask;; i = (i + 1) & mask)
        if (!tab[i].key || (tab[i].day == day && strcmp(tab[i].key, key) == 0))
            return &tab[i];
}

/*
 * Takes the np puts at p, then the n pending deltas at d (every hit the
 * table has, the owed and credited ones given back included): what is
 * neither owed nor credited becomes new chunks, puts first. -1, with a
 * message, if the owed and credited hits are not all among them (a bug:
 * nothing is sent). Below, "owed" means both.
 *
 * A repo with a new put (a set or delete that superseded one given back)
 * has pending only the hits that came after it: its owed hits came before,
 * are sent again as they were and then replaced by the put, as they would
 * have been had they applied at once. So for such a repo nothing owed is
 * taken off, and owed hits missing from the pending ones are no bug. For
 * the same reason the owed hits of a repo in chunks before an owed put of
 * it (a given-back put whose copy may have run) are not taken off either:
 * the table dropped them when the put was made; only those after it are
 * pending.
 */
static int take_pending(struct redis_store *s, const struct store_put *p, size_t np,
                        const struct store_delta *d, size_t n, day_t today, char *err,
                        size_t errlen)
{
    drop_unsent(s);
    const char **fresh;
    size_t nfresh;
    take_puts(s, p, np, today, &fresh, &nfresh);
    size_t owed_n = 0, nheld;
    const struct chunk **held = held_chunks(s, &nheld);
    for (size_t i = 0; i < nheld; i++)
        owed_n += held[i]->n;
    size_t size = 16;
    while (size < 2 * owed_n)
        size *= 2;
    struct owed_slot *tab = xcalloc(size, sizeof *tab);
    struct spool_chunk *view = xcalloc(nheld + 1, sizeof *view);
    for (size_t i = 0; i < nheld; i++)
        view[i] = spool_view(held[i]);
    size_t nputs;
    struct spool_put_at *puts = spool_last_puts(view, nheld, &nputs);
    free(view);
    for (size_t i = 0; i < nheld; i++)
        for (size_t j = 0; j < held[i]->n; j++) {
            const struct store_delta *o = &held[i]->d[j];
            if (spool_put_after(puts, nputs, o->key, i))
                continue; /* owed before a put of its repo, also owed: superseded in the table */
            struct owed_slot *sl = slot_find(tab, size - 1, o->key, o->day);
            sl->key = o->key;
            sl->day = o->day;
            sl->hits += o->hits;
        }
    uint64_t *rem = xcalloc(n + 1, sizeof *rem);
    size_t matched = 0;
    for (size_t i = 0; nfresh && i < size; i++)
        if (tab[i].key && bsearch(&tab[i].key, fresh, nfresh, sizeof *fresh, fold_name_cmp)) {
            tab[i].matched = true;
            matched++;
        }
    int ret = 0;
    for (size_t i = 0; i < n; i++) {
        if (nfresh && bsearch(&d[i].key, fresh, nfresh, sizeof *fresh, fold_name_cmp)) {
            rem[i] = d[i].hits;
            continue;
        }
        struct owed_slot *sl = slot_find(tab, size - 1, d[i].key, d[i].day);
        uint64_t owed = sl->key ? sl->hits : 0;
        if (sl->key && !sl->matched) {
            sl->matched = true;
            matched++;
        }
        if (owed > d[i].hits) {
            snprintf(err, errlen, "bug: %s owes Redis more hits than are pending", d[i].key);
            ret = -1;
        }
        rem[i] = owed > d[i].hits ? 0 : d[i].hits - owed;
    }
    size_t distinct = 0;
    for (size_t i = 0; i < size; i++)
        distinct += tab[i].key != NULL;
    if (matched != distinct) {
        snprintf(err, errlen, "bug: hits owed to Redis are missing from the pending ones");
        ret = -1;
    }
    for (size_t i = 0; ret == 0 && i < n; i += CHUNK_MAX) {
        /* A chunk of CHUNK_MAX pending deltas, of which those not owed yet. */
        size_t m = n - i < CHUNK_MAX ? n - i : CHUNK_MAX, any = 0;
        for (size_t j = 0; j < m; j++)
            any += rem[i + j] != 0;
        if (any)
            add_chunk(s, d + i, rem + i, m, today);
    }
    if (ret < 0)
        s->cause = "bug";
    free(fresh);
    free(rem);
    free(tab);
    free(puts);
    free(held);
    return ret;
}

/* An argument list whose strings live in one buffer. */
struct args {
    struct buf text;
    size_t *off, *len;
    const char **argv;
    size_t n, cap;
};

/* Begins an argument: what is appended to a->text until arg_close() is it. */
static void arg_open(struct args *a)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 64;
        a->off = xrealloc(a->off, a->cap * sizeof *a->off);
        a->len = xrealloc(a->len, a->cap * sizeof *a->len);
    }
    a->off[a->n] = a->text.len;
}

static void arg_close(struct args *a)
{
    a->len[a->n] = a->text.len - a->off[a->n];
    a->n++;
}

/* Appends one argument, printf-style. */
__attribute__((format(printf, 2, 3))) static void add_arg(struct args *a, const char *fmt, ...)
{
    arg_open(a);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&a->text, fmt, ap);
    va_end(ap);
    arg_close(a);
}

/* Appends v in decimal to b. */
static void put_u64(struct buf *b, uint64_t v)
{
    char text[20], *p = text + sizeof text;
    do
        *--p = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    buf_append(b, p, (size_t)(text + sizeof text - p));
}

/*
 * Appends the argument "repo:R" (day NULL) or "repo:DAY:R", R of rlen
 * bytes. With add_bytes() and add_u64(), the five arguments a chunk has a
 * delta, made without printf (which took a tenth of the flusher's time over
 * a million repos).
 */
static void add_repo_key(struct args *a, const char *day, const char *r, size_t rlen)
{
    arg_open(a);
    buf_append(&a->text, "repo:", 5);
    if (day) {
        buf_append(&a->text, day, DAY_TEXT_SIZE - 1);
        buf_append(&a->text, ":", 1);
    }
    buf_append(&a->text, r, rlen);
    arg_close(a);
}

/* Appends the n bytes at p as one argument. */
static void add_bytes(struct args *a, const char *p, size_t n)
{
    arg_open(a);
    buf_append(&a->text, p, n);
    arg_close(a);
}

static void add_u64(struct args *a, uint64_t v)
{
    arg_open(a);
    put_u64(&a->text, v);
    arg_close(a);
}

/* Points argv at the arguments, once they are all added. */
static void args_finish(struct args *a)
{
    a->argv = xrealloc(a->argv, (a->n + 1) * sizeof *a->argv);
    for (size_t i = 0; i < a->n; i++)
        a->argv[i] = a->text.data + a->off[i];
}

/*
 * Appends a's command to c's output, framed here (RESP: "*N", then "$LEN"
 * and the bytes of each argument) into resp, a buffer kept from one chunk
 * to the next: hiredis's own framing formats each header with sdscatfmt,
 * a cost of its own on chunks of five thousand arguments.
 */
static void args_append(redisContext *c, const struct args *a, struct buf *resp)
{
    buf_reset(resp);
    buf_printf(resp, "*%zu\r\n", a->n);
    for (size_t i = 0; i < a->n; i++) {
        buf_append(resp, "$", 1);
        put_u64(resp, a->len[i]);
        buf_append(resp, "\r\n", 2);
        buf_append(resp, a->argv[i], a->len[i]);
        buf_append(resp, "\r\n", 2);
    }
    redisAppendFormattedCommand(c, resp->data, resp->len);
}

/* Frees what a holds. */
static void args_fini(struct args *a)
{
    free(a->off);
    free(a->len);
    free(a->argv);
    buf_fini(&a->text);
}

/* Empties a for the next command, keeping its memory. */
static void args_reset(struct args *a)
{
    buf_reset(&a->text);
    a->n = 0;
}

/* Escapes key as the 2015 schema names it (owner%2Fname) into r (R_SIZE bytes); its length. */
static size_t escape(const char *key, char r[R_SIZE])
{
    size_t n = redis_key_escape(key, strlen(key), r, R_SIZE);
    if (n == (size_t)-1) {
        r[0] = '\0'; /* cannot happen: a key is at most REPO_KEY_SIZE bytes */
        return 0;
    }
    return n;
}

/* Builds EVALSHA for chunk c (see store_redis_apply.lua for the layout). */
static void build_apply(struct redis_store *s, const struct chunk *c, struct args *a)
{
    /* The distinct days of the chunk: today and yesterday, or more after an outage. */
    day_t *days = xcalloc(c->n + 1, sizeof *days);
    size_t *dayidx = xcalloc(c->n + 1, sizeof *dayidx), ndays = 0, numkeys = 5;
    for (size_t i = 0; i < c->n; i++) {
        size_t j = 0;
        while (j < ndays && days[j] != c->d[i].day)
            j++;
        if (j == ndays)
            days[ndays++] = c->d[i].day;
        dayidx[i] = j;
        numkeys += 2 + (c->d[i].day != c->today);
    }
    numkeys += ndays;
    char(*text)[DAY_TEXT_SIZE] = xcalloc(ndays + 1, sizeof *text); /* the days, as days[] */
    char today[DAY_TEXT_SIZE], r[R_SIZE];
    day_format(c->today, today);
    for (size_t j = 0; j < ndays; j++)
        day_format(days[j], text[j]);
    args_reset(a);
    add_arg(a, "EVALSHA");
    add_arg(a, "%s", s->sha);
    add_arg(a, "%zu", numkeys);
    add_arg(a, EPOCH_KEY);
    add_arg(a, "%s", s->fe_key);
    add_arg(a, "repos");
    add_arg(a, "ghit:first");
    for (size_t j = 0; j < ndays; j++)
        add_arg(a, "repos:%s", text[j]);
    for (size_t i = 0; i < c->n; i++) {
        size_t rlen = escape(c->d[i].key, r);
        add_repo_key(a, NULL, r, rlen);
        add_repo_key(a, text[dayidx[i]], r, rlen);
        if (c->d[i].day != c->today)
            add_repo_key(a, today, r, rlen);
    }
    add_arg(a, FEED_KEY);
    add_arg(a, "%s", s->epoch);
    add_arg(a, "%" PRIu64, c->seq);
    add_arg(a, FE_TTL);
    add_arg(a, "%s", today);
    add_arg(a, "%zu", ndays);
    add_arg(a, "%zu", c->n);
    for (size_t j = 0; j < ndays; j++)
        add_arg(a, "%s", text[j]);
    for (size_t i = 0; i < c->n; i++) {
        add_bytes(a, r, escape(c->d[i].key, r));
        add_u64(a, dayidx[i] + 1);
        add_u64(a, c->d[i].hits);
    }
    add_arg(a, "%s", s->id);
    add_arg(a, FEED_MAXLEN);
    args_finish(a);
    free(text);
    free(days);
    free(dayidx);
}

/* Builds EVAL of store_redis_write.lua for chunk c of puts (see the script for the layout). */
static void build_write(struct redis_store *s, const struct chunk *c, struct args *a)
{
    static const char mode[] = {
        [STORE_PUT_SET] = 'S', [STORE_PUT_ADD] = 'A', [STORE_PUT_DELETE] = 'D'};
    char text[DAY_TEXT_SIZE], r[R_SIZE];
    args_reset(a);
    add_arg(a, "EVAL");
    add_arg(a, "%s", store_redis_write_lua);
    add_arg(a, "5");
    add_arg(a, EPOCH_KEY);
    add_arg(a, "%s", s->fe_key);
    add_arg(a, "repos");
    add_arg(a, "ghit:first");
    add_arg(a, FEED_KEY);
    add_arg(a, "%s", s->epoch);
    add_arg(a, "%" PRIu64, c->seq);
    add_arg(a, FE_TTL);
    day_format(c->today, text);
    add_arg(a, "%s", text);
    add_arg(a, "%zu", c->np);
    for (size_t i = 0; i < c->np; i++) {
        const struct store_repo *rp = &c->p[i].repo;
        escape(rp->key, r);
        day_format(rp->first_day, text);
        add_arg(a, "%c", mode[c->p[i].mode]);
        add_arg(a, "%s", r);
        add_arg(a, "%" PRIu64, rp->total);
        add_arg(a, "%s", text);
        add_arg(a, "%zu", rp->ndays);
        for (size_t j = 0; j < rp->ndays; j++) {
            day_format(rp->days[j].day, text);
            add_arg(a, "%s", text);
            add_arg(a, "%" PRIu64, rp->days[j].hits);
        }
    }
    add_arg(a, "%s", s->id);
    add_arg(a, FEED_MAXLEN);
    args_finish(a);
}

/* Builds the script call of chunk c: a write of puts, or an apply of deltas. */
static void build_chunk(struct redis_store *s, const struct chunk *c, struct args *a)
{
    if (c->p)
        build_write(s, c, a);
    else
        build_apply(s, c, a);
}

/* Whether r is the apply script's answer: {applied, hw, rows, errors}. */
static bool is_answer(const redisReply *r, const struct chunk *c)
{
    return r->type == REDIS_REPLY_ARRAY && r->elements == 4 &&
           r->element[0]->type == REDIS_REPLY_INTEGER && r->element[2]->type == REDIS_REPLY_ARRAY &&
           r->element[2]->elements == 3 * c->n && r->element[3]->type == REDIS_REPLY_ARRAY;
}

/*
 * Reports chunk c's rows (its answer r) through fn, if not NULL: each repo
 * as Redis has it now. Logs the keys the script could not write.
 */
static void report_rows(const struct chunk *c, const redisReply *r, store_row_fn *fn, void *arg)
{
    const redisReply *rows = r->element[2];
    for (size_t i = 0; fn && i < c->n; i++) {
        const redisReply *t = rows->element[3 * i], *d = rows->element[3 * i + 1],
                         *f = rows->element[3 * i + 2];
        day_t first = c->d[i].day, parsed;
        if (f->type == REDIS_REPLY_STRING && f->len == 0)
            first = STORE_NO_DAY; /* the repo had hits: its first day is known */
        else if (f->type == REDIS_REPLY_STRING && !day_parse(f->str, &parsed))
            first = parsed;
        struct store_row row = {
            .key = c->d[i].key,
            .total = t->type == REDIS_REPLY_INTEGER && t->integer > 0 ? (uint64_t)t->integer : 0,
            .first_day = first,
            .day_hits = d->type == REDIS_REPLY_INTEGER && d->integer > 0 ? (uint64_t)d->integer : 0,
        };
        fn(arg, &row);
    }
    const redisReply *errs = r->element[3];
    for (size_t i = 0; i < errs->elements; i++)
        if (errs->element[i]->type == REDIS_REPLY_STRING)
            log_error("redis: a key of another type than ghit's: %s; the chunk's other keys "
                      "were written",
                      errs->element[i]->str);
}

/* Frees the first n chunks of the replay window. */
static void drop_window(struct redis_store *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        s->window_bytes -= s->window[i].bytes;
        free_chunk(&s->window[i]);
    }
    if (n && n < s->nwindow)
        memmove(s->window, s->window + n, (s->nwindow - n) * sizeof *s->window);
    s->nwindow -= n;
}

/*
 * Moves the owed chunks that applied[] marks (all of them if applied is
 * NULL), known applied, into the replay window, and trims it by age and
 * size; the others stay owed, in order. With credit, a copy of each goes
 * to the credit too: the flusher takes their hits back.
 */
static void keep_applied(struct redis_store *s, const bool *applied, bool credit)
{
    if (s->nwindow + s->nowed > s->window_cap) {
        s->window_cap = 2 * (s->nwindow + s->nowed);
        s->window = xrealloc(s->window, s->window_cap * sizeof *s->window);
    }
    int64_t now = monotime_ms();
    size_t kept = 0;
    for (size_t i = 0; i < s->nowed; i++) {
        if (applied && !applied[i]) {
            s->owed[kept++] = s->owed[i];
            continue;
        }
        if (credit)
            credit_chunk(s, &s->owed[i]);
        s->owed[i].applied_ms = now;
        s->window_bytes += s->owed[i].bytes;
        s->window[s->nwindow++] = s->owed[i];
    }
    s->nowed = kept;
    size_t old = 0;
    for (size_t bytes = s->window_bytes;
         old < s->nwindow && (now - s->window[old].applied_ms > REPLAY_MS || bytes > REPLAY_BYTES);
         old++)
        bytes -= s->window[old].bytes;
    drop_window(s, old);
}

/*
 * Sends again, in order, the window's chunks after hw: Redis said its
 * high-water mark is hw, below what it had confirmed, so it lost them (a
 * restore, a failover to a replica that was behind). Each applies once,
 * since hw is where the gate stands. 0 if all were applied; -1 if Redis
 * failed meanwhile (the next write finds the gap again); -2 if the window
 * does not reach back to hw + 1 (it started under this id later, or was
 * trimmed): those chunks are lost, said exactly in the log.
 */
static int replay(struct redis_store *s, uint64_t hw)
{
    size_t from = 0;
    while (from < s->nwindow && s->window[from].seq <= hw)
        from++;
    uint64_t want = hw + 1, last = s->nowed ? s->owed[0].seq - 1 : s->next_seq - 1;
    if (from == s->nwindow ? want <= last : s->window[from].seq != want) {
        uint64_t upto = from < s->nwindow ? s->window[from].seq - 1 : last;
        log_error("redis: Redis lost chunks %" PRIu64 "..%" PRIu64 " of frontend %s (restored or "
                  "failed over to an older copy) and they are older than the replay window "
                  "(%d s): their hits are lost",
                  want, upto, s->id, REPLAY_MS / 1000);
        if (from < s->nwindow)
            log_warn("redis: chunks %" PRIu64 "..%" PRIu64 " of frontend %s, which it lost too, "
                     "go again under a new id",
                     s->window[from].seq, s->window[s->nwindow - 1].seq, s->id);
        return -2;
    }
    struct args a = {0};
    buf_init(&a.text);
    int ret = 0;
    for (size_t i = from; i < s->nwindow && ret == 0; i++) {
        build_chunk(s, &s->window[i], &a);
        redisReply *r = redisCommandArgv(s->c, (int)a.n, a.argv, a.len);
        if (!r) {
            s->cause = "timeout";
            disconnect(s);
            ret = -1;
        } else if (!is_answer(r, &s->window[i])) {
            ret = -1;
        }
        freeReplyObject(r);
    }
    free(a.off);
    free(a.len);
    free(a.argv);
    buf_fini(&a.text);
    if (ret == 0) {
        s->replayed += s->nwindow - from;
        log_warn("redis: Redis had lost chunks %" PRIu64 "..%" PRIu64 " of frontend %s (restored "
                 "or failed over to an older copy): sent again from the replay window, applied",
                 want, s->window[s->nwindow - 1].seq, s->id);
    }
    return ret;
}

static void spool_owed(struct redis_store *s);

/*
 * Goes on under a new id: the window is forgotten but for its last keep
 * chunks, and those, then the owed chunks, are renumbered from 1. The kept
 * ones are chunks Redis lost after a hole that the window no longer holds
 * (lost_after_hole()): the new id's gate finds them missing at the next write
 * or probe, and replay() sends them, once, before the owed ones. The chunks
 * file learns the new id at once: a crash before the next write would else
 * bring back the old id and numbers, which Redis has taken already, and a
 * restart would drop those chunks as applied.
 */
static void start_again(struct redis_store *s, size_t keep)
{
    drop_window(s, s->nwindow - keep);
    if (new_identity(s) < 0)
        return;
    /*
     * Kept as if applied now: the window is trimmed by age before a gap is
     * handled, and these, up to 30 s old, would else leave it before the
     * new id's gate asks for them.
     */
    int64_t now = monotime_ms();
    for (size_t i = 0; i < s->nwindow; i++) {
        s->window[i].seq = s->next_seq++;
        s->window[i].applied_ms = now;
    }
    for (size_t i = 0; i < s->nowed; i++)
        s->owed[i].seq = s->next_seq++;
    spool_owed(s);
}

/* How many of the window's chunks, its last ones, are after hw. */
static size_t window_after(const struct redis_store *s, uint64_t hw)
{
    size_t n = 0;
    while (n < s->nwindow && s->window[s->nwindow - 1 - n].seq > hw)
        n++;
    return n;
}

/*
 * Redis lost the chunks after hw, and the replay window does not reach back
 * to hw + 1 (replay() said -2): what it lost before the window is lost.
 * Credited chunks after hw are no longer in Redis: they leave the credit,
 * and their hits, pending, go in new chunks. The window's other chunks
 * after hw, whose hits are nowhere else, go again first under a new id
 * (start_again()); the window's copies of credited ones are dropped, or
 * they would count twice.
 */
static void lost_after_hole(struct redis_store *s, uint64_t hw)
{
    size_t kept = 0, nfreed = 0;
    struct {
        uint64_t lo, hi;
    } *freed = xcalloc(s->ncredit + 1, sizeof *freed);
    for (size_t i = 0; i < s->ncredit; i++) {
        if (s->credit[i].gen == s->gen && s->credit[i].seq_lo > hw) {
            freed[nfreed].lo = s->credit[i].seq_lo;
            freed[nfreed++].hi = s->credit[i].seq;
            free_chunk(&s->credit[i]);
        } else {
            s->credit[kept++] = s->credit[i];
        }
    }
    s->ncredit = kept;
    kept = 0;
    for (size_t i = 0; i < s->nwindow; i++) {
        struct chunk *c = &s->window[i];
        bool credited = false;
        for (size_t k = 0; k < nfreed && !credited; k++)
            credited = c->seq >= freed[k].lo && c->seq <= freed[k].hi;
        if (credited) {
            s->window_bytes -= c->bytes;
            free_chunk(c);
        } else {
            s->window[kept++] = *c;
        }
    }
    s->nwindow = kept;
    free(freed);
    start_again(s, window_after(s, hw));
}

/*
 * Redis answered GHITGAP hw for a chunk: if hw is below what it already
 * confirmed, Redis went back in time (a restore, a failover): the chunks
 * it lost go again from the replay window, or lost_after_hole() says what
 * happens to them when the window does not reach back that far.
 */
static void handle_gap(struct redis_store *s, uint64_t hw)
{
    if (s->nowed == 0 || hw + 1 >= s->owed[0].seq)
        return; /* an earlier chunk of this pipeline failed: they go again, in order */
    if (s->c && replay(s, hw) == -2)
        lost_after_hole(s, hw);
    /* Else replayed, or to try again: the owed ones follow at the next write. */
}

/* Writes the message for an error reply of the apply script into err. */
static void explain_error(struct redis_store *s, const char *e, char *err, size_t errlen)
{
    if (strncmp(e, "GHITEPOCH ", 10) == 0) {
        snprintf(err, errlen,
                 "Redis lost ghit's data (ghit:epoch is %.40s, was %.8s...): restore it from its "
                 "backup (AOF or RDB); ghit keeps the hits in memory and writes nothing meanwhile",
                 e + 10, s->epoch);
        s->cause = "wiped";
    } else if (strncmp(e, "GHITGAP ", 8) == 0) {
        snprintf(err, errlen, "Redis at %s: an earlier chunk did not apply; sending again",
                 s->where);
        s->cause = "gap";
    } else if (strncmp(e, "OOM", 3) == 0) {
        snprintf(err, errlen, "Redis at %s is out of memory (maxmemory): %.100s", s->where, e);
        s->cause = "full";
    } else if (strncmp(e, "READONLY", 8) == 0) {
        /* A replica, or a primary demoted by a failover: connect again to find the new one. */
        snprintf(err, errlen, "Redis at %s is a read-only replica now: %.100s", s->where, e);
        s->cause = "readonly";
        disconnect(s);
    } else {
        snprintf(err, errlen, "Redis at %s refused a write: %.120s", s->where, e);
        s->cause = "refused";
    }
}

/* What a try learned besides its result: see send_owed. */
struct try_outcome {
    bool *applied;   /* per owed chunk: known applied (answered, and not a conflict) */
    bool noscript;   /* Redis had lost the script */
    bool taken;      /* a chunk never sent before was answered "already applied" */
    uint64_t gap_hw; /* hw of a GHITGAP answer, or UINT64_MAX */
};

/*
 * Sends the owed chunks from, up to to, PIPELINE at a time, and keeps
 * their answers in replies[from ..]. STORE_OK if each one applied or had
 * applied; else STORE_RETRY (those handed to the connection stay owed, to
 * be sent again as they are, or renumbered) and *out says what else was
 * learned.
 *
 * ghit_redis_chunks_total counts each send once, by its outcome: applied,
 * already_applied (a copy sent before had run), in_doubt (handed to the
 * connection, and no answer came: it goes again). Chunks a failed
 * connection never took are not counted: they are made again, and counted
 * when sent. Refusals (error answers) are not counted.
 *
 * A chunk sent for the first time cannot have run before: if Redis answers
 * "already applied" for it, its high-water mark is ahead of every number
 * this frontend gave out (a spool older than Redis, restored after a power
 * cut or copied; another process with this id), so the chunk did not
 * apply, and neither would any under these numbers: *out's taken.
 */
static enum store_result send_owed(struct redis_store *s, size_t from, size_t to,
                                   redisReply **replies, struct try_outcome *out, char *err,
                                   size_t errlen)
{
    struct args a = {0};
    struct buf resp;
    buf_init(&a.text);
    buf_init(&resp);
    size_t sent = from, got = from;
    bool lost = false, ok = true;
    while (got < to) {
        for (; sent < to && sent - got < PIPELINE; sent++) {
            build_chunk(s, &s->owed[sent], &a);
            args_append(s->c, &a, &resp);
            s->owed[sent].fresh = !s->owed[sent].sent;
            s->owed[sent].sent = true;
        }
        void *r = NULL;
        if (redisGetReply(s->c, &r) != REDIS_OK) {
            /* In doubt: those handed to the connection; the rest were never sent. */
            snprintf(err, errlen,
                     "Redis at %s did not answer (%s): %zu chunks in doubt, to be sent again",
                     s->where, s->c->errstr, sent - got);
            METRICS_ADD("ghit_redis_chunks_total", CHUNKS_HELP, "outcome=\"in_doubt\"", sent - got);
            s->in_doubt += sent - got;
            s->cause = s->c->err == REDIS_ERR_EOF ? "down" : "timeout";
            disconnect(s);
            lost = true;
            break;
        }
        replies[got++] = r;
    }
    for (size_t i = from; i < got; i++) {
        const redisReply *r = replies[i];
        if (is_answer(r, &s->owed[i]) && (r->element[0]->integer == 1 || !s->owed[i].fresh)) {
            out->applied[i] = true;
            if (r->element[0]->integer == 1) {
                s->applied++;
                METRICS_INC("ghit_redis_chunks_total", CHUNKS_HELP, "outcome=\"applied\"");
            } else {
                s->duplicates++;
                METRICS_INC("ghit_redis_chunks_total", CHUNKS_HELP, "outcome=\"already_applied\"");
            }
            continue;
        }
        if (is_answer(r, &s->owed[i])) {
            if (!out->taken)
                log_error("redis: Redis's high-water mark for frontend %s is %lld, at or past "
                          "its chunk %" PRIu64 ", which it never had (a spool older than Redis, "
                          "or another process with this id): the chunks go on under a new id",
                          s->id,
                          r->element[1]->type == REDIS_REPLY_INTEGER ? r->element[1]->integer
                                                                     : -1LL,
                          s->owed[i].seq);
            if (ok)
                snprintf(err, errlen,
                         "Redis at %s holds chunks of this frontend's id that it never sent; "
                         "sending again under a new id",
                         s->where);
            s->cause = "conflict";
            out->taken = true;
        } else if (ok && r->type == REDIS_REPLY_ERROR) {
            if (strncmp(r->str, "NOSCRIPT", 8) == 0) {
                out->noscript = true;
                snprintf(err, errlen, "Redis at %s had lost ghit's script", s->where);
                s->cause = "noscript";
            } else {
                explain_error(s, r->str, err, errlen);
            }
            if (strncmp(r->str, "GHITGAP ", 8) == 0)
                out->gap_hw = strtoull(r->str + 8, NULL, 10);
        } else if (ok) {
            snprintf(err, errlen, "Redis at %s answered the script in a way ghit does not know",
                     s->where);
            s->cause = "protocol";
        }
        ok = false;
    }
    args_fini(&a);
    buf_fini(&resp);
    return ok && !lost ? STORE_OK : STORE_RETRY;
}

/* Says how many deltas and puts wait in owed chunks (metrics). */
static void count_owed(const struct redis_store *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nowed; i++)
        n += s->owed[i].n + s->owed[i].np;
    METRICS_GAUGE_SET("ghit_redis_owed_deltas",
                      "Deltas and puts sent to Redis and not known applied, kept to send again.",
                      "", (int64_t)n);
}

/* Writes the owed chunks to the spool's chunks file (spool.h), if any changed since. */
static void spool_owed(struct redis_store *s)
{
    if (!s->spool)
        return;
    bool behind = s->spool_stale || s->nowed != s->spool_listed || spool_wants_chunks(s->spool);
    for (size_t i = 0; !behind && i < s->nowed; i++)
        behind = !s->owed[i].spooled;
    if (!behind)
        return;
    struct spool_chunk *c = owed_view(s);
    spool_write_chunks(s->spool, s->id, s->next_seq, c, s->nowed);
    free(c);
    for (size_t i = 0; i < s->nowed; i++)
        s->owed[i].spooled = true;
    s->spool_listed = s->nowed;
    s->spool_stale = false;
}

/*
 * Sends every owed chunk and reads the answers. On success of all: reports
 * their rows, forgets them, STORE_OK. Else those sent and not known applied
 * stay owed; those known applied leave for the credit (the flusher gives
 * all their hits back, and the next take must not send them again).
 *
 * The chunks owed from an earlier try go first, alone: only once each of
 * them has applied are the new ones (made by take_pending, never sent) sent
 * too. So while every try fails (Redis refuses writes, or answers too
 * late) the owed list keeps the chunks of the first failed try, and the
 * hits that come meanwhile wait in the table, summed per repo, instead of
 * making new chunks at each try: the new ones, never handed to a
 * connection, are made again from the table next time. And a try whose
 * old chunks apply and whose new ones fail leaves only the new ones owed:
 * the old ones are credited, merged a delta per (repo, day). Owed and
 * credit together hold at most twice the table's pending (repo, day)s,
 * however many tries fail so.
 */
static enum store_result send_owed_all(struct redis_store *s, day_t today, store_row_fn *fn,
                                       void *arg, bool *noscript, char *err, size_t errlen)
{
    /* Written ahead: a chunk is in the chunks file before any copy of it leaves. */
    spool_owed(s);
    size_t old = 0;
    while (old < s->nowed && s->owed[old].sent)
        old++;
    size_t n = s->nowed;
    redisReply **replies = xcalloc(n + 1, sizeof *replies);
    struct try_outcome out = {.applied = xcalloc(n + 1, sizeof *out.applied), .gap_hw = UINT64_MAX};
    enum store_result res = STORE_OK;
    if (old > 0 && old < n)
        res = send_owed(s, 0, old, replies, &out, err, errlen);
    if (res == STORE_OK)
        res = send_owed(s, old < n ? old : 0, n, replies, &out, err, errlen);
    if (res == STORE_OK) {
        for (size_t i = 0; i < n; i++)
            report_rows(&s->owed[i], replies[i], s->owed[i].today == today ? fn : NULL, arg);
        keep_applied(s, NULL, false);
    } else {
        keep_applied(s, out.applied, true);
        if (out.taken)
            start_again(s, 0); /* these numbers were another's: nothing of ours to send again */
        else if (out.gap_hw != UINT64_MAX)
            handle_gap(s, out.gap_hw);
    }
    *noscript = out.noscript;
    for (size_t i = 0; i < n; i++)
        freeReplyObject(replies[i]);
    free(replies);
    free(out.applied);
    return res;
}

/* --- the store operations ----------------------------------------------------------------- */

static enum store_result send_all(struct redis_store *s, day_t today, store_row_fn *fn, void *arg,
                                  char *err, size_t errlen);

/* store apply: see the top of this file and store.h. */
static enum store_result redis_apply(struct store *st, const struct store_delta *d, size_t n,
                                     day_t today, store_row_fn *fn, void *arg, char *err,
                                     size_t errlen)
{
    struct redis_store *s = (struct redis_store *)st;
    if (s->readonly) {
        snprintf(err, errlen, "bug: apply on a read-only Redis store");
        return STORE_FAILED;
    }
    if (take_pending(s, NULL, 0, d, n, today, err, errlen) < 0) {
        log_error("redis: %s", err);
        return STORE_FAILED;
    }
    return send_all(s, today, fn, arg, err, errlen);
}

/*
 * Writes the chunks file now if the spool has none since it wrote again
 * (spool_wants_chunks), before any connection: its hits files count only
 * beside one, and Redis may not answer for long (down, paused, out of
 * memory). Otherwise the file waits for a write that reaches Redis.
 */
static void spool_owed_if_wanted(struct redis_store *s)
{
    if (s->spool && spool_wants_chunks(s->spool))
        spool_owed(s);
}

/*
 * Sends every owed chunk (connecting first), and once more after loading
 * the apply script if Redis had lost it; see send_owed_all.
 */
static enum store_result send_all(struct redis_store *s, day_t today, store_row_fn *fn, void *arg,
                                  char *err, size_t errlen)
{
    spool_owed_if_wanted(s);
    enum store_result r = STORE_OK;
    for (int round = 0; s->nowed > 0; round++) {
        r = STORE_RETRY;
        if (connect_redis(s, err, errlen) < 0)
            break;
        bool noscript = false;
        r = send_owed_all(s, today, fn, arg, &noscript, err, errlen);
        if (!noscript || round == 1)
            break;
        r = STORE_RETRY;
        /* Redis restarted, failed over or ran SCRIPT FLUSH: nothing ran; load it, send again. */
        if (!s->c)
            continue; /* lost on the way: connecting loads it */
        const char *load[] = {"SCRIPT", "LOAD", store_redis_apply_lua};
        redisReply *rep = command(s, 3, load, err, errlen);
        if (!rep)
            break;
        freeReplyObject(rep);
    }
    if (r != STORE_OK) {
        drop_unsent(s);
    } else {
        drop_credit(s); /* the flusher keeps its hits as written now */
        spool_owed(s);  /* none owed now: a restart has nothing to send again */
    }
    count_owed(s);
    return r;
}

/* store check: the idle probe (store_redis_check.lua). */
static enum store_result redis_check(struct store *st, char *err, size_t errlen)
{
    struct redis_store *s = (struct redis_store *)st;
    if (s->readonly)
        return STORE_OK;
    spool_owed_if_wanted(s); /* the probe is a write: Redis may hold it */
    if (connect_to_read(s, err, errlen) < 0)
        return STORE_RETRY;
    const char *argv[] = {"EVAL", store_redis_check_lua, "2", EPOCH_KEY, s->fe_key, s->epoch,
                          FE_TTL};
    redisReply *r;
    redisAppendCommandArgv(s->c, 7, argv, NULL);
    if (get_reply(s, &r, NULL, err, errlen) < 0)
        return STORE_RETRY;
    enum store_result res = STORE_OK;
    if (r->type == REDIS_REPLY_ERROR) {
        explain_error(s, r->str, err, errlen);
        res = STORE_RETRY;
    } else if (r->type == REDIS_REPLY_INTEGER && s->nowed == 0 &&
               (uint64_t)r->integer + 1 < s->next_seq) {
        /* Idle, and Redis went back in time: send again what it lost. */
        int ret = replay(s, (uint64_t)r->integer);
        if (ret == -2) {
            lost_after_hole(s, (uint64_t)r->integer); /* none owed */
        } else if (ret == -1) {
            snprintf(err, errlen, "Redis at %s lost chunks and failed while they were sent again",
                     s->where);
            res = STORE_RETRY;
        }
    }
    freeReplyObject(r);
    return res;
}

/*
 * The figures of n repos (2015 names r[i]) on day, in one round trip of
 * two commands: MGET of their totals and day counts, HMGET of their first
 * days (and, with epoch, GET ghit:epoch first). A command per repo would
 * cost Redis several times the CPU (design 3.2 measured 4.2 us a repo with
 * three). Fills got; 0, or -1 (disconnected, or refused) with err.
 */
struct figures {
    redisReply *epoch, *mget, *first;
};

static void free_figures(struct figures *got)
{
    freeReplyObject(got->epoch);
    freeReplyObject(got->mget);
    freeReplyObject(got->first);
}

static int read_figures(struct redis_store *s, const char *const *r, size_t n, const char *day,
                        bool epoch, struct figures *got, char *err, size_t errlen)
{
    if (epoch)
        redisAppendCommand(s->c, "GET " EPOCH_KEY);
    struct args a = {0};
    buf_init(&a.text);
    add_arg(&a, "MGET");
    for (size_t i = 0; i < n; i++) {
        add_arg(&a, "repo:%s", r[i]);
        add_arg(&a, "repo:%s:%s", day, r[i]);
    }
    args_finish(&a);
    redisAppendCommandArgv(s->c, (int)a.n, a.argv, a.len);
    args_reset(&a);
    add_arg(&a, "HMGET");
    add_arg(&a, "ghit:first");
    for (size_t i = 0; i < n; i++)
        add_arg(&a, "%s", r[i]);
    args_finish(&a);
    redisAppendCommandArgv(s->c, (int)a.n, a.argv, a.len);
    free(a.off);
    free(a.len);
    free(a.argv);
    buf_fini(&a.text);
    *got = (struct figures){0};
    if ((epoch && get_reply(s, &got->epoch, NULL, err, errlen) < 0) ||
        get_reply(s, &got->mget, NULL, err, errlen) < 0 ||
        get_reply(s, &got->first, NULL, err, errlen) < 0) {
        free_figures(got);
        return -1;
    }
    if (got->mget->type != REDIS_REPLY_ARRAY || got->mget->elements != 2 * n ||
        got->first->type != REDIS_REPLY_ARRAY || got->first->elements != n) {
        snprintf(err, errlen, "Redis at %s refused to read the figures: %.100s", s->where,
                 got->mget->type == REDIS_REPLY_ERROR ? got->mget->str : "ghit:first is no hash");
        s->cause = "refused";
        free_figures(got);
        return -1;
    }
    return 0;
}

/* Repo i's row (key) from what read_figures got; false if Redis has no total for it. */
static bool figures_row(const struct figures *got, size_t i, const char *key, day_t day,
                        struct store_row *row)
{
    const redisReply *t = got->mget->element[2 * i], *d = got->mget->element[2 * i + 1],
                     *f = got->first->element[i];
    day_t first = day, parsed;
    if (f->type == REDIS_REPLY_STRING && !day_parse(f->str, &parsed))
        first = parsed;
    *row = (struct store_row){
        .key = key,
        .total = t->type == REDIS_REPLY_STRING ? strtoull(t->str, NULL, 10) : 0,
        .first_day = first,
        .day_hits = d->type == REDIS_REPLY_STRING ? strtoull(d->str, NULL, 10) : 0,
    };
    return t->type == REDIS_REPLY_STRING;
}

/* Reports one SSCAN batch of members (2015 names), read with a pipeline of GETs. */
static int scan_members(struct redis_store *s, const redisReply *members, day_t day,
                        store_row_fn *fn, void *arg, size_t *skipped, char *err, size_t errlen)
{
    char text[DAY_TEXT_SIZE];
    day_format(day, text);
    size_t n = members->elements;
    const char **names = xcalloc(n + 1, sizeof *names);
    for (size_t i = 0; i < n; i++)
        names[i] = members->element[i]->str;
    struct figures got;
    int ret = n ? read_figures(s, names, n, text, false, &got, err, errlen) : 0;
    for (size_t i = 0; ret == 0 && i < n; i++) {
        char raw[R_SIZE], key[REPO_KEY_SIZE];
        size_t len = redis_key_unescape(names[i], raw, sizeof raw);
        struct store_row row;
        if (len == (size_t)-1 || repo_key_parse(raw, len, key) || strcmp(raw, key) != 0) {
            ++*skipped; /* 2015 names (mixed case, double escapes): for the import */
        } else {
            figures_row(&got, i, key, day, &row);
            fn(arg, &row);
        }
    }
    if (ret == 0 && n)
        free_figures(&got);
    free(names);
    return ret;
}

/* Whether a SCAN reply is {cursor, [keys]}. */
static bool scan_shape(const redisReply *r)
{
    return r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
           r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_ARRAY;
}

/*
 * Receives one batch of a cursor's elements; 0 for the next, 1 to stop
 * here, or -1 if the connection dropped.
 */
typedef int batch_fn(void *arg, const redisReply *batch, char *err, size_t errlen);

/*
 * Runs the cursor command argv (SSCAN or HSCAN; argv[2] is the cursor)
 * to its end or until fn says stop, handing each batch (an array) to fn;
 * STORE_OK or why not.
 */
static enum store_result scan_all(struct redis_store *s, const char **argv, int argc, batch_fn *fn,
                                  void *arg, char *err, size_t errlen)
{
    char cursor[32] = "0";
    argv[2] = cursor;
    do {
        redisReply *r = command(s, argc, argv, err, errlen);
        if (!r)
            return STORE_RETRY;
        if (!scan_shape(r)) {
            snprintf(err, errlen, "Redis at %s: %s is not a %s", s->where, argv[1],
                     argv[0][0] == 'H' ? "hash" : "set");
            freeReplyObject(r);
            return STORE_FAILED;
        }
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        int ret = fn(arg, r->element[1], err, errlen);
        freeReplyObject(r);
        if (ret < 0)
            return STORE_RETRY;
        if (ret > 0)
            break;
        if (atomic_load(&s->interrupted)) {
            snprintf(err, errlen, "interrupted: ghit is stopping");
            return STORE_FAILED;
        }
    } while (strcmp(cursor, "0") != 0);
    return STORE_OK;
}

/* What redis_scan's batches go to. */
struct scanning {
    struct redis_store *s;
    day_t day;
    store_row_fn *fn;
    void *arg;
    size_t skipped, seen;
};

/* batch_fn of redis_scan: one SSCAN batch of repos; stops at the scan limit. */
static int scan_batch(void *arg, const redisReply *batch, char *err, size_t errlen)
{
    struct scanning *sc = arg;
    sc->seen += batch->elements;
    if (scan_members(sc->s, batch, sc->day, sc->fn, sc->arg, &sc->skipped, err, errlen) < 0)
        return -1;
    return sc->s->scan_limit && sc->seen >= sc->s->scan_limit;
}

/* store scan: every member of repos (SSCAN), its total, its hits on day and first day. */
static enum store_result redis_scan(struct store *st, day_t day, store_row_fn *fn, void *arg,
                                    char *err, size_t errlen)
{
    struct redis_store *s = (struct redis_store *)st;
    if (connect_to_read(s, err, errlen) < 0)
        return STORE_RETRY;
    struct scanning sc = {.s = s, .day = day, .fn = fn, .arg = arg};
    const char *argv[] = {"SSCAN", "repos", NULL, "COUNT", SCAN_COUNT};
    enum store_result res = scan_all(s, argv, 5, scan_batch, &sc, err, errlen);
    if (res == STORE_OK && sc.skipped)
        log_warn("redis: skipped %zu members of repos that are not ghit repo names (2015 data "
                 "to import)",
                 sc.skipped);
    return res;
}

/*
 * Whether the epoch read back, ep, is the one s knows: the writer's at the
 * loader's start (store_redis_expect_epoch()), or else the one it first
 * reads, so that a loader that starts before the writer made it (Redis
 * down at ghit's start, then up and empty) is not refused. A Redis that
 * lost it was wiped: its "no such repo" would be wrong.
 */
static bool same_epoch(struct redis_store *s, const redisReply *ep, char *err, size_t errlen)
{
    if (!s->epoch[0] && ep->type == REDIS_REPLY_STRING && ep->len < sizeof s->epoch)
        memcpy(s->epoch, ep->str, ep->len + 1);
    if (!s->epoch[0] || (ep->type == REDIS_REPLY_STRING && strcmp(ep->str, s->epoch) == 0))
        return true;
    explain_error(s, ep->type == REDIS_REPLY_STRING ? "GHITEPOCH other" : "GHITEPOCH none", err,
                  errlen);
    return false;
}

/* store load: each key's figures on day, in one round trip, after the epoch. */
static enum store_result redis_load(struct store *st, const char *const *keys, size_t n, day_t day,
                                    store_load_fn *fn, void *arg, char *err, size_t errlen)
{
    struct redis_store *s = (struct redis_store *)st;
    if (connect_to_read(s, err, errlen) < 0)
        return STORE_RETRY;
    char text[DAY_TEXT_SIZE];
    day_format(day, text);
    char *r = xmalloc(n * R_SIZE + 1);
    const char **names = xcalloc(n + 1, sizeof *names);
    for (size_t i = 0; i < n; i++) {
        escape(keys[i], r + i * R_SIZE);
        names[i] = r + i * R_SIZE;
    }
    struct figures got;
    enum store_result res = STORE_RETRY;
    if (read_figures(s, names, n, text, true, &got, err, errlen) == 0) {
        if (same_epoch(s, got.epoch, err, errlen)) {
            for (size_t i = 0; i < n; i++) {
                struct store_row row;
                fn(arg, keys[i], figures_row(&got, i, keys[i], day, &row) ? &row : NULL);
            }
            res = STORE_OK;
        }
        free_figures(&got);
    }
    free(names);
    free(r);
    return res;
}

/* --- whole repos: write and export (issue 10) ------------------------------------------- */

/*
 * store write: the puts, then the deltas, as chunks after the owed ones,
 * each exactly once (store.h says what a failure part way leaves).
 *
 * A lost reply between them loses and doubles nothing: the flusher gives
 * back the puts (with their ids) and the deltas, and the next write sends
 * every chunk still owed again as it was, puts and deltas in their order,
 * before anything new: take_puts knows the given-back puts by their ids and
 * makes no second copy (which would wipe the deltas applied after the
 * first), and take_pending takes the owed hits off the pending ones (but
 * for those owed before an owed put of their repo, which the table dropped
 * when the put was made).
 */
static enum store_result redis_write(struct store *st, const struct store_put *p, size_t n,
                                     const struct store_delta *d, size_t nd, char *err,
                                     size_t errlen)
{
    struct redis_store *s = (struct redis_store *)st;
    if (s->readonly) {
        snprintf(err, errlen, "bug: write on a read-only Redis store");
        return STORE_FAILED;
    }
    /* Today bounds the old days a set or delete looks for; deltas report no rows here. */
    day_t today = day_from_time(time(NULL));
    if (take_pending(s, p, n, d, nd, today, err, errlen) < 0) {
        log_error("redis: %s", err);
        return STORE_FAILED;
    }
    return send_all(s, today, NULL, NULL, err, errlen);
}

/* The integer a GET or HGET answered; 0 if none. */
static uint64_t count_of(const redisReply *r)
{
    if (r && r->type == REDIS_REPLY_STRING)
        return strtoull(r->str, NULL, 10);
    return r && r->type == REDIS_REPLY_INTEGER && r->integer > 0 ? (uint64_t)r->integer : 0;
}

/* Whether the member m of repos (a 2015 name) is a ghit key; if so, it is in key. */
static bool key_of(const char *m, char key[REPO_KEY_SIZE])
{
    char raw[R_SIZE];
    size_t len = redis_key_unescape(m, raw, sizeof raw);
    return len != (size_t)-1 && !repo_key_parse(raw, len, key) && strcmp(raw, key) == 0;
}

/* Reads n replies of commands appended before into r; 0, or -1 with a message (dropped). */
static int get_replies(struct redis_store *s, redisReply **r, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        if (get_reply(s, &r[i], NULL, err, errlen) < 0) {
            while (i > 0)
                freeReplyObject(r[--i]);
            return -1;
        }
    return 0;
}

/* One repo of an export: its key and 2015 name, and its days found in the day sets. */
struct xrepo {
    const char *key, *r;
    size_t off;          /* of key in the names, until the names are complete */
    size_t pair, npairs; /* its pairs (sorted), once counted */
};

/* A (repo, day) found in repos:<day>. */
struct xpair {
    uint32_t repo;
    day_t day;
};

struct xport {
    struct buf names; /* key NUL R NUL, per repo */
    struct xrepo *repos, **by_r;
    size_t n, cap;
    struct xpair *pairs;
    size_t npairs, pairs_cap;
    day_t earliest, day; /* the earliest first day; the day whose set is read */
};

/* scan_all callback: the members of repos that are ghit keys. */
static int xport_member(void *arg, const redisReply *batch, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct xport *x = arg;
    for (size_t i = 0; i < batch->elements; i++) {
        char key[REPO_KEY_SIZE];
        const char *m = batch->element[i]->str;
        if (batch->element[i]->type != REDIS_REPLY_STRING || !key_of(m, key))
            continue;
        if (x->n == x->cap) {
            x->cap = x->cap ? 2 * x->cap : 1024;
            x->repos = xrealloc(x->repos, x->cap * sizeof *x->repos);
        }
        x->repos[x->n++] = (struct xrepo){.off = x->names.len};
        buf_append(&x->names, key, strlen(key) + 1);
        buf_append(&x->names, m, strlen(m) + 1);
    }
    return 0;
}

/* scan_all callback: the earliest first day in ghit:first (field, value, ...). */
static int xport_first(void *arg, const redisReply *batch, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct xport *x = arg;
    for (size_t i = 1; i < batch->elements; i += 2) {
        day_t d;
        if (batch->element[i]->type == REDIS_REPLY_STRING &&
            !day_parse(batch->element[i]->str, &d) && d < x->earliest)
            x->earliest = d;
    }
    return 0;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(((const struct xrepo *)a)->key, ((const struct xrepo *)b)->key);
}

static int by_r(const void *a, const void *b)
{
    return strcmp((*(const struct xrepo *const *)a)->r, (*(const struct xrepo *const *)b)->r);
}

static int by_repo_day(const void *a, const void *b)
{
    const struct xpair *x = a, *y = b;
    if (x->repo != y->repo)
        return x->repo < y->repo ? -1 : 1;
    return x->day < y->day ? -1 : x->day > y->day;
}

/* scan_all callback: one batch of repos:<x->day>'s members, as pairs. */
static int xport_day(void *arg, const redisReply *batch, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct xport *x = arg;
    for (size_t i = 0; i < batch->elements; i++) {
        struct xrepo probe = {.r = batch->element[i]->str}, *pp = &probe, **hit;
        if (batch->element[i]->type != REDIS_REPLY_STRING ||
            !(hit = bsearch(&pp, x->by_r, x->n, sizeof *x->by_r, by_r)))
            continue; /* not a ghit key, or made after repos was read */
        if (x->npairs == x->pairs_cap) {
            x->pairs_cap = x->pairs_cap ? 2 * x->pairs_cap : 4096;
            x->pairs = xrealloc(x->pairs, x->pairs_cap * sizeof *x->pairs);
        }
        x->pairs[x->npairs++] = (struct xpair){(uint32_t)(*hit - x->repos), x->day};
    }
    return 0;
}

#define DAY_SET_SIZE 32

/* The name of the 2015 set of d's repos: repos:YYYY-MM-DD. */
static void day_set(day_t d, char name[DAY_SET_SIZE])
{
    char text[DAY_TEXT_SIZE];
    day_format(d, text);
    snprintf(name, DAY_SET_SIZE, "repos:%s", text);
}

/*
 * Finds the days of every repo: the day sets repos:<day> from the earliest
 * first day to today. Probing those few thousand names with SCARD (O(1)
 * each, pipelined) is far cheaper than SCAN MATCH repos:*, which walks
 * every key of the database (one per repo and day); then each day set's
 * members are read with SSCAN. Cost: the repos and their days, once.
 */
static enum store_result xport_days(struct redis_store *s, struct xport *x, day_t today, char *err,
                                    size_t errlen)
{
    for (day_t from = x->earliest; from <= today; from += SCAN_BATCH) {
        day_t to = today - from < SCAN_BATCH ? today : from + SCAN_BATCH - 1;
        char text[DAY_TEXT_SIZE];
        for (day_t d = from; d <= to; d++) {
            day_format(d, text);
            redisAppendCommand(s->c, "SCARD repos:%s", text);
        }
        redisReply *r[SCAN_BATCH];
        size_t n = (size_t)(to - from + 1);
        if (get_replies(s, r, n, err, errlen) < 0)
            return STORE_RETRY;
        enum store_result res = STORE_OK;
        for (size_t i = 0; i < n; i++) {
            if (res == STORE_OK && r[i]->type == REDIS_REPLY_INTEGER && r[i]->integer > 0) {
                x->day = from + (day_t)i;
                char name[DAY_SET_SIZE];
                day_set(x->day, name);
                const char *argv[] = {"SSCAN", name, NULL, "COUNT", SCAN_COUNT};
                res = scan_all(s, argv, 5, xport_day, x, err, errlen);
            }
            freeReplyObject(r[i]);
        }
        if (res != STORE_OK)
            return res;
    }
    return STORE_OK;
}

/*
 * Reads repos [from, to) of x in one MULTI (each: GET repo:R, HGET
 * ghit:first R, MGET of its days and today) and hands each to fn.
 */
static enum store_result xport_batch(struct redis_store *s, struct xport *x, size_t from, size_t to,
                                     day_t today, store_repo_fn *fn, void *arg, char *err,
                                     size_t errlen)
{
    struct args a = {0};
    buf_init(&a.text);
    char text[DAY_TEXT_SIZE];
    day_format(today, text);
    redisAppendCommand(s->c, "MULTI");
    for (size_t i = from; i < to; i++) {
        const struct xrepo *xr = &x->repos[i];
        redisAppendCommand(s->c, "GET repo:%s", xr->r);
        redisAppendCommand(s->c, "HGET ghit:first %s", xr->r);
        args_reset(&a);
        add_arg(&a, "MGET");
        for (size_t j = 0; j < xr->npairs; j++) {
            char day[DAY_TEXT_SIZE];
            day_format(x->pairs[xr->pair + j].day, day);
            add_arg(&a, "repo:%s:%s", day, xr->r);
        }
        add_arg(&a, "repo:%s:%s", text, xr->r);
        args_finish(&a);
        redisAppendCommandArgv(s->c, (int)a.n, a.argv, a.len);
    }
    redisAppendCommand(s->c, "EXEC");
    args_fini(&a);
    size_t n = 2 + 3 * (to - from);
    redisReply **r = xcalloc(n, sizeof *r);
    if (get_replies(s, r, n, err, errlen) < 0) {
        free(r);
        return STORE_RETRY;
    }
    const redisReply *exec = r[n - 1];
    enum store_result res = STORE_OK;
    if (exec->type != REDIS_REPLY_ARRAY || exec->elements != 3 * (to - from)) {
        snprintf(err, errlen, "Redis at %s refused a read: %.120s", s->where,
                 exec->type == REDIS_REPLY_ERROR ? exec->str : "not an array");
        s->cause = "refused";
        res = STORE_FAILED;
    }
    struct store_day *days = NULL;
    size_t cap = 0;
    for (size_t i = from; res == STORE_OK && i < to; i++) {
        const struct xrepo *xr = &x->repos[i];
        redisReply **e = exec->element + 3 * (i - from);
        if (e[0]->type != REDIS_REPLY_STRING || e[2]->type != REDIS_REPLY_ARRAY)
            continue; /* deleted since repos was read */
        if (cap < xr->npairs + 1) {
            cap = xr->npairs + 1;
            days = xrealloc(days, cap * sizeof *days);
        }
        size_t nd = 0;
        bool today_seen = false;
        for (size_t j = 0; j <= xr->npairs && j < e[2]->elements; j++) {
            day_t d = j < xr->npairs ? x->pairs[xr->pair + j].day : today;
            uint64_t hits = count_of(e[2]->element[j]);
            if (j == xr->npairs && today_seen)
                break;
            today_seen |= d == today;
            if (!hits)
                continue;
            size_t k = nd++;
            for (; k > 0 && days[k - 1].day > d; k--) /* today after a later day: rare */
                days[k] = days[k - 1];
            days[k] = (struct store_day){d, hits};
        }
        day_t first;
        if (e[1]->type != REDIS_REPLY_STRING || day_parse(e[1]->str, &first))
            first = nd ? days[0].day : today;
        struct store_repo repo = {xr->key, count_of(e[0]), first, days, nd};
        fn(arg, &repo);
    }
    free(days);
    for (size_t i = 0; i < n; i++)
        freeReplyObject(r[i]);
    free(r);
    return res;
}

/* store export: see store.h for what it guarantees on Redis. */
static enum store_result redis_export(struct store *st, store_repo_fn *fn, void *arg, char *err,
                                      size_t errlen)
{
    struct redis_store *s = (struct redis_store *)st;
    if (connect_to_read(s, err, errlen) < 0)
        return STORE_RETRY;
    day_t today = day_from_time(time(NULL));
    struct xport x = {.earliest = today};
    buf_init(&x.names);
    const char *members[] = {"SSCAN", "repos", NULL, "COUNT", SCAN_COUNT};
    const char *firsts[] = {"HSCAN", "ghit:first", NULL, "COUNT", SCAN_COUNT};
    enum store_result res = scan_all(s, members, 5, xport_member, &x, err, errlen);
    if (res == STORE_OK)
        res = scan_all(s, firsts, 5, xport_first, &x, err, errlen);
    if (res == STORE_OK) {
        x.by_r = xcalloc(x.n + 1, sizeof *x.by_r);
        for (size_t i = 0; i < x.n; i++) {
            x.repos[i].key = x.names.data + x.repos[i].off;
            x.repos[i].r = x.repos[i].key + strlen(x.repos[i].key) + 1;
        }
        if (x.n > 1) /* qsort wants an array, even of none */
            qsort(x.repos, x.n, sizeof *x.repos, by_key);
        for (size_t i = 0; i < x.n; i++)
            x.by_r[i] = &x.repos[i];
        if (x.n > 1)
            qsort(x.by_r, x.n, sizeof *x.by_r, by_r);
        res = xport_days(s, &x, today, err, errlen);
    }
    if (res == STORE_OK) {
        if (x.npairs > 1)
            qsort(x.pairs, x.npairs, sizeof *x.pairs, by_repo_day);
        for (size_t i = 0, j = 0; i < x.n; i++) {
            x.repos[i].pair = j;
            while (j < x.npairs && x.pairs[j].repo == i)
                j++;
            x.repos[i].npairs = j - x.repos[i].pair;
        }
        /* Batches of about EXPORT_BATCH repos or days: a short MULTI, a bounded reply. */
        for (size_t i = 0; res == STORE_OK && i < x.n;) {
            size_t j = i, load = 0;
            while (j < x.n && (j == i || load + x.repos[j].npairs + 1 <= EXPORT_BATCH))
                load += x.repos[j++].npairs + 1;
            res = xport_batch(s, &x, i, j, today, fn, arg, err, errlen);
            i = j;
        }
    }
    free(x.pairs);
    free(x.by_r);
    free(x.repos);
    buf_fini(&x.names);
    return res;
}

/* --- statistics (issue 9) ----------------------------------------------------------------- */

/* store get: GET repo:R, GET repo:DAY:R and HGET ghit:first R. */
static enum store_result redis_get(struct store *st, const char *key, day_t day,
                                   struct store_row *out, int *found, char *err, size_t errlen)
{
    struct redis_store *s = (struct redis_store *)st;
    *found = 0;
    if (connect_to_read(s, err, errlen) < 0)
        return STORE_RETRY;
    char r[R_SIZE], text[DAY_TEXT_SIZE];
    escape(key, r);
    day_format(day, text);
    redisAppendCommand(s->c, "GET repo:%s", r);
    redisAppendCommand(s->c, "GET repo:%s:%s", text, r);
    redisAppendCommand(s->c, "HGET ghit:first %s", r);
    redisReply *rep[3];
    if (get_replies(s, rep, 3, err, errlen) < 0)
        return STORE_RETRY;
    if (rep[0]->type == REDIS_REPLY_STRING) {
        day_t first = day;
        if (rep[2]->type == REDIS_REPLY_STRING)
            day_parse(rep[2]->str, &first);
        *out = (struct store_row){key, count_of(rep[0]), first, count_of(rep[1])};
        *found = 1;
    }
    for (int i = 0; i < 3; i++)
        freeReplyObject(rep[i]);
    return STORE_OK;
}

/* store history: one MGET of the range's day keys. */
static enum store_result redis_history(struct store *st, const char *key, day_t from, day_t to,
                                       uint64_t *hits, char *err, size_t errlen)
{
    struct redis_store *s = (struct redis_store *)st;
    if (to < from || to - from >= STORE_HISTORY_MAX_DAYS) {
        snprintf(err, errlen, "a history spans 1 to %d days", STORE_HISTORY_MAX_DAYS);
        return STORE_FAILED;
    }
    if (connect_to_read(s, err, errlen) < 0)
        return STORE_RETRY;
    char r[R_SIZE], text[DAY_TEXT_SIZE];
    escape(key, r);
    struct args a = {0};
    buf_init(&a.text);
    add_arg(&a, "MGET");
    for (day_t d = from; d <= to; d++) {
        day_format(d, text);
        add_arg(&a, "repo:%s:%s", text, r);
    }
    args_finish(&a);
    redisAppendCommandArgv(s->c, (int)a.n, a.argv, a.len);
    args_fini(&a);
    redisReply *rep;
    if (get_replies(s, &rep, 1, err, errlen) < 0)
        return STORE_RETRY;
    enum store_result res = STORE_OK;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == (size_t)(to - from + 1)) {
        for (size_t i = 0; i < rep->elements; i++)
            hits[i] = count_of(rep->element[i]);
    } else {
        snprintf(err, errlen, "Redis at %s refused a read: %.120s", s->where,
                 rep->type == REDIS_REPLY_ERROR ? rep->str : "not an array");
        s->cause = "refused";
        res = STORE_FAILED;
    }
    freeReplyObject(rep);
    return res;
}

/*
 * MGET of repo:DAY:m (day not NULL) or repo:m for each of the n members m;
 * its reply, an array of n, in *out (free it), or -1 with a message (a
 * connection that did not answer is dropped). An error reply (BUSY,
 * LOADING) is a failure: its repos must not read as having no hits.
 */
static int mget_members(struct redis_store *s, redisReply *const *members, size_t n,
                        const char *day, redisReply **out, char *err, size_t errlen)
{
    struct args a = {0};
    buf_init(&a.text);
    add_arg(&a, "MGET");
    for (size_t i = 0; i < n; i++)
        add_arg(&a, "repo:%s%s%s", day ? day : "", day ? ":" : "", members[i]->str);
    args_finish(&a);
    redisAppendCommandArgv(s->c, (int)a.n, a.argv, a.len);
    args_fini(&a);
    if (get_replies(s, out, 1, err, errlen) < 0)
        return -1;
    if ((*out)->type != REDIS_REPLY_ARRAY || (*out)->elements != n) {
        snprintf(err, errlen, "Redis at %s answered MGET with %.120s", s->where,
                 (*out)->type == REDIS_REPLY_ERROR ? (*out)->str
                                                   : "something else than its values");
        s->cause = "refused";
        freeReplyObject(*out);
        return -1;
    }
    return 0;
}

/*
 * The most repos one pass of a top list sums (topsum.h): a table of 2^21
 * slots of 40 bytes, 70 % full, and the names; 133 MB resident at the
 * peak for a list of 1,000,000 repos (doc/redis.md), some 140 MB at most.
 * A list of more, such as 31 days over millions of repos, takes passes.
 */
#define TOP_PASS_REPOS 1400000

/* What a top list's SSCAN batches go to. */
struct tops {
    struct redis_store *s;
    struct topsum *sum;
    day_t day, last;
    redisReply **mine; /* a batch's members of this pass, and their keys */
    char (*keys)[REPO_KEY_SIZE];
    size_t cap;
    bool full; /* this pass holds too many repos: its days are not read further */
};

/*
 * scan_all callback: the members of a batch of repos:<day> that belong to
 * this pass, with one MGET of their counts that day; stops the scan (1)
 * once the pass holds too many repos.
 */
static int tops_day(void *arg, const redisReply *batch, char *err, size_t errlen)
{
    struct tops *t = arg;
    if (batch->elements > t->cap) { /* COUNT is a hint: a batch may hold more */
        t->cap = batch->elements;
        t->mine = xrealloc(t->mine, t->cap * sizeof *t->mine);
        t->keys = xrealloc(t->keys, t->cap * sizeof *t->keys);
    }
    size_t n = 0;
    for (size_t i = 0; i < batch->elements; i++) {
        redisReply *m = batch->element[i];
        if (m->type == REDIS_REPLY_STRING && key_of(m->str, t->keys[n]) &&
            topsum_wants(t->sum, t->keys[n]))
            t->mine[n++] = m;
    }
    if (n == 0)
        return 0;
    char text[DAY_TEXT_SIZE];
    day_format(t->day, text);
    redisReply *rep;
    if (mget_members(t->s, t->mine, n, text, &rep, err, errlen) < 0)
        return -1;
    bool full = false;
    for (size_t i = 0; i < rep->elements && !full; i++) {
        uint64_t hits = count_of(rep->element[i]);
        full = hits && !topsum_add(t->sum, t->keys[i], t->day, hits, t->day == t->last);
    }
    freeReplyObject(rep);
    t->full = full;
    return full ? 1 : 0;
}

/*
 * store top: the members of repos:<day> for each day of the range, with an
 * MGET of their counts that day, summed per repo (topsum.h: in passes, so
 * that memory stays bounded whatever the range). Costs the range's (repo,
 * day) pairs a pass, as SQLite's daily_by_day; no index of its own.
 */
static enum store_result redis_top(struct store *st, day_t from, day_t to, size_t limit,
                                   store_top_fn *fn, void *arg, char *err, size_t errlen)
{
    struct redis_store *s = (struct redis_store *)st;
    if (connect_to_read(s, err, errlen) < 0)
        return STORE_RETRY;
    struct tops t = {.s = s, .sum = topsum_new(TOP_PASS_REPOS, limit), .last = to};
    enum store_result res = STORE_OK;
    /* The largest day's repos, at least, are to come (SCARD: O(1)). */
    uint64_t most = 0;
    for (day_t d = from; res == STORE_OK && d <= to; d++) {
        char name[DAY_SET_SIZE];
        day_set(d, name);
        const char *argv[] = {"SCARD", name};
        redisReply *r = command(s, 2, argv, err, errlen);
        if (!r)
            res = STORE_RETRY;
        else if (count_of(r) > most)
            most = count_of(r);
        freeReplyObject(r);
    }
    topsum_expect(t.sum, most);
    do {
        t.full = false;
        for (day_t d = from; res == STORE_OK && !t.full && d <= to; d++) {
            char name[DAY_SET_SIZE];
            day_set(d, name);
            const char *argv[] = {"SSCAN", name, NULL, "COUNT", SCAN_COUNT};
            t.day = d;
            res = scan_all(s, argv, 5, tops_day, &t, err, errlen);
        }
    } while (res == STORE_OK && topsum_next_pass(t.sum));
    if (res == STORE_OK)
        topsum_rows(t.sum, fn, arg);
    if (topsum_passes(t.sum) > 1)
        log_debug("redis: a top list of %d day%s took %u passes", (int)(to - from + 1),
                  to > from ? "s" : "", topsum_passes(t.sum));
    topsum_free(t.sum);
    free(t.mine);
    free(t.keys);
    return res;
}

struct sums {
    struct redis_store *s;
    uint64_t hits;
};

/* scan_all callback: adds the totals of a batch of repos' members (one MGET). */
static int sum_totals(void *arg, const redisReply *batch, char *err, size_t errlen)
{
    struct sums *u = arg;
    if (batch->elements == 0)
        return 0;
    redisReply *rep;
    if (mget_members(u->s, batch->element, batch->elements, NULL, &rep, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < rep->elements; i++)
        u->hits += count_of(rep->element[i]);
    freeReplyObject(rep);
    return 0;
}

/* store summary: SCARD repos, and the totals summed (SSCAN repos, MGET). For the CLI. */
static enum store_result redis_summary(struct store *st, uint64_t *repos, uint64_t *hits, char *err,
                                       size_t errlen)
{
    struct redis_store *s = (struct redis_store *)st;
    if (connect_to_read(s, err, errlen) < 0)
        return STORE_RETRY;
    const char *scard[] = {"SCARD", "repos"};
    redisReply *r = command(s, 2, scard, err, errlen);
    if (!r)
        return STORE_RETRY;
    *repos = count_of(r);
    freeReplyObject(r);
    struct sums u = {.s = s};
    const char *argv[] = {"SSCAN", "repos", NULL, "COUNT", SCAN_COUNT};
    enum store_result res = scan_all(s, argv, 5, sum_totals, &u, err, errlen);
    *hits = u.hits;
    return res;
}

/* store cause: why the last call failed, for metrics. */
static const char *redis_cause(struct store *st)
{
    struct redis_store *s = (struct redis_store *)st;
    return s->cause ? s->cause : "other";
}

/* store close: says what is still owed, and frees s. */
static void redis_close(struct store *st)
{
    struct redis_store *s = (struct redis_store *)st;
    uint64_t doubt = 0; /* chunks never sent are not in doubt: they are simply not written */
    for (size_t i = 0; i < s->nowed; i++)
        if (s->owed[i].sent)
            doubt = count_add(doubt, store_deltas_hits(s->owed[i].d, s->owed[i].n));
    if (doubt)
        log_error("redis: of the hits not written, %" PRIu64 " were in chunks sent to Redis "
                  "without an answer: they may or may not be counted, unless a spool kept them "
                  "(then the next start sends them again, counted once)",
                  doubt);
    if (s->applied || s->duplicates)
        log_info("redis: frontend %s: %" PRIu64 " chunks applied, %" PRIu64
                 " answered \"already applied\" when sent again, %" PRIu64
                 " sent again to a Redis that had lost them; %" PRIu64
                 " sends got no answer (in doubt)",
                 s->id, s->applied, s->duplicates, s->replayed, s->in_doubt);
    drop_owed(s, 0);
    free(s->owed);
    drop_credit(s);
    free(s->credit);
    drop_window(s, s->nwindow);
    free(s->window);
    disconnect(s);
    free(s);
}

/* --- the feed of changes, for the other frontends' caches ---------------------------------- */

/* Parses a stream id, "MS-SEQ", into id; false if it is not one. */
static bool stream_id(const char *text, uint64_t id[2])
{
    char *end;
    id[0] = strtoull(text, &end, 10);
    if (*end != '-')
        return false;
    id[1] = strtoull(end + 1, &end, 10);
    return *end == '\0';
}

/* Whether stream id a comes after b. */
static bool id_after(const uint64_t a[2], const uint64_t b[2])
{
    return a[0] > b[0] || (a[0] == b[0] && a[1] > b[1]);
}

/*
 * Whether XINFO STREAM's answer says that an entry after the stream id at
 * is gone unread. XDEL moves max-deleted-entry-id; trimming (the XADDs'
 * MAXLEN ~) does not, in Redis 7.0, so that is told from the stream's
 * first entry: past at, with entries gone (more added than it holds), the
 * ones between went (or, rarely, only at's own: then one reload too many).
 * An empty stream that added entries after at lost them all. *last_text is
 * its last-generated-id (in info), or NULL.
 */
static bool trimmed_after(const redisReply *info, const uint64_t at[2], const char **last_text)
{
    *last_text = NULL;
    if (info->type != REDIS_REPLY_ARRAY)
        return false; /* no stream yet */
    long long length = -1, added = -1;
    uint64_t gone[2], first[2], last[2];
    bool have_gone = false, have_first = false, have_last = false;
    for (size_t i = 0; i + 1 < info->elements; i += 2) {
        const redisReply *k = info->element[i], *v = info->element[i + 1];
        if (k->type != REDIS_REPLY_STRING)
            continue;
        if (strcmp(k->str, "max-deleted-entry-id") == 0 && v->type == REDIS_REPLY_STRING)
            have_gone = stream_id(v->str, gone);
        else if (strcmp(k->str, "last-generated-id") == 0 && v->type == REDIS_REPLY_STRING &&
                 (have_last = stream_id(v->str, last)))
            *last_text = v->str;
        else if (strcmp(k->str, "length") == 0 && v->type == REDIS_REPLY_INTEGER)
            length = v->integer;
        else if (strcmp(k->str, "entries-added") == 0 && v->type == REDIS_REPLY_INTEGER)
            added = v->integer;
        else if (strcmp(k->str, "first-entry") == 0 && v->type == REDIS_REPLY_ARRAY &&
                 v->elements == 2 && v->element[0]->type == REDIS_REPLY_STRING)
            have_first = stream_id(v->element[0]->str, first);
    }
    if (have_gone && id_after(gone, at))
        return true;
    if (length < 0 || added <= length)
        return false; /* nothing ever left the stream */
    if (length == 0)
        return have_last && id_after(last, at);
    return have_first && id_after(first, at);
}

/* Reports the repos of one feed entry (its fields: fe ID r "R R ..."), unless own wrote it. */
static void report_entry(const redisReply *fields, const char *own, store_change_fn *fn, void *arg)
{
    const char *fe = "", *names = NULL;
    for (size_t i = 0; i + 1 < fields->elements; i += 2) {
        const redisReply *k = fields->element[i], *v = fields->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        if (strcmp(k->str, "fe") == 0)
            fe = v->str;
        else if (strcmp(k->str, "r") == 0)
            names = v->str;
    }
    if (strcmp(fe, own) == 0)
        return; /* ours: the writer read its figures back */
    for (const char *p = names; p && *p;) {
        size_t len = strcspn(p, " ");
        char name[R_SIZE], raw[R_SIZE], key[REPO_KEY_SIZE];
        if (len < sizeof name) {
            memcpy(name, p, len);
            name[len] = '\0';
            size_t n = redis_key_unescape(name, raw, sizeof raw);
            if (n != (size_t)-1 && !repo_key_parse(raw, n, key))
                fn(arg, key);
        }
        p += len + (p[len] == ' ');
    }
}

/* store changes: XREAD of ghit:feed after cursor; XINFO says whether some were trimmed. */
static enum store_result redis_changes(struct store *st, char cursor[STORE_CURSOR_SIZE],
                                       unsigned wait_ms, const char *own, store_change_fn *fn,
                                       void *arg, bool *lost, bool *behind, char *err,
                                       size_t errlen)
{
    struct redis_store *s = (struct redis_store *)st;
    *lost = *behind = false;
    if (connect_to_read(s, err, errlen) < 0)
        return STORE_RETRY;
    if (!cursor[0]) {
        const char *argv[] = {"XREVRANGE", FEED_KEY, "+", "-", "COUNT", "1"};
        redisReply *r = command(s, 6, argv, err, errlen);
        if (!r)
            return STORE_RETRY;
        const redisReply *e =
            r->type == REDIS_REPLY_ARRAY && r->elements == 1 ? r->element[0] : NULL;
        bool have = e && e->type == REDIS_REPLY_ARRAY && e->elements == 2 &&
                    e->element[0]->type == REDIS_REPLY_STRING;
        snprintf(cursor, STORE_CURSOR_SIZE, "%s", have ? e->element[0]->str : "0-0");
        freeReplyObject(r);
        return STORE_OK;
    }
    /* Blocking for at most half the timeout leaves the answer time to come. */
    unsigned wait = wait_ms < s->url.timeout_ms / 2 ? wait_ms : s->url.timeout_ms / 2;
    char block[16], count[16];
    snprintf(block, sizeof block, "%u", wait ? wait : 1);
    snprintf(count, sizeof count, "%d", FEED_READ);
    const char *info[] = {"XINFO", "STREAM", FEED_KEY};
    const char *read[] = {"XREAD", "COUNT", count, "BLOCK", block, "STREAMS", FEED_KEY, cursor};
    redisAppendCommandArgv(s->c, 3, info, NULL);
    redisAppendCommandArgv(s->c, 8, read, NULL);
    redisReply *ri = NULL, *rr = NULL;
    if (get_reply(s, &ri, "XINFO", err, errlen) < 0 ||
        get_reply(s, &rr, "XREAD", err, errlen) < 0) {
        freeReplyObject(ri);
        return STORE_RETRY;
    }
    uint64_t at[2];
    enum store_result res = STORE_OK;
    if (!stream_id(cursor, at) || rr->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "Redis at %s refused XREAD of %s: %.100s", s->where, FEED_KEY,
                 rr->type == REDIS_REPLY_ERROR ? rr->str : cursor);
        s->cause = "refused";
        res = STORE_RETRY;
    } else {
        const char *last = NULL;
        *lost = trimmed_after(ri, at, &last);
        const redisReply *entries = rr->type == REDIS_REPLY_ARRAY && rr->elements == 1 &&
                                            rr->element[0]->type == REDIS_REPLY_ARRAY &&
                                            rr->element[0]->elements == 2
                                        ? rr->element[0]->element[1]
                                        : NULL;
        for (size_t i = 0; entries && i < entries->elements; i++) {
            const redisReply *e = entries->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
                e->element[0]->type != REDIS_REPLY_STRING ||
                e->element[1]->type != REDIS_REPLY_ARRAY)
                continue;
            report_entry(e->element[1], own, fn, arg);
            snprintf(cursor, STORE_CURSOR_SIZE, "%s", e->element[0]->str);
        }
        *behind = entries && entries->elements >= FEED_READ;
        /*
         * Lost with nothing past the cursor left to read (the stream was
         * emptied): go on from its end, or every poll would find it again.
         */
        if (*lost && (!entries || entries->elements == 0) && last)
            snprintf(cursor, STORE_CURSOR_SIZE, "%s", last);
    }
    freeReplyObject(ri);
    freeReplyObject(rr);
    return res;
}

static void redis_interrupt(struct store *st)
{
    atomic_store(&((struct redis_store *)st)->interrupted, true);
}

static const struct store_ops redis_ops = {
    .name = "redis",
    .shared = true,
    .scan = redis_scan,
    .apply = redis_apply,
    .check = redis_check,
    .load = redis_load,
    .changes = redis_changes,
    .write = redis_write,
    .export = redis_export,
    .close = redis_close,
    .get = redis_get,
    .history = redis_history,
    .top = redis_top,
    .summary = redis_summary,
    .cause = redis_cause,
    .interrupt = redis_interrupt,
};

/*
 * Fills password, if the URL gave none, from GHIT_REDIS_PASSWORD, or from
 * the first line of the file GHIT_REDIS_PASSWORD_FILE names (a file only
 * ghit's user reads, so that the password is in neither ps nor the
 * environment of every process). 0, or -1 with a message if that file
 * cannot be read.
 */
static int password_from_env(char *password, size_t size, char *err, size_t errlen)
{
    const char *env = getenv("GHIT_REDIS_PASSWORD"), *path = getenv("GHIT_REDIS_PASSWORD_FILE");
    if (password[0])
        return 0;
    if (env && *env) {
        snprintf(password, size, "%s", env);
        return 0;
    }
    if (!path || !*path)
        return 0;
    FILE *f = fopen(path, "r");
    if (!f || !fgets(password, (int)size, f)) {
        snprintf(err, errlen, "GHIT_REDIS_PASSWORD_FILE %s: cannot read it: %s", path,
                 f ? "empty" : strerror(errno));
        if (f)
            fclose(f);
        password[0] = '\0';
        return -1;
    }
    fclose(f);
    password[strcspn(password, "\r\n")] = '\0';
    return 0;
}

/* Parses where and makes an unconnected store; NULL with a message in err. */
static struct redis_store *new_store(const char *where, bool readonly, char *err, size_t errlen)
{
    struct redis_url url;
    const char *why = redis_url_parse(where, &url);
    if (why) {
        char shown[256];
        redis_url_redact(where, shown, sizeof shown);
        snprintf(err, errlen, "--db %s: %s", shown, why);
        return NULL;
    }
    if (password_from_env(url.password, sizeof url.password, err, errlen) < 0)
        return NULL;
    struct redis_store *s = xcalloc(1, sizeof *s);
    s->base.ops = &redis_ops;
    atomic_init(&s->interrupted, false);
    s->url = url;
    s->readonly = readonly;
    redis_url_redact(where, s->where, sizeof s->where);
    if (new_identity(s) < 0) {
        snprintf(err, errlen, "getrandom failed: no frontend id");
        free(s);
        return NULL;
    }
    return s;
}

struct store *store_redis_open(const char *where, char *err, size_t errlen)
{
    struct redis_store *s = new_store(where, false, err, errlen);
    if (!s)
        return NULL;
    int ret = connect_redis(s, err, errlen);
    if (ret == -2) {
        redis_close(&s->base);
        return NULL;
    }
    if (ret == -1)
        log_warn("redis: %s; counting into memory, writing once it answers", err);
    else
        log_info("redis: frontend %s on %s (ghit:epoch %s)", s->id, s->where, s->epoch);
    return &s->base;
}

struct store *store_redis_open_readonly(const char *where, char *err, size_t errlen)
{
    struct redis_store *s = new_store(where, true, err, errlen);
    if (s)
        s->marked_only = true;
    if (s && connect_to_read(s, err, errlen) < 0) {
        redis_close(&s->base);
        return NULL;
    }
    return s ? &s->base : NULL;
}

struct store *store_redis_open_loader(const char *where, char *err, size_t errlen)
{
    struct redis_store *s = new_store(where, true, err, errlen);
    return s ? &s->base : NULL;
}

void store_redis_expect_epoch(struct store *loader, struct store *writer)
{
    struct redis_store *l = (struct redis_store *)loader, *w = (struct redis_store *)writer;
    memcpy(l->epoch, w->epoch, sizeof l->epoch);
}

int store_redis_init(const char *where, char *msg, size_t n)
{
    struct redis_store *s = new_store(where, false, msg, n);
    if (!s)
        return -1;
    s->readonly = true; /* connect without the script and the epoch, then learn it here */
    int ret = connect_redis(s, msg, n);
    s->readonly = false;
    if (ret == 0)
        ret = learn_epoch(s, true, msg, n);
    if (ret == 0)
        snprintf(msg, n, "%s is ghit's already (ghit:epoch %s)", s->where, s->epoch);
    else if (ret == 1)
        snprintf(msg, n, "%s: made ghit:epoch %s", s->where, s->epoch);
    s->readonly = true; /* no frontend report at close: it wrote no chunks */
    redis_close(&s->base);
    return ret < 0 ? -1 : !ret; /* 1: marked already */
}

void store_redis_use_spool(struct store *st, struct spool *sp)
{
    ((struct redis_store *)st)->spool = sp;
}

void store_redis_spool_name(struct store *st, char *out, size_t n)
{
    const struct redis_url *u = &((struct redis_store *)st)->url;
    if (u->host[0])
        snprintf(out, n, "redis://%s:%u/%u", u->host, u->port, u->db);
    else
        snprintf(out, n, "unix://%s?db=%u", u->path, u->db);
}

int store_redis_restore(struct store *st, const struct spool_chunks *c, char *err, size_t errlen)
{
    struct redis_store *s = (struct redis_store *)st;
    if (!c->id[0])
        return 0; /* it had not written yet: nothing to send again under its id */
    if (strlen(c->id) != 2 * ID_BYTES) {
        snprintf(err, errlen, "the spool's frontend id %s is not one ghit makes", c->id);
        return -1;
    }
    memcpy(s->id, c->id, sizeof s->id);
    snprintf(s->fe_key, sizeof s->fe_key, "ghit:fe:%s", s->id);
    drop_owed(s, 0);
    for (size_t i = 0; i < c->nchunks; i++) {
        const struct spool_chunk *k = &c->chunks[i];
        s->next_seq = k->seq;
        if (k->np) {
            const struct store_put **pp = xcalloc(k->np, sizeof *pp);
            for (size_t j = 0; j < k->np; j++)
                pp[j] = &k->p[j];
            add_put_chunk(s, pp, k->np, k->today);
            free(pp);
            /* This table numbers its sets and deletes from 1 again: these ids mean nothing here. */
            for (size_t j = 0; j < k->np; j++)
                s->owed[s->nowed - 1].p[j].id = 0;
        } else {
            uint64_t *hits = xcalloc(k->n, sizeof *hits);
            for (size_t j = 0; j < k->n; j++)
                hits[j] = k->d[j].hits;
            add_chunk(s, k->d, hits, k->n, k->today);
            free(hits);
        }
        /* A copy may have run before the crash: it goes again under its number, applied once. */
        s->owed[s->nowed - 1].sent = true;
        s->owed[s->nowed - 1].spooled = true;
    }
    s->next_seq = c->next_seq;
    s->spool_listed = s->nowed;
    s->spool_stale = false;
    log_info("redis: frontend %s again, from the spool: %zu chunks to send again", s->id,
             c->nchunks);
    return 0;
}

const char *store_redis_frontend_id(struct store *st)
{
    return ((struct redis_store *)st)->id;
}

void store_redis_scan_limit(struct store *st, size_t n)
{
    ((struct redis_store *)st)->scan_limit = n;
}

/* --- the connection of ghit import-2015 (store_redis_2015.h) ------------------------------- */

/*
 * A read-only store's connection (the same set-up: timeouts, AUTH, SELECT,
 * a client name) on a database that need not be ghit's, for the commands
 * the import sends: SCAN, GET of any key, its own small scripts. Here, so
 * that hiredis stays in this one file.
 */
struct store_redis_2015 {
    struct redis_store *s;
    size_t queued; /* commands pipelined by store_redis_2015_queue */
};

struct store_redis_2015 *store_redis_2015_open(const char *url, char *err, size_t errlen)
{
    struct redis_store *s = new_store(url, true, err, errlen);
    if (!s)
        return NULL;
    if (connect_redis(s, err, errlen) < 0) {
        redis_close(&s->base);
        return NULL;
    }
    struct store_redis_2015 *c = xcalloc(1, sizeof *c);
    c->s = s;
    return c;
}

void store_redis_2015_close(struct store_redis_2015 *c)
{
    if (!c)
        return;
    redis_close(&c->s->base);
    free(c);
}

const char *store_redis_2015_where(const struct store_redis_2015 *c)
{
    return c->s->where;
}

/* Connects again if a failed command dropped the connection; 0, or -1 with err. */
static int import_ready(struct store_redis_2015 *c, char *err, size_t errlen)
{
    return connect_redis(c->s, err, errlen) < 0 ? -1 : 0;
}

int store_redis_2015_server(struct store_redis_2015 *c, char *out, size_t n, char *err,
                            size_t errlen)
{
    const char *info[] = {"INFO", "server"}, *db[] = {"CLIENT", "INFO"};
    redisReply *r = import_ready(c, err, errlen) ? NULL : command(c->s, 2, info, err, errlen);
    if (!r)
        return -1;
    char run_id[65];
    int idlen =
        r->type == REDIS_REPLY_STRING ? info_value(r->str, "run_id", run_id, sizeof run_id) : -1;
    freeReplyObject(r);
    if (idlen < 0) {
        snprintf(err, errlen, "Redis at %s: INFO server has no run_id", c->s->where);
        return -1;
    }
    /* CLIENT INFO (Redis 6.2+) says which database this connection selected. */
    if (!(r = command(c->s, 2, db, err, errlen)))
        return -1;
    const char *d = r->type == REDIS_REPLY_STRING ? strstr(r->str, " db=") : NULL;
    unsigned long dbn = d ? strtoul(d + 4, NULL, 10) : 0;
    freeReplyObject(r);
    snprintf(out, n, "%s/%lu", run_id, dbn);
    return 0;
}

int store_redis_2015_get(struct store_redis_2015 *c, const char *key, char *out, size_t n,
                         char *err, size_t errlen)
{
    const char *get[] = {"GET", key};
    redisReply *r = import_ready(c, err, errlen) ? NULL : command(c->s, 2, get, err, errlen);
    if (!r)
        return -1;
    int have = r->type == REDIS_REPLY_STRING;
    if (have)
        snprintf(out, n, "%.*s", (int)r->len, r->str);
    freeReplyObject(r);
    return have;
}

/* GETs the counters among keys in one pipeline and hands every key to fn. */
static int import_batch(struct store_redis_2015 *c, const redisReply *keys,
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
            redisAppendCommandArgv(c->s->c, 2, argv, lens);
        }
    }
    int ret = 0;
    for (size_t i = 0; i < keys->elements; i++) {
        const redisReply *k = keys->element[i];
        redisReply *v = NULL;
        if (counter[i] && redisGetReply(c->s->c, (void **)&v) != REDIS_OK) {
            snprintf(err, errlen, "Redis at %s did not answer GET: %s", c->s->where,
                     c->s->c->errstr);
            disconnect(c->s);
            ret = -1;
            break;
        }
        bool str = v && v->type == REDIS_REPLY_STRING;
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
        redisReply *r = import_ready(c, err, errlen) ? NULL : command(c->s, 4, argv, err, errlen);
        if (!r)
            return -1;
        if (!scan_shape(r)) {
            snprintf(err, errlen, "Redis at %s: SCAN answered something else", c->s->where);
            freeReplyObject(r);
            return -1;
        }
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        int ret = import_batch(c, r->element[1], fn, arg, err, errlen);
        freeReplyObject(r);
        if (ret < 0)
            return -1;
    } while (strcmp(cursor, "0") != 0);
    return 0;
}

/* What store_redis_2015_hscan's batches go to. */
struct field_sink {
    store_redis_2015_field_fn *fn;
    void *arg;
};

/* batch_fn of store_redis_2015_hscan: the field and value pairs of one HSCAN batch. */
static int field_batch(void *arg, const redisReply *kv, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    const struct field_sink *f = arg;
    for (size_t i = 0; i + 1 < kv->elements; i += 2)
        if (kv->element[i]->type == REDIS_REPLY_STRING &&
            kv->element[i + 1]->type == REDIS_REPLY_STRING)
            f->fn(f->arg, kv->element[i]->str, kv->element[i + 1]->str);
    return 0;
}

int store_redis_2015_hscan(struct store_redis_2015 *c, const char *key,
                           store_redis_2015_field_fn *fn, void *arg, char *err, size_t errlen)
{
    const char *argv[] = {"HSCAN", key, NULL, "COUNT", SCAN_COUNT};
    struct field_sink f = {fn, arg};
    if (import_ready(c, err, errlen) < 0)
        return -1;
    return scan_all(c->s, argv, 5, field_batch, &f, err, errlen) == STORE_OK ? 0 : -1;
}

void store_redis_2015_queue(struct store_redis_2015 *c, int argc, const char **argv)
{
    if (c->s->c)
        redisAppendCommandArgv(c->s->c, argc, argv, NULL);
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
        if (!c->s->c || redisGetReply(c->s->c, (void **)&r) != REDIS_OK) {
            snprintf(err, errlen, "Redis at %s did not answer a pipelined command: %s", c->s->where,
                     c->s->c ? c->s->c->errstr : "not connected");
            disconnect(c->s);
            return -1;
        }
        if (out)
            out[i] = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
        if (r->type == REDIS_REPLY_ERROR && ret == 0) {
            snprintf(err, errlen, "Redis at %s refused a command: %.160s", c->s->where, r->str);
            ret = -1;
        }
        freeReplyObject(r);
    }
    return ret;
}
