/*
 * serve: `ghit serve` (see serve.h).
 *
 * Start-up: parse options, bind the listening socket (an address that
 * cannot be used stops ghit before it touches the store), open the store
 * (refusing a file that is not ghit's, is read-only, or has a server
 * already), load every repo's counts into the table (a shared store,
 * Redis, fills a bounded cache instead: in the background and on demand,
 * so it starts while Redis cannot be reached),
 * start the flusher, then HTTP. Stop: stop accepting, let the requests in
 * flight finish, stop HTTP, then write everything still pending. Every hit
 * that was answered is then in the store, or the exit status says it is
 * not.
 *
 * Signals are blocked in every thread and taken synchronously here with
 * sigwait(), so no handler runs inside library code. Every signal that a
 * terminal or a service manager sends is taken, so none can end ghit with
 * hits pending: SIGTERM, SIGINT and SIGQUIT stop it cleanly; SIGHUP (a
 * closed terminal, logrotate's kill -HUP), SIGUSR1 and SIGUSR2 write the
 * pending hits at once and ghit goes on (it logs to standard error, so it
 * has no log file to reopen).
 */
#include "serve.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "counter.h"
#include "flusher.h"
#include "http.h"
#include "loader.h"
#include "log.h"
#include "newrepo_limit.h"
#include "admin.h"
#include "policy.h"
#include "redis_url.h"
#include "runfile.h"
#include "routes.h"
#include "routes_stats.h"
#include "spool.h"
#include "store.h"

#define HTTP_GRACE_MS 5000  /* how long requests in flight may take to finish at stop */
#define NEWREPO_SETS  4096  /* x 4 clients remembered by the new-repo limiter: 384 KiB */
#define LOADER_QUEUE  65536 /* repos waiting for the loader at most; then badges do not wait */

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

/* The signals ghit takes itself; see the top of this file. */
static const int taken[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2};

/*
 * Waits for a signal that stops ghit and returns it; on the others, has
 * the pending hits written now and goes on waiting.
 */
static int wait_for_stop(const sigset_t *signals, struct flusher *flusher)
{
    for (;;) {
        int sig = 0;
        if (sigwait(signals, &sig) != 0)
            continue;
        if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT)
            return sig;
        log_info("SIG%s: writing the pending hits now; ghit goes on serving", sigabbrev_np(sig));
        flusher_kick(flusher);
    }
}

/*
 * Checks the limits against each other: a request at every limit must fit
 * in the connection's memory with room for its reply, or the library would
 * close such a connection without an answer. 0, or -1 after saying why.
 */
static int check_limits(const struct config *cfg)
{
    size_t need = http_memory_needed(cfg->max_url_bytes, cfg->max_header_bytes);
    if (cfg->connection_memory >= need)
        return 0;
    log_error("--connection-memory %u is too small for --max-url-bytes %u and "
              "--max-header-bytes %u: a request at those limits and its reply need %zu bytes; "
              "raise --connection-memory or lower the others",
              cfg->connection_memory, cfg->max_url_bytes, cfg->max_header_bytes, need);
    return -1;
}

/* notify_fn of durable mode: the replies held for these hits go out. */
static void replies_written(void *http, uint64_t take_no)
{
    http_written(http, take_no);
}

/* notify_fn of the flusher's recovery: a Redis frontend's loader reads again at once. */
static void store_answers(void *loader, uint64_t n)
{
    (void)n;
    loader_store_answers(loader);
}

/* notify_fn of loads and top lists: the requests that waited for these run again. */
static void waits_done(void *http, uint64_t done)
{
    (void)done; /* http.c asks the loader and the statistics itself */
    http_loaded(http);
}

/* Closes the listening sockets that were bound (-1: none). */
static void close_listeners(int listen_fd, int metrics_fd)
{
    if (listen_fd >= 0)
        close(listen_fd);
    if (metrics_fd >= 0)
        close(metrics_fd);
}

/*
 * The spool's directory (--spool): DIR, or for auto ghit-spool-HOST-PORT
 * in $STATE_DIRECTORY (systemd's, its first path) or the working
 * directory. False for none, and for auto on an ephemeral port (0), which
 * names no frontend from one start to the next.
 */
