/*
 * cmd_import: reads repos from standard input into a store (issue 10).
 *
 * Everything is read and checked first: a bad line is reported with its
 * number and nothing is written. Then every repo is written in one store
 * transaction: added to what the store holds (merge, the default), or, with
 * --replace, in place of it (repos not in the input are kept). A SQLite
 * store must not have a server running on it: there is never a second
 * writer, so an import then is refused (stop the server, import, start
 * it). Redis is written directly beside its frontends, in chunks each
 * atomic and exactly once, not one transaction (store.h, write).
 *
 * JSON Lines (the export format) or, with --format csv, rows of
 * repo,day,hits, which may come in any order; a row with an empty day
 * holds hits that have no day; a UTF-8 byte order mark before the first
 * line is skipped. A repo's first day is given in JSON, the
 * earliest of its days otherwise, and today when it has none. A day after
 * today (UTC) is refused, as PUT refuses it: counts are of views that
 * happened.
 */
#include "cmd_import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "cmdopt.h"
#include "count.h"
#include "redis_url.h"
#include "repofmt.h"
#include "runfile.h"
#include "store.h"

/* One repo to import. */
struct item {
    char key[REPO_KEY_SIZE];
    uint64_t total;
    day_t first_day;
    struct store_day *days; /* owned */
    size_t ndays, cap;
    unsigned long line; /* where it was read (its first row in CSV) */
};

/* One CSV row, before rows are gathered into repos. */
struct row {
    char key[REPO_KEY_SIZE];
    day_t day;
    uint64_t hits;
    unsigned long line;
};

struct input {
    struct item *items;
    size_t n, cap;
    struct row *rows;
    size_t nrows, rows_cap;
};

/* A new item at the end of in. */
static struct item *new_item(struct input *in)
{
    if (in->n == in->cap) {
        in->cap = in->cap ? 2 * in->cap : 64;
        in->items = xrealloc(in->items, in->cap * sizeof *in->items);
    }
    struct item *it = &in->items[in->n++];
    memset(it, 0, sizeof *it);
    return it;
}

/* Orders items by key. */
static int by_key(const void *a, const void *b)
{
    return strcmp(((const struct item *)a)->key, ((const struct item *)b)->key);
}

/* Orders rows by key, then day, then line. */
static int by_key_day(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* Parses one JSON line into a new item; NULL or what is wrong. */
static const char *json_line(struct input *in, const char *line, size_t len, struct repofmt_repo *r,
                             day_t today)
{
    const char *err = repofmt_parse_json(line, len, REPOFMT_WITH_REPO, r);
    if (!err)
        err = repofmt_check_today(r, today);
    if (err)
        return err;
    struct item *it = new_item(in);
    memcpy(it->key, r->key, sizeof it->key);
    it->total = r->total;
    it->first_day = r->first_day != REPOFMT_NO_DAY ? r->first_day
                    : r->ndays                     ? r->days[0].day
                                                   : today;
    it->days = r->days; /* the item takes the days over */
    it->ndays = r->ndays;
    r->days = NULL;
    r->ndays = r->cap = 0;
    return NULL;
}

/* Parses one CSV row; NULL or what is wrong. */
static const char *csv_line(struct input *in, const char *line, size_t len, unsigned long lineno,
                            day_t today)
{
    if (lineno == 1 && len + 1 == strlen(REPOFMT_CSV_HEADER) &&
        memcmp(line, REPOFMT_CSV_HEADER, len) == 0)
        return NULL;
    if (in->nrows == in->rows_cap) {
        in->rows_cap = in->rows_cap ? 2 * in->rows_cap : 256;
        in->rows = xrealloc(in->rows, in->rows_cap * sizeof *in->rows);
    }
    struct row *rw = &in->rows[in->nrows];
    rw->line = lineno;
    const char *err = repofmt_parse_csv(line, len, rw->key, &rw->day, &rw->hits);
    if (!err)
        err = repofmt_check_day(rw->day, today);
    if (!err)
        in->nrows++;
    return err;
}

/* Gathers the CSV rows into items; 0, or -1 after reporting a repeated row. */
static int gather_rows(struct input *in, day_t today)
{
    if (in->nrows > 1)
        qsort(in->rows, in->nrows, sizeof *in->rows, by_key_day);
    struct item *it = NULL;
    for (size_t i = 0; i < in->nrows; i++) {
        const struct row *rw = &in->rows[i];
        if (!it || strcmp(it->key, rw->key) != 0) {
            it = new_item(in);
            memcpy(it->key, rw->key, sizeof it->key);
            it->first_day = rw->day != REPOFMT_NO_DAY ? rw->day : today;
            it->line = rw->line;
        } else if (rw->day == in->rows[i - 1].day) {
            fprintf(stderr, "ghit import: line %lu: %s has a row for this day on line %lu too\n",
                    rw->line, rw->key, in->rows[i - 1].line);
            return -1;
        }
        /* A total stops at COUNT_MAX while its days go on (repofmt.h), as export wrote it. */
        it->total = count_add(it->total, rw->hits);
        if (it->first_day > rw->day && rw->day != REPOFMT_NO_DAY)
            it->first_day = rw->day;
        if (rw->day == REPOFMT_NO_DAY || rw->hits == 0)
            continue;
        if (it->ndays == it->cap) {
            it->cap = it->cap ? 2 * it->cap : 16;
            it->days = xrealloc(it->days, it->cap * sizeof *it->days);
        }
        it->days[it->ndays++] = (struct store_day){rw->day, rw->hits};
    }
    return 0;
}

/* Reads and checks all of stdin into in; 0, or -1 after reporting the first bad line. */
static int read_input(struct input *in, bool csv, day_t today)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long lineno = 0;
    struct repofmt_repo r;
    repofmt_repo_init(&r);
    int rc = 0;
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        const char *text = line;
        /* A byte order mark, which spreadsheets write before UTF-8: not part of the line. */
        if (lineno == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
            text += 3;
            len -= 3;
        }
        if (len == 0)
            continue;
        const char *err = csv ? csv_line(in, text, (size_t)len, lineno, today)
                              : json_line(in, text, (size_t)len, &r, today);
        if (err) {
            fprintf(stderr, "ghit import: line %lu: %s; nothing was imported\n", lineno, err);
            rc = -1;
            break;
        }
        if (!csv)
            in->items[in->n - 1].line = lineno;
    }
    free(line);
    repofmt_repo_fini(&r);
    if (rc == 0 && ferror(stdin)) {
        fprintf(stderr, "ghit import: cannot read standard input; nothing was imported\n");
        rc = -1;
    }
    if (rc == 0 && csv && gather_rows(in, today) < 0)
        rc = -1;
    if (rc)
        return rc;
    if (in->n > 1)
        qsort(in->items, in->n, sizeof *in->items, by_key);
    for (size_t i = 1; i < in->n; i++) {
        if (strcmp(in->items[i].key, in->items[i - 1].key) == 0) {
            const struct item *a = &in->items[i - 1], *b = &in->items[i];
            fprintf(stderr, "ghit import: line %lu: %s is on line %lu too; nothing was imported\n",
                    a->line > b->line ? a->line : b->line, a->key,
                    a->line > b->line ? b->line : a->line);
            return -1;
        }
    }
    return 0;
}

