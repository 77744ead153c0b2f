/*
 * http: libmicrohttpd glue (see http.h).
 *
 * Threads: libmicrohttpd runs --threads event loops (epoll; poll() in
 * durable mode); each handles its connections from start to end, so a
 * request is handled on one thread.
 * Two more threads: the watchdog enforces the whole-request timeout, and
 * the acceptor accepts and deals out connections to the loops.
 *
 * Connections are a shared, finite resource, and the real topologies make
 * per-address limits blunt: behind a reverse proxy every connection comes
 * from the proxy, and GitHub's image proxy fetches every viewer's badge
 * from a few addresses. So a client that holds connections without using
 * them must not lock others out: when the connections in use near
 * --max-connections, each new one closes the connection that has been
 * idle longest (between requests, or not yet sent a request line). The
 * per-address limit is a fairness cap well above what a proxy needs, and
 * does not apply to --trusted-proxy addresses at all.
 *
 * Three traps of libmicrohttpd 0.9.75 (DESIGN.md) shape this file:
 * 1. The access handler answers MHD_YES on its first call and queues the
 *    response on the second; queuing on the first makes the library close
 *    keep-alive connections.
 * 2. MHD_OPTION_CONNECTION_TIMEOUT is an idle timeout, restarted by every
 *    byte, so a client sending one byte a second is never stopped by it.
 *    The watchdog here gives each request a deadline instead, and shuts
 *    the socket of a request that misses it.
 * 3. Its loops accept on whichever worker wakes first, several
 *    connections a wake-up, so a proxy's pool of keep-alive connections
 *    can land on one worker for as long as it lasts. ghit listens and
 *    accepts itself (MHD_USE_NO_LISTEN_SOCKET), on the configured host and
 *    port, and deals each socket out with MHD_add_connection().
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "alloc.h"
#include "ascii.h"
#include "forwarded.h"
#include "loader.h"
#include "log.h"
#include "monotime.h"
#include "metrics.h"
#include "routes_stats.h"
#include "siphash.h"

#define LISTEN_BACKLOG 1024

/*
 * One per connection, from libmicrohttpd's "started" to its "closed"
 * notification; on the watchdog's list. The server's `lock` guards the list
 * links; the deadline is atomic, so the request path never takes the lock
 * (only connect and close do).
 */
struct conn {
    struct MHD_Connection *mhd;
    int fd;
    struct netaddr addr;           /* the TCP peer */
    bool trusted;                  /* the peer is a --trusted-proxy */
    _Atomic int64_t deadline_ms;   /* monotonic ms; 0: none (already shut down) */
    _Atomic int64_t idle_since_ms; /* monotonic ms; 0 while a request is in progress */
    struct conn *prev, *next;
    /* The body of an admin PUT, gathered across calls; the connection's thread only. */
    struct buf body;
    bool body_on;
    /*
     * The last reply's body, which libmicrohttpd sends from here (no copy),
     * and whose memory the next reply on the connection is written into: a
     * connection's next request is read only after its reply is sent. A
     * reply's malloc, realloc and free were 4 % of a badge's CPU (perf).
     */
    struct buf reply;
    /*
     * Durable mode: a reply held until its hit is written. The connection's
     * thread fills held and suspends the connection; while it is suspended
     * only the server's lock holders touch the fields below (the list link
     * and the reply, replaced by a 503 when the wait is over).
     */
    struct response held;
    _Atomic bool holding;
    uint64_t wait_take;
    int64_t wait_until_ms;
    struct conn *next_waiter;
};

/* The most bytes of an admin PUT body (a repo's whole daily history fits). */
#define ADMIN_BODY_MAX (1024 * 1024)

/*
 * How long a request waits for the loader (a shared store's cache) before
 * it is answered from what the cache knows: with the watchdog's tick, a
 * badge is answered within about half a second even while Redis stalls.
 */
#define HTTP_LOAD_WAIT_MS   250
#define HTTP_READ_MARGIN_MS 500 /* a statistics read's wait ends this long before the deadline */
static const char admin_prefix[] = "/api/v1/repos/";

/* Open connections from one address; in the server's table, under its lock. */
struct peer {
    struct netaddr addr;
    unsigned n;
    struct peer *next;
};

struct http_server {
    const struct app *app;
    routes_fn *handle; /* the route set of this listener */
    bool walk;         /* heads are walked (struct walk): the library is a version it knows */
    struct MHD_Daemon *daemon;
    char address[80];
    unsigned request_timeout_ms, idle_timeout_ms;

    pthread_mutex_t lock; /* guards the conns list, the peers table, nconns, waiters, stopping */
    pthread_cond_t wake;
    struct conn *conns;
    struct conn *waiters; /* durable mode: suspended connections whose hit is not written yet */
    unsigned nconns;      /* open connections */
    unsigned soft_limit;  /* from here on, a new connection closes the longest idle one */
    unsigned per_peer;    /* --max-connections-per-ip */
    struct peer **peers;  /* chained hash table, npeers buckets (a power of two) */
    size_t npeers;
    uint8_t peer_key[16];    /* hash key: addresses are chosen by clients */
    struct http_stats stats; /* the connection figures, under lock */
    atomic_ullong refused[HTTP_REFUSALS];
    bool stopping;
    pthread_t watchdog;
    /* The acceptor thread accepts, not the library (acceptor()). */
    int listen_fd;     /* the server's from http_start() on */
    int quit_fd[2];    /* a pipe: a byte written stops the acceptor */
    unsigned limit;    /* open connections at most */
    unsigned handing;  /* handed to the library, not started yet (under lock) */
    int64_t handed_ms; /* when the last was */
    pthread_t accept_thread;
    atomic_int in_flight; /* requests handed to on_request() and not yet completed */
    atomic_bool draining; /* stopping: new requests are answered 503 and not counted */
};

/*
 * The table slot of the count of addr's client: the address, or an IPv6
 * address's /64, which one host is usually handed whole and can send from
 * any address of (as the per-client limits count it). Called with s->lock
 * held.
 */
static struct peer **peer_slot(struct http_server *s, const struct netaddr *addr)
{
    struct netaddr id = netaddr_client_prefix(addr);
    uint64_t h = siphash(id.b, sizeof id.b, s->peer_key);
    struct peer **p = &s->peers[h & (s->npeers - 1)];
    while (*p && memcmp((*p)->addr.b, id.b, sizeof id.b) != 0)
        p = &(*p)->next;
    return p;
}

/* Counts one more connection from addr and returns how many are open. Called with s->lock held. */
static unsigned peer_add(struct http_server *s, const struct netaddr *addr)
{
    struct peer **p = peer_slot(s, addr);
    if (!*p) {
        *p = xcalloc(1, sizeof **p);
        (*p)->addr = netaddr_client_prefix(addr);
    }
    return ++(*p)->n;
}

/* Counts one connection from addr less. Called with s->lock held. */
static void peer_remove(struct http_server *s, const struct netaddr *addr)
{
    struct peer **p = peer_slot(s, addr);
    if (*p && --(*p)->n == 0) {
        struct peer *gone = *p;
        *p = gone->next;
        free(gone);
    }
}

/* Shuts k's socket down; libmicrohttpd then closes it. Called with s->lock held. */
static void shut(struct conn *k)
{
    if (k->fd >= 0 && atomic_exchange(&k->deadline_ms, 0) != 0)
        shutdown(k->fd, SHUT_RDWR);
}

