/*
 * store_sqlite: the embedded default store, one SQLite file in WAL mode.
 *
 * Schema (version 1), readable with the sqlite3 shell:
 *
 *   repos(name TEXT PRIMARY KEY, total INTEGER, first_day TEXT)   every repo
 *   daily(repo TEXT, day TEXT, hits INTEGER, PRIMARY KEY(repo, day))
 *                                            hits per UTC day; the rows of a
 *                                            day are that day's repos
 *
 * Days are stored as 'YYYY-MM-DD' so that a person can query them. The file
 * is marked as ghit's with PRAGMA application_id, and its schema version is
 * PRAGMA user_version: a database that is not ghit's is refused, never
 * changed. One flush is one transaction, so a crash leaves either all of a
 * flush or none of it.
 */
#include "store.h"

#include <inttypes.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"

#define APP_ID         0x67686974 /* "ghit" */
#define SCHEMA_VERSION 2          /* 2: the journal and meta tables; a version 1 file is upgraded */

struct sqlite_store {
    struct store base; /* first: a struct store * is a struct sqlite_store * */
    sqlite3 *db;
    char *path;
    int lock_fd;      /* holds flock(LOCK_EX) while a server writes the file; -1 if none */
    bool has_journal; /* schema 2 (a read-only opener may meet a version 1 file) */
    int64_t flushed;  /* the sequence number of the last flush written */
    enum store_sqlite_fault fault;
    sqlite3_stmt *append, *mark_flushed, *merge_bound, *merge_repos, *merge_daily, *merge_drop,
        *backlog, *upsert_repo, *upsert_day, *delete_journal, *delete_days, *delete_repo;
    struct store_stats stats;
};

static const char schema[] = "CREATE TABLE repos ("
                             "  name TEXT PRIMARY KEY NOT NULL,"
                             "  total INTEGER NOT NULL DEFAULT 0 CHECK (total >= 0),"
                             "  first_day TEXT NOT NULL"
                             ") WITHOUT ROWID;"
                             "CREATE TABLE daily ("
                             "  repo TEXT NOT NULL,"
                             "  day TEXT NOT NULL,"
                             "  hits INTEGER NOT NULL DEFAULT 0 CHECK (hits >= 0),"
                             "  PRIMARY KEY (repo, day)"
                             ") WITHOUT ROWID;"
                             "CREATE INDEX daily_by_day ON daily(day);";

/*
 * Schema 2 adds the journal. A flush appends its deltas there, one row
 * each, in one short transaction: rows go to the end of a rowid table, so
 * the cost of making a flush durable is the bytes it writes, whatever the
 * repos. A merge folds the oldest rows into repos and daily, in key order,
 * and deletes them in the same transaction, so each row counts exactly
 * once. meta.flushed is the sequence number of the last flush, written
 * with it: after a COMMIT that reports an error it tells whether the flush
 * is in (doc/design.md, "The journal").
 */
static const char schema_v2[] =
    "CREATE TABLE journal ("
    "  id INTEGER PRIMARY KEY,"
    "  flush INTEGER NOT NULL,"
    "  repo TEXT NOT NULL,"
    "  day TEXT NOT NULL,"
    "  hits INTEGER NOT NULL CHECK (hits > 0)"
    ");"
    "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO meta(key, value) VALUES ('flushed', 0);";

/* Writes "what: sqlite's message (path)" into err. */
static void fail(struct sqlite_store *s, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: %s (%s)", what, s->db ? sqlite3_errmsg(s->db) : "out of memory",
             s->path);
}

/*
 * Maps an SQLite result to whether retrying can help. A read-only
 * connection (permissions changed, the file moved) is permanent: the hits
 * stay in memory, but no retry of this connection will write them.
 */
static enum store_result classify(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
        return STORE_RETRY;
    default:
        return STORE_FAILED;
    }
}

/* Runs one statement that returns one integer. -1 on error. */
static int pragma_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

