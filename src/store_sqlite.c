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
#include <stdatomic.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <stddef.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "count.h"
#include "day.h"
#include "files.h"
#include "fold.h"
#include "log.h"
#include "monotime.h"
#include "runs.h"

#define APP_ID 0x67686974 /* "ghit" */
#define SCHEMA_VERSION                                                                             \
    2 /* 2: meta (with the journal's merge mark); a version 1 file is upgraded                     \
       */
#define JOURNAL_APP_ID  0x67686a6c /* "ghjl": the journal file beside a ghit database */
#define JOURNAL_SUFFIX  "-flushes"
#define MALFORMED_ROW   RUNS_MALFORMED /* a journal row that ghit did not write */
#define MERGE_IDLE_MS   200            /* how often an idle merger looks for work */
#define STOP_MERGE_ROWS 20000 /* a stop merges a backlog this small (0.1-0.2 s), not more */
/* The flushes' connection checkpoints a WAL itself only past this: see use_wal(). */
#define FLUSH_CHECKPOINT_BYTES (40 << 20)
/* ... and the journal's, in durable mode, past this: see sqlite_set_durable(). */
#define DURABLE_CHECKPOINT_BYTES (4 << 20)
/* The pages of a database ghit makes (not its journal): see adopt(). */
#define PAGE_SIZE       16384
#define INTERRUPT_STEPS 1000 /* a reader checks for an interrupt this often (VM steps) */
#define PULL_AHEAD      8    /* deltas whose key deltas_pull() fetches ahead */
/*
 * The merger waits for a batch this big, or this old, before it folds. Its
 * cost is a table upsert per distinct (repo, day) and the table pages it
 * rewrites, so a larger batch costs less a row (more rows per repo, more
 * repos per page), and its CPU is taken from the HTTP workers. With hits
 * spread over 1,000,000 repos at about 90,000 a second, batches of about
 * 200,000 rows took 22 % of ghit's CPU, of 500,000 13 % (perf, this VM);
 * over a minute of it, batches of 1,000,000 rows took 0.27-0.28 of a core
 * against 0.36 for 500,000, with a fold of 16-byte slots (fold.c) holding
 * no more memory than the smaller batches did with 32-byte slots.
 */
#define MERGE_BATCH_ROWS 1000000
#define MERGE_WAIT_MS    12000
#define MERGE_MAX_ROWS   1200000 /* a fold's rows at most: see doc/design.md for the memory */
/*
 * A batch merged as sorted runs (runs.h) holds a row a run, whatever its
 * size. So once the merger has merged one that way, a backlog of more than
 * MERGE_LIGHT_ROWS waits for two batches: over a million repos a batch then
 * holds about 0.43 distinct pairs a row instead of 0.63, and each table
 * page is rewritten half as often. It waits by rows, not by time (up to
 * MERGE_RUNS_WAIT_MS): a merge over the million rewrites nearly every page
 * of the tables whatever its size, so the batches that a slower host cut
 * by time cost it more a row (3.6-4.2 µs against 2.0-2.3, doc/design.md).
 * A crash leaves up to a batch in the journal, which a start replays at
 * about 0.3 s a million rows (design.md).
 */
#define MERGE_RUNS_BATCH_ROWS 2000000
#define MERGE_RUNS_WAIT_MS    48000
#define MERGE_RUNS_MAX_ROWS   2400000
#define MERGE_LIGHT_ROWS      100000 /* a backlog this small after MERGE_WAIT_MS: a light load */
/*
 * The repos whose days a merge writes before their totals (merge_runs()):
 * a few hundred KB of sums and keys; the two statements start again once a
 * chunk, a seek from the root of each table.
 */
#define MERGE_CHUNK_REPOS 8192
/* A backlog this small is cheap to fold whatever its size: the tables then lag by this much. */
#define MERGE_SMALL_ROWS    20000
#define MERGE_SMALL_WAIT_MS 2000

/* The backlog that makes a batch, large once the last one merged as runs (merger.large). */
static int64_t batch_rows(bool large)
{
    return large ? MERGE_RUNS_BATCH_ROWS : MERGE_BATCH_ROWS;
}

/*
 * The rows that the virtual table ghit_deltas shows to one connection (see
 * deltas_module): n from d, or, if runs is set, the sums it hands out.
 */
struct deltas {
    const struct store_delta *d;
    size_t n;
    struct runs *runs;
};

/*
 * The merger: a thread with its own connection that folds the journal into
 * the tables. `lock` guards everything below it; the thread owns db.
 */
struct merger {
    pthread_t thread;
    sqlite3 *db; /* the database, the journal attached as "j" */
    char *path;
    pthread_mutex_t lock;
    pthread_cond_t wake, progress;
    bool stop, started, finished; /* finished: the thread is about to return */
    atomic_bool quit;             /* stop, read without the lock between a merge's statements */
    struct deltas deltas;         /* what ghit_deltas reads on db */
    struct runs *runs;            /* a batch's flushes, merged as sorted runs */
    int64_t merged;               /* the last journal id folded into the tables (meta.merged) */
    int64_t wanted;               /* store_sqlite_drain(): merge at least this far */
    bool large;                   /* the last batch merged as runs: batches may be large */
    uint64_t rows, ms;            /* rows merged, time spent */
    uint64_t merges;              /* batches merged */
    unsigned failures;            /* merges that failed in a row */
    char error[256];              /* the last failure */
};

/* Deltas the store keeps a copy of (see sqlite_store.doubt), sorted by (key, day). */
struct held {
    struct store_delta *d;
    size_t n;
    char *keys; /* the names d points into */
};

struct sqlite_store {
    struct store base; /* first: a struct store * is a struct sqlite_store * */
    sqlite3 *db;       /* the database, the journal attached as "j" when has_journal */
    char *path, *jpath;
    int lock_fd;             /* holds flock(LOCK_EX) while a server writes the file; -1 if none */
    bool has_journal;        /* a journal is attached (a reader may find none) */
    bool tables_per_repo;    /* get and history skip the journal (store_open_server_reader()) */
    atomic_bool interrupted; /* sqlite_interrupt(): a reader's statements stop (interrupted()) */
    int64_t flushed;         /* the sequence number of the last flush written (j.meta.flushed) */
    int64_t appended;        /* the last journal id this connection wrote */
    enum store_sqlite_fault fault;
    /*
     * A flush whose COMMIT reported an error and whose number could not be
     * read back (doubt_seq, 0: none) may be in the file. Its hits went back
     * and come again in the next write, which reads the number first
     * (settle_doubt()). If it is in, its deltas join the credit: taken out
     * of every write until one succeeds (a write that fails gives its hits
     * back whole).
     */
    int64_t doubt_seq;
    struct held doubt, credit;
    struct deltas deltas; /* what ghit_deltas reads on db */
    sqlite3_stmt *append, *mark_flushed, *backlog, *upsert_repo, *upsert_day, *delete_days,
        *delete_repo;
    sqlite3_stmt *get_st, *history_st, *top_st; /* prepared on first use (statistics) */
    const char *cause;                          /* of the last failure, for metrics */
    struct store_stats stats;
    struct merger *merger;        /* writers only */
    struct order_room order_room; /* the flusher's fold_order() */
    /* checkpoint_past()'s bars, in WAL frames (pages): the database's, the journal's */
    int checkpoint_frames, journal_checkpoint_frames;
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
 * Schema 2 adds meta: meta.merged is the last journal id folded into the
 * tables, written in the same transaction as the rows it folds.
 *
 * meta.pair, in the database and in its journal, ties the two: a random id
 * written when either file is made (check_pair()). A journal's rows past
 * meta.merged are hits of its own database only; one left beside another
 * database (a database moved away without it, a new one made under the old
 * name) would be merged there, and its hits lost to their own. A pair made
 * before the id is adopted once: the same new id is written to both.
 */
static const char schema_v2[] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO meta(key, value) VALUES ('merged', 0);";

/*
 * The journal, a second file beside the database (PATH-flushes). A flush
 * appends its deltas there, one row each, in one short transaction: rows go
 * to the end of a rowid table, so the cost of making a flush durable is the
 * bytes it writes, whatever the repos. The merger folds rows into repos and
 * daily, in key order and in large batches, at its own pace; being another
 * file, its long transactions never hold up a flush (SQLite locks a file
 * for writing, not a table). Rows up to meta.merged are folded: the merger
 * deletes them afterwards, and a reader or a restart ignores any left.
 * j.meta.flushed is the sequence number of the last flush, written with it:
 * after a COMMIT that reports an error it tells whether the flush is in.
 * AUTOINCREMENT keeps ids growing, also past a journal lost and made anew
 * (sqlite_sequence is then set to meta.merged).
 */
static const char journal_schema[] =
    "CREATE TABLE journal ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  flush INTEGER NOT NULL,"
    "  repo TEXT NOT NULL,"
    "  day TEXT NOT NULL,"
    "  hits INTEGER NOT NULL CHECK (hits > 0)"
    ");"
    "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO meta(key, value) VALUES ('flushed', 0);";

/*
 * Adds (repo, day, hits) rows to repos' totals (day: the first day) and to
 * daily: what a merge and a put write. FROM is the rows' source, VALUES of
 * one row or a SELECT (its WHERE keeps SQLite from reading ON as a join's).
 * Sums stop at COUNT_MAX (count.h): past it SQLite's + makes a REAL.
 */
#define SATURATED_SUM(a, b)                                                                        \
    "CASE WHEN " b " > " COUNT_MAX_SQL " - " a " THEN " COUNT_MAX_SQL " ELSE " a " + " b " END"
#define UPSERT_REPO(from)                                                                          \
    "INSERT INTO main.repos(name, first_day, total) " from                                         \
    " ON CONFLICT(name) DO UPDATE SET first_day = min(first_day, excluded.first_day), "            \
    "total = " SATURATED_SUM("total", "excluded.total")
#define UPSERT_DAY(from)                                                                           \
    "INSERT INTO main.daily(repo, day, hits) " from                                                \
    " ON CONFLICT(repo, day) DO UPDATE SET hits = " SATURATED_SUM("hits", "excluded.hits")
#define ONE_ROW     "VALUES (?1, ?2, ?3)"
#define ALL_DELTAS  "SELECT repo, day, hits FROM ghit_deltas WHERE true"
#define JOURNAL_TOP "SELECT coalesce(max(id), 0) FROM j.journal" /* 0: empty */

/*
 * A read of the store sees every flush, merged or not: the tables plus the
 * journal's rows past the merge mark, which a query reads as p(repo, day,
 * hits), summed by (repo, day). Each query is written once, over p, as a
 * macro of it: PENDING(cond) is the journal's rows whose repo and day meet
 * cond; NO_PENDING, for a reader of a file without a journal, none. The
 * query's own cond keeps its read to the rows it needs (one repo's, one
 * range of days). The journal has no index by repo (a flush costs the bytes
 * it appends), so one repo's read scans the rows past the mark: 1,000,000
 * of them (a backlog under the heaviest load) took about 80 ms, 20,000 (a
 * light load's) about 2, which a server's readers skip (per_repo_journal()).
 * sqlite_scan() joins the two in code instead.
 */
#define PENDING(cond)                                                                              \
    "p AS (SELECT repo, day, ghit_sum(hits) AS hits FROM j.journal "                               \
    "WHERE id > (SELECT value FROM main.meta WHERE key = 'merged') AND " cond                      \
    " GROUP BY repo, day)"
#define NO_PENDING "p(repo, day, hits) AS (SELECT NULL, NULL, NULL WHERE false)"
/* d(repo, day, hits): daily's rows that meet cond, with p's added. */
#define DAYS_WITH(cond)                                                                            \
    "d AS (SELECT repo, day, ghit_sum(hits) AS hits FROM (SELECT repo, day, hits FROM main.daily " \
    "WHERE " cond " UNION ALL SELECT repo, day, hits FROM p) GROUP BY repo, day)"
/* r(name, total, first_day): repos' rows whose name meets cond, with p's added. */
#define REPOS_WITH(cond)                                                                           \
    "r AS (SELECT name, ghit_sum(total) AS total, min(first_day) AS first_day FROM "               \
    "(SELECT name, total, first_day FROM main.repos WHERE " cond                                   \
    " UNION ALL SELECT repo, hits, day FROM p) GROUP BY name)"
/* A query over p, without a journal and with one: pick by has_journal. */
#define WITH_PENDING(query, cond)                                                                  \
    {                                                                                              \
        query(NO_PENDING), query(PENDING(cond))                                                    \
    }

/* Writes "what: why (path)" into err. */
static void fail_because(struct sqlite_store *s, const char *what, const char *why, char *err,
                         size_t errlen)
{
    snprintf(err, errlen, "%s: %s (%s)", what, why, s->path);
}

/*
 * Writes "what: sqlite's message (path)" into err: call it before a
 * ROLLBACK or another statement, which replace the message.
 */
static void fail(struct sqlite_store *s, const char *what, char *err, size_t errlen)
{
    fail_because(s, what, s->db ? sqlite3_errmsg(s->db) : "out of memory", err, errlen);
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

/* The WAL frames (pages) of db's file ("main" or "j") that hold bytes; at least one. */
static int frames_of(sqlite3 *db, const char *file, int bytes)
{
    char sql[64];
    int64_t page_size = 0;
    snprintf(sql, sizeof sql, "PRAGMA %s.page_size", file);
    if (pragma_int(db, sql, &page_size) < 0 || page_size <= 0)
        page_size = 4096;
    return bytes / page_size > 0 ? (int)(bytes / page_size) : 1;
}

/* Sets the main database's journal mode (lower case, as SQLite names it); whether it took. */
static bool set_journal_mode(sqlite3 *db, const char *mode)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA main.journal_mode=%s", mode);
    sqlite3_stmt *st;
    bool ok = false;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *now = (const char *)sqlite3_column_text(st, 0);
        ok = now && strcmp(now, mode) == 0;
    }
    sqlite3_finalize(st);
    return ok;
}

