/*
 * http: libmicrohttpd glue (see http.h).
 *
 * Threads: libmicrohttpd runs --threads epoll loops; each handles its
 * connections from start to end, so a request is handled on one thread.
 * One more thread, the watchdog, enforces the whole-request timeout.
 *
 * Three traps of libmicrohttpd 0.9.75 (DESIGN.md) shape this file:
 * 1. The access handler answers MHD_YES on its first call and queues the
 *    response on the second; queuing on the first makes the library close
 *    keep-alive connections.
 * 2. MHD_OPTION_CONNECTION_TIMEOUT is an idle timeout, restarted by every
 *    byte, so a client sending one byte a second is never stopped by it.
 *    The watchdog here gives each request a deadline instead, and shuts
 *    the socket of a request that misses it.
 * 3. The listen address is passed with MHD_OPTION_SOCK_ADDR, so the
 *    configured host is honoured, not just the port.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "log.h"
#include "metrics.h"

/*
 * One per connection, from libmicrohttpd's "started" to its "closed"
 * notification; on the watchdog's list. The server's `lock` guards the list
 * links; the deadline is atomic, so the request path never takes the lock
 * (only connect and close do).
 */
struct conn {
    int fd;
    _Atomic int64_t deadline_ms; /* monotonic ms; 0: none (already shut down) */
    struct conn *prev, *next;
};

struct http_server {
    const struct app *app;
    routes_fn *handle; /* the route set of this listener */
    struct MHD_Daemon *daemon;
    char address[80];
    unsigned request_timeout_ms, idle_timeout_ms;

    pthread_mutex_t lock; /* guards the conns list and stopping */
    pthread_cond_t wake;
    struct conn *conns;
    bool stopping;
    pthread_t watchdog;
    atomic_int in_flight; /* requests handed to on_request() and not yet completed */
    atomic_bool draining; /* stopping: new requests are answered 503 and not counted */
};

/* Milliseconds on the monotonic clock, which wall-clock steps do not move. */
static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Connection started/closed: keeps the watchdog's list. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode code)
{
    struct http_server *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        struct conn *k = xcalloc(1, sizeof *k);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        k->fd = ci ? ci->connect_fd : -1;
        /* The first request must be complete within the request timeout of the accept. */
        atomic_init(&k->deadline_ms, now_ms() + s->request_timeout_ms);
        pthread_mutex_lock(&s->lock);
        k->next = s->conns;
        if (s->conns)
            s->conns->prev = k;
        s->conns = k;
        pthread_mutex_unlock(&s->lock);
        *socket_ctx = k;
        METRICS_GAUGE_ADD("ghit_open_connections", "Open HTTP connections.", "", 1);
    } else if (*socket_ctx) {
        /* Called before the library closes the socket: after this, the fd is never touched. */
        struct conn *k = *socket_ctx;
        pthread_mutex_lock(&s->lock);
        if (k->prev)
            k->prev->next = k->next;
        else
            s->conns = k->next;
        if (k->next)
            k->next->prev = k->prev;
        pthread_mutex_unlock(&s->lock);
        free(k);
        *socket_ctx = NULL;
        METRICS_GAUGE_ADD("ghit_open_connections", "Open HTTP connections.", "", -1);
    }
}

/* The socket context of c, which on_connection set. */
static struct conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/*
 * The request line has arrived: the rest of the request must follow within
 * the request timeout. Its length travels to the handler in the request
 * context, as (length << 2); bit 0 marks the handler's first call, bit 1 a
 * request answered while draining (already taken out of in_flight).
 */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct http_server *s = cls;
    struct conn *k = conn_of(c);
    if (k) {
        /* Only the connection's own thread sets its deadline; the watchdog only zeroes it. */
        int64_t d = now_ms() + s->request_timeout_ms, old = atomic_load(&k->deadline_ms);
        if (old != 0 && d < old)
            atomic_store(&k->deadline_ms, d);
    }
    return (void *)(uintptr_t)(strlen(uri) << 2);
}

/* The reply is sent (or the request died): the connection is idle again. */
static void on_completed(void *cls, struct MHD_Connection *c, void **req_ctx,
                         enum MHD_RequestTerminationCode code)
{
    (void)code;
    struct http_server *s = cls;
    struct conn *k = conn_of(c);
    uintptr_t ctx = (uintptr_t)*req_ctx;
    if ((ctx & 1) && !(ctx & 2))
        atomic_fetch_sub(&s->in_flight, 1);
    if (k) {
        /* Between requests the idle timeout rules; the next request gets both again. */
        atomic_store(&k->deadline_ms, now_ms() + s->idle_timeout_ms + s->request_timeout_ms);
    }
}

/* Shuts down the sockets of requests past their deadline; the library then closes them. */
static void *watchdog(void *arg)
{
    struct http_server *s = arg;
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        int64_t now = now_ms();
        for (struct conn *k = s->conns; k; k = k->next) {
            int64_t deadline = atomic_load(&k->deadline_ms);
            if (deadline && now > deadline && k->fd >= 0) {
                shutdown(k->fd, SHUT_RDWR);
                atomic_store(&k->deadline_ms, 0);
                METRICS_REFUSED("request_timeout");
                log_debug("closed a connection whose request took too long");
            }
        }
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until); /* the cond waits on this clock */
        until.tv_nsec += 250 * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->wake, &s->lock, &until);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

