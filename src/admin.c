/*
 * admin: set and delete over HTTP for the operator (see admin.h).
 *
 * The order of checks is the token first, then the name, then the body:
 * without the token a client learns nothing, not even whether its name or
 * body would have been accepted. Refused tokens are logged as a count at
 * most once a minute (a guessing client must not flood the log); changes
 * are logged one line each, with the repo and the numbers.
 */
#include "admin.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "day.h"
#include "loader.h"
#include "log.h"
#include "repo_key.h"
#include "repofmt.h"
#include "token.h"

struct admin {
    char token[TOKEN_MAX + 1];
    size_t len;
    atomic_ullong refused; /* requests with a missing or wrong token */
    atomic_llong last_logged;
};

struct admin *admin_new(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "--admin-token-file %s: %s", path, strerror(errno));
        return NULL;
    }
    char text[TOKEN_MAX + 64];
    ssize_t n = read(fd, text, sizeof text);
    int read_errno = errno;
    struct stat st;
    bool shared = fstat(fd, &st) == 0 && (st.st_mode & 077);
    close(fd);
    size_t len = 0;
    const char *why = n < 0 ? strerror(read_errno) : token_check(text, (size_t)n, &len);
    if (why) {
        snprintf(err, errlen, "--admin-token-file %s: %s", path, why);
        return NULL;
    }
    if (shared)
        log_warn("--admin-token-file %s can be read by other users: chmod 600 it", path);
    struct admin *a = xcalloc(1, sizeof *a);
    memcpy(a->token, text, len);
    a->len = len;
    atomic_init(&a->refused, 0);
    atomic_init(&a->last_logged, 0);
    return a;
}

void admin_free(struct admin *a)
{
    if (a) {
        memset(a->token, 0, sizeof a->token);
        free(a);
    }
}

bool admin_authorized(const struct admin *a, const char *authorization)
{
    size_t len = 0;
    const char *given = token_bearer(authorization, &len);
    return given && token_equal(given, len, a->token, a->len);
}

unsigned long long admin_refused(const struct admin *a)
{
    return atomic_load(&((struct admin *)a)->refused);
}

/* Whether req carries the operator's token; counts and now and then logs a refusal. */
static bool authorized(const struct admin *a, const struct request *req)
{
    if (admin_authorized(a, req->authorization))
        return true;
    struct admin *m = (struct admin *)a; /* the counters are atomics, safe from any thread */
    unsigned long long n = atomic_fetch_add(&m->refused, 1) + 1;
    long long now = (long long)time(NULL), last = atomic_load(&m->last_logged);
    if (now - last >= 60 && atomic_compare_exchange_strong(&m->last_logged, &last, now))
        log_warn("admin: refused a request without the right token (%llu so far)", n);
    return false;
}

/* PUT: sets the repo's counts from the body. */
static void put(struct counter_table *table, const char *key, const struct request *req,
                struct response *res)
{
    struct repofmt_repo r;
    repofmt_repo_init(&r);
    day_t today = day_from_time(time(NULL));
    const char *err =
        repofmt_parse_json(req->body ? req->body : "", req->body_len, REPOFMT_WITHOUT_REPO, &r);
    if (!err)
        err = repofmt_check_today(&r, today);
    if (err) {
        routes_json_error(res, 400, err);
        repofmt_repo_fini(&r);
        return;
    }
    struct counter_day *days = xcalloc(r.ndays + 1, sizeof *days);
    for (size_t i = 0; i < r.ndays; i++)
        days[i] = (struct counter_day){r.days[i].day, r.days[i].hits};
    struct counter_view v;
    counter_set(table, key, r.total, r.first_day == REPOFMT_NO_DAY ? COUNTER_NO_DAY : r.first_day,
                days, r.ndays, today, &v);
    log_info("admin: set %s to %" PRIu64 " hits, %zu days of history", key, r.total, r.ndays);
    routes_repo_json(res, key, &v, today);
    free(days);
    repofmt_repo_fini(&r);
}

void admin_handle(const struct app *app, const struct request *req, const char *name,
                  struct response *res)
{
    const struct admin *a = app->admin;
    struct counter_table *table = app->table;
    if (!authorized(a, req)) {
        routes_json_error(res, 401, "unauthorized: send Authorization: Bearer TOKEN");
        res->authenticate = true;
        return;
    }
    char key[REPO_KEY_SIZE];
    const char *err = repo_key_parse_path(name, strlen(name), key);
    if (err) {
        routes_json_error(res, 400, err);
        return;
    }
    /*
     * A shared store's cache may not hold the repo, or not its latest
     * figures: they are read first, as a badge's are (the request waits,
     * suspended, and runs again), so that a delete finds a repo that only
     * another frontend counted, and a set keeps the repo's first day.
     */
    struct counter_view v;
    int known = routes_get(app, req, key, day_from_time(time(NULL)), &v, res);
    if (known < 0)
        return;
    /*
     * Not known here and not read (the store fails, the read outlasted the
     * wait, or the loader's queue was full): whether it exists is not
     * known, and a set would not know its first day.
     */
    if (!known && app->loader && (!v.loaded_ms || loader_failing(app->loader))) {
        routes_json_error(res, 503,
                          "the store could not be read in time, so whether the repo exists "
                          "is not known; try again");
        return;
    }
    if (req->put) {
        put(table, key, req, res);
    } else if (counter_delete(table, key)) {
        log_info("admin: deleted %s and its history", key);
        res->status = 200;
        res->content_type = "application/json";
        buf_reset(&res->body);
        buf_printf(&res->body, "{\"repo\":\"%s\",\"deleted\":true}\n", key);
    } else {
        routes_json_error(res, 404, "unknown repo: it has no hits yet");
    }
}