/* ghit_sum's step: adds a count, saturating (count.h); the context starts at zero. */
static void sum_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    uint64_t *sum = sqlite3_aggregate_context(ctx, sizeof *sum);
    sqlite3_int64 v = sqlite3_value_int64(argv[0]);
    if (sum && v > 0)
        *sum = count_add(*sum, (uint64_t)v);
}

/* ghit_sum's result: the sum, or 0 when there was no row. */
static void sum_final(sqlite3_context *ctx)
{
    uint64_t *sum = sqlite3_aggregate_context(ctx, 0);
    sqlite3_result_int64(ctx, sum ? (sqlite3_int64)*sum : 0);
}

/*
 * Registers ghit_sum(counts) on s: sum() of counts that stops at COUNT_MAX.
 * SQLite's sum() fails with "integer overflow" past it, which a repo at the
 * maximum with a few hits in the journal, or two large repos, would reach.
 */
static int add_functions(struct sqlite_store *s)
{
    return sqlite3_create_function(s->db, "ghit_sum", 1,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                   NULL, sum_step, sum_final);
}

static bool has_wal(const char *path);

/* A new id for a database and its journal (meta.pair): random, from SQLite's generator. */
static int64_t new_pair(void)
{
    int64_t id;
    sqlite3_randomness(sizeof id, &id);
    return id;
}

/* Whether a journal that may hold rows is at jpath: a file, or its WAL, with bytes in it. */
static bool journal_left(const char *jpath)
{
    struct stat st;
    return (stat(jpath, &st) == 0 && st.st_size > 0) || has_wal(jpath);
}

/* Refuses the journal beside s's database, which is another database's (meta.pair); -1. */
static int foreign_journal(struct sqlite_store *s, char *err, size_t errlen)
{
    snprintf(err, errlen,
             "the journal %s belongs to another database, not to %s; nothing was changed. "
             "Its rows are hits not yet merged into that database: if the database was moved "
             "or renamed, move it back beside its database (as DATABASE-flushes, with its -wal "
             "file) and they count there; if its hits are not wanted, remove it (and its -wal "
             "and -shm files)",
             s->jpath, s->path);
    return -1;
}

/*
 * meta's value of key in file ("main" or "j") into *out: 1, or 0 if the
 * file has no such row or no meta table (schema version 1), or -1.
 */
static int meta_value(sqlite3 *db, const char *file, const char *key, int64_t *out)
{
    char sql[96];
    int64_t tables;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.sqlite_schema WHERE name = 'meta'", file);
    if (pragma_int(db, sql, &tables) < 0)
        return -1;
    if (tables == 0)
        return 0;
    snprintf(sql, sizeof sql, "SELECT value FROM %s.meta WHERE key = ?1", file);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* How open_store() opens a database. */
enum open_mode {
    OPEN_READ,    /* to read: nothing is made or changed */
    OPEN_CREATE,  /* to write, made if missing or empty (serve, import) */
    OPEN_EXISTING /* to write a ghit database that exists already (set, delete, vacuum) */
};

/*
 * Checks that db is ghit's, or empty and (OPEN_CREATE) now made ghit's. An
 * empty file, or a SQLite database without tables, holds nothing to lose:
 * serve and import make it a new database, as they make a missing one.
 * The commands that change an existing store refuse it untouched: SQLite
 * reads an empty file as an empty database, so `ghit set --db` on a file
 * just made by mistake (touch, a shell's > redirect) would fill it with one
 * repo and say it worked.
 */
static int adopt(struct sqlite_store *s, enum open_mode mode, char *err, size_t errlen)
{
    bool read_only = mode == OPEN_READ;
    int64_t app_id, version, ntables;
    if (add_functions(s) != SQLITE_OK) {
        fail(s, "cannot register a function", err, errlen);
        return -1;
    }
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
    if (app_id == 0 && ntables == 0 && mode == OPEN_EXISTING) {
        struct stat st;
        bool no_bytes = fstat(s->lock_fd, &st) == 0 && st.st_size == 0;
        snprintf(err, errlen,
                 "%s is %s, not a ghit database; ghit %s changes an existing one and left the "
                 "file as it was: give --db the database ghit serve uses",
                 s->path, no_bytes ? "an empty file (0 bytes)" : "an empty SQLite database",
                 store_command());
        return -1;
    }
    if (app_id == 0 && ntables == 0) {
        /*
         * Pages of 16 KB, not SQLite's 4: a merge over many repos rewrites
         * most leaves of repos and daily, and costs less a row with fewer,
         * larger pages. Upserting 850,497 sums into a million repos and
         * committing took 1.06-1.08 s of CPU against 1.34-1.47 (32 KB:
         * 1.04-1.10, 64 KB: 1.32-1.43); under the uniform load over the
         * million, ghit's merger spent 1.64-1.67 us a merged row against
         * 1.73-1.95 (doc/design.md). The journal keeps 4 KB: a durable
         * commit syncs its pages. The first write fixes the size, so a
         * database made before keeps its own.
         */
        if (journal_left(s->jpath))
            return foreign_journal(s, err, errlen);
        char *msg = NULL;
        char sql[sizeof schema + sizeof schema_v2 + 256];
        snprintf(sql, sizeof sql,
                 "PRAGMA page_size=%d;BEGIN;%s%sINSERT INTO meta(key, value) VALUES ('pair', "
                 "%" PRId64 ");PRAGMA application_id=%d;PRAGMA user_version=%d;COMMIT;",
                 PAGE_SIZE, schema, schema_v2, new_pair(), APP_ID, SCHEMA_VERSION);
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
                 "); refusing to touch it: give --db %s",
                 s->path, app_id,
                 mode == OPEN_EXISTING ? "the ghit database" : "a new file or a ghit database");
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
    const char *verdict = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    int ok = verdict && strcmp(verdict, "ok") == 0;
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

/*
 * Steps st, whose rows are journal rows (repo, day, hits), to its end and
 * adds them to f. SQLITE_OK; MALFORMED_ROW at a row that ghit did not write
 * (it stays in the journal, and the caller says so); or SQLite's error.
 */
static int fold_journal(sqlite3_stmt *st, struct fold *f)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *repo = (const char *)sqlite3_column_text(st, 0);
        const char *day_text = (const char *)sqlite3_column_text(st, 1);
        day_t day;
        int64_t hits = sqlite3_column_int64(st, 2);
        size_t len = (size_t)sqlite3_column_bytes(st, 0);
        if (!repo || memchr(repo, '\0', len) || !day_text || day_parse(day_text, &day) || hits <= 0)
            return MALFORMED_ROW;
        fold_add(f, repo, len, day, (uint64_t)hits);
    }
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/*
 * The next row of src into *out, *i being the rows pulled so far: the
 * array's row *i, or the runs' next sum. SQLITE_ROW (then *i moves on),
 * SQLITE_DONE or the runs' error.
 */
static int deltas_pull(const struct deltas *src, size_t *i, struct store_delta *out)
{
    int rc = SQLITE_DONE;
    if (src->runs)
        rc = runs_next(src->runs, out);
    else if (*i < src->n) {
        /*
         * A flush's deltas come in key order, their keys in the order they
         * were taken: over a million repos each key missed the cache in
         * SQLite's strlen(), a tenth of the flusher's CPU.
         */
        if (*i + PULL_AHEAD < src->n)
            __builtin_prefetch(src->d[*i + PULL_AHEAD].key);
        *out = src->d[*i];
        rc = SQLITE_ROW;
    }
    if (rc == SQLITE_ROW)
        (*i)++;
    return rc;
}

/*
 * The journal's sums past the merge mark, in key order, one at a time: from
 * its runs (runs.h), or from a fold of it when it has too many.
 */
struct sums {
    struct deltas src;
    size_t i;
    struct store_delta at; /* the sum at hand, if more */
    bool more;
    int err;        /* the runs' error, which ends the sums */
    struct buf key; /* a new repo's key, which outlives the sum at hand */
};

static void sums_next(struct sums *m)
{
    int rc = deltas_pull(&m->src, &m->i, &m->at);
    m->more = rc == SQLITE_ROW;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        m->err = rc;
}

/*
 * Adds to row the sums of its repo at hand in m: their hits, their earliest
 * day if earlier, their hits on day.
 */
static void add_sums(struct store_row *row, struct sums *m, day_t day)
{
    for (; m->more && strcmp(m->at.key, row->key) == 0; sums_next(m)) {
        row->total = count_add(row->total, m->at.hits);
        if (m->at.day < row->first_day)
            row->first_day = m->at.day;
        if (m->at.day == day)
            row->day_hits = count_add(row->day_hits, m->at.hits);
    }
}

/* Hands fn the repo at hand in m, which only the journal has. */
static void scan_new_repo(struct sums *m, day_t day, store_row_fn *fn, void *arg)
{
    m->key.len = 0;
    buf_puts(&m->key, m->at.key);
    struct store_row row = {.key = m->key.data, .first_day = m->at.day};
    add_sums(&row, m, day);
    fn(arg, &row);
}

/*
 * Starts m on the journal's rows past the merge mark up to top (its last
 * id, begin_read()): as runs if it has few enough, else folded into f.
 * SQLITE_OK, MALFORMED_ROW or SQLite's error.
 */
static int sums_start(struct sqlite_store *s, int64_t top, struct sums *m, struct fold *f)
{
    int64_t merged = 0;
    char why[256];
    if (pragma_int(s->db, "SELECT value FROM main.meta WHERE key = 'merged'", &merged) < 0)
        return sqlite3_errcode(s->db) != SQLITE_OK ? sqlite3_errcode(s->db) : SQLITE_ERROR;
    int rc = SQLITE_DONE;
    if (top > merged && (m->src.runs = runs_new(s->db, why, sizeof why)) != NULL &&
        (rc = runs_plan(m->src.runs, merged, top)) == SQLITE_OK)
        rc = runs_start(m->src.runs, 0);
    if (top > merged && rc != SQLITE_OK) {
        /* Too many runs, or none to be had: the fold, as the merger does then. */
        runs_free(m->src.runs);
        m->src.runs = NULL;
        sqlite3_stmt *st = NULL;
        rc = sqlite3_prepare_v2(s->db, "SELECT repo, day, hits FROM j.journal WHERE id > ?1", -1,
                                &st, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, merged);
            rc = fold_journal(st, f);
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_OK)
            return rc;
        m->src.d = fold_sorted(f, &m->src.n);
    }
    sums_next(m);
    return m->err;
}

/*
 * What the tables hold, plus the journal's rows not merged yet: a reader
 * sees every flush, merged or not. The journal's sums come in key order
 * (struct sums) and are joined to the tables in that order, the order of a
 * scan of repos. SQLite's own plan for that join (grouping the journal,
 * then looking each repo up in the groups) took 2.2 s, against 0.6 s for
 * the tables alone, over 1,000,000 repos and 541,084 journal rows: after a
 * crash under load, most of a restart.
 */