/*
 * Closes the connection idle the longest, other than keep, to make room for
 * a new one. A request in progress is never cut: only a connection between
 * requests, or one that has not sent a request line yet, is idle. Called
 * with s->lock held; the list is walked whole, which happens only near the
 * limit. The list runs from the newest connection to the oldest, so among
 * connections idle since the same millisecond the oldest goes.
 */
static void evict_idle(struct http_server *s, const struct conn *keep)
{
    struct conn *oldest = NULL;
    int64_t oldest_since = INT64_MAX;
    for (struct conn *k = s->conns; k; k = k->next) {
        int64_t since = atomic_load(&k->idle_since_ms);
        if (k != keep && since != 0 && since <= oldest_since && atomic_load(&k->deadline_ms) != 0) {
            oldest = k;
            oldest_since = since;
        }
    }
    if (oldest) {
        shut(oldest);
        s->stats.evicted++;
        METRICS_REFUSED("idle_connection_closed");
    }
}

/* Connection started/closed: keeps the watchdog's list and the counts per address. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode code)
{
    struct http_server *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        struct conn *k = xcalloc(1, sizeof *k);
        k->mhd = c;
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        k->fd = ci ? ci->connect_fd : -1;
        ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr)
            netaddr_from_sockaddr(ci->client_addr, &k->addr);
        k->trusted = netaddr_list_match(&s->app->cfg->trusted_proxies, &k->addr);
        int64_t now = monotime_ms();
        /* The first request must be complete within the request timeout of the accept. */
        atomic_init(&k->deadline_ms, now + s->request_timeout_ms);
        atomic_init(&k->idle_since_ms, now);
        pthread_mutex_lock(&s->lock);
        k->next = s->conns;
        if (s->conns)
            s->conns->prev = k;
        s->conns = k;
        s->nconns++;
        if (s->handing)
            s->handing--;
        /* A trusted proxy is not capped, nor counted against the /64 it shares. */
        if (!k->trusted && peer_add(s, &k->addr) > s->per_peer) {
            /* Over the per-address cap: this one goes, and it counts in nothing else. */
            shut(k);
            s->stats.refused_per_ip++;
            METRICS_REFUSED("max_connections_per_ip");
        } else if (s->nconns > s->soft_limit) {
            evict_idle(s, k);
        }
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
        s->nconns--;
        if (!k->trusted)
            peer_remove(s, &k->addr);
        /*
         * A reply still held: the client went away after its connection was
         * resumed (libmicrohttpd then closes it without asking for the
         * reply), or it closes at a stop. Off the waiting list, if on it.
         */
        bool held = atomic_load(&k->holding);
        for (struct conn **p = &s->waiters; held && *p; p = &(*p)->next_waiter)
            if (*p == k) {
                *p = k->next_waiter;
                break;
            }
        pthread_mutex_unlock(&s->lock);
        if (held)
            buf_fini(&k->held.body);
        if (k->body.cap)
            buf_fini(&k->body);
        buf_fini(&k->reply);
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
 * The request context: a number, not a pointer, so a request costs no
 * allocation. The low bits are flags; the rest is the length of the raw
 * request target, which the handler checks (--max-url-bytes, and against
 * the line to find NUL bytes in it).
 */
enum {
    CTX_STARTED = 1,      /* the handler has been called: on_completed() will be */
    CTX_UNCOUNTED = 2,    /* started while draining, or refused: not in in_flight */
    CTX_NUL_PATH = 4,     /* the path holds "%00": it names no route of ours */
    CTX_PARAMS = 8,       /* more query parameters than REQUEST_MAX_PARAMS: none were parsed */
    CTX_PARAMS_SHIFT = 4, /* then the query parameters the library stores (12 bits) */
    CTX_PARAMS_MAX = 4095,
    CTX_SHIFT = 16, /* then the target's length */
};

/*
 * The request line has arrived: the rest of the request must follow within
 * the request timeout, and the connection is no longer idle.
 */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct http_server *s = cls;
    struct conn *k = conn_of(c);
    if (k) {
        /* Only the connection's own thread sets its deadline; the watchdog only zeroes it. */
        int64_t now = monotime_ms(), d = now + s->request_timeout_ms;
        int64_t old = atomic_load(&k->deadline_ms);
        if (old != 0 && d < old)
            atomic_store(&k->deadline_ms, d);
        atomic_store(&k->idle_since_ms, 0);
    }
    size_t len = strlen(uri), path_len = strcspn(uri, "?");
    uintptr_t ctx = (uintptr_t)len << CTX_SHIFT;
    unsigned params = 0;
    /* "/badge.svg%00junk" decodes to "/badge.svg" cut by a NUL: it is not /badge.svg. */
    if (memmem(uri, path_len, "%00", 3))
        ctx |= CTX_NUL_PATH;
    if (uri[path_len] == '?') {
        params = 1;
        for (const char *p = uri + path_len; (p = strchr(p + 1, '&'));)
            params++;
        if (params > REQUEST_MAX_PARAMS) {
            /*
             * The library stores every parameter in the connection's memory
             * right after this callback (connection.c, parse_initial_message_line),
             * and in 0.9.75 a request whose parameters do not fit is left with
             * no reply at all. The query is about to be split in place, in
             * this very buffer: emptying it here leaves nothing to store, and
             * the handler refuses the request.
             */
            ((char *)uri)[path_len + 1] = '\0';
            ctx |= CTX_PARAMS;
            params = 0;
        }
    }
    return (void *)(ctx | (uintptr_t)(params < CTX_PARAMS_MAX ? params : CTX_PARAMS_MAX)
                              << CTX_PARAMS_SHIFT);
}

/* The reply is sent (or the request died): the connection is idle again. */
static void on_completed(void *cls, struct MHD_Connection *c, void **req_ctx,
                         enum MHD_RequestTerminationCode code)
{
    (void)code;
    struct http_server *s = cls;
    struct conn *k = conn_of(c);
    uintptr_t ctx = (uintptr_t)*req_ctx;
    if ((ctx & CTX_STARTED) && !(ctx & CTX_UNCOUNTED))
        atomic_fetch_sub(&s->in_flight, 1);
    if (k && k->body_on) {
        k->body_on = false;
        buf_reset(&k->body);
    }
    if (k) {
        /* Between requests the idle timeout rules; the next request gets both again. */
        int64_t now = monotime_ms();
        atomic_store(&k->deadline_ms, now + s->idle_timeout_ms + s->request_timeout_ms);
        atomic_store(&k->idle_since_ms, now);
    }
}

/*
 * Whether k's wait is over: its loader request or statistics read done, or
 * its hit written (written covers it).
 */
static bool wait_done(const struct http_server *s, const struct conn *k, uint64_t written)
{
    if (k->held.wait_load)
        return loader_done(s->app->loader) >= k->held.wait_load;
    if (k->held.wait_read)
        return routes_stats_done(s->app->stats) >= k->held.wait_read;
    return k->wait_take <= written;
}

/* The last take the flusher has written; 0 for a server without one. */
static uint64_t written_now(const struct http_server *s)
{
    return s->app->flusher ? flusher_written(s->app->flusher) : 0;
}

/* Whether res is to run again after its wait (a load or a statistics read), not sent. */
static bool runs_again(const struct response *res)
{
    return res->wait_load || res->wait_read;
}

/*
 * Keeps res (moved into k), with the connection suspended so that no
 * worker thread waits, until (durable mode) counter_take() number
 * res->wait_take is written, or (a cache's load) the loader request
 * res->wait_load is done, or the statistics read res->wait_read is. A read
 * waits until shortly before the request's deadline, so that its 503
 * still goes out. The connection is suspended before it is listed, so
 * nobody resumes one that is not suspended yet.
 */
