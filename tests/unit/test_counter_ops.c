/*
 * Unit tests of sets and deletes (issue 10) through the counter table, the
 * flusher and a real SQLite file: a set replaces the counts at once and in
 * the store; hits before it are superseded, hits after it are added; a
 * failed write gives the op back in order; a newer set supersedes an op
 * given back; export reads back what was written, in key order; and, with
 * threads racing hits, sets, deletes and flushes (some refused by a locked
 * store), the file ends up holding exactly what the table shows.
 */
#include <pthread.h>
#include <sched.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "flusher.h"
#include "test.h"
#include "test_sql.h"

static char dir[] = "/tmp/ghit-test-ops-XXXXXX";

/* The journal file beside path, where flushes go; locking it makes them fail. */
static const char *journal_of(const char *path)
{
    static char j[512];
    snprintf(j, sizeof j, "%s-flushes", path);
    return j;
}

struct setup {
    char path[256];
    struct store *store;
    struct counter_table *table;
    struct flusher *flusher;
};

/* query_int on s's database once its journal is folded into the tables. */
static int64_t stored(struct setup *s, const char *sql)
{
    CHECK_INT(store_sqlite_drain(s->store, 10000), 0);
    return query_int(s->path, sql);
}

/* A fresh store, table and (not started) flusher on dir/name. */
static void setup(struct setup *s, const char *name)
{
    char err[256];
    snprintf(s->path, sizeof s->path, "%s/%s", dir, name);
    unlink(s->path);
    unlink(journal_of(s->path));
    s->store = store_sqlite_open(s->path, err, sizeof err);
    s->table = counter_new(0);
    s->flusher = flusher_new(s->table, s->store, 50);
}

static void teardown(struct setup *s)
{
    flusher_free(s->flusher);
    counter_free(s->table);
    store_close(s->store);
}

static void set_replaces_pending_hits_and_orders_later_ones(void)
{
    struct setup s;
    setup(&s, "a.db");
    struct counter_view v;
    for (int i = 0; i < 5; i++)
        counter_hit(s.table, "a/b", 100, &v);
    CHECK(flusher_flush(s.flusher));
    counter_hit(s.table, "a/b", 100, &v); /* pending, then superseded by the set */
    struct counter_day days[] = {{90, 7}, {100, 3}};
    counter_set(s.table, "a/b", 1000, COUNTER_NO_DAY, days, 2, 100, &v);
    CHECK_INT(v.total, 1000);
    CHECK_INT(v.today, 3);
    CHECK_INT(v.first_day, 90);
    counter_hit(s.table, "a/b", 100, &v); /* after the set: added to it */
    CHECK_INT(v.total, 1001);
    CHECK_INT(v.today, 4);
    CHECK(flusher_flush(s.flusher));
    CHECK_INT(stored(&s, "SELECT total FROM repos WHERE name='a/b'"), 1001);
    CHECK_INT(stored(&s, "SELECT hits FROM daily WHERE repo='a/b' AND day='1970-04-11'"), 4);
    CHECK_INT(stored(&s, "SELECT hits FROM daily WHERE repo='a/b' AND day='1970-04-01'"), 7);
    CHECK_INT(stored(&s, "SELECT count(*) FROM daily WHERE repo='a/b'"), 2);
    teardown(&s);
}

static void delete_forgets_and_a_later_hit_starts_afresh(void)
{
    struct setup s;
    setup(&s, "b.db");
    struct counter_view v;
    counter_hit(s.table, "a/b", 100, &v);
    counter_hit(s.table, "c/d", 100, &v);
    CHECK(flusher_flush(s.flusher));
    CHECK_INT(counter_size(s.table), 2);
    CHECK(counter_delete(s.table, "a/b"));
    CHECK(!counter_delete(s.table, "a/b"));
    CHECK(!counter_get(s.table, "a/b", 100, &v));
    CHECK_INT(counter_size(s.table), 1);
    CHECK(flusher_flush(s.flusher));
    CHECK_INT(stored(&s, "SELECT count(*) FROM repos WHERE name='a/b'"), 0);
    CHECK_INT(stored(&s, "SELECT count(*) FROM daily WHERE repo='a/b'"), 0);
    CHECK_INT(stored(&s, "SELECT total FROM repos WHERE name='c/d'"), 1);

    CHECK(counter_delete(s.table, "c/d"));
    counter_hit(s.table, "c/d", 101, &v); /* after the delete, in the same batch */
    CHECK_INT(v.total, 1);
    CHECK_INT(v.first_day, 101);
    CHECK(flusher_flush(s.flusher));
    CHECK_INT(stored(&s, "SELECT total FROM repos WHERE name='c/d'"), 1);
    CHECK_INT(stored(&s, "SELECT count(*) FROM daily WHERE repo='c/d'"), 1);
    teardown(&s);
}