static enum store_result scan_both(struct sqlite_store *s, int64_t top, day_t day, store_row_fn *fn,
                                   void *arg, char *err, size_t errlen)
{
    char today[DAY_TEXT_SIZE];
    day_format(day, today);
    struct fold *f = fold_new();
    struct sums m = {0};
    buf_init(&m.key);
    sqlite3_stmt *st = NULL;
    int rc = s->has_journal ? sums_start(s, top, &m, f) : SQLITE_OK;
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(s->db,
                                "SELECT r.name, r.total, r.first_day, coalesce(d.hits, 0) "
                                "FROM repos r LEFT JOIN daily d ON d.repo = r.name AND d.day = ?1 "
                                "ORDER BY r.name",
                                -1, &st, NULL);
    enum store_result res = STORE_OK;
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, today, -1, SQLITE_STATIC);
        while (!m.err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            struct store_row row = {
                .key = (const char *)sqlite3_column_text(st, 0),
                .total = (uint64_t)sqlite3_column_int64(st, 1),
                .day_hits = (uint64_t)sqlite3_column_int64(st, 3),
            };
            const char *first = (const char *)sqlite3_column_text(st, 2);
            if (!row.key || !first || day_parse(first, &row.first_day)) {
                snprintf(err, errlen, "the database %s holds a malformed repos row (%s)", s->path,
                         row.key ? row.key : "NULL");
                res = STORE_FAILED;
                break;
            }
            while (m.more && strcmp(m.at.key, row.key) < 0)
                scan_new_repo(&m, day, fn, arg);
            add_sums(&row, &m, day);
            fn(arg, &row);
        }
        if (res == STORE_OK && !m.err && rc != SQLITE_DONE) {
            fail(s, "cannot read the repos", err, errlen);
            res = classify(rc);
        }
        while (res == STORE_OK && m.more)
            scan_new_repo(&m, day, fn, arg);
        rc = m.err;
    }
    if (res == STORE_OK && rc != SQLITE_OK) {
        if (rc == MALFORMED_ROW)
            snprintf(err, errlen, "the journal %s holds a row that ghit did not write", s->jpath);
        else
            fail(s, "cannot read the repos", err, errlen);
        res = rc == MALFORMED_ROW ? STORE_FAILED : classify(rc);
    }
    sqlite3_finalize(st);
    runs_free(m.src.runs);
    buf_fini(&m.key);
    fold_free(f);
    return res;
}

/*
 * Begins a read of the tables and the journal as of one moment: a read
 * transaction whose journal snapshot is taken first. A merge commits the
 * tables, then deletes from the journal the rows it merged; a reader whose
 * tables' snapshot came first could see the tables before a merge and the
 * journal after its delete, and miss the batch. With the journal's first,
 * every row past the mark that the tables show is in the journal it sees.
 * (SQLite takes a file's snapshot at the first read of it, and a single
 * statement reads the main file first.) *top, unless NULL, is the
 * journal's last id in that snapshot. end_read() ends it, also after a
 * failure here, once the caller has read SQLite's message.
 */
static int begin_read(struct sqlite_store *s, int64_t *top)
{
    int64_t last = 0;
    int rc = sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
    if (top)
        *top = 0;
    if (rc == SQLITE_OK && s->has_journal) {
        if (pragma_int(s->db, JOURNAL_TOP, &last) < 0)
            return sqlite3_errcode(s->db) != SQLITE_OK ? sqlite3_errcode(s->db) : SQLITE_ERROR;
        if (s->fault == STORE_SQLITE_FAULT_READ_PAUSES) {
            s->fault = STORE_SQLITE_FAULT_NONE;
            struct timespec pause = {0, 300 * 1000000L};
            nanosleep(&pause, NULL);
        }
        if (top)
            *top = last;
    }
    return rc;
}

/* Ends what begin_read() began. */
static void end_read(struct sqlite_store *s)
{
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) /* it only read */
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/*
 * scan_both() in one read transaction. Its two statements, the journal's
 * and the tables', would otherwise each see the files as of their own first
 * step, and a merge committed between them (the server's merger, beside a
 * reader such as ghit render, or at start-up with a batch's backlog) would
 * count the rows it moved twice: in the journal past the old mark, and in
 * the tables.
 */
static enum store_result sqlite_scan(struct store *base, day_t day, store_row_fn *fn, void *arg,
                                     char *err, size_t errlen)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    int64_t top;
    int rc = begin_read(s, &top);
    if (rc != SQLITE_OK) {
        fail(s, "cannot read the repos", err, errlen);
        end_read(s);
        return classify(rc);
    }
    enum store_result res = scan_both(s, top, day, fn, arg, err, errlen);
    end_read(s);
    return res;
}

/*
 * Whether the files this connection writes are still the ones at their
 * paths: a file deleted or replaced under a running server would swallow
 * every later flush (SQLite keeps writing to the unlinked inode). The
 * journal counts as much as the tables: a flush writes only there, and a
 * start after a lost journal would not see its rows.
 */
static enum store_result check_file(struct sqlite_store *s, char *err, size_t errlen)
{
    static const char *const dbs[] = {"main", "j"};
    for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++) {
        int moved = 0;
        if (sqlite3_file_control(s->db, dbs[i], SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK &&
            moved) {
            snprintf(err, errlen,
                     "the %s file %s was deleted or replaced while ghit runs; the hits are "
                     "kept in memory until the same file is moved back (a copy is another "
                     "file; a deleted one cannot come back: restore a backup and restart)",
                     i == 0 ? "database" : "journal", i == 0 ? s->path : s->jpath);
            s->cause = "moved";
            return STORE_FAILED;
        }
    }
    return STORE_OK;
}

/* Runs a statement that writes, then resets it. SQLITE_OK or the error. */
static int run(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/*
 * ghit_deltas: an eponymous virtual table over an array of deltas, with
 * columns (repo, day, hits), so that one INSERT ... SELECT writes a whole
 * array: a statement run per row cost 2-4 us of VDBE set-up, reset and
 * cursor seeks from the root, more than the row itself. Each connection
 * that uses it registers it with a struct deltas of its own, and points
 * that at the array before it steps a statement that reads the table.
 */
struct deltas_vtab {
    sqlite3_vtab base;
    struct deltas *src;
};

struct deltas_cursor {
    sqlite3_vtab_cursor base;
    size_t i;               /* rows pulled (deltas_pull()): the rowid */
    struct store_delta row; /* the row at hand */
    bool eof;
    bool has_text;  /* day_text holds text_day formatted */
    day_t text_day; /* the day of the last row whose day was read */
    char day_text[DAY_TEXT_SIZE];
};

static int deltas_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                          sqlite3_vtab **out, char **err)
{
    (void)argc, (void)argv, (void)err;
    int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(repo TEXT, day TEXT, hits INTEGER)");
    if (rc != SQLITE_OK)
        return rc;
    struct deltas_vtab *v = sqlite3_malloc(sizeof *v);
    if (!v)
        return SQLITE_NOMEM;
    *v = (struct deltas_vtab){.src = aux};
    *out = &v->base;
    return SQLITE_OK;
}

static int deltas_disconnect(sqlite3_vtab *v)
{
    sqlite3_free(v);
    return SQLITE_OK;
}

static int deltas_best_index(sqlite3_vtab *v, sqlite3_index_info *info)
{
    info->estimatedCost = (double)((struct deltas_vtab *)v)->src->n + 1;
    return SQLITE_OK;
}

static int deltas_open(sqlite3_vtab *v, sqlite3_vtab_cursor **out)
{
    (void)v;
    struct deltas_cursor *c = sqlite3_malloc(sizeof *c);
    if (!c)
        return SQLITE_NOMEM;
    *c = (struct deltas_cursor){0};
    *out = &c->base;
    return SQLITE_OK;
}

static int deltas_close(sqlite3_vtab_cursor *c)
{
    sqlite3_free(c);
    return SQLITE_OK;
}

/* Puts the cursor's next row at hand; an error of the runs ends the statement. */
static int deltas_fetch(struct deltas_cursor *c)
{
    int rc = deltas_pull(((struct deltas_vtab *)c->base.pVtab)->src, &c->i, &c->row);
    c->eof = rc != SQLITE_ROW;
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return SQLITE_OK;
    /* The statement's message, or SQLite would say "SQL logic error" for any of them. */
    sqlite3_free(c->base.pVtab->zErrMsg);
    c->base.pVtab->zErrMsg = sqlite3_mprintf(
        "%s", rc == RUNS_MALFORMED ? "a journal row has no valid day or hits" : sqlite3_errstr(rc));
    return rc > 0 ? rc : SQLITE_ERROR;
}

static int deltas_filter(sqlite3_vtab_cursor *c, int idx, const char *idxstr, int argc,
                         sqlite3_value **argv)
{
    (void)idx, (void)idxstr, (void)argc, (void)argv;
    ((struct deltas_cursor *)c)->i = 0;
    return deltas_fetch((struct deltas_cursor *)c);
}

static int deltas_next(sqlite3_vtab_cursor *c)
{
    return deltas_fetch((struct deltas_cursor *)c);
}

static int deltas_eof(sqlite3_vtab_cursor *c)
{
    return ((struct deltas_cursor *)c)->eof;
}

static int deltas_column(sqlite3_vtab_cursor *c, sqlite3_context *ctx, int col)
{
    struct deltas_cursor *cur = (struct deltas_cursor *)c;
    const struct store_delta *d = &cur->row;
    switch (col) {
    case 0:
        /* A sum's key from the runs lives only until the cursor moves. */
        sqlite3_result_text(ctx, d->key, -1,
                            ((struct deltas_vtab *)c->pVtab)->src->runs ? SQLITE_TRANSIENT
                                                                        : SQLITE_STATIC);
        break;
    case 1:
        /* Nearly every row of a flush or a merge has the same day: formatted once. */
        if (!cur->has_text || cur->text_day != d->day) {
            day_format(d->day, cur->day_text);
            cur->text_day = d->day;
            cur->has_text = true;
        }
        sqlite3_result_text(ctx, cur->day_text, DAY_TEXT_SIZE - 1, SQLITE_TRANSIENT);
        break;
    default:
        sqlite3_result_int64(ctx, (int64_t)d->hits);
        break;
    }
    return SQLITE_OK;
}

static int deltas_rowid(sqlite3_vtab_cursor *c, sqlite3_int64 *rowid)
{
    *rowid = (sqlite3_int64)((struct deltas_cursor *)c)->i;
    return SQLITE_OK;
}

static const sqlite3_module deltas_module = {
    .xConnect = deltas_connect, /* no xCreate: eponymous only, never in a schema */
    .xBestIndex = deltas_best_index,
    .xDisconnect = deltas_disconnect,
    .xOpen = deltas_open,
    .xClose = deltas_close,
    .xFilter = deltas_filter,
    .xNext = deltas_next,
    .xEof = deltas_eof,
    .xColumn = deltas_column,
    .xRowid = deltas_rowid,
};

/* Runs st, which reads ghit_deltas, over n deltas from d; SQLITE_OK or the error. */
static int run_deltas(sqlite3_stmt *st, struct deltas *src, const struct store_delta *d, size_t n)
{
    *src = (struct deltas){d, n, NULL};
    int rc = run(st);
    *src = (struct deltas){0};
    return rc;
}

/* Runs st, which reads ghit_deltas, over the sums of r (runs_start()); SQLITE_OK or the error. */
static int run_runs(sqlite3_stmt *st, struct deltas *src, struct runs *r)
{
    *src = (struct deltas){.runs = r};
    int rc = run(st);
    *src = (struct deltas){0};
    return runs_error(r) != SQLITE_OK ? runs_error(r) : rc;
}

/* The flush sequence number the file holds (meta.flushed); -1 if it cannot be read. */
static int64_t read_flushed(struct sqlite_store *s)
{
    int64_t v;
    if (s->fault == STORE_SQLITE_FAULT_READ_BACK_FAILS) {
        s->fault = STORE_SQLITE_FAULT_NONE;
        return -1;
    }
    return pragma_int(s->db, "SELECT value FROM j.meta WHERE key = 'flushed'", &v) == 0 ? v : -1;
}

/* The journal's last id (a writer's statement, backlog): 0 if empty, -1 if it cannot be read. */
static int64_t journal_top(struct sqlite_store *s)
{
    int64_t top = sqlite3_step(s->backlog) == SQLITE_ROW ? sqlite3_column_int64(s->backlog, 0) : -1;
    sqlite3_reset(s->backlog);
    return top;
}

static void held_clear(struct held *h)
{
    free(h->d);
    free(h->keys);
    *h = (struct held){0};
}

/* Adds n deltas to h: a copy, sorted, one delta a (key, day). */
static void held_add(struct held *h, const struct store_delta *d, size_t n)
{
    size_t total = h->n + n, bytes = 0;
    const struct store_delta *parts[2] = {h->d, d};
    size_t counts[2] = {h->n, n};
    for (int p = 0; p < 2; p++)
        for (size_t i = 0; i < counts[p]; i++)
            bytes += strlen(parts[p][i].key) + 1;
    struct held to = {xmalloc((total ? total : 1) * sizeof *to.d), 0, xmalloc(bytes ? bytes : 1)};
    char *next = to.keys;
    for (int p = 0; p < 2; p++)
        for (size_t i = 0; i < counts[p]; i++) {
            size_t len = strlen(parts[p][i].key) + 1;
            memcpy(next, parts[p][i].key, len);
            to.d[to.n++] = (struct store_delta){next, parts[p][i].day, parts[p][i].hits};
            next += len;
        }
    to.n = fold_sum_sorted(to.d, to.n);
    held_clear(h);
    *h = to;
}

