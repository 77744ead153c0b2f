/*
 * spool: a Redis frontend's hits and unacknowledged chunks on local disk
 * (see spool.h).
 *
 * The hot path (spool_hit) appends a line to one of a few lanes, each a
 * buffer under its own mutex, picked once per thread; the spool's thread
 * swaps the lanes out every interval and appends them to the current hits
 * file with one write each. Hits files are numbered; the thread starts a
 * new one every HITS_FILE_MS or HITS_FILE_BYTES and removes the old ones
 * whose every hit has a take the chunks file covers. After a give-up (a
 * write failed, or the files passed MAX_HITS_BYTES) it tries again every
 * REARM_MS.
 */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "count.h"
#include "files.h"
#include "fold.h"
#include "log.h"
#include "metrics.h"
#include "monotime.h"
#include "repo_key.h"
#include "repofmt.h"

#define LANES           16
#define HITS_FILE_MS    10000
#define HITS_FILE_BYTES (64u << 20)
#define MAX_HITS_FILES  4096         /* closed hits files kept; past that the current one grows */
#define MAX_HITS_BYTES  (1ull << 30) /* in all hits files; past that the spool gives up */
#define REARM_MS        10000        /* after a give-up, how often the spool tries again */
/*
 * Hit lines one lane holds for the writer at most (some 400,000 hits): past
 * that the writer is stuck (a disk that stalls), the lines are dropped and
 * the spool gives up once the writer runs again, so memory stays bounded.
 */
#define MAX_LANE_BYTES (16u << 20)
#define CHUNKS_MAGIC   "ghit-spool 1 chunks"
#define SPOOL_UP_HELP                                                                              \
    "Redis store: 1 while the spool keeps the hits not yet in Redis, 0 while it has given up."
#define HITS_MAGIC "ghit-spool 1 hits "

/* --- the text forms ---------------------------------------------------------------------- */

static const char *const put_modes[] = {
    [STORE_PUT_SET] = "set", [STORE_PUT_ADD] = "add", [STORE_PUT_DELETE] = "del"};

void spool_format_chunks(struct buf *out, const char *inc, const char *where, const char *id,
                         uint64_t next_seq, uint64_t take, const struct spool_chunk *c, size_t n)
{
    buf_printf(out, CHUNKS_MAGIC "\ninc %s\nwhere %s\nid %s\nnext %" PRIu64 "\ntake %" PRIu64 "\n",
               inc, where, id[0] ? id : "-", next_seq, take);
    for (size_t i = 0; i < n; i++) {
        buf_printf(out, "chunk %" PRIu64 " %d %zu %zu\n", c[i].seq, (int)c[i].today, c[i].n,
                   c[i].np);
        for (size_t j = 0; j < c[i].n; j++)
            buf_printf(out, "d %d %" PRIu64 " %s\n", (int)c[i].d[j].day, c[i].d[j].hits,
                       c[i].d[j].key);
        for (size_t j = 0; j < c[i].np; j++) {
            const struct store_put *p = &c[i].p[j];
            buf_printf(out, "p %s %" PRIu64 " %" PRIu64 " %d %zu %s", put_modes[p->mode], p->id,
                       p->repo.total, (int)p->repo.first_day, p->repo.ndays, p->repo.key);
            for (size_t k = 0; k < p->repo.ndays; k++)
                buf_printf(out, " %d %" PRIu64, (int)p->repo.days[k].day, p->repo.days[k].hits);
            buf_putc(out, '\n');
        }
    }
    buf_printf(out, "end %zu\n", n);
}

/* A reader of complete lines, and of space-separated fields within one. */
struct cursor {
    const char *p, *end;  /* the text left */
    const char *f, *fend; /* the line left */
    const char *start;    /* of the line */
    size_t line;
};

/* Moves to the next line ending in '\n'; false at the end (a cut last line included). */
static bool next_line(struct cursor *c)
{
    const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
    if (!nl)
        return false;
    c->start = c->f = c->p;
    c->fend = nl;
    c->p = nl + 1;
    c->line++;
    return true;
}

/* The next field of the line (up to a space or its end); false if there is none. */
static bool field(struct cursor *c, const char **s, size_t *len)
{
    if (c->f >= c->fend)
        return false;
    const char *sp = memchr(c->f, ' ', (size_t)(c->fend - c->f));
    const char *e = sp ? sp : c->fend;
    *s = c->f;
    *len = (size_t)(e - c->f);
    c->f = sp ? sp + 1 : c->fend;
    return *len > 0;
}

/* The rest of the line, whole (spaces included). */
static void rest(struct cursor *c, const char **s, size_t *len)
{
    *s = c->f;
    *len = (size_t)(c->fend - c->f);
    c->f = c->fend;
}

