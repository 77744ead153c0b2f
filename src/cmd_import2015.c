/*
 * cmd_import2015: `ghit import-2015 --from URL --db STORE` (issue 8) merges
 * the counters of a 2015 ghit.me Redis into ghit's form in STORE.
 *
 * Reading. SCAN visits every key (design 2.2): repo:<m> totals and
 * repo:<day>:<m> day counts, found even where syslog-ng lost the SADD that
 * should have listed them. Each 2015 name m becomes the ghit repo
 * import2015_canonical() gives, so mixed case, %252F and lower-case hex
 * spellings of one repo are summed; a name ghit would refuse, or a counter
 * that does not hold a count, is listed and left where it is.
 *
 * Into the same Redis (--db names the server and database of --from, told
 * by INFO's run_id and the selected database, not by the URL's text): in
 * place. One script per source key moves its count into the ghit key (GET,
 * INCRBY, DEL, then the set membership and HSET ghit:import m R for audit),
 * atomically, so a rerun finds nothing left to move and a late 2015 INCR is
 * moved by the next run. Keys already in ghit's form get their set
 * membership and ghit:first (the earliest day with a count), and a total
 * below the sum of its days (2015 lost INCRs of it) is raised to that sum,
 * as an import into another store writes it (a store's total holds at
 * least its days); both are idempotent. Last comes ghit:epoch, after which
 * `ghit serve` accepts the database.
 *
 * Into another store (a SQLite file, another Redis): every repo's total and
 * days are added with the store's write, in one call (one SQLite
 * transaction). A ledger in the source, the hash ghit:import2015:<dest>,
 * makes a rerun import only what grew since: field DAY:R holds the hits of
 * that day imported, R those added to the total, and raised:R the part of R
 * that raised the total to its days (as in place), so that R minus
 * raised:R is the 2015 total imported, which a rerun compares with the
 * total now. The destination is named by what survives a restart: SQLite
 * by the file's real path (a dry run names the path the file will have),
 * Redis by its ghit:epoch (a wiped Redis gets a new epoch, so a fresh
 * ledger, which is right: it lost what was imported).
 *
 * The window between the destination's commit and the ledger's update:
 * before writing, the amounts about to be written go into the hash
 * <ledger>:pending; after the commit they are folded into the ledger in
 * batches, each field moved by one script (HINCRBY, HDEL), so a crash in
 * the middle leaves exactly the fields not folded yet. A run that finds a
 * pending hash stops and says how to check; `--settle written` folds it,
 * `--settle unwritten` drops it. Better than a bare marker: the operator
 * never has to work out amounts by hand, and settling is itself safe to
 * repeat.
 */
#include "cmd_import2015.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "alloc.h"
#include "cmdopt.h"
#include "import2015.h"
#include "redis_url.h"
#include "store.h"
#include "store_redis_2015.h"

#define R_SIZE   (REPO_KEY_SIZE * 3) /* a ghit key escaped as 2015 did */
#define BATCH    1000                /* commands per pipeline round trip */
#define SAMPLES  5                   /* invalid names shown */
#define NO_DAY   INT32_MIN           /* a counter that is a total: sorts first */
#define ME       "ghit import-2015"
#define RAISED   "raised:" /* the ledger field of a total's raises: raised:R */
#define WRITE_NA "cannot take an import yet"

/* Moves one 2015 counter into its ghit key; returns the hits moved (-1: already gone). */
static const char move_lua[] = "local v = redis.call('GET', KEYS[1])\n"
                               "if not v then return -1 end\n"
                               "redis.call('INCRBY', KEYS[2], v)\n"
                               "redis.call('DEL', KEYS[1])\n"
                               "redis.call('SREM', KEYS[3], ARGV[1])\n"
                               "redis.call('SADD', KEYS[3], ARGV[2])\n"
                               "redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])\n"
                               "return tonumber(v)\n";

/* Records a first day unless an earlier one is there; 1 if it was recorded. */
static const char first_lua[] = "local f = redis.call('HGET', KEYS[1], ARGV[1])\n"
                                "if f and f <= ARGV[2] then return 0 end\n"
                                "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
                                "return 1\n";

/*
 * Raises a total to the sum of its days where 2015 lost INCRs of the total
 * (a store's total holds at least its days); the hits added. A total that
 * does not hold a count is left, as it is listed already.
 */
static const char raise_lua[] = "local t = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
                                "local want = tonumber(ARGV[2])\n"
                                "if not t or t >= want then return 0 end\n"
                                "redis.call('INCRBY', KEYS[1], want - t)\n"
                                "redis.call('SADD', KEYS[2], ARGV[1])\n"
                                "return want - t\n";

