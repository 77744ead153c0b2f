/* Unit tests of the counter table: counting, day rollover, limits, take and give back, threads. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "count.h"
#include "counter.h"
#include "test.h"

/* Sums what counter_take hands over, per day and in all, for one key or every key. */
struct sum {
    const char *only_key; /* NULL: every key */
    uint64_t hits;
    size_t calls;
    day_t days_seen[8];
    uint64_t per_day[8];
    int ndays;
};

static void sum_cb(void *arg, const char *key, day_t day, uint64_t hits)
{
    struct sum *s = arg;
    if (s->only_key && strcmp(s->only_key, key) != 0)
        return;
    s->hits += hits;
    s->calls++;
    for (int i = 0; i < s->ndays; i++) {
        if (s->days_seen[i] == day) {
            s->per_day[i] += hits;
            return;
        }
    }
    if (s->ndays < 8) {
        s->days_seen[s->ndays] = day;
        s->per_day[s->ndays++] = hits;
    }
}

static void hits_count_and_show(void)
{
    struct counter_table *t = counter_new(0);
    struct counter_view v;
    CHECK(!counter_get(t, "a/b", 100, &v));
    CHECK_INT(counter_hit(t, "a/b", 100, &v), COUNTER_OK);
    CHECK_INT(v.total, 1);
    CHECK_INT(v.today, 1);
    CHECK_INT(v.first_day, 100);
    counter_hit(t, "a/b", 100, &v);
    counter_hit(t, "c/d", 100, &v);
    CHECK(counter_get(t, "a/b", 100, &v));
    CHECK_INT(v.total, 2);
    CHECK_INT(v.today, 2);
    CHECK_INT(counter_size(t), 2);
    counter_free(t);
}

/* A count at COUNT_MAX stays there: in a hit, and under the store's figures read back. */
static void counts_saturate_at_the_maximum(void)
{
    CHECK_INT(count_add(COUNT_MAX - 1, 1), COUNT_MAX);
    CHECK_INT(count_add(COUNT_MAX, 1), COUNT_MAX);
    CHECK_INT(count_add(COUNT_MAX - 2, 1), COUNT_MAX - 1);
    CHECK_INT(count_add(UINT64_MAX, 0), COUNT_MAX);
    struct counter_table *t = counter_new(0);
    struct counter_view v;
    struct counter_day day = {100, COUNT_MAX};
    counter_set(t, "a/b", COUNT_MAX, COUNTER_NO_DAY, &day, 1, 100, &v);
    CHECK_INT(counter_hit(t, "a/b", 100, &v), COUNTER_OK);
    CHECK_INT(counter_hit(t, "a/b", 100, &v), COUNTER_OK);
    CHECK_INT(v.total, COUNT_MAX);
    CHECK_INT(v.today, COUNT_MAX);
    counter_load(t, "c/d", COUNT_MAX - 1, 100, 100, COUNT_MAX - 1);
    counter_hit(t, "c/d", 100, &v);
    counter_hit(t, "c/d", 100, &v);
    CHECK_INT(v.total, COUNT_MAX);
    counter_load(t, "c/d", COUNT_MAX - 1, 100, 100, COUNT_MAX - 1); /* plus the 2 pending hits */
    CHECK(counter_get(t, "c/d", 100, &v));
    CHECK_INT(v.total, COUNT_MAX);
    CHECK_INT(v.today, COUNT_MAX);
    counter_free(t);
}

static void day_rollover_resets_today_and_keeps_days_apart(void)
{
    struct counter_table *t = counter_new(0);
    struct counter_view v;
    for (int i = 0; i < 3; i++)
        counter_hit(t, "a/b", 100, &v);
    counter_hit(t, "a/b", 101, &v);
    CHECK_INT(v.total, 4);
    CHECK_INT(v.today, 1);
    CHECK_INT(v.first_day, 100);
    /* Seen from the old day, nothing is "today" any more: the counter moved on. */
    CHECK(counter_get(t, "a/b", 102, &v));
    CHECK_INT(v.today, 0);
    CHECK_INT(v.total, 4);

    struct sum s = {0};
    counter_take(t, sum_cb, NULL, &s);
    CHECK_INT(s.hits, 4);
    CHECK_INT(s.ndays, 2);
    for (int i = 0; i < s.ndays; i++)
        CHECK_INT(s.per_day[i], s.days_seen[i] == 100 ? 3 : 1);
    counter_free(t);
}