static bool word(struct cursor *c, const char *want)
{
    const char *s;
    size_t len;
    return field(c, &s, &len) && len == strlen(want) && memcmp(s, want, len) == 0;
}

static bool number(struct cursor *c, uint64_t max, uint64_t *out)
{
    const char *s;
    size_t len;
    if (!field(c, &s, &len) || len > 20 || (len > 1 && s[0] == '0'))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (max - (uint64_t)(s[i] - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

static bool day_field(struct cursor *c, day_t *out)
{
    uint64_t v;
    if (!number(c, INT32_MAX - 1, &v))
        return false;
    *out = (day_t)v;
    return true;
}

/* A repo key, as ghit writes them (already lower case). */
static bool key_field(struct cursor *c, const char **s, size_t *len)
{
    char key[REPO_KEY_SIZE];
    return field(c, s, len) && !repo_key_parse(*s, *len, key) && memcmp(key, *s, *len) == 0;
}

/* An identifier: 1 to SPOOL_ID_MAX hex digits, or "-" for none (if none_ok). */
static bool id_field(struct cursor *c, char out[SPOOL_ID_MAX + 1], bool none_ok)
{
    const char *s;
    size_t len;
    if (!field(c, &s, &len) || len > SPOOL_ID_MAX)
        return false;
    if (none_ok && len == 1 && s[0] == '-') {
        out[0] = '\0';
        return true;
    }
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    memcpy(out, s, len);
    out[len] = '\0';
    return true;
}

/* Whether the line was read to its end, which is not a space (an empty last field). */
static bool line_done(const struct cursor *c)
{
    return c->f >= c->fend && c->fend > c->start && c->fend[-1] != ' ';
}

/*
 * One pass over a chunks file: counts what it holds (out's arrays NULL) or
 * fills them (allocated by the first pass). NULL, or what is wrong.
 */
static const char *chunks_pass(struct cursor *c, struct spool_chunks *out, size_t *nd, size_t *np,
                               size_t *ndays, size_t *nkeys)
{
    bool fill = out->chunks != NULL;
    *nd = *np = *ndays = *nkeys = 0;
    const char *s;
    size_t len;
    if (!next_line(c) || (rest(c, &s, &len), len != strlen(CHUNKS_MAGIC)) ||
        memcmp(s, CHUNKS_MAGIC, len) != 0)
        return "not a ghit spool chunks file (version 1)";
    if (!next_line(c) || !word(c, "inc") || !id_field(c, out->inc, false) || !line_done(c))
        return "bad inc line";
    if (!next_line(c) || !word(c, "where"))
        return "bad where line";
    rest(c, &s, &len);
    if (len == 0 || len >= SPOOL_WHERE_MAX)
        return "bad where line";
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < ' ' || s[i] == 127)
            return "bad where line";
    memcpy(out->where, s, len);
    out->where[len] = '\0';
    if (!next_line(c) || !word(c, "id") || !id_field(c, out->id, true) || !line_done(c))
        return "bad id line";
    if (!next_line(c) || !word(c, "next") || !number(c, COUNT_MAX, &out->next_seq) ||
        !line_done(c) || out->next_seq == 0)
        return "bad next line";
    if (!next_line(c) || !word(c, "take") || !number(c, COUNT_MAX, &out->take) || !line_done(c))
        return "bad take line";
    size_t n = 0;
    uint64_t last_seq = 0;
    for (;;) {
        if (!next_line(c))
            return "cut short (no end line)";
        const char *w;
        size_t wl;
        if (!field(c, &w, &wl))
            return "an empty line";
        if (wl == 3 && memcmp(w, "end", 3) == 0) {
            uint64_t count;
            if (!number(c, COUNT_MAX, &count) || !line_done(c) || count != n)
                return "bad end line";
            if (c->p != c->end)
                return "text after the end line";
            out->nchunks = n;
            return NULL;
        }
        uint64_t seq, today, cn, cp;
        if (!(wl == 5 && memcmp(w, "chunk", 5) == 0) || !number(c, COUNT_MAX, &seq) ||
            !number(c, INT32_MAX - 1, &today) || !number(c, COUNT_MAX, &cn) ||
            !number(c, COUNT_MAX, &cp) || !line_done(c))
            return "bad chunk line";
        if (seq <= last_seq || seq >= out->next_seq || (cn == 0) == (cp == 0))
            return "bad chunk line (its sequence number, or not either deltas or puts)";
        if (!out->id[0])
            return "a chunk, and no frontend id";
        last_seq = seq;
        if (fill)
            out->chunks[n] = (struct spool_chunk){.seq = seq,
                                                  .today = (day_t)today,
                                                  .d = out->d + *nd,
                                                  .n = cn,
                                                  .p = out->p + *np,
                                                  .np = cp};
        n++;
        for (uint64_t i = 0; i < cn; i++) {
            day_t day;
            uint64_t hits;
            if (!next_line(c) || !word(c, "d") || !day_field(c, &day) ||
                !number(c, COUNT_MAX, &hits) || hits == 0 || !key_field(c, &s, &len) ||
                !line_done(c))
                return "bad d line";
            if (fill) {
                memcpy(out->keys + *nkeys, s, len);
                out->keys[*nkeys + len] = '\0';
                out->d[*nd] =
                    (struct store_delta){.key = out->keys + *nkeys, .day = day, .hits = hits};
            }
            (*nd)++;
            *nkeys += len + 1;
        }
        for (uint64_t i = 0; i < cp; i++) {
            const char *m;
            size_t ml;
            uint64_t id, total, ndays_here;
            day_t first;
            if (!next_line(c) || !word(c, "p") || !field(c, &m, &ml) ||
                !number(c, COUNT_MAX, &id) || !number(c, COUNT_MAX, &total) ||
                !day_field(c, &first) || !number(c, 366 * 300, &ndays_here) ||
                !key_field(c, &s, &len))
                return "bad p line";
            int mode = -1;
            for (int k = 0; k < 3; k++)
                if (ml == strlen(put_modes[k]) && memcmp(m, put_modes[k], ml) == 0)
                    mode = k;
            if (mode < 0)
                return "bad p line (its mode)";
            struct store_put *p = fill ? &out->p[*np] : NULL;
            if (fill) {
                memcpy(out->keys + *nkeys, s, len);
                out->keys[*nkeys + len] = '\0';
                *p = (struct store_put){.mode = (enum store_put_mode)mode,
                                        .id = id,
                                        .repo = {.key = out->keys + *nkeys,
                                                 .total = total,
                                                 .first_day = first,
                                                 .days = out->days + *ndays,
                                                 .ndays = ndays_here}};
            }
            *nkeys += len + 1;
            uint64_t sum = 0;
            day_t prev = -1;
            for (uint64_t k = 0; k < ndays_here; k++) {
                day_t day;
                uint64_t hits;
                if (!day_field(c, &day) || !number(c, COUNT_MAX, &hits) || hits == 0 || day <= prev)
                    return "bad p line (its days)";
                prev = day;
                sum += hits;
                if (sum > COUNT_MAX)
                    return "bad p line (its days)";
                if (fill)
                    out->days[*ndays] = (struct store_day){day, hits};
                (*ndays)++;
            }
            if (!line_done(c) || sum > total)
                return "bad p line";
            (*np)++;
        }
    }
}

void spool_chunks_free(struct spool_chunks *c)
{
    free(c->chunks);
    free(c->d);
    free(c->p);
    free(c->days);
    free(c->keys);
    memset(c, 0, sizeof *c);
}

int spool_parse_chunks(const char *text, size_t len, struct spool_chunks *out, char *err,
                       size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct cursor c = {.p = text, .end = text + len};
    size_t nd, np, ndays, nkeys;
    const char *why = chunks_pass(&c, out, &nd, &np, &ndays, &nkeys);
    if (why) {
        snprintf(err, errlen, "line %zu: %s", c.line, why);
        memset(out, 0, sizeof *out);
        return -1;
    }
    size_t nchunks = out->nchunks;
    out->chunks = xcalloc(nchunks + 1, sizeof *out->chunks);
    out->d = xcalloc(nd + 1, sizeof *out->d);
    out->p = xcalloc(np + 1, sizeof *out->p);
    out->days = xcalloc(ndays + 1, sizeof *out->days);
    out->keys = xmalloc(nkeys + 1);
    c = (struct cursor){.p = text, .end = text + len};
    why = chunks_pass(&c, out, &nd, &np, &ndays, &nkeys);
    if (why) /* the first pass read the same text */
        abort();
    return 0;
}

int spool_parse_hits(const char *text, size_t len, const char *inc, spool_hit_fn *fn, void *arg,
                     char *err, size_t errlen)
{
    struct cursor c = {.p = text, .end = text + len};
    const char *s;
    size_t sl;
    /* A crash between making the file and writing its header leaves no whole line: empty. */
    if (!memchr(text, '\n', len) && len < strlen(HITS_MAGIC) + strlen(inc) + 1 &&
        memcmp(text, HITS_MAGIC, len < strlen(HITS_MAGIC) ? len : strlen(HITS_MAGIC)) == 0)
        return 0;
    if (!next_line(&c) || (rest(&c, &s, &sl), sl != strlen(HITS_MAGIC) + strlen(inc)) ||
        memcmp(s, HITS_MAGIC, strlen(HITS_MAGIC)) != 0 ||
        memcmp(s + strlen(HITS_MAGIC), inc, strlen(inc)) != 0) {
        snprintf(err, errlen, "line 1: not a ghit spool hits file of process %s", inc);
        return -1;
    }
    while (next_line(&c)) {
        uint64_t take, hits;
        day_t day;
        if (!number(&c, COUNT_MAX, &take) || !day_field(&c, &day) ||
            !number(&c, COUNT_MAX, &hits) || hits == 0 || !key_field(&c, &s, &sl) ||
            !line_done(&c)) {
            snprintf(err, errlen, "line %zu: bad hit line", c.line);
            return -1;
        }
        fn(arg, take, day, hits, s, sl);
    }
    return 0;
}

static int by_put_key(const void *a, const void *b)
{
    return strcmp(((const struct spool_put_at *)a)->key, ((const struct spool_put_at *)b)->key);
}

struct spool_put_at *spool_last_puts(const struct spool_chunk *c, size_t n, size_t *m)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += c[i].np;
    struct spool_put_at *a = xcalloc(k + 1, sizeof *a);
    k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < c[i].np; j++)
            a[k++] = (struct spool_put_at){c[i].p[j].repo.key, i};
    qsort(a, k, sizeof *a, by_put_key);
    *m = 0;
    for (size_t i = 0; i < k; i++) {
        if (*m && strcmp(a[*m - 1].key, a[i].key) == 0) {
            if (a[i].chunk > a[*m - 1].chunk)
                a[*m - 1].chunk = a[i].chunk;
            continue;
        }
        a[(*m)++] = a[i];
    }
    return a;
}