struct collect {
    struct request *req;
    size_t header_bytes;
};

/* libmicrohttpd iterator: copies one query parameter (borrowed, valid during the request). */
static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                     size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    (void)key_size;
    struct request *req = ((struct collect *)cls)->req;
    if (req->nparams == REQUEST_MAX_PARAMS) {
        req->too_many_params = true;
        return MHD_NO;
    }
    req->params[req->nparams++] = (struct request_param){key, value ? value : "", value_size};
    return MHD_YES;
}

/* libmicrohttpd iterator: adds one header field's size to the total. */
static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    (void)key;
    (void)value;
    ((struct collect *)cls)->header_bytes += key_size + value_size + 4; /* ": " and CRLF */
    return MHD_YES;
}

/* Sends res on c. */
static enum MHD_Result send_response(struct MHD_Connection *c, struct response *res)
{
    size_t len = res->body.len;
    char *body = buf_steal(&res->body);
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(len, body, free);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (res->no_cache) {
        /* GitHub's camo proxy and CDN refetch a badge on every view only when told so. */
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
                                "max-age=0, no-cache, no-store, must-revalidate");
        MHD_add_response_header(r, MHD_HTTP_HEADER_EXPIRES, "Thu, 01 Jan 1970 00:00:00 GMT");
        MHD_add_response_header(r, MHD_HTTP_HEADER_PRAGMA, "no-cache");
    } else {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    }
    if (res->etag[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, res->etag);
    if (res->allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, res->allow);
    if (res->close)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    /* issue 9: any page may read the JSON API; pages carry their own policy. */
    if (strncmp(res->content_type, "application/json", 16) == 0)
        MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    if (res->csp)
        MHD_add_response_header(r, "Content-Security-Policy", res->csp);
    enum MHD_Result ok = MHD_queue_response(c, res->status, r);
    MHD_destroy_response(r);
    return ok;
}

/*
 * The access handler: applies the request-level limits (target, headers,
 * method, body, draining) and hands everything else to routes_handle().
 */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_ctx)
{
    (void)version;
    (void)upload_data;
    struct http_server *s = cls;
    uintptr_t ctx = (uintptr_t)*req_ctx;
    bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
    bool head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    if (!(ctx & 1)) {
        /*
         * From this call on, the library reports the request's end to
         * on_completed(). A request that starts while draining is never
         * counted, so it is not in flight either (bit 1).
         */
        if (atomic_load(&s->draining)) {
            *req_ctx = (void *)(ctx | 3);
        } else {
            *req_ctx = (void *)(ctx | 1);
            atomic_fetch_add(&s->in_flight, 1);
        }
        /*
         * Trap 1: nothing is queued on the first call, except for a request
         * that carries a body. None of ghit's URLs takes one, and the
         * library accepts a reply only before the body is read or after
         * all of it: refuse now rather than read an upload of any size.
         * The connection is closed after this reply, as it should be.
         */
        const char *length =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        bool body =
            (length && strcmp(length, "0") != 0) ||
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
        if (!body)
            return MHD_YES;
    }
    (void)upload_data_size; /* a body is refused on the first call: none arrives here */
    struct response res = {0};
    buf_init(&res.body);
    buf_reserve(&res.body, 1536); /* a badge fits: one allocation per reply */
    struct request req = {.head = head};
    struct collect col = {&req, 0};
    size_t target_len = ctx >> 2;

    MHD_get_connection_values_n(c, MHD_HEADER_KIND, count_header, &col);
    if (target_len > s->app->cfg->max_url_bytes) {
        METRICS_REFUSED("max_url_bytes");
        routes_text(&res, 414, "request target too long");
    } else if (col.header_bytes > s->app->cfg->max_header_bytes) {
        METRICS_REFUSED("max_header_bytes");
        routes_text(&res, 431, "request header fields too large");
    } else if (!get && !head) {
        routes_text(&res, 405, "method not allowed: use GET or HEAD");
        res.allow = "GET, HEAD";
    } else if (!(ctx & 1)) {
        METRICS_REFUSED("request_body");
        routes_text(&res, 413, "a request body is not accepted here");
    } else if (atomic_load(&s->draining)) {
        /*
         * A request that arrives on a kept-alive connection while we stop:
         * answer it without counting, and close. Counting it could not be
         * honoured: its reply might be cut off by the stop, and the client
         * would retry the GET and count twice.
         */
        routes_text(&res, 503, "ghit is stopping; try again");
        res.close = true;
        /* Not counted, so nothing for http_stop() to wait for: out of in_flight now. */
        if (!(ctx & 2)) {
            *req_ctx = (void *)(ctx | 2);
            atomic_fetch_sub(&s->in_flight, 1);
        }
    } else {
        req.path = url;
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr)
            netaddr_from_sockaddr(ci->client_addr, &req.peer);
        req.client = req.peer;
        req.user_agent =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
        MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, collect_param, &col);
        s->handle(s->app, &req, &res);
    }
    metrics_request(res.route ? res.route : "other", res.status);
    enum MHD_Result ok = send_response(c, &res);
    buf_fini(&res.body);
    return ok;
}

