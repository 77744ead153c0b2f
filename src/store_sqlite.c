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
#include <sys/stat.h>

#include "alloc.h"

#define APP_ID         0x67686974 /* "ghit" */
#define SCHEMA_VERSION 1

struct sqlite_store {
    struct store base; /* first: a struct store * is a struct sqlite_store * */
    sqlite3 *db;
    char *path;
    sqlite3_stmt *upsert_repo, *upsert_day;
    sqlite3_stmt *get_st, *history_st, *top_st; /* prepared on first use (statistics) */
    const char *cause;                          /* of the last failure, for metrics */
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

/* Writes "what: sqlite's message (path)" into err. */
static void fail(struct sqlite_store *s, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: %s (%s)", what, s->db ? sqlite3_errmsg(s->db) : "out of memory",
             s->path);
}

/* Maps an SQLite result to whether retrying can help. */
static enum store_result classify(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
        return STORE_RETRY;
    default:
        return STORE_FAILED;
    }
}

/* A fixed name for what made rc fail, for the metrics' cause label. */
static const char *cause_of(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
        return "busy";
    case SQLITE_LOCKED:
        return "locked";
    case SQLITE_FULL:
        return "full";
    case SQLITE_IOERR:
        return "ioerr";
    case SQLITE_READONLY:
        return "readonly";
    case SQLITE_CANTOPEN:
        return "cantopen";
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return "corrupt";
    default:
        return "other";
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
        char sql[sizeof schema + 128];
        snprintf(sql, sizeof sql, "BEGIN;%sPRAGMA application_id=%d;PRAGMA user_version=%d;COMMIT;",
                 schema, APP_ID, SCHEMA_VERSION);
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
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT r.name, r.total, r.first_day, coalesce(d.hits, 0) "
                                "FROM repos r LEFT JOIN daily d ON d.repo = r.name AND d.day = ?1",
                                -1, &st, NULL);
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

/* Runs st with (key, day, hits) bound, then resets it. */
static int step_delta(sqlite3_stmt *st, const struct store_delta *d)
{
    char day[DAY_TEXT_SIZE];
    day_format(d->day, day);
    sqlite3_bind_text(st, 1, d->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, day, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (int64_t)d->hits);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static enum store_result sqlite_apply(struct store *base, const struct store_delta *d, size_t n,
                                      day_t today, store_row_fn *fn, void *arg, char *err,
                                      size_t errlen)
{
    (void)today;
    (void)fn; /* the file holds only this process's hits: nothing newer to report */
    (void)arg;
    struct sqlite_store *s = (struct sqlite_store *)base;
    int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        fail(s, "cannot begin a write", err, errlen);
        s->cause = cause_of(rc);
        return classify(rc);
    }
    for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
        rc = step_delta(s->upsert_repo, &d[i]);
        if (rc == SQLITE_OK)
            rc = step_delta(s->upsert_day, &d[i]);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        fail(s, "cannot write the counts", err, errlen);
        s->cause = cause_of(rc);
        /* A failed COMMIT may leave the transaction open; close it so the next try starts clean. */
        if (!sqlite3_get_autocommit(s->db))
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return classify(rc);
    }
    return STORE_OK;
}

static enum store_result sqlite_check(struct store *base, char *err, size_t errlen)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    /* Taking the write lock is what a flush needs first; nothing is written. */
    int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE; ROLLBACK;", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        fail(s, "cannot begin a write", err, errlen);
        s->cause = cause_of(rc);
        if (!sqlite3_get_autocommit(s->db))
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return classify(rc);
    }
    return STORE_OK;
}

static void sqlite_close(struct store *base)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    sqlite3_finalize(s->upsert_repo);
    sqlite3_finalize(s->upsert_day);
    sqlite3_finalize(s->get_st);
    sqlite3_finalize(s->history_st);
    sqlite3_finalize(s->top_st);
    sqlite3_close(s->db);
    free(s->path);
    free(s);
}

/* ---- statistics (issue 9) ------------------------------------------------ */

/*
 * Prepares *st from sql on first use. On failure fills err, records the
 * cause and returns the SQLite result.
 */
static int prepared(struct sqlite_store *s, sqlite3_stmt **st, const char *sql, char *err,
                    size_t errlen)
{
    int rc = *st ? SQLITE_OK : sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
    if (rc != SQLITE_OK) {
        fail(s, "cannot prepare a statistics query", err, errlen);
        s->cause = cause_of(rc);
    }
    return rc;
}

