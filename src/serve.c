/*
 * serve: `ghit serve` (see serve.h).
 *
 * Start-up: parse options, open the store (refusing a file that is not
 * ghit's), load every repo's counts into the table, start the flusher, then
 * HTTP. Stop (SIGTERM, SIGINT): stop accepting, let the requests in flight
 * finish, stop HTTP, then write everything still pending. Every hit that
 * was answered is then in the store, or the exit status says it is not.
 *
 * Signals are blocked in every thread and taken synchronously here with
 * sigwait(), so no handler runs inside library code.
 */
#include "serve.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "counter.h"
#include "flusher.h"
#include "http.h"
#include "log.h"
#include "routes.h"
#include "routes_stats.h"
#include "store.h"

#define HTTP_GRACE_MS 5000 /* how long requests in flight may take to finish at stop */

struct load {
    struct counter_table *table;
    day_t day; /* the day the scan asked about: read once, so a scan across midnight is right */
};

/* store scan callback: one stored repo into the table. */
static void load_row(void *arg, const struct store_row *row)
{
    struct load *l = arg;
    counter_load(l->table, row->key, row->total, row->first_day, l->day, row->day_hits);
}

int serve_main(int argc, char **argv)
{
    struct config cfg;
    config_init(&cfg);
    int rc = config_parse(&cfg, argc, argv, stdout, stderr);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    log_set_level(cfg.log_level);

    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    /* Before any thread starts, so that every thread inherits the mask. */
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    char err[512];
    /* A listen address that cannot work is reported before the database is made. */
    if (http_check_listen(cfg.listen, err, sizeof err) < 0 ||
        (cfg.metrics_listen && http_check_listen(cfg.metrics_listen, err, sizeof err) < 0)) {
        log_error("%s", err);
        return 2;
    }
    struct store *store = store_open(cfg.db, err, sizeof err);
    if (!store) {
        log_error("%s", err);
        return 1;
    }
    struct counter_table *table = counter_new(cfg.max_repos);
    struct load load = {table, day_from_time(time(NULL))};
    if (store->ops->scan(store, load.day, load_row, &load, err, sizeof err) != STORE_OK) {
        log_error("cannot load the counts: %s", err);
        counter_free(table);
        store_close(store);
        return 1;
    }
    size_t loaded = counter_size(table);
    if (loaded > cfg.max_repos)
        log_warn("the store holds %zu repos, more than --max-repos %u: they keep counting, "
                 "new repos are refused",
                 loaded, cfg.max_repos);

    struct flusher *flusher = flusher_new(table, store, cfg.flush_interval_ms);
    struct app app = {.cfg = &cfg, .table = table, .flusher = flusher};
    app.stats = routes_stats_new(cfg.db);
    struct http_server *http = NULL, *metrics_http = NULL;
    int status = 1;
    if (flusher_start(flusher) < 0) {
        log_error("cannot start the flusher thread: %s", strerror(errno));
        goto out;
    }
    http = http_start(&app, cfg.listen, routes_handle, err, sizeof err);
    if (!http) {
        log_error("%s", err);
        goto out;
    }
    if (cfg.metrics_listen) {
        metrics_http =
            http_start(&app, cfg.metrics_listen, routes_stats_metrics_only, err, sizeof err);
        if (!metrics_http) {
            log_error("--metrics-listen: %s", err);
            goto out;
        }
        log_info("metrics on http://%s/metrics", http_address(metrics_http));
    }
    log_info("listening on http://%s (store %s %s, %zu repos, flush every %u ms)",
             http_address(http), store->ops->name, cfg.db, loaded, cfg.flush_interval_ms);

    int sig = 0;
    sigwait(&stop_signals, &sig);
    log_info("%s: stopping; finishing requests in flight", sig == SIGINT ? "SIGINT" : "SIGTERM");
    http_stop(http, HTTP_GRACE_MS);
    http = NULL;
    status = 0;
out:
    if (http)
        http_stop(http, 0);
    if (metrics_http)
        http_stop(metrics_http, 0);
    routes_stats_free(app.stats);
    uint64_t lost = flusher_stop(flusher, cfg.shutdown_timeout_ms);
    if (lost) {
        log_error("stopped; %llu hits could NOT be written to the store", (unsigned long long)lost);
        status = 1;
    } else if (status == 0) {
        struct flusher_stats st;
        flusher_get_stats(flusher, &st);
        log_info("stopped; every hit is written (%llu in this run)",
                 (unsigned long long)st.hits_written);
    }
    flusher_free(flusher);
    counter_free(table);
    store_close(store);
    return status;
}
