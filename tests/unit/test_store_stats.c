/*
 * test_store_stats: the statistics ops of the store interface (issue 9),
 * on real SQLite files: get, history with its zero days, top lists over a
 * day and over a range, the summary, and a reader opened beside a writer
 * that sees each committed flush. Written against store.h only, so that
 * every backend can run the same checks.
 */
#include <stdlib.h>
#include <unistd.h>

#include "store.h"
#include "test.h"

static char dir[] = "/tmp/ghit-test-stats-XXXXXX";

/* A fresh path in the test directory. */
static const char *path_for(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
    return path;
}

struct top {
    int n;
    char key[8][160];
    uint64_t hits[8], last[8];
};

static void collect_top(void *arg, const struct store_top_row *r)
{
    struct top *t = arg;
    if (t->n < 8) {
        snprintf(t->key[t->n], sizeof t->key[0], "%s", r->key);
        t->hits[t->n] = r->hits;
        t->last[t->n] = r->last_day;
        t->n++;
    }
}

/* A store with three repos over days 100..104. */
static struct store *filled(const char *name)
{
    char err[256];
    struct store *s = store_open(path_for(name), err, sizeof err);
    CHECK(s != NULL);
    if (!s)
        return NULL;
    struct store_delta d[] = {
        {"a/a", 100, 5}, {"a/a", 102, 1}, {"a/a", 104, 2}, {"b/b", 102, 9},
        {"b/b", 104, 1}, {"c/c", 104, 3}, {"d/d", 104, 2},
    };
    CHECK_INT(s->ops->apply(s, d, sizeof d / sizeof d[0], 104, NULL, NULL, err, sizeof err),
              STORE_OK);
    CHECK_INT(store_sqlite_drain(s, 10000), 0); /* history and top read the merged tables */
    return s;
}

static void history_has_every_day(void)
{
    char err[256];
    struct store *s = filled("h.db");
    if (!s)
        return;
    uint64_t hits[7];
    CHECK_INT(s->ops->history(s, "a/a", 99, 105, hits, err, sizeof err), STORE_OK);
    uint64_t want[7] = {0, 5, 0, 1, 0, 2, 0};
    for (int i = 0; i < 7; i++)
        CHECK_INT(hits[i], want[i]);
    CHECK_INT(s->ops->history(s, "zz/zz", 100, 100, hits, err, sizeof err), STORE_OK);
    CHECK_INT(hits[0], 0);
    /* A range beyond the maximum, or backwards, is refused with a reason. */
    uint64_t big[STORE_HISTORY_MAX_DAYS + 1];
    err[0] = '\0';
    CHECK_INT(s->ops->history(s, "a/a", 0, STORE_HISTORY_MAX_DAYS, big, err, sizeof err),
              STORE_FAILED);
    CHECK(err[0] != '\0');
    CHECK_INT(s->ops->history(s, "a/a", 5, 4, big, err, sizeof err), STORE_FAILED);
    store_close(s);
}

static void top_of_a_day_and_of_a_range(void)
{
    char err[256];
    struct store *s = filled("t.db");
    if (!s)
        return;
    struct top t = {0};
    CHECK_INT(s->ops->top(s, 104, 104, 10, collect_top, &t, err, sizeof err), STORE_OK);
    CHECK_INT(t.n, 4);
    /* c/c 3, then the tie a/a 2 and d/d 2 by name, then b/b 1. */
    CHECK_STR(t.key[0], "c/c");
    CHECK_STR(t.key[1], "a/a");
    CHECK_STR(t.key[2], "d/d");
    CHECK_STR(t.key[3], "b/b");
    CHECK_INT(t.hits[0], 3);
    CHECK_INT(t.last[0], 3);

    struct top r = {0};
    CHECK_INT(s->ops->top(s, 100, 104, 2, collect_top, &r, err, sizeof err), STORE_OK);
    CHECK_INT(r.n, 2);
    CHECK_STR(r.key[0], "b/b");
    CHECK_INT(r.hits[0], 10);
    CHECK_INT(r.last[0], 1);
    CHECK_STR(r.key[1], "a/a");
    CHECK_INT(r.hits[1], 8);
    CHECK_INT(r.last[1], 2);

    struct top none = {0};
    CHECK_INT(s->ops->top(s, 200, 210, 10, collect_top, &none, err, sizeof err), STORE_OK);
    CHECK_INT(none.n, 0);
    store_close(s);
}

static void get_and_summary(void)
{
    char err[256];
    struct store *s = filled("g.db");
    if (!s)
        return;
    struct store_row row;
    int found = -1;
    CHECK_INT(s->ops->get(s, "a/a", 104, &row, &found, err, sizeof err), STORE_OK);
    CHECK_INT(found, 1);
    CHECK_INT(row.total, 8);
    CHECK_INT(row.first_day, 100);
    CHECK_INT(row.day_hits, 2);
    CHECK_INT(s->ops->get(s, "a/a", 101, &row, &found, err, sizeof err), STORE_OK);
    CHECK_INT(row.day_hits, 0);
    CHECK_INT(s->ops->get(s, "no/such", 104, &row, &found, err, sizeof err), STORE_OK);
    CHECK_INT(found, 0);
    uint64_t repos = 0, hits = 0;
    CHECK_INT(s->ops->summary(s, &repos, &hits, err, sizeof err), STORE_OK);
    CHECK_INT(repos, 4);
    CHECK_INT(hits, 23);
    CHECK_STR(s->ops->cause(s), "none");
    store_close(s);
}

/* A reader beside the writer sees each flush once the merger has folded it into the tables. */
static void reader_sees_each_flush_beside_the_writer(void)
{
    char err[256];
    const char *path = path_for("r.db");
    char keep[256];
    snprintf(keep, sizeof keep, "%s", path);
    struct store *w = store_open(keep, err, sizeof err);
    CHECK(w != NULL);
    if (!w)
        return;
    struct store *r = store_open_reader(keep, err, sizeof err);
    CHECK(r != NULL);
    if (!r) {
        fprintf(stderr, "reader: %s\n", err);
        store_close(w);
        return;
    }
    uint64_t hits[1];
    struct store_delta d = {"x/y", 50, 4};
    CHECK_INT(w->ops->apply(w, &d, 1, 50, NULL, NULL, err, sizeof err), STORE_OK);
    CHECK_INT(store_sqlite_drain(w, 10000), 0);
    CHECK_INT(r->ops->history(r, "x/y", 50, 50, hits, err, sizeof err), STORE_OK);
    CHECK_INT(hits[0], 4);
    CHECK_INT(w->ops->apply(w, &d, 1, 50, NULL, NULL, err, sizeof err), STORE_OK);
    CHECK_INT(store_sqlite_drain(w, 10000), 0);
    CHECK_INT(r->ops->history(r, "x/y", 50, 50, hits, err, sizeof err), STORE_OK);
    CHECK_INT(hits[0], 8);
    store_close(r);
    store_close(w);
    /* A reader refuses a file that is not ghit's, as every open does. */
    const char *other = path_for("other.txt");
    FILE *f = fopen(other, "w");
    if (f) {
        fputs("not a database at all, just text that is long enough to be read\n", f);
        fclose(f);
    }
    err[0] = '\0';
    CHECK(store_open_reader(other, err, sizeof err) == NULL);
    CHECK(err[0] != '\0');
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(history_has_every_day);
    RUN(top_of_a_day_and_of_a_range);
    RUN(get_and_summary);
    RUN(reader_sees_each_flush_beside_the_writer);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return test_main_end("store_stats");
}
