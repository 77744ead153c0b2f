/*
 * cmd_set: `ghit set` and `ghit delete` (issue 10).
 *
 * On Redis there is no writer's lock: the command writes Redis directly,
 * in one atomic, exactly-once script, beside the running frontends; the
 * script tells them through ghit:feed, and each reads the repo again for
 * its next badge.
 *
 * Never two writers: the command first takes the store's writer lock
 * (runfile.h). If it gets it, no server runs, and it writes the store
 * directly, holding the lock. If a server holds it, the command goes
 * through that server's admin routes, at the address the server wrote
 * beside the database, with the token read from the file the server names
 * (or --admin-token-file): whoever cannot read the token cannot change a
 * running server's counts. Either way the next badge shows the change.
 */
#include "cmd_set.h"

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cmdopt.h"
#include "count.h"
#include "redis_url.h"
#include "repo_key.h"
#include "repofmt.h"
#include "runfile.h"
#include "store.h"
#include "token.h"

/* What to do to one repo. */
struct change {
    const char *cmd; /* "set" or "delete" */
    const char *db;
    char key[REPO_KEY_SIZE];
    bool del;
    uint64_t total;
    const char *token_file; /* NULL: the one the server names */
};

struct find {
    const char *key;
    bool found;
    day_t first_day;
};

/* store scan callback: notes key's first day. */
static void find_row(void *arg, const struct store_row *row)
{
    struct find *f = arg;
    if (strcmp(row->key, f->key) == 0) {
        f->found = true;
        f->first_day = row->first_day;
    }
}

/* Makes the change in the store at db, whose lock the caller holds; 0, or 1 after reporting. */
static int change_directly(const struct change *ch)
{
    char err[512];
    /*
     * Only an existing ghit database: a typo in --db, or a file made empty
     * by mistake, would otherwise become a new store holding this one repo,
     * and "now has 5 hits" would be said of a store no server reads. The
     * open is the check, so a file removed since the lock's probe is not
     * made again. Of the commands, only import makes a store.
     */
    struct store *store = store_open_existing(ch->db, err, sizeof err);
    if (!store) {
        fprintf(stderr, "ghit %s: %s\n", ch->cmd, err);
        return 1;
    }
    day_t today = day_from_time(time(NULL));
    struct find f = {ch->key, false, today};
    enum store_result r;
    if (store->ops->shared) {
        /* Redis: one repo's keys, not a scan of every repo. */
        struct store_row row;
        int found = 0;
        r = store->ops->get(store, ch->key, today, &row, &found, err, sizeof err);
        f.found = found;
        if (found)
            f.first_day = row.first_day;
    } else {
        r = store->ops->scan(store, today, find_row, &f, err, sizeof err);
    }
    int status = 1;
    if (r == STORE_OK && ch->del && !f.found) {
        snprintf(err, sizeof err, "unknown repo %s: it has no hits", ch->key);
    } else if (r == STORE_OK) {
        struct store_put p = {ch->del ? STORE_PUT_DELETE : STORE_PUT_SET,
                              {ch->key, ch->total, f.first_day, NULL, 0}};
        r = store_write(store, &p, 1, err, sizeof err);
        status = r == STORE_OK ? 0 : 1;
    }
    store_close(store);
    if (status)
        fprintf(stderr, "ghit %s: %s\n", ch->cmd, err);
    return status;
}