static void hold(struct http_server *s, struct MHD_Connection *c, struct conn *k,
                 struct response *res)
{
    k->held = *res;
    atomic_store(&k->holding, true);
    k->wait_take = res->wait_take;
    int64_t now = monotime_ms();
    if (res->wait_load)
        k->wait_until_ms = now + HTTP_LOAD_WAIT_MS;
    else if (res->wait_read)
        k->wait_until_ms = atomic_load(&k->deadline_ms) - HTTP_READ_MARGIN_MS;
    else
        k->wait_until_ms = now + s->request_timeout_ms;
    MHD_suspend_connection(c);
    pthread_mutex_lock(&s->lock);
    k->next_waiter = s->waiters;
    s->waiters = k;
    pthread_mutex_unlock(&s->lock);
    if (!runs_again(res))
        flusher_need(s->app->flusher, k->wait_take);
    /* Done meanwhile: the flusher or loader may have looked at the list before k was on it. */
    if (wait_done(s, k, written_now(s)))
        http_written(s, written_now(s));
}

/* The held reply of a wait that ended without the write: 503, and the hit stays pending. */
static void give_up_wait(struct conn *k, const char *why)
{
    routes_text(&k->held, 503, why);
    k->held.no_cache = true;
    k->held.etag[0] = '\0';
    k->held.close = true;
}

/*
 * Resumes, outside the server lock (libmicrohttpd takes its own locks in
 * MHD_resume_connection, and takes them before ours when it reports a
 * close), the connections taken off the waiting list.
 */
static void resume_all(struct conn **ready, size_t n)
{
    for (size_t i = 0; i < n; i++)
        MHD_resume_connection(ready[i]->mhd);
}

/*
 * Takes off the waiting list, under the lock, the connections whose wait is
 * over: written covers their take, or (with now > 0) their time is up,
 * or (everything) all of them; returns how many, in ready (at most cap).
 */
static size_t take_waiters(struct http_server *s, uint64_t written, int64_t now, bool everything,
                           struct conn **ready, size_t cap)
{
    size_t n = 0;
    for (struct conn **p = &s->waiters; *p && n < cap;) {
        struct conn *k = *p;
        bool done = wait_done(s, k, written);
        bool late = everything || (now > 0 && now > k->wait_until_ms);
        if (done || late) {
            /* A load's or read's wait ends either way: the request runs again with what is known.
             */
            if (!done && !runs_again(&k->held))
                give_up_wait(k, everything ? "ghit is stopping before this hit was written; "
                                             "it is kept and will be written"
                                           : "the store did not take this hit in time; it is "
                                             "kept and will be written");
            *p = k->next_waiter;
            ready[n++] = k;
        } else {
            p = &k->next_waiter;
        }
    }
    return n;
}

void http_loaded(struct http_server *s)
{
    http_written(s, written_now(s));
}

void http_written(struct http_server *s, uint64_t take_no)
{
    struct conn *ready[256];
    size_t n;
    do {
        pthread_mutex_lock(&s->lock);
        n = take_waiters(s, take_no, 0, false, ready, sizeof ready / sizeof ready[0]);
        pthread_mutex_unlock(&s->lock);
        resume_all(ready, n);
    } while (n == sizeof ready / sizeof ready[0]);
}

/* Shuts down the sockets of requests past their deadline; the library then closes them. */
static void *watchdog(void *arg)
{
    struct http_server *s = arg;
    pthread_setname_np(pthread_self(), "ghit-watchdog");
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        int64_t now = monotime_ms();
        for (struct conn *k = s->conns; k; k = k->next) {
            int64_t deadline = atomic_load(&k->deadline_ms);
            /* A reply held for its write is timed by its wait (take_waiters), not cut here. */
            if (deadline && now > deadline && !atomic_load(&k->holding)) {
                shut(k);
                s->stats.timed_out++;
                METRICS_REFUSED("request_timeout");
                log_debug("closed a connection whose request took too long");
            }
        }
        if (s->waiters) {
            struct conn *ready[256];
            size_t n =
                take_waiters(s, written_now(s), now, false, ready, sizeof ready / sizeof ready[0]);
            if (n) {
                pthread_mutex_unlock(&s->lock);
                resume_all(ready, n);
                pthread_mutex_lock(&s->lock);
                continue;
            }
        }
        struct timespec until = monotime_deadline(s->waiters ? 50 : 250);
        pthread_cond_timedwait(&s->wake, &s->lock, &until);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

enum { LENGTH_NONE = -1, LENGTH_BAD = -2 };

/*
 * What the Content-Length field says (RFC 9110 8.6: 1*DIGIT): the length,
 * at most INT64_MAX; LENGTH_NONE if there is none, LENGTH_BAD if it is not
 * a number. "00" is 0, as the library reads it too.
 */
static int64_t content_length(struct MHD_Connection *c)
{
    const char *s = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!s)
        return LENGTH_NONE;
    if (!*s)
        return LENGTH_BAD;
    int64_t n = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return LENGTH_BAD;
        n = n > (INT64_MAX - 9) / 10 ? INT64_MAX : 10 * n + (*s - '0');
    }
    return n;
}

/*
 * A walk over the request head as libmicrohttpd 0.9.75 to 0.9.77 leave it
 * in their read buffer: the request line and the field lines where they
 * came, a NUL over each CR, each LF and each field's colon. Their parser
 * lets three kinds of field line through unseen:
 * - a line with an empty name (": x") after the first field ends the head
 *   there, and the lines after it are read as a second request, which a
 *   proxy in front took for fields of the first;
 * - a NUL byte in a value cuts it short ("Bearer T\0junk" reads "Bearer T");
 * - a folded line (obs-fold) is glued to the field's name (0.9.75, 0.9.76;
 *   0.9.77 turns the fold into spaces in place, as RFC 9112 allows, and the
 *   walk passes that).
 * Each leaves bytes that no field reports, or a field that is not where its
 * line was. So the walk expects each field one line end after the one
 * before (the name, its colon, blanks, the value), and the head to end with
 * one more line end. A line end is 1 (LF) or 2 (CRLF) bytes, the same
 * throughout: the request line's. What it cannot tell: a lone ":" ended by
 * a bare LF after lines ended by CRLF leaves NULs only, as the empty line
 * does. Later versions parse differently: the walk is off there.
 */
struct walk {
    const char *at, *end; /* the next byte the walk expects; the head's end */
    size_t eol;           /* bytes of a line end */
    bool off;             /* a byte that no field accounts for */
};

/* Whether the library parses as the walk expects (0.9.75 to 0.9.77). */
static bool walk_applies(void)
{
    unsigned major, minor, patch;
    const char *v = MHD_get_version();
    return v && sscanf(v, "%u.%u.%u", &major, &minor, &patch) == 3 && major == 0 && minor == 9 &&
           patch >= 75 && patch <= 77;
}

/* Steps w over the NULs of line ends up to where a field should start; false if none. */
static size_t walk_nuls(struct walk *w)
{
    size_t n = 0;
    while (w->at + n < w->end && w->at[n] == '\0')
        n++;
    w->at += n;
    return n;
}

/* Steps w over one line end, which must lead to next. */
static void walk_line(struct walk *w, const char *next)
{
    size_t n = walk_nuls(w);
    if (!w->eol && (n == 1 || n == 2))
        w->eol = n;
    if (n != w->eol || w->at != next)
        w->off = true;
}