static void take_clears_and_give_back_restores(void)
{
    struct counter_table *t = counter_new(0);
    struct counter_view v;
    for (int i = 0; i < 5; i++)
        counter_hit(t, "a/b", 7, &v);
    struct sum s = {0};
    CHECK_INT(counter_take(t, sum_cb, NULL, &s), 1);
    CHECK_INT(s.hits, 5);
    struct sum again = {0};
    CHECK_INT(counter_take(t, sum_cb, NULL, &again), 0);

    counter_give_back(t, "a/b", 7, 5); /* the store refused them */
    counter_hit(t, "a/b", 7, &v);
    CHECK_INT(v.total, 6); /* giving back does not count twice */
    struct sum third = {0};
    counter_take(t, sum_cb, NULL, &third);
    CHECK_INT(third.hits, 6);
    CHECK_INT(third.calls, 1); /* the same day merges into one delta */
    counter_free(t);
}

/*
 * Days pending pile up while the store is down: the first inline, the
 * rest in an array that grows, and that still takes hits once emptied.
 */
static void many_pending_days_are_kept_apart(void)
{
    struct counter_table *t = counter_new(0);
    struct counter_view v;
    for (int d = 0; d < 6; d++)
        for (int i = 0; i <= d; i++)
            counter_hit(t, "a/b", 200 + d, &v);
    CHECK_INT(v.total, 21);
    counter_load(t, "a/b", 1000, 150, 205, 4); /* the store's figures, under all six days */
    CHECK(counter_get(t, "a/b", 205, &v));
    CHECK_INT(v.total, 1021);
    CHECK_INT(v.today, 4 + 6);
    CHECK_INT(v.first_day, 150);
    struct sum s = {0};
    CHECK_INT(counter_take(t, sum_cb, NULL, &s), 6);
    CHECK_INT(s.hits, 21);
    CHECK_INT(s.ndays, 6);
    for (int i = 0; i < s.ndays; i++)
        CHECK_INT(s.per_day[i], s.days_seen[i] - 199);
    counter_hit(t, "a/b", 206, &v);
    counter_hit(t, "a/b", 206, &v);
    struct sum again = {0};
    CHECK_INT(counter_take(t, sum_cb, NULL, &again), 1);
    CHECK_INT(again.hits, 2);
    CHECK_INT(again.days_seen[0], 206);
    counter_free(t);
}

static void load_sets_stored_counts_under_pending_hits(void)
{
    struct counter_table *t = counter_new(0);
    struct counter_view v;
    counter_load(t, "a/b", 1000, 50, 60, 10);
    CHECK(counter_get(t, "a/b", 60, &v));
    CHECK_INT(v.total, 1000);
    CHECK_INT(v.today, 10);
    CHECK_INT(v.first_day, 50);
    counter_hit(t, "a/b", 60, &v);
    CHECK_INT(v.total, 1001);
    CHECK_INT(v.today, 11);
    /* A shared store reports 1005 (others' hits too) before our hit was written: keep it on top. */
    counter_load(t, "a/b", 1005, 50, 60, 14);
    CHECK(counter_get(t, "a/b", 60, &v));
    CHECK_INT(v.total, 1006);
    CHECK_INT(v.today, 15);
    struct sum s = {0};
    counter_take(t, sum_cb, NULL, &s);
    CHECK_INT(s.hits, 1); /* loading never makes pending hits */
    counter_free(t);
}

static void repo_limit_refuses_new_repos_only(void)
{
    struct counter_table *t = counter_new(2);
    struct counter_view v;
    CHECK_INT(counter_hit(t, "a/a", 1, &v), COUNTER_OK);
    CHECK_INT(counter_hit(t, "b/b", 1, &v), COUNTER_OK);
    CHECK_INT(counter_hit(t, "c/c", 1, &v), COUNTER_FULL);
    CHECK(!counter_get(t, "c/c", 1, &v));
    CHECK_INT(counter_hit(t, "a/a", 1, &v), COUNTER_OK);
    CHECK_INT(v.total, 2);
    CHECK_INT(counter_size(t), 2);
    counter_free(t);
}

static void many_repos_grow_the_shards(void)
{
    struct counter_table *t = counter_new(0);
    struct counter_view v;
    char key[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "o/r%d", i);
        counter_hit(t, key, 1, &v);
        if (i % 3 == 0)
            counter_hit(t, key, 1, &v);
    }
    CHECK_INT(counter_size(t), 20000);
    for (int i = 0; i < 20000; i += 997) {
        snprintf(key, sizeof key, "o/r%d", i);
        CHECK(counter_get(t, key, 1, &v));
        CHECK_INT(v.total, i % 3 == 0 ? 2 : 1);
    }
    struct sum s = {0};
    counter_take(t, sum_cb, NULL, &s);
    CHECK_INT(s.hits, 20000 + 6667);
    counter_free(t);
}