/* Checks that db is ghit's, or empty and (unless read_only) now made ghit's. */
static int adopt(struct sqlite_store *s, bool read_only, char *err, size_t errlen)
{
    int64_t app_id, version, ntables;
    if (pragma_int(s->db, "PRAGMA application_id", &app_id) < 0 ||
        pragma_int(s->db, "PRAGMA user_version", &version) < 0 ||
        pragma_int(s->db, "SELECT count(*) FROM sqlite_schema", &ntables) < 0) {
        fail(s, "cannot read the database; it is not a SQLite database or it is corrupt", err,
             errlen);
        return -1;
    }
    if (app_id == 0 && ntables == 0 && read_only) {
        snprintf(err, errlen, "%s holds no ghit data (an empty database)", s->path);
        return -1;
    }
    if (app_id == 0 && ntables == 0) {
        char *msg = NULL;
        char sql[sizeof schema + sizeof schema_v2 + 128];
        snprintf(sql, sizeof sql,
                 "BEGIN;%s%sPRAGMA application_id=%d;PRAGMA user_version=%d;COMMIT;", schema,
                 schema_v2, APP_ID, SCHEMA_VERSION);
        if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(err, errlen, "cannot create ghit's tables in %s: %s", s->path,
                     msg ? msg : "?");
            sqlite3_free(msg);
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        return 0;
    }
    if (app_id != APP_ID) {
        snprintf(err, errlen,
                 "%s is a SQLite database but not ghit's (application_id %" PRId64
                 "); refusing to touch it: give --db a new file or a ghit database",
                 s->path, app_id);
        return -1;
    }
    if (version == 1 && read_only)
        return 0; /* readable as it is: no journal */
    if (version == 1) {
        char *msg = NULL;
        char sql[sizeof schema_v2 + 128];
        snprintf(sql, sizeof sql, "BEGIN;%sPRAGMA user_version=%d;COMMIT;", schema_v2,
                 SCHEMA_VERSION);
        if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(err, errlen, "cannot upgrade %s to ghit schema version %d: %s", s->path,
                     SCHEMA_VERSION, msg ? msg : "?");
            sqlite3_free(msg);
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        return 0;
    }
    if (version != SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "%s has ghit schema version %" PRId64 ", this ghit knows version %d; "
                 "use a ghit of the same version",
                 s->path, version, SCHEMA_VERSION);
        return -1;
    }
    return 0;
}

/* Quick integrity check: refuses a damaged file before anything is written to it. */
static int check_integrity(struct sqlite_store *s, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "PRAGMA quick_check", -1, &st, NULL) != SQLITE_OK) {
        fail(s, "the database is corrupt", err, errlen);
        return -1;
    }
    int rc = sqlite3_step(st);
    int ok = rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
    if (!ok) {
        if (rc == SQLITE_ROW)
            snprintf(err, errlen,
                     "the database %s is corrupt (%s); restore it from a backup or "
                     "try the sqlite3 shell's .recover",
                     s->path, (const char *)sqlite3_column_text(st, 0));
        else
            fail(s, "the database is corrupt", err, errlen);
    }
    sqlite3_finalize(st);
    return ok ? 0 : -1;
}