static bool spool_dir(const struct config *cfg, char *out, size_t n)
{
    if (strcmp(cfg->spool, "none") == 0)
        return false;
    if (strcmp(cfg->spool, "auto") != 0) {
        snprintf(out, n, "%s", cfg->spool);
        return true;
    }
    const char *port = strrchr(cfg->listen, ':');
    if (!port || strcmp(port + 1, "0") == 0)
        return false;
    char name[128];
    size_t k = 0;
    for (const char *p = cfg->listen; *p && k < sizeof name - 1; p++)
        if (*p != '[' && *p != ']')
            name[k++] = *p == ':' ? '-' : *p;
    name[k] = '\0';
    const char *state = getenv("STATE_DIRECTORY");
    int base = state && state[0] == '/' ? (int)strcspn(state, ":") : 0;
    snprintf(out, n, "%.*s%sghit-spool-%s", base, state ? state : "", base ? "/" : "", name);
    return true;
}

/*
 * Opens the spool of a Redis frontend and takes over what a crashed
 * process left in it: its chunks go to the store, to be sent again under
 * their old id and numbers, and their hits and the others to the table, as
 * pending. *recovered says whether there were any. 0 (*sp NULL if there is
 * no spool), or -1 with a message in err.
 */
static int open_spool(const struct config *cfg, struct store *store, struct counter_table *table,
                      struct spool **sp, bool *recovered, char *err, size_t errlen)
{
    *sp = NULL;
    *recovered = false;
    char dir[4096], name[SPOOL_WHERE_MAX];
    if (!store->ops->shared || !spool_dir(cfg, dir, sizeof dir)) {
        if (store->ops->shared)
            log_warn("no spool (--spool %s, --listen %s): a crash loses the hits not yet in "
                     "Redis, more than one flush interval when a write to Redis outlasts it",
                     cfg->spool, cfg->listen);
        return 0;
    }
    store_redis_spool_name(store, name, sizeof name);
    struct spool_recovered rec;
    *sp = spool_open(dir, name, &rec, err, errlen);
    if (!*sp) {
        /*
         * The default place cannot be made (a read-only directory): run as
         * without one. A spool there that cannot be taken over (in use,
         * another Redis's, not ghit's) holds hits: refuse, as for DIR.
         */
        if (strcmp(cfg->spool, "auto") != 0 || !rec.unusable)
            return -1;
        log_warn("%s; running without a spool: a crash loses the hits not yet in Redis", err);
        return 0;
    }
    if (store_redis_restore(store, &rec.chunks, err, errlen) < 0) {
        spool_recovered_free(&rec);
        spool_close(*sp, false);
        *sp = NULL;
        return -1;
    }
    day_t today = day_from_time(time(NULL));
    uint64_t owed = 0;
    const struct spool_chunks *c = &rec.chunks;
    size_t nputs;
    struct spool_put_at *puts = spool_last_puts(c->chunks, c->nchunks, &nputs);
    for (size_t i = 0; i < c->nchunks; i++)
        for (size_t j = 0; j < c->chunks[i].n; j++) {
            const struct store_delta *d = &c->chunks[i].d[j];
            owed += d->hits;
            /* Owed before a set or delete of their repo, also owed: the table had dropped them. */
            if (!spool_put_after(puts, nputs, d->key, i))
                counter_restore(table, d->key, d->day, d->hits, today);
        }
    free(puts);
    for (size_t i = 0; i < rec.nhits; i++)
        counter_restore(table, rec.hits[i].key, rec.hits[i].day, rec.hits[i].hits, today);
    *recovered = rec.chunks.nchunks || rec.nhits;
    if (*recovered)
        log_info("spool %s: the last run left %zu chunks (%llu hits) in doubt and %llu hits not "
                 "sent: written now, each once",
                 dir, rec.chunks.nchunks, (unsigned long long)owed,
                 (unsigned long long)rec.nhit_total);
    else
        log_info("spool %s", dir);
    spool_recovered_free(&rec);
    if (spool_start(*sp, cfg->flush_interval_ms) < 0) {
        snprintf(err, errlen, "cannot start the spool's thread: %s", strerror(errno));
        spool_close(*sp, false);
        *sp = NULL;
        return -1;
    }
    store_redis_use_spool(store, *sp);
    return 0;
}

/* ghit serve with cfg, parsed; returns the exit status. */
static int serve(struct config *cfg);

int serve_main(int argc, char **argv)
{
    struct config cfg;
    config_init(&cfg);
    int rc = config_parse(&cfg, argc, argv, stdout, stderr);
    if (rc == 0) {
        log_set_level(cfg.log_level);
        rc = check_limits(&cfg) < 0 ? 2 : serve(&cfg);
    } else {
        rc = rc > 0 ? 0 : 2;
    }
    config_fini(&cfg);
    return rc;
}