bool spool_put_after(const struct spool_put_at *puts, size_t m, const char *key, size_t i)
{
    struct spool_put_at want = {key, 0};
    const struct spool_put_at *p = m ? bsearch(&want, puts, m, sizeof *puts, by_put_key) : NULL;
    return p && p->chunk > i;
}

/* --- the spool ----------------------------------------------------------------------------- */

struct lane {
    pthread_mutex_t lock;
    struct buf text;   /* hit lines not written yet */
    uint64_t max_take; /* of those lines */
} __attribute__((aligned(64)));

/* A hits file written and closed, kept until the chunks file covers its takes. */
struct closed {
    unsigned no;
    uint64_t max_take;
    size_t bytes;
};

struct spool {
    struct lane lanes[LANES];
    atomic_uint next_lane;
    atomic_bool broken;       /* gave up: logs nothing more, holds no file */
    atomic_bool overflowed;   /* a lane passed MAX_LANE_BYTES: give up at the writer's next turn */
    atomic_bool wants_chunks; /* writing again: no chunks file until the store writes one */
    char dir[4096];
    char where[SPOOL_WHERE_MAX];
    char inc[2 * 16 + 1];
    int lock_fd;
    int dir_fd; /* the directory, where the chunks file is replaced */
    /* The writer thread's. */
    pthread_t thread;
    bool running;
    unsigned interval_ms;
    int hits_fd;      /* the current hits file */
    unsigned hits_no; /* its number */
    uint64_t hits_max_take;
    size_t hits_bytes;
    int64_t hits_opened_ms;
    int64_t broke_ms; /* the last give-up, or try to write again */
    struct closed *closed;
    size_t nclosed;
    size_t closed_bytes;
    /* The flusher's. */
    _Atomic uint64_t taken;   /* the last take the flusher made */
    _Atomic uint64_t covered; /* the take of the chunks file on disk */
    struct buf chunks_text;
    pthread_mutex_t lock; /* guards stopping, and the files against a give-up */
    pthread_cond_t wake;
    bool stopping;
};

