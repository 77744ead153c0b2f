/*
 * cmd_vacuum: rebuilds a stopped server's SQLite database in place.
 *
 * A database made before ghit chose 16 KB pages keeps SQLite's 4 KB ones,
 * which its merges pay for at scale (see adopt() in store_sqlite.c), and a
 * database keeps the room of repos deleted. This merges the journal into
 * the tables, then has SQLite rebuild the file with ghit's page size and
 * compact the journal. It opens the store to write, so it holds the
 * writer's lock throughout: no server can start on the file meanwhile, and
 * it refuses a file that a server uses.
 */
#include "cmd_vacuum.h"

#include <stdio.h>
#include <time.h>

#include "cmdopt.h"
#include "monotime.h"
#include "numfmt.h"
#include "redis_url.h"
#include "store.h"

/* "34,078,720 bytes in 4 KB pages" into out. */
static void describe(char *out, size_t len, const struct store_sqlite_size *z)
{
    char bytes[NUMFMT_OUT_MAX];
    numfmt_format(bytes, sizeof bytes, &numfmt_commas, (uint64_t)z->bytes);
    snprintf(out, len, "%s bytes in %d KB pages", bytes, (int)(z->page_size / 1024));
}

int cmd_vacuum(int argc, char **argv)
{
    const char *db = NULL;
    static const char usage[] =
        "usage: ghit vacuum --db PATH\n"
        "Rebuild a SQLite store with ghit's page size and without the room of deleted\n"
        "repos, after merging its journal. The server must be stopped; SQLite needs\n"
        "free space of about twice the file's size.\n\n";
    const struct cmdopt opts[] = {
        {"db", "PATH", "the ghit database (required)", &db, NULL, true, NULL},
    };
    int rc = cmdopt_parse(usage, opts, 1, argc, argv);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (redis_url_is(db)) {
        fprintf(stderr, "ghit vacuum: %s is a Redis store; vacuum rebuilds a SQLite file\n", db);
        return 2;
    }
    if (store_is_busy(db)) {
        fprintf(stderr,
                "ghit vacuum: %s is in use by a ghit server or command; stop it first, "
                "vacuum rewrites the whole file\n",
                db);
        return 1;
    }
    char err[512];
    /* Existing only: a missing, empty or foreign file is refused as it is. */
    struct store *store = store_sqlite_open_existing(db, err, sizeof err);
    if (!store) {
        fprintf(stderr, "ghit vacuum: %s\n", err);
        return 1;
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct store_sqlite_size before, after;
    rc = store_sqlite_vacuum(store, &before, &after, err, sizeof err);
    long long ms = monotime_ms_since(&t0);
    store_close(store);
    if (rc < 0) {
        fprintf(stderr, "ghit vacuum: %s\n", err);
        return 1;
    }
    char was[128], now[128];
    describe(was, sizeof was, &before);
    describe(now, sizeof now, &after);
    printf("ghit vacuum: %s: %s, now %s (%.1f s)\n", db, was, now, (double)ms / 1000);
    return 0;
}