/* Steps w over a field line. */
static void walk_field(struct walk *w, const char *key, size_t key_size, const char *value,
                       size_t value_size)
{
    if (w->off)
        return;
    walk_line(w, key);
    if (w->off)
        return; /* not where its line was: a fold moved it, and nothing after it is read */
    w->at = key + key_size;
    if (key_size == 0 || !value || w->at >= w->end || *w->at != '\0') {
        w->off = true;
        return;
    }
    for (w->at++; w->at < w->end && (*w->at == ' ' || *w->at == '\t');)
        w->at++;
    if (w->at != value || value + value_size > w->end)
        w->off = true;
    w->at = value + value_size;
}

/* Whether the head ends where w stands: two line ends, nothing after. */
static bool walk_ends(struct walk *w)
{
    if (w->off)
        return false;
    size_t n = walk_nuls(w);
    return w->at == w->end && (w->eol ? n == 2 * w->eol : n == 2 || n == 4);
}

/* What the handler's scan of the header fields found. */
struct fields {
    size_t bytes;   /* as sent, with ": " and CRLF */
    unsigned count; /* header fields */
    unsigned host, content_length, transfer_encoding, authorization;
    unsigned cookies;    /* parsed cookies */
    size_t cookie_bytes; /* the Cookie fields' values, which the library copies */
    bool bad;            /* a name that is not a token, or a NUL, CR or LF in a name or value */
    struct walk *walk;   /* the walk over the head, or NULL */
};

/* The bytes of an RFC 9110 token (section 5.6.2), as a field name must be made of. */
static const bool tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1,         ['&'] = 1,         ['\''] = 1,
    ['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1,         ['^'] = 1,         ['_'] = 1,
    ['`'] = 1, ['|'] = 1, ['~'] = 1, ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
};

/* Whether name is a token. */
static bool is_token(const char *name, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!tchar[(unsigned char)name[i]])
            return false;
    return true;
}

/* Whether the field name key (len bytes) is name, ignoring case; the length is checked first. */
static bool named(const char *key, size_t len, const char *name, size_t name_len)
{
    return len == name_len && strncasecmp(key, name, len) == 0;
}

#define NAMED(key, len, lit) named(key, len, lit, sizeof lit - 1)

/*
 * Whether a field value (len bytes) holds a NUL, CR or LF (RFC 9110, 5.5).
 * A bare CR is not a line end to libmicrohttpd but is to some proxies: a
 * value holding one could hide a second request from a proxy in front.
 */
static bool bad_value(const char *value, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (value[i] == '\0' || value[i] == '\r' || value[i] == '\n')
            return true;
    return false;
}

/* libmicrohttpd iterator: checks and counts one header field. */
static enum MHD_Result scan_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                  size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    struct fields *f = cls;
    f->bytes += key_size + value_size + 4;
    f->count++;
    if (f->walk)
        walk_field(f->walk, key, key_size, value, value_size);
    if (!is_token(key, key_size) || (value && bad_value(value, value_size)))
        f->bad = true;
    else if (NAMED(key, key_size, MHD_HTTP_HEADER_HOST))
        f->host++;
    else if (NAMED(key, key_size, MHD_HTTP_HEADER_CONTENT_LENGTH))
        f->content_length++;
    else if (NAMED(key, key_size, MHD_HTTP_HEADER_TRANSFER_ENCODING))
        f->transfer_encoding++;
    else if (NAMED(key, key_size, MHD_HTTP_HEADER_AUTHORIZATION))
        f->authorization++;
    else if (NAMED(key, key_size, MHD_HTTP_HEADER_COOKIE))
        f->cookie_bytes += value_size + 1;
    return MHD_YES;
}

/* libmicrohttpd iterator: copies one query parameter (borrowed, valid during the request). */
static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                     size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    struct request *req = cls;
    if (req->nparams == REQUEST_MAX_PARAMS) {
        req->params_error = "too many query parameters";
        return MHD_NO;
    }
    /* "repo%00junk=" would read as repo: no name of ours holds a NUL. */
    if (strlen(key) != key_size) {
        req->params_error = "a parameter name holds a NUL byte";
        return MHD_NO;
    }
    req->params[req->nparams++] = (struct request_param){key, value ? value : "", value_size};
    return MHD_YES;
}

/* Refuses a query that gives a name twice (req->params_error), naming it if it is a plain word. */
static void check_repeats(struct request *req)
{
    for (unsigned i = 1; i < req->nparams && !req->params_error; i++) {
        const char *name = req->params[i].name;
        if (!*name)
            continue; /* "&&" in a query: an empty segment, which names nothing */
        for (unsigned j = 0; j < i; j++) {
            if (strcmp(req->params[j].name, name) != 0)
                continue;
            size_t len = strlen(name);
            bool plain = len > 0 && len <= 24;
            for (size_t k = 0; plain && k < len; k++)
                plain = ascii_is_alnum((unsigned char)name[k]) || name[k] == '_' || name[k] == '-';
            if (plain)
                snprintf(req->params_why, sizeof req->params_why, "%s given more than once", name);
            else
                snprintf(req->params_why, sizeof req->params_why,
                         "a parameter is given more than once");
            req->params_error = req->params_why;
            break;
        }
    }
}

/* The values of every header field named by cls->name, joined with commas. */
struct joined {
    const char *name;
    struct buf *out;
};

/* libmicrohttpd iterator: appends one matching field's value to a joined list. */
static enum MHD_Result join_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                  size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    (void)key_size;
    struct joined *j = cls;
    if (value && strcasecmp(key, j->name) == 0) {
        if (j->out->len)
            buf_putc(j->out, ',');
        buf_append(j->out, value, value_size);
    }
    return MHD_YES;
}

/*
 * The client of a request from a trusted proxy: from the one header that
 * the proxies set (--forwarded-header); the proxy itself if it names no
 * address. Only that one: a proxy passes the other on as the client sent
 * it (nginx does, for every header it is not told to set), so a client
 * could name itself there.
 */
static void forwarded_from(struct MHD_Connection *c, const struct config *cfg,
                           struct netaddr *client)
{
    bool rfc = strcmp(cfg->forwarded_header, "forwarded") == 0;
    struct buf list;
    buf_init(&list);
    struct joined j = {rfc ? "Forwarded" : "X-Forwarded-For", &list};
    MHD_get_connection_values_n(c, MHD_HEADER_KIND, join_field, &j);
    if (list.len)
        forwarded_client(rfc ? FORWARDED_RFC : FORWARDED_XFF, list.data, list.len,
                         &cfg->trusted_proxies, client);
    buf_fini(&list);
}

/*
 * The path of an absolute-form target ("http://host/badge.svg"), which
 * HTTP/1.1 servers must accept (RFC 9112 section 3.2.2); other targets as
 * they are.
 */
static const char *origin_path(const char *url)
{
    const char *rest = NULL;
    if (strncasecmp(url, "http://", 7) == 0)
        rest = url + 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        rest = url + 8;
    if (!rest)
        return url;
    const char *slash = strchr(rest, '/');
    return slash ? slash : "/";
}

/*
 * The most memory a connection keeps for its next reply: a badge or a JSON
 * answer fits; a larger body (a page, a long history) is freed once sent,
 * so that thousands of idle connections hold no more than this each.
 */
#define REPLY_KEEP_MAX 16384