/* Binds day d as 'YYYY-MM-DD' to parameter i of st (a copy: the text is local). */
static void bind_day(sqlite3_stmt *st, int i, day_t d)
{
    char text[DAY_TEXT_SIZE];
    day_format(d, text);
    sqlite3_bind_text(st, i, text, -1, SQLITE_TRANSIENT);
}

/* Ends a read of st: resets it and maps rc (the last step's result) to a store result. */
static enum store_result finish_read(struct sqlite_store *s, sqlite3_stmt *st, int rc,
                                     const char *what, char *err, size_t errlen)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        return STORE_OK;
    fail(s, what, err, errlen);
    s->cause = cause_of(rc);
    return classify(rc);
}

/* store.h get: one repos row, with its hits on day from daily. */
static enum store_result sqlite_get(struct store *base, const char *key, day_t day,
                                    struct store_row *out, int *found, char *err, size_t errlen)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    int rc = prepared(s, &s->get_st,
                      "SELECT r.total, r.first_day, coalesce(d.hits, 0) FROM repos r "
                      "LEFT JOIN daily d ON d.repo = r.name AND d.day = ?2 WHERE r.name = ?1",
                      err, errlen);
    if (rc != SQLITE_OK)
        return classify(rc);
    sqlite3_bind_text(s->get_st, 1, key, -1, SQLITE_STATIC);
    bind_day(s->get_st, 2, day);
    *found = 0;
    rc = sqlite3_step(s->get_st);
    if (rc == SQLITE_ROW) {
        const char *first = (const char *)sqlite3_column_text(s->get_st, 1);
        out->key = key;
        out->total = (uint64_t)sqlite3_column_int64(s->get_st, 0);
        out->day_hits = (uint64_t)sqlite3_column_int64(s->get_st, 2);
        *found = first && !day_parse(first, &out->first_day);
    }
    return finish_read(s, s->get_st, rc, "cannot read a repo", err, errlen);
}

/* store.h history: one range of the primary key (repo, day). */
static enum store_result sqlite_history(struct store *base, const char *key, day_t from, day_t to,
                                        uint64_t *hits, char *err, size_t errlen)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    if (to < from || to - from >= STORE_HISTORY_MAX_DAYS) {
        snprintf(err, errlen, "a history spans 1 to %d days", STORE_HISTORY_MAX_DAYS);
        return STORE_FAILED;
    }
    /* The primary key (repo, day) holds a repo's days in order: one range of one b-tree. */
    int rc = prepared(s, &s->history_st,
                      "SELECT day, hits FROM daily WHERE repo = ?1 AND day BETWEEN ?2 AND ?3", err,
                      errlen);
    if (rc != SQLITE_OK)
        return classify(rc);
    sqlite3_bind_text(s->history_st, 1, key, -1, SQLITE_STATIC);
    bind_day(s->history_st, 2, from);
    bind_day(s->history_st, 3, to);
    memset(hits, 0, (size_t)(to - from + 1) * sizeof *hits);
    while ((rc = sqlite3_step(s->history_st)) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(s->history_st, 0);
        day_t d;
        if (text && !day_parse(text, &d) && d >= from && d <= to)
            hits[d - from] = (uint64_t)sqlite3_column_int64(s->history_st, 1);
    }
    return finish_read(s, s->history_st, rc, "cannot read a history", err, errlen);
}