#define THREADS    4
#define PER_THREAD 50000

struct worker {
    struct counter_table *t;
    int id;
};

static void *hammer(void *arg)
{
    struct worker *w = arg;
    struct counter_view v;
    char key[32];
    for (int i = 0; i < PER_THREAD; i++) {
        counter_hit(w->t, "hot/repo", 9, &v);
        snprintf(key, sizeof key, "t%d/r%d", w->id, i % 100);
        counter_hit(w->t, key, 9, &v);
    }
    return NULL;
}

/* Concurrent hits and flushes: every hit is taken exactly once. */
static void concurrent_hits_are_all_counted(void)
{
    struct counter_table *t = counter_new(0);
    pthread_t th[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){t, i};
        pthread_create(&th[i], NULL, hammer, &w[i]);
    }
    struct sum taken = {0};
    for (int i = 0; i < 200; i++)
        counter_take(t, sum_cb, NULL, &taken); /* flushes race the hits */
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    counter_take(t, sum_cb, NULL, &taken);
    CHECK_INT(taken.hits, 2 * THREADS * PER_THREAD);
    struct counter_view v;
    CHECK(counter_get(t, "hot/repo", 9, &v));
    CHECK_INT(v.total, THREADS * PER_THREAD);
    CHECK_INT(v.today, THREADS * PER_THREAD);
    CHECK_INT(counter_size(t), 1 + THREADS * 100);
    counter_free(t);
}

/* A batch taken from the table, to be given back as a failed flush would. */
#define BATCH_MAX 1024 /* more than the (key, day) pairs of the test below: 401 */
struct batch {
    char key[BATCH_MAX][24];
    day_t day[BATCH_MAX];
    uint64_t hits[BATCH_MAX];
    size_t n;
};

static void batch_cb(void *arg, const char *key, day_t day, uint64_t hits)
{
    struct batch *b = arg;
    if (b->n == BATCH_MAX) {
        fprintf(stderr, "batch_cb: more pending pairs than the test expects\n");
        abort();
    }
    snprintf(b->key[b->n], sizeof b->key[0], "%s", key);
    b->day[b->n] = day;
    b->hits[b->n] = hits;
    b->n++;
}

struct roller {
    struct counter_table *t;
    int id;
};

/* Hits on day 9, then on day 10 from the middle on: midnight passes during the run. */
static void *hammer_across_midnight(void *arg)
{
    struct roller *w = arg;
    struct counter_view v;
    char key[32];
    for (int i = 0; i < PER_THREAD; i++) {
        snprintf(key, sizeof key, "t%d/r%d", w->id, i % 100);
        counter_hit(w->t, i < PER_THREAD / 2 ? key : "hot/repo", i < PER_THREAD / 2 ? 9 : 10, &v);
    }
    return NULL;
}

/*
 * Flushes race the hits and every other one fails: its hits are given back.
 * In the end every hit is taken exactly once, on the day it was made.
 */
static void failed_flushes_across_midnight_lose_nothing(void)
{
    struct counter_table *t = counter_new(0);
    pthread_t th[THREADS];
    struct roller w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct roller){t, i};
        pthread_create(&th[i], NULL, hammer_across_midnight, &w[i]);
    }
    static struct batch b;
    struct sum written = {0};
    for (int round = 0; round < 200; round++) {
        b.n = 0;
        counter_take(t, batch_cb, NULL, &b);
        for (size_t i = 0; i < b.n; i++) {
            if (round % 2) /* the store refused this one */
                counter_give_back(t, b.key[i], b.day[i], b.hits[i]);
            else
                sum_cb(&written, b.key[i], b.day[i], b.hits[i]);
        }
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    counter_take(t, sum_cb, NULL, &written);
    CHECK_INT(written.hits, THREADS * PER_THREAD);
    for (int i = 0; i < written.ndays; i++)
        CHECK_INT(written.per_day[i], THREADS * PER_THREAD / 2);
    CHECK_INT(written.ndays, 2);
    struct counter_view v;
    CHECK(counter_get(t, "hot/repo", 10, &v));
    CHECK_INT(v.today, THREADS * PER_THREAD / 2);
    counter_free(t);
}

/* counter_take callback that only counts the calls. */
static void count_cb(void *arg, const char *key, day_t day, uint64_t hits)
{
    (void)key;
    (void)day;
    (void)hits;
    ++*(size_t *)arg;
}

/*
 * A cache of 1,000 offered repos o/r0 .. o/r{n-1} with a hit each: the
 * first 1,250 (its size and a quarter) are taken, the rest refused, since
 * none may go before its hits are taken.
 */