static void path_of(const struct spool *sp, char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", sp->dir, name);
}

static void hits_name(const char *inc, unsigned no, char *out, size_t n)
{
    snprintf(out, n, "hits-%s-%u", inc, no);
}

/*
 * Removes the spool's files but its lock: hits files of any process, the
 * chunks file and temporaries of it (replace_file_at's, and chunks.tmp
 * from before them). With keep_inc, keeps the chunks file and the hits
 * files of that process: what a start leaves once it took the spool over.
 */
static void remove_files(struct spool *sp, const char *keep_inc)
{
    DIR *d = opendir(sp->dir);
    if (!d)
        return;
    char path[4352], mine[96] = "";
    if (keep_inc)
        snprintf(mine, sizeof mine, "hits-%s-", keep_inc);
    for (struct dirent *e; (e = readdir(d));) {
        const char *n = e->d_name;
        bool chunks = strcmp(n, "chunks") == 0;
        if (keep_inc && (chunks || strncmp(n, mine, strlen(mine)) == 0))
            continue;
        if (chunks || strncmp(n, "hits-", 5) == 0 || strncmp(n, ".chunks.", 8) == 0 ||
            strcmp(n, "chunks.tmp") == 0) {
            path_of(sp, path, sizeof path, n);
            unlink(path);
        }
    }
    closedir(d);
}