/* Folds the given fields of the pending hash into the ledger; how many it folded. */
static const char fold_lua[] = "local n = 0\n"
                               "for i = 1, #ARGV do\n"
                               "  local v = redis.call('HGET', KEYS[1], ARGV[i])\n"
                               "  if v then\n"
                               "    redis.call('HINCRBY', KEYS[2], ARGV[i], v)\n"
                               "    redis.call('HDEL', KEYS[1], ARGV[i])\n"
                               "    n = n + 1\n"
                               "  end\n"
                               "end\n"
                               "return n\n";

/* One 2015 counter whose name is a ghit repo. */
struct counter {
    char *src; /* the 2015 key (owned) */
    day_t day; /* NO_DAY for a total */
    uint64_t hits;
    char key[REPO_KEY_SIZE]; /* the ghit repo */
    size_t moff;             /* the 2015 name is src + moff */
    bool canonical;          /* src is the ghit key already */
};

/* One ghit repo, summed over its 2015 names. */
struct repo {
    char key[REPO_KEY_SIZE];
    char r[R_SIZE]; /* key escaped as 2015 did */
    uint64_t total; /* of the total counters */
    struct store_day *days;
    size_t ndays;
};

/* A ledger field and its amount. */
struct entry {
    char *field;
    uint64_t amount;
};

struct import {
    struct counter *c;
    size_t n, cap;
    struct repo *repos;
    size_t nrepos;
    size_t totals, days, sets, others, respelled, unlisted;
    size_t invalid, not_counts;
    uint64_t invalid_hits;
    char samples[SAMPLES][80];
    size_t nsamples;
    char bad_value[80];
    struct entry *ledger;
    size_t nledger, ledger_cap;
};

/* Copies the len bytes at s into out (n bytes), non-printing bytes as '?', cut with "...". */
static void printable(const char *s, size_t len, char *out, size_t n)
{
    size_t i = 0;
    for (; i < len && i + 1 < n; i++)
        out[i] = s[i] > ' ' && s[i] < 127 ? s[i] : '?';
    out[i] = '\0';
    if (i < len && i >= 3)
        memcpy(out + i - 3, "...", 3);
}

/* Reads a count: decimal digits only, at most INT64_MAX (what INCR can hold); -1 if not. */
static int parse_count(const char *v, size_t len, uint64_t *out)
{
    uint64_t x = 0;
    if (!v || len == 0 || len > 19)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    if (x > INT64_MAX)
        return -1;
    *out = x;
    return 0;
}

/* Lists an invalid name with why (the first SAMPLES of them). */
static void add_invalid(struct import *im, const char *m, size_t len, const char *why,
                        uint64_t hits)
{
    char name[44];
    printable(m, len, name, sizeof name);
    size_t shown = im->nsamples, nlen = strlen(name);
    for (size_t i = 0; i < shown; i++)
        if (strncmp(im->samples[i], name, nlen) == 0 && im->samples[i][nlen] == ' ')
            shown = SAMPLES + 1; /* one name, several counters: shown once */
    if (shown < SAMPLES) {
        if (strncmp(why, "invalid repo: ", 14) == 0)
            why += 14;
        char *line = im->samples[im->nsamples++];
        int n = snprintf(line, sizeof im->samples[0], "%s (%s)", name, why);
        if (n < 0 || n > 74)
            memcpy(line + 70, "...)", 5);
    }
    im->invalid++;
    im->invalid_hits += hits;
}

/* store_redis_2015_key_fn: classifies one key of the SCAN. */
static void on_key(void *arg, const char *key, size_t keylen, const char *value, size_t vlen)
{
    struct import *im = arg;
    struct import2015_key k;
    import2015_classify(key, keylen, &k);
    if (k.kind == IMPORT2015_SET) {
        im->sets++;
        return;
    }
    if (k.kind == IMPORT2015_OTHER || k.kind == IMPORT2015_GHIT) {
        im->others += k.kind == IMPORT2015_OTHER; /* ghit's own keys (a ledger) are no stranger's */
        return;
    }
    k.kind == IMPORT2015_TOTAL ? im->totals++ : im->days++;
    uint64_t hits = 0;
    bool count = parse_count(value, vlen, &hits) == 0;
    char gkey[REPO_KEY_SIZE];
    const char *why = import2015_canonical(k.member, k.member_len, gkey);
    if (why) {
        add_invalid(im, k.member, k.member_len, why, k.kind == IMPORT2015_TOTAL ? hits : 0);
        return;
    }
    if (!count) {
        if (!im->not_counts++)
            printable(key, keylen, im->bad_value, sizeof im->bad_value - 4);
        return;
    }
    if (im->n == im->cap) {
        im->cap = im->cap ? 2 * im->cap : 1024;
        im->c = xrealloc(im->c, im->cap * sizeof *im->c);
    }
    struct counter *c = &im->c[im->n++];
    c->src = xstrndup(key, keylen);
    c->day = k.kind == IMPORT2015_DAY ? k.day : NO_DAY;
    c->hits = hits;
    memcpy(c->key, gkey, sizeof gkey);
    c->moff = keylen - k.member_len;
    char r[R_SIZE];
    size_t rlen = redis_key_escape(gkey, strlen(gkey), r, sizeof r);
    c->canonical = rlen == k.member_len && memcmp(r, k.member, rlen) == 0;
    if (!c->canonical)
        im->respelled++;
}

