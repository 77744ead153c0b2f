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
 *
 * Before it opens anything it checks the free space (statvfs) where SQLite
 * will write: a rebuild that ran out of it would stop with the file as it
 * was, but after minutes of work and with only "database or disk is full"
 * to say why. The figures are an estimate, from the files' sizes.
 */
#include "cmd_vacuum.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "cmdopt.h"
#include "count.h"
#include "files.h"
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

bool cmd_vacuum_room_enough(const struct cmd_vacuum_room *r, char *why, size_t len)
{
    uint64_t need = r->same_fs ? count_add(r->files, r->files) : r->files;
    bool dir_short = r->dir_free < need;
    if (!dir_short && (r->same_fs || r->tmp_free >= need))
        return true;
    char needs[NUMFMT_OUT_MAX], has[NUMFMT_OUT_MAX];
    numfmt_format(needs, sizeof needs, &numfmt_commas, need);
    numfmt_format(has, sizeof has, &numfmt_commas, dir_short ? r->dir_free : r->tmp_free);
    if (r->same_fs)
        snprintf(why, len,
                 "the rebuild needs about %s bytes free on the file system of %s and of SQLite's "
                 "temporary directory %s (the files' size twice: its rollback journal and its "
                 "temporary copy), and it has %s",
                 needs, r->dir, r->tmp, has);
    else if (dir_short)
        snprintf(why, len,
                 "the rebuild needs about %s bytes free in %s for SQLite's rollback journal (the "
                 "files' size), and it has %s",
                 needs, r->dir, has);
    else
        snprintf(why, len,
                 "the rebuild needs about %s bytes free in %s for SQLite's temporary copy of the "
                 "database (set SQLITE_TMPDIR to a directory with room), and it has %s",
                 needs, r->tmp, has);
    return false;
}

/*
 * The directory SQLite's unix VFS puts its temporary files in, VACUUM's
 * copy among them: the first of $SQLITE_TMPDIR, $TMPDIR, /var/tmp,
 * /usr/tmp, /tmp and . that is a directory this user may write and enter
 * (SQLite's documentation, "Temporary Files"; ghit never sets
 * sqlite3_temp_directory). NULL if none is: SQLite would fail too.
 */
static const char *temp_dir(void)
{
    const char *dirs[] = {
        getenv("SQLITE_TMPDIR"), getenv("TMPDIR"), "/var/tmp", "/usr/tmp", "/tmp", "."};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        struct stat st;
        if (dirs[i] && stat(dirs[i], &st) == 0 && S_ISDIR(st.st_mode) &&
            access(dirs[i], W_OK | X_OK) == 0)
            return dirs[i];
    }
    return NULL;
}

/* The bytes free in dir to a user who is not root, and its device; 0, or -1 (not known). */
static int free_in(const char *dir, uint64_t *bytes, dev_t *dev)
{
    struct statvfs vfs;
    struct stat st;
    if (statvfs(dir, &vfs) < 0 || stat(dir, &st) < 0)
        return -1;
    *bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    *dev = st.st_dev;
    return 0;
}

/*
 * Checks that db's file systems have room for its vacuum; 0, or 1 after
 * reporting. A place whose free space cannot be read is not held against it.
 */
static int check_room(const char *db)
{
    char *dir = file_dir(db);
    struct cmd_vacuum_room r = {
        store_sqlite_files_bytes(db), dir, UINT64_MAX, temp_dir(), UINT64_MAX, false};
    dev_t dir_dev = 0, tmp_dev = 0;
    bool dir_known = free_in(dir, &r.dir_free, &dir_dev) == 0;
    bool tmp_known = r.tmp && free_in(r.tmp, &r.tmp_free, &tmp_dev) == 0;
    r.same_fs = dir_known && tmp_known && dir_dev == tmp_dev;
    char why[1024];
    int rc = 0;
    if (!cmd_vacuum_room_enough(&r, why, sizeof why)) {
        fprintf(stderr,
                "ghit vacuum: not enough free space for %s: %s; nothing was changed: free some "
                "space and run it again\n",
                db, why);
        rc = 1;
    }
    free(dir);
    return rc;
}

int cmd_vacuum(int argc, char **argv)
{
    const char *db = NULL;
    static const char usage[] =
        "usage: ghit vacuum --db PATH\n"
        "Rebuild a SQLite store with ghit's page size and without the room of deleted\n"
        "repos, after merging its journal. The server must be stopped; SQLite needs\n"
        "free space of about twice the file's size, which is checked first.\n\n";
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
    if (check_room(db))
        return 1;
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