static struct counter_table *hit_cache(int n)
{
    struct counter_table *t = counter_new(0);
    counter_make_cache(t, 1000);
    struct counter_view v;
    char key[32];
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "o/r%d", i);
        CHECK_INT(counter_hit(t, key, 100, &v), i < 1250 ? COUNTER_OK : COUNTER_FULL);
    }
    return t;
}

static void a_cache_frees_clean_entries_and_keeps_dirty_ones(void)
{
    struct counter_table *t = hit_cache(3000);
    struct counter_view v;
    char key[32];
    CHECK_INT(counter_evict(t), 0); /* all dirty */
    CHECK_INT(counter_size(t), 1250);
    size_t taken = 0;
    counter_take(t, count_cb, NULL, &taken);
    CHECK_INT(taken, 1250);
    /* Clean now: freed down to 7/8 of the size, the ones used lately last. */
    counter_hit(t, "o/r7", 100, &v);
    counter_take(t, count_cb, NULL, &taken);
    size_t freed = counter_evict(t);
    CHECK(freed >= 1250 - 875);
    CHECK(counter_size(t) <= 875);
    CHECK(counter_get(t, "o/r7", 100, &v)); /* used since the hand passed: kept */
    CHECK_INT(v.total, 2);
    /* Every entry left is still found (deletion keeps the probe sequences whole). */
    size_t found = 0;
    for (int i = 0; i < 1250; i++) {
        snprintf(key, sizeof key, "o/r%d", i);
        found += counter_get(t, key, 100, &v);
    }
    CHECK_INT(found, counter_size(t));
    /* Room again for new repos. */
    CHECK_INT(counter_hit(t, "new/one", 100, &v), COUNTER_OK);
    counter_free(t);
}

/*
 * The store is down and the cache at its bound: nearly every entry holds
 * hits. The few clean ones are freed wherever they are, also in shards
 * that hold less than their share, so new repos find room.
 */
static void a_full_cache_frees_its_last_clean_entries_wherever_they_are(void)
{
    struct counter_table *t = hit_cache(1250);
    struct counter_view v;
    char key[32];
    size_t taken = 0;
    counter_take(t, count_cb, NULL, &taken);
    /* Written; then all but 50 get hits that stay pending. */
    for (int i = 50; i < 1250; i++) {
        snprintf(key, sizeof key, "o/r%d", i);
        CHECK_INT(counter_hit(t, key, 100, &v), COUNTER_OK);
    }
    CHECK_INT(counter_hit(t, "new/early", 100, &v), COUNTER_FULL);
    /* 50 spread over 64 shards of about 20 entries each: some in shards under 875 / 64. */
    CHECK_INT(counter_evict(t), 50);
    CHECK_INT(counter_size(t), 1200);
    for (int i = 0; i < 1250; i++) {
        snprintf(key, sizeof key, "o/r%d", i);
        bool held = counter_get(t, key, 100, &v);
        CHECK(held == (i >= 50));
        if (held)
            CHECK_INT(v.total, 2);
    }
    CHECK_INT(counter_hit(t, "new/one", 100, &v), COUNTER_OK);
    counter_free(t);
}

/*
 * The store answers reads but refuses writes (Redis out of memory): every
 * repo a badge asks for is read and counted, and no entry can be freed. A
 * cache of 1,000 keeps reads up to 1,500 entries (its size and a half),
 * then keeps no more, and a hit of a repo not held is refused at once
 * rather than read; repos held go on counting.
 */
static void a_cache_keeps_reads_up_to_its_bound_while_no_entry_can_be_freed(void)
{
    struct counter_table *t = counter_new(0);
    counter_make_cache(t, 1000);
    struct counter_view v, stored = {.total = 5, .first_day = 90};
    struct counter_mark since;
    char key[32];
    int kept = 0;
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof key, "o/r%d", i);
        enum counter_result r = counter_hit_known(t, key, 100, &v);
        CHECK_INT(r, i < 1500 ? COUNTER_UNKNOWN : COUNTER_FULL);
        if (r != COUNTER_UNKNOWN)
            continue;
        counter_mark(t, &since);
        bool refreshed = counter_refresh(t, key, &stored, 100, &since) == COUNTER_REFRESHED;
        kept += refreshed;
        if (refreshed)
            CHECK_INT(counter_hit_known(t, key, 100, &v), COUNTER_OK);
    }
    CHECK_INT(kept, 1500);
    CHECK_INT(counter_size(t), 1500);
    CHECK_INT(counter_evict(t), 0); /* every entry holds a hit */
    /* A read that began before the bound was reached is not kept past it either. */
    counter_mark(t, &since);
    CHECK_INT(counter_refresh(t, "late/one", &stored, 100, &since), COUNTER_CACHE_FULL);
    CHECK_INT(counter_refresh(t, "late/two", NULL, 100, &since), COUNTER_CACHE_FULL);
    CHECK_INT(counter_size(t), 1500);
    CHECK_INT(counter_hit_known(t, "o/r7", 100, &v), COUNTER_OK);
    CHECK_INT(v.total, 7);
    /* Written: freed below the bound, reads are kept again. */
    size_t taken = 0;
    counter_take(t, count_cb, NULL, &taken);
    CHECK(counter_evict(t) > 0);
    counter_mark(t, &since);
    CHECK_INT(counter_refresh(t, "late/one", &stored, 100, &since), COUNTER_REFRESHED);
    CHECK(counter_get(t, "late/one", 100, &v));
    CHECK_INT(v.total, 5);
    counter_free(t);
}