/*
 * Settles a flush in doubt, if there is one: read back as in, its deltas
 * join the credit; as not in, they are dropped (its hits came back to be
 * written again). SQLITE_OK, or an error if the flush number still cannot
 * be read: then the flush stays in doubt.
 */
static int settle(struct sqlite_store *s)
{
    if (!s->doubt_seq)
        return SQLITE_OK;
    int64_t have = read_flushed(s), top = 0;
    if (have < 0 || (have == s->doubt_seq && (top = journal_top(s)) < 0))
        return sqlite3_errcode(s->db) != SQLITE_OK ? sqlite3_errcode(s->db) : SQLITE_IOERR;
    if (have == s->doubt_seq) {
        held_add(&s->credit, s->doubt.d, s->doubt.n);
        s->flushed = s->doubt_seq;
        s->appended = top; /* its rows: a drain before a put waits for them */
        s->stats.journal_rows += s->doubt.n;
        s->stats.ambiguous_commits++;
        log_warn("store: a flush whose COMMIT reported an error is in the file after all; "
                 "its hits are not written again");
    }
    held_clear(&s->doubt);
    s->doubt_seq = 0;
    return SQLITE_OK;
}

/*
 * Settles a flush in doubt (settle()), then takes the credit out of d: a copy in *out
 * (free it; NULL if there is no credit). Not out of the deltas of a repo
 * that one of the n puts at p sets or deletes: a put queued after the
 * credited hits went back dropped them from the pending ones (the hits in
 * d came after it), and one made again with them wipes the repo's rows,
 * the credited flush's too. SQLITE_OK, or an error if the flush number
 * still cannot be read: then nothing may be written.
 */
static int settle_doubt(struct sqlite_store *s, const struct store_put *p, size_t np,
                        const struct store_delta *d, size_t n, struct store_delta **out,
                        size_t *nout)
{
    *out = NULL;
    int rc = settle(s);
    if (rc != SQLITE_OK)
        return rc;
    if (!s->credit.n)
        return SQLITE_OK;
    const char **put = xmalloc((np ? np : 1) * sizeof *put);
    for (size_t i = 0; i < np; i++)
        put[i] = p[i].repo.key;
    qsort(put, np, sizeof *put, fold_name_cmp);
    struct store_delta *left = xmalloc((n ? n : 1) * sizeof *left);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const struct store_delta *in =
            bsearch(&d[i], s->credit.d, s->credit.n, sizeof *s->credit.d, fold_delta_cmp);
        if (in && np && bsearch(&d[i].key, put, np, sizeof *put, fold_name_cmp))
            in = NULL;
        uint64_t again = in ? (in->hits < d[i].hits ? in->hits : d[i].hits) : 0;
        if (d[i].hits > again)
            left[k++] = (struct store_delta){d[i].key, d[i].day, d[i].hits - again};
    }
    free(put);
    *out = left;
    *nout = k;
    return SQLITE_OK;
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
 * so reading it back tells. SQLITE_OK if seq is in the file. If the number
 * cannot be read either, the flush of d, n is kept as in doubt, for the
 * next write to settle (settle_doubt()). On failure, why holds the
 * COMMIT's error: the rollback and the read back replace SQLite's message.
 */
static int commit_flush(struct sqlite_store *s, int64_t seq, const struct store_delta *d, size_t n,
                        char *why, size_t whylen)
{
    int rc;
    enum store_sqlite_fault f = s->fault;
    s->fault = STORE_SQLITE_FAULT_NONE;
    if (f == STORE_SQLITE_FAULT_COMMIT_FAILS || f == STORE_SQLITE_FAULT_COMMIT_FAILS_UNREAD) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        rc = SQLITE_IOERR;
    } else {
        rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
        if (rc == SQLITE_OK && (f == STORE_SQLITE_FAULT_COMMIT_REPLY_LOST ||
                                f == STORE_SQLITE_FAULT_COMMIT_REPLY_LOST_UNREAD))
            rc = SQLITE_IOERR;
    }
    if (rc == SQLITE_OK)
        return SQLITE_OK;
    snprintf(why, whylen, "%s",
             f != STORE_SQLITE_FAULT_NONE ? sqlite3_errstr(rc) : sqlite3_errmsg(s->db));
    abandon(s);
    if (f == STORE_SQLITE_FAULT_COMMIT_FAILS_UNREAD ||
        f == STORE_SQLITE_FAULT_COMMIT_REPLY_LOST_UNREAD)
        s->fault = STORE_SQLITE_FAULT_READ_BACK_FAILS;
    int64_t have = read_flushed(s);
    if (have == seq) {
        s->stats.ambiguous_commits++;
        return SQLITE_OK;
    }
    /* Unknown: the hits go back, and the next write reads the number first. */
    if (have < 0) {
        held_add(&s->doubt, d, n);
        s->doubt_seq = seq;
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
 * everything the repo had; the caller has merged the journal first.
 */
static int step_put(struct sqlite_store *s, const struct store_put *p)
{
    const struct store_repo *r = &p->repo;
    int rc = SQLITE_OK;
    if (p->mode != STORE_PUT_ADD) {
        sqlite3_stmt *wipe[] = {s->delete_days, s->delete_repo};
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

static int drain(struct sqlite_store *s, unsigned timeout_ms, char *err, size_t errlen);

/*
 * Makes n puts, then appends nd deltas to the journal, no flush being in
 * doubt (sqlite_write()). A set or delete replaces a repo's rows as a
 * whole, so the journal is merged first (rows flushed before the change are
 * folded in, then replaced), in a transaction of its own: puts are
 * idempotent, so if the deltas' flush then fails, giving both back and
 * writing them again is right. The deltas go in one transaction that also
 * records its sequence number (see commit_flush).
 */
static enum store_result write_settled(struct sqlite_store *s, const struct store_put *p, size_t n,
                                       const struct store_delta *d, size_t nd, char *err,
                                       size_t errlen)
{
    int rc = SQLITE_OK;
    if (n) {
        if (drain(s, 30000, err, errlen) < 0)
            return STORE_RETRY;
        rc = sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
        for (size_t i = 0; i < n && rc == SQLITE_OK; i++)
            rc = step_put(s, &p[i]);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            fail(s, "cannot write the changes", err, errlen);
            s->cause = cause_of(rc);
            abandon(s);
            return classify(rc);
        }
    }
    if (nd == 0)
        return STORE_OK;
    int64_t seq = s->flushed + 1;
    /* Deferred: the first write locks the journal file only, never the tables the merger writes. */
    rc = sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
    if (rc == SQLITE_OK) {
        /* In key order, so that the merger can merge flushes as sorted runs (runs.h). */
        const struct store_delta *sorted = fold_order(d, nd, &s->order_room);
        sqlite3_bind_int64(s->append, 1, seq);
        rc = run_deltas(s->append, &s->deltas, sorted, nd);
    }
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(s->mark_flushed, 1, seq);
        rc = run(s->mark_flushed);
    }
    char why[256] = "";
    if (rc == SQLITE_OK)
        rc = commit_flush(s, seq, d, nd, why, sizeof why);
    if (rc != SQLITE_OK) {
        fail_because(s, "cannot write the counts", why[0] ? why : sqlite3_errmsg(s->db), err,
                     errlen);
        s->cause = cause_of(rc);
        abandon(s);
        return classify(rc);
    }
    s->flushed = seq;
    s->appended = sqlite3_last_insert_rowid(s->db);
    s->stats.journal_rows += nd;
    if (s->merger) {
        /*
         * A batch's worth wakes the merger; a smaller backlog waits for its
         * tick (MERGE_IDLE_MS). Durable mode commits thousands of times a
         * second, and a wake each cost the merger a query on the journal.
         */
        pthread_mutex_lock(&s->merger->lock);
        if (s->appended - s->merger->merged >= batch_rows(s->merger->large))
            pthread_cond_signal(&s->merger->wake);
        pthread_mutex_unlock(&s->merger->lock);
    }
    return STORE_OK;
}

/* Writes, once a flush in doubt is settled (settle_doubt()); see write_settled(). */
static enum store_result sqlite_write(struct store *base, const struct store_put *p, size_t n,
                                      const struct store_delta *d, size_t nd, char *err,
                                      size_t errlen)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    if (check_file(s, err, errlen) != STORE_OK)
        return STORE_FAILED;
    struct store_delta *left;
    int rc = settle_doubt(s, p, n, d, nd, &left, &nd);
    if (rc != SQLITE_OK) {
        fail(s, "cannot tell whether the last flush is in the file", err, errlen);
        s->cause = cause_of(rc);
        return STORE_RETRY;
    }
    enum store_result r = write_settled(s, p, n, left ? left : d, nd, err, errlen);
    free(left);
    if (r == STORE_OK)
        held_clear(&s->credit); /* the hits it held came for the last time */
    return r;
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

/* Hands the repo gathered in r (with its nd days) to fn. */
static void export_one(store_repo_fn *fn, void *arg, struct store_repo *r, struct store_day *days,
                       size_t nd)
{
    r->days = days;
    r->ndays = nd;
    fn(arg, r);
}

/*
 * One read (begin_read()), so one snapshot: in WAL mode a reader sees the
 * files as of its first step, whatever the server commits meanwhile.
 */
static enum store_result sqlite_export(struct store *base, store_repo_fn *fn, void *arg, char *err,
                                       size_t errlen)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    sqlite3_stmt *st;
    /* With the journal's rows not merged yet: an export holds every flush. */
#define EXPORT_TABLES DAYS_WITH("true") ", " REPOS_WITH("true")
#define EXPORT_SQL(p)                                                                              \
    "WITH " p ", " EXPORT_TABLES " SELECT r.name, r.total, r.first_day, d.day, d.hits FROM r "     \
    "LEFT JOIN d ON d.repo = r.name AND d.hits > 0 ORDER BY r.name, d.day"
    static const char *const sql[] = WITH_PENDING(EXPORT_SQL, "true");
    int rc = sqlite3_prepare_v2(s->db, sql[s->has_journal], -1, &st, NULL);
    bool reading = rc == SQLITE_OK;
    if (reading && (rc = begin_read(s, NULL)) != SQLITE_OK)
        sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        fail(s, "cannot read the repos", err, errlen);
        s->cause = cause_of(rc);
        if (reading)
            end_read(s);
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
    end_read(s);
    return res;
}

static enum store_result sqlite_check(struct store *base, char *err, size_t errlen)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    if (check_file(s, err, errlen) != STORE_OK)
        return STORE_FAILED;
    /*
     * Taking the journal's write lock is what a flush needs first; nothing
     * is written (the update is rolled back), and the tables, which the
     * merger may hold for seconds, are not touched.
     */
    int rc = sqlite3_exec(s->db,
                          "BEGIN; UPDATE j.meta SET value = value WHERE key = 'flushed';"
                          "ROLLBACK;",
                          NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        fail(s, "cannot begin a write", err, errlen);
        s->cause = cause_of(rc);
        if (!sqlite3_get_autocommit(s->db))
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return classify(rc);
    }
    return STORE_OK;
}

static void merger_stop(struct merger *m);

/* "file:PATH?QUERY", PATH percent-escaped as URIs need (SQLite's URI filenames). Free it. */
static char *uri_of(const char *path, const char *query)
{
    struct buf uri;
    buf_init(&uri);
    buf_puts(&uri, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (*p == '?' || *p == '#' || *p == '%' || *p < 0x21 || *p >= 0x7f)
            buf_printf(&uri, "%%%02X", *p);
        else
            buf_putc(&uri, (char)*p);
    }
    buf_printf(&uri, "?%s", query);
    return buf_steal(&uri);
}

/* Attaches the journal file of db's connection as "j" with the URI query given; SQLite's result. */
static int attach(sqlite3 *db, const char *jpath, const char *query)
{
    char *uri = uri_of(jpath, query);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "ATTACH ?1 AS j", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, uri, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
        sqlite3_finalize(st);
    }
    free(uri);
    return rc;
}

/*
 * The tables' merge mark (meta.merged), 0 for a version 1 file (no meta);
 * -1 if it cannot be read, with why.
 */
static int64_t read_merged(sqlite3 *db, char *why, size_t whylen)
{
    int64_t v, tables;
    int found = -1;
    if (pragma_int(db, "SELECT count(*) FROM main.sqlite_schema WHERE name = 'meta'", &tables) ==
        0) {
        if (tables == 0)
            return 0;
        if ((found = meta_value(db, "main", "merged", &v)) == 1)
            return v;
    }
    snprintf(why, whylen, "%s",
             found == 0 ? "the database's meta table has no merge mark (its row 'merged'); "
                          "restore the database from a backup"
                        : sqlite3_errmsg(db));
    return -1;
}

