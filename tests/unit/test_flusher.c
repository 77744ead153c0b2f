/*
 * Unit tests of the flusher with a real SQLite store: pending hits reach
 * the file; a write refused because another connection holds the lock
 * loses nothing, shows in the health, and goes through once the lock is
 * released; stopping writes everything; flushes start an interval apart,
 * however long one took; each settles its take for the loader.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "flusher.h"
#include "monotime.h"
#include "test.h"

static char dir[] = "/tmp/ghit-test-flusher-XXXXXX";

/* The journal file beside path, where flushes go; locking it makes them fail. */
static const char *journal_of(const char *path)
{
    static char j[512];
    snprintf(j, sizeof j, "%s-flushes", path);
    return j;
}

/* What the tables of path hold for key, once the store s has folded its journal in. */
static int64_t total_of(const char *path, const char *key);

static int64_t total_of_store(struct store *s, const char *path, const char *key)
{
    CHECK_INT(store_sqlite_drain(s, 10000), 0);
    return total_of(path, key);
}

static int64_t total_of(const char *path, const char *key)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t v = 0;
    sqlite3_open(path, &db);
    sqlite3_prepare_v2(db, "SELECT total FROM repos WHERE name = ?1", -1, &st, NULL);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* A flusher of a fresh table on a SQLite store in dir. */
struct rig {
    char path[256];
    struct store *s;
    struct counter_table *t;
    struct flusher *f;
};

/* Sets r up on the store dir/name, written every interval_ms once the flusher runs. */
static void rig_init(struct rig *r, const char *name, unsigned interval_ms)
{
    char err[256];
    snprintf(r->path, sizeof r->path, "%s/%s", dir, name);
    r->s = store_sqlite_open(r->path, err, sizeof err);
    if (!r->s) {
        fprintf(stderr, "%s: %s\n", r->path, err);
        exit(1);
    }
    r->t = counter_new(0);
    r->f = flusher_new(r->t, r->s, interval_ms);
}

/* Frees what rig_init() made (the flusher stopped first, if it was started). */
static void rig_fini(struct rig *r)
{
    flusher_free(r->f);
    counter_free(r->t);
    store_close(r->s);
}

/* A flusher_on_recovery() listener: its calls, and whether the flusher said healthy by then. */
struct recovery {
    struct flusher *f;
    int calls;
    bool healthy_then;
};

static void on_recovery(void *arg, uint64_t n)
{
    struct recovery *rc = arg;
    char why[256];
    CHECK_INT(n, 0);
    rc->calls++;
    rc->healthy_then = flusher_health(rc->f, why, sizeof why);
}

static void failed_write_keeps_hits_and_recovers(void)
{
    char why[256] = "";
    struct rig r;
    rig_init(&r, "f.db", 50);
    struct recovery rc = {.f = r.f};
    flusher_on_recovery(r.f, on_recovery, &rc);
    struct counter_view v;
    for (int i = 0; i < 10; i++)
        counter_hit(r.t, "a/b", 3, &v);
    CHECK(flusher_flush(r.f));
    CHECK_INT(total_of_store(r.s, r.path, "a/b"), 10);

    sqlite3 *other;
    sqlite3_open(journal_of(r.path), &other);
    sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL);
    for (int i = 0; i < 5; i++)
        counter_hit(r.t, "a/b", 3, &v);
    CHECK(!flusher_flush(r.f));
    CHECK(!flusher_health(r.f, why, sizeof why));
    CHECK(strstr(why, "locked") != NULL);
    counter_hit(r.t, "a/b", 3, &v); /* hits go on while the store fails */
    CHECK_INT(v.total, 16);
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);

    CHECK_INT(rc.calls, 0); /* a store that never failed has not come back */
    CHECK(flusher_flush(r.f));
    CHECK(flusher_health(r.f, why, sizeof why));
    /* Told once, before the flusher said healthy (a reader of /healthz finds it told). */
    CHECK_INT(rc.calls, 1);
    CHECK(!rc.healthy_then);
    counter_hit(r.t, "a/b", 3, &v);
    CHECK(flusher_flush(r.f));
    CHECK_INT(rc.calls, 1);
    CHECK_INT(total_of_store(r.s, r.path, "a/b"), 17);
    struct flusher_stats st;
    flusher_get_stats(r.f, &st);
    CHECK_INT(st.failures, 1);
    CHECK_INT(st.hits_written, 17);
    rig_fini(&r);
}