/* store.h top: the range's rows of daily_by_day, summed per repo. */
static enum store_result sqlite_top(struct store *base, day_t from, day_t to, size_t limit,
                                    store_top_fn *fn, void *arg, char *err, size_t errlen)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    /*
     * INDEXED BY: the planner would otherwise walk the primary key, whose
     * order suits GROUP BY repo, and so read every row of every day. The
     * index daily_by_day reads only the range's rows (the 2015 design's
     * repos:<date> sets); their sum is then sorted, which costs the range's
     * rows, not the store's (bench/README.md, "Statistics").
     */
    int rc = prepared(s, &s->top_st,
                      "SELECT repo, sum(hits) AS h, sum(CASE WHEN day = ?2 THEN hits ELSE 0 END) "
                      "FROM daily INDEXED BY daily_by_day WHERE day BETWEEN ?1 AND ?2 "
                      "GROUP BY repo ORDER BY h DESC, repo LIMIT ?3",
                      err, errlen);
    if (rc != SQLITE_OK)
        return classify(rc);
    bind_day(s->top_st, 1, from);
    bind_day(s->top_st, 2, to);
    sqlite3_bind_int64(s->top_st, 3, (int64_t)limit);
    while ((rc = sqlite3_step(s->top_st)) == SQLITE_ROW) {
        struct store_top_row row = {
            .key = (const char *)sqlite3_column_text(s->top_st, 0),
            .hits = (uint64_t)sqlite3_column_int64(s->top_st, 1),
            .last_day = (uint64_t)sqlite3_column_int64(s->top_st, 2),
        };
        if (row.key)
            fn(arg, &row);
    }
    return finish_read(s, s->top_st, rc, "cannot read a top list", err, errlen);
}

/* store.h summary: reads every repos row (for the CLI). */
static enum store_result sqlite_summary(struct store *base, uint64_t *repos, uint64_t *hits,
                                        char *err, size_t errlen)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int rc = prepared(s, &st, "SELECT count(*), coalesce(sum(total), 0) FROM repos", err, errlen);
    if (rc != SQLITE_OK)
        return classify(rc);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *repos = (uint64_t)sqlite3_column_int64(st, 0);
        *hits = (uint64_t)sqlite3_column_int64(st, 1);
    }
    enum store_result res = finish_read(s, st, rc, "cannot count the repos", err, errlen);
    sqlite3_finalize(st);
    return res;
}

/* store.h cause: what the last failure was, as cause_of() names it. */
static const char *sqlite_cause(struct store *base)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    return s->cause ? s->cause : "none";
}

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .scan = sqlite_scan,
    .apply = sqlite_apply,
    .check = sqlite_check,
    .close = sqlite_close,
    .get = sqlite_get,
    .history = sqlite_history,
    .top = sqlite_top,
    .summary = sqlite_summary,
    .cause = sqlite_cause,
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

/* Opens path read-write (made if missing) or read-only; see store.h. */
static struct store *open_store(const char *path, bool read_only, char *err, size_t errlen)
{
    struct sqlite_store *s = xcalloc(1, sizeof *s);
    s->base.ops = &sqlite_ops;
    s->path = xstrdup(path);

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
    sqlite3_extended_result_codes(s->db, 1);
    /* A writer elsewhere (the sqlite3 shell, a backup) holds the lock briefly: wait a little. */
    sqlite3_busy_timeout(s->db, 1000);
    if (adopt(s, read_only, err, errlen) < 0 || check_integrity(s, err, errlen) < 0)
        goto fail;
    if (read_only)
        return &s->base;
    /* WAL: readers (the sqlite3 shell, backups, ghit render) never block the flusher. */
    if (use_wal(s, err, errlen) < 0)
        goto fail;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO repos(name, first_day, total) VALUES (?1, ?2, ?3) "
                           "ON CONFLICT(name) DO UPDATE SET total = total + excluded.total, "
                           "first_day = min(first_day, excluded.first_day)",
                           -1, &s->upsert_repo, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db,
                           "INSERT INTO daily(repo, day, hits) VALUES (?1, ?2, ?3) "
                           "ON CONFLICT(repo, day) DO UPDATE SET hits = hits + excluded.hits",
                           -1, &s->upsert_day, NULL) != SQLITE_OK) {
        fail(s, "cannot prepare statements; the schema does not match", err, errlen);
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

/*
 * A reader beside the writer (see store.h): read-only, ghit's file checked
 * by its marks only; quick_check reads the whole file, which the writer's
 * open has done already and which costs seconds on a large store.
 */
struct store *store_sqlite_open_reader(const char *path, char *err, size_t errlen)
{
    struct sqlite_store *s = xcalloc(1, sizeof *s);
    s->base.ops = &sqlite_ops;
    s->path = xstrdup(path);
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fail(s, "cannot open the database", err, errlen);
    } else {
        sqlite3_extended_result_codes(s->db, 1);
        sqlite3_busy_timeout(s->db, 1000);
        if (adopt(s, true, err, errlen) == 0)
            return &s->base;
    }
    sqlite_close(&s->base);
    return NULL;
}