/* A cache of size whose follower has its place in the feed: reads can be current. */
static struct counter_table *followed_cache(size_t size)
{
    struct counter_table *t = counter_new(0);
    counter_make_cache(t, size);
    counter_invalidate_all(t);
    return t;
}

/* A cache of 8 with o/r0 .. o/r8, a hit each, all written and freed after since was marked. */
static struct counter_table *freed_after(struct counter_mark *since)
{
    struct counter_table *t = followed_cache(8);
    struct counter_view v;
    char key[32];
    for (int i = 0; i < 9; i++) {
        snprintf(key, sizeof key, "o/r%d", i);
        CHECK_INT(counter_hit(t, key, 100, &v), COUNTER_OK);
    }
    counter_mark(t, since);
    size_t taken = 0;
    counter_take(t, count_cb, NULL, &taken);
    counter_settle(t, counter_last_take(t));
    CHECK_INT(counter_evict(t), 9); /* the first turn clears the used marks, the second frees */
    CHECK(!counter_get(t, "o/r0", 100, &v));
    return t;
}

/* Whether t holds key with figures total, not current and changed. */
static void check_not_current(struct counter_table *t, const char *key, uint64_t total)
{
    struct counter_view v;
    CHECK(counter_get(t, key, 100, &v));
    CHECK_INT(v.total, total);
    CHECK(!v.current);
    CHECK(v.changed);
}

/*
 * A read of a repo began; meanwhile its hit was written, read back, and
 * its entry freed. What the read found may lack that hit: it goes in, but
 * not as current, so that the next view reads the repo again. So too when
 * the repo's entry was made again meanwhile (a hit, another read). A
 * warm-up leaves such figures out.
 */
static void a_read_overtaken_by_the_freeing_of_its_entry_is_not_current(void)
{
    struct counter_mark since, later;
    struct counter_view v, stored = {.total = 40, .today = 4, .first_day = 90};
    struct counter_table *t = freed_after(&since);
    CHECK_INT(counter_warm(t, "o/r0", &stored, 100, &since), COUNTER_SUPERSEDED);
    CHECK(!counter_get(t, "o/r0", 100, &v));
    CHECK_INT(counter_refresh(t, "o/r0", &stored, 100, &since), COUNTER_REFRESHED);
    check_not_current(t, "o/r0", 40);
    /* The same read again, now that an entry is held: still not current. */
    CHECK_INT(counter_refresh(t, "o/r0", &stored, 100, &since), COUNTER_REFRESHED);
    check_not_current(t, "o/r0", 40);
    /* Made again by a hit before the read came back. */
    CHECK_INT(counter_hit(t, "o/r1", 100, &v), COUNTER_OK);
    CHECK_INT(counter_refresh(t, "o/r1", &stored, 100, &since), COUNTER_REFRESHED);
    check_not_current(t, "o/r1", 41);
    /* A read begun after the freeing is current, and a warm-up takes it. */
    counter_mark(t, &later);
    CHECK_INT(counter_warm(t, "o/r2", &stored, 100, &later), COUNTER_REFRESHED);
    CHECK(counter_get(t, "o/r2", 100, &v));
    CHECK(v.current);
    CHECK(!v.changed);
    counter_free(t);
}

/*
 * Another frontend changed a repo that the cache does not hold while a
 * read of it was under way: the read may predate the change.
 */