/*
 * The memory for a reply's body on the connection k: its last reply's
 * (sent by now), or new. reply_memory_keep() moves a body back into k.
 */
static void reply_memory_take(struct conn *k, struct buf *b)
{
    if (k && k->reply.cap) {
        *b = k->reply;
        k->reply = (struct buf){0};
        buf_reset(b);
    } else {
        buf_init(b);
        buf_reserve(b, 1536); /* a badge fits: one allocation */
    }
}

/* Moves b into k->reply for the connection's next reply; false, b untouched, if k may not keep it.
 */
static bool reply_memory_keep(struct conn *k, struct buf *b)
{
    if (!k || k->reply.cap || b->cap > REPLY_KEEP_MAX)
        return false;
    k->reply = *b;
    *b = (struct buf){0};
    return true;
}

/* Ends a request that took reply memory and sends no body of its own. */
static void reply_memory_return(struct conn *k, struct buf *b)
{
    if (!reply_memory_keep(k, b))
        buf_fini(b);
}

/*
 * Sends res on c, whose socket context is k (or NULL). The body is sent
 * from k->reply, where it moves, or (no k, or over REPLY_KEEP_MAX) is
 * handed to the library to free.
 */
static enum MHD_Result send_response(struct MHD_Connection *c, struct conn *k, struct response *res)
{
    struct MHD_Response *r;
    if (reply_memory_keep(k, &res->body)) {
        r = MHD_create_response_from_buffer(k->reply.len, k->reply.data, MHD_RESPMEM_PERSISTENT);
    } else {
        size_t len = res->body.len;
        char *body = buf_steal(&res->body);
        r = MHD_create_response_from_buffer_with_free_callback(len, body, free);
        if (!r)
            free(body);
    }
    if (!r)
        return MHD_NO;
    if (res->bare) {
        /* Status line, Date, Content-Length and Connection: about 100 bytes. */
        enum MHD_Result ok = MHD_queue_response(c, res->status, r);
        MHD_destroy_response(r);
        return ok;
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
    /* Any page may read the JSON API; pages carry their own policy. */
    if (strncmp(res->content_type, "application/json", 16) == 0)
        MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    if (res->csp)
        MHD_add_response_header(r, "Content-Security-Policy", res->csp);
    if (res->authenticate)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"ghit\"");
    enum MHD_Result ok = MHD_queue_response(c, res->status, r);
    MHD_destroy_response(r);
    return ok;
}

/* An admin request (PUT or DELETE of /api/v1/repos/..., with --admin-token-file). */
struct admin_request {
    bool on, put, del;
    bool path; /* the URL is under the admin routes, which are enabled (any method) */
    bool body; /* a PUT with the token and a body to read */
};

/* What kind of admin request method and url make, if any. */
static struct admin_request admin_request_of(const struct http_server *s, const char *method,
                                             const char *url)
{
    struct admin_request a = {0};
    a.put = strcmp(method, MHD_HTTP_METHOD_PUT) == 0;
    a.del = strcmp(method, MHD_HTTP_METHOD_DELETE) == 0;
    a.path = s->app->admin && strncmp(origin_path(url), admin_prefix, sizeof admin_prefix - 1) == 0;
    a.on = (a.put || a.del) && a.path;
    return a;
}

/* libmicrohttpd iterator: counts one cookie and the bytes of its copy. */
static enum MHD_Result count_cookie(void *cls, enum MHD_ValueKind kind, const char *key,
                                    size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    (void)key;
    (void)key_size;
    (void)value;
    (void)value_size;
    ((struct fields *)cls)->cookies++;
    return MHD_YES;
}

/*
 * What is left of the connection's memory for the reply's header block.
 * libmicrohttpd 0.9.75 keeps the request's head text and a 64-byte record
 * per header field, query parameter and cookie (plus a copy of the Cookie
 * field) in a pool of --connection-memory bytes, and builds the reply's
 * header block in what is left; if that is too little it closes the
 * connection without a word, after the handler has run (memorypool.c,
 * connection.c: build_header_response). The figures are the library's:
 * blocks round up to 16 bytes. head is the head's size in bytes.
 */
static size_t pool_left(struct http_server *s, struct MHD_Connection *c, struct fields *f,
                        size_t head, size_t params)
{
    if (f->cookie_bytes)
        MHD_get_connection_values_n(c, MHD_COOKIE_KIND, count_cookie, f);
    size_t used = ((head + 15) & ~(size_t)15) + 64 * (f->count + params + f->cookies) +
                  ((f->cookie_bytes + 15) & ~(size_t)15);
    size_t limit = s->app->cfg->connection_memory;
    return used < limit ? limit - used : 0;
}

/*
 * Checks what the request line and header fields say before anything is
 * counted; 0 if the request may go on, else the status to refuse it with
 * (and *why). Everything that lets a front proxy and ghit disagree about
 * where a request ends or what it names is refused: a second
 * Content-Length or Host, a field name with a space before the colon, NUL
 * bytes (RFC 9110 section 5.5, RFC 9112 sections 3.2 and 6.3), a line the
 * library's parser reads past (struct walk).
 */
static unsigned check_request(struct http_server *s, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, uintptr_t ctx,
                              struct admin_request *admin, size_t *room, enum http_refusal *kind,
                              const char **why)
{
    const struct config *cfg = s->app->cfg;
    size_t target_len = ctx >> CTX_SHIFT;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    size_t head =
        ci ? ci->header_size : 0; /* the request line and fields, in the library's buffer */
    struct fields f = {0};
    struct walk walk = {0};
    if (s->walk && head && version > method) {
        walk = (struct walk){version + strlen(version), method + head, 0, false};
        f.walk = &walk;
    }
    MHD_get_connection_values_n(c, MHD_HEADER_KIND, scan_field, &f);
    if (f.walk && !walk_ends(f.walk))
        f.bad = true;
    /*
     * The library cuts the target at a raw NUL byte, which leaves what
     * follows unseen: the line's real length is where the version begins.
     */
    bool nul_in_target = version > url && (size_t)(version - url) - 1 != target_len;
    bool http11 = strcmp(version, MHD_HTTP_VERSION_1_1) == 0;
    /* First: a target long enough to be refused may leave no room for a whole reply. */
    *room = pool_left(s, c, &f, head, (ctx >> CTX_PARAMS_SHIFT) & CTX_PARAMS_MAX);
    if (target_len > cfg->max_url_bytes)
        return *kind = HTTP_REFUSED_TARGET, *why = "request target too long", 414;
    if (f.bytes > cfg->max_header_bytes || f.count > HTTP_MAX_FIELDS || *room < HTTP_REPLY_ROOM)
        return *kind = HTTP_REFUSED_FIELDS, *why = "request header fields too large", 431;
    if (ctx & CTX_PARAMS)
        return *kind = HTTP_REFUSED_PARAMS, *why = "too many query parameters", 400;
    if (f.bad || nul_in_target)
        return *kind = HTTP_REFUSED_MALFORMED,
               *why = "malformed request: a field line with an empty name, a name that is not a "
                      "token, a NUL, CR or LF, or a fold",
               400;
    if (f.host > 1 || (http11 && f.host == 0))
        return *kind = HTTP_REFUSED_MALFORMED,
               *why = "malformed request: HTTP/1.1 needs exactly one Host field", 400;
    if (f.content_length > 1 || (f.content_length && f.transfer_encoding))
        return *kind = HTTP_REFUSED_MALFORMED,
               *why = "malformed request: conflicting Content-Length or Transfer-Encoding", 400;
    /* One field, one value (RFC 9110 11.6.2): with two, which one a proxy checked is a guess. */
    if (f.authorization > 1)
        return *kind = HTTP_REFUSED_MALFORMED,
               *why = "malformed request: more than one Authorization field", 400;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0 &&
        !admin->on)
        return *kind = HTTP_REFUSED_METHOD,
               *why = admin->path ? "method not allowed: use GET, HEAD, PUT or DELETE"
                                  : "method not allowed: use GET or HEAD",
               405;
    int64_t length = content_length(c);
    if (length == LENGTH_BAD)
        return *kind = HTTP_REFUSED_MALFORMED,
               *why = "malformed request: Content-Length is not a number", 400;
    if (length > 0 || f.transfer_encoding) {
        if (!admin->on)
            return *kind = HTTP_REFUSED_BODY, *why = "a request body is not accepted here", 413;
        /* Without the token nothing is read: routes answers 401 at once (admin.c). */
        if (!admin_authorized(
                s->app->admin,
                MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION)))
            return 0;
        if (!admin->put)
            return *kind = HTTP_REFUSED_BODY, *why = "a request body is accepted with PUT only",
                   413;
        if (f.transfer_encoding || length < 0 || length > ADMIN_BODY_MAX)
            return *kind = HTTP_REFUSED_BODY,
                   *why = "a PUT body is accepted with a Content-Length of at most 1 MiB", 413;
        admin->body = true;
    }
    if (ctx & CTX_NUL_PATH)
        return *kind = HTTP_REFUSED_PATH, *why = "not found: try /badge.svg?repo=OWNER/NAME", 404;
    return 0;
}

