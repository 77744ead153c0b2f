/*
 * cmd_render: writes DIR/OWNER/NAME.svg for every repo of a store.
 *
 * For sites that serve badges as static files (the 2015 design's cron job).
 * Each badge is written to a temporary file in its final directory and
 * renamed into place, so a static server sees the old file or the new one,
 * never half of one. Paths are built only from keys that pass repo_key
 * validation again (a hand-edited database is not trusted), and every
 * directory is opened relative to DIR with O_NOFOLLOW, so no file is
 * written outside DIR, not even through a symbolic link planted inside it.
 */
#include "cmd_render.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "badge.h"
#include "buf.h"
#include "cmdopt.h"
#include "files.h"
#include "repo_key.h"
#include "redis_url.h"
#include "store.h"

struct render {
    int outfd; /* DIR */
    const struct badge_look *look;
    struct buf svg;
    unsigned written, skipped, failed;
};

/* mkdir -p: makes path and its missing parents. 0, or -1 with errno set. */
static int make_dirs(const char *path)
{
    char *p = xstrdup(path);
    for (char *slash = strchr(p + 1, '/');; slash = strchr(slash + 1, '/')) {
        if (slash)
            *slash = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST) {
            free(p);
            return -1;
        }
        if (!slash)
            break;
        *slash = '/';
    }
    free(p);
    return 0;
}

/* store scan callback: renders one repo. */
static void render_row(void *arg, const struct store_row *row)
{
    struct render *r = arg;
    char key[REPO_KEY_SIZE];
    if (repo_key_parse(row->key, strlen(row->key), key)) {
        fprintf(stderr, "ghit render: skipping a repo whose name is not OWNER/NAME\n");
        r->skipped++;
        return;
    }
    char *slash = strchr(key, '/');
    *slash = '\0';
    const char *owner = key, *name = slash + 1;

    if (mkdirat(r->outfd, owner, 0755) < 0 && errno != EEXIST)
        goto fail;
    int dirfd = openat(r->outfd, owner, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dirfd < 0)
        goto fail;
    char file[REPO_NAME_MAX + 8];
    snprintf(file, sizeof file, "%s.svg", name);
    char message[2 * NUMFMT_OUT_MAX + 8];
    badge_message(message, sizeof message, r->look, row->total, row->day_hits);
    buf_reset(&r->svg);
    badge_render(&r->svg, r->look, message);
    /* A page being served sees the old badge or the new one, also after a power cut. */
    int rc = replace_file_at(dirfd, file, r->svg.data, r->svg.len, 0644, true);
    int saved = errno;
    close(dirfd);
    errno = saved;
    if (rc < 0)
        goto fail;
    r->written++;
    return;
fail:
    fprintf(stderr, "ghit render: %s/%s: %s\n", owner, name, strerror(errno));
    r->failed++;
}

int cmd_render(int argc, char **argv)
{
    const char *db = NULL, *out = NULL;
    struct badge_look look;
    badge_look_init(&look);
    static const char usage[] =
        "usage: ghit render --db PATH|URL --out DIR [OPTION]...\n"
        "Write DIR/OWNER/NAME.svg, the badge of every repo in the store, making DIR if\n"
        "missing. The store is a ghit database or a Redis URL (redis://HOST:PORT[/N],\n"
        "unix:///PATH[?db=N]).\n\n";
    const struct cmdopt opts[] = {
        {"db", "PATH|URL", "the store to read (required)", &db, NULL, true},
        {"out", "DIR", "where to write the badges (required)", &out, NULL, true},
    };
    int rc = cmdopt_parse_look(usage, opts, 2, &look, argc, argv);
    if (rc)
        return rc > 0 ? 0 : 2;
    struct stat st;
    if (!redis_url_is(db) && stat(db, &st) < 0) {
        fprintf(stderr, "ghit render: %s: %s\n", db, strerror(errno));
        return 1;
    }
    char err[512];
    struct store *store = store_open_readonly(db, err, sizeof err);
    if (!store) {
        fprintf(stderr, "ghit render: %s\n", err);
        return 1;
    }
    if (make_dirs(out) < 0) {
        fprintf(stderr, "ghit render: cannot make %s: %s\n", out, strerror(errno));
        store_close(store);
        return 1;
    }
    struct render r = {.look = &look};
    r.outfd = open(out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r.outfd < 0) {
        fprintf(stderr, "ghit render: cannot open %s: %s\n", out, strerror(errno));
        store_close(store);
        return 1;
    }
    buf_init(&r.svg);
    enum store_result res =
        store->ops->scan(store, day_from_time(time(NULL)), render_row, &r, err, sizeof err);
    buf_fini(&r.svg);
    close(r.outfd);
    store_close(store);
    if (res != STORE_OK) {
        /* The scan stops at its error: the badges before it are written whole, the rest kept. */
        fprintf(stderr, "ghit render: %s\n", err);
        if (r.written)
            fprintf(stderr,
                    "ghit render: %u badge%s written before that; the others in %s are as they "
                    "were\n",
                    r.written, r.written == 1 ? " was" : "s were", out);
        return 1;
    }
    printf("ghit render: wrote %u badge%s to %s", r.written, r.written == 1 ? "" : "s", out);
    if (r.skipped || r.failed)
        printf(" (%u skipped, %u failed)", r.skipped, r.failed);
    printf("\n");
    return r.failed || r.skipped ? 1 : 0;
}