static enum store_result sqlite_scan(struct store *base, day_t day, store_row_fn *fn, void *arg,
                                     char *err, size_t errlen)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    char today[DAY_TEXT_SIZE];
    day_format(day, today);
    sqlite3_stmt *st;
    /*
     * What the tables hold, plus the journal's rows not merged yet: a
     * reader sees every flush, merged or not. The journal is small (the
     * merge keeps up), so aggregating it first costs little.
     */
    static const char with_journal[] =
        "WITH j AS (SELECT repo, sum(hits) AS hits, min(day) AS first,"
        "  sum(CASE WHEN day = ?1 THEN hits ELSE 0 END) AS today FROM journal GROUP BY repo) "
        "SELECT r.name, r.total + coalesce(j.hits, 0), min(r.first_day, coalesce(j.first, "
        "  r.first_day)), coalesce(d.hits, 0) + coalesce(j.today, 0) "
        "FROM repos r LEFT JOIN daily d ON d.repo = r.name AND d.day = ?1 "
        "LEFT JOIN j ON j.repo = r.name "
        "UNION ALL "
        "SELECT j.repo, j.hits, j.first, j.today FROM j "
        "WHERE NOT EXISTS (SELECT 1 FROM repos WHERE name = j.repo)";
    static const char tables_only[] =
        "SELECT r.name, r.total, r.first_day, coalesce(d.hits, 0) "
        "FROM repos r LEFT JOIN daily d ON d.repo = r.name AND d.day = ?1";
    int rc = sqlite3_prepare_v2(s->db, s->has_journal ? with_journal : tables_only, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        fail(s, "cannot read the repos", err, errlen);
        return classify(rc);
    }
    sqlite3_bind_text(st, 1, today, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_row row = {
            .key = (const char *)sqlite3_column_text(st, 0),
            .total = (uint64_t)sqlite3_column_int64(st, 1),
            .day_hits = (uint64_t)sqlite3_column_int64(st, 3),
        };
        const char *first = (const char *)sqlite3_column_text(st, 2);
        if (!row.key || !first || day_parse(first, &row.first_day)) {
            snprintf(err, errlen, "the database %s holds a malformed repos row (%s)", s->path,
                     row.key ? row.key : "NULL");
            sqlite3_finalize(st);
            return STORE_FAILED;
        }
        fn(arg, &row);
    }
    enum store_result res = STORE_OK;
    if (rc != SQLITE_DONE) {
        fail(s, "cannot read the repos", err, errlen);
        res = classify(rc);
    }
    sqlite3_finalize(st);
    return res;
}

/*
 * Whether the file this connection writes is still the one at its path: a
 * file deleted or replaced under a running server would swallow every
 * later flush (SQLite keeps writing to the unlinked inode).
 */
static enum store_result check_file(struct sqlite_store *s, char *err, size_t errlen)
{
    int moved = 0;
    if (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK && moved) {
        snprintf(err, errlen,
                 "the database file %s was deleted or replaced while ghit runs; the hits are "
                 "kept in memory: put the file back where it was",
                 s->path);
        return STORE_FAILED;
    }
    return STORE_OK;
}

