/*
 * routes: the handlers behind each URL (see routes.h).
 *
 *   GET /badge.svg?repo=OWNER/NAME   counts a hit, answers the badge
 *   GET /count.svg?repo=OWNER/NAME   answers the badge without counting
 *   GET /api/v1/repos/OWNER/NAME     the counts as JSON, without counting
 *   GET /healthz                     200 while the store takes writes, else 503
 *   GET /                            a short text on how to use ghit
 *   the statistics and dashboard URLs (routes_stats.c, routes_web.c), issue 9
 *
 * A badge URL answers every error with an error badge, since whatever asked
 * for it displays images; the API answers JSON; the rest plain text.
 */
#include "routes.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "badge.h"
#include "json.h"
#include "loader.h"
#include "log.h"
#include "metrics.h"
#include "monotime.h"
#include "newrepo_limit.h"
#include "policy.h"
#include "repo_key.h"
#include "routes_stats.h"
#include "routes_web.h"
#include "spool.h"

static const char api_prefix[] = "/api/v1/repos/";

void routes_text(struct response *res, unsigned status, const char *message)
{
    res->status = status;
    res->content_type = "text/plain; charset=utf-8";
    buf_reset(&res->body);
    buf_puts(&res->body, message);
    buf_putc(&res->body, '\n');
}

/*
 * A strong ETag from the body: it changes exactly when the bytes change
 * (up to 64-bit collisions). The body is ghit's own output, so the hash
 * needs no secret. Four independent lanes of 8 bytes keep the multiplier
 * busy: SipHash over a 1 KB badge cost 10 % of a hit's instructions, one
 * lane still 1.7 % of the server's CPU (callgrind, perf).
 */
static void set_etag(struct response *res)
{
    const unsigned char *p = (const unsigned char *)res->body.data;
    size_t n = res->body.len;
    const uint64_t m = 0xff51afd7ed558ccdULL;
    uint64_t lane[4] = {0x9e3779b97f4a7c15ULL ^ n, 0xc2b2ae3d27d4eb4fULL, 0x165667b19e3779f9ULL,
                        0x27d4eb2f165667c5ULL};
    for (; n >= 32; p += 32, n -= 32) {
        for (int i = 0; i < 4; i++) {
            uint64_t w;
            memcpy(&w, p + 8 * i, 8);
            lane[i] = (lane[i] ^ w) * m;
            lane[i] ^= lane[i] >> 29;
        }
    }
    uint64_t h = lane[0] ^ (lane[1] * 3) ^ (lane[2] * 5) ^ (lane[3] * 7);
    for (; n; p++, n--)
        h = (h ^ *p) * 0x100000001b3ULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    static const char hex[] = "0123456789abcdef";
    res->etag[0] = '"';
    for (int i = 0; i < 16; i++)
        res->etag[1 + i] = hex[(h >> (60 - 4 * i)) & 15];
    res->etag[17] = '"';
    res->etag[18] = '\0';
}

/* Marks res as an SVG badge reply: content type, no-cache headers, ETag. */
static void svg_reply(struct response *res, unsigned status)
{
    res->status = status;
    res->content_type = "image/svg+xml; charset=utf-8";
    res->no_cache = true;
    set_etag(res);
}

/* Fills res with an error badge (the server's look, message in red). */
static void error_badge(const struct app *app, struct response *res, unsigned status,
                        const char *message)
{
    buf_reset(&res->body);
    badge_render_error(&res->body, &app->cfg->look, message);
    svg_reply(res, status);
}

/* A refusal that is counted and logged at most once a minute, so a flood cannot flood the log. */
struct refusal {
    atomic_llong last_logged; /* time(), s */
    atomic_ullong count;
};

static struct refusal repo_limit_refusals, rate_refusals;