static void stop_writes_everything(void)
{
    struct rig r;
    rig_init(&r, "g.db", 3600000); /* never on its own in this test */
    CHECK_INT(flusher_start(r.f), 0);
    struct counter_view v;
    for (int i = 0; i < 1234; i++)
        counter_hit(r.t, "x/y", 3, &v);
    CHECK_INT(flusher_stop(r.f, 1000), 0);
    CHECK_INT(total_of_store(r.s, r.path, "x/y"), 1234);
    rig_fini(&r);
}

static void stop_reports_what_could_not_be_written(void)
{
    struct rig r;
    rig_init(&r, "h.db", 3600000);
    struct counter_view v;
    for (int i = 0; i < 7; i++)
        counter_hit(r.t, "x/y", 3, &v);
    sqlite3 *other;
    sqlite3_open(journal_of(r.path), &other);
    sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL);
    CHECK_INT(flusher_stop(r.f, 200), 7);
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);
    rig_fini(&r);
}

/* With no hits pending, a store that cannot take writes still shows in the health. */
static void idle_flusher_notices_a_locked_store(void)
{
    char why[256] = "";
    struct rig r;
    rig_init(&r, "i.db", 50);
    CHECK(flusher_flush(r.f));
    CHECK(flusher_health(r.f, why, sizeof why));
    sqlite3 *other;
    sqlite3_open(journal_of(r.path), &other);
    sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL);
    const struct timespec interval = {0, 60 * 1000000L}; /* checks come once per interval */
    nanosleep(&interval, NULL);
    CHECK(!flusher_flush(r.f));
    CHECK(!flusher_health(r.f, why, sizeof why));
    CHECK(strstr(why, "locked") != NULL);
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);
    nanosleep(&interval, NULL);
    CHECK(flusher_flush(r.f));
    CHECK(flusher_health(r.f, why, sizeof why));
    struct flusher_stats st;
    flusher_get_stats(r.f, &st);
    CHECK_INT(st.flushes, 0); /* checks are not writes */
    CHECK_INT(flusher_stop(r.f, 100), 0);
    rig_fini(&r);
}

/* Sleeps until ms milliseconds after start (CLOCK_MONOTONIC). */
static void sleep_until(const struct timespec *start, long ms)
{
    struct timespec at = *start;
    at.tv_sec += ms / 1000;
    at.tv_nsec += (ms % 1000) * 1000000L;
    if (at.tv_nsec >= 1000000000L) {
        at.tv_sec++;
        at.tv_nsec -= 1000000000L;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) != 0)
        ;
}

/* Records when each of the first two writes of hits ended: a notify_fn. */
struct stamps {
    struct flusher *f;
    uint64_t seen;
    struct timespec at[2];
};

static void stamp(void *arg, uint64_t take_no)
{
    (void)take_no;
    struct stamps *w = arg;
    struct flusher_stats st;
    flusher_get_stats(w->f, &st);
    if (st.flushes > w->seen && w->seen < 2)
        clock_gettime(CLOCK_MONOTONIC, &w->at[w->seen]);
    w->seen = st.flushes;
}

/*
 * Two flushes on a flusher running every interval_ms, on the store name: a
 * hit is pending from the start, the journal is locked until release_ms (so
 * the first flush, at interval_ms, waits for it), and a second hit comes at
 * hit_ms, for the second flush. Returns the gap in ms between the ends of
 * the two writes, with the flusher's stats (stopped) in st.
 */
