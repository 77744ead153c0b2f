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

#include <unistd.h>

#include "admin.h"
#include "config.h"
#include "counter.h"
#include "flusher.h"
#include "http.h"
#include "log.h"
#include "policy.h"
#include "routes.h"
#include "runfile.h"
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

/* The counting rules of cfg (issue 10); NULL with a message in err if they cannot work. */
static struct policy *make_policy(const struct config *cfg, char *err, size_t errlen)
{
    bool camo = strcmp(cfg->count, "camo") == 0;
    struct netaddr_list ranges;
    netaddr_list_init(&ranges);
    if (camo && !cfg->camo_ranges) {
        snprintf(err, errlen,
                 "--count camo needs --camo-ranges FILE, the image proxy's address ranges "
                 "(contrib/camo-ranges.txt): its User-Agent alone is easily faked");
        return NULL;
    }
    if (cfg->camo_ranges && policy_load_ranges(cfg->camo_ranges, &ranges, err, errlen) < 0) {
        netaddr_list_fini(&ranges);
        return NULL;
    }
    if (cfg->dedupe_s && !cfg->camo_ranges && !camo)
        log_warn("--dedupe without --camo-ranges: GitHub's image proxy fetches every view from "
                 "a few addresses, so its views of a badge count once per %u s; give "
                 "--camo-ranges to count them all",
                 cfg->dedupe_s);
    return policy_new(camo, &ranges, cfg->dedupe_s, cfg->dedupe_slots);
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
    if (http_check_listen(cfg.listen, err, sizeof err) < 0) {
        log_error("%s", err);
        return 2;
    }
    /* issue 10: the admin token and the counting rules, read before the store is touched. */
    struct admin *admin = NULL;
    if (cfg.admin_token_file && !(admin = admin_new(cfg.admin_token_file, err, sizeof err))) {
        log_error("%s", err);
        return 2;
    }
    struct policy *policy = make_policy(&cfg, err, sizeof err);
    if (!policy) {
        log_error("%s", err);
        admin_free(admin);
        return 2;
    }
    struct store *store = store_open(cfg.db, err, sizeof err);
    if (!store) {
        log_error("%s", err);
        admin_free(admin);
        policy_free(policy);
        return 1;
    }
    /* issue 10: one writer per store (runfile.h), held until the end. */
    int lock = runfile_lock(cfg.db, err, sizeof err);
    if (lock < 0) {
        if (lock == -1)
            log_error("another ghit serve runs on %s (or a ghit command is writing it)", cfg.db);
        else
            log_error("%s", err);
        store_close(store);
        admin_free(admin);
        policy_free(policy);
        return 1;
    }
    runfile_remove(cfg.db); /* one left by a crash would send commands to a dead address */
    struct counter_table *table = counter_new(cfg.max_repos);
    struct load load = {table, day_from_time(time(NULL))};
    if (store->ops->scan(store, load.day, load_row, &load, err, sizeof err) != STORE_OK) {
        log_error("cannot load the counts: %s", err);
        counter_free(table);
        store_close(store);
        close(lock);
        admin_free(admin);
        policy_free(policy);
        return 1;
    }
    size_t loaded = counter_size(table);
    if (loaded > cfg.max_repos)
        log_warn("the store holds %zu repos, more than --max-repos %u: they keep counting, "
                 "new repos are refused",
                 loaded, cfg.max_repos);

    struct flusher *flusher = flusher_new(table, store, cfg.flush_interval_ms);
    struct app app = {
        .cfg = &cfg, .table = table, .flusher = flusher, .admin = admin, .policy = policy};
    struct http_server *http = NULL;
    int status = 1;
    if (flusher_start(flusher) < 0) {
        log_error("cannot start the flusher thread: %s", strerror(errno));
        goto out;
    }
    http = http_start(&app, err, sizeof err);
    if (!http) {
        log_error("%s", err);
        goto out;
    }
    log_info("listening on http://%s (store %s %s, %zu repos, flush every %u ms)",
             http_address(http), store->ops->name, cfg.db, loaded, cfg.flush_interval_ms);

    /* issue 10: how ghit set and ghit delete find this server. */
    if (runfile_write(cfg.db, http_address(http), cfg.admin_token_file, err, sizeof err) < 0)
        log_warn("%s: ghit set and ghit delete cannot reach this server", err);

    int sig = 0;
    sigwait(&stop_signals, &sig);
    runfile_remove(cfg.db);
    log_info("%s: stopping; finishing requests in flight", sig == SIGINT ? "SIGINT" : "SIGTERM");
    http_stop(http, HTTP_GRACE_MS);
    http = NULL;
    status = 0;
out:
    if (http)
        http_stop(http, 0);
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
    close(lock); /* after the store: closing any descriptor of the file drops SQLite's locks */
    struct policy_stats ps;
    policy_get_stats(policy, &ps);
    if (ps.not_camo || ps.camo_unlisted || ps.repeat)
        log_info("not counted in this run: %llu not from the image proxy, %llu with its agent "
                 "from an address outside --camo-ranges, %llu repeats within --dedupe",
                 (unsigned long long)ps.not_camo, (unsigned long long)ps.camo_unlisted,
                 (unsigned long long)ps.repeat);
    admin_free(admin);
    policy_free(policy);
    return status;
}