static void a_change_said_of_a_repo_not_held_overtakes_its_read(void)
{
    struct counter_table *t = followed_cache(1000);
    struct counter_view v, stored = {.total = 100, .first_day = 90};
    struct counter_mark since, later;
    counter_mark(t, &since);
    counter_invalidate(t, "a/b");
    CHECK(!counter_get(t, "a/b", 100, &v));
    CHECK_INT(counter_warm(t, "a/b", &stored, 100, &since), COUNTER_SUPERSEDED);
    CHECK_INT(counter_refresh(t, "a/b", &stored, 100, &since), COUNTER_REFRESHED);
    check_not_current(t, "a/b", 100);
    /* Read again after the change: current. */
    counter_mark(t, &later);
    stored.total = 101;
    CHECK_INT(counter_refresh(t, "a/b", &stored, 100, &later), COUNTER_REFRESHED);
    CHECK(counter_get(t, "a/b", 100, &v));
    CHECK_INT(v.total, 101);
    CHECK(v.current);
    counter_free(t);
}

/*
 * Changes said of repos not held stamp their groups of keys, which a held
 * repo shares with many others: what a read finds of the held repo stays
 * current. 400,000 changes stamp every one of the 16,384 groups, but for
 * a chance of about e^-24.
 */
static void changes_of_other_repos_leave_a_held_repos_read_current(void)
{
    struct counter_table *t = followed_cache(1000);
    struct counter_view v, stored = {.total = 7, .first_day = 90};
    struct counter_mark since;
    counter_mark(t, &since);
    CHECK_INT(counter_refresh(t, "a/b", &stored, 100, &since), COUNTER_REFRESHED);
    counter_mark(t, &since);
    char key[32];
    for (int i = 0; i < 400000; i++) {
        snprintf(key, sizeof key, "o/r%d", i);
        counter_invalidate(t, key);
    }
    stored.total = 8;
    CHECK_INT(counter_refresh(t, "a/b", &stored, 100, &since), COUNTER_REFRESHED);
    CHECK(counter_get(t, "a/b", 100, &v));
    CHECK_INT(v.total, 8);
    CHECK(v.current);
    CHECK(!v.changed);
    /* While a repo not held, read under the same mark, is in a stamped group. */
    CHECK_INT(counter_refresh(t, "x/y", &stored, 100, &since), COUNTER_REFRESHED);
    CHECK(counter_get(t, "x/y", 100, &v));
    CHECK(!v.current);
    counter_free(t);
}

static void a_table_that_is_not_a_cache_never_frees(void)
{
    struct counter_table *t = counter_new(0);
    struct counter_view v;
    char key[32];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "o/r%d", i);
        counter_hit(t, key, 100, &v);
    }
    size_t taken = 0;
    counter_take(t, count_cb, NULL, &taken);
    CHECK_INT(counter_evict(t), 0);
    CHECK_INT(counter_size(t), 100);
    counter_free(t);
}

static void refresh_loads_figures_unless_a_take_of_its_hits_is_unsettled(void)
{
    struct counter_table *t = counter_new(0);
    counter_make_cache(t, 1000);
    struct counter_view v;
    /* Unknown here: its hit counts, its total unknown (loaded_ms 0). */
    counter_hit(t, "a/b", 100, &v);
    CHECK_INT(v.loaded_ms, 0);
    struct counter_mark since;
    counter_mark(t, &since);
    struct counter_view stored = {.total = 40, .today = 4, .first_day = 90};
    CHECK_INT(counter_refresh(t, "a/b", &stored, 100, &since), COUNTER_REFRESHED);
    CHECK(counter_get(t, "a/b", 100, &v));
    CHECK_INT(v.total, 41); /* the store's 40 and the pending hit */
    CHECK_INT(v.today, 5);
    CHECK_INT(v.first_day, 90);
    CHECK(v.loaded_ms > 0);
    /* A read begun before a take of its hits may or may not hold them: not applied. */
    counter_mark(t, &since);
    size_t taken = 0;
    counter_take(t, count_cb, NULL, &taken);
    stored.total = 999;
    CHECK_INT(counter_refresh(t, "a/b", &stored, 100, &since), COUNTER_SUPERSEDED);
    CHECK(counter_get(t, "a/b", 100, &v));
    CHECK_INT(v.total, 41);
    /* Nor one begun after the take, while its write is in flight: the store may lack it. */
    counter_mark(t, &since);
    stored.total = 40;
    CHECK_INT(counter_refresh(t, "a/b", &stored, 100, &since), COUNTER_SUPERSEDED);
    CHECK(counter_get(t, "a/b", 100, &v));
    CHECK_INT(v.total, 41);
    /* Once the take is settled (written and read back), a read is good again. */
    counter_settle(t, counter_last_take(t));
    counter_mark(t, &since);
    stored.total = 45;
    CHECK_INT(counter_refresh(t, "a/b", &stored, 100, &since), COUNTER_REFRESHED);
    CHECK(counter_get(t, "a/b", 100, &v));
    CHECK_INT(v.total, 45);
    /* Absent from the store: reads as unknown, with the time it was found so. */
    counter_mark(t, &since);
    CHECK_INT(counter_refresh(t, "x/y", NULL, 100, &since), COUNTER_REFRESHED);
    CHECK(!counter_get(t, "x/y", 100, &v));
    CHECK(v.loaded_ms > 0);
    CHECK_INT(counter_size(t), 1);
    CHECK_INT(counter_hit_known(t, "x/y", 100, &v), COUNTER_UNKNOWN);
    CHECK_INT(counter_hit(t, "x/y", 100, &v), COUNTER_OK);
    CHECK_INT(v.total, 1);
    CHECK(v.loaded_ms > 0); /* a new repo: its count is known */
    counter_free(t);
}