/* Appends one delta to the journal as part of flush seq. SQLITE_OK or the error. */
static int append(struct sqlite_store *s, int64_t seq, const struct store_delta *d)
{
    char day[DAY_TEXT_SIZE];
    day_format(d->day, day);
    sqlite3_bind_int64(s->append, 1, seq);
    sqlite3_bind_text(s->append, 2, d->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s->append, 3, day, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s->append, 4, (int64_t)d->hits);
    int rc = sqlite3_step(s->append);
    sqlite3_reset(s->append);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Runs a statement that writes, then resets it. SQLITE_OK or the error. */
static int run(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* The flush sequence number the file holds (meta.flushed); -1 if it cannot be read. */
static int64_t read_flushed(struct sqlite_store *s)
{
    int64_t v;
    return pragma_int(s->db, "SELECT value FROM meta WHERE key = 'flushed'", &v) == 0 ? v : -1;
}

/* Ends a transaction that failed: rolls back what is open, so the next try starts clean. */
static void abandon(struct sqlite_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/*
 * Commits, and settles a COMMIT that reports an error: SQLite says one may
 * have reached the disk all the same (an I/O error after the commit record
 * was written), and a flush given back and written again would count
 * twice. The flush's sequence number was written in the same transaction,
 * so reading it back tells. SQLITE_OK if seq is in the file.
 */
static int commit_flush(struct sqlite_store *s, int64_t seq)
{
    int rc;
    if (s->fault == STORE_SQLITE_FAULT_COMMIT_FAILS) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        rc = SQLITE_IOERR;
    } else {
        rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
        if (rc == SQLITE_OK && s->fault == STORE_SQLITE_FAULT_COMMIT_REPLY_LOST)
            rc = SQLITE_IOERR;
    }
    s->fault = STORE_SQLITE_FAULT_NONE;
    if (rc == SQLITE_OK)
        return SQLITE_OK;
    abandon(s);
    if (read_flushed(s) == seq) {
        s->stats.ambiguous_commits++;
        return SQLITE_OK;
    }
    return rc;
}

/* Runs st with (key, day, hits) bound, then resets it. */
static int step_delta(sqlite3_stmt *st, const struct store_delta *d)
{
    char day[DAY_TEXT_SIZE];
    day_format(d->day, day);
    sqlite3_bind_text(st, 1, d->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, day, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (int64_t)d->hits);
    return run(st);
}

/* Runs st with key bound, then resets it. */
static int step_key(sqlite3_stmt *st, const char *key)
{
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    return run(st);
}

/*
 * Makes one put inside the open transaction. A set or delete replaces
 * everything the repo had, its journal rows included: they are hits from
 * before the change, which the change supersedes.
 */
static int step_put(struct sqlite_store *s, const struct store_put *p)
{
    const struct store_repo *r = &p->repo;
    int rc = SQLITE_OK;
    if (p->mode != STORE_PUT_ADD) {
        sqlite3_stmt *wipe[] = {s->delete_journal, s->delete_days, s->delete_repo};
        for (size_t i = 0; i < sizeof wipe / sizeof wipe[0] && rc == SQLITE_OK; i++)
            rc = step_key(wipe[i], r->key);
        if (p->mode == STORE_PUT_DELETE || rc != SQLITE_OK)
            return rc;
    }
    /* The upserts add to what is there: after the delete, that is nothing. */
    struct store_delta whole = {r->key, r->first_day, r->total};
    rc = step_delta(s->upsert_repo, &whole);
    for (size_t i = 0; i < r->ndays && rc == SQLITE_OK; i++) {
        struct store_delta day = {r->key, r->days[i].day, r->days[i].hits};
        rc = step_delta(s->upsert_day, &day);
    }
    return rc;
}

/*
 * Makes n puts, then appends nd deltas to the journal, in one transaction
 * that also records its sequence number (see commit_flush); see store.h.
 */
static enum store_result sqlite_write(struct store *base, const struct store_put *p, size_t n,
                                      const struct store_delta *d, size_t nd, char *err,
                                      size_t errlen)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    if (check_file(s, err, errlen) != STORE_OK)
        return STORE_FAILED;
    int64_t seq = s->flushed + 1;
    int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        fail(s, "cannot begin a write", err, errlen);
        return classify(rc);
    }
    for (size_t i = 0; i < n && rc == SQLITE_OK; i++)
        rc = step_put(s, &p[i]);
    for (size_t i = 0; i < nd && rc == SQLITE_OK; i++)
        rc = append(s, seq, &d[i]);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(s->mark_flushed, 1, seq);
        rc = run(s->mark_flushed);
    }
    if (rc == SQLITE_OK)
        rc = commit_flush(s, seq);
    if (rc != SQLITE_OK) {
        fail(s, "cannot write the counts", err, errlen);
        abandon(s);
        return classify(rc);
    }
    s->flushed = seq;
    s->stats.journal_rows += nd;
    return STORE_OK;
}

/* Adds deltas: a write without puts. */
static enum store_result sqlite_apply(struct store *base, const struct store_delta *d, size_t n,
                                      day_t today, store_row_fn *fn, void *arg, char *err,
                                      size_t errlen)
{
    (void)today;
    (void)fn; /* the file holds only this process's hits: nothing newer to report */
    (void)arg;
    return sqlite_write(base, NULL, 0, d, n, err, errlen);
}

/*
 * Folds the oldest journal rows, at most max_rows, into repos and daily,
 * and deletes them, in one transaction. GROUP BY hands the upserts over in
 * key order, so each page of the tables is visited once per merge however
 * the hits were spread.
 */