/* Routes libmicrohttpd's own messages (bad requests, resource limits) to ghit's log. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_debug("libmicrohttpd: %s", msg);
}

/* Resolves "HOST:PORT" or "[HOST]:PORT" into addr. */
static int parse_listen(const char *listen, struct sockaddr_storage *addr, socklen_t *len,
                        char *err, size_t errlen)
{
    char host[256];
    const char *port;
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close[1] != ':' || (size_t)(close - listen - 1) >= sizeof host) {
            snprintf(err, errlen, "--listen %s: expected [IPV6]:PORT", listen);
            return -1;
        }
        memcpy(host, listen + 1, (size_t)(close - listen - 1));
        host[close - listen - 1] = '\0';
        port = close + 2;
    } else {
        const char *colon = strrchr(listen, ':');
        if (!colon || (size_t)(colon - listen) >= sizeof host) {
            snprintf(err, errlen, "--listen %s: expected HOST:PORT", listen);
            return -1;
        }
        memcpy(host, listen, (size_t)(colon - listen));
        host[colon - listen] = '\0';
        port = colon + 1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai;
    int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "--listen %s: %s", listen, gai_strerror(rc));
        return -1;
    }
    memcpy(addr, ai->ai_addr, ai->ai_addrlen);
    *len = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

int http_check_listen(const char *listen, char *err, size_t errlen)
{
    struct sockaddr_storage addr;
    socklen_t len;
    return parse_listen(listen, &addr, &len, err, errlen);
}

struct http_server *http_start(const struct app *app, const char *listen, routes_fn *handle,
                               char *err, size_t errlen)
{
    const struct config *cfg = app->cfg;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    if (parse_listen(listen, &addr, &addrlen, err, errlen) < 0)
        return NULL;

    struct http_server *s = xcalloc(1, sizeof *s);
    s->handle = handle;
    atomic_init(&s->in_flight, 0);
    atomic_init(&s->draining, false);
    s->app = app;
    s->request_timeout_ms = cfg->request_timeout_s * 1000;
    s->idle_timeout_ms = cfg->idle_timeout_s * 1000;
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* a wall-clock step must not stall it */
    pthread_cond_init(&s->wake, &ca);
    pthread_condattr_destroy(&ca);

    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct MHD_OptionItem opts[16] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, NULL}, /* first, to catch all */
        {MHD_OPTION_SOCK_ADDR, 0, &addr},
        {MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_connections_per_ip, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, cfg->idle_timeout_s, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->connection_memory, NULL},
        {MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, s},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, s},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s},
    };
    size_t nopts = 10;
    if (cfg->threads > 1)
        opts[nopts++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, cfg->threads, NULL};
    opts[nopts] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    errno = 0;
    s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_ARRAY, opts,
                                 MHD_OPTION_END);
    if (!s->daemon) {
        snprintf(err, errlen, "cannot listen on %s: %s", listen,
                 errno ? strerror(errno) : "refused by libmicrohttpd (see --log-level debug)");
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->wake);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    char host[INET6_ADDRSTRLEN] = "?";
    if (addr.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&addr)->sin6_addr, host, sizeof host);
        snprintf(s->address, sizeof s->address, "[%s]:%u", host, di ? di->port : 0);
    } else {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&addr)->sin_addr, host, sizeof host);
        snprintf(s->address, sizeof s->address, "%s:%u", host, di ? di->port : 0);
    }
    int rc = pthread_create(&s->watchdog, NULL, watchdog, s);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the watchdog thread: %s", strerror(rc));
        MHD_stop_daemon(s->daemon);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->wake);
        free(s);
        return NULL;
    }
    return s;
}

const char *http_address(const struct http_server *s)
{
    return s->address;
}

void http_stop(struct http_server *s, unsigned grace_ms)
{
    /*
     * Order matters: from here on no request is counted, and every request
     * counted before is in in_flight (raised on its first call, before the
     * check of draining on its second), so the wait below sees them all
     * answered before the connections are closed.
     *
     * The listening socket stays open until MHD_stop_daemon(): a client
     * that connects meanwhile is answered 503 like any other new request.
     * MHD_quiesce_daemon() would close it earlier, but in 0.9.75 with a
     * thread pool it races the workers' epoll sets and aborts the process
     * ("Failed to remove listen FD from epoll set"), seen in 1 of ~3 runs
     * of the integration suite.
     */
    atomic_store(&s->draining, true);
    int64_t until = now_ms() + grace_ms;
    while (atomic_load(&s->in_flight) > 0 && now_ms() < until) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(s->daemon);
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->watchdog, NULL);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    free(s);
}
