/*
 * Unit tests of spool's text forms: a chunks file written and parsed back
 * whole, the hits file's lines, and what either refuses; and the bound on
 * what a stuck writer leaves in memory. The spool's files and its thread
 * are otherwise tested through ghit (tests/integ/test_redis_spool.py).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spool.h"
#include "test.h"

static const struct store_delta deltas[] = {{"a/b", 20000, 3}, {"a/bc", 19999, 1}};
static const struct store_day days[] = {{19990, 4}, {19995, 6}};
static const struct store_put put_list[] = {
    {STORE_PUT_SET, {"o-1/x.y", 100, 19990, days, 2}, 7},
    {STORE_PUT_DELETE, {"o/gone", 0, 0, NULL, 0}, 0},
};

/* The text of a spool with a chunk of deltas and one of puts. */
static void sample(struct buf *b)
{
    const struct spool_chunk c[] = {{5, 20000, deltas, 2, NULL, 0},
                                    {6, 20000, NULL, 0, put_list, 2}};
    spool_format_chunks(b, "0a1f", "redis://127.0.0.1:6379/0", "00ff", 9, 42, c, 2);
}

static void chunks_round_trip(void)
{
    struct buf b;
    buf_init(&b);
    sample(&b);
    struct spool_chunks c;
    char err[256];
    CHECK_INT(spool_parse_chunks(b.data, b.len, &c, err, sizeof err), 0);
    CHECK_STR(c.inc, "0a1f");
    CHECK_STR(c.where, "redis://127.0.0.1:6379/0");
    CHECK_STR(c.id, "00ff");
    CHECK_INT(c.next_seq, 9);
    CHECK_INT(c.take, 42);
    CHECK_INT(c.nchunks, 2);
    CHECK_INT(c.chunks[0].seq, 5);
    CHECK_INT(c.chunks[0].n, 2);
    CHECK_STR(c.chunks[0].d[1].key, "a/bc");
    CHECK_INT(c.chunks[0].d[1].day, 19999);
    CHECK_INT(c.chunks[0].d[0].hits, 3);
    CHECK_INT(c.chunks[1].np, 2);
    const struct store_put *p = c.chunks[1].p;
    CHECK_INT(p[0].mode, STORE_PUT_SET);
    CHECK_INT(p[0].id, 7);
    CHECK_STR(p[0].repo.key, "o-1/x.y");
    CHECK_INT(p[0].repo.total, 100);
    CHECK_INT(p[0].repo.ndays, 2);
    CHECK_INT(p[0].repo.days[1].hits, 6);
    CHECK_INT(p[1].mode, STORE_PUT_DELETE);
    CHECK_STR(p[1].repo.key, "o/gone");
    /* Written again, the same bytes. */
    struct buf again;
    buf_init(&again);
    spool_format_chunks(&again, c.inc, c.where, c.id, c.next_seq, c.take, c.chunks, c.nchunks);
    CHECK(again.len == b.len && memcmp(again.data, b.data, b.len) == 0);
    spool_chunks_free(&c);
    buf_fini(&again);
    buf_fini(&b);
}

/* Parses text with one line replaced by line (or removed, if NULL); the result and err. */
static int with_line(int which, const char *line, char *err, size_t errlen)
{
    struct buf b, out;
    buf_init(&b);
    buf_init(&out);
    sample(&b);
    int n = 0;
    for (char *p = b.data, *nl; (nl = strchr(p, '\n')); p = nl + 1, n++) {
        if (n != which)
            buf_append(&out, p, (size_t)(nl + 1 - p));
        else if (line)
            buf_printf(&out, "%s\n", line);
    }
    struct spool_chunks c;
    int rc = spool_parse_chunks(out.data, out.len, &c, err, errlen);
    if (rc == 0)
        spool_chunks_free(&c);
    buf_fini(&b);
    buf_fini(&out);
    return rc;
}