static enum store_result sqlite_merge(struct store *base, size_t max_rows, size_t *merged,
                                      char *err, size_t errlen)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    *merged = 0;
    if (check_file(s, err, errlen) != STORE_OK)
        return STORE_FAILED;
    int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        fail(s, "cannot begin a merge", err, errlen);
        return classify(rc);
    }
    sqlite3_bind_int64(s->merge_bound, 1, (int64_t)max_rows);
    rc = sqlite3_step(s->merge_bound);
    int64_t bound = sqlite3_column_int64(s->merge_bound, 0);
    int64_t rows = sqlite3_column_int64(s->merge_bound, 1);
    bool empty = rc != SQLITE_ROW || rows == 0;
    sqlite3_reset(s->merge_bound);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        fail(s, "cannot read the journal", err, errlen);
        abandon(s);
        return classify(rc);
    }
    if (empty) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return STORE_OK;
    }
    sqlite3_stmt *steps[] = {s->merge_repos, s->merge_daily, s->merge_drop};
    rc = SQLITE_OK;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0] && rc == SQLITE_OK; i++) {
        sqlite3_bind_int64(steps[i], 1, bound);
        rc = run(steps[i]);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        fail(s, "cannot merge the journal", err, errlen);
        abandon(s);
        return classify(rc);
    }
    *merged = (size_t)rows;
    s->stats.merged_rows += *merged;
    return STORE_OK;
}

/* Hands the repo gathered in r (with its nd days) to fn. */
static void export_one(store_repo_fn *fn, void *arg, struct store_repo *r, struct store_day *days,
                       size_t nd)
{
    r->days = days;
    r->ndays = nd;
    fn(arg, r);
}

/*
 * One statement, so one snapshot: in WAL mode a reader sees the database
 * as of its first step, whatever the server commits meanwhile.
 */
static enum store_result sqlite_export(struct store *base, store_repo_fn *fn, void *arg, char *err,
                                       size_t errlen)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    sqlite3_stmt *st;
    /* With the journal's rows not merged yet: an export holds every flush. */
    static const char with_journal[] =
        "WITH j AS (SELECT repo, day, sum(hits) AS hits FROM journal GROUP BY repo, day), "
        "d AS (SELECT repo, day, sum(hits) AS hits FROM (SELECT repo, day, hits FROM daily "
        "  UNION ALL SELECT repo, day, hits FROM j) GROUP BY repo, day), "
        "r AS (SELECT name, sum(total) AS total, min(first_day) AS first_day FROM "
        "  (SELECT name, total, first_day FROM repos UNION ALL SELECT repo, hits, day FROM j) "
        "  GROUP BY name) "
        "SELECT r.name, r.total, r.first_day, d.day, d.hits FROM r "
        "LEFT JOIN d ON d.repo = r.name AND d.hits > 0 ORDER BY r.name, d.day";
    static const char tables_only[] =
        "SELECT r.name, r.total, r.first_day, d.day, d.hits FROM repos r "
        "LEFT JOIN daily d ON d.repo = r.name AND d.hits > 0 ORDER BY r.name, d.day";
    int rc = sqlite3_prepare_v2(s->db, s->has_journal ? with_journal : tables_only, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        fail(s, "cannot read the repos", err, errlen);
        return classify(rc);
    }
    char key[256] = "";
    struct store_repo r = {.key = key};
    struct store_day *days = NULL;
    size_t nd = 0, cap = 0;
    bool have = false;
    enum store_result res = STORE_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        const char *first = (const char *)sqlite3_column_text(st, 2);
        const char *day = (const char *)sqlite3_column_text(st, 3);
        day_t first_day;
        if (!name || strlen(name) >= sizeof key || !first || day_parse(first, &first_day)) {
            snprintf(err, errlen, "the database %s holds a malformed repos row", s->path);
            res = STORE_FAILED;
            break;
        }
        if (!have || strcmp(name, key) != 0) {
            if (have)
                export_one(fn, arg, &r, days, nd);
            memcpy(key, name, strlen(name) + 1);
            nd = 0;
            have = true;
        }
        r.first_day = first_day;
        r.total = (uint64_t)sqlite3_column_int64(st, 1);
        if (!day)
            continue; /* a repo without history */
        if (nd == cap) {
            cap = cap ? 2 * cap : 64;
            days = xrealloc(days, cap * sizeof *days);
        }
        if (day_parse(day, &days[nd].day)) {
            snprintf(err, errlen, "the database %s holds a malformed daily row (%s)", s->path, key);
            res = STORE_FAILED;
            break;
        }
        days[nd++].hits = (uint64_t)sqlite3_column_int64(st, 4);
    }
    if (res == STORE_OK && rc != SQLITE_DONE) {
        fail(s, "cannot read the repos", err, errlen);
        res = classify(rc);
    }
    if (res == STORE_OK && have)
        export_one(fn, arg, &r, days, nd);
    free(days);
    sqlite3_finalize(st);
    return res;
}