/* Orders counters by repo, then day (totals first). */
static int by_repo_day(const void *a, const void *b)
{
    const struct counter *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->day > y->day) - (x->day < y->day);
}

/* Sums the counters into repos. */
static void gather(struct import *im)
{
    if (im->n > 1)
        qsort(im->c, im->n, sizeof *im->c, by_repo_day);
    im->repos = xcalloc(im->n + 1, sizeof *im->repos);
    struct repo *rp = NULL;
    for (size_t i = 0; i < im->n; i++) {
        const struct counter *c = &im->c[i];
        if (!rp || strcmp(rp->key, c->key) != 0) {
            rp = &im->repos[im->nrepos++];
            memcpy(rp->key, c->key, sizeof rp->key);
            redis_key_escape(rp->key, strlen(rp->key), rp->r, sizeof rp->r);
            size_t ndays = 0;
            for (size_t j = i; j < im->n && strcmp(im->c[j].key, c->key) == 0; j++)
                ndays += im->c[j].day != NO_DAY;
            rp->days = xcalloc(ndays + 1, sizeof *rp->days);
        }
        if (c->day == NO_DAY) {
            rp->total += c->hits;
        } else if (rp->ndays && rp->days[rp->ndays - 1].day == c->day) {
            rp->days[rp->ndays - 1].hits += c->hits;
        } else {
            rp->days[rp->ndays++] = (struct store_day){c->day, c->hits};
        }
    }
}

/* The set a counter belongs to: repos, or repos:<day>. */
static void set_of(const struct counter *c, char out[32])
{
    char day[DAY_TEXT_SIZE];
    if (c->day == NO_DAY) {
        snprintf(out, 32, "repos");
    } else {
        day_format(c->day, day);
        snprintf(out, 32, "repos:%s", day);
    }
}

/* Counts the counters their set does not list (2015's SADD was lost). */
static int count_unlisted(struct import *im, struct store_redis_2015 *src, char *err, size_t errlen)
{
    long long out[BATCH];
    for (size_t i = 0; i < im->n; i += BATCH) {
        size_t end = i + BATCH < im->n ? i + BATCH : im->n;
        for (size_t j = i; j < end; j++) {
            char set[32];
            set_of(&im->c[j], set);
            const char *argv[] = {"SISMEMBER", set, im->c[j].src + im->c[j].moff};
            store_redis_2015_queue(src, 3, argv);
        }
        if (store_redis_2015_flush(src, out, err, errlen) < 0)
            return -1;
        for (size_t j = i; j < end; j++)
            im->unlisted += out[j - i] == 0;
    }
    return 0;
}

/* Prints what was read. */
static void print_read(const struct import *im)
{
    uint64_t hits = 0;
    for (size_t i = 0; i < im->nrepos; i++)
        hits += im->repos[i].total;
    printf("  2015 keys: %zu totals, %zu day counts, %zu sets; %zu others left alone\n", im->totals,
           im->days, im->sets, im->others);
    printf("  repos: %zu with %llu hits in their totals\n", im->nrepos, (unsigned long long)hits);
    printf("  names merged into another spelling (case, %%252F, hex): %zu counters\n",
           im->respelled);
    printf("  counters their 2015 set did not list (SADD lost): %zu\n", im->unlisted);
    printf("  invalid names, left in place: %zu counters, %llu hits%s\n", im->invalid,
           (unsigned long long)im->invalid_hits, im->invalid ? "; e.g.:" : "");
    for (size_t i = 0; i < im->nsamples; i++)
        printf("    %s\n", im->samples[i]);
    printf("  counters that do not hold a count, left in place: %zu%s\n", im->not_counts,
           im->not_counts ? "; e.g.:" : "");
    if (im->not_counts)
        printf("    %s\n", im->bad_value);
}

/* --- into the same Redis, in place ------------------------------------------------------ */

