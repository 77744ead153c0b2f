/*
 * config: every setting of `ghit serve`, its default, and the option table.
 *
 * One table describes each option once: its name, argument, default, help
 * text and where it goes. Parsing, `ghit serve --help` and the man page's
 * option list (checked by a test) all come from it, so they cannot drift.
 */
#ifndef GHIT_CONFIG_H
#define GHIT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "badge.h"
#include "log.h"
#include "netaddr.h"

struct config {
    const char *listen; /* HOST:PORT */
    const char *db;     /* store location */
    unsigned flush_interval_ms;
    unsigned threads;
    unsigned max_connections;
    unsigned max_connections_per_ip;
    unsigned idle_timeout_s;
    unsigned request_timeout_s;
    unsigned max_url_bytes;
    unsigned max_header_bytes;
    unsigned connection_memory;
    unsigned max_repos;
    unsigned cache_repos;                /* a shared store's cache (issue 8) */
    unsigned max_age_ms;                 /* 0: the flush interval */
    const char *spool;                   /* Redis: the spool's directory, "auto" or "none" */
    unsigned new_repos_per_minute;       /* per client */
    struct netaddr_list trusted_proxies; /* --trusted-proxy */
    const char *forwarded_header;        /* "x-forwarded-for" or "forwarded": what they set */
    unsigned shutdown_timeout_ms;
    enum log_level log_level;
    /* issue 10: admin routes and counting rules */
    const char *admin_token_file; /* NULL: no admin routes */
    const char *count;            /* "any" or "camo" */
    const char *camo_ranges;      /* NULL: none */
    unsigned dedupe_s;            /* 0: off */
    unsigned dedupe_slots;
    struct badge_look look;     /* the badge defaults; query parameters override them */
    bool dashboard;             /* serve the dashboard at / (issue 9) */
    bool durable;               /* reply to a hit once it is written (issue 7) */
    const char *metrics_listen; /* HOST:PORT for /metrics alone, or NULL: /metrics on --listen */
};

/* Fills c with the defaults, the values a small public server should run with. */
void config_init(struct config *c);

/* Frees what config_parse() allocated (the address lists). */
void config_fini(struct config *c);

/*
 * Parses argv (argv[0] is the command name) into c. Returns 0 when done,
 * 1 when --help was asked (and printed to out), -1 after printing an
 * error to err. Strings in c point into argv.
 */
int config_parse(struct config *c, int argc, char **argv, FILE *out, FILE *err);

/* Prints the usage text of `ghit serve` with every option and its default. */
void config_usage(FILE *out);

/*
 * If name (an option name without "--") is one of the badge options
 * (--label, --color, --style, ...), applies value to look, sets *why to NULL
 * or to what is wrong, and returns 1; returns 0 for any other name. For the
 * commands other than serve that render badges.
 */
int config_look_option(struct badge_look *look, const char *name, const char *value,
                       const char **why);

/* The default of option name as --help shows it, or NULL for no such option. */
const char *config_default(const char *name);

/* Prints the help lines of the badge options. */
void config_usage_look(FILE *out);

#endif