/* The flusher's read-back after a write holds every hit it took: current, unless changed since. */
static void figures_read_back_after_a_write_are_current(void)
{
    struct counter_table *t = followed_cache(1000);
    struct counter_view v;
    CHECK_INT(counter_hit(t, "a/b", 100, &v), COUNTER_OK);
    struct counter_mark before;
    counter_mark(t, &before);
    size_t taken = 0;
    counter_take(t, count_cb, NULL, &taken);
    counter_load(t, "a/b", 7, 90, 100, 7); /* figures only */
    CHECK(counter_get(t, "a/b", 100, &v));
    CHECK(!v.current);
    counter_load_written(t, "a/b", 7, 90, 100, 7, &before);
    CHECK(counter_get(t, "a/b", 100, &v));
    CHECK(v.current);
    CHECK_INT(v.total, 7);
    /* Another writer changed it after the mark: the figures go in, not current. */
    counter_mark(t, &before);
    counter_invalidate(t, "a/b");
    counter_load_written(t, "a/b", 9, 90, 100, 9, &before);
    CHECK(counter_get(t, "a/b", 100, &v));
    CHECK(!v.current);
    CHECK_INT(v.total, 9);
    counter_free(t);
}

static void figures_are_current_until_invalidated_or_a_new_generation(void)
{
    struct counter_table *t = counter_new(0);
    counter_make_cache(t, 1000);
    struct counter_view v, stored = {.total = 7, .today = 1, .first_day = 90};
    struct counter_mark since;
    /* Generation 0: nobody follows the store's changes, nothing is current. */
    counter_mark(t, &since);
    counter_refresh(t, "a/b", &stored, 100, &since);
    CHECK(counter_get(t, "a/b", 100, &v));
    CHECK(!v.current);
    counter_invalidate_all(t); /* a follower takes its place */
    counter_mark(t, &since);
    counter_refresh(t, "a/b", &stored, 100, &since);
    CHECK(counter_get(t, "a/b", 100, &v));
    CHECK(v.current);
    CHECK_INT(counter_hit(t, "a/b", 100, &v), COUNTER_OK);
    CHECK(v.current); /* our own hits keep it current */
    counter_invalidate(t, "a/b");
    CHECK(counter_get(t, "a/b", 100, &v));
    CHECK(!v.current);
    CHECK_INT(v.total, 8); /* still shown while the store cannot be read */
    /* A read that began before an invalidation is not current, whatever it found. */
    counter_mark(t, &since);
    counter_invalidate(t, "a/b");
    counter_refresh(t, "a/b", &stored, 100, &since);
    CHECK(counter_get(t, "a/b", 100, &v));
    CHECK(!v.current);
    /* Nor one begun in an older generation. */
    counter_mark(t, &since);
    counter_invalidate_all(t);
    counter_refresh(t, "a/b", &stored, 100, &since);
    CHECK(counter_get(t, "a/b", 100, &v));
    CHECK(!v.current);
    counter_free(t);
}

/*
 * A change read from the feed names its repo until a read that began after
 * it: a frontend whose follower fell behind (not current) still reads that
 * repo again, where a new generation alone leaves figures to --max-age.
 */