/* Fills out (33 bytes) with a random epoch; 0, or -1. */
static int random_epoch(char out[33])
{
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
        return -1;
    for (size_t i = 0; i < sizeof b; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
    return 0;
}

/* Moves every counter into its ghit key, adds set memberships and first days, makes the epoch. */
static int in_place(struct import *im, struct store_redis_2015 *src, bool dry)
{
    char err[512];
    size_t moved = 0, listed = 0, firsts = 0;
    uint64_t moved_hits = 0;
    if (dry) {
        for (size_t i = 0; i < im->n; i++)
            moved += !im->c[i].canonical;
        printf("  would move %zu counters into the keys of their ghit repos "
               "(--dry-run)\n",
               moved);
        return 0;
    }
    long long out[BATCH];
    for (size_t i = 0; i < im->n; i += BATCH) {
        size_t end = i + BATCH < im->n ? i + BATCH : im->n;
        for (size_t j = i; j < end; j++) {
            const struct counter *c = &im->c[j];
            char set[32], dst[R_SIZE + 32], r[R_SIZE], day[DAY_TEXT_SIZE];
            set_of(c, set);
            redis_key_escape(c->key, strlen(c->key), r, sizeof r);
            if (c->day == NO_DAY) {
                snprintf(dst, sizeof dst, "repo:%s", r);
            } else {
                day_format(c->day, day);
                snprintf(dst, sizeof dst, "repo:%s:%s", day, r);
            }
            const char *m = c->src + c->moff;
            const char *sadd[] = {"SADD", set, r},
                       *move[] = {"EVAL", move_lua, "4", c->src, dst, set, "ghit:import", m, r};
            if (c->canonical)
                store_redis_2015_queue(src, 3, sadd);
            else
                store_redis_2015_queue(src, 9, move);
        }
        int ret = store_redis_2015_flush(src, out, err, sizeof err);
        for (size_t j = i; j < end; j++) {
            if (im->c[j].canonical) {
                listed += out[j - i] == 1;
            } else if (out[j - i] >= 0) {
                moved++;
                moved_hits += (uint64_t)out[j - i];
            }
        }
        if (ret < 0) {
            fprintf(stderr, ME ": %s; moved %zu counters before it; run again\n", err, moved);
            return 1;
        }
    }
    size_t raised = 0;
    uint64_t raised_hits = 0;
    for (size_t i = 0; i < im->nrepos; i += BATCH / 2) {
        size_t end = i + BATCH / 2 < im->nrepos ? i + BATCH / 2 : im->nrepos;
        size_t queued = 0;
        for (size_t j = i; j < end; j++) {
            const struct repo *rp = &im->repos[j];
            if (!rp->ndays)
                continue;
            char day[DAY_TEXT_SIZE], total[R_SIZE + 8], sum[24];
            uint64_t hits = 0;
            for (size_t k = 0; k < rp->ndays; k++)
                hits += rp->days[k].hits;
            day_format(rp->days[0].day, day);
            snprintf(total, sizeof total, "repo:%s", rp->r);
            snprintf(sum, sizeof sum, "%llu", (unsigned long long)hits);
            const char *first[] = {"EVAL", first_lua, "1", "ghit:first", rp->r, day},
                       *raise[] = {"EVAL", raise_lua, "2", total, "repos", rp->r, sum};
            store_redis_2015_queue(src, 6, first);
            store_redis_2015_queue(src, 7, raise);
            queued++;
        }
        if (store_redis_2015_flush(src, out, err, sizeof err) < 0) {
            fprintf(stderr, ME ": %s; run again\n", err);
            return 1;
        }
        for (size_t j = 0; j < queued; j++) {
            firsts += out[2 * j] == 1;
            raised += out[2 * j + 1] > 0;
            raised_hits += out[2 * j + 1] > 0 ? (uint64_t)out[2 * j + 1] : 0;
        }
    }
    printf("  moved: %zu counters, %llu hits, into their ghit keys (see ghit:import)\n", moved,
           (unsigned long long)moved_hits);
    printf("  added to their sets: %zu counters; first days recorded: %zu repos\n", listed, firsts);
    printf("  totals raised to the sum of their days (INCR lost): %zu, %llu hits\n", raised,
           (unsigned long long)raised_hits);
    char epoch[80], fresh[33];
    int have = store_redis_2015_get(src, "ghit:epoch", epoch, sizeof epoch, err, sizeof err);
    if (have == 0) {
        if (random_epoch(fresh) < 0) {
            fprintf(stderr, ME ": getrandom failed: no ghit:epoch made; run again\n");
            return 1;
        }
        const char *set[] = {"SET", "ghit:epoch", fresh, "NX"};
        store_redis_2015_queue(src, 4, set);
        have = store_redis_2015_flush(src, NULL, err, sizeof err) < 0 ? -1 : 2;
    }
    if (have < 0) {
        fprintf(stderr, ME ": %s; run again\n", err);
        return 1;
    }
    printf("  ghit:epoch: %s\n",
           have == 2 ? "made: ghit serve accepts this database now" : "there already");
    return 0;
}

/* --- into another store, with a ledger in the source -------------------------------------- */

/* store_redis_2015_field_fn: one ledger field. */
static void on_ledger(void *arg, const char *field, const char *value)
{
    struct import *im = arg;
    uint64_t v;
    if (field[0] == '@' || parse_count(value, strlen(value), &v) < 0)
        return;
    if (im->nledger == im->ledger_cap) {
        im->ledger_cap = im->ledger_cap ? 2 * im->ledger_cap : 1024;
        im->ledger = xrealloc(im->ledger, im->ledger_cap * sizeof *im->ledger);
    }
    im->ledger[im->nledger++] = (struct entry){xstrdup(field), v};
}

/* Orders ledger entries by field. */
static int by_field(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->field, ((const struct entry *)b)->field);
}