/*
 * The reply to a request that arrives while we stop: not counted, and the
 * connection closed. Counting it could not be honoured: its reply might be
 * cut off by the stop, and the client would retry the GET and count twice.
 */
static void draining_reply(struct response *res)
{
    routes_text(res, 503, "ghit is stopping; try again");
    res->close = true;
}

/*
 * Refuses a request whose header fields left the connection's memory too
 * full for the library to build even its smallest reply (it would close
 * the connection without a word): the status line is written to the
 * socket here, and the library told to close. Nothing else is in flight on
 * the connection at the handler's first call (the library reads a
 * pipelined request only after the reply before it is sent), so these
 * bytes are the whole reply.
 */
static enum MHD_Result answer_directly(struct MHD_Connection *c, unsigned status)
{
    const struct conn *k = conn_of(c);
    if (k && k->fd >= 0) {
        char reply[160];
        int n = snprintf(reply, sizeof reply,
                         "HTTP/1.1 %u %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status,
                         MHD_get_reason_phrase_for(status));
        if (send(k->fd, reply, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
            log_debug("could not answer %u on a full connection: %s", status, strerror(errno));
    }
    return MHD_NO;
}

/* Whether the request announces a body. */
static bool has_body(struct MHD_Connection *c)
{
    int64_t length = content_length(c);
    return (length != LENGTH_NONE && length != 0) ||
           MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/* Counts a refusal in /metrics (ghit_requests_refused_total{limit=...}), named after its limit. */
static void count_refusal(enum http_refusal kind)
{
    switch (kind) {
    case HTTP_REFUSED_TARGET:
        METRICS_REFUSED("max_url_bytes");
        break;
    case HTTP_REFUSED_FIELDS:
        METRICS_REFUSED("max_header_bytes");
        break;
    case HTTP_REFUSED_MALFORMED:
        METRICS_REFUSED("malformed");
        break;
    case HTTP_REFUSED_PARAMS:
        METRICS_REFUSED("max_params");
        break;
    case HTTP_REFUSED_METHOD:
        METRICS_REFUSED("method");
        break;
    case HTTP_REFUSED_BODY:
        METRICS_REFUSED("request_body");
        break;
    case HTTP_REFUSED_PATH:
        METRICS_REFUSED("nul_in_path");
        break;
    case HTTP_REFUSALS:
        break;
    }
}

/* Whether c is coming back from a durable wait (its reply is kept in its conn). */
static bool conn_holding(struct MHD_Connection *c)
{
    struct conn *k = conn_of(c);
    return k && atomic_load(&k->holding);
}

/* Fills a request for routes.c from what the library parsed. */
static void fill_request(struct http_server *s, struct MHD_Connection *c, const char *url,
                         bool head, const struct admin_request *admin, struct request *req)
{
    req->head = head;
    if (admin->on) {
        req->put = admin->put;
        req->del = admin->del;
        req->authorization =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        const struct conn *b = conn_of(c);
        if (b && b->body_on) {
            req->body = b->body.data;
            req->body_len = b->body.len;
        }
    }
    req->path = origin_path(url);
    const struct conn *k = conn_of(c);
    if (k) {
        req->peer = k->addr;
        req->client = k->addr;
        if (k->trusted)
            forwarded_from(c, s->app->cfg, &req->client);
    }
    req->user_agent = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
    MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, collect_param, req);
    check_repeats(req);
}

/*
 * Fills req and runs the routes into res, whose write waits for take
 * wait_take at least (a reply held before, run again). True if the reply
 * is held (the connection suspended until its hit is written or its repo
 * read, see hold()); false if res goes out now.
 */
static bool run_routes(struct http_server *s, struct MHD_Connection *c, const char *url,
                       const char *method, const struct admin_request *admin, struct request *req,
                       struct response *res, uint64_t wait_take)
{
    fill_request(s, c, url, strcmp(method, MHD_HTTP_METHOD_HEAD) == 0, admin, req);
    s->handle(s->app, req, res);
    if (wait_take > res->wait_take)
        res->wait_take = wait_take;
    struct conn *k = res->wait_take || runs_again(res) ? conn_of(c) : NULL;
    if (!k || (!runs_again(res) && written_now(s) >= res->wait_take))
        return false;
    hold(s, c, k, res);
    return true;
}

/*
 * The access handler. Its first call comes when the header fields are in:
 * everything that refuses a request is decided then, and refused at once
 * (the library then closes the connection, as it should after a request it
 * could not read). A request that passes is answered on the second call
 * (trap 1), which counts it.
 */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_ctx)
{
    struct http_server *s = cls;
    uintptr_t ctx = (uintptr_t)*req_ctx;
    struct admin_request admin = admin_request_of(s, method, url);
    if (admin.on && (ctx & CTX_STARTED) && *upload_data_size) {
        /* An admin PUT's body, arriving in pieces: gathered, answered once it is all in. */
        struct conn *k = conn_of(c);
        if (k && k->body_on)
            buf_append(&k->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    struct conn *conn = conn_of(c);
    struct response res = {0};
    reply_memory_take(conn, &res.body);
    if (!(ctx & CTX_STARTED)) {
        /*
         * From this call on, the library reports the request's end to
         * on_completed(). A request that is refused, or starts while
         * draining, is never counted, so it is not in flight either.
         */
        const char *why = NULL;
        enum http_refusal kind;
        size_t room = SIZE_MAX;
        unsigned status =
            check_request(s, c, url, method, version, ctx, &admin, &room, &kind, &why);
        struct conn *k = admin.body ? conn_of(c) : NULL;
        if (k) {
            if (!k->body.cap)
                buf_init(&k->body);
            buf_reset(&k->body);
            k->body_on = true;
        }
        if (status == 0 && !atomic_load(&s->draining) &&
            (!admin.on || admin.body || !has_body(c))) {
            *req_ctx = (void *)(ctx | CTX_STARTED);
            atomic_fetch_add(&s->in_flight, 1);
            reply_memory_return(conn, &res.body);
            return MHD_YES;
        }
        *req_ctx = (void *)(ctx | CTX_STARTED | CTX_UNCOUNTED);
        if (status)
            count_refusal(kind);
        if (status && room < HTTP_BARE_REPLY) {
            atomic_fetch_add(&s->refused[kind], 1);
            reply_memory_return(conn, &res.body);
            return answer_directly(c, status);
        }
        if (status) {
            atomic_fetch_add(&s->refused[kind], 1);
            routes_text(&res, status, why);
            if (status == 405)
                res.allow = admin.path ? "GET, HEAD, PUT, DELETE" : "GET, HEAD";
            res.close = true;
            /* With the memory nearly gone, only the library's own headers may fit. */
            res.bare = room < HTTP_REPLY_ROOM;
        } else if (atomic_load(&s->draining)) {
            draining_reply(&res);
        } else {
            /* An admin request with a body but not the token: its 401, before the body is read. */
            struct request req = {0};
            fill_request(s, c, url, false, &admin, &req);
            s->handle(s->app, &req, &res);
            res.close = true;
        }
    } else if (conn_holding(c) && runs_again(&conn_of(c)->held)) {
        /* Resumed after a load or read (or its wait given up): run again, answered from cache. */
        struct conn *k = conn_of(c);
        struct request req = {.resumed = true,
                              .count_after_load = k->held.count_after_load,
                              /* A load's wait ignores the writes (0). */
                              .load_given_up = k->held.wait_load && !wait_done(s, k, 0),
                              .loads = k->held.loads,
                              .waited_read = k->held.wait_read};
        uint64_t wait_take = k->held.wait_take;
        buf_fini(&k->held.body);
        atomic_store(&k->holding, false);
        if (run_routes(s, c, url, method, &admin, &req, &res, wait_take))
            return MHD_YES;
    } else if (conn_holding(c)) {
        /* Resumed: the hit is written (or the wait given up): send the reply kept for it. */
        struct conn *k = conn_of(c);
        buf_fini(&res.body);
        res = k->held;
        atomic_store(&k->holding, false);
    } else if (atomic_load(&s->draining)) {
        /* Not counted, so nothing for http_stop() to wait for: out of in_flight now. */
        if (!(ctx & CTX_UNCOUNTED)) {
            *req_ctx = (void *)(ctx | CTX_UNCOUNTED);
            atomic_fetch_sub(&s->in_flight, 1);
        }
        draining_reply(&res);
    } else {
        struct request req = {0};
        if (run_routes(s, c, url, method, &admin, &req, &res, 0))
            return MHD_YES;
    }
    metrics_request(res.route ? res.route : "other", res.status);
    return send_response(c, conn, &res);
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

int http_listen(const char *address, char *err, size_t errlen)
{
    struct sockaddr_storage addr;
    socklen_t len;
    if (parse_listen(address, &addr, &len, err, errlen) < 0)
        return -1;
    int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", address, strerror(errno));
        return -1;
    }
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (addr.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    if (bind(fd, (struct sockaddr *)&addr, len) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", address, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/*
 * The connection limit the descriptor limit allows: raises the soft
 * RLIMIT_NOFILE as far as the hard one lets it, and if that is still short
 * of want plus what the rest of ghit needs (store, listening socket, epoll
 * set and pipes), says so and returns what fits; running out of descriptors
 * would leave the library unable to accept at all.
 */
static unsigned fit_descriptors(unsigned want)
{
    const rlim_t spare = 64;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return want;
    rlim_t need = (rlim_t)want + spare;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        struct rlimit raised = rl;
        raised.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            rl = raised;
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return want;
    unsigned fit = rl.rlim_cur > spare * 2 ? (unsigned)(rl.rlim_cur - spare) : (unsigned)spare;
    log_warn("the file descriptor limit (%llu, hard %llu) is too low for --max-connections %u: "
             "serving at most %u connections; raise it (ulimit -n, or LimitNOFILE= in the "
             "systemd unit)",
             (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max, want, fit);
    return fit;
}

/* Stops the watchdog thread and waits for it. */
static void stop_watchdog(struct http_server *s)
{
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->watchdog, NULL);
}

/*
 * Whether the acceptor must wait: the connections open, and those handed
 * to the library that its worker has not started yet, make the limit.
 * Handed ones that a worker failed to start (it closes them unnoticed:
 * out of memory) are forgotten after a second.
 */
static bool at_limit(struct http_server *s)
{
    pthread_mutex_lock(&s->lock);
    if (s->handing && monotime_ms() - s->handed_ms > 1000)
        s->handing = 0;
    bool full = s->nconns + s->handing >= s->limit;
    pthread_mutex_unlock(&s->lock);
    return full;
}

/*
 * The acceptor. libmicrohttpd's loops accept on whichever worker wakes
 * first (poll(): one connection a wake-up; epoll: several), and a burst of
 * connects (wrk's 50, a proxy's pool) often split unevenly between two
 * workers, at times all on one (doc/design.md): the busier one set the
 * pace while the other core idled, for as long as the keep-alive
 * connections lasted.
 * This thread accepts instead and hands each socket to the library, which
 * gives it to the worker that the socket's number picks (the number
 * modulo the pool's size, in MHD_add_connection()), so sockets opened one
 * after another alternate. With the connections at the limit it stops
 * accepting, as the library does, and clients wait in the listen backlog.
 */
static void *acceptor(void *arg)
{
    struct http_server *s = arg;
    pthread_setname_np(pthread_self(), "ghit-acceptor");
    struct pollfd p[2] = {{.fd = s->quit_fd[0], .events = POLLIN},
                          {.fd = s->listen_fd, .events = POLLIN}};
    for (;;) {
        int n = poll(p, 2, -1);
        if (n > 0 && p[0].revents)
            return NULL;
        if (n <= 0 || !p[1].revents)
            continue;
        /* At the limit: look again every 10 ms (a close does not tell this thread). */
        while (at_limit(s))
            if (poll(p, 1, 10) > 0)
                return NULL;
        struct sockaddr_storage a;
        socklen_t alen = sizeof a;
        int fd = accept4(s->listen_fd, (struct sockaddr *)&a, &alen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED)
                continue; /* another took it, or it went: nothing wrong here */
            /* Out of descriptors or memory, or worse: wait a while, not in a tight loop. */
            log_debug("cannot accept a connection: %s", strerror(errno));
            if (poll(p, 1, 100) > 0)
                return NULL;
            continue;
        }
        /*
         * Counted as handed before it is: the worker may start it, and take
         * it off the count, before MHD_add_connection() returns. On failure
         * the library has closed the socket and told why (on_mhd_log()).
         */
        pthread_mutex_lock(&s->lock);
        s->handing++;
        s->handed_ms = monotime_ms();
        pthread_mutex_unlock(&s->lock);
        if (MHD_add_connection(s->daemon, fd, (struct sockaddr *)&a, alen) != MHD_YES) {
            pthread_mutex_lock(&s->lock);
            if (s->handing)
                s->handing--;
            pthread_mutex_unlock(&s->lock);
        }
    }
}

/* Frees what http_start() made, once the library and its own threads are stopped. */
static void free_server(struct http_server *s)
{
    int fds[] = {s->listen_fd, s->quit_fd[0], s->quit_fd[1]};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    for (size_t i = 0; i < s->npeers; i++) {
        while (s->peers[i]) {
            struct peer *next = s->peers[i]->next;
            free(s->peers[i]);
            s->peers[i] = next;
        }
    }
    free(s->peers);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    free(s);
}

struct http_server *http_start(const struct app *app, int listen_fd, routes_fn *handle,
                               unsigned max_connections, char *err, size_t errlen)
{
    const struct config *cfg = app->cfg;
    struct sockaddr_storage addr = {0}; /* getsockname() fills it; zeroed for the analyzer */
    socklen_t addrlen = sizeof addr;
    if (getsockname(listen_fd, (struct sockaddr *)&addr, &addrlen) < 0) {
        snprintf(err, errlen, "cannot use the listening socket: %s", strerror(errno));
        close(listen_fd);
        return NULL;
    }

    struct http_server *s = xcalloc(1, sizeof *s);
    s->listen_fd = listen_fd; /* closed by free_server(), on every failure below too */
    s->quit_fd[0] = s->quit_fd[1] = -1;
    s->handle = handle;
    s->walk = walk_applies();
    atomic_init(&s->in_flight, 0);
    atomic_init(&s->draining, false);
    s->app = app;
    s->limit = fit_descriptors(max_connections);
    /* Room to close an idle connection for a new one before the acceptor stops at the limit. */
    unsigned headroom = s->limit / 32 > 8 ? s->limit / 32 : 8;
    s->soft_limit = s->limit > headroom ? s->limit - headroom : 1;
    s->per_peer = cfg->max_connections_per_ip;
    for (s->npeers = 64; s->npeers < s->limit; s->npeers *= 2)
        ;
    s->peers = xcalloc(s->npeers, sizeof *s->peers);
    if (getrandom(s->peer_key, sizeof s->peer_key, 0) != (ssize_t)sizeof s->peer_key)
        memset(s->peer_key, 0x3c, sizeof s->peer_key);
    s->request_timeout_ms = cfg->request_timeout_s * 1000;
    s->idle_timeout_ms = cfg->idle_timeout_s * 1000;
    pthread_mutex_init(&s->lock, NULL);
    monotime_cond_init(&s->wake);

    /* In durable mode every reply is suspended and resumed, and with epoll the library takes
     * each connection out of its epoll set and puts it back, a system call each way; poll()
     * rebuilds its set every pass anyway. Durable, one repo, wrk -c50: 67,000-73,000 req/s
     * against 58,000-67,000 with epoll; -c400: 105,000 against 75,000-89,000 (doc/design.md). */
    unsigned flags = (cfg->durable ? MHD_USE_POLL_INTERNAL_THREAD : MHD_USE_EPOLL_INTERNAL_THREAD) |
                     MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (pipe2(s->quit_fd, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
        free_server(s);
        return NULL;
    }
    /* The library's limit, which it applies per worker, must never close one the acceptor hands
     * it: the whole limit for each worker. */
    unsigned long long pool = (unsigned long long)s->limit * cfg->threads;
    unsigned library_limit = pool > UINT_MAX ? UINT_MAX : (unsigned)pool;
    flags |= MHD_USE_NO_LISTEN_SOCKET;
    /* Replies wait for a write, a load or a statistics read without holding a thread. */
    flags |= MHD_ALLOW_SUSPEND_RESUME;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, NULL}, /* first, to catch all */
        {MHD_OPTION_CONNECTION_LIMIT, library_limit, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, cfg->idle_timeout_s, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->connection_memory, NULL},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, s},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, s},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s},
        {MHD_OPTION_END, 0, NULL}, /* the pool's size, with --threads 2 or more */
        {MHD_OPTION_END, 0, NULL},
    };
    if (cfg->threads > 1)
        opts[sizeof opts / sizeof opts[0] - 2] =
            (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, cfg->threads, NULL};
    errno = 0;
    s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_ARRAY, opts,
                                 MHD_OPTION_END);
    if (!s->daemon) {
        snprintf(err, errlen, "cannot serve on %s: %s", cfg->listen,
                 errno ? strerror(errno) : "refused by libmicrohttpd (see --log-level debug)");
        free_server(s);
        return NULL;
    }
    netaddr_format_endpoint((const struct sockaddr *)&addr, s->address, sizeof s->address);
    int rc = pthread_create(&s->watchdog, NULL, watchdog, s);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the watchdog thread: %s", strerror(rc));
        MHD_stop_daemon(s->daemon);
        free_server(s);
        return NULL;
    }
    if ((rc = pthread_create(&s->accept_thread, NULL, acceptor, s)) != 0) {
        snprintf(err, errlen, "cannot start the acceptor thread: %s", strerror(rc));
        MHD_stop_daemon(s->daemon);
        stop_watchdog(s);
        free_server(s);
        return NULL;
    }
    return s;
}