/*
 * Checks that the journal attached as j (one ghit made, if made) is the
 * database's: both hold the same meta.pair. Refuses one that holds another
 * id, or none beside a database that has one (a journal from before ids,
 * left beside a database made since). Neither has one: a pair from before
 * ids, adopted; only the journal: an adoption cut short, ended. *pair is
 * the id the two have or get, *main_has whether the database has it
 * already. 0, or -1 with err.
 */
static int check_pair(struct sqlite_store *s, bool made, int64_t *pair, bool *main_has, char *err,
                      size_t errlen)
{
    int64_t mine = 0, theirs = 0;
    int has_mine = meta_value(s->db, "main", "pair", &mine);
    int has_theirs = made ? meta_value(s->db, "j", "pair", &theirs) : 0;
    if (has_mine < 0 || has_theirs < 0) {
        snprintf(err, errlen, "cannot read the ids of %s and of its journal %s: %s", s->path,
                 s->jpath, sqlite3_errmsg(s->db));
        return -1;
    }
    if (made && has_mine && (!has_theirs || theirs != mine))
        return foreign_journal(s, err, errlen);
    *pair = has_mine ? mine : has_theirs ? theirs : new_pair();
    *main_has = has_mine;
    return 0;
}

/*
 * Attaches the journal beside the database. A reader attaches it read-only
 * if it exists (as immutable if it may not make its -shm file and no WAL is
 * left). A writer makes it if missing, checks that it is ghit's journal and
 * writable, switches it to WAL, and keeps its ids above the merge mark.
 */
static int attach_journal(struct sqlite_store *s, bool read_only, char *err, size_t errlen)
{
    struct stat st;
    if (stat(s->jpath, &st) != 0) {
        if (read_only)
            return 0; /* no journal: the tables are all there is */
    } else if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file; ghit keeps its journal there", s->jpath);
        return -1;
    }
    int64_t app_id = 0, ntables = 0;
    int rc = attach(s->db, s->jpath, read_only ? "mode=ro" : "mode=rwc");
    if (rc == SQLITE_OK &&
        (pragma_int(s->db, "PRAGMA j.application_id", &app_id) < 0 ||
         pragma_int(s->db, "SELECT count(*) FROM j.sqlite_schema", &ntables) < 0))
        rc = sqlite3_errcode(s->db);
    if (rc != SQLITE_OK && read_only && !has_wal(s->jpath)) {
        /* As for the database (reopen_immutable): no WAL left, nothing can change under us. */
        sqlite3_exec(s->db, "DETACH j", NULL, NULL, NULL);
        rc = attach(s->db, s->jpath, "immutable=1");
        if (rc == SQLITE_OK && pragma_int(s->db, "PRAGMA j.application_id", &app_id) < 0)
            rc = sqlite3_errcode(s->db);
    }
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open the journal %s: %s", s->jpath, sqlite3_errmsg(s->db));
        return -1;
    }
    /* A writer makes an empty file its journal; anything else must be one already. */
    if (app_id != JOURNAL_APP_ID && !(app_id == 0 && ntables == 0 && !read_only)) {
        snprintf(err, errlen, "%s is not ghit's journal; move it away (ghit makes a new one)",
                 s->jpath);
        return -1;
    }
    s->has_journal = true;
    int64_t pair;
    bool main_has_pair;
    if (check_pair(s, app_id == JOURNAL_APP_ID, &pair, &main_has_pair, err, errlen) < 0)
        return -1;
    if (read_only)
        return 0;
    if (sqlite3_db_readonly(s->db, "j") == 1) {
        snprintf(err, errlen, "cannot write %s: ghit %s needs to write its journal", s->jpath,
                 store_command());
        return -1;
    }
    char why[256] = "";
    int64_t merged = read_merged(s->db, why, sizeof why);
    char *msg = NULL;
    char sql[sizeof journal_schema + 384];
    /* The journal's id first: a stop before the database's leaves a pair check_pair() ends. */
    if (app_id == 0)
        snprintf(sql, sizeof sql,
                 "PRAGMA j.journal_mode=WAL; BEGIN; %s PRAGMA j.application_id=%d;"
                 "INSERT INTO j.sqlite_sequence(name, seq) VALUES ('journal', %" PRId64 ");"
                 "INSERT INTO j.meta(key, value) VALUES ('pair', %" PRId64 "); COMMIT;",
                 journal_schema, JOURNAL_APP_ID, merged, pair);
    else
        snprintf(sql, sizeof sql,
                 "PRAGMA j.journal_mode=WAL; UPDATE j.sqlite_sequence SET seq = max(seq, %" PRId64
                 ") WHERE name = 'journal';"
                 "INSERT OR IGNORE INTO j.meta(key, value) VALUES ('pair', %" PRId64 ");",
                 merged, pair);
    if (!main_has_pair) {
        size_t used = strlen(sql);
        snprintf(sql + used, sizeof sql - used,
                 "INSERT INTO main.meta(key, value) VALUES ('pair', %" PRId64 ");", pair);
    }
    /* CREATE TABLE names the table in j: the schema text is qualified here. */
    for (char *p = strstr(sql, "CREATE TABLE "); p; p = strstr(p + 1, "CREATE TABLE ")) {
        memmove(p + 15, p + 13, strlen(p + 13) + 1);
        memcpy(p + 13, "j.", 2);
    }
    for (char *p = strstr(sql, "INSERT INTO meta"); p; p = strstr(p + 1, "INSERT INTO meta")) {
        memmove(p + 14, p + 12, strlen(p + 12) + 1);
        memcpy(p + 12, "j.", 2);
    }
    if (merged < 0 || sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot set up the journal %s: %s", s->jpath,
                 why[0] ? why
                 : msg  ? msg
                        : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        abandon(s);
        return -1;
    }
    s->journal_checkpoint_frames = frames_of(s->db, "j", FLUSH_CHECKPOINT_BYTES);
    return 0;
}

/* Logs a merge failure once per cause; called with m->lock held. */
static void merge_failed(struct merger *m, const char *what)
{
    if (strcmp(m->error, what) != 0) {
        log_error("store: merging the journal: %s; the rows stay in the journal and count", what);
        snprintf(m->error, sizeof m->error, "%s", what);
    }
    m->failures++;
}

enum { BOUND, ROWS, REPO, DAY, MARK, DROP, OLDEST, NSTMT }; /* the merger's (merger_run()) */

/*
 * Writes the journal rows after < id <= bound into daily and repos from the
 * batch's runs (runs.h), in key order, one upsert per (repo, day) and one
 * per repo. The runs are read once for both: their sums go to daily, a
 * chunk of MERGE_CHUNK_REPOS repos at a time, then the chunk's repos' sums
 * to repos. RUNS_FOLD, with nothing written, if the batch has too many
 * runs; else SQLITE_OK or an error.
 */
static int merge_runs(struct merger *m, sqlite3_stmt **st, int64_t after, int64_t bound)
{
    int rc = runs_plan(m->runs, after, bound);
    if (rc == SQLITE_OK)
        rc = runs_start(m->runs, MERGE_CHUNK_REPOS);
    while (rc == SQLITE_OK) {
        /* A stop interrupts a statement; one between statements is seen here. */
        if (atomic_load(&m->quit)) {
            rc = SQLITE_INTERRUPT; /* the rows stay in the journal, which counts them */
            break;
        }
        rc = run_runs(st[DAY], &m->deltas, m->runs);
        size_t n = 0;
        const struct store_delta *d = runs_repos(m->runs, &n);
        if (rc == SQLITE_OK && n)
            rc = run_deltas(st[REPO], &m->deltas, d, n);
        if (!runs_more(m->runs))
            break;
    }
    /* After an error, merge_once() ends the runs once it has read SQLite's message. */
    if (rc == SQLITE_OK)
        runs_end(m->runs);
    return rc;
}

/*
 * merge_runs() for a batch that is not sorted runs: the rows are summed in
 * memory (fold.h), then written in key order.
 */
static int merge_folded(struct merger *m, sqlite3_stmt **st, int64_t after, int64_t bound)
{
    struct fold *f = fold_new();
    sqlite3_bind_int64(st[ROWS], 1, after);
    sqlite3_bind_int64(st[ROWS], 2, bound);
    int rc = fold_journal(st[ROWS], f);
    sqlite3_reset(st[ROWS]);
    /*
     * The days in key order, then one delta a repo (its first day here, its
     * hits summed), made in place of the days' once those are written.
     */
    size_t n = 0;
    const struct store_delta *d = rc == SQLITE_OK ? fold_sorted(f, &n) : NULL;
    for (int pass = 0; pass < 2 && rc == SQLITE_OK; pass++) {
        if (pass == 1)
            d = fold_by_repo(f, &n);
        if (atomic_load(&m->quit))
            rc = SQLITE_INTERRUPT;
        else if (n)
            rc = run_deltas(st[pass == 0 ? DAY : REPO], &m->deltas, d, n);
    }
    fold_free(f);
    return rc;
}

/* The batch of at most limit journal rows past merged: its last id and its rows. */
static int batch_bound(sqlite3_stmt *st, int64_t merged, int64_t limit, int64_t *bound,
                       int64_t *rows)
{
    sqlite3_bind_int64(st, 1, merged);
    sqlite3_bind_int64(st, 2, limit);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *bound = sqlite3_column_int64(st, 0);
        *rows = sqlite3_column_int64(st, 1);
        rc = SQLITE_OK;
    }
    sqlite3_reset(st);
    return rc;
}

/*
 * Merges the journal rows past the merge mark into repos and daily, and
 * moves the mark, in one transaction of the tables: up to MERGE_RUNS_MAX_ROWS
 * if *large, else MERGE_MAX_ROWS, which is also what a fold takes at most.
 * Then deletes the merged rows from the journal, which may fail without harm
 * (rows up to the mark are ignored). Returns the rows merged, with the new
 * mark in *mark and in *large whether they merged as runs, or -1.
 */