static void an_invalidated_repo_stays_changed_until_read_again(void)
{
    struct counter_table *t = followed_cache(1000);
    struct counter_view v, stored = {.total = 7, .today = 1, .first_day = 90};
    struct counter_mark since;
    counter_mark(t, &since);
    counter_refresh(t, "a/b", &stored, 100, &since);
    CHECK(counter_get(t, "a/b", 100, &v));
    CHECK(!v.changed);
    counter_invalidate_all(t);
    CHECK(counter_get(t, "a/b", 100, &v));
    CHECK(!v.current);
    CHECK(!v.changed); /* a new generation says nothing of this repo */
    counter_invalidate(t, "a/b");
    CHECK(counter_get(t, "a/b", 100, &v));
    CHECK(v.changed);
    CHECK_INT(counter_hit(t, "a/b", 100, &v), COUNTER_OK);
    CHECK(v.changed); /* our own hit does not make it right */
    /* A read begun before the change: still changed. */
    counter_mark(t, &since);
    counter_invalidate(t, "a/b");
    counter_refresh(t, "a/b", &stored, 100, &since);
    CHECK(counter_get(t, "a/b", 100, &v));
    CHECK(v.changed);
    /* Figures loaded with no mark keep what was said. */
    counter_load(t, "a/b", 9, 90, 100, 9);
    CHECK(counter_get(t, "a/b", 100, &v));
    CHECK(v.changed);
    /* The flusher's read-back, begun after the change: no longer. */
    counter_mark(t, &since);
    counter_load_written(t, "a/b", 9, 90, 100, 9, &since);
    CHECK(counter_get(t, "a/b", 100, &v));
    CHECK(!v.changed);
    /* And a loader's read, begun after another. */
    counter_invalidate(t, "a/b");
    counter_mark(t, &since);
    counter_refresh(t, "a/b", &stored, 100, &since);
    CHECK(counter_get(t, "a/b", 100, &v));
    CHECK(!v.changed);
    CHECK_INT(v.total, 8); /* 7 stored and our hit, still pending */
    counter_free(t);
}

/* A hit's take is the take that hands it over, exactly (a Redis frontend's spool relies on it). */
static void a_hit_knows_its_take_and_restored_hits_are_pending(void)
{
    struct counter_table *t = counter_new(0);
    struct counter_view v;
    counter_hit(t, "a/b", 7, &v);
    CHECK_INT(v.take, 1);
    counter_hit(t, "c/d", 7, &v);
    CHECK_INT(v.take, 1);
    struct sum s = {0};
    counter_take(t, sum_cb, NULL, &s); /* take 1 */
    CHECK_INT(s.hits, 2);
    counter_hit(t, "a/b", 7, &v);
    CHECK_INT(v.take, 2);
    counter_hit(t, "e/f", 7, &v); /* another shard, most likely: the same */
    CHECK_INT(v.take, 2);
    /* Restored at a start: pending, counted, made without the limit. */
    counter_restore(t, "r/new", 6, 4, 7);
    counter_restore(t, "a/b", 7, 3, 7);
    CHECK(counter_get(t, "r/new", 7, &v));
    CHECK_INT(v.total, 4);
    CHECK_INT(v.today, 0);
    CHECK_INT(v.first_day, 6);
    CHECK(counter_get(t, "a/b", 7, &v));
    CHECK_INT(v.total, 5);
    CHECK_INT(v.today, 5);
    struct sum again = {0};
    counter_take(t, sum_cb, NULL, &again); /* take 2: every hit since take 1, and the restored */
    CHECK_INT(again.hits, 2 + 4 + 3);
    counter_free(t);
}

int main(void)
{
    RUN(hits_count_and_show);
    RUN(day_rollover_resets_today_and_keeps_days_apart);
    RUN(take_clears_and_give_back_restores);
    RUN(many_pending_days_are_kept_apart);
    RUN(load_sets_stored_counts_under_pending_hits);
    RUN(repo_limit_refuses_new_repos_only);
    RUN(many_repos_grow_the_shards);
    RUN(concurrent_hits_are_all_counted);
    RUN(failed_flushes_across_midnight_lose_nothing);
    RUN(a_cache_frees_clean_entries_and_keeps_dirty_ones);
    RUN(a_full_cache_frees_its_last_clean_entries_wherever_they_are);
    RUN(a_table_that_is_not_a_cache_never_frees);
    RUN(a_read_overtaken_by_the_freeing_of_its_entry_is_not_current);
    RUN(a_change_said_of_a_repo_not_held_overtakes_its_read);
    RUN(changes_of_other_repos_leave_a_held_repos_read_current);
    RUN(refresh_loads_figures_unless_a_take_of_its_hits_is_unsettled);
    RUN(figures_are_current_until_invalidated_or_a_new_generation);
    RUN(an_invalidated_repo_stays_changed_until_read_again);
    RUN(figures_read_back_after_a_write_are_current);
    RUN(a_hit_knows_its_take_and_restored_hits_are_pending);
    RUN(counts_saturate_at_the_maximum);
    RUN(a_cache_keeps_reads_up_to_its_bound_while_no_entry_can_be_freed);
    return test_main_end("counter");
}