static void chunks_refused(void)
{
    char err[256];
    CHECK_INT(with_line(99, NULL, err, sizeof err), 0); /* untouched */
    /* lines: 0 magic, 1 inc, 2 where, 3 id, 4 next, 5 take, 6 chunk 5, 7-8 d, 9 chunk 6, 10-11 p,
     * 12 end */
    CHECK_INT(with_line(0, "ghit-spool 2 chunks", err, sizeof err), -1);
    CHECK(strstr(err, "line 1") != NULL);
    CHECK_INT(with_line(1, "inc 0A1F", err, sizeof err), -1); /* lower-case hex only */
    CHECK_INT(with_line(3, "id 00ff 1", err, sizeof err), -1);
    CHECK_INT(with_line(4, "next 5", err, sizeof err), -1);            /* a chunk at or past it */
    CHECK_INT(with_line(6, "chunk 5 20000 2 1", err, sizeof err), -1); /* deltas and puts */
    CHECK_INT(with_line(9, "chunk 5 20000 0 2", err, sizeof err), -1); /* not increasing */
    CHECK_INT(with_line(7, "d 20000 0 a/b", err, sizeof err), -1);     /* no hits */
    CHECK_INT(with_line(7, "d 20000 3 A/b", err, sizeof err), -1);     /* not a key */
    CHECK_INT(with_line(7, "d 20000 3 a/b ", err, sizeof err), -1);
    CHECK_INT(with_line(7, "d 20000 03 a/b", err, sizeof err), -1);
    CHECK_INT(with_line(7, "d 20000 99999999999999999999 a/b", err, sizeof err), -1);
    CHECK_INT(with_line(10, "p put 7 100 19990 2 o-1/x.y 19990 4 19995 6", err, sizeof err), -1);
    CHECK_INT(with_line(10, "p set 7 100 19990 2 o-1/x.y 19995 4 19990 6", err, sizeof err), -1);
    CHECK_INT(with_line(10, "p set 7 9 19990 2 o-1/x.y 19990 4 19995 6", err, sizeof err), -1);
    CHECK_INT(with_line(10, "p set 7 100 19990 3 o-1/x.y 19990 4 19995 6", err, sizeof err), -1);
    CHECK_INT(with_line(12, "end 3", err, sizeof err), -1);
    CHECK_INT(with_line(12, NULL, err, sizeof err), -1); /* cut short */
    CHECK(strstr(err, "no end line") != NULL);
    CHECK_INT(with_line(8, NULL, err, sizeof err), -1); /* a delta missing */
}

struct seen {
    uint64_t take[4], hits[4];
    day_t day[4];
    char key[4][64];
    int n;
};

static void note(void *arg, uint64_t take, day_t day, uint64_t hits, const char *key, size_t keylen)
{
    struct seen *s = arg;
    if (s->n < 4) {
        s->take[s->n] = take;
        s->day[s->n] = day;
        s->hits[s->n] = hits;
        snprintf(s->key[s->n], sizeof s->key[0], "%.*s", (int)keylen, key);
    }
    s->n++;
}

static void hits_lines(void)
{
    static const char ok[] = "ghit-spool 1 hits 0a1f\n3 20000 1 a/b\n4 20001 12 c/d\n5 200";
    struct seen s = {0};
    char err[256];
    CHECK_INT(spool_parse_hits(ok, sizeof ok - 1, "0a1f", note, &s, err, sizeof err), 0);
    CHECK_INT(s.n, 2); /* the last line, cut by a crash, is not read */
    CHECK_INT(s.take[1], 4);
    CHECK_INT(s.day[1], 20001);
    CHECK_INT(s.hits[1], 12);
    CHECK_STR(s.key[1], "c/d");
    s.n = 0;
    CHECK_INT(spool_parse_hits(ok, sizeof ok - 1, "0a1e", note, &s, err, sizeof err), -1);
    CHECK_INT(s.n, 0);
    /* A crash between making a file and writing its header: nothing in it, not an error. */
    s.n = 0;
    CHECK_INT(spool_parse_hits("", 0, "0a1f", note, &s, err, sizeof err), 0);
    CHECK_INT(spool_parse_hits("ghit-spool 1 h", 14, "0a1f", note, &s, err, sizeof err), 0);
    CHECK_INT(s.n, 0);
    CHECK_INT(spool_parse_hits("ghit-spool 9", 12, "0a1f", note, &s, err, sizeof err), -1);
    /* Counts up to what an import accepts, 2^63 - 1. */
    static const char big[] = "ghit-spool 1 hits 0a1f\n3 20000 9223372036854775807 a/b\n";
    CHECK_INT(spool_parse_hits(big, sizeof big - 1, "0a1f", note, &s, err, sizeof err), 0);
    CHECK_INT(s.hits[0], 9223372036854775807ULL);
    static const char bad[] = "ghit-spool 1 hits 0a1f\n3 20000 1 a/b\n4 20001 1 c/d/e\n";
    CHECK_INT(spool_parse_hits(bad, sizeof bad - 1, "0a1f", note, &s, err, sizeof err), -1);
    CHECK(strstr(err, "line 3") != NULL);
}