static long long two_flushes(const char *name, unsigned interval_ms, long hit_ms, long release_ms,
                             struct flusher_stats *st)
{
    struct rig r;
    rig_init(&r, name, interval_ms);
    struct stamps w = {.f = r.f};
    flusher_on_commit(r.f, stamp, &w);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_INT(flusher_start(r.f), 0);
    struct counter_view v;
    counter_hit(r.t, "a/b", 3, &v);
    sqlite3 *other;
    sqlite3_open(journal_of(r.path), &other);
    sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL);
    sleep_until(&t0, hit_ms);
    counter_hit(r.t, "a/b", 3, &v);
    sleep_until(&t0, release_ms); /* the store waits up to 1 s for a lock */
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);
    *st = (struct flusher_stats){0};
    for (long ms = release_ms + 100; ms <= 6000 && st->flushes < 2; ms += 50) {
        sleep_until(&t0, ms);
        flusher_get_stats(r.f, st);
    }
    CHECK_INT(flusher_stop(r.f, 1000), 0);
    flusher_get_stats(r.f, st);
    CHECK_INT(st->flushes, 2);
    CHECK_INT(st->hits_written, 2);
    long long gap = w.seen >= 2 ? monotime_ms_between(&w.at[0], &w.at[1]) : -1;
    rig_fini(&r);
    return gap;
}

/*
 * A slow flush does not push the next one back: flushes start an interval
 * apart, so a crash loses at most one interval and the flush being written.
 * Here the first flush (at 1 s) waits for a lock until 1.6 s; the next is
 * due at 2 s, about 0.4 s after the first ended (an interval after, before).
 */
static void intervals_run_from_start_to_start(void)
{
    struct flusher_stats st;
    long long gap = two_flushes("j.db", 1000, 1300, 1600, &st);
    CHECK(st.flush_ms_max >= 300); /* the first flush did wait for the lock */
    CHECK(gap >= 0 && gap < 800);
}

/*
 * But a store slower than the interval still gets a quarter of it between
 * two flushes, for hits to fold into fewer rows: here the first flush (at
 * 0.4 s) waits for a lock until 1 s; the next starts 0.1 s after it ended,
 * not at once.
 */
static void a_slow_store_gets_a_quarter_interval_between_flushes(void)
{
    struct flusher_stats st;
    long long gap = two_flushes("l.db", 400, 700, 1000, &st);
    CHECK(st.flush_ms_max >= 400); /* the first flush outlasted the interval */
    CHECK(gap >= 100);
}

/*
 * A loader's read of a repo is refused while a take of its hits is not
 * settled (counter_refresh); each flush settles its take, written or given
 * back, so a read after it is applied.
 */
static void flushes_settle_their_takes(void)
{
    struct rig r;
    rig_init(&r, "k.db", 3600000);
    struct counter_view v, stored = {.total = 40, .today = 4, .first_day = 1};
    struct counter_mark since;
    counter_hit(r.t, "a/b", 3, &v);
    CHECK(flusher_flush(r.f));
    counter_mark(r.t, &since);
    counter_refresh(r.t, "a/b", &stored, 3, &since);
    CHECK(counter_get(r.t, "a/b", 3, &v));
    CHECK_INT(v.total, 40);
    counter_hit(r.t, "a/b", 3, &v);
    sqlite3 *other;
    sqlite3_open(journal_of(r.path), &other);
    sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL);
    CHECK(!flusher_flush(r.f)); /* its hit given back */
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);
    counter_mark(r.t, &since);
    stored.total = 50;
    counter_refresh(r.t, "a/b", &stored, 3, &since);
    CHECK(counter_get(r.t, "a/b", 3, &v));
    CHECK_INT(v.total, 51); /* the store's figure, and the hit it does not have yet */
    rig_fini(&r);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(failed_write_keeps_hits_and_recovers);
    RUN(stop_writes_everything);
    RUN(stop_reports_what_could_not_be_written);
    RUN(idle_flusher_notices_a_locked_store);
    RUN(intervals_run_from_start_to_start);
    RUN(a_slow_store_gets_a_quarter_interval_between_flushes);
    RUN(flushes_settle_their_takes);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return test_main_end("flusher");
}