/* Counts one refusal and, at most once a minute, logs it: what, over option's limit, how many. */
static void refuse(struct refusal *r, const char *what, const char *option, unsigned limit)
{
    unsigned long long n = atomic_fetch_add(&r->count, 1) + 1;
    long long now = (long long)time(NULL), last = atomic_load(&r->last_logged);
    if (now - last >= 60 && atomic_compare_exchange_strong(&r->last_logged, &last, now))
        log_warn("%s (--%s %u): refused new repos %llu times so far", what, option, limit, n);
}

void routes_refusals(uint64_t *repo_limit, uint64_t *new_repo_rate)
{
    *repo_limit = atomic_load(&repo_limit_refusals.count);
    *new_repo_rate = atomic_load(&rate_refusals.count);
}

/* The loader requests a request waits for at most: the second if its repo was freed meanwhile. */
#define LOAD_TRIES 2

/* What wait_for_load() found. */
enum load {
    LOAD_KNOWN,   /* the cache's figures of the repo (or that it is absent) are good */
    LOAD_WAIT,    /* res->wait_load is set: the request runs again once they are read */
    LOAD_UNKNOWN, /* they cannot be read now: the loader's queue is full, or its wait ran out */
};

/* Whether the cache holds the loader's read of key, be it that the store has no such repo. */
static bool was_read(const struct app *app, const char *key)
{
    struct counter_view v = {0};
    counter_get(app->table, key, 0, &v);
    return v.loaded_ms != 0;
}

/*
 * A frontend of a shared store (issue 8): LOAD_KNOWN if the cache's
 * figures of key, v, were read within --max-age (or there is no store to
 * read). Else asks the loader for them and sets res->wait_load: http.c
 * holds the request and runs it again, resumed, once the loader is done
 * with it or the wait is over.
 */
static enum load wait_for_load(const struct app *app, const char *key, const struct counter_view *v,
                               const struct request *req, struct response *res)
{
    if (!app->loader)
        return LOAD_KNOWN;
    if (req->resumed) {
        if (req->load_given_up)
            return LOAD_UNKNOWN;
        /*
         * Read, and freed again before the request ran: a cache over its
         * size frees what holds no hits (counter_evict), and a repo just
         * read holds none yet. Read once more rather than count the repo
         * as new, with "?" on its badge.
         */
        if (v->loaded_ms || req->loads >= LOAD_TRIES || was_read(app, key))
            return LOAD_KNOWN;
    } else if (loader_current(app->loader)
                   ? v->current
                   : v->loaded_ms && !v->changed &&
                         monotime_ms() - v->loaded_ms <= (int64_t)app->max_age_ms) {
        /*
         * While the loader follows the others' changes, figures are good
         * until one comes (current); else until --max-age, unless a change
         * it read before it fell behind named this repo.
         */
        return LOAD_KNOWN;
    }
    res->wait_load = loader_request(app->loader, key);
    res->loads = req->loads + 1;
    return res->wait_load ? LOAD_WAIT : LOAD_UNKNOWN;
}

#define NEW_REPOS_REFUSED "too many new repos from this address; try later"

/* What count_hit did. */
enum hit {
    HIT_NOT_ASKED, /* the fetch does not count (HEAD, /count.svg, a counting rule) */
    HIT_COUNTED,
    HIT_ANSWERED,   /* res holds the answer: an error badge, or a wait for the store */
    HIT_UNREADABLE, /* not counted: maybe new, but the store cannot be read to tell */
};

/*
 * Counts a hit for key on today. A repo not seen before is made only if
 * the client may create one now (--new-repos-per-client) and the table has
 * room (--max-repos); otherwise res gets the error badge. A repo the cache
 * of a shared store does not know is first looked for in the store: then
 * res->wait_load is set and nothing is counted yet; the request is run
 * again once it was looked for.
 */