static enum store_result sqlite_check(struct store *base, char *err, size_t errlen)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    if (check_file(s, err, errlen) != STORE_OK)
        return STORE_FAILED;
    /* Taking the write lock is what a flush needs first; nothing is written. */
    int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE; ROLLBACK;", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        fail(s, "cannot begin a write", err, errlen);
        if (!sqlite3_get_autocommit(s->db))
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return classify(rc);
    }
    return STORE_OK;
}

static void sqlite_stats(struct store *base, struct store_stats *out)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    *out = s->stats;
    out->backlog_rows = 0;
    int64_t n;
    if (s->backlog && sqlite3_step(s->backlog) == SQLITE_ROW) {
        n = sqlite3_column_int64(s->backlog, 0);
        out->backlog_rows = n > 0 ? (uint64_t)n : 0;
    }
    if (s->backlog)
        sqlite3_reset(s->backlog);
}

void store_sqlite_fault(struct store *base, enum store_sqlite_fault fault)
{
    ((struct sqlite_store *)base)->fault = fault;
}

static void sqlite_close(struct store *base)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    sqlite3_stmt *all[] = {s->append,      s->mark_flushed, s->merge_bound,    s->merge_repos,
                           s->merge_daily, s->merge_drop,   s->backlog,        s->upsert_repo,
                           s->upsert_day,  s->delete_days,  s->delete_journal, s->delete_repo};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sqlite3_finalize(all[i]);
    sqlite3_close(s->db);
    if (s->lock_fd >= 0)
        close(s->lock_fd); /* drops the flock */
    free(s->path);
    free(s);
}

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .scan = sqlite_scan,
    .apply = sqlite_apply,
    .merge = sqlite_merge,
    .stats = sqlite_stats,
    .check = sqlite_check,
    .write = sqlite_write,
    .export = sqlite_export,
    .close = sqlite_close,
};

/* Switches to WAL and checks that the switch took (not every file system can). */
static int use_wal(struct sqlite_store *s, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    int ok = 0;
    if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        ok = mode && strcmp(mode, "wal") == 0;
    }
    sqlite3_finalize(st);
    if (!ok) {
        fail(s, "cannot switch the database to WAL mode (is it on a network file system?)", err,
             errlen);
        return -1;
    }
    /*
     * synchronous=NORMAL: a committed flush survives a crash of ghit (kill -9);
     * a power cut may lose the last flushes, as the flush interval already may.
     */
    return sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/*
 * Takes the writer's lock: flock(2) on a descriptor of the database file
 * itself. flock locks are independent of the fcntl locks SQLite takes, and
 * belong to this descriptor, so SQLite closing its own never drops them.
 * Two servers on one file would each count into memory and show only their
 * own hits; the second is refused. The lock goes with the process, also on
 * kill -9.
 */
static int lock_writer(struct sqlite_store *s, char *err, size_t errlen)
{
    s->lock_fd = open(s->path, O_RDONLY | O_CLOEXEC);
    if (s->lock_fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", s->path, strerror(errno));
        return -1;
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) == 0)
        return 0;
    if (errno == EWOULDBLOCK)
        snprintf(err, errlen,
                 "%s is in use by another ghit serve; one SQLite file has one server. "
                 "To run several ghit frontends on shared counts, give each --db "
                 "redis://HOST:PORT (the Redis store)",
                 s->path);
    else
        snprintf(err, errlen, "cannot lock %s: %s", s->path, strerror(errno));
    return -1;
}