static void puts_after_deltas(void)
{
    static const struct store_delta d[] = {{"a/b", 20000, 1}, {"c/d", 20000, 1}};
    static const struct store_put p1[] = {{STORE_PUT_SET, {"a/b", 5, 20000, NULL, 0}, 1}};
    static const struct store_put p2[] = {{STORE_PUT_DELETE, {"a/b", 0, 0, NULL, 0}, 2},
                                          {STORE_PUT_SET, {"e/f", 5, 20000, NULL, 0}, 3}};
    /* chunks: 0 deltas, 1 a set of a/b, 2 deltas, 3 a delete of a/b and a set of e/f, 4 deltas */
    const struct spool_chunk c[] = {{1, 20000, d, 2, NULL, 0},
                                    {2, 20000, NULL, 0, p1, 1},
                                    {3, 20000, d, 2, NULL, 0},
                                    {4, 20000, NULL, 0, p2, 2},
                                    {5, 20000, d, 2, NULL, 0}};
    size_t m;
    struct spool_put_at *puts = spool_last_puts(c, 5, &m);
    CHECK_INT(m, 2);
    CHECK(spool_put_after(puts, m, "a/b", 0));
    CHECK(spool_put_after(puts, m, "a/b", 2)); /* the delete in chunk 3 */
    CHECK(!spool_put_after(puts, m, "a/b", 4));
    CHECK(!spool_put_after(puts, m, "c/d", 0));
    CHECK(spool_put_after(puts, m, "e/f", 2));
    free(puts);
    puts = spool_last_puts(c, 1, &m);
    CHECK_INT(m, 0);
    CHECK(!spool_put_after(puts, m, "a/b", 0));
    free(puts);
}

/* The spool's hits and chunks files in dir (its lock file aside). */
static int spooled_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strncmp(e->d_name, "hits-", 5) == 0 || strcmp(e->d_name, "chunks") == 0;
    if (d)
        closedir(d);
    return n;
}

/* Removes dir and the files in it. */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    char path[512];
    for (struct dirent *e; d && (e = readdir(d));) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

/*
 * Hits come faster than the writer writes them (here: it has not started,
 * as when its disk stalls): a lane keeps 16 MB of lines at most, and the
 * spool, whose files then miss hits, gives up at the writer's next turn,
 * so nothing incomplete stays to be sent again at a restart.
 */
static void a_writer_that_falls_behind_bounds_the_memory_and_gives_up(void)
{
    char dir[] = "/tmp/ghit-test-spool-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct spool_recovered rec;
    char err[256] = "";
    struct spool *sp = spool_open(dir, "redis://test", &rec, err, sizeof err);
    CHECK(sp != NULL);
    if (!sp)
        return;
    spool_recovered_free(&rec);
    for (uint64_t i = 0; i < 700000; i++) /* some 21 MB of lines, on this thread's lane */
        spool_hit(sp, "owner/a-repo-name", 20000, i + 1);
    CHECK(spooled_files(dir) > 0); /* its first hits file, open */
    CHECK_INT(spool_start(sp, 10), 0);
    struct timespec pause = {0, 200 * 1000000L};
    nanosleep(&pause, NULL);
    CHECK(!spool_close(sp, false)); /* given up: nothing kept for the next start */
    CHECK_INT(spooled_files(dir), 0);
    remove_dir(dir);
}

int main(void)
{
    RUN(chunks_round_trip);
    RUN(chunks_refused);
    RUN(hits_lines);
    RUN(puts_after_deltas);
    RUN(a_writer_that_falls_behind_bounds_the_memory_and_gives_up);
    return test_main_end("spool");
}