size_t http_memory_needed(unsigned max_url_bytes, unsigned max_header_bytes)
{
    /* The request line's method, spaces, version and CRLF, and the blank line: 32 is plenty. */
    size_t head = (size_t)max_url_bytes + 32 + max_header_bytes;
    return ((head + 15) & ~(size_t)15) + 64 * (HTTP_MAX_FIELDS + REQUEST_MAX_PARAMS) +
           HTTP_REPLY_ROOM;
}

void http_get_stats(struct http_server *s, struct http_stats *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    out->open = s->nconns;
    pthread_mutex_unlock(&s->lock);
    for (int i = 0; i < HTTP_REFUSALS; i++)
        out->refused[i] = atomic_load(&s->refused[i]);
}

const char *http_address(const struct http_server *s)
{
    return s->address;
}

/*
 * Waits, at most timeout_ms, until every request counted is answered,
 * handing the flusher's latest writes to held replies meanwhile (the
 * flusher no longer calls us once the server stops).
 */
static void wait_answered(struct http_server *s, unsigned timeout_ms)
{
    int64_t until = monotime_ms() + timeout_ms;
    while (atomic_load(&s->in_flight) > 0 && monotime_ms() < until) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
        http_written(s, written_now(s));
    }
}

void http_stop(struct http_server *s, unsigned grace_ms)
{
    /*
     * Order matters: from here on no request is counted, and every request
     * counted before is in in_flight (raised on its first call, before the
     * check of draining on its second), so the wait below sees them all
     * answered before the connections are closed.
     *
     * The acceptor goes on accepting until the waits below are over: a
     * client that connects meanwhile is answered 503 like any other new
     * request.
     */
    atomic_store(&s->draining, true);
    wait_answered(s, grace_ms);
    /*
     * Durable mode: replies still waiting for a write that did not come in
     * the grace time get their 503 now (their hits stay pending and are
     * written by the flusher's stop); the library aborts if it is stopped
     * with a connection suspended.
     */
    for (size_t n = 1; n;) {
        struct conn *ready[256];
        pthread_mutex_lock(&s->lock);
        /* What the flusher wrote since it last said so still gets its reply, not a 503. */
        n = take_waiters(s, written_now(s), 0, true, ready, sizeof ready / sizeof ready[0]);
        pthread_mutex_unlock(&s->lock);
        resume_all(ready, n);
    }
    wait_answered(s, 1000); /* the workers send what was resumed */
    /* A client that connected after this waits in the backlog until the socket closes. */
    while (write(s->quit_fd[1], "", 1) < 0 && errno == EINTR)
        ;
    pthread_join(s->accept_thread, NULL);
    MHD_stop_daemon(s->daemon);
    stop_watchdog(s);
    free_server(s);
}