/*
 * Checks that the server can write path and its directory (SQLite makes
 * PATH-wal and PATH-shm beside it) before anything is counted: a file
 * opened read-only would take hits into memory that no flush can ever write.
 */
static int check_writable(struct sqlite_store *s, char *err, size_t errlen)
{
    if (sqlite3_db_readonly(s->db, "main") == 1) {
        snprintf(err, errlen,
                 "cannot write %s (%s): ghit serve needs to write its database; "
                 "give its user write access to the file, or use another --db",
                 s->path, access(s->path, W_OK) < 0 ? strerror(errno) : "read-only");
        return -1;
    }
    char *dir = xstrdup(s->path);
    char *slash = strrchr(dir, '/');
    const char *d = !slash ? "." : slash == dir ? "/" : (*slash = '\0', dir);
    int ok = access(d, W_OK | X_OK) == 0;
    int e = errno;
    if (!ok)
        snprintf(err, errlen,
                 "cannot write the directory %s (%s): SQLite keeps %s-wal and %s-shm there; "
                 "give ghit's user write access to it",
                 d, strerror(e), s->path, s->path);
    free(dir);
    return ok ? 0 : -1;
}

/*
 * Whether a writer holds path's lock (see lock_writer). The probe opens and
 * closes a descriptor of the file: only call it with no connection to path
 * open in this process, since closing any descriptor of a file drops the
 * fcntl locks SQLite holds on it.
 */
bool store_sqlite_is_busy(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool busy = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
    close(fd); /* drops the shared lock, if taken */
    return busy;
}

/* Whether path's write-ahead log exists and holds anything. */
static bool has_wal(const char *path)
{
    char wal[4096];
    struct stat st;
    snprintf(wal, sizeof wal, "%s-wal", path);
    return stat(wal, &st) == 0 && st.st_size > 0;
}

/*
 * Reopens s->db as immutable, for a reader that may not write the
 * directory: SQLite cannot read a WAL database without making its -shm
 * file, unless told the file will not change. That holds when no WAL is
 * left (a stopped server checkpoints and removes it), which the caller
 * checks. The path is percent-escaped into a URI.
 */