/* Gives up after a failed write: see spool_write_chunks. Holds sp->lock. */
static void give_up(struct spool *sp, const char *what)
{
    if (atomic_exchange(&sp->broken, true))
        return;
    METRICS_GAUGE_SET("ghit_spool_up", SPOOL_UP_HELP, "", 0);
    log_error("spool %s: %s (%s); it is given up and its files removed, and tries again in %d s: "
              "a crash meanwhile loses the hits not yet in Redis, as without a spool",
              sp->dir, what, strerror(errno), REARM_MS / 1000);
    if (sp->hits_fd >= 0)
        close(sp->hits_fd);
    sp->hits_fd = -1;
    sp->broke_ms = monotime_ms();
    remove_files(sp, NULL);
}

/* Opens hits file number no of this process, writing its header; 0, or -1 with errno. */
static int open_hits(struct spool *sp, unsigned no)
{
    char name[96], path[4352];
    hits_name(sp->inc, no, name, sizeof name);
    path_of(sp, path, sizeof path, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    char head[128];
    int n = snprintf(head, sizeof head, HITS_MAGIC "%s\n", sp->inc);
    if (write_all(fd, head, (size_t)n) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    sp->hits_fd = fd;
    sp->hits_no = no;
    sp->hits_max_take = 0;
    sp->hits_bytes = (size_t)n;
    sp->hits_opened_ms = monotime_ms();
    return 0;
}

/*
 * Closes the current hits file and opens the next, removing the closed
 * ones whose hits the chunks file covers. Holds sp->lock.
 */
static void rotate_hits(struct spool *sp)
{
    if (sp->nclosed == MAX_HITS_FILES)
        return;
    close(sp->hits_fd);
    sp->hits_fd = -1;
    sp->closed = xrealloc(sp->closed, (sp->nclosed + 1) * sizeof *sp->closed);
    sp->closed[sp->nclosed++] = (struct closed){sp->hits_no, sp->hits_max_take, sp->hits_bytes};
    sp->closed_bytes += sp->hits_bytes;
    if (open_hits(sp, sp->hits_no + 1) < 0)
        give_up(sp, "cannot open a hits file");
}

/* Removes the closed hits files all of whose hits the chunks file on disk covers. */
static void drop_covered(struct spool *sp)
{
    uint64_t covered = atomic_load(&sp->covered);
    size_t kept = 0;
    for (size_t i = 0; i < sp->nclosed; i++) {
        if (sp->closed[i].max_take > covered) {
            sp->closed[kept++] = sp->closed[i];
            continue;
        }
        sp->closed_bytes -= sp->closed[i].bytes;
        char name[96], path[4352];
        hits_name(sp->inc, sp->closed[i].no, name, sizeof name);
        path_of(sp, path, sizeof path, name);
        unlink(path);
    }
    sp->nclosed = kept;
}

/* Writes every lane's lines to the current hits file. Holds sp->lock. */
static void write_lanes(struct spool *sp, struct buf *spare)
{
    for (int i = 0; i < LANES; i++) {
        struct lane *l = &sp->lanes[i];
        pthread_mutex_lock(&l->lock);
        struct buf full = l->text;
        uint64_t max_take = l->max_take;
        l->text = *spare;
        l->max_take = 0;
        pthread_mutex_unlock(&l->lock);
        if (full.len && !atomic_load(&sp->broken)) {
            if (write_all(sp->hits_fd, full.data, full.len) < 0) {
                give_up(sp, "cannot write a hits file");
            } else {
                sp->hits_bytes += full.len;
                if (max_take > sp->hits_max_take)
                    sp->hits_max_take = max_take;
            }
        }
        buf_reset(&full);
        *spare = full;
    }
}

/*
 * After a give-up, starts again (the disk may have room now, Redis may
 * take writes again): an empty directory and a new hits file. The hits
 * counted meanwhile are in no file, and the chunks file comes with the
 * flusher's next turn, Redis up or not (spool_wants_chunks): until then a
 * crash loses what it would without a spool, at most one flush interval
 * more. Holds sp->lock.
 */
static void rearm(struct spool *sp)
{
    sp->broke_ms = monotime_ms();
    free(sp->closed);
    sp->closed = NULL;
    sp->nclosed = 0;
    sp->closed_bytes = 0;
    remove_files(sp, NULL); /* what the try before may have left */
    if (open_hits(sp, sp->hits_no + 1) < 0)
        return; /* the next try in REARM_MS */
    atomic_store(&sp->wants_chunks, true);
    atomic_store(&sp->broken, false);
    METRICS_GAUGE_SET("ghit_spool_up", SPOOL_UP_HELP, "", 1);
    log_info("spool %s: writing again", sp->dir);
}

static void *writer(void *arg)
{
    struct spool *sp = arg;
    pthread_setname_np(pthread_self(), "ghit-spool");
    struct buf spare;
    buf_init(&spare);
    pthread_mutex_lock(&sp->lock);
    for (;;) {
        /* Each flush interval, and each second at least: a lane then holds a second of hits. */
        struct timespec until = monotime_deadline(sp->interval_ms < 1000 ? sp->interval_ms : 1000);
        while (!sp->stopping && pthread_cond_timedwait(&sp->wake, &sp->lock, &until) != ETIMEDOUT)
            ;
        write_lanes(sp, &spare);
        if (atomic_exchange(&sp->overflowed, false)) {
            errno = EAGAIN;
            give_up(sp, "its writes fell behind the hits by more than it holds in memory");
        }
        if (atomic_load(&sp->broken) && !sp->stopping && monotime_ms() - sp->broke_ms >= REARM_MS)
            rearm(sp);
        if (!atomic_load(&sp->broken) && sp->closed_bytes + sp->hits_bytes > MAX_HITS_BYTES) {
            errno = EFBIG;
            give_up(sp, "its hits files passed 1 GiB (Redis has taken no write for that long)");
        }
        if (!atomic_load(&sp->broken)) {
            if (sp->hits_bytes > HITS_FILE_BYTES ||
                monotime_ms() - sp->hits_opened_ms > HITS_FILE_MS)
                rotate_hits(sp);
            drop_covered(sp);
        }
        if (sp->stopping)
            break;
    }
    pthread_mutex_unlock(&sp->lock);
    buf_fini(&spare);
    return NULL;
}

/* spool_parse_hits callback of a recovery: the hits of takes the chunks do not cover. */
struct recover_hits {
    struct fold *fold;
    uint64_t after;
    uint64_t total;
};

static void recover_hit(void *arg, uint64_t take, day_t day, uint64_t hits, const char *key,
                        size_t keylen)
{
    struct recover_hits *r = arg;
    if (take <= r->after)
        return;
    fold_add(r->fold, key, keylen, day, hits);
    r->total = count_add(r->total, hits);
}

void spool_recovered_free(struct spool_recovered *r)
{
    spool_chunks_free(&r->chunks);
    fold_free(r->fold);
    memset(r, 0, sizeof *r);
}

/* Reads what the previous process left in sp's directory into *rec; 0, or -1 with err. */
static int recover(struct spool *sp, struct spool_recovered *rec, char *err, size_t errlen)
{
    char path[4352];
    struct buf text;
    buf_init(&text);
    path_of(sp, path, sizeof path, "chunks");
    int rc = read_file(path, &text);
    char why[256];
    if (rc < 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
    } else if (rc == 0 && spool_parse_chunks(text.data, text.len, &rec->chunks, why, sizeof why)) {
        snprintf(err, errlen,
                 "%s is not what ghit wrote (%s): move it away to start without it, and the "
                 "hits it holds are lost",
                 path, why);
        rc = -1;
    } else if (rc == 0 && strcmp(rec->chunks.where, sp->where) != 0) {
        snprintf(err, errlen,
                 "the spool %s holds hits for %s, not %s: start with that --db to write them, "
                 "or give another --spool (or remove %s, and they are lost)",
                 sp->dir, rec->chunks.where, sp->where, sp->dir);
        rc = -1;
    }
    rec->fold = fold_new();
    struct recover_hits rh = {rec->fold, rec->chunks.take, 0};
    /* Without a chunks file no hits file counts: the chunks file is written first. */
    DIR *d = rc == 0 ? opendir(sp->dir) : NULL;
    if (rc == 0 && !d) {
        snprintf(err, errlen, "cannot read the directory %s: %s", sp->dir, strerror(errno));
        rc = -1;
    }
    char prefix[96];
    snprintf(prefix, sizeof prefix, "hits-%s-", rec->chunks.inc);
    for (struct dirent *e; d && rc == 0 && (e = readdir(d));) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        path_of(sp, path, sizeof path, e->d_name);
        if (read_file(path, &text) != 0) {
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
            rc = -1;
        } else if (spool_parse_hits(text.data, text.len, rec->chunks.inc, recover_hit, &rh, why,
                                    sizeof why)) {
            snprintf(err, errlen,
                     "%s is not what ghit wrote (%s): move it away to start without it, and the "
                     "hits it holds are lost",
                     path, why);
            rc = -1;
        }
    }
    if (d)
        closedir(d);
    buf_fini(&text);
    if (rc < 0) {
        spool_recovered_free(rec);
        return -1;
    }
    rec->hits = fold_sorted(rec->fold, &rec->nhits);
    rec->nhit_total = rh.total;
    return 0;
}

/*
 * Makes the recovered state this process's: the hits in its first hits
 * file (take 1: the new table's first take hands them over), then its
 * chunks file, whose rename makes the old process's files history; they
 * are removed after it.
 */
static int adopt(struct spool *sp, const struct spool_recovered *rec, char *err, size_t errlen)
{
    if (open_hits(sp, 0) < 0) {
        snprintf(err, errlen, "cannot write in the spool %s: %s", sp->dir, strerror(errno));
        return -1;
    }
    struct buf text;
    buf_init(&text);
    for (size_t i = 0; i < rec->nhits; i++)
        buf_printf(&text, "1 %d %" PRIu64 " %s\n", (int)rec->hits[i].day, rec->hits[i].hits,
                   rec->hits[i].key);
    int rc = write_all(sp->hits_fd, text.data ? text.data : "", text.len);
    sp->hits_bytes += text.len;
    sp->hits_max_take = rec->nhits ? 1 : 0;
    buf_reset(&text);
    const struct spool_chunks *c = &rec->chunks;
    spool_format_chunks(&text, sp->inc, sp->where, c->id, c->next_seq ? c->next_seq : 1, 0,
                        c->chunks, c->nchunks);
    if (rc == 0)
        rc = replace_file_at(sp->dir_fd, "chunks", text.data, text.len, 0600, false);
    buf_fini(&text);
    if (rc < 0) {
        snprintf(err, errlen, "cannot write in the spool %s: %s", sp->dir, strerror(errno));
        return -1;
    }
    /* The old process's files: no longer read by a restart, since the chunks file names this
     * one; and a temporary chunks file that a crash cut short (the lock says it is no one's). */
    remove_files(sp, sp->inc);
    return 0;
}

struct spool *spool_open(const char *dir, const char *where, struct spool_recovered *rec, char *err,
                         size_t errlen)
{
    memset(rec, 0, sizeof *rec);
    if (strlen(dir) >= 4000 || strlen(where) >= SPOOL_WHERE_MAX || !where[0]) {
        snprintf(err, errlen, "the spool directory's name is too long");
        return NULL;
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot make the spool directory %s: %s", dir, strerror(errno));
        rec->unusable = true;
        return NULL;
    }
    struct spool *sp = xcalloc(1, sizeof *sp);
    snprintf(sp->dir, sizeof sp->dir, "%s", dir);
    snprintf(sp->where, sizeof sp->where, "%s", where);
    sp->hits_fd = -1;
    sp->dir_fd = -1;
    for (int i = 0; i < LANES; i++) {
        pthread_mutex_init(&sp->lanes[i].lock, NULL);
        buf_init(&sp->lanes[i].text);
    }
    pthread_mutex_init(&sp->lock, NULL);
    monotime_cond_init(&sp->wake);
    buf_init(&sp->chunks_text);
    unsigned char r[16];
    char path[4352];
    path_of(sp, path, sizeof path, "lock");
    sp->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (sp->lock_fd >= 0)
        sp->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sp->lock_fd < 0 || sp->dir_fd < 0) {
        snprintf(err, errlen, "cannot use the spool directory %s: %s", dir, strerror(errno));
        rec->unusable = true;
    } else if (flock(sp->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        snprintf(err, errlen,
                 "the spool %s is in use by another ghit (each frontend needs its own --spool)",
                 dir);
    } else if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        snprintf(err, errlen, "getrandom failed: no spool id");
    } else if (recover(sp, rec, err, errlen) == 0) {
        for (size_t i = 0; i < sizeof r; i++)
            snprintf(sp->inc + 2 * i, 3, "%02x", r[i]);
        if (adopt(sp, rec, err, errlen) == 0)
            return sp;
        spool_recovered_free(rec);
    }
    spool_close(sp, false);
    return NULL;
}