static int64_t merge_once(struct merger *m, sqlite3_stmt **st, int64_t merged, int64_t *mark,
                          bool *large, char *why, size_t whylen)
{
    int64_t bound = 0, rows = 0;
    int rc = sqlite3_exec(m->db, "BEGIN", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = batch_bound(st[BOUND], merged, *large ? MERGE_RUNS_MAX_ROWS : MERGE_MAX_ROWS, &bound,
                         &rows);
    bool runs = true;
    if (rc == SQLITE_OK && rows > 0 && (rc = merge_runs(m, st, merged, bound)) == RUNS_FOLD) {
        runs = false;
        rc = rows <= MERGE_MAX_ROWS ? SQLITE_OK
                                    : batch_bound(st[BOUND], merged, MERGE_MAX_ROWS, &bound, &rows);
        if (rc == SQLITE_OK)
            rc = merge_folded(m, st, merged, bound);
    }
    if (rc == SQLITE_OK && rows > 0) {
        sqlite3_bind_int64(st[MARK], 1, bound);
        rc = run(st[MARK]);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(m->db, rows > 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(why, whylen, "%s",
                 rc == SQLITE_INTERRUPT ? "interrupted"
                 : rc == MALFORMED_ROW  ? "a journal row has no valid day or hits"
                                        : sqlite3_errmsg(m->db));
        runs_end(m->runs);
        if (!sqlite3_get_autocommit(m->db))
            sqlite3_exec(m->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    if (rows > 0) {
        *mark = bound;
        *large = runs;
        sqlite3_bind_int64(st[DROP], 1, bound);
        run(st[DROP]);
    }
    /* A fold's sums were tens of MB: back to the system, outside the transaction (design.md). */
    alloc_trim();
    return rows;
}

/*
 * Whether the oldest journal row past merged is of a day before today (UTC),
 * through st (OLDEST). The tables are where a past day's statistics come
 * from, so a day that has ended is merged after MERGE_SMALL_WAIT_MS, not
 * after a large batch's wait: its figures are whole a few seconds after
 * midnight, and after the last flush of a day's pending hits.
 */
static bool past_day(sqlite3_stmt *st, int64_t merged)
{
    char today[DAY_TEXT_SIZE];
    day_format(day_from_time(time(NULL)), today);
    sqlite3_bind_int64(st, 1, merged);
    sqlite3_bind_text(st, 2, today, -1, SQLITE_STATIC);
    bool past = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    sqlite3_reset(st);
    return past;
}

/*
 * How long a backlog of backlog rows past merged waits for its batch after
 * the last merge; large as for batch_rows().
 */
static int64_t batch_wait(sqlite3_stmt *oldest, int64_t merged, int64_t backlog, bool large)
{
    if (backlog <= MERGE_SMALL_ROWS || past_day(oldest, merged))
        return MERGE_SMALL_WAIT_MS;
    return !large || backlog < MERGE_LIGHT_ROWS ? MERGE_WAIT_MS : MERGE_RUNS_WAIT_MS;
}

/* The merger thread: folds the journal whenever it grows, until told to stop. */
static void *merger_run(void *arg)
{
    struct merger *m = arg;
    pthread_setname_np(pthread_self(), "ghit-merger");
    /*
     * At the HTTP workers' priority. At nice 10 it waited for spare time, and
     * two workers under full load left it none: the backlog grew without end.
     */
    static const char *const sql[] = {
        "SELECT max(id), count(*) FROM (SELECT id FROM j.journal WHERE id > ?1 ORDER BY id "
        "LIMIT ?2)",
        "SELECT repo, day, hits FROM j.journal WHERE id > ?1 AND id <= ?2",
        UPSERT_REPO(ALL_DELTAS),
        UPSERT_DAY(ALL_DELTAS),
        "UPDATE main.meta SET value = ?1 WHERE key = 'merged'",
        "DELETE FROM j.journal WHERE id <= ?1",
        "SELECT day < ?2 FROM j.journal WHERE id > ?1 ORDER BY id LIMIT 1",
    };
    sqlite3_stmt *st[NSTMT] = {0};
    char unready[256] = "";
    for (int i = 0; i < NSTMT && !unready[0]; i++)
        if (sqlite3_prepare_v2(m->db, sql[i], -1, &st[i], NULL) != SQLITE_OK)
            snprintf(unready, sizeof unready, "%s", sqlite3_errmsg(m->db));
    if (!unready[0])
        m->runs = runs_new(m->db, unready, sizeof unready);
    if (unready[0]) {
        pthread_mutex_lock(&m->lock);
        /*
         * A stop soon after the start interrupts the statements' making,
         * which then fails in more ways than SQLITE_INTERRUPT ("vtable
         * constructor failed: ghit_deltas" when it lands in ghit_deltas'
         * connect). Once a stop is asked the merger would merge nothing more
         * anyway, so no failure is logged then; a real one (a damaged file)
         * shows at the next start, which opens the same tables.
         */
        if (!m->stop)
            merge_failed(m, unready);
        m->stop = true;
        pthread_cond_broadcast(&m->progress);
        pthread_mutex_unlock(&m->lock);
    }
    pthread_mutex_lock(&m->lock);
    int64_t merged = m->merged;
    bool large = false; /* m->large, which this thread alone writes */
    struct timespec last;
    clock_gettime(CLOCK_MONOTONIC, &last);
    while (!m->stop) {
        bool forced = m->wanted > merged;
        pthread_mutex_unlock(&m->lock);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int64_t top = 0;
        pragma_int(m->db, JOURNAL_TOP, &top);
        int64_t backlog = top - merged;
        /* The wait, and past_day()'s seek with it, only for a backlog not due otherwise. */
        bool due = backlog > 0 && (forced || backlog >= batch_rows(large) ||
                                   monotime_ms_between(&last, &t0) >=
                                       batch_wait(st[OLDEST], merged, backlog, large));
        char why[256] = "";
        int64_t mark = merged;
        int64_t rows = due ? merge_once(m, st, merged, &mark, &large, why, sizeof why) : 0;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (due)
            last = t1;
        uint64_t ms = (uint64_t)monotime_ms_between(&t0, &t1);
        pthread_mutex_lock(&m->lock);
        if (rows < 0 && !m->stop) {
            merge_failed(m, why);
        } else if (rows > 0) {
            merged = m->merged = mark; /* committed with the rows */
            m->large = large;
            m->rows += (uint64_t)rows;
            m->merges++;
            m->ms += ms;
            if (m->failures)
                log_info("store: merging the journal again after %u failures", m->failures);
            m->failures = 0;
            m->error[0] = '\0';
            log_debug("store: merged %" PRId64 " journal rows in %llu ms", rows,
                      (unsigned long long)ms);
        }
        pthread_cond_broadcast(&m->progress);
        /* After a failure, a drain waiting retries sooner, but never in a tight loop. */
        if (!m->stop && (rows < 0 || (rows == 0 && m->wanted <= merged))) {
            struct timespec until = monotime_deadline(rows == 0            ? MERGE_IDLE_MS
                                                      : m->wanted > merged ? 100
                                                                           : 1000);
            pthread_cond_timedwait(&m->wake, &m->lock, &until);
        }
    }
    m->finished = true;
    pthread_cond_broadcast(&m->progress);
    pthread_mutex_unlock(&m->lock);
    for (int i = 0; i < NSTMT; i++)
        sqlite3_finalize(st[i]);
    runs_free(m->runs);
    m->runs = NULL;
    return NULL;
}

/* Starts the merger of s on a connection of its own; NULL with a message in err. */
static struct merger *merger_start(struct sqlite_store *s, char *err, size_t errlen)
{
    struct merger *m = xcalloc(1, sizeof *m);
    m->path = xstrdup(s->path);
    pthread_mutex_init(&m->lock, NULL);
    monotime_cond_init(&m->wake);
    monotime_cond_init(&m->progress);
    int rc = sqlite3_open_v2(s->path, &m->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(m->db, 1);
        sqlite3_busy_timeout(m->db, 10000);
        rc = attach(m->db, s->jpath, "mode=rw");
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_create_module(m->db, "ghit_deltas", &deltas_module, &m->deltas);
    /*
     * A merge writes in key order, so it reads each leaf page once a batch
     * and its page cache needs to hold the B-trees' interior pages only
     * (about 1 % of the file). 16 MB does to some 15 million (repo, day)
     * rows. Under the uniform load over 1,000,000 repos, 2, 16 and 64 MB
     * merged at the same 7.5-9.1 us a row, and 64 MB left ghit at 277-280
     * MB resident against 213-220 with 16 (40 s runs, interleaved, this VM).
     * Later, 4 MB against 16 on another VM: a peak 13 MB lower (165 MB
     * against 178) and 2-7 % fewer req/s in three alternated 40 s pairs.
     *
     * A merge's commit is synced (FULL) before the merged rows are deleted
     * from the journal: else a power cut could keep the delete, which the
     * next flush's sync writes out with the journal, and lose the merge, and
     * with them a whole batch of hits. One fsync a merge, every few seconds.
     */
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(m->db,
                          "PRAGMA main.cache_size=-16384; PRAGMA main.synchronous=FULL;"
                          "PRAGMA j.synchronous=NORMAL;",
                          NULL, NULL, NULL);
    char why[256] = "";
    m->merged = rc == SQLITE_OK ? read_merged(m->db, why, sizeof why) : -1;
    int thread_rc = 0;
    if (rc != SQLITE_OK || m->merged < 0 ||
        (thread_rc = pthread_create(&m->thread, NULL, merger_run, m)) != 0) {
        snprintf(err, errlen, "cannot start the journal's merger on %s: %s", s->path,
                 thread_rc ? strerror(thread_rc)
                 : why[0]  ? why
                 : m->db   ? sqlite3_errmsg(m->db)
                           : sqlite3_errstr(rc));
        sqlite3_close(m->db);
        m->started = false;
        merger_stop(m);
        return NULL;
    }
    m->started = true;
    return m;
}

/*
 * Stops the merger thread and frees it. A merge under way is cut short and
 * rolled back: at a million repos one takes seconds, and its rows are safe
 * in the journal, folded by the next start.
 */
static void merger_stop(struct merger *m)
{
    if (m->started) {
        pthread_mutex_lock(&m->lock);
        m->stop = true;
        atomic_store(&m->quit, true);
        pthread_cond_signal(&m->wake);
        /*
         * SQLite ignores an interrupt while no statement runs, so one that
         * lands after the merger checked quit and before its next statement
         * starts is lost, and that statement (seconds, at the million) runs
         * to its end. Hence again every 20 ms until the thread is done;
         * sqlite3_interrupt() is safe from another thread while the
         * connection is open, and takes no lock.
         */
        while (!m->finished) {
            sqlite3_interrupt(m->db);
            struct timespec until = monotime_deadline(20);
            pthread_cond_timedwait(&m->progress, &m->lock, &until);
        }
        pthread_mutex_unlock(&m->lock);
        pthread_join(m->thread, NULL);
        sqlite3_close(m->db);
    }
    pthread_cond_destroy(&m->wake);
    pthread_cond_destroy(&m->progress);
    pthread_mutex_destroy(&m->lock);
    free(m->path);
    free(m);
}

/*
 * Waits until the merger has folded every row this store appended, at most
 * timeout_ms; 0, or -1 with why in err.
 */
static int drain(struct sqlite_store *s, unsigned timeout_ms, char *err, size_t errlen)
{
    struct merger *m = s->merger;
    if (!m)
        return 0;
    struct timespec until = monotime_deadline(timeout_ms);
    pthread_mutex_lock(&m->lock);
    m->wanted = s->appended;
    pthread_cond_signal(&m->wake);
    int rc = 0;
    while (m->merged < s->appended && !m->stop && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&m->progress, &m->lock, &until);
    bool done = m->merged >= s->appended;
    if (!done)
        snprintf(err, errlen, "the journal could not be merged in time%s%s",
                 m->error[0] ? ": " : "", m->error);
    pthread_mutex_unlock(&m->lock);
    return done ? 0 : -1;
}

int store_sqlite_drain(struct store *base, unsigned timeout_ms)
{
    char err[256];
    return drain((struct sqlite_store *)base, timeout_ms, err, sizeof err);
}

/* The size of the database's pages and of its tables in bytes (its WAL folded in). */
static int db_size(sqlite3 *db, struct store_sqlite_size *out)
{
    int64_t pages = 0;
    if (pragma_int(db, "PRAGMA main.page_size", &out->page_size) < 0 ||
        pragma_int(db, "PRAGMA main.page_count", &pages) < 0)
        return -1;
    out->bytes = out->page_size * pages;
    return 0;
}

/*
 * Merges the whole journal into the tables, for as long as the merger makes
 * progress: a journal left by a crash may hold millions of rows, a few
 * seconds of merging each. Gives up once it fails VACUUM_FAILURES times in
 * a row or stalls VACUUM_STALL_MS; 0, or -1 with why in err.
 */
#define VACUUM_FAILURES 3
#define VACUUM_STALL_MS 60000
static int drain_all(struct sqlite_store *s, char *err, size_t errlen)
{
    struct merger *m = s->merger;
    int64_t seen = -1;
    struct timespec moved;
    clock_gettime(CLOCK_MONOTONIC, &moved);
    for (;;) {
        if (drain(s, 1000, err, errlen) == 0)
            return 0;
        pthread_mutex_lock(&m->lock);
        int64_t merged = m->merged;
        bool failing = m->stop || m->failures >= VACUUM_FAILURES;
        pthread_mutex_unlock(&m->lock);
        if (merged != seen) {
            seen = merged;
            clock_gettime(CLOCK_MONOTONIC, &moved);
        } else if (monotime_ms_since(&moved) >= VACUUM_STALL_MS) {
            failing = true;
        }
        if (failing)
            return -1;
    }
}

uint64_t store_sqlite_files_bytes(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", JOURNAL_SUFFIX, JOURNAL_SUFFIX "-wal"};
    uint64_t bytes = 0;
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char name[4096];
        struct stat st;
        snprintf(name, sizeof name, "%s%s", path, suffixes[i]);
        if (stat(name, &st) == 0 && S_ISREG(st.st_mode))
            bytes += (uint64_t)st.st_size;
    }
    return bytes;
}

bool store_sqlite_has_small_pages(struct store *base)
{
    struct store_sqlite_size z;
    return db_size(((struct sqlite_store *)base)->db, &z) == 0 && z.page_size < PAGE_SIZE;
}

int store_sqlite_vacuum(struct store *base, struct store_sqlite_size *before,
                        struct store_sqlite_size *after, char *err, size_t errlen)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    if (!s->merger) {
        snprintf(err, errlen, "%s is not open to write", s->path);
        return -1;
    }
    if (drain_all(s, err, errlen) < 0)
        return -1;
    merger_stop(s->merger);
    s->merger = NULL;
    if (db_size(s->db, before) < 0) {
        fail(s, "cannot read the database's size", err, errlen);
        return -1;
    }
    /*
     * A WAL database keeps its page size: the rebuild runs with a rollback
     * journal, which also keeps the file whole should it stop half-way.
     * The journal of ghit's keeps its 4 KB pages (see adopt()) and only
     * sheds the free pages of the rows merged.
     */
    char sql[128];
    snprintf(sql, sizeof sql, "PRAGMA main.page_size=%d; VACUUM main; VACUUM j", PAGE_SIZE);
    int rc = -1;
    if (!set_journal_mode(s->db, "delete"))
        fail(s, "cannot leave WAL mode (does another program have the database open?)", err,
             errlen);
    else if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        fail(s, "cannot rebuild the database", err, errlen);
    else
        rc = 0;
    if (!set_journal_mode(s->db, "wal") && rc == 0) {
        fail(s, "cannot switch the database back to WAL mode", err, errlen);
        rc = -1;
    }
    if (rc == 0 && db_size(s->db, after) < 0) {
        fail(s, "cannot read the database's size", err, errlen);
        rc = -1;
    }
    return rc;
}

static void sqlite_stats(struct store *base, struct store_stats *out)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    *out = s->stats;
    if (s->merger) {
        pthread_mutex_lock(&s->merger->lock);
        out->merged_rows = s->merger->rows;
        out->merge_ms = s->merger->ms;
        out->merges = s->merger->merges;
        out->backlog_rows =
            s->appended > s->merger->merged ? (uint64_t)(s->appended - s->merger->merged) : 0;
        pthread_mutex_unlock(&s->merger->lock);
    }
}

/*
 * store.h set_durable: each flush's commit waits for the disk (fsync), the
 * journal only.
 *
 * The flushes' connection then checkpoints the journal's WAL itself, past
 * DURABLE_CHECKPOINT_BYTES. A WAL starts over from its first frame only
 * once a checkpoint has copied every frame in it, and with a commit every
 * millisecond or so the merger's checkpoints never find it so: a newer
 * frame is always there. Past FLUSH_CHECKPOINT_BYTES the WAL grew to 40 MB,
 * each commit appending to the file; past 4 MB (1,000 pages of 4 KB then)
 * it grows to 4 MB once and is written over from then on. On this VM's
 * ext4 an fdatasync of 4 KB written over took 0.27-0.40 ms against
 * 0.35-0.77 appended. Such a checkpoint copies the few pages that its
 * frames hold (the journal's last leaves, its meta and sequence rows) and
 * syncs twice.
 * Alternated 10 s runs of wrk -c50: on 1,000 repos each of eight rounds
 * was faster (medians 29,606 against 26,161 and 27,611 against 23,504
 * req/s); on one repo 36,570 against 32,034 in four rounds, then 27,715
 * against 28,469 in five, within this VM's noise. p99 no worse.
 */
static void sqlite_set_durable(struct store *base)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    sqlite3_exec(s->db, "PRAGMA j.synchronous=FULL", NULL, NULL, NULL);
    s->journal_checkpoint_frames = frames_of(s->db, "j", DURABLE_CHECKPOINT_BYTES);
}

void store_sqlite_fault(struct store *base, enum store_sqlite_fault fault)
{
    ((struct sqlite_store *)base)->fault = fault;
}

/*
 * At a close after writes that failed to the end (a stop whose store
 * refused): the flusher said how many hits it could not write, and the
 * credit's are among them, though in the file; so is a flush in doubt if
 * its number can be read now. Says so, as redis_close() says what Redis
 * may hold: the next start counts those hits, once.
 */
static void report_held(struct sqlite_store *s)
{
    settle(s); /* if it cannot, the flush stays in doubt, and is said to be */
    uint64_t in = store_deltas_hits(s->credit.d, s->credit.n);
    uint64_t maybe = store_deltas_hits(s->doubt.d, s->doubt.n);
    if (in)
        log_error("store: of the hits not written, %" PRIu64 " are in the file after all (a "
                  "flush whose COMMIT reported an error had reached it): they are counted, once",
                  in);
    if (maybe)
        log_error("store: of the hits not written, %" PRIu64 " were in a flush whose COMMIT "
                  "reported an error, and the file cannot be read to tell whether it is in: "
                  "they may or may not be counted",
                  maybe);
}

static void sqlite_close(struct store *base)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    if (s->doubt_seq || s->credit.n)
        report_held(s);
    if (s->merger) {
        /*
         * A clean stop leaves the tables whole when the merger can catch up
         * at once (a row costs about 5 us); a larger backlog stays in the
         * journal for the next start, so a stop never waits for a merge.
         */
        pthread_mutex_lock(&s->merger->lock);
        int64_t backlog = s->appended - s->merger->merged;
        pthread_mutex_unlock(&s->merger->lock);
        char err[256];
        if (backlog <= STOP_MERGE_ROWS)
            drain(s, 500, err, sizeof err);
        merger_stop(s->merger);
    }
    sqlite3_stmt *all[] = {s->append,     s->mark_flushed, s->backlog,     s->upsert_repo,
                           s->upsert_day, s->delete_days,  s->delete_repo, s->get_st,
                           s->history_st, s->top_st};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sqlite3_finalize(all[i]);
    sqlite3_close(s->db);
    held_clear(&s->doubt);
    held_clear(&s->credit);
    order_room_fini(&s->order_room);
    if (s->lock_fd >= 0)
        close(s->lock_fd); /* drops the flock */
    free(s->path);
    free(s->jpath);
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
    enum store_result res = STORE_OK;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fail(s, what, err, errlen);
        s->cause = cause_of(rc);
        res = classify(rc);
    }
    end_read(s);
    return res;
}