/* What the ledger says was imported under field (0 if nothing). */
static uint64_t imported(const struct import *im, const char *field)
{
    struct entry k = {(char *)field, 0};
    const struct entry *e =
        im->nledger ? bsearch(&k, im->ledger, im->nledger, sizeof k, by_field) : NULL;
    return e ? e->amount : 0;
}

/* The increase since the ledger's figure; a smaller figure now counts as none (and is noted). */
static uint64_t grown(uint64_t now, uint64_t before, size_t *shrunk)
{
    if (now < before) {
        ++*shrunk;
        return 0;
    }
    return now - before;
}

/* One repo's increase, and the ledger fields it adds to. */
struct plan {
    struct store_put *puts;
    size_t nputs;
    struct store_day *days; /* all puts' days, owned */
    char **fields;          /* ledger field, amount as text: pairs, owned */
    size_t nfields;
    uint64_t hits;
    size_t shrunk;
};

/* Adds a ledger field and its amount to p. */
static void plan_field(struct plan *p, const char *field, uint64_t amount)
{
    char n[24];
    snprintf(n, sizeof n, "%llu", (unsigned long long)amount);
    p->fields[2 * p->nfields] = xstrdup(field);
    p->fields[2 * p->nfields + 1] = xstrdup(n);
    p->nfields++;
}

/* Works out what grew since the ledger's figures, as puts for the store. */
static void make_plan(const struct import *im, struct plan *p, day_t today)
{
    size_t ndays = 0;
    for (size_t i = 0; i < im->nrepos; i++)
        ndays += im->repos[i].ndays;
    p->puts = xcalloc(im->nrepos + 1, sizeof *p->puts);
    p->days = xcalloc(ndays + 1, sizeof *p->days);
    p->fields = xcalloc(2 * (ndays + 2 * im->nrepos) + 2, sizeof *p->fields);
    struct store_day *d = p->days;
    for (size_t i = 0; i < im->nrepos; i++) {
        const struct repo *rp = &im->repos[i];
        char field[R_SIZE + 16], raised[R_SIZE + 16], day[DAY_TEXT_SIZE];
        /* The 2015 total imported: what was added to the total, less its raises. */
        snprintf(raised, sizeof raised, RAISED "%s", rp->r);
        uint64_t added = imported(im, rp->r), raises = imported(im, raised);
        uint64_t from_total = added > raises ? added - raises : 0;
        uint64_t more_total = grown(rp->total, from_total, &p->shrunk), total = more_total;
        uint64_t sum = 0;
        struct store_day *first = d;
        for (size_t j = 0; j < rp->ndays; j++) {
            day_format(rp->days[j].day, day);
            snprintf(field, sizeof field, "%s:%s", day, rp->r);
            uint64_t more = grown(rp->days[j].hits, imported(im, field), &p->shrunk);
            if (!more)
                continue;
            *d++ = (struct store_day){rp->days[j].day, more};
            sum += more;
            plan_field(p, field, more);
        }
        /* A store's total holds at least its days (2015 could lose a total's INCR). */
        if (total < sum)
            total = sum;
        if (!total)
            continue;
        plan_field(p, rp->r, total);
        if (total > more_total)
            plan_field(p, raised, total - more_total);
        p->hits += total;
        p->puts[p->nputs++] = (struct store_put){
            STORE_PUT_ADD,
            {rp->key, total, rp->ndays ? rp->days[0].day : today, first, (size_t)(d - first)}};
    }
}

/* Frees what make_plan made. */
static void plan_free(struct plan *p)
{
    for (size_t i = 0; i < 2 * p->nfields; i++)
        free(p->fields[i]);
    free(p->fields);
    free(p->days);
    free(p->puts);
}

