/*
 * Unit tests of the SQLite store on real files: schema, upserts, refusal of
 * foreign and corrupt files, a commit that fails while another connection
 * holds the write lock, and a statement that fails inside the transaction.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "day.h"
#include "files.h"
#include "store.h"
#include "test.h"
#include "test_sql.h"

static char dir[] = "/tmp/ghit-test-store-XXXXXX";

/* A fresh path in the test directory. */
static const char *path_for(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
    return path;
}

struct rows {
    int n;
    char key[8][160];
    uint64_t total[8], day_hits[8];
    day_t first[8];
};

static void collect(void *arg, const struct store_row *r)
{
    struct rows *rows = arg;
    if (rows->n < 8) {
        snprintf(rows->key[rows->n], sizeof rows->key[0], "%s", r->key);
        rows->total[rows->n] = r->total;
        rows->day_hits[rows->n] = r->day_hits;
        rows->first[rows->n] = r->first_day;
        rows->n++;
    }
}

/* The row for key in rows, or -1. */
static int find(const struct rows *rows, const char *key)
{
    for (int i = 0; i < rows->n; i++)
        if (strcmp(rows->key[i], key) == 0)
            return i;
    return -1;
}

/* Waits until the merger has folded the whole journal into the tables (it runs by itself). */
static void merge_all(struct store *s)
{
    CHECK_INT(store_sqlite_drain(s, 10000), 0);
}

/* The journal file beside path. */
static const char *journal_of(const char *path)
{
    static char j[512];
    snprintf(j, sizeof j, "%s-flushes", path);
    return j;
}

static void apply_then_scan(void)
{
    char err[256];
    const char *path = path_for("a.db");
    struct store *s = store_sqlite_open(path, err, sizeof err);
    CHECK(s != NULL);
    if (!s)
        return;
    struct store_delta d1[] = {{"a/b", 100, 3}, {"c/d", 100, 1}, {"a/b", 101, 2}};
    CHECK_INT(s->ops->apply(s, d1, 3, 101, NULL, NULL, err, sizeof err), STORE_OK);
    struct store_delta d2[] = {{"a/b", 101, 5}};
    CHECK_INT(s->ops->apply(s, d2, 1, 101, NULL, NULL, err, sizeof err), STORE_OK);

    /* The same figures whether the merger has folded the journal yet or not. */
    for (int round = 0; round < 2; round++) {
        if (round == 1)
            merge_all(s);
        struct rows rows = {0};
        CHECK_INT(s->ops->scan(s, 101, collect, &rows, err, sizeof err), STORE_OK);
        CHECK_INT(rows.n, 2);
        int i = find(&rows, "a/b");
        CHECK(i >= 0);
        if (i >= 0) {
            CHECK_INT(rows.total[i], 10);
            CHECK_INT(rows.day_hits[i], 7);
            CHECK_INT(rows.first[i], 100);
        }
        i = find(&rows, "c/d");
        CHECK(i >= 0 && rows.total[i] == 1 && rows.day_hits[i] == 0);
    }
    store_close(s);
    CHECK_INT(query_int(journal_of(path), "SELECT count(*) FROM journal"), 0);

    /* What a person sees with the sqlite3 shell. */
    CHECK_INT(query_int(path, "SELECT total FROM repos WHERE name = 'a/b'"), 10);
    /* Day 100 is 1970-04-11, day 101 the day after. */
    CHECK_INT(query_int(path, "SELECT hits FROM daily WHERE repo = 'a/b' AND day = '1970-04-12'"),
              7);
    CHECK_INT(query_int(path, "SELECT count(*) FROM daily WHERE day = '1970-04-11'"), 2);
    CHECK_INT(query_int(path, "SELECT count(*) FROM daily WHERE day = '1970-04-12'"), 1);
    CHECK_INT(query_int(path, "SELECT first_day = '1970-04-11' FROM repos WHERE name = 'a/b'"), 1);
}

/*
 * Journal rows join the tables' rows in key order: repos only in the
 * journal before, between and after those of the tables, and a repo in
 * both whose journal holds an earlier day and today's hits.
 */
static void scan_joins_journal_and_tables(void)
{
    char err[256];
    const char *path = path_for("join.db");
    struct store *s = store_sqlite_open(path, err, sizeof err);
    CHECK(s != NULL);
    if (!s)
        return;
    struct store_delta d1[] = {{"b/b", 100, 2}, {"d/d", 100, 1}};
    CHECK_INT(s->ops->apply(s, d1, 2, 100, NULL, NULL, err, sizeof err), STORE_OK);
    merge_all(s);
    struct store_delta d2[] = {
        {"e/e", 101, 2}, {"b/b", 101, 4}, {"c/c", 99, 3}, {"a/a", 101, 1}, {"b/b", 99, 1}};
    CHECK_INT(s->ops->apply(s, d2, 5, 101, NULL, NULL, err, sizeof err), STORE_OK);
    static const struct {
        const char *key;
        uint64_t total, day_hits;
        day_t first;
    } want[] = {{"a/a", 1, 1, 101},
                {"b/b", 7, 4, 99},
                {"c/c", 3, 0, 99},
                {"d/d", 1, 0, 100},
                {"e/e", 2, 2, 101}};
    for (int round = 0; round < 2; round++) {
        if (round == 1)
            merge_all(s); /* the same figures once the journal is merged */
        struct rows rows = {0};
        CHECK_INT(s->ops->scan(s, 101, collect, &rows, err, sizeof err), STORE_OK);
        CHECK_INT(rows.n, 5);
        for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
            int i = find(&rows, want[w].key);
            CHECK(i >= 0);
            if (i >= 0) {
                CHECK_INT(rows.total[i], want[w].total);
                CHECK_INT(rows.day_hits[i], want[w].day_hits);
                CHECK_INT(rows.first[i], want[w].first);
            }
        }
    }
    store_close(s);
}

static void reopen_keeps_counts(void)
{
    char err[256];
    const char *path = path_for("b.db");
    struct store *s = store_sqlite_open(path, err, sizeof err);
    struct store_delta d[] = {{"x/y", 5, 42}};
    CHECK_INT(s->ops->apply(s, d, 1, 5, NULL, NULL, err, sizeof err), STORE_OK);
    store_close(s);
    s = store_sqlite_open(path, err, sizeof err);
    CHECK(s != NULL);
    struct rows rows = {0};
    s->ops->scan(s, 5, collect, &rows, err, sizeof err);
    CHECK_INT(rows.n, 1);
    CHECK_INT(rows.total[0], 42);
    store_close(s);
}