/* Writes v in decimal at out; returns its length (at most 20). */
static size_t put_decimal(char *out, uint64_t v)
{
    char digits[20];
    size_t k = 0;
    do
        digits[k++] = (char)('0' + v % 10);
    while (v /= 10);
    for (size_t i = 0; i < k; i++)
        out[i] = digits[k - 1 - i];
    return k;
}

void spool_hit(struct spool *sp, const char *key, day_t day, uint64_t take)
{
    if (atomic_load_explicit(&sp->broken, memory_order_relaxed))
        return;
    static _Thread_local unsigned lane = UINT32_MAX;
    if (lane == UINT32_MAX)
        lane = atomic_fetch_add(&sp->next_lane, 1) % LANES;
    struct lane *l = &sp->lanes[lane];
    /* "TAKE DAY 1 KEY\n", formatted by hand: the hot path. */
    char line[20 + 1 + 20 + 3 + REPO_KEY_SIZE + 1];
    size_t n = put_decimal(line, take);
    line[n++] = ' ';
    n += put_decimal(line + n, (uint64_t)(uint32_t)day);
    memcpy(line + n, " 1 ", 3);
    n += 3;
    size_t len = strnlen(key, REPO_KEY_SIZE - 1);
    memcpy(line + n, key, len);
    n += len;
    line[n++] = '\n';
    pthread_mutex_lock(&l->lock);
    if (l->text.len + n > MAX_LANE_BYTES) {
        atomic_store(&sp->overflowed, true); /* the files now miss this hit: they go */
    } else {
        buf_append(&l->text, line, n);
        if (take > l->max_take)
            l->max_take = take;
    }
    pthread_mutex_unlock(&l->lock);
}