/* Connects to HOST:PORT or [HOST]:PORT; a wildcard host means this machine. -1 after reporting. */
static int connect_to(const char *cmd, const char *address)
{
    char host[128];
    const char *port;
    if (address[0] == '[') {
        size_t n = strcspn(address + 1, "]");
        snprintf(host, sizeof host, "%.*s", (int)n, address + 1);
        port = address + 1 + n + (address[1 + n] ? 2 : 1);
    } else {
        const char *colon = strrchr(address, ':');
        size_t n = colon ? (size_t)(colon - address) : strlen(address);
        snprintf(host, sizeof host, "%.*s", (int)n, address);
        port = colon ? colon + 1 : "";
    }
    if (strcmp(host, "0.0.0.0") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    else if (strcmp(host, "::") == 0)
        snprintf(host, sizeof host, "::1");
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST}, *ai;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc) {
        fprintf(stderr, "ghit %s: the server's address %s: %s\n", cmd, address, gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
    struct timeval tv = {10, 0};
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        fprintf(stderr, "ghit %s: cannot reach the server at %s: %s\n", cmd, address,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

/* Reads the token from path into out (TOKEN_MAX + 1 bytes); 0, or -1 after reporting. */
static int read_token(const char *cmd, const char *path, char *out)
{
    FILE *f = fopen(path, "re");
    char text[TOKEN_MAX + 64];
    size_t n = f ? fread(text, 1, sizeof text, f) : 0, len = 0;
    const char *why = !f ? strerror(errno) : token_check(text, n, &len);
    if (f)
        fclose(f);
    if (why) {
        fprintf(stderr, "ghit %s: the admin token file %s: %s\n", cmd, path, why);
        return -1;
    }
    memcpy(out, text, len);
    out[len] = '\0';
    return 0;
}

/* Sends the change to the server that rf describes; 0, or 1 after reporting. */
static int change_through_server(const struct change *ch, const struct runfile *rf)
{
    const char *token_file = ch->token_file ? ch->token_file : rf->token_file;
    if (!token_file[0]) {
        fprintf(stderr,
                "ghit %s: a ghit server runs on %s without --admin-token-file, so it takes no "
                "changes: restart it with one, or stop it and run this again\n",
                ch->cmd, ch->db);
        return 1;
    }
    char token[TOKEN_MAX + 1];
    if (read_token(ch->cmd, token_file, token) < 0)
        return 1;
    int fd = connect_to(ch->cmd, rf->address);
    if (fd < 0)
        return 1;
    char body[64] = "";
    if (!ch->del)
        snprintf(body, sizeof body, "{\"total\":%" PRIu64 "}", ch->total);
    struct buf req;
    buf_init(&req);
    buf_printf(&req,
               "%s /api/v1/repos/%s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
               "Content-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n"
               "%s",
               ch->del ? "DELETE" : "PUT", ch->key, rf->address, token, strlen(body), body);
    memset(token, 0, sizeof token);
    bool sent = write(fd, req.data, req.len) == (ssize_t)req.len;
    memset(req.data, 0, req.len);
    buf_reset(&req);
    ssize_t n;
    char chunk[4096];
    while (sent && (n = read(fd, chunk, sizeof chunk)) > 0)
        buf_append(&req, chunk, (size_t)n);
    close(fd);
    unsigned status = 0;
    if (req.len > 12 && strncmp(req.data, "HTTP/1.", 7) == 0)
        status = (unsigned)strtoul(req.data + 9, NULL, 10);
    const char *reply = strstr(req.data, "\r\n\r\n");
    reply = reply ? reply + 4 : "";
    int rc = 0;
    if (status != 200) {
        if (status)
            fprintf(stderr, "ghit %s: the server at %s answered %u: %s", ch->cmd, rf->address,
                    status, reply);
        else
            fprintf(stderr, "ghit %s: no answer from the server at %s\n", ch->cmd, rf->address);
        rc = 1;
    }
    buf_fini(&req);
    return rc;
}

/* Applies ch directly or through the running server; 0, or 1 after reporting. */
static int change(const struct change *ch)
{
    /* A server that is starting or stopping holds the lock before or after its run file: wait. */
    for (int tries = 0; tries < 50; tries++) {
        /* No server holds the writer's lock: write directly (opening the store takes it). */
        if (!store_is_busy(ch->db))
            return change_directly(ch);
        struct runfile rf;
        if (runfile_read(ch->db, &rf) == 0)
            return change_through_server(ch, &rf);
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    /* The lock tells that something writes the file, not what: it may be either. */
    fprintf(stderr,
            "ghit %s: %s is locked by another process, and no %s.serve names a running server: "
            "a ghit command writing it (import, vacuum: run this again once it ends), or a "
            "ghit serve whose %s.serve file was removed (restart it to write the file again)\n",
            ch->cmd, ch->db, ch->db, ch->db);
    return 1;
}

/* Parses and checks the options common to set and delete into ch; 0, 1 (help) or -1. */
static int parse(struct change *ch, const char *usage, int argc, char **argv, const char **total)
{
    const char *repo = NULL;
    const struct cmdopt opts[] = {
        {"db", "PATH|URL", "the SQLite file or Redis URL to change (required)", &ch->db, NULL, true,
         NULL},
        {"repo", "OWNER/NAME", "the repo (required)", &repo, NULL, true, NULL},
        {"admin-token-file", "PATH", "the token, if not the file the running server names",
         &ch->token_file, NULL, false, NULL},
        {"total", "N", "the repo's new total (required)", total, NULL, true, NULL},
    };
    int rc = cmdopt_parse(usage, opts, total ? 4 : 3, argc, argv);
    if (rc)
        return rc;
    const char *why = repo_key_parse(repo, strlen(repo), ch->key);
    if (why) {
        fprintf(stderr, "ghit %s: --repo %s: %s\n", ch->cmd, repo, why);
        return -1;
    }
    return 0;
}

int cmd_set(int argc, char **argv)
{
    struct change ch = {.cmd = "set"};
    const char *total = NULL;
    static const char usage[] =
        "usage: ghit set --db PATH|URL --repo OWNER/NAME --total N\n"
        "Set a repo's total (its daily history is cleared), through the running server\n"
        "if one runs on the store, else directly.\n\n";
    int rc = parse(&ch, usage, argc, argv, &total);
    if (rc)
        return rc > 0 ? 0 : 2;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(total, &end, 10);
    if (errno || *end || total[0] < '0' || total[0] > '9' || v > COUNT_MAX) {
        fprintf(stderr, "ghit set: --total %s: must be a whole number from 0 to %llu\n", total,
                COUNT_MAX);
        return 2;
    }
    ch.total = v;
    rc = change(&ch);
    if (rc == 0)
        printf("ghit set: %s now has %" PRIu64 " hits\n", ch.key, ch.total);
    return rc;
}

int cmd_delete(int argc, char **argv)
{
    struct change ch = {.cmd = "delete", .del = true};
    static const char usage[] =
        "usage: ghit delete --db PATH|URL --repo OWNER/NAME\n"
        "Delete a repo and its history, through the running server if one runs on the\n"
        "store, else directly.\n\n";
    int rc = parse(&ch, usage, argc, argv, NULL);
    if (rc)
        return rc > 0 ? 0 : 2;
    rc = change(&ch);
    if (rc == 0)
        printf("ghit delete: deleted %s and its history\n", ch.key);
    return rc;
}