static enum hit count_hit(const struct app *app, const struct request *req, const char *key,
                          day_t today, struct counter_view *v, struct response *res)
{
    enum counter_result r = counter_hit_known(app->table, key, today, v);
    enum load load = r == COUNTER_UNKNOWN ? wait_for_load(app, key, v, req, res) : LOAD_KNOWN;
    if (load == LOAD_WAIT) {
        res->count_after_load = true;
        return HIT_ANSWERED;
    }
    if (r == COUNTER_UNKNOWN) {
        if (!newrepo_limit_take(app->newrepos, &req->client, monotime_ms())) {
            if (app->loader && (load == LOAD_UNKNOWN || loader_failing(app->loader))) {
                /*
                 * Charged as new because it could not be looked up (the
                 * store fails, or is too slow for the wait): most
                 * such repos exist. The badge says the count is unknown
                 * (200, no-cache: the next view after the outage counts)
                 * rather than refusing, which a proxy such as GitHub's
                 * shows as a broken image.
                 */
                METRICS_INC("ghit_not_counted_total", METRICS_NOT_COUNTED_HELP,
                            "reason=\"store_unreadable\"");
                return HIT_UNREADABLE;
            }
            METRICS_REFUSED("new_repos_per_client");
            refuse(&rate_refusals, "a client creates new repos too fast", "new-repos-per-client",
                   app->cfg->new_repos_per_minute);
            error_badge(app, res, 429, NEW_REPOS_REFUSED);
            return HIT_ANSWERED;
        }
        r = counter_hit(app->table, key, today, v);
    }
    if (r == COUNTER_FULL) {
        METRICS_REFUSED("max_repos");
        refuse(&repo_limit_refusals, "repo limit reached", "max-repos", app->cfg->max_repos);
        error_badge(app, res, 503, "repo limit reached");
        return HIT_ANSWERED;
    }
    return HIT_COUNTED;
}

/*
 * The value of p as a C string without its NUL bytes (a %00 in the query):
 * they are control characters, dropped like the others, and must not cut a
 * value short ("flat%00junk" is not "flat"). Values without NUL are
 * returned as they are; others are copied into scratch, which the first
 * copy sizes for all of them at once, so earlier copies never move.
 */
static const char *without_nul(const struct request *req, const struct request_param *p,
                               struct buf *scratch)
{
    if (!memchr(p->value, '\0', p->value_len))
        return p->value;
    if (scratch->cap == 0) {
        size_t all = 0;
        for (unsigned i = 0; i < req->nparams; i++)
            all += req->params[i].value_len + 1;
        buf_init(scratch);
        buf_reserve(scratch, all);
    }
    const char *copy = scratch->data + scratch->len;
    for (size_t i = 0; i < p->value_len; i++)
        if (p->value[i])
            buf_putc(scratch, p->value[i]);
    buf_putc(scratch, '\0');
    return copy;
}