int spool_start(struct spool *sp, unsigned interval_ms)
{
    METRICS_GAUGE_SET("ghit_spool_up", SPOOL_UP_HELP, "", 1);
    sp->interval_ms = interval_ms ? interval_ms : 1;
    int rc = pthread_create(&sp->thread, NULL, writer, sp);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    sp->running = true;
    return 0;
}

void spool_taken(struct spool *sp, uint64_t take_no)
{
    atomic_store(&sp->taken, take_no);
}

void spool_write_chunks(struct spool *sp, const char *id, uint64_t next_seq,
                        const struct spool_chunk *c, size_t n)
{
    if (atomic_load(&sp->broken))
        return;
    uint64_t take = atomic_load(&sp->taken);
    buf_reset(&sp->chunks_text);
    spool_format_chunks(&sp->chunks_text, sp->inc, sp->where, id, next_seq, take, c, n);
    /* Under the lock: a give-up of the writer thread meanwhile must not see the file come back. */
    pthread_mutex_lock(&sp->lock);
    if (!atomic_load(&sp->broken)) {
        if (replace_file_at(sp->dir_fd, "chunks", sp->chunks_text.data, sp->chunks_text.len, 0600,
                            false) < 0)
            give_up(sp, "cannot write the chunks file");
        else
            atomic_store(&sp->wants_chunks, false);
    }
    pthread_mutex_unlock(&sp->lock);
    atomic_store(&sp->covered, take);
    /* A big write's text need not stay: the next one may be small. */
    if (sp->chunks_text.cap > (1u << 20)) {
        buf_fini(&sp->chunks_text);
        buf_init(&sp->chunks_text);
    }
}

