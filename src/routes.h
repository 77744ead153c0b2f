/*
 * routes: what each URL does. Knows HTTP's vocabulary, not libmicrohttpd.
 *
 * http.c turns a request into a struct request, routes_handle() fills a
 * struct response, and http.c sends it. Keeping the library out of here
 * means the handlers read as plain functions of their inputs.
 */
#ifndef GHIT_ROUTES_H
#define GHIT_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "counter.h"
#include "flusher.h"
#include "netaddr.h"

struct admin;
struct policy;
struct routes_stats;

/* What the handlers work with; owned by the caller of routes_handle(). */
struct app {
    const struct config *cfg;
    struct counter_table *table;
    struct flusher *flusher;
    struct newrepo_limit *newrepos; /* --new-repos-per-client */
    const struct admin *admin;      /* issue 10: NULL without --admin-token-file */
    struct policy *policy;          /* issue 10: which badge fetches count */
    struct routes_stats *stats;     /* statistics routes (routes_stats.h), issue 9 */
    struct loader *loader;          /* issue 8: a shared store's cache loader, or NULL */
    struct spool *spool;            /* a Redis frontend's spool (spool.h), or NULL */
    unsigned max_age_ms;            /* with a loader: older figures are read again first */
};

/* More query parameters than this get 400: a badge URL needs a handful. */
#define REQUEST_MAX_PARAMS 32

struct newrepo_limit;

struct request_param {
    const char *name;
    const char *value; /* may hold NUL bytes: value_len counts them */
    size_t value_len;
};

struct request {
    bool head;              /* HEAD: answer as GET would, count nothing */
    const char *path;       /* percent-decoded, without the query */
    struct netaddr peer;    /* the TCP peer */
    struct netaddr client;  /* the client: the peer, or behind a trusted proxy the forwarded one */
    const char *user_agent; /* the User-Agent header, or NULL */
    struct request_param params[REQUEST_MAX_PARAMS];
    unsigned nparams;
    /*
     * Why the query cannot be read as one value a name, or NULL: too many
     * parameters, a NUL byte in a name, a name given twice (which of the
     * two is meant is a guess). A route that reads parameters refuses the
     * request with it.
     */
    const char *params_error;
    char params_why[48]; /* params_error's text, when it names the parameter */
    /* issue 10: the admin routes; http.c passes PUT and DELETE only when they exist */
    bool put, del;             /* the method is PUT or DELETE */
    const char *authorization; /* the Authorization header, or NULL */
    const char *body;          /* the request body (PUT), body_len bytes */
    size_t body_len;
    /* issue 8: run again after a wait for the loader (response.wait_load) */
    bool resumed;
    bool count_after_load; /* the response's count_after_load of the first run */
    bool load_given_up;    /* its wait ran out before the loader was done with the repo */
    unsigned loads;        /* loader requests it waited for before this run */
    uint64_t waited_read;  /* run again after a wait for this statistics read (wait_read) */
};

struct response {
    unsigned status;
    const char *content_type;
    struct buf body;       /* set up by the caller */
    bool no_cache;         /* the headers that make image proxies refetch every time */
    char etag[20];         /* "\"<16 hex>\"", or empty */
    const char *allow;     /* for 405 */
    bool close;            /* close the connection after this reply */
    bool bare;             /* no header fields but the library's own (no memory left for more) */
    uint64_t wait_take;    /* durable mode: send only once this counter_take() is written; 0: now */
    uint64_t wait_load;    /* run again, resumed, once this loader request is done; 0: no wait */
    bool count_after_load; /* with wait_load: the hit is to be counted when run again */
    unsigned loads;        /* with wait_load: loader requests waited for, this one with them */
    uint64_t wait_read;    /* run again, resumed, once this statistics read is done; 0: no wait */
    bool authenticate;     /* 401: send WWW-Authenticate: Bearer */
    const char *route;     /* the route's name in metrics ("badge", ...); NULL: none matched */
    const char *csp;       /* a Content-Security-Policy for pages, or NULL */
};

/* Handles one GET or HEAD request. */
void routes_handle(const struct app *app, const struct request *req, struct response *res);

/* How many new repos were refused so far: over --max-repos, and over the per-client rate. */
void routes_refusals(uint64_t *repo_limit, uint64_t *new_repo_rate);
/* A set of routes a listener serves: routes_handle, or routes_stats_metrics_only. */
typedef void routes_fn(const struct app *app, const struct request *req, struct response *res);

/* Marks res as an SVG image reply: content type, no-cache headers, ETag of the body. */
void routes_svg_reply(struct response *res, unsigned status);

/* Fills res with an error badge (the server's look, message in red). */
void routes_error_badge(const struct app *app, struct response *res, unsigned status,
                        const char *message);

/* Fills res with {"error": message}; message is ghit's own text. */
void routes_json_error(struct response *res, unsigned status, const char *message);

/* Fills res with a plain-text error reply: status and a one-line message. */
void routes_text(struct response *res, unsigned status, const char *message);

/*
 * counter_get() for the routes that show a repo without counting: on a
 * shared store's cache, a repo it does not hold, or holds figures of that
 * are not current, is read first: -1 then, the request waits (return at
 * once; it runs again, resumed). Else whether key is known, with *v filled.
 */
int routes_get(const struct app *app, const struct request *req, const char *key, day_t day,
               struct counter_view *v, struct response *res);

/* Fills res (200) with key's counts as JSON, as GET /api/v1/repos/OWNER/NAME answers. */
void routes_repo_json(struct response *res, const char *key, const struct counter_view *v,
                      day_t today);

#endif