/*
 * Prepares *st from sql on first use and begins a read of the tables and
 * the journal as of one moment (begin_read()); finish_read() ends it.
 * STORE_OK, or the failure, reported, with nothing left to end.
 */
static enum store_result start_read(struct sqlite_store *s, sqlite3_stmt **st, const char *sql,
                                    const char *what, char *err, size_t errlen)
{
    int rc = prepared(s, st, sql, err, errlen);
    if (rc != SQLITE_OK)
        return classify(rc);
    if ((rc = begin_read(s, NULL)) == SQLITE_OK)
        return STORE_OK;
    fail(s, what, err, errlen);
    s->cause = cause_of(rc);
    end_read(s);
    return classify(rc);
}

/* Whether a read of one repo (get, history) adds the journal's rows: not a server's (store.h). */
static bool per_repo_journal(const struct sqlite_store *s)
{
    return s->has_journal && !s->tables_per_repo;
}

void store_sqlite_tables_per_repo(struct store *base)
{
    ((struct sqlite_store *)base)->tables_per_repo = true;
}

/* store.h get: one repos row, with its hits on day from daily. */
static enum store_result sqlite_get(struct store *base, const char *key, day_t day,
                                    struct store_row *out, int *found, char *err, size_t errlen)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
#define GET_TABLES DAYS_WITH("repo = ?1 AND day = ?2") ", " REPOS_WITH("name = ?1")
#define GET_SQL(p)                                                                                 \
    "WITH " p ", " GET_TABLES " SELECT r.total, r.first_day, coalesce(d.hits, 0) FROM r "          \
    "LEFT JOIN d ON d.repo = r.name AND d.day = ?2"
    static const char *const sql[] = WITH_PENDING(GET_SQL, "repo = ?1");
    static const char what[] = "cannot read a repo";
    *found = 0;
    enum store_result res = start_read(s, &s->get_st, sql[per_repo_journal(s)], what, err, errlen);
    if (res != STORE_OK)
        return res;
    sqlite3_bind_text(s->get_st, 1, key, -1, SQLITE_STATIC);
    bind_day(s->get_st, 2, day);
    int rc = sqlite3_step(s->get_st);
    if (rc == SQLITE_ROW) {
        const char *first = (const char *)sqlite3_column_text(s->get_st, 1);
        out->key = key;
        out->total = (uint64_t)sqlite3_column_int64(s->get_st, 0);
        out->day_hits = (uint64_t)sqlite3_column_int64(s->get_st, 2);
        *found = first && !day_parse(first, &out->first_day);
    }
    return finish_read(s, s->get_st, rc, what, err, errlen);
}

/* store.h history: one range of the primary key (repo, day), and the journal's rows of it. */
static enum store_result sqlite_history(struct store *base, const char *key, day_t from, day_t to,
                                        uint64_t *hits, char *err, size_t errlen)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    if (to < from || to - from >= STORE_HISTORY_MAX_DAYS) {
        snprintf(err, errlen, "a history spans 1 to %d days", STORE_HISTORY_MAX_DAYS);
        return STORE_FAILED;
    }
    /* The primary key (repo, day) holds a repo's days in order: one range of one b-tree. */
#define RANGE          "repo = ?1 AND day BETWEEN ?2 AND ?3"
#define HISTORY_SQL(p) "WITH " p ", " DAYS_WITH(RANGE) " SELECT day, hits FROM d"
    static const char *const sql[] = WITH_PENDING(HISTORY_SQL, RANGE);
    static const char what[] = "cannot read a history";
    enum store_result res =
        start_read(s, &s->history_st, sql[per_repo_journal(s)], what, err, errlen);
    if (res != STORE_OK)
        return res;
    sqlite3_bind_text(s->history_st, 1, key, -1, SQLITE_STATIC);
    bind_day(s->history_st, 2, from);
    bind_day(s->history_st, 3, to);
    memset(hits, 0, (size_t)(to - from + 1) * sizeof *hits);
    int rc;
    while ((rc = sqlite3_step(s->history_st)) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(s->history_st, 0);
        day_t d;
        if (text && !day_parse(text, &d) && d >= from && d <= to)
            hits[d - from] = (uint64_t)sqlite3_column_int64(s->history_st, 1);
    }
    return finish_read(s, s->history_st, rc, what, err, errlen);
}

/* store.h top: the range's rows of daily_by_day, and the journal's, summed per repo. */
static enum store_result sqlite_top(struct store *base, day_t from, day_t to, size_t limit,
                                    store_top_fn *fn, void *arg, char *err, size_t errlen)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    /*
     * INDEXED BY: the planner would otherwise walk the primary key, whose
     * order suits GROUP BY repo, and so read every row of every day. The
     * index daily_by_day reads only the range's rows (the 2015 design's
     * repos:<date> sets); their sum is then sorted, which costs the range's
     * rows, not the store's (bench/README.md, "Statistics"). With the
     * journal's rows not merged yet (a few seconds' worth), a repo joins
     * the list as soon as its hits are flushed.
     */
#define TOP_SQL(p)                                                                                 \
    "WITH " p " SELECT repo, ghit_sum(hits) AS h, "                                                \
    "ghit_sum(CASE WHEN day = ?2 THEN hits ELSE 0 END) FROM ("                                     \
    "  SELECT repo, day, hits FROM daily INDEXED BY daily_by_day WHERE day BETWEEN ?1 AND ?2 "     \
    "  UNION ALL SELECT repo, day, hits FROM p) "                                                  \
    "GROUP BY repo ORDER BY h DESC, repo LIMIT ?3"
    static const char *const sql[] = WITH_PENDING(TOP_SQL, "day BETWEEN ?1 AND ?2");
    static const char what[] = "cannot read a top list";
    enum store_result res = start_read(s, &s->top_st, sql[s->has_journal], what, err, errlen);
    if (res != STORE_OK)
        return res;
    bind_day(s->top_st, 1, from);
    bind_day(s->top_st, 2, to);
    sqlite3_bind_int64(s->top_st, 3, (int64_t)limit);
    int rc;
    while ((rc = sqlite3_step(s->top_st)) == SQLITE_ROW) {
        struct store_top_row row = {
            .key = (const char *)sqlite3_column_text(s->top_st, 0),
            .hits = (uint64_t)sqlite3_column_int64(s->top_st, 1),
            .last_day = (uint64_t)sqlite3_column_int64(s->top_st, 2),
        };
        if (row.key)
            fn(arg, &row);
    }
    return finish_read(s, s->top_st, rc, what, err, errlen);
}

/* store.h summary: reads every repos row, and the journal's (for the CLI). */
static enum store_result sqlite_summary(struct store *base, uint64_t *repos, uint64_t *hits,
                                        char *err, size_t errlen)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
#define SUMMARY_SQL(p) "WITH " p ", " REPOS_WITH("true") " SELECT count(*), ghit_sum(total) FROM r"
    static const char *const sql[] = WITH_PENDING(SUMMARY_SQL, "true");
    static const char what[] = "cannot count the repos";
    sqlite3_stmt *st = NULL;
    enum store_result res = start_read(s, &st, sql[s->has_journal], what, err, errlen);
    if (res != STORE_OK)
        return res;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *repos = (uint64_t)sqlite3_column_int64(st, 0);
        *hits = (uint64_t)sqlite3_column_int64(st, 1);
    }
    res = finish_read(s, st, rc, what, err, errlen);
    sqlite3_finalize(st);
    return res;
}

/* store.h cause: what the last failure was, as cause_of() names it. */
static const char *sqlite_cause(struct store *base)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    return s->cause ? s->cause : "none";
}