/* /badge.svg (count) and /count.svg (no count); scratch holds cleaned values. */
static void badge_with(const struct app *app, const struct request *req, struct response *res,
                       bool count, struct buf *scratch)
{
    struct badge_look look = app->cfg->look;
    const struct request_param *repo = NULL;
    if (req->params_error) {
        error_badge(app, res, 400, req->params_error);
        return;
    }
    for (unsigned i = 0; i < req->nparams; i++) {
        const struct request_param *p = &req->params[i];
        if (strcmp(p->name, "repo") == 0) {
            repo = p;
            continue;
        }
        const char *err = badge_look_set(&look, p->name, without_nul(req, p, scratch));
        if (err) {
            error_badge(app, res, 400, err);
            return;
        }
    }
    char key[REPO_KEY_SIZE];
    const char *err = repo_key_parse(repo ? repo->value : "", repo ? repo->value_len : 0, key);
    if (err) {
        error_badge(app, res, 400, err);
        return;
    }

    day_t today = day_from_time(time(NULL));
    struct counter_view v = {0};
    /*
     * --count and --dedupe may say this fetch is shown the count but adds
     * nothing. --dedupe remembers a fetch it lets count, and forgets it
     * again unless it was counted: refused (new repos, --max-repos),
     * unreadable, or put off until the store is read; a fetch put off is
     * judged again when it runs again.
     */
    bool asks = req->resumed ? req->count_after_load : count && !req->head;
    struct dedupe_mark mark = {0};
    bool judged_out = asks && app->policy &&
                      policy_judge(app->policy, &req->client, req->user_agent, key,
                                   (uint64_t)monotime_ms(), &mark) != POLICY_COUNT;
    bool counts = asks && !judged_out;
    enum hit hit = counts ? count_hit(app, req, key, today, &v, res) : HIT_NOT_ASKED;
    if (counts && hit != HIT_COUNTED && app->policy)
        policy_forget(app->policy, &mark);
    if (hit == HIT_ANSWERED)
        return;
    if (hit == HIT_COUNTED) {
        METRICS_INC("ghit_hits_total", METRICS_HITS_HELP, "");
        if (app->spool)
            spool_hit(app->spool, key, today, v.take);
        if (app->cfg->durable)
            res->wait_take = v.take; /* the reply waits until the hit is on disk (http.c) */
        if (wait_for_load(app, key, &v, req, res) == LOAD_WAIT)
            return; /* counted; shown once the others' hits are read */
    } else if (hit == HIT_NOT_ASKED) {
        /* HEAD answers as GET would: a new repo beyond the limits is refused. */
        bool new_repo = !counter_get(app->table, key, today, &v) && count && !judged_out &&
                        !req->resumed && !app->loader;
        if (new_repo && !newrepo_limit_allows(app->newrepos, &req->client, monotime_ms())) {
            error_badge(app, res, 429, NEW_REPOS_REFUSED);
            return;
        }
        if (new_repo && counter_size(app->table) >= app->cfg->max_repos) {
            error_badge(app, res, 503, "repo limit reached");
            return;
        }
        if (wait_for_load(app, key, &v, req, res) == LOAD_WAIT)
            return;
    }
    char message[2 * NUMFMT_OUT_MAX + 8];
    if (app->loader && !v.loaded_ms)
        /* The store could not be read: no number rather than a wrong one (no-cache: next view). */
        snprintf(message, sizeof message, "?");
    else
        badge_message(message, sizeof message, &look, v.total, v.today);
    buf_reset(&res->body);
    badge_render(&res->body, &look, message);
    svg_reply(res, 200);
}

/* /badge.svg and /count.svg. */
static void badge(const struct app *app, const struct request *req, struct response *res,
                  bool count)
{
    struct buf scratch = {0}; /* set up only if a value holds a NUL */
    badge_with(app, req, res, count, &scratch);
    if (scratch.cap)
        buf_fini(&scratch);
}

void routes_json_error(struct response *res, unsigned status, const char *message)
{
    res->status = status;
    res->content_type = "application/json";
    buf_reset(&res->body);
    /* Escaped whole: a message may carry a store's error text, or a path. */
    buf_puts(&res->body, "{\"error\":");
    json_put_str(&res->body, message);
    buf_puts(&res->body, "}\n");
}

void routes_repo_json(struct response *res, const char *key, const struct counter_view *v,
                      day_t today)
{
    char day[DAY_TEXT_SIZE], first[DAY_TEXT_SIZE];
    day_format(today, day);
    day_format(v->first_day, first);
    res->status = 200;
    res->content_type = "application/json";
    buf_reset(&res->body);
    buf_printf(&res->body,
               "{\"repo\":\"%s\",\"total\":%" PRIu64 ",\"today\":%" PRIu64
               ",\"day\":\"%s\",\"first_seen\":\"%s\"}\n",
               key, v->total, v->today, day, first);
}

int routes_get(const struct app *app, const struct request *req, const char *key, day_t day,
               struct counter_view *v, struct response *res)
{
    bool known = counter_get(app->table, key, day, v);
    return wait_for_load(app, key, v, req, res) == LOAD_WAIT ? -1 : known;
}