static void failed_write_gives_the_op_back_before_later_hits(void)
{
    struct setup s;
    setup(&s, "c.db");
    struct counter_view v;
    for (int i = 0; i < 3; i++)
        counter_hit(s.table, "a/b", 100, &v);
    CHECK(flusher_flush(s.flusher));
    counter_set(s.table, "a/b", 50, COUNTER_NO_DAY, NULL, 0, 100, &v);
    counter_hit(s.table, "a/b", 100, &v);

    sqlite3 *other;
    sqlite3_open(journal_of(s.path), &other);
    sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL);
    CHECK(!flusher_flush(s.flusher));
    counter_hit(s.table, "a/b", 100, &v); /* while the store fails */
    CHECK_INT(v.total, 52);
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);
    CHECK(flusher_flush(s.flusher));
    CHECK_INT(stored(&s, "SELECT total FROM repos WHERE name='a/b'"), 52);
    CHECK_INT(stored(&s, "SELECT sum(hits) FROM daily WHERE repo='a/b'"), 2);
    CHECK_INT(stored(&s, "SELECT first_day = '1970-04-11' FROM repos WHERE name='a/b'"), 1);
    teardown(&s);
}

/* counter_take callbacks that keep what they are handed, like a flusher whose write fails. */
struct taken {
    struct counter_op *op;
    uint64_t hits;
};

static void keep_hits(void *arg, const char *key, day_t day, uint64_t hits)
{
    (void)key;
    (void)day;
    ((struct taken *)arg)->hits += hits;
}

static void keep_op(void *arg, const char *key, struct counter_op *op)
{
    (void)key;
    ((struct taken *)arg)->op = op;
}

static void newer_set_supersedes_what_is_given_back(void)
{
    struct counter_table *t = counter_new(0);
    struct counter_view v;
    counter_set(t, "a/b", 10, COUNTER_NO_DAY, NULL, 0, 5, &v);
    counter_hit(t, "a/b", 5, &v);
    struct taken first = {0};
    CHECK_INT(counter_take(t, keep_hits, keep_op, &first), 1);
    CHECK(first.op != NULL);
    counter_set(t, "a/b", 20, COUNTER_NO_DAY, NULL, 0, 5, &v); /* while the write fails */
    counter_give_back(t, "a/b", 5, first.hits);
    counter_give_back_op(t, "a/b", first.op); /* superseded: freed */
    struct taken second = {0};
    counter_take(t, keep_hits, keep_op, &second);
    CHECK(second.op != NULL);
    CHECK_INT(second.op ? second.op->total : 0, 20);
    CHECK_INT(second.hits, 0);
    free(second.op);
    CHECK(counter_get(t, "a/b", 5, &v));
    CHECK_INT(v.total, 20);
    counter_free(t);
}

struct exported {
    int n;
    char text[512];
};

static void export_cb(void *arg, const struct store_repo *r)
{
    struct exported *e = arg;
    size_t len = strlen(e->text);
    snprintf(e->text + len, sizeof e->text - len, "%s %" PRIu64 " %d [", r->key, r->total,
             (int)r->first_day);
    for (size_t i = 0; i < r->ndays; i++) {
        len = strlen(e->text);
        snprintf(e->text + len, sizeof e->text - len, "%d:%" PRIu64 " ", (int)r->days[i].day,
                 r->days[i].hits);
    }
    len = strlen(e->text);
    snprintf(e->text + len, sizeof e->text - len, "]\n");
    e->n++;
}