static void foreign_database_is_refused_untouched(void)
{
    char err[256];
    const char *path = path_for("foreign.db");
    sqlite3 *db;
    sqlite3_open(path, &db);
    sqlite3_exec(db, "CREATE TABLE accounts(id INTEGER); INSERT INTO accounts VALUES (7);", NULL,
                 NULL, NULL);
    sqlite3_close(db);
    struct store *s = store_sqlite_open(path, err, sizeof err);
    CHECK(s == NULL);
    CHECK(strstr(err, "not ghit's") != NULL);
    CHECK_INT(query_int(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'repos'"), 0);
    CHECK_INT(query_int(path, "SELECT id FROM accounts"), 7);
}

static void not_a_database_is_refused(void)
{
    char err[256];
    const char *path = path_for("text.db");
    FILE *f = fopen(path, "w");
    fputs("this is a text file, not a database, and long enough to have a header.\n", f);
    fclose(f);
    CHECK(store_sqlite_open(path, err, sizeof err) == NULL);
    CHECK(strstr(err, "not a SQLite database or it is corrupt") != NULL);
    f = fopen(path, "r");
    char line[128] = "";
    CHECK(fgets(line, sizeof line, f) != NULL);
    fclose(f);
    CHECK(strncmp(line, "this is a text file", 19) == 0); /* never overwritten */
}

static void corrupt_database_is_refused(void)
{
    char err[256];
    const char *path = path_for("corrupt.db");
    struct store *s = store_sqlite_open(path, err, sizeof err);
    struct store_delta d[200];
    char keys[200][16];
    for (int i = 0; i < 200; i++) {
        snprintf(keys[i], sizeof keys[i], "o/r%d", i);
        d[i] = (struct store_delta){keys[i], 9, 1};
    }
    s->ops->apply(s, d, 200, 9, NULL, NULL, err, sizeof err);
    store_close(s);
    /* Scribble over every page but the file header: the b-trees are garbage now. */
    FILE *f = fopen(path, "r+b");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    CHECK(size > 4096);
    fseek(f, 100, SEEK_SET);
    for (long i = 100; i < size; i++)
        fputc(i % 7 ? 0xA5 : 0x13, f);
    fclose(f);
    CHECK(store_sqlite_open(path, err, sizeof err) == NULL);
    CHECK(strstr(err, "corrupt") != NULL || strstr(err, "malformed") != NULL);
}

static void directory_is_refused(void)
{
    char err[256];
    CHECK(store_sqlite_open(dir, err, sizeof err) == NULL);
    CHECK(strstr(err, "not a regular file") != NULL);
}

/*
 * A writer holding the tables (a long merge, the sqlite3 shell) never holds
 * up a flush: flushes go to the journal file. While another connection holds
 * the journal's write lock, a flush fails as retryable and changes nothing.
 */
static void failing_commit_is_retryable_and_changes_nothing(void)
{
    char err[256] = "";
    const char *path = path_for("locked.db");
    struct store *s = store_sqlite_open(path, err, sizeof err);
    struct store_delta d[] = {{"a/b", 1, 5}};
    CHECK_INT(s->ops->apply(s, d, 1, 1, NULL, NULL, err, sizeof err), STORE_OK);
    merge_all(s);

    sqlite3 *tables;
    sqlite3_open(path, &tables);
    CHECK_INT(sqlite3_exec(tables, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    struct store_delta d0[] = {{"a/b", 1, 1}};
    CHECK_INT(s->ops->apply(s, d0, 1, 1, NULL, NULL, err, sizeof err), STORE_OK);
    sqlite3_exec(tables, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(tables);
    merge_all(s);

    sqlite3 *other;
    sqlite3_open(journal_of(path), &other);
    CHECK_INT(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    struct store_delta d2[] = {{"a/b", 1, 3}, {"new/one", 1, 1}};
    CHECK_INT(s->ops->apply(s, d2, 2, 1, NULL, NULL, err, sizeof err), STORE_RETRY);
    CHECK(strstr(err, "locked") != NULL);
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);

    CHECK_INT(query_int(path, "SELECT total FROM repos WHERE name = 'a/b'"), 6);
    CHECK_INT(query_int(path, "SELECT count(*) FROM repos"), 1);
    /* The same deltas succeed once the lock is gone. */
    CHECK_INT(s->ops->apply(s, d2, 2, 1, NULL, NULL, err, sizeof err), STORE_OK);
    merge_all(s);
    CHECK_INT(query_int(path, "SELECT total FROM repos WHERE name = 'a/b'"), 9);
    store_close(s);
}

/* Installs a trigger that raises on rows for repo 'bad/one' inserted into table. */
static sqlite3 *fault_on(const char *path, const char *table, const char *column)
{
    sqlite3 *other;
    CHECK_INT(sqlite3_open(path, &other), SQLITE_OK);
    sqlite3_busy_timeout(other, 10000); /* the merger may be writing */
    char sql[256];
    snprintf(sql, sizeof sql,
             "CREATE TRIGGER fail_one BEFORE INSERT ON %s WHEN NEW.%s = 'bad/one' "
             "BEGIN SELECT RAISE(ABORT, 'injected fault'); END;",
             table, column);
    CHECK_INT(sqlite3_exec(other, sql, NULL, NULL, NULL), SQLITE_OK);
    return other;
}

/* The total of key as scan reports it on day, or -1. */
static int64_t scanned_total(struct store *s, const char *key, day_t day)
{
    char err[256];
    struct rows rows = {0};
    if (s->ops->scan(s, day, collect, &rows, err, sizeof err) != STORE_OK)
        return -1;
    int i = find(&rows, key);
    return i < 0 ? -1 : (int64_t)rows.total[i];
}

/*
 * A statement fails in the middle of a flush, after good deltas were written
 * in its transaction (a trigger raises on one repo's journal row): nothing
 * of the batch is stored, the error says why, and the store stays usable.
 */
static void failure_inside_flush_stores_nothing(void)
{
    char err[256] = "";
    const char *path = path_for("fault.db");
    struct store *s = store_sqlite_open(path, err, sizeof err);
    CHECK(s != NULL);
    if (!s)
        return;
    struct store_delta d0[] = {{"good/a", 7, 10}};
    CHECK_INT(s->ops->apply(s, d0, 1, 7, NULL, NULL, err, sizeof err), STORE_OK);
    sqlite3 *other = fault_on(journal_of(path), "journal", "repo");
    struct store_delta d[] = {
        {"good/a", 7, 2}, {"good/b", 7, 3}, {"bad/one", 7, 1}, {"good/a", 8, 4}};
    err[0] = '\0';
    CHECK(s->ops->apply(s, d, 4, 8, NULL, NULL, err, sizeof err) != STORE_OK);
    CHECK(strstr(err, "injected fault") != NULL);
    merge_all(s);
    CHECK_INT(query_int(path, "SELECT total FROM repos WHERE name = 'good/a'"), 10);
    CHECK_INT(scanned_total(s, "good/a", 8), 10);
    CHECK_INT(scanned_total(s, "good/b", 8), -1);

    /* The fault gone, the same batch goes through whole: no transaction was left open. */
    CHECK_INT(sqlite3_exec(other, "DROP TRIGGER fail_one", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    CHECK_INT(s->ops->apply(s, d, 4, 8, NULL, NULL, err, sizeof err), STORE_OK);
    merge_all(s);
    CHECK_INT(query_int(path, "SELECT total FROM repos WHERE name = 'good/a'"), 16);
    CHECK_INT(query_int(path, "SELECT total FROM repos WHERE name = 'good/b'"), 3);
    CHECK_INT(query_int(path, "SELECT total FROM repos WHERE name = 'bad/one'"), 1);
    CHECK_INT(query_int(path, "SELECT count(*) FROM repos"), 3);
    CHECK_INT(query_int(path, "SELECT count(*) FROM daily"), 4);
    struct rows rows = {0};
    CHECK_INT(s->ops->scan(s, 8, collect, &rows, err, sizeof err), STORE_OK);
    CHECK_INT(rows.n, 3);
    int i = find(&rows, "good/a");
    CHECK(i >= 0 && rows.total[i] == 16 && rows.day_hits[i] == 4 && rows.first[i] == 7);
    store_close(s);
}

/*
 * A small backlog is folded by the merger's own tick: no flush wakes it
 * for less than a batch, and nothing here asks for a drain.
 */
static void small_backlog_is_folded_without_a_wake(void)
{
    char err[256] = "";
    const char *path = path_for("tick.db");
    struct store *s = store_sqlite_open(path, err, sizeof err);
    CHECK(s != NULL);
    if (!s)
        return;
    struct store_delta d[] = {{"tick/a", 9, 2}, {"tick/b", 9, 1}};
    CHECK_INT(s->ops->apply(s, d, 2, 9, NULL, NULL, err, sizeof err), STORE_OK);
    struct store_stats st = {0};
    /* MERGE_SMALL_WAIT_MS (2 s) after the merger started, at its next tick; 10 s at most. */
    for (int i = 0; i < 200 && st.merged_rows < 2; i++) {
        struct timespec pause = {0, 50 * 1000 * 1000};
        nanosleep(&pause, NULL);
        s->ops->stats(s, &st);
    }
    CHECK_INT(st.merged_rows, 2);
    CHECK_INT(st.backlog_rows, 0);
    CHECK_INT(query_int(path, "SELECT sum(total) FROM repos WHERE name LIKE 'tick/%'"), 3);
    store_close(s);
}

/*
 * A merge that fails half-way (a trigger raises on one repo's daily row)
 * moves nothing: the rows stay in the journal, the totals read the same, and
 * once the fault is gone the merger moves every row exactly once.
 */
static void failed_merge_moves_nothing_and_the_next_moves_all_once(void)
{
    char err[256] = "";
    const char *path = path_for("merge.db");
    struct store *s = store_sqlite_open(path, err, sizeof err);
    sqlite3 *other = fault_on(path, "daily", "repo");
    struct store_delta d[] = {{"good/a", 7, 2}, {"bad/one", 7, 1}, {"good/a", 8, 4}};
    CHECK_INT(s->ops->apply(s, d, 3, 8, NULL, NULL, err, sizeof err), STORE_OK);
    CHECK_INT(store_sqlite_drain(s, 1500), -1); /* the merger keeps failing */
    CHECK_INT(query_int(journal_of(path), "SELECT count(*) FROM journal"), 3);
    CHECK_INT(query_int(path, "SELECT count(*) FROM repos"), 0);
    CHECK_INT(scanned_total(s, "good/a", 8), 6);
    CHECK_INT(sqlite3_exec(other, "DROP TRIGGER fail_one", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    merge_all(s);
    CHECK_INT(query_int(path, "SELECT total FROM repos WHERE name = 'good/a'"), 6);
    CHECK_INT(query_int(path, "SELECT sum(hits) FROM daily"), 7);
    CHECK_INT(query_int(path, "SELECT value FROM meta WHERE key = 'merged'"), 3);
    CHECK_INT(scanned_total(s, "good/a", 8), 6);
    struct store_stats st;
    s->ops->stats(s, &st);
    CHECK_INT(st.merged_rows, 3);
    CHECK_INT(st.backlog_rows, 0);
    store_close(s);
}

/*
 * A COMMIT that reports an error after the flush reached the file (SQLite
 * allows it) must not lead to writing the flush twice: apply reads its
 * sequence number back and reports success. A COMMIT that really failed
 * reports failure, and the flush given back is then written once.
 */
static void ambiguous_commit_is_counted_once(void)
{
    char err[256] = "";
    const char *path = path_for("ambiguous.db");
    struct store *s = store_sqlite_open(path, err, sizeof err);
    struct store_delta d[] = {{"am/b", 7, 5}};
    store_sqlite_fault(s, STORE_SQLITE_FAULT_COMMIT_REPLY_LOST);
    CHECK_INT(s->ops->apply(s, d, 1, 7, NULL, NULL, err, sizeof err), STORE_OK);
    CHECK_INT(scanned_total(s, "am/b", 7), 5);
    store_sqlite_fault(s, STORE_SQLITE_FAULT_COMMIT_FAILS);
    CHECK_INT(s->ops->apply(s, d, 1, 7, NULL, NULL, err, sizeof err), STORE_RETRY);
    /* The COMMIT's error, not what SQLite says after the rollback and the read back. */
    CHECK(strstr(err, "cannot write the counts: disk I/O error") != NULL);
    CHECK(strstr(err, "not an error") == NULL);
    CHECK_INT(scanned_total(s, "am/b", 7), 5);
    CHECK_INT(s->ops->apply(s, d, 1, 7, NULL, NULL, err, sizeof err), STORE_OK); /* given back */
    CHECK_INT(scanned_total(s, "am/b", 7), 10);
    struct store_stats st;
    s->ops->stats(s, &st);
    CHECK_INT(st.ambiguous_commits, 1);
    CHECK_INT(st.journal_rows, 2);
    CHECK_INT(query_int(journal_of(path), "SELECT value FROM meta WHERE key = 'flushed'"), 2);
    store_close(s);
    /* A reopened store goes on from the number in the file. */
    s = store_sqlite_open(path, err, sizeof err);
    CHECK_INT(s->ops->apply(s, d, 1, 7, NULL, NULL, err, sizeof err), STORE_OK);
    CHECK_INT(query_int(journal_of(path), "SELECT value FROM meta WHERE key = 'flushed'"), 3);
    CHECK_INT(scanned_total(s, "am/b", 7), 15);
    store_close(s);
}

/*
 * A COMMIT that reports an error, and then its flush number cannot be read
 * back: the flush may or may not be in the file. Its hits are given back
 * and come again in the next write, which reads the number first: while it
 * cannot, nothing is written; once it can, the hits of a flush that is in
 * are not written again, and those of one that is not are.
 */
static void a_flush_in_doubt_is_settled_by_the_next_write(void)
{
    char err[256] = "";
    const char *path = path_for("doubt.db");
    struct store *s = store_sqlite_open(path, err, sizeof err);
    struct store_delta d[] = {{"dt/a", 7, 5}, {"dt/b", 7, 2}};
    /* In the file after all. The next write: the hits given back, 3 more of dt/a, and dt/c. */
    struct store_delta again[] = {{"dt/a", 7, 8}, {"dt/b", 7, 2}, {"dt/c", 7, 1}};
    store_sqlite_fault(s, STORE_SQLITE_FAULT_COMMIT_REPLY_LOST_UNREAD);
    CHECK_INT(s->ops->apply(s, d, 2, 7, NULL, NULL, err, sizeof err), STORE_RETRY);
    store_sqlite_fault(s, STORE_SQLITE_FAULT_READ_BACK_FAILS);
    CHECK_INT(s->ops->apply(s, again, 3, 7, NULL, NULL, err, sizeof err), STORE_RETRY);
    CHECK(strstr(err, "cannot tell whether the last flush is in the file") != NULL);
    CHECK_INT(scanned_total(s, "dt/c", 7), -1); /* nothing written meanwhile: no such repo */
    /* Settled (it is in), but this write fails: its hits all go back, and come again. */
    store_sqlite_fault(s, STORE_SQLITE_FAULT_COMMIT_FAILS);
    CHECK_INT(s->ops->apply(s, again, 3, 7, NULL, NULL, err, sizeof err), STORE_RETRY);
    CHECK_INT(scanned_total(s, "dt/a", 7), 5);
    CHECK_INT(s->ops->apply(s, again, 3, 7, NULL, NULL, err, sizeof err), STORE_OK);
    CHECK_INT(scanned_total(s, "dt/a", 7), 8);
    CHECK_INT(scanned_total(s, "dt/b", 7), 2);
    CHECK_INT(scanned_total(s, "dt/c", 7), 1);
    struct store_stats st;
    s->ops->stats(s, &st);
    CHECK_INT(st.ambiguous_commits, 1);
    CHECK_INT(query_int(journal_of(path), "SELECT value FROM meta WHERE key = 'flushed'"), 2);
    /* Once a write succeeded, nothing more is taken out. */
    CHECK_INT(s->ops->apply(s, d, 1, 7, NULL, NULL, err, sizeof err), STORE_OK);
    CHECK_INT(scanned_total(s, "dt/a", 7), 13);
    /* Not in the file: the next write writes the hits given back. */
    store_sqlite_fault(s, STORE_SQLITE_FAULT_COMMIT_FAILS_UNREAD);
    CHECK_INT(s->ops->apply(s, d, 2, 7, NULL, NULL, err, sizeof err), STORE_RETRY);
    CHECK_INT(s->ops->apply(s, d, 2, 7, NULL, NULL, err, sizeof err), STORE_OK);
    CHECK_INT(scanned_total(s, "dt/a", 7), 18);
    CHECK_INT(scanned_total(s, "dt/b", 7), 4);
    s->ops->stats(s, &st);
    CHECK_INT(st.ambiguous_commits, 1);
    CHECK_INT(query_int(journal_of(path), "SELECT value FROM meta WHERE key = 'flushed'"), 4);
    store_close(s);
}

/* Closes s with stderr sent to a file; what the close logged (up to 4 KB). */
static const char *close_logging(struct store *s)
{
    static char text[4096];
    const char *path = path_for("close.log");
    fflush(stderr);
    int saved = dup(2), fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    dup2(fd, 2);
    close(fd);
    store_close(s);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f)
        fclose(f);
    text[n] = '\0';
    return text;
}

/*
 * A stop whose last writes failed: the flusher reports every hit it holds
 * as not written. A close then says which of them are in the file all the
 * same (a flush whose COMMIT reported an error, read back as in), and which
 * may or may not be (its number cannot be read); a clean close says nothing.
 */
static void a_close_says_which_hits_not_written_are_in_the_file(void)
{
    char err[256] = "";
    struct store_delta d[] = {{"cl/a", 7, 5}, {"cl/b", 7, 2}}, more[] = {{"cl/a", 7, 9}};
    struct store *s = store_sqlite_open(path_for("close-in.db"), err, sizeof err);
    store_sqlite_fault(s, STORE_SQLITE_FAULT_COMMIT_REPLY_LOST_UNREAD);
    CHECK_INT(s->ops->apply(s, d, 2, 7, NULL, NULL, err, sizeof err), STORE_RETRY);
    store_sqlite_fault(s, STORE_SQLITE_FAULT_COMMIT_FAILS); /* settled as in, then fails */
    CHECK_INT(s->ops->apply(s, more, 1, 7, NULL, NULL, err, sizeof err), STORE_RETRY);
    CHECK(strstr(close_logging(s), "of the hits not written, 7 are in the file after all") != NULL);

    s = store_sqlite_open(path_for("close-in-later.db"), err, sizeof err);
    store_sqlite_fault(s, STORE_SQLITE_FAULT_COMMIT_REPLY_LOST_UNREAD); /* in doubt to the end */
    CHECK_INT(s->ops->apply(s, d, 2, 7, NULL, NULL, err, sizeof err), STORE_RETRY);
    CHECK(strstr(close_logging(s), "of the hits not written, 7 are in the file after all") != NULL);

    s = store_sqlite_open(path_for("close-maybe.db"), err, sizeof err);
    store_sqlite_fault(s, STORE_SQLITE_FAULT_COMMIT_REPLY_LOST_UNREAD);
    CHECK_INT(s->ops->apply(s, d, 2, 7, NULL, NULL, err, sizeof err), STORE_RETRY);
    store_sqlite_fault(s, STORE_SQLITE_FAULT_READ_BACK_FAILS);
    const char *log = close_logging(s);
    CHECK(strstr(log, "of the hits not written, 7 were in a flush whose COMMIT") != NULL);
    CHECK(strstr(log, "in the file after all") == NULL);

    s = store_sqlite_open(path_for("close-out.db"), err, sizeof err);
    store_sqlite_fault(s, STORE_SQLITE_FAULT_COMMIT_FAILS_UNREAD); /* not in: known at close */
    CHECK_INT(s->ops->apply(s, d, 2, 7, NULL, NULL, err, sizeof err), STORE_RETRY);
    CHECK(strstr(close_logging(s), "of the hits not written") == NULL);

    s = store_sqlite_open(path_for("close-clean.db"), err, sizeof err);
    CHECK_INT(s->ops->apply(s, d, 2, 7, NULL, NULL, err, sizeof err), STORE_OK);
    CHECK(strstr(close_logging(s), "of the hits not written") == NULL);
}

/*
 * A set after a flush in doubt that is in the file: the set's drain folds
 * that flush's rows before it replaces the repo (else they would be folded
 * in after it), and the hits after the set are not taken for credited ones
 * (the set dropped those from the pending hits).
 */
static void a_set_after_a_flush_in_doubt_counts_what_came_after_it(void)
{
    char err[256] = "";
    struct store *s = store_sqlite_open(path_for("doubt-set.db"), err, sizeof err);
    struct store_delta first[] = {{"ds/r", 7, 1}}, d[] = {{"ds/r", 7, 5}},
                       after[] = {{"ds/r", 7, 3}};
    CHECK_INT(s->ops->apply(s, first, 1, 7, NULL, NULL, err, sizeof err), STORE_OK);
    CHECK_INT(store_sqlite_drain(s, 10000), 0);
    store_sqlite_fault(s, STORE_SQLITE_FAULT_COMMIT_REPLY_LOST_UNREAD);
    CHECK_INT(s->ops->apply(s, d, 1, 7, NULL, NULL, err, sizeof err), STORE_RETRY);
    struct store_day day = {7, 100};
    struct store_put set = {
        .mode = STORE_PUT_SET,
        .repo = {.key = "ds/r", .total = 100, .first_day = 7, .days = &day, .ndays = 1},
    };
    CHECK_INT(s->ops->write(s, &set, 1, after, 1, err, sizeof err), STORE_OK);
    CHECK_INT(store_sqlite_drain(s, 10000), 0);
    CHECK_INT(scanned_total(s, "ds/r", 7), 103);
    store_close(s);
}

/* The bytes of path's WAL; -1 if it has none. */
static long wal_bytes(const char *path)
{
    char wal[512];
    snprintf(wal, sizeof wal, "%s-wal", path);
    struct stat st;
    if (stat(wal, &st) != 0 || st.st_size < 32)
        return -1;
    return (long)st.st_size;
}

/* Whether the file at path holds exactly the bytes of was. */
static bool file_is(const char *path, const struct buf *was)
{
    struct buf now;
    buf_init(&now);
    bool same = read_file(path, &now) == 0 && now.len == was->len &&
                memcmp(now.data, was->data, was->len) == 0;
    buf_fini(&now);
    return same;
}

/*
 * Durable mode lowers the flushes' connection's checkpoint bar for the
 * journal only (checkpoint_past): a set it writes to the tables must not
 * copy the merger's pages into the database file. Here the tables' WAL
 * holds about 10 MB, written by another connection that never
 * checkpoints: past the journal's bar of 4 MB, under the tables' 40 MB.
 * A durable set leaves the database file as it was; a checkpoint asked by
 * that connection then changes it, so the test would see one.
 */
static void a_durable_set_leaves_the_tables_wal_to_the_merger(void)
{
    char err[256] = "";
    const char *path = path_for("durable-wal.db");
    struct store *s = store_sqlite_open(path, err, sizeof err);
    CHECK(s != NULL && s->ops->set_durable != NULL);
    if (!s || !s->ops->set_durable)
        return;
    s->ops->set_durable(s);
    sqlite3 *other;
    CHECK_INT(sqlite3_open(path, &other), SQLITE_OK);
    sqlite3_busy_timeout(other, 10000);
    CHECK_INT(sqlite3_exec(other,
                           "PRAGMA wal_autocheckpoint=0;"
                           "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n "
                           "WHERE i < 99999) INSERT INTO daily(repo, day, hits) "
                           "SELECT printf('w%06d/r', i), '2026-01-01', 1 FROM n",
                           NULL, NULL, NULL),
              SQLITE_OK);
    long bytes = wal_bytes(path);
    CHECK(bytes > 4L << 20 && bytes < 40L << 20);

    struct buf before;
    buf_init(&before);
    CHECK_INT(read_file(path, &before), 0);
    struct store_day day = {7, 4};
    struct store_put set = {
        .mode = STORE_PUT_SET,
        .repo = {.key = "dw/r", .total = 4, .first_day = 7, .days = &day, .ndays = 1},
    };
    CHECK_INT(s->ops->write(s, &set, 1, NULL, 0, err, sizeof err), STORE_OK);
    CHECK(file_is(path, &before));
    CHECK(wal_bytes(path) > bytes);
    CHECK_INT(query_int(path, "SELECT total FROM repos WHERE name = 'dw/r'"), 4);

    CHECK_INT(sqlite3_exec(other, "PRAGMA wal_checkpoint(PASSIVE)", NULL, NULL, NULL), SQLITE_OK);
    CHECK(!file_is(path, &before));
    buf_fini(&before);
    sqlite3_close(other);
    store_close(s);
}

/* A file of schema version 1 (before the journal) is upgraded in place, its counts kept. */
static void version_1_file_is_upgraded(void)
{
    char err[256] = "";
    const char *path = path_for("v1.db");
    sqlite3 *db;
    sqlite3_open(path, &db);
    CHECK_INT(sqlite3_exec(db,
                           "CREATE TABLE repos (name TEXT PRIMARY KEY NOT NULL, total INTEGER NOT "
                           "NULL DEFAULT 0 CHECK (total >= 0), first_day TEXT NOT NULL) WITHOUT "
                           "ROWID; CREATE TABLE daily (repo TEXT NOT NULL, day TEXT NOT NULL, hits "
                           "INTEGER NOT NULL DEFAULT 0 CHECK (hits >= 0), PRIMARY KEY (repo, day)) "
                           "WITHOUT ROWID; CREATE INDEX daily_by_day ON daily(day);"
                           "INSERT INTO repos VALUES ('old/one', 41, '1970-01-08');"
                           "INSERT INTO daily VALUES ('old/one', '1970-01-08', 41);"
                           "PRAGMA application_id = 1734895988; PRAGMA user_version = 1;",
                           NULL, NULL, NULL),
              SQLITE_OK);
    sqlite3_close(db);
    struct store *r = store_sqlite_open_readonly(path, err, sizeof err); /* read as it is */
    CHECK(r != NULL);
    if (!r)
        fprintf(stderr, "  %s\n", err);
    if (r) {
        CHECK_INT(scanned_total(r, "old/one", 7), 41);
        store_close(r);
    }
    CHECK_INT(query_int(path, "PRAGMA user_version"), 1);
    struct store *s = store_sqlite_open(path, err, sizeof err);
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK_INT(query_int(path, "PRAGMA user_version"), 2);
    struct store_delta d[] = {{"old/one", 7, 1}};
    CHECK_INT(s->ops->apply(s, d, 1, 7, NULL, NULL, err, sizeof err), STORE_OK);
    CHECK_INT(scanned_total(s, "old/one", 7), 42);
    store_close(s);
}

/* A new store at path, its journal too; NULL (a failed check) if it cannot be made. */
static struct store *open_new(const char *path)
{
    char err[256] = "";
    unlink(journal_of(path));
    struct store *s = store_sqlite_open(path, err, sizeof err);
    CHECK(s != NULL);
    return s;
}

/*
 * A database ghit makes has 16 KB pages (PAGE_SIZE in store_sqlite.c: a
 * merge rewrites most of the tables' leaves, and larger pages cost it
 * less); its journal keeps SQLite's 4 KB, the bytes a durable commit syncs.
 * A database made with other pages keeps them and works as before.
 */
static void a_new_database_gets_16_kb_pages_and_others_keep_theirs(void)
{
    char err[256] = "";
    const char *path = path_for("pages.db");
    struct store *s = open_new(path);
    if (!s)
        return;
    store_close(s);
    CHECK_INT(query_int(path, "PRAGMA page_size"), 16384);
    CHECK_INT(query_int(journal_of(path), "PRAGMA page_size"), 4096);

    /* An empty file that another tool made, its 4 KB pages fixed by WAL mode. */
    path = path_for("pages4k.db");
    sqlite3 *db;
    sqlite3_open(path, &db);
    CHECK_INT(sqlite3_exec(db, "PRAGMA page_size=4096; PRAGMA journal_mode=WAL;", NULL, NULL, NULL),
              SQLITE_OK);
    sqlite3_close(db);
    s = open_new(path);
    if (!s)
        return;
    struct store_delta d[] = {{"small/pages", 7, 3}};
    CHECK_INT(s->ops->apply(s, d, 1, 7, NULL, NULL, err, sizeof err), STORE_OK);
    CHECK_INT(scanned_total(s, "small/pages", 7), 3);
    store_close(s);
    CHECK_INT(query_int(path, "PRAGMA page_size"), 4096);
    CHECK_INT(query_int(path, "SELECT total FROM repos WHERE name = 'small/pages'"), 3);
}

/*
 * A journal row whose name holds a NUL byte is not one ghit wrote: a start
 * refuses the journal and says so, rather than fold a name that C strings
 * would cut short.
 */
static void a_journal_name_with_a_nul_is_refused(void)
{
    char err[256];
    const char *path = path_for("nul.db");
    struct store *s = open_new(path);
    if (!s)
        return;
    store_close(s);
    sqlite3 *j = NULL;
    CHECK_INT(sqlite3_open(journal_of(path), &j), SQLITE_OK);
    CHECK_INT(sqlite3_exec(j,
                           "INSERT INTO journal(flush, repo, day, hits) "
                           "VALUES (1, CAST(X'612F6200632F64' AS TEXT), '1970-04-12', 1)",
                           NULL, NULL, NULL),
              SQLITE_OK);
    sqlite3_close(j);
    s = store_sqlite_open(path, err, sizeof err);
    if (s) {
        struct rows rows = {0};
        CHECK_INT(s->ops->scan(s, 101, collect, &rows, err, sizeof err), STORE_FAILED);
        store_close(s);
    }
    CHECK(strstr(err, "holds a row that ghit did not write") != NULL);
}

/*
 * Rows for the merge tests: names that share their first 16 bytes or are
 * prefixes of others, out of key order, on two days (100: 1970-04-11, 101).
 */
static const struct store_delta merge_rows[] = {
    {"owner-0123456789/y", 101, 1},
    {"a/bb", 101, 2},
    {"owner-0123456789/x-longer", 101, 3},
    {"a/b", 101, 4},
    {"a/b", 100, 7},
    {"owner-0123456789/x", 101, 5},
};
enum { MERGE_ROWS = sizeof merge_rows / sizeof merge_rows[0] };

/* The tables of path hold times each of merge_rows, and the journal is empty. */
static void check_merged(const char *path, int64_t times)
{
    char sql[200];
    int64_t want_total = 0;
    for (size_t i = 0; i < MERGE_ROWS; i++) {
        const struct store_delta *d = &merge_rows[i];
        if (d->day == 100) {
            snprintf(sql, sizeof sql,
                     "SELECT first_day = '1970-04-11' FROM repos WHERE name = '%s'", d->key);
            CHECK_INT(query_int(path, sql), 1);
        }
        snprintf(sql, sizeof sql, "SELECT hits FROM daily WHERE repo = '%s' AND day = '%s'", d->key,
                 d->day == 100 ? "1970-04-11" : "1970-04-12");
        CHECK_INT(query_int(path, sql), times * (int64_t)d->hits);
        want_total += times * (int64_t)d->hits;
    }
    CHECK_INT(query_int(path, "SELECT sum(total) FROM repos"), want_total);
    CHECK_INT(query_int(path, "SELECT count(*) FROM repos"), MERGE_ROWS - 1);
    CHECK_INT(query_int(path, "SELECT count(*) FROM daily"), MERGE_ROWS);
    CHECK_INT(query_int(path, "SELECT first_day = '1970-04-12' FROM repos WHERE name = 'a/bb'"), 1);
    CHECK_INT(query_int(journal_of(path), "SELECT count(*) FROM journal"), 0);
}

static void sum_totals(void *arg, const struct store_row *r)
{
    *(uint64_t *)arg += r->total;
}

/*
 * Flushes merge as sorted runs (runs.h): a few flushes, each written in key
 * order, and more flushes than a merge takes as runs (RUNS_MAX, 256), which
 * it folds instead. The tables come out the same.
 */
static void flushes_merge_as_runs_or_folded(void)
{
    static const int64_t flushes[] = {3, 260};
    for (size_t k = 0; k < sizeof flushes / sizeof flushes[0]; k++) {
        char err[256] = "";
        const char *path = path_for("runs.db");
        struct store *s = open_new(path);
        if (!s)
            return;
        for (int64_t i = 0; i < flushes[k]; i++)
            CHECK_INT(s->ops->apply(s, merge_rows, MERGE_ROWS, 101, NULL, NULL, err, sizeof err),
                      STORE_OK);
        /* A scan reads the journal the same way: as runs, or folded past RUNS_MAX. */
        uint64_t sum = 0, want = 0;
        CHECK_INT(s->ops->scan(s, 101, sum_totals, &sum, err, sizeof err), STORE_OK);
        for (size_t i = 0; i < MERGE_ROWS; i++)
            want += (uint64_t)flushes[k] * merge_rows[i].hits;
        CHECK_INT(sum, want);
        merge_all(s);
        store_close(s);
        check_merged(path, flushes[k]);
    }
}

/*
 * A journal whose flushes are not in key order (a ghit before runs.h wrote
 * them as they came) is merged all the same: its runs' sums come out of
 * order, some twice, and the tables' upserts add them up.
 */
static void an_unsorted_journal_merges_all_the_same(void)
{
    char err[256] = "";
    const char *path = path_for("unsorted.db");
    struct store *s = open_new(path);
    if (!s)
        return;
    store_close(s);
    sqlite3 *j = NULL;
    CHECK_INT(sqlite3_open(journal_of(path), &j), SQLITE_OK);
    for (int flush = 1; flush <= 2; flush++)
        for (size_t i = 0; i < MERGE_ROWS; i++) {
            char sql[200];
            snprintf(sql, sizeof sql,
                     "INSERT INTO journal(flush, repo, day, hits) VALUES (%d, '%s', '%s', %llu)",
                     flush, merge_rows[i].key,
                     merge_rows[i].day == 100 ? "1970-04-11" : "1970-04-12",
                     (unsigned long long)merge_rows[i].hits);
            CHECK_INT(sqlite3_exec(j, sql, NULL, NULL, NULL), SQLITE_OK);
        }
    sqlite3_close(j);
    s = store_sqlite_open(path, err, sizeof err);
    CHECK(s != NULL);
    if (!s)
        return;
    merge_all(s);
    store_close(s);
    check_merged(path, 2);
}

/* Two new stores side by side, for a merger's timing; false (both closed) if either fails. */
static bool open_pair(const char *x, const char *y, struct store **a, struct store **b)
{
    *a = open_new(path_for(x));
    *b = open_new(path_for(y));
    if (*a && *b)
        return true;
    store_close(*a);
    store_close(*b);
    return false;
}

/*
 * A backlog too large for the small wait (over 20,000 rows) waits 12 s for
 * its batch, unless its oldest row is of a day that has ended: then it is
 * merged as a small one is, so that past days' statistics, which come from
 * the tables, are whole soon after midnight. Two stores side by side: the
 * past day's rows are merged while today's still wait.
 */
static void a_past_days_backlog_is_merged_soon(void)
{
    enum { ROWS = 25000 };
    static char names[ROWS][24];
    static struct store_delta past[ROWS], today[ROWS];
    day_t now = day_from_time(time(NULL));
    for (int i = 0; i < ROWS; i++) {
        snprintf(names[i], sizeof names[i], "day/r%d", i);
        past[i] = (struct store_delta){names[i], now - 1, 1};
        today[i] = (struct store_delta){names[i], now, 1};
    }
    char err[256] = "";
    struct store *a, *b;
    if (!open_pair("past.db", "today.db", &a, &b))
        return;
    CHECK_INT(a->ops->apply(a, past, ROWS, now, NULL, NULL, err, sizeof err), STORE_OK);
    CHECK_INT(b->ops->apply(b, today, ROWS, now, NULL, NULL, err, sizeof err), STORE_OK);
    struct store_stats sa = {0}, sb = {0};
    /* MERGE_SMALL_WAIT_MS (2 s) after the merger started; 8 s at most, against 12. */
    for (int i = 0; i < 160 && sa.merged_rows < ROWS; i++) {
        struct timespec pause = {0, 50 * 1000 * 1000};
        nanosleep(&pause, NULL);
        a->ops->stats(a, &sa);
    }
    b->ops->stats(b, &sb);
    CHECK_INT(sa.merged_rows, ROWS);
    CHECK_INT(sb.merged_rows, 0);
    CHECK_INT(sb.backlog_rows, ROWS);
    store_close(a);
    store_close(b);
}

/*
 * After a batch merged as runs, a backlog that is more than a light load's
 * at 12 s (100,000 rows) waits for the large batch, by rows (2,000,000, or
 * 48 s), while a light one is merged at 12 s: a slow host's batches are
 * not cut by time. Two stores side by side, both past one batch of runs.
 */
static void a_large_backlog_waits_for_its_rows(void)
{
    enum { LIGHT = 30000, HEAVY = 120000 };
    static char names[HEAVY][24];
    static struct store_delta d[HEAVY];
    day_t now = day_from_time(time(NULL));
    for (int i = 0; i < HEAVY; i++) {
        snprintf(names[i], sizeof names[i], "wait/r%d", i);
        d[i] = (struct store_delta){names[i], now, 1};
    }
    char err[256] = "";
    struct store *a, *b;
    if (!open_pair("light.db", "heavy.db", &a, &b))
        return;
    CHECK_INT(a->ops->apply(a, merge_rows, MERGE_ROWS, 101, NULL, NULL, err, sizeof err), STORE_OK);
    CHECK_INT(b->ops->apply(b, merge_rows, MERGE_ROWS, 101, NULL, NULL, err, sizeof err), STORE_OK);
    merge_all(a);
    merge_all(b);
    CHECK_INT(a->ops->apply(a, d, LIGHT, now, NULL, NULL, err, sizeof err), STORE_OK);
    CHECK_INT(b->ops->apply(b, d, HEAVY, now, NULL, NULL, err, sizeof err), STORE_OK);
    struct store_stats sa = {0}, sb = {0};
    /* MERGE_WAIT_MS (12 s) after the last merge; 30 s at most, against 48. */
    for (int i = 0; i < 600 && sa.merged_rows < MERGE_ROWS + LIGHT; i++) {
        struct timespec pause = {0, 50 * 1000 * 1000};
        nanosleep(&pause, NULL);
        a->ops->stats(a, &sa);
    }
    /* b's 12 s began just after a's: past them both, and far from its 48. */
    struct timespec past = {5, 0};
    nanosleep(&past, NULL);
    b->ops->stats(b, &sb);
    CHECK_INT(sa.merged_rows, MERGE_ROWS + LIGHT);
    CHECK_INT(sb.merged_rows, MERGE_ROWS);
    CHECK_INT(sb.backlog_rows, HEAVY);
    store_close(a);
    store_close(b);
}

/*
 * Once a batch has merged as runs, the merger takes up to 2,400,000 rows a
 * batch; one of more than RUNS_MAX runs is folded, which holds its pairs in
 * memory, and is cut to 1,200,000 rows. 1,300,000 rows in 260 flushes after
 * a batch of runs: a fold of 1,200,000, then the rest as runs, every hit once.
 */
static void a_folded_batch_is_cut_to_its_rows(void)
{
    enum { KEYS = 5000, FLUSHES = 260 };
    static char names[KEYS][24];
    static struct store_delta d[KEYS];
    char err[256] = "";
    const char *path = path_for("cut.db");
    struct store *s = open_new(path);
    if (!s)
        return;
    CHECK_INT(s->ops->apply(s, merge_rows, MERGE_ROWS, 101, NULL, NULL, err, sizeof err), STORE_OK);
    merge_all(s);
    for (int i = 0; i < KEYS; i++) {
        snprintf(names[i], sizeof names[i], "cut/r%d", i);
        d[i] = (struct store_delta){names[i], 101, 1};
    }
    for (int i = 0; i < FLUSHES; i++)
        CHECK_INT(s->ops->apply(s, d, KEYS, 101, NULL, NULL, err, sizeof err), STORE_OK);
    merge_all(s);
    struct store_stats st;
    s->ops->stats(s, &st);
    CHECK_INT(st.merged_rows, MERGE_ROWS + KEYS * FLUSHES);
    CHECK_INT(st.merges, 3);
    store_close(s);
    CHECK_INT(query_int(path, "SELECT count(*) FROM repos WHERE name LIKE 'cut/%'"), KEYS);
    CHECK_INT(query_int(path, "SELECT count(*) FROM repos WHERE name LIKE 'cut/%' AND total = 260"),
              KEYS);
    CHECK_INT(query_int(path, "SELECT sum(hits) FROM daily WHERE repo LIKE 'cut/%'"),
              KEYS * FLUSHES);
    CHECK_INT(query_int(journal_of(path), "SELECT count(*) FROM journal"), 0);
}

struct merging_writer {
    struct store *w;
    _Atomic uint64_t applied; /* hits written to the journal so far */
    atomic_bool stop;
    int failures;
};

/* Writes one hit, then has the merger fold it into the tables, until told to stop. */
static void *merge_all_the_time(void *arg)
{
    struct merging_writer *mw = arg;
    char err[256];
    struct store_delta d = {"race/a", 101, 1};
    while (!atomic_load(&mw->stop)) {
        if (mw->w->ops->apply(mw->w, &d, 1, 101, NULL, NULL, err, sizeof err) != STORE_OK ||
            store_sqlite_drain(mw->w, 10000) != 0) {
            mw->failures++;
            break;
        }
        atomic_fetch_add(&mw->applied, 1);
    }
    return NULL;
}

/*
 * A scan reads the journal and the tables with two statements. Beside a
 * writer whose merger commits a merge every millisecond or so, a reader's
 * scans must each see every hit once: no fewer than the writer had written
 * before the scan, no more than after it (a merge committed between the two
 * statements, outside one read transaction, counted its rows twice).
 */
static void scans_beside_merges_count_each_hit_once(void)
{
    char err[256] = "";
    char path[256];
    snprintf(path, sizeof path, "%s", path_for("race.db"));
    struct merging_writer mw = {.w = open_new(path)};
    if (!mw.w)
        return;
    struct store *r = store_sqlite_open_reader(path, err, sizeof err);
    CHECK(r != NULL);
    pthread_t t;
    CHECK_INT(pthread_create(&t, NULL, merge_all_the_time, &mw), 0);
    int scans = 0, wrong = 0;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
        uint64_t before = atomic_load(&mw.applied), sum = 0;
        if (r && r->ops->scan(r, 101, sum_totals, &sum, err, sizeof err) == STORE_OK) {
            uint64_t after = atomic_load(&mw.applied);
            /* after + 1: a hit written and merged whose count the writer has yet to add */
            if (sum < before || sum > after + 1)
                wrong++;
            scans++;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (now.tv_sec - start.tv_sec < 2);
    atomic_store(&mw.stop, true);
    pthread_join(t, NULL);
    CHECK_INT(mw.failures, 0);
    CHECK(scans > 100);
    CHECK(atomic_load(&mw.applied) > 100);
    CHECK_INT(wrong, 0);
    if (r)
        store_close(r);
    store_close(mw.w);
}

struct paused_scan {
    struct store *r;
    uint64_t sum;
    enum store_result res;
};

static void *scan_once(void *arg)
{
    struct paused_scan *ps = arg;
    char err[256];
    ps->res = ps->r->ops->scan(ps->r, 101, sum_totals, &ps->sum, err, sizeof err);
    return NULL;
}

/*
 * A merge commits the tables, then deletes what it merged from the
 * journal. A reader that paused between its snapshots of the two files
 * while a merge and its delete went by must still count the batch once:
 * the journal's snapshot comes first, so the rows it misses are in the
 * tables it sees. (With the tables' first, it read 0 of 30 here.)
 */
static void a_merge_between_a_readers_snapshots_is_counted_once(void)
{
    char err[256] = "";
    char path[256];
    snprintf(path, sizeof path, "%s", path_for("paused.db"));
    struct store *w = open_new(path);
    if (!w)
        return;
    struct store_delta d = {"pause/a", 101, 30};
    CHECK_INT(w->ops->apply(w, &d, 1, 101, NULL, NULL, err, sizeof err), STORE_OK);
    struct store *r = store_sqlite_open_reader(path, err, sizeof err);
    CHECK(r != NULL);
    if (!r) {
        store_close(w);
        return;
    }
    struct paused_scan ps = {.r = r};
    store_sqlite_fault(r, STORE_SQLITE_FAULT_READ_PAUSES);
    pthread_t t;
    CHECK_INT(pthread_create(&t, NULL, scan_once, &ps), 0);
    struct timespec wait = {0, 100 * 1000000L}; /* into the reader's 300 ms pause */
    nanosleep(&wait, NULL);
    CHECK_INT(store_sqlite_drain(w, 10000), 0); /* the merge, then the delete */
    CHECK_INT(query_int(journal_of(path), "SELECT count(*) FROM journal"), 0);
    pthread_join(t, NULL);
    CHECK_INT(ps.res, STORE_OK);
    CHECK_INT(ps.sum, 30);
    store_close(r);
    store_close(w);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(apply_then_scan);
    RUN(scan_joins_journal_and_tables);
    RUN(reopen_keeps_counts);
    RUN(foreign_database_is_refused_untouched);
    RUN(not_a_database_is_refused);
    RUN(corrupt_database_is_refused);
    RUN(directory_is_refused);
    RUN(failing_commit_is_retryable_and_changes_nothing);
    RUN(failure_inside_flush_stores_nothing);
    RUN(small_backlog_is_folded_without_a_wake);
    RUN(a_past_days_backlog_is_merged_soon);
    RUN(a_large_backlog_waits_for_its_rows);
    RUN(failed_merge_moves_nothing_and_the_next_moves_all_once);
    RUN(ambiguous_commit_is_counted_once);
    RUN(a_flush_in_doubt_is_settled_by_the_next_write);
    RUN(a_close_says_which_hits_not_written_are_in_the_file);
    RUN(a_set_after_a_flush_in_doubt_counts_what_came_after_it);
    RUN(a_durable_set_leaves_the_tables_wal_to_the_merger);
    RUN(version_1_file_is_upgraded);
    RUN(a_new_database_gets_16_kb_pages_and_others_keep_theirs);
    RUN(a_journal_name_with_a_nul_is_refused);
    RUN(flushes_merge_as_runs_or_folded);
    RUN(an_unsorted_journal_merges_all_the_same);
    RUN(a_folded_batch_is_cut_to_its_rows);
    RUN(scans_beside_merges_count_each_hit_once);
    RUN(a_merge_between_a_readers_snapshots_is_counted_once);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return test_main_end("store_sqlite");
}