/* /api/v1/repos/OWNER/NAME */
static void api_repo(const struct app *app, const struct request *req, const char *name,
                     struct response *res)
{
    char key[REPO_KEY_SIZE];
    const char *err = repo_key_parse_path(name, strlen(name), key);
    if (err) {
        routes_json_error(res, 400, err);
        return;
    }
    day_t today = day_from_time(time(NULL));
    struct counter_view v;
    int known = routes_get(app, req, key, today, &v, res);
    if (known < 0)
        return;
    if (app->loader && !v.loaded_ms) {
        routes_json_error(res, 503, "the store cannot be read now; try again");
        return;
    }
    if (!known) {
        routes_json_error(res, 404, "unknown repo: it has no hits yet");
        return;
    }
    routes_repo_json(res, key, &v, today);
}

/*
 * /healthz: 200 while the last store write succeeded, else 503 and why. The
 * lines after the first say what was refused, so an operator sees a flood
 * of new names without reading the log.
 */
static void healthz(const struct app *app, struct response *res)
{
    char why[256];
    bool ok = flusher_health(app->flusher, why, sizeof why);
    if (ok) {
        routes_text(res, 200, "ok");
    } else {
        char msg[300];
        snprintf(msg, sizeof msg, "store failing: %s", why);
        routes_text(res, 503, msg);
    }
    buf_printf(&res->body,
               "new repos refused: %llu over --new-repos-per-client, %llu over --max-repos\n",
               (unsigned long long)atomic_load(&rate_refusals.count),
               (unsigned long long)atomic_load(&repo_limit_refusals.count));
}

/* /: how to use this server. */
static void index_page(struct response *res)
{
    routes_text(res, 200,
                "ghit " GHIT_VERSION ": a hit counter for badges.\n\n"
                "  Badge:  /badge.svg?repo=OWNER/NAME   (counts one hit)\n"
                "  Peek:   /count.svg?repo=OWNER/NAME   (does not count)\n"
                "  JSON:   /api/v1/repos/OWNER/NAME\n"
                "  Health: /healthz\n\n"
                "Markdown: ![hits](https://THIS-HOST/badge.svg?repo=OWNER/NAME)");
}

void routes_handle(const struct app *app, const struct request *req, struct response *res)
{
    res->no_cache = false;
    res->etag[0] = '\0';
    res->allow = NULL;
    res->close = false;
    res->wait_take = 0;
    res->wait_load = 0;
    res->count_after_load = false;
    res->authenticate = false;
    res->route = NULL;
    res->csp = NULL;
    const char *path = req->path;
    if (req->put || req->del) /* only on the admin routes (http.c) */
        res->route = "admin", admin_handle(app, req, path + sizeof api_prefix - 1, res);
    else if (strcmp(path, "/badge.svg") == 0)
        res->route = "badge", badge(app, req, res, true);
    else if (strcmp(path, "/count.svg") == 0)
        res->route = "count", badge(app, req, res, false);
    else if (routes_stats_handle(app, req, res) || routes_web_handle(app, req, res))
        ; /* issue 9: statistics, dashboard */
    else if (strncmp(path, api_prefix, sizeof api_prefix - 1) == 0)
        res->route = "api_repo", api_repo(app, req, path + sizeof api_prefix - 1, res);
    else if (strcmp(path, "/healthz") == 0)
        res->route = "healthz", healthz(app, res);
    else if (strcmp(path, "/") == 0)
        res->route = "index", index_page(res);
    else
        routes_text(res, 404, "not found: try /badge.svg?repo=OWNER/NAME");
}

void routes_svg_reply(struct response *res, unsigned status)
{
    svg_reply(res, status);
}

void routes_error_badge(const struct app *app, struct response *res, unsigned status,
                        const char *message)
{
    error_badge(app, res, status, message);
}