/* store_redis_2015_field_fn: gathers the pending hash's fields. */
static void on_pending(void *arg, const char *field, const char *value)
{
    (void)value;
    struct plan *p = arg;
    if (field[0] == '@')
        return;
    p->fields = xrealloc(p->fields, 2 * (p->nfields + 1) * sizeof *p->fields);
    p->fields[2 * p->nfields] = xstrdup(field);
    p->fields[2 * p->nfields + 1] = xstrdup("");
    p->nfields++;
}

/*
 * Folds the fields of p from pending into ledger, BATCH at a time, then
 * drops pending's run mark; 0, or -1 with a message in err.
 */
static int fold(struct store_redis_2015 *src, const char *pending, const char *ledger,
                const struct plan *p, char *err, size_t errlen)
{
    const char **argv = xcalloc(BATCH + 5, sizeof *argv);
    int ret = 0;
    for (size_t i = 0; i < p->nfields && ret == 0; i += BATCH) {
        size_t end = i + BATCH < p->nfields ? i + BATCH : p->nfields, k = 0;
        argv[k++] = "EVAL";
        argv[k++] = fold_lua;
        argv[k++] = "2";
        argv[k++] = pending;
        argv[k++] = ledger;
        for (size_t j = i; j < end; j++)
            argv[k++] = p->fields[2 * j];
        store_redis_2015_queue(src, (int)k, argv);
        ret = store_redis_2015_flush(src, NULL, err, errlen);
    }
    free(argv);
    if (ret == 0) {
        const char *del[] = {"DEL", pending};
        store_redis_2015_queue(src, 2, del);
        ret = store_redis_2015_flush(src, NULL, err, errlen);
    }
    return ret;
}

/* Writes the pending hash: a run mark first (refused if one is there), then p's fields. */
static int mark_pending(struct store_redis_2015 *src, const char *pending, const struct plan *p,
                        char *err, size_t errlen)
{
    char when[32];
    snprintf(when, sizeof when, "%lld", (long long)time(NULL));
    const char *mark[] = {"HSETNX", pending, "@started", when};
    long long made = 0;
    store_redis_2015_queue(src, 4, mark);
    if (store_redis_2015_flush(src, &made, err, errlen) < 0)
        return -1;
    if (!made) {
        snprintf(err, errlen, "%.400s appeared: another import runs into this store", pending);
        return -1;
    }
    for (size_t i = 0; i < p->nfields; i++) {
        const char *argv[] = {"HSET", pending, p->fields[2 * i], p->fields[2 * i + 1]};
        store_redis_2015_queue(src, 4, argv);
        if (store_redis_2015_queued(src) == BATCH || i + 1 == p->nfields)
            if (store_redis_2015_flush(src, NULL, err, errlen) < 0)
                return -1;
    }
    return 0;
}

/*
 * Deals with a pending hash left by an earlier run: settle says what
 * happened to it ("written", "unwritten"), or NULL to stop and explain.
 * 0 when there is none left, 1 after explaining or failing.
 */
static int settle_pending(struct store_redis_2015 *src, const char *db, const char *pending,
                          const char *ledger, const char *settle)
{
    char err[512];
    const char *exists[] = {"EXISTS", pending};
    long long have = 0;
    store_redis_2015_queue(src, 2, exists);
    if (store_redis_2015_flush(src, &have, err, sizeof err) < 0) {
        fprintf(stderr, ME ": %s\n", err);
        return 1;
    }
    if (!have)
        return 0;
    if (!settle) {
        fprintf(stderr,
                ME ": an earlier run into %s stopped between its write and its\n"
                   "ledger: %s (in %s) holds what it\n"
                   "was writing, field by field (HGETALL it). Check with ghit export --db\n"
                   "whether one of those repos has that many more hits there, then run\n"
                   "again with --settle written (it is there) or --settle unwritten.\n",
                db, pending, store_redis_2015_where(src));
        return 1;
    }
    struct plan p = {0};
    int ret = strcmp(settle, "written") == 0
                  ? (store_redis_2015_hscan(src, pending, on_pending, &p, err, sizeof err) < 0 ||
                     fold(src, pending, ledger, &p, err, sizeof err) < 0)
                  : 0;
    if (ret == 0 && strcmp(settle, "unwritten") == 0) {
        const char *del[] = {"DEL", pending};
        store_redis_2015_queue(src, 2, del);
        ret = store_redis_2015_flush(src, NULL, err, sizeof err) < 0;
    }
    if (ret)
        fprintf(stderr, ME ": %s; run again with --settle %s\n", err, settle);
    else
        printf("  settled the earlier run: %s\n", strcmp(settle, "written") == 0
                                                      ? "its amounts added to the ledger"
                                                      : "its amounts dropped");
    plan_free(&p);
    return ret;
}