static int serve(struct config *options)
{
    struct config cfg = *options; /* a shallow copy: options keeps what it owns */
    sigset_t signals;
    sigemptyset(&signals);
    for (size_t i = 0; i < sizeof taken / sizeof taken[0]; i++)
        sigaddset(&signals, taken[i]);
    /* Before any thread starts, so that every thread inherits the mask. */
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* What start-up has made so far; refused: frees it (2: bad options, 1: the store). */
    char err[512];
    int status = 2, listen_fd = -1, metrics_fd = -1;
    struct admin *admin = NULL;
    struct policy *policy = NULL;
    struct store *store = NULL;
    struct counter_table *table = NULL;
    struct loader *loader = NULL;
    /* The admin token and the counting rules, read before anything is bound or opened. */
    if ((cfg.admin_token_file && !(admin = admin_new(cfg.admin_token_file, err, sizeof err))) ||
        !(policy = make_policy(&cfg, err, sizeof err)))
        goto refused;
    /* Bound before the database is opened or made: a bad address touches nothing. */
    if ((listen_fd = http_listen(cfg.listen, err, sizeof err)) < 0 ||
        (cfg.metrics_listen && (metrics_fd = http_listen(cfg.metrics_listen, err, sizeof err)) < 0))
        goto refused;
    status = 1;
    /* Opening takes the writer's lock (store_sqlite.c): never two writers on one file. */
    if (!(store = store_open(cfg.db, err, sizeof err)))
        goto refused;
    /* How ghit set finds this server; on a shared store (Redis) it writes directly instead. */
    bool runfile = !store->ops->shared;
    if (runfile)
        runfile_remove(cfg.db); /* one left by a crash would send commands to a dead address */
    table = counter_new(cfg.max_repos);
    struct load load = {table, day_from_time(time(NULL))};
    char why[sizeof err - 32]; /* room for the words before it in err */
    if (store->ops->load) {
        /*
         * A shared store (Redis) may hold more repos than fit here: the
         * table is a cache, filled by the loader as repos are asked for.
         */
        counter_make_cache(table, cfg.cache_repos);
        struct store *reader = store_redis_open_loader(cfg.db, err, sizeof err);
        if (!reader)
            goto refused;
        store_redis_expect_epoch(reader, store);
        loader = loader_new(table, reader, LOADER_QUEUE);
        /* Each on a connection of its own: the feed's reads block, the scan takes seconds. */
        struct store *feed = store_redis_open_loader(cfg.db, err, sizeof err);
        if (!feed)
            goto refused;
        loader_follow(loader, feed, store_redis_frontend_id(store));
        struct store *scan = store_redis_open_loader(cfg.db, err, sizeof err);
        if (!scan)
            goto refused;
        store_redis_scan_limit(scan, cfg.cache_repos - cfg.cache_repos / 8);
        loader_warm(loader, scan);
    } else if (store->ops->scan(store, load.day, load_row, &load, why, sizeof why) != STORE_OK) {
        snprintf(err, sizeof err, "cannot load the counts: %s", why);
        goto refused;
    }
    size_t loaded = counter_size(table);
    if (loaded > cfg.max_repos)
        log_warn("the store holds %zu repos, more than --max-repos %u: they keep counting, "
                 "new repos are refused",
                 loaded, cfg.max_repos);

    struct spool *spool = NULL;
    bool recovered;
    if (open_spool(&cfg, store, table, &spool, &recovered, err, sizeof err) < 0)
        goto refused;
    struct flusher *flusher = flusher_new(table, store, cfg.flush_interval_ms);
    flusher_use_spool(flusher, spool);
    /* What a crash left goes first, before any badge reads Redis over it. */
    if (recovered && !flusher_flush(flusher))
        log_warn("the hits the spool held could not be written yet: they wait in memory");
    struct app app = {.cfg = &cfg,
                      .table = table,
                      .flusher = flusher,
                      .newrepos = newrepo_limit_new(cfg.new_repos_per_minute, NEWREPO_SETS),
                      .admin = admin,
                      .policy = policy,
                      .stats = routes_stats_new(cfg.db),
                      .loader = loader,
                      .spool = spool,
                      .max_age_ms = cfg.max_age_ms ? cfg.max_age_ms : cfg.flush_interval_ms};
    struct http_server *http = NULL, *metrics_http = NULL;
    http = http_start(&app, listen_fd, routes_handle, cfg.max_connections, err, sizeof err);
    if (!http) {
        log_error("%s", err);
        close_listeners(-1, metrics_fd);
        goto out;
    }
    routes_stats_on_done(app.stats, waits_done, http);
    if (cfg.durable) {
        /* Each reply waits for its hit's write; the store syncs every write to disk. */
        flusher_on_commit(flusher, replies_written, http);
        if (store->ops->set_durable)
            store->ops->set_durable(store);
    }
    if (loader) {
        loader_on_done(loader, waits_done, http);
        flusher_on_recovery(flusher, store_answers, loader);
        if (loader_start(loader) < 0) {
            log_error("cannot start the loader thread: %s", strerror(errno));
            close_listeners(-1, metrics_fd);
            goto out;
        }
    }
    /* After HTTP, which the flusher tells of each write in durable mode; hits wait meanwhile. */
    if (flusher_start(flusher) < 0) {
        log_error("cannot start the flusher thread: %s", strerror(errno));
        close_listeners(-1, metrics_fd);
        goto out;
    }
    if (metrics_fd >= 0) {
        metrics_http = http_start(&app, metrics_fd, routes_stats_metrics_only,
                                  HTTP_METRICS_CONNECTIONS, err, sizeof err);
        if (!metrics_http) {
            log_error("--metrics-listen: %s", err);
            goto out;
        }
        log_info("metrics on http://%s/metrics", http_address(metrics_http));
    }
    char where[512];
    redis_url_redact(cfg.db, where, sizeof where);
    log_info("listening on http://%s (store %s %s, %zu repos, flush every %u ms)",
             http_address(http), store->ops->name, where, loaded, cfg.flush_interval_ms);
    if (!redis_url_is(cfg.db) && store_sqlite_has_small_pages(store))
        log_info("%s has smaller pages than ghit makes now (16 KB), so its merges over many "
                 "repos cost more CPU; ghit vacuum --db %s, with the server stopped, rebuilds it",
                 cfg.db, cfg.db);

    /* How ghit set and ghit delete find this server. */
    if (runfile &&
        runfile_write(cfg.db, http_address(http), cfg.admin_token_file, err, sizeof err) < 0)
        log_warn("%s: ghit set and ghit delete cannot reach this server", err);

    int sig = wait_for_stop(&signals, flusher);
    if (runfile)
        runfile_remove(cfg.db);
    log_info("SIG%s: stopping; finishing requests in flight", sigabbrev_np(sig));
    flusher_on_commit(flusher, NULL, NULL); /* http_stop() polls; the server is freed after it */
    if (loader)
        loader_on_done(loader, NULL, NULL);      /* the same: a load done later must not find it */
    routes_stats_on_done(app.stats, NULL, NULL); /* and a read */
    routes_stats_stop(app.stats); /* lists are not worth a stop's wait: their requests get 503 */
    http_stop(http, HTTP_GRACE_MS);
    http = NULL;
    if (metrics_http)
        http_stop(metrics_http, 0);
    metrics_http = NULL;
    status = 0;
out:
    flusher_on_commit(flusher, NULL, NULL);
    flusher_on_recovery(flusher, NULL, NULL); /* before loader_free() */
    if (loader)
        loader_on_done(loader, NULL, NULL);
    routes_stats_on_done(app.stats, NULL, NULL);
    routes_stats_stop(app.stats); /* no list waits any more when HTTP stops */
    if (http)
        http_stop(http, 0);
    if (metrics_http)
        http_stop(metrics_http, 0);
    routes_stats_free(app.stats);
    loader_free(loader); /* after HTTP: no request waits for it any more */
    uint64_t lost = flusher_stop(flusher, cfg.shutdown_timeout_ms);
    struct flusher_stats fst;
    flusher_get_stats(flusher, &fst);
    bool kept = spool_close(spool, lost == 0 && fst.ops_lost == 0);
    if (spool)
        store_redis_use_spool(store, NULL);
    if (lost && kept) {
        log_error("stopped; %llu hits could not be written to the store: the spool keeps them, "
                  "and the next start with it writes them",
                  (unsigned long long)lost);
        status = 1;
    } else if (lost) {
        log_error("stopped; %llu hits could NOT be written to the store", (unsigned long long)lost);
        status = 1;
    } else if (status == 0) {
        struct flusher_stats st;
        flusher_get_stats(flusher, &st);
        log_info("stopped; every hit is written (%llu in this run)",
                 (unsigned long long)st.hits_written);
    }
    flusher_free(flusher);
    newrepo_limit_free(app.newrepos);
    counter_free(table);
    store_close(store);
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

refused:
    log_error("%s", err);
    loader_free(loader);
    counter_free(table);
    store_close(store);
    close_listeners(listen_fd, metrics_fd);
    admin_free(admin);
    policy_free(policy);
    return status;
}