bool spool_wants_chunks(struct spool *sp)
{
    return atomic_load(&sp->wants_chunks);
}

bool spool_close(struct spool *sp, bool clean)
{
    if (!sp)
        return false;
    if (sp->running) {
        pthread_mutex_lock(&sp->lock);
        sp->stopping = true;
        pthread_cond_signal(&sp->wake);
        pthread_mutex_unlock(&sp->lock);
        pthread_join(sp->thread, NULL);
    }
    if (sp->hits_fd >= 0)
        close(sp->hits_fd);
    bool broken = atomic_load(&sp->broken), kept = !clean && !broken && sp->lock_fd >= 0;
    if (!kept && sp->lock_fd >= 0)
        remove_files(sp, NULL); /* a given-up spool holds nothing a restart may read */
    if (sp->lock_fd >= 0)
        close(sp->lock_fd); /* and with it the lock */
    if (sp->dir_fd >= 0)
        close(sp->dir_fd);
    for (int i = 0; i < LANES; i++) {
        pthread_mutex_destroy(&sp->lanes[i].lock);
        buf_fini(&sp->lanes[i].text);
    }
    pthread_cond_destroy(&sp->wake);
    pthread_mutex_destroy(&sp->lock);
    buf_fini(&sp->chunks_text);
    free(sp->closed);
    free(sp);
    return kept;
}