static int reopen_immutable(struct sqlite_store *s)
{
    struct buf uri;
    buf_init(&uri);
    buf_puts(&uri, "file:");
    for (const unsigned char *p = (const unsigned char *)s->path; *p; p++) {
        if (*p == '?' || *p == '#' || *p == '%' || *p < 0x21 || *p >= 0x7f)
            buf_printf(&uri, "%%%02X", *p);
        else
            buf_putc(&uri, (char)*p);
    }
    buf_puts(&uri, "?immutable=1");
    sqlite3_close(s->db);
    int rc = sqlite3_open_v2(uri.data, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
    buf_fini(&uri);
    return rc == SQLITE_OK ? 0 : -1;
}

/* Opens path read-write (made if missing) or read-only; see store.h. */
static struct store *open_store(const char *path, bool read_only, char *err, size_t errlen)
{
    struct sqlite_store *s = xcalloc(1, sizeof *s);
    s->base.ops = &sqlite_ops;
    s->path = xstrdup(path);
    s->lock_fd = -1;

    struct stat st;
    /* ":memory:", "" and URIs name no file: hits kept there would vanish at exit. */
    if (!*path || strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0) {
        snprintf(err, errlen, "'%s' is not a file path; give --db a file path", path);
        goto fail;
    }
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file; give --db a file path", path);
        goto fail;
    }
    int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
    if (rc != SQLITE_OK) {
        fail(s, "cannot open the database", err, errlen);
        goto fail;
    }
    if (read_only) {
        int64_t probe;
        if (pragma_int(s->db, "PRAGMA application_id", &probe) < 0 &&
            ((sqlite3_errcode(s->db) & 0xff) == SQLITE_CANTOPEN ||
             (sqlite3_errcode(s->db) & 0xff) == SQLITE_READONLY) &&
            !has_wal(path) && reopen_immutable(s) < 0) {
            fail(s, "cannot open the database", err, errlen);
            goto fail;
        }
    } else if (lock_writer(s, err, errlen) < 0 || check_writable(s, err, errlen) < 0) {
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    /* A writer elsewhere (the sqlite3 shell, a backup) holds the lock briefly: wait a little. */
    sqlite3_busy_timeout(s->db, 1000);
    if (adopt(s, read_only, err, errlen) < 0 || check_integrity(s, err, errlen) < 0)
        goto fail;
    int64_t version = 0;
    pragma_int(s->db, "PRAGMA user_version", &version);
    s->has_journal = version >= 2;
    if (read_only)
        return &s->base;
    /* WAL: readers (the sqlite3 shell, backups, ghit render) never block the flusher. */
    if (use_wal(s, err, errlen) < 0)
        goto fail;
    static const struct {
        size_t offset;
        const char *sql;
    } statements[] = {
        {offsetof(struct sqlite_store, append),
         "INSERT INTO journal(flush, repo, day, hits) VALUES (?1, ?2, ?3, ?4)"},
        {offsetof(struct sqlite_store, mark_flushed),
         "UPDATE meta SET value = ?1 WHERE key = 'flushed'"},
        {offsetof(struct sqlite_store, merge_bound),
         "SELECT max(id), count(*) FROM (SELECT id FROM journal ORDER BY id LIMIT ?1)"},
        {offsetof(struct sqlite_store, merge_repos),
         "INSERT INTO repos(name, first_day, total) "
         "SELECT repo, min(day), sum(hits) FROM journal WHERE id <= ?1 GROUP BY repo "
         "ON CONFLICT(name) DO UPDATE SET total = total + excluded.total, "
         "first_day = min(first_day, excluded.first_day)"},
        {offsetof(struct sqlite_store, merge_daily),
         "INSERT INTO daily(repo, day, hits) "
         "SELECT repo, day, sum(hits) FROM journal WHERE id <= ?1 GROUP BY repo, day "
         "ON CONFLICT(repo, day) DO UPDATE SET hits = hits + excluded.hits"},
        {offsetof(struct sqlite_store, merge_drop), "DELETE FROM journal WHERE id <= ?1"},
        {offsetof(struct sqlite_store, backlog),
         "SELECT coalesce(max(id) - min(id) + 1, 0) FROM journal"},
        {offsetof(struct sqlite_store, upsert_repo),
         "INSERT INTO repos(name, first_day, total) VALUES (?1, ?2, ?3) "
         "ON CONFLICT(name) DO UPDATE SET total = total + excluded.total, "
         "first_day = min(first_day, excluded.first_day)"},
        {offsetof(struct sqlite_store, upsert_day),
         "INSERT INTO daily(repo, day, hits) VALUES (?1, ?2, ?3) "
         "ON CONFLICT(repo, day) DO UPDATE SET hits = hits + excluded.hits"},
        {offsetof(struct sqlite_store, delete_journal), "DELETE FROM journal WHERE repo = ?1"},
        {offsetof(struct sqlite_store, delete_days), "DELETE FROM daily WHERE repo = ?1"},
        {offsetof(struct sqlite_store, delete_repo), "DELETE FROM repos WHERE name = ?1"},
    };
    for (size_t i = 0; i < sizeof statements / sizeof statements[0]; i++) {
        sqlite3_stmt **slot = (sqlite3_stmt **)((char *)s + statements[i].offset);
        if (sqlite3_prepare_v2(s->db, statements[i].sql, -1, slot, NULL) != SQLITE_OK) {
            fail(s, "cannot prepare statements; the schema does not match", err, errlen);
            goto fail;
        }
    }
    s->flushed = read_flushed(s);
    if (s->flushed < 0) {
        fail(s, "cannot read the journal's flush number", err, errlen);
        goto fail;
    }
    return &s->base;
fail:
    sqlite_close(&s->base);
    return NULL;
}

struct store *store_sqlite_open(const char *path, char *err, size_t errlen)
{
    return open_store(path, false, err, errlen);
}

struct store *store_sqlite_open_readonly(const char *path, char *err, size_t errlen)
{
    return open_store(path, true, err, errlen);
}
