/*
 * bare_mhd: the libmicrohttpd ceiling for the benchmark.
 *
 * A bare libmicrohttpd server that answers every request with one fixed SVG badge
 * (the 2015 ghit.me badge, ~1.1 KB, or a file given with --svg). It does no routing,
 * no counting and no rendering, so what it measures is the cost of libmicrohttpd
 * itself on this machine: ghit must reach at least 0.85x of it (issue 2, "Benchmark").
 *
 * It is configured the way ghit is: internal thread pool with epoll, keep-alive,
 * bound with MHD_OPTION_SOCK_ADDR to 127.0.0.1, and it observes the libmicrohttpd
 * 0.9.75 trap from DESIGN.md: answer MHD_YES on the first access-handler call and
 * queue the response on the second (queuing on the first makes 0.9.75 send
 * "Connection: close"). One persistent response (MHD_RESPMEM_PERSISTENT) is shared by
 * all requests; it carries the same cache headers as a ghit badge, so the headers on
 * the wire are comparable.
 *
 *   bare_mhd [--threads N] [--turbo] [--svg FILE] PORT
 *
 * --threads N   size of the internal thread pool (default 2, one per core here)
 * --turbo       add MHD_USE_TURBO (only to mirror a ghit built with it)
 * --svg FILE    serve FILE instead of the embedded badge
 *
 * SIGTERM or SIGINT stops it (exit 0). Built by bench/run.sh:
 *   cc -O2 -o build/bench/bare_mhd bench/bare_mhd.c $(pkg-config --cflags --libs libmicrohttpd)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

/* ../shared/bench/ghitme-2015/badge.svg without its final newline (1131 bytes); run.sh passes
 * the file itself with --svg, so nginx and bare_mhd send the same bytes. */
static const char default_svg[] =
    "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" "
    "width=\"80\" height=\"20\" role=\"img\" aria-label=\"hits: 1234567\"><title>hits: "
    "1234567</title><linearGradient id=\"s\" x2=\"0\" y2=\"100%\"><stop offset=\"0\" "
    "stop-color=\"#bbb\" stop-opacity=\".1\"/><stop offset=\"1\" "
    "stop-opacity=\".1\"/></linearGradient><clipPath id=\"r\"><rect width=\"80\" "
    "height=\"20\" rx=\"3\" fill=\"#fff\"/></clipPath><g clip-path=\"url(#r)\"><rect "
    "width=\"31\" height=\"20\" fill=\"#555\"/><rect x=\"31\" width=\"49\" height=\"20\" "
    "fill=\"#4c1\"/><rect width=\"80\" height=\"20\" fill=\"url(#s)\"/></g><g fill=\"#fff\" "
    "text-anchor=\"middle\" font-family=\"Verdana,Geneva,DejaVu Sans,sans-serif\" "
    "text-rendering=\"geometricPrecision\" font-size=\"110\"><text aria-hidden=\"true\" "
    "x=\"165\" y=\"150\" fill=\"#010101\" fill-opacity=\".3\" transform=\"scale(.1)\" "
    "textLength=\"210\">hits</text><text x=\"165\" y=\"140\" transform=\"scale(.1)\" "
    "fill=\"#fff\" textLength=\"210\">hits</text><text aria-hidden=\"true\" x=\"545\" "
    "y=\"150\" fill=\"#010101\" fill-opacity=\".3\" transform=\"scale(.1)\" "
    "textLength=\"390\">1234567</text><text x=\"545\" y=\"140\" transform=\"scale(.1)\" "
    "fill=\"#fff\" textLength=\"390\">1234567</text></g></svg>";

static struct MHD_Response *badge;

/* The access handler: the first call for a request only says "go on" (see the trap
 * above); the second queues the shared response. The marker in *req_cls tells the
 * two calls apart; its address is all that matters. */
static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **req_cls)
{
    static int marker;
    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    (void)upload;
    (void)upload_size;
    if (*req_cls != &marker) {
        *req_cls = &marker;
        return MHD_YES;
    }
    return MHD_queue_response(conn, MHD_HTTP_OK, badge);
}

/* Reads a whole file into a heap buffer; returns NULL (and says why) on failure.
 * The caller owns the buffer; here it lives until exit. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "bare_mhd: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            char *bigger = realloc(buf, cap);
            if (bigger == NULL)
                free(buf);
            buf = bigger;
        }
    }
    fclose(f);
    if (buf == NULL)
        fprintf(stderr, "bare_mhd: out of memory reading %s\n", path);
    *len = n;
    return buf;
}

/* Parses a decimal integer in [lo, hi]; returns 0, or -1 with a message. */
static int parse_num(const char *what, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "bare_mhd: %s must be a number from %ld to %ld, not '%s'\n", what, lo, hi,
                s);
        return -1;
    }
    *out = v;
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: bare_mhd [--threads N] [--turbo] [--svg FILE] PORT\n");
}

int main(int argc, char **argv)
{
    long threads = 2, port = -1;
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
    const char *svg_path = NULL;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            if (parse_num("--threads", argv[++i], 1, 64, &threads) != 0)
                return 2;
        } else if (strcmp(argv[i], "--turbo") == 0) {
            flags |= MHD_USE_TURBO;
        } else if (strcmp(argv[i], "--svg") == 0 && i + 1 < argc) {
            svg_path = argv[++i];
        } else if (argv[i][0] != '-' && port < 0) {
            if (parse_num("PORT", argv[i], 1, 65535, &port) != 0)
                return 2;
        } else {
            usage();
            return 2;
        }
    }
    if (port < 0) {
        usage();
        return 2;
    }

    const char *body = default_svg;
    size_t body_len = sizeof default_svg - 1;
    if (svg_path != NULL) {
        char *file = read_file(svg_path, &body_len);
        if (file == NULL)
            return 1;
        body = file;
    }

    badge = MHD_create_response_from_buffer(body_len, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (badge == NULL) {
        fprintf(stderr, "bare_mhd: cannot create the response\n");
        return 1;
    }
    MHD_add_response_header(badge, "Content-Type", "image/svg+xml;charset=utf-8");
    MHD_add_response_header(badge, "Cache-Control",
                            "max-age=0, no-cache, no-store, must-revalidate");
    MHD_add_response_header(badge, "Expires", "Thu, 01 Jan 1970 00:00:00 GMT");
    MHD_add_response_header(badge, "ETag", "\"bare-mhd-1234567\"");
    MHD_add_response_header(badge, "X-Content-Type-Options", "nosniff");

    /* Block the stop signals before MHD starts its threads, so they inherit the mask and
     * only sigwait() below sees SIGTERM and SIGINT. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    struct MHD_Daemon *d = MHD_start_daemon(
        flags, (unsigned short)port, NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)threads,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "bare_mhd: cannot listen on 127.0.0.1:%ld (port in use?)\n", port);
        return 1;
    }
    fprintf(stderr, "bare_mhd: serving %zu bytes on 127.0.0.1:%ld, %ld thread(s)%s\n", body_len,
            port, threads, (flags & MHD_USE_TURBO) ? ", turbo" : "");

    int sig;
    sigwait(&stop, &sig);
    MHD_stop_daemon(d);
    MHD_destroy_response(badge);
    return 0;
}