/*
 * sqlite3_interrupt() stops the statements running, but one begun when none
 * ran clears it: a reader also checks a flag of its own every
 * INTERRUPT_STEPS virtual machine steps (interrupted()), so that an
 * interrupt between two statements is not lost.
 */
static void sqlite_interrupt(struct store *base)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    atomic_store(&s->interrupted, true);
    sqlite3_interrupt(s->db);
}

/* A reader's progress handler: non-zero stops the statement (SQLITE_INTERRUPT). */
static int interrupted(void *arg)
{
    return atomic_load(&((struct sqlite_store *)arg)->interrupted);
}

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .scan = sqlite_scan,
    .apply = sqlite_apply,
    .stats = sqlite_stats,
    .set_durable = sqlite_set_durable,
    .check = sqlite_check,
    .write = sqlite_write,
    .export = sqlite_export,
    .close = sqlite_close,
    .get = sqlite_get,
    .history = sqlite_history,
    .top = sqlite_top,
    .summary = sqlite_summary,
    .cause = sqlite_cause,
    .interrupt = sqlite_interrupt,
};

/*
 * sqlite3_wal_hook of the flushes' connection, run after each commit of
 * one of its files: checkpoints that file's WAL past its bar. Only the
 * journal's bar moves (sqlite_set_durable()): a set or delete that the
 * flusher writes to the tables must not pay for the merger's pages.
 */
static int checkpoint_past(void *arg, sqlite3 *db, const char *name, int frames)
{
    const struct sqlite_store *s = arg;
    int bar = strcmp(name, "j") == 0 ? s->journal_checkpoint_frames : s->checkpoint_frames;
    if (frames >= bar)
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

/* Switches to WAL and checks that the switch took (not every file system can). */
static int use_wal(struct sqlite_store *s, char *err, size_t errlen)
{
    if (!set_journal_mode(s->db, "wal")) {
        fail(s, "cannot switch the database to WAL mode (is it on a network file system?)", err,
             errlen);
        return -1;
    }
    /*
     * The flushes' connection leaves checkpoints to the merger's, whose
     * commits (every few seconds) run them at SQLite's default of 1,000
     * pages: a flush that paid for one took 166-408 ms instead of a few (1,000
     * repos under load, ASan, debug log). It checkpoints itself only past
     * FLUSH_CHECKPOINT_BYTES, should the merger stop (the journal's bar is
     * set when it is attached).
     */
    s->checkpoint_frames = frames_of(s->db, "main", FLUSH_CHECKPOINT_BYTES);
    sqlite3_wal_hook(s->db, checkpoint_past, s);
    /*
     * synchronous=NORMAL: a committed flush survives a crash of ghit (kill -9);
     * a power cut may lose the last flushes, as the flush interval already may.
     */
    return sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/*
 * Opens s->lock_fd on the database file, if not open yet, and checks that
 * what it opened is a regular file: the check acts on the file opened, not
 * on a path looked up before. O_NONBLOCK: a FIFO given as --db is refused,
 * not waited on for a writer. Never makes the file. -1 with err.
 */
static int open_lock_fd(struct sqlite_store *s, char *err, size_t errlen)
{
    if (s->lock_fd < 0)
        s->lock_fd = open(s->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat st;
    if (s->lock_fd < 0 || fstat(s->lock_fd, &st) < 0) {
        snprintf(err, errlen, "%s: %s; --db must name an existing ghit database", s->path,
                 strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file; give --db a ghit database file", s->path);
        return -1;
    }
    return 0;
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
    if (open_lock_fd(s, err, errlen) < 0)
        return -1;
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
 * Checks, once locked, that the lock's descriptor, SQLite's connection and
 * the path name one file: SQLite opens by path, and so did the lock, so a
 * file removed or replaced between the two opens would be locked in one
 * inode and written in another, or written where no path names it. A swap
 * and a swap back between these checks could still pass them; nothing
 * short of that can. -1 with err.
 */
static int check_same_file(struct sqlite_store *s, char *err, size_t errlen)
{
    struct stat locked, named;
    int moved = 0;
    if (fstat(s->lock_fd, &locked) == 0 && stat(s->path, &named) == 0 &&
        locked.st_dev == named.st_dev && locked.st_ino == named.st_ino && locked.st_nlink > 0 &&
        sqlite3_file_control(s->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK && !moved)
        return 0;
    snprintf(err, errlen,
             "%s was removed or replaced while ghit %s opened it; nothing was written: "
             "run it again",
             s->path, store_command());
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
                 "cannot write %s (%s): ghit %s needs to write its database; "
                 "give its user write access to the file, or use another --db",
                 s->path, access(s->path, W_OK) < 0 ? strerror(errno) : "read-only",
                 store_command());
        return -1;
    }
    char *d = file_dir(s->path);
    int ok = access(d, W_OK | X_OK) == 0;
    int e = errno;
    if (!ok)
        snprintf(err, errlen,
                 "cannot write the directory %s (%s): SQLite keeps %s-wal and %s-shm there; "
                 "give ghit's user write access to it",
                 d, strerror(e), s->path, s->path);
    free(d);
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
    /* O_NONBLOCK: a FIFO at path would block an open to read until a writer came. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
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
    char *uri = uri_of(s->path, "immutable=1");
    sqlite3_close(s->db);
    int rc = sqlite3_open_v2(uri, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
    free(uri);
    return rc == SQLITE_OK ? 0 : -1;
}

/*
 * Opens s->db to read only: as immutable (reopen_immutable()) if SQLite
 * cannot read it otherwise, which a reader that may not write the
 * directory meets. 0, or -1 with a message in err.
 */
static int open_to_read(struct sqlite_store *s, char *err, size_t errlen)
{
    int64_t probe;
    if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_URI | SQLITE_OPEN_READONLY, NULL) !=
            SQLITE_OK ||
        (pragma_int(s->db, "PRAGMA application_id", &probe) < 0 &&
         ((sqlite3_errcode(s->db) & 0xff) == SQLITE_CANTOPEN ||
          (sqlite3_errcode(s->db) & 0xff) == SQLITE_READONLY) &&
         !has_wal(s->path) && reopen_immutable(s) < 0)) {
        fail(s, "cannot open the database", err, errlen);
        return -1;
    }
    return 0;
}

/* A store for path with nothing open yet. */
static struct sqlite_store *new_store(const char *path)
{
    struct sqlite_store *s = xcalloc(1, sizeof *s);
    s->base.ops = &sqlite_ops;
    atomic_init(&s->interrupted, false);
    s->path = xstrdup(path);
    s->lock_fd = -1;
    size_t plen = strlen(path);
    s->jpath = xmalloc(plen + sizeof JOURNAL_SUFFIX);
    memcpy(s->jpath, path, plen);
    memcpy(s->jpath + plen, JOURNAL_SUFFIX, sizeof JOURNAL_SUFFIX);
    return s;
}

/*
 * Opens s->db to write and takes the writer's lock. OPEN_EXISTING opens the
 * file itself first, without making it, and SQLite with the URI's mode=rw,
 * which never makes the file either: a missing file is refused, and one
 * removed between the two opens is not made again (check_same_file()
 * refuses the rest). The connection keeps SQLITE_OPEN_CREATE, which ATTACH
 * needs to make a missing journal (mode=rwc). 0, or -1 with err.
 */
static int open_to_write(struct sqlite_store *s, enum open_mode mode, char *err, size_t errlen)
{
    if (mode == OPEN_EXISTING && open_lock_fd(s, err, errlen) < 0)
        return -1;
    char *uri = mode == OPEN_EXISTING ? uri_of(s->path, "mode=rw") : NULL;
    int rc = sqlite3_open_v2(uri ? uri : s->path, &s->db,
                             SQLITE_OPEN_URI | SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    free(uri);
    if (rc != SQLITE_OK) {
        int e = s->db ? sqlite3_system_errno(s->db) : 0;
        char *dir = file_dir(s->path);
        struct stat st;
        if (e == ENOENT && mode == OPEN_CREATE && stat(dir, &st) < 0 && errno == ENOENT)
            snprintf(err, errlen,
                     "cannot make %s: the directory %s does not exist; make it first (ghit "
                     "makes the database, not its directory)",
                     s->path, dir);
        else if (e)
            snprintf(err, errlen, "cannot open the database %s: %s", s->path, strerror(e));
        else
            fail(s, "cannot open the database", err, errlen);
        free(dir);
        return -1;
    }
    if (lock_writer(s, err, errlen) < 0 || check_same_file(s, err, errlen) < 0 ||
        check_writable(s, err, errlen) < 0)
        return -1;
    return 0;
}

/* Opens path to read, or to write (made if missing or empty, or existing only); see store.h. */
static struct store *open_store(const char *path, enum open_mode mode, char *err, size_t errlen)
{
    struct sqlite_store *s = new_store(path);
    bool read_only = mode == OPEN_READ;

    struct stat st;
    /* ":memory:", "" and URIs name no file: hits kept there would vanish at exit. */
    if (!*path || strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0) {
        snprintf(err, errlen, "'%s' is not a file path; give --db a file path", path);
        goto fail;
    }
    /* A message before SQLite's; a writer checks the file it opened too (open_lock_fd()). */
    if (mode != OPEN_EXISTING && stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file; give --db a file path", path);
        goto fail;
    }
    /* A new database beside a journal left there: not made (adopt() checks an empty file). */
    if (mode == OPEN_CREATE && stat(path, &st) != 0 && errno == ENOENT && journal_left(s->jpath)) {
        foreign_journal(s, err, errlen);
        goto fail;
    }
    /* URI: the journal is attached by a URI (a path starting "file:" was refused above). */
    if (read_only ? open_to_read(s, err, errlen) < 0 : open_to_write(s, mode, err, errlen) < 0)
        goto fail;
    sqlite3_extended_result_codes(s->db, 1);
    /* A writer elsewhere (the sqlite3 shell, a backup) holds the lock briefly: wait a little. */
    sqlite3_busy_timeout(s->db, 1000);
    if (adopt(s, mode, err, errlen) < 0 || check_integrity(s, err, errlen) < 0)
        goto fail;
    if (read_only) {
        if (attach_journal(s, true, err, errlen) < 0)
            goto fail;
        return &s->base;
    }
    /* WAL: readers (the sqlite3 shell, backups, ghit render) never block the flusher. */
    if (use_wal(s, err, errlen) < 0 || attach_journal(s, false, err, errlen) < 0)
        goto fail;
    if (sqlite3_create_module(s->db, "ghit_deltas", &deltas_module, &s->deltas) != SQLITE_OK) {
        fail(s, "cannot register a virtual table", err, errlen);
        goto fail;
    }
    static const struct {
        size_t offset;
        const char *sql;
    } statements[] = {
        {offsetof(struct sqlite_store, append), "INSERT INTO j.journal(flush, repo, day, hits) "
                                                "SELECT ?1, repo, day, hits FROM ghit_deltas"},
        {offsetof(struct sqlite_store, mark_flushed),
         "UPDATE j.meta SET value = ?1 WHERE key = 'flushed'"},
        {offsetof(struct sqlite_store, backlog), JOURNAL_TOP},
        {offsetof(struct sqlite_store, upsert_repo), UPSERT_REPO(ONE_ROW)},
        {offsetof(struct sqlite_store, upsert_day), UPSERT_DAY(ONE_ROW)},
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
    int64_t top = journal_top(s);
    if (top >= 0)
        s->appended = top;
    if (!(s->merger = merger_start(s, err, errlen)))
        goto fail;
    return &s->base;
fail:
    sqlite_close(&s->base);
    return NULL;
}

void store_sqlite_setup(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

struct store *store_sqlite_open(const char *path, char *err, size_t errlen)
{
    return open_store(path, OPEN_CREATE, err, errlen);
}

struct store *store_sqlite_open_existing(const char *path, char *err, size_t errlen)
{
    return open_store(path, OPEN_EXISTING, err, errlen);
}

struct store *store_sqlite_open_readonly(const char *path, char *err, size_t errlen)
{
    return open_store(path, OPEN_READ, err, errlen);
}

/*
 * A reader beside the writer (see store.h): read-only, ghit's file checked
 * by its marks only; quick_check reads the whole file, which the writer's
 * open has done already and which costs seconds on a large store.
 */
struct store *store_sqlite_open_reader(const char *path, char *err, size_t errlen)
{
    struct sqlite_store *s = new_store(path);
    if (open_to_read(s, err, errlen) == 0) {
        sqlite3_extended_result_codes(s->db, 1);
        sqlite3_busy_timeout(s->db, 1000);
        if (adopt(s, OPEN_READ, err, errlen) == 0 && attach_journal(s, true, err, errlen) == 0) {
            sqlite3_progress_handler(s->db, INTERRUPT_STEPS, interrupted, s);
            return &s->base;
        }
    }
    sqlite_close(&s->base);
    return NULL;
}