/* Opens the destination store for the write; NULL after reporting why not. */
static struct store *open_dest(const char *db)
{
    char err[512];
    struct store *st = store_open(db, err, sizeof err);
    if (!st && store_is_busy(db)) {
        fprintf(stderr,
                ME ": a ghit server runs on %s (or another command writes it);\n"
                   "an import never writes beside it: stop the server, import, start it\n",
                db);
        return NULL;
    }
    if (!st) {
        fprintf(stderr, ME ": %s\n", err);
        return NULL;
    }
    if (!st->ops->write) {
        fprintf(stderr,
                ME ": the %s store " WRITE_NA " (its write operation is\n"
                   "not built yet); import into a SQLite file, or in place into --from\n",
                st->ops->name);
        store_close(st);
        return NULL;
    }
    return st;
}

/*
 * The real path of the SQLite file db, or the one it will have when a
 * write makes it (a dry run makes none): realpath() of the file, else of
 * its directory with its name. Malloc'd, the caller frees it; NULL when
 * the directory does not exist either.
 */
static char *sqlite_path(const char *db)
{
    char *real = realpath(db, NULL);
    if (real)
        return real;
    const char *slash = strrchr(db, '/'), *name = slash ? slash + 1 : db;
    char *dir = slash ? xstrndup(db, slash == db ? 1 : (size_t)(slash - db)) : xstrdup(".");
    char *rdir = realpath(dir, NULL);
    free(dir);
    if (!rdir)
        return NULL;
    size_t n = strlen(rdir) + strlen(name) + 2;
    real = xmalloc(n);
    snprintf(real, n, "%s%s%s", rdir, strcmp(rdir, "/") == 0 ? "" : "/", name);
    free(rdir);
    return real;
}

/*
 * Names the destination for the ledger into id (n bytes): a SQLite file by
 * its real path, a Redis (dst) by its ghit:epoch. 0, or -1 after reporting.
 * Without a write before (a dry run), an epoch may not exist yet: then no
 * ledger has that name either.
 */
static int dest_id(const char *db, struct store_redis_2015 *dst, char *id, size_t n)
{
    char err[512], epoch[80];
    if (dst) {
        int have = store_redis_2015_get(dst, "ghit:epoch", epoch, sizeof epoch, err, sizeof err);
        if (have < 0) {
            fprintf(stderr, ME ": %s\n", err);
            return -1;
        }
        snprintf(id, n, "redis:%s", have ? epoch : "(no ghit:epoch yet)");
    } else {
        char *real = sqlite_path(db);
        snprintf(id, n, "sqlite:%s", real ? real : db);
        free(real);
    }
    return 0;
}

/* Imports what grew since the last run into the store at db. */
static int into_store(struct import *im, struct store_redis_2015 *src, const char *db,
                      struct store_redis_2015 *dst, bool dry, const char *settle)
{
    char err[512], id[4200], ledger[4300], pending[4400];
    struct store *st = dry ? NULL : open_dest(db);
    if ((!dry && !st) || dest_id(db, dst, id, sizeof id) < 0) {
        store_close(st);
        return 1;
    }
    snprintf(ledger, sizeof ledger, "ghit:import2015:%s", id);
    snprintf(pending, sizeof pending, "%s:pending", ledger);
    int rc = settle_pending(src, db, pending, ledger, dry ? NULL : settle);
    if (rc == 0 && store_redis_2015_hscan(src, ledger, on_ledger, im, err, sizeof err) < 0) {
        fprintf(stderr, ME ": %s\n", err);
        rc = 1;
    }
    if (rc) {
        store_close(st);
        return rc;
    }
    if (im->nledger > 1)
        qsort(im->ledger, im->nledger, sizeof *im->ledger, by_field);
    struct plan p = {0};
    make_plan(im, &p, day_from_time(time(NULL)));
    if (p.shrunk)
        printf("  counters smaller than the ledger says were imported: %zu (left)\n", p.shrunk);
    if (dry || p.nputs == 0) {
        printf("  %s %zu repos, %llu hits%s\n", dry ? "would import" : "imported", p.nputs,
               (unsigned long long)p.hits, im->nledger ? " (new since the last run)" : "");
    } else if (mark_pending(src, pending, &p, err, sizeof err) < 0) {
        fprintf(stderr, ME ": %s; nothing was imported\n", err);
        rc = 1;
    } else if (st->ops->write(st, p.puts, p.nputs, NULL, 0, err, sizeof err) != STORE_OK) {
        fprintf(stderr,
                ME ": %s\n"
                   "If nothing reached %s, run again with --settle unwritten;\n"
                   "ghit export --db shows what it holds.\n",
                err, db);
        rc = 1;
    } else if (fold(src, pending, ledger, &p, err, sizeof err) < 0) {
        fprintf(stderr,
                ME ": imported into %s, but the ledger was not updated: %s;\n"
                   "run again with --settle written\n",
                db, err);
        rc = 1;
    } else {
        printf("  imported %zu repos, %llu hits%s\n", p.nputs, (unsigned long long)p.hits,
               im->nledger ? " (new since the last run)" : "");
    }
    printf("  ledger: %s\n", ledger);
    plan_free(&p);
    store_close(st);
    return rc;
}