static void write_then_export_in_key_order(void)
{
    char err[256], path[256];
    snprintf(path, sizeof path, "%s/e.db", dir);
    struct store *s = store_sqlite_open(path, err, sizeof err);
    struct store_day d1[] = {{3, 2}, {4, 5}};
    struct store_put p[] = {
        {STORE_PUT_SET, {"z/z", 9, 3, d1, 2}},      {STORE_PUT_ADD, {"a/a", 4, 7, NULL, 0}},
        {STORE_PUT_ADD, {"a/a", 1, 6, d1, 1}},      {STORE_PUT_SET, {"m/m", 1, 1, NULL, 0}},
        {STORE_PUT_DELETE, {"m/m", 0, 0, NULL, 0}},
    };
    struct store_delta d[] = {{"z/z", 4, 1}};
    CHECK_INT(s->ops->write(s, p, 5, d, 1, err, sizeof err), STORE_OK);
    struct exported e = {0};
    CHECK_INT(s->ops->export(s, export_cb, &e, err, sizeof err), STORE_OK);
    CHECK_INT(e.n, 2);
    CHECK_STR(e.text, "a/a 5 6 [3:2 ]\nz/z 10 3 [3:2 4:6 ]\n");
    store_close(s);
}

struct race {
    struct setup *s;
    atomic_bool stop;
};

/* A worker: hits three repos as fast as it can. */
static void *race_hits(void *arg)
{
    struct race *r = arg;
    static const char *const keys[] = {"r/a", "r/b", "r/c"};
    struct counter_view v;
    for (unsigned i = 0; !atomic_load(&r->stop); i++) {
        counter_hit(r->s->table, keys[i % 3], 50, &v);
        if (i % 64 == 0)
            sched_yield(); /* let the operator and the flusher in on a busy 2-core box */
    }
    return NULL;
}

/* The operator: sets and deletes while the hits go on. */
static void *race_ops(void *arg)
{
    struct race *r = arg;
    struct counter_view v;
    for (unsigned i = 0; i < 150; i++) {
        struct counter_day day = {50, 1000 + i};
        if (i % 7 == 3)
            counter_delete(r->s->table, "r/b");
        else
            counter_set(r->s->table, i % 2 ? "r/a" : "r/b", 1000 + i, COUNTER_NO_DAY, &day, 1, 50,
                        &v);
        usleep(5000);
    }
    atomic_store(&r->stop, true);
    return NULL;
}

static void racing_ops_hits_and_failed_flushes_agree_with_the_store(void)
{
    struct setup s;
    setup(&s, "race.db");
    struct race r = {&s, false};
    pthread_t hitter, operator;
    pthread_create(&hitter, NULL, race_hits, &r);
    pthread_create(&operator, NULL, race_ops, &r);
    sqlite3 *other;
    sqlite3_open(journal_of(s.path), &other);
    for (int i = 0; !atomic_load(&r.stop); i++) {
        /* now and then a flush is refused (after the store's 1 s busy wait) and gives all back */
        bool lock = i % 40 == 7;
        if (lock)
            sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL);
        bool ok = flusher_flush(s.flusher);
        CHECK(ok != lock);
        if (lock)
            sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
        usleep(500);
    }
    sqlite3_close(other);
    pthread_join(hitter, NULL);
    pthread_join(operator, NULL);
    CHECK(flusher_flush(s.flusher));
    static const char *const keys[] = {"r/a", "r/b", "r/c"};
    for (int k = 0; k < 3; k++) {
        struct counter_view v = {0};
        bool known = counter_get(s.table, keys[k], 50, &v);
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT total FROM repos WHERE name='%s'", keys[k]);
        CHECK_INT(stored(&s, sql), known ? (int64_t)v.total : -1);
        snprintf(sql, sizeof sql, "SELECT coalesce(sum(hits), -1) FROM daily WHERE repo='%s'",
                 keys[k]);
        CHECK_INT(stored(&s, sql), known ? (int64_t)v.today : -1);
    }
    teardown(&s);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(set_replaces_pending_hits_and_orders_later_ones);
    RUN(delete_forgets_and_a_later_hit_starts_afresh);
    RUN(failed_write_gives_the_op_back_before_later_hits);
    RUN(newer_set_supersedes_what_is_given_back);
    RUN(write_then_export_in_key_order);
    RUN(racing_ops_hits_and_failed_flushes_agree_with_the_store);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return test_main_end("counter_ops");
}