/* Reports err, after which the store is as it was: the same import can simply run again. */
static void nothing_imported(const char *err)
{
    fprintf(stderr, "ghit import: %s; nothing was imported, so it is safe to run it again\n", err);
}

/* Writes every item into the store at db, alone; 0, or 1 after reporting why not. */
static int write_all(const char *db, const struct input *in, bool replace)
{
    char err[512];
    /* Opening takes the writer's lock: it fails while a server runs on db. */
    struct store *store = store_open(db, err, sizeof err);
    if (!store && store_is_busy(db)) {
        fprintf(stderr,
                "ghit import: a ghit server runs on %s (or another command writes it); an import "
                "never writes beside it: stop the server, import, start it again\n",
                db); /* a SQLite path: store_is_busy() is false for a Redis URL */
        return 1;
    }
    if (!store) {
        nothing_imported(err);
        return 1;
    }
    /*
     * Redis opens without being reached, and a write that fails cannot tell
     * whether its first chunk applied. So it is reached first: a Redis that
     * is down, or refuses writes, has then had nothing of this import.
     */
    if (store->ops->shared && store->ops->check(store, err, sizeof err) != STORE_OK) {
        nothing_imported(err);
        store_close(store);
        return 1;
    }
    struct store_put *puts = xcalloc(in->n + 1, sizeof *puts);
    for (size_t i = 0; i < in->n; i++) {
        const struct item *it = &in->items[i];
        puts[i] = (struct store_put){replace ? STORE_PUT_SET : STORE_PUT_ADD,
                                     {it->key, it->total, it->first_day, it->days, it->ndays}};
    }
    int status = store_write(store, puts, in->n, err, sizeof err) == STORE_OK ? 0 : 1;
    free(puts);
    if (status && store->ops->shared)
        fprintf(stderr,
                "ghit import: %s; the import stopped part way: the repos up to some point "
                "(in key order) are written, each exactly once. With --replace, run the "
                "same import again; a merge run again would add those repos twice\n",
                err);
    else if (status)
        nothing_imported(err); /* SQLite: one transaction, rolled back */
    store_close(store);
    return status;
}

int cmd_import(int argc, char **argv)
{
    const char *db = NULL, *format = "json";
    bool replace = false;
    const struct cmdopt opts[] = {
        {"db", "PATH|URL", "SQLite file (made if absent) or Redis URL (required)", &db, NULL, true,
         NULL},
        {"format", "FORMAT", "json (JSON Lines, the default) or csv", &format, NULL, false,
         "json|csv"},
        {"replace", NULL, "replace the counts of the repos read, not add", NULL, &replace},
    };
    static const char usage[] =
        "usage: ghit import --db PATH|URL [--format json|csv] [--replace] < FILE\n"
        "Read repos from standard input (as ghit export writes them) and add them to\n"
        "the store, all or nothing. Refused while ghit serve runs on the store.\n\n";
    int rc = cmdopt_parse(usage, opts, 3, argc, argv);
    if (rc)
        return rc > 0 ? 0 : 2;
    struct input in = {0};
    int status = read_input(&in, format[0] == 'c', day_from_time(time(NULL))) < 0
                     ? 1
                     : write_all(db, &in, replace);
    if (status == 0) {
        uint64_t hits = 0;
        for (size_t i = 0; i < in.n; i++)
            hits = count_add(hits, in.items[i].total);
        char shown[512]; /* without a Redis URL's password */
        redis_url_redact(db, shown, sizeof shown);
        printf("ghit import: imported %zu repos, %llu hits into %s%s\n", in.n,
               (unsigned long long)hits, shown, replace ? " (replacing their counts)" : "");
    }
    for (size_t i = 0; i < in.n; i++)
        free(in.items[i].days);
    free(in.items);
    free(in.rows);
    return status;
}