/* Frees what im holds. */
static void import_free(struct import *im)
{
    for (size_t i = 0; i < im->n; i++)
        free(im->c[i].src);
    for (size_t i = 0; i < im->nrepos; i++)
        free(im->repos[i].days);
    for (size_t i = 0; i < im->nledger; i++)
        free(im->ledger[i].field);
    free(im->c);
    free(im->repos);
    free(im->ledger);
}

/*
 * Opens --db's Redis when it is one and tells whether it is --from's
 * database; *dst stays NULL for a SQLite file. 0, or 1 after reporting.
 */
static int same_redis(struct store_redis_2015 *src, const char *db, struct store_redis_2015 **dst,
                      bool *same)
{
    char err[512], a[128], b[128];
    *dst = NULL;
    *same = false;
    if (!redis_url_is(db))
        return 0;
    if (!(*dst = store_redis_2015_open(db, err, sizeof err)) ||
        store_redis_2015_server(src, a, sizeof a, err, sizeof err) < 0 ||
        store_redis_2015_server(*dst, b, sizeof b, err, sizeof err) < 0) {
        fprintf(stderr, ME ": %s\n", err);
        return 1;
    }
    *same = strcmp(a, b) == 0;
    return 0;
}

int cmd_import2015(int argc, char **argv)
{
    const char *from = NULL, *db = NULL, *settle = NULL;
    bool dry = false;
    const struct cmdopt opts[] = {
        {"from", "URL", "the 2015 Redis, a redis:// or unix:// URL (required)", &from, NULL, true,
         NULL},
        {"db", "STORE", "where to: a SQLite file, or a Redis URL (required)", &db, NULL, true,
         NULL},
        {"dry-run", NULL, "read and print what would be done, write nothing", NULL, &dry},
        {"settle", "WHAT", "an earlier run's pending write: written or unwritten", &settle, NULL,
         false, "written|unwritten"},
    };
    static const char usage[] =
        "usage: ghit import-2015 --from URL --db STORE [--dry-run] [--settle WHAT]\n"
        "Merge the counters of a 2015 ghit.me Redis into STORE: names differing\n"
        "in case or escaping become one repo; invalid names are listed and left.\n"
        "Into --from's own database it works in place; into another store it adds\n"
        "what grew since the last run. Passwords: in the URL, GHIT_REDIS_PASSWORD,\n"
        "or the file GHIT_REDIS_PASSWORD_FILE names.\n\n";
    int rc = cmdopt_parse(usage, opts, 4, argc, argv);
    if (rc)
        return rc > 0 ? 0 : 2;
    struct redis_url url;
    const char *why = redis_url_is(from) ? redis_url_parse(from, &url) : "not a Redis URL";
    if (why) {
        char shown[512];
        redis_url_redact(from, shown, sizeof shown);
        fprintf(stderr, ME ": --from %s: %s\n", shown, why);
        return 2;
    }
    memset(&url, 0, sizeof url);
    char err[512], shown[512];
    struct store_redis_2015 *src = store_redis_2015_open(from, err, sizeof err), *dst = NULL;
    if (!src) {
        fprintf(stderr, ME ": %s\n", err);
        return 1;
    }
    bool same;
    rc = same_redis(src, db, &dst, &same);
    struct import im = {0};
    if (rc == 0 && (store_redis_2015_scan(src, on_key, &im, err, sizeof err) < 0 ||
                    count_unlisted(&im, src, err, sizeof err) < 0)) {
        fprintf(stderr, ME ": %s; nothing was imported\n", err);
        rc = 1;
    }
    if (rc == 0) {
        gather(&im);
        redis_url_redact(db, shown, sizeof shown);
        printf(ME ": from %s %s%s\n", store_redis_2015_where(src), same ? "in place" : "into ",
               same ? "" : shown);
        print_read(&im);
        rc = same ? in_place(&im, src, dry) : into_store(&im, src, db, dst, dry, settle);
    }
    import_free(&im);
    store_redis_2015_close(dst);
    store_redis_2015_close(src);
    return rc;
}
