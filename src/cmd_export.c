/*
 * cmd_export: writes every repo of a store to standard output (issue 10).
 *
 * JSON Lines by default, one repo per line in byte order of its key, as
 * repofmt writes them; CSV with --format csv. The store is opened read-only.
 * SQLite is read in one statement, so the output is one consistent snapshot
 * even while a server writes: it holds the hits written up to the server's
 * last flush. Redis has no snapshot: each repo is read whole at one instant,
 * but not all repos at the same one (store.h, export). Output is buffered and written in 64 KiB
 * pieces; a failed write (a full disk, a closed pipe) is an error, not a short file.
 */
#include "cmd_export.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "cmdopt.h"
#include "repofmt.h"
#include "store.h"

struct export
{
    struct buf out;
    bool csv;
    bool failed; /* a write to stdout failed */
    unsigned long repos;
};

/* Writes what out holds to stdout and empties it. */
static void drain(struct export *e)
{
    if (e->out.len && !e->failed && fwrite(e->out.data, 1, e->out.len, stdout) != e->out.len)
        e->failed = true;
    buf_reset(&e->out);
}

/* store export callback: one repo; nothing more once a write failed (a reader that left). */
static void export_repo(void *arg, const struct store_repo *r)
{
    struct export *e = arg;
    if (e->failed)
        return;
    if (e->csv)
        repofmt_format_csv(&e->out, r);
    else
        repofmt_format_json(&e->out, r);
    e->repos++;
    if (e->out.len >= 65536)
        drain(e);
}

int cmd_export(int argc, char **argv)
{
    const char *db = NULL, *format = "json";
    const struct cmdopt opts[] = {
        {"db", "PATH|URL", "the SQLite file or Redis URL to read (required)", &db, NULL, true,
         NULL},
        {"format", "FORMAT", "json (JSON Lines, the default) or csv", &format, NULL, false,
         "json|csv"},
    };
    static const char usage[] =
        "usage: ghit export --db PATH|URL [--format json|csv]\n"
        "Write every repo's total and daily hits to standard output, sorted by repo.\n"
        "Safe while ghit serve runs: one consistent snapshot of what it has written\n"
        "(on Redis, each repo consistent on its own: see ghit(1)).\n"
        "CSV has a row per repo and day, repo,day,hits; a row with no day holds the\n"
        "hits that have none.\n\n";
    int rc = cmdopt_parse(usage, opts, 2, argc, argv);
    if (rc)
        return rc > 0 ? 0 : 2;
    char err[512];
    struct store *store = store_open_readonly(db, err, sizeof err);
    if (!store) {
        fprintf(stderr, "ghit export: %s\n", err);
        return 1;
    }
    struct export e = {.csv = format[0] == 'c'};
    buf_init(&e.out);
    if (e.csv)
        buf_puts(&e.out, REPOFMT_CSV_HEADER);
    enum store_result res = store->ops->export(store, export_repo, &e, err, sizeof err);
    store_close(store);
    drain(&e);
    buf_fini(&e.out);
    if (res != STORE_OK) {
        fprintf(stderr, "ghit export: %s\n", err);
        return 1;
    }
    if (fflush(stdout) != 0 || e.failed) {
        fprintf(stderr, "ghit export: cannot write the output\n");
        return 1;
    }
    return 0;
}
