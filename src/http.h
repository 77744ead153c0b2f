/*
 * http: the libmicrohttpd glue. The only file that knows the library.
 *
 * It binds the configured address, applies every limit a client could
 * otherwise push on (connections in total and per address, idle and
 * whole-request timeouts, request target and header sizes, memory per
 * connection), turns each request into a struct request for routes.c and
 * sends back its struct response.
 */
#ifndef GHIT_HTTP_H
#define GHIT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "routes.h"

struct http_server;

/* Why a request was refused before it reached a route. */
enum http_refusal {
    HTTP_REFUSED_TARGET,    /* 414: longer than --max-url-bytes */
    HTTP_REFUSED_FIELDS,    /* 431: header fields over --max-header-bytes or HTTP_MAX_FIELDS */
    HTTP_REFUSED_MALFORMED, /* 400: a request a proxy could read otherwise (see http.c) */
    HTTP_REFUSED_PARAMS,    /* 400: more query parameters than REQUEST_MAX_PARAMS */
    HTTP_REFUSED_METHOD,    /* 405 */
    HTTP_REFUSED_BODY,      /* 413 */
    HTTP_REFUSED_PATH,      /* 404: a NUL in the path */
    HTTP_REFUSALS
};

/* What the server did with connections and requests since it started. */
struct http_stats {
    uint64_t open;           /* connections open now */
    uint64_t evicted;        /* idle connections closed to make room for new ones */
    uint64_t refused_per_ip; /* connections over --max-connections-per-ip */
    uint64_t timed_out;      /* requests not complete within --request-timeout */
    uint64_t refused[HTTP_REFUSALS];
};

/* Most header fields in a request; more get 431 (see the memory note in http.c). */
#define HTTP_MAX_FIELDS 64

/*
 * Connection memory kept free for the reply's header block: ghit's largest
 * (a badge: no-cache headers, ETag, Date) is about 400 bytes; the rest is
 * for a pipelined request the library has read ahead.
 */
#define HTTP_REPLY_ROOM 1536

/* Below this, not even the library's own header fields fit: http.c answers on the socket. */
#define HTTP_BARE_REPLY 192

/*
 * The least --connection-memory that holds a request at every limit
 * (target, header bytes, fields, parameters) and still leaves room for
 * its reply; checked at start.
 */
size_t http_memory_needed(unsigned max_url_bytes, unsigned max_header_bytes);

/*
 * Binds and listens on address ("HOST:PORT", "[IPV6]:PORT"); returns the
 * socket, or -1 with a message in err. Done before anything else at
 * start-up, so that an address that cannot be used stops ghit before it
 * touches the store; clients that connect before http_start() wait in the
 * backlog.
 */
int http_listen(const char *address, char *err, size_t errlen);

/*
 * Starts serving app (borrowed) on listen_fd (from http_listen(), owned by
 * the server from now on: closed on failure too) with the route set handle:
 * routes_handle for --listen, routes_stats_metrics_only for
 * --metrics-listen, and at most max_connections open at once (the per-IP
 * cap, --max-connections-per-ip, within it). Returns NULL with a message
 * in err on failure.
 */
struct http_server *http_start(const struct app *app, int listen_fd, routes_fn *handle,
                               unsigned max_connections, char *err, size_t errlen);

/*
 * The connections of --metrics-listen: a scraper or two, not the public's,
 * and not a second --max-connections of descriptors beside the first.
 */
#define HTTP_METRICS_CONNECTIONS 32

/*
 * Durable mode: every hit of counter_take() number take_no and before is
 * written; the replies that waited for them go out (serve.c: the flusher's notify_fn).
 */
void http_written(struct http_server *s, uint64_t take_no);

/* A shared store's cache: the loader is done with more requests; those that waited run again. */
void http_loaded(struct http_server *s);

/* Copies the server's figures into *out. Safe from any thread. */
void http_get_stats(struct http_server *s, struct http_stats *out);

/* The address actually bound, "HOST:PORT" (port 0 in the config picks a free one). */
const char *http_address(const struct http_server *s);

/*
 * Stops accepting, waits up to grace_ms for the requests in flight to be
 * answered, closes every connection and frees s.
 */
void http_stop(struct http_server *s, unsigned grace_ms);

#endif
