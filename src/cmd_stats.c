/*
 * cmd_stats: prints a store's statistics (see cmd_stats.h).
 *
 * It reads through store_open_reader(), the read-only connection the
 * server's HTTP threads use, so it works beside a running `ghit serve`
 * (SQLite's WAL) and changes nothing. It shows what the store holds: a
 * running server's last flush interval of hits is not in it yet.
 *
 *   --repo: the repo's total, first day and hits on --day, then its last
 *           30 days up to --day, one line each;
 *   else:   how many repos and hits, then the --top K repos of --day and of
 *           the 7 days up to it.
 */
#include "cmd_stats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "alloc.h"
#include "cmdopt.h"
#include "numfmt.h"
#include "repo_key.h"
#include "redis_url.h"
#include "store.h"

#define HISTORY_DAYS 30
#define WEEK         7

/* v grouped with commas, in one of four rotating static buffers (for one printf). */
static const char *grouped(uint64_t v)
{
    static char out[4][NUMFMT_OUT_MAX];
    static unsigned next;
    char *s = out[next++ % 4];
    numfmt_format(s, NUMFMT_OUT_MAX, &numfmt_commas, v);
    return s;
}

/*
 * The columns' least widths, which the widest value in a table widens: a
 * count goes up to 9,223,372,036,854,775,807 (25 characters), a repo's name
 * to 140.
 */
#define RANK_WIDTH 4
#define REPO_WIDTH 50
#define HITS_WIDTH 14

/* The wider of width and text's length. */
static int widen(int width, const char *text)
{
    size_t len = strlen(text);
    return len > (size_t)width ? (int)len : width;
}

/* One line of a top list, kept until the list's widths are known. */
struct top_line {
    char key[REPO_KEY_SIZE];
    char hits[NUMFMT_OUT_MAX];
};

/* A top list as read (at most 1,000 lines: --top). */
struct top_list {
    struct top_line *lines;
    size_t n, cap;
};

/* store top callback: keeps one line of a top list. */
static void keep_top_row(void *arg, const struct store_top_row *row)
{
    struct top_list *t = arg;
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 16;
        t->lines = xrealloc(t->lines, t->cap * sizeof *t->lines);
    }
    struct top_line *l = &t->lines[t->n++];
    snprintf(l->key, sizeof l->key, "%s", row->key);
    numfmt_format(l->hits, sizeof l->hits, &numfmt_commas, row->hits);
}

/* Prints the top k of from..to under a heading, each column as wide as it needs; 0, or 1. */
static int print_top(struct store *s, const char *heading, day_t from, day_t to, unsigned k)
{
    char a[DAY_TEXT_SIZE], b[DAY_TEXT_SIZE], err[512];
    day_format(from, a);
    day_format(to, b);
    struct top_list t = {0};
    if (s->ops->top(s, from, to, k, keep_top_row, &t, err, sizeof err) != STORE_OK) {
        fprintf(stderr, "ghit stats: %s\n", err);
        free(t.lines);
        return 1;
    }
    char rank[24];
    snprintf(rank, sizeof rank, "%zu", t.n);
    int wr = widen(RANK_WIDTH, rank), wk = REPO_WIDTH, wh = HITS_WIDTH;
    for (size_t i = 0; i < t.n; i++) {
        wk = widen(wk, t.lines[i].key);
        wh = widen(wh, t.lines[i].hits);
    }
    if (from == to)
        printf("\n%s, %s\n", heading, a);
    else
        printf("\n%s, %s to %s\n", heading, a, b);
    printf("%*s  %-*s %*s\n", wr, "rank", wk, "repo", wh, "hits");
    for (size_t i = 0; i < t.n; i++)
        printf("%*zu  %-*s %*s\n", wr, i + 1, wk, t.lines[i].key, wh, t.lines[i].hits);
    if (t.n == 0)
        printf("      (no hits)\n");
    free(t.lines);
    return 0;
}

