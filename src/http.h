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

#include "routes.h"

struct http_server;

/*
 * Starts serving app (borrowed) on listen ("HOST:PORT") with the route set
 * handle: routes_handle for --listen, routes_stats_metrics_only for
 * --metrics-listen (issue 9). Returns NULL with a message in err if the
 * address cannot be used.
 */
struct http_server *http_start(const struct app *app, const char *listen, routes_fn *handle,
                               char *err, size_t errlen);

/* Resolves cfg's --listen without binding it; 0, or -1 with a message in err. */
int http_check_listen(const char *listen, char *err, size_t errlen);

/* The address actually bound, "HOST:PORT" (port 0 in the config picks a free one). */
const char *http_address(const struct http_server *s);

/*
 * Stops accepting, waits up to grace_ms for the requests in flight to be
 * answered, closes every connection and frees s.
 */
void http_stop(struct http_server *s, unsigned grace_ms);

#endif