/* The --repo table; 0, 1 after a store error, 3 for an unknown repo. */
static int print_repo(struct store *s, const char *key, day_t day)
{
    char err[512], text[DAY_TEXT_SIZE];
    struct store_row row;
    int found = 0;
    if (s->ops->get(s, key, day, &row, &found, err, sizeof err) != STORE_OK) {
        fprintf(stderr, "ghit stats: %s\n", err);
        return 1;
    }
    if (!found) {
        fprintf(stderr, "ghit stats: %s: unknown repo (no hits stored)\n", key);
        return 3;
    }
    uint64_t hits[HISTORY_DAYS];
    day_t from = day - HISTORY_DAYS + 1;
    if (s->ops->history(s, key, from, day, hits, err, sizeof err) != STORE_OK) {
        fprintf(stderr, "ghit stats: %s\n", err);
        return 1;
    }
    day_format(row.first_day, text);
    printf("%-12s %s\n%-12s %s\n%-12s %s\n", "repo", key, "total", grouped(row.total), "first seen",
           text);
    char shown[HISTORY_DAYS][NUMFMT_OUT_MAX];
    int wh = HITS_WIDTH;
    for (int i = 0; i < HISTORY_DAYS; i++) {
        numfmt_format(shown[i], sizeof shown[i], &numfmt_commas, hits[i]);
        wh = widen(wh, shown[i]);
    }
    day_format(day, text);
    printf("%-12s %s (%s)\n\n%-12s %*s\n", "hits on day", grouped(row.day_hits), text, "day", wh,
           "hits");
    for (int i = 0; i < HISTORY_DAYS; i++) {
        day_format(from + i, text);
        printf("%-12s %*s\n", text, wh, shown[i]);
    }
    return 0;
}

int cmd_stats(int argc, char **argv)
{
    const char *db = NULL, *repo = NULL, *top_text = NULL, *day_text = NULL;
    static const char usage[] =
        "usage: ghit stats --db PATH|URL [--repo OWNER/NAME] [--top K] [--day DAY]\n"
        "Print a store's statistics as a table; works while ghit serve runs.\n\n";
    const struct cmdopt opts[] = {
        {"db", "PATH|URL", "the SQLite file or Redis URL to read (required)", &db, NULL, true},
        {"repo", "OWNER/NAME", "one repo: its figures and last 30 days", &repo},
        {"top", "K", "how many repos the top lists show (default: 10)", &top_text},
        {"day", "YYYY-MM-DD", "the day asked about (default: today, UTC)", &day_text},
    };
    int rc = cmdopt_parse(usage, opts, 4, argc, argv);
    if (rc)
        return rc > 0 ? 0 : 2;
    unsigned top = 10;
    if (top_text) {
        char *end;
        errno = 0;
        unsigned long k = strtoul(top_text, &end, 10);
        if (errno || end == top_text || *end || top_text[0] == '-' || k < 1 || k > 1000) {
            fprintf(stderr, "ghit stats: --top %s: must be a whole number from 1 to 1000\n",
                    top_text);
            return 2;
        }
        top = (unsigned)k;
    }
    day_t day = day_from_time(time(NULL));
    const char *why = day_text ? day_parse(day_text, &day) : NULL;
    if (why) {
        fprintf(stderr, "ghit stats: --day %s: %s\n", day_text, why);
        return 2;
    }
    char key[REPO_KEY_SIZE], err[512];
    why = repo ? repo_key_parse(repo, strlen(repo), key) : NULL;
    if (why) {
        fprintf(stderr, "ghit stats: --repo %s: %s\n", repo, why);
        return 2;
    }
    struct stat st;
    if (!redis_url_is(db) && stat(db, &st) < 0) {
        fprintf(stderr, "ghit stats: %s: %s\n", db, strerror(errno));
        return 1;
    }
    char shown[512]; /* db as said to the user: without a Redis URL's password */
    redis_url_redact(db, shown, sizeof shown);
    struct store *s = store_open_reader(db, err, sizeof err);
    if (!s) {
        fprintf(stderr, "ghit stats: %s\n", err);
        return 1;
    }
    if (repo) {
        rc = print_repo(s, key, day);
    } else {
        uint64_t repos = 0, hits = 0;
        rc = s->ops->summary(s, &repos, &hits, err, sizeof err) != STORE_OK;
        if (rc)
            fprintf(stderr, "ghit stats: %s\n", err);
        else
            printf("%s: %s repos, %s hits\n", shown, grouped(repos), grouped(hits));
        char heading[64];
        snprintf(heading, sizeof heading, "top %u of the day", top);
        rc = rc || print_top(s, heading, day, day, top);
        snprintf(heading, sizeof heading, "top %u of the %d days", top, WEEK);
        rc = rc || print_top(s, heading, day - WEEK + 1, day, top);
    }
    store_close(s);
    return rc;
}
