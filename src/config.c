/*
 * config: the settings of `ghit serve` and their option table (see config.h).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "badge_color.h"
#include "cmdopt.h"

/*
 * OPT_OPTIONAL: a string whose default ("none") leaves it NULL; OPT_CHOICE: one of param's words;
 * OPT_SWITCH: on or off; OPT_ADDRESS_OFF: HOST:PORT, or off for NULL.
 */
enum opt_kind {
    OPT_STRING,
    OPT_ADDRESS,
    OPT_UINT,
    OPT_LOG_LEVEL,
    OPT_LOOK,
    OPT_OPTIONAL,
    OPT_CHOICE,
    OPT_RANGES, /* a list of address ranges, appended to by each use */
    OPT_SWITCH,
    OPT_ADDRESS_OFF
};

struct option_def {
    const char *name; /* without the leading "--" */
    const char *arg;  /* the argument's name in help */
    const char *def;  /* the default, as text */
    enum opt_kind kind;
    size_t offset;     /* where in struct config (OPT_STRING, OPT_UINT) */
    unsigned min, max; /* OPT_UINT bounds */
    const char *param; /* OPT_LOOK: the badge parameter it sets */
    const char *help;
};

#define OFF(field) offsetof(struct config, field)

static const struct option_def options[] = {
    {"listen", "HOST:PORT", "127.0.0.1:8080", OPT_ADDRESS, OFF(listen), 0, 0, NULL,
     "address and port to listen on; HOST may be an IPv4 or [IPv6] address"},
    {"db", "PATH|URL", "ghit.db", OPT_STRING, OFF(db), 0, 0, NULL,
     "SQLite database file, made with ghit's schema if missing or empty; or a Redis store: "
     "redis://[[USER]:PASSWORD@]HOST[:PORT][/N] or unix:///PATH[?db=N], either with the URL "
     "parameter timeout=MS for Redis's replies, 2000 if not given"},
    {"flush-interval", "MS", "1000", OPT_UINT, OFF(flush_interval_ms), 10, 3600000, NULL,
     "write pending hits to the store every MS milliseconds; a crash loses at most this much "
     "and the flush being written"},
    {"threads", "N", "2", OPT_UINT, OFF(threads), 1, 256, NULL,
     "HTTP worker threads (one event loop each: epoll; poll() with --durable)"},
    {"max-connections", "N", "4096", OPT_UINT, OFF(max_connections), 16, 1000000, NULL,
     "open connections at most, in total; near it, a new connection closes the one idle longest"},
    {"max-connections-per-ip", "N", "1024", OPT_UINT, OFF(max_connections_per_ip), 1, 1000000, NULL,
     "open connections at most from one address (IPv6: one /64) other than a trusted proxy"},
    {"trusted-proxy", "CIDR[,CIDR...]", "none", OPT_RANGES, OFF(trusted_proxies), 0, 0, NULL,
     "reverse proxies whose --forwarded-header names the client; repeatable"},
    {"forwarded-header", "NAME", "x-forwarded-for", OPT_CHOICE, OFF(forwarded_header), 0, 0,
     "x-forwarded-for forwarded",
     "the header the trusted proxies set: x-forwarded-for (X-Forwarded-For) or forwarded "
     "(Forwarded, RFC 7239); the other is the client's and is ignored"},
    {"idle-timeout", "S", "30", OPT_UINT, OFF(idle_timeout_s), 1, 3600, NULL,
     "close a connection that sends nothing for S seconds"},
    {"request-timeout", "S", "10", OPT_UINT, OFF(request_timeout_s), 1, 3600, NULL,
     "close a connection whose request is not complete S seconds after it began"},
    {"max-url-bytes", "N", "2048", OPT_UINT, OFF(max_url_bytes), 64, 65536, NULL,
     "longest request target (path and query); longer ones get 414"},
    {"max-header-bytes", "N", "4096", OPT_UINT, OFF(max_header_bytes), 256, 65536, NULL,
     "most bytes of request header fields; more get 431"},
    {"connection-memory", "N", "16384", OPT_UINT, OFF(connection_memory), 4096, 16777216, NULL,
     "memory per connection for the request and its reply"},
    {"max-repos", "N", "10000000", OPT_UINT, OFF(max_repos), 1, 1000000000, NULL,
     "distinct repos at most (about 150 bytes of memory each); a new repo beyond it gets an "
     "error badge"},
    {"cache-repos", "N", "2000000", OPT_UINT, OFF(cache_repos), 1000, 1000000000, NULL,
     "Redis store: repos kept in memory (about 170 bytes each); others are read from Redis when "
     "asked for"},
    {"max-age", "MS", "0", OPT_UINT, OFF(max_age_ms), 0, 3600000, NULL,
     "Redis store, while the feed of others' changes cannot be followed: figures read longer "
     "ago are read again before a badge is answered; 0: the flush interval"},
    {"spool", "DIR", "auto", OPT_STRING, OFF(spool), 0, 0, NULL,
     "Redis store: keeps the hits not yet in Redis in DIR, so that a crash loses at most about "
     "one flush interval of them; auto: $STATE_DIRECTORY or the working directory, "
     "ghit-spool-HOST-PORT; none: no spool"},
    {"new-repos-per-client", "N", "60", OPT_UINT, OFF(new_repos_per_minute), 1, 1000000, NULL,
     "new repos one client may create per minute (in bursts of up to N); more get 429"},
    {"shutdown-timeout", "MS", "10000", OPT_UINT, OFF(shutdown_timeout_ms), 0, 3600000, NULL,
     "on SIGTERM, keep retrying a failing store this long before giving up"},
    {"log-level", "LEVEL", "info", OPT_LOG_LEVEL, 0, 0, 0, NULL,
     "least severe messages to log: debug, info, warn or error"},
    /* issue 10 */
    {"admin-token-file", "PATH", "none", OPT_OPTIONAL, OFF(admin_token_file), 0, 0, NULL,
     "enables PUT and DELETE /api/v1/repos/OWNER/NAME for whoever sends the token in this file"},
    {"count", "MODE", "any", OPT_CHOICE, OFF(count), 0, 0, "any camo",
     "any: every badge fetch counts; camo: only GitHub's image proxy (needs --camo-ranges)"},
    {"camo-ranges", "FILE", "none", OPT_OPTIONAL, OFF(camo_ranges), 0, 0, NULL,
     "the image proxy's address ranges, one address or CIDR a line (contrib/camo-ranges.txt)"},
    {"dedupe", "S", "0", OPT_UINT, OFF(dedupe_s), 0, 86400, NULL,
     "count repeated hits of a repo from one address once per S seconds; 0: off"},
    {"dedupe-slots", "N", "65536", OPT_UINT, OFF(dedupe_slots), 64, 16777216, NULL,
     "addresses --dedupe remembers (16 bytes each); beyond, it forgets the oldest"},
    {"label", "TEXT", "hits", OPT_LOOK, 0, 0, 0, "label", "default badge label"},
    {"color", "COLOR", "#4c1", OPT_LOOK, 0, 0, 0, "color", "default message colour"},
    {"label-color", "COLOR", "#555", OPT_LOOK, 0, 0, 0, "labelColor", "default label colour"},
    {"style", "STYLE", "flat", OPT_LOOK, 0, 0, 0, "style",
     "default style: flat, flat-square, plastic, for-the-badge or social"},
    {"theme", "THEME", "light", OPT_LOOK, 0, 0, 0, "theme",
     "default theme: light, or auto to follow the viewer's dark mode"},
    {"view", "VIEW", "total", OPT_LOOK, 0, 0, 0, "view",
     "default count shown: total, today or today-total"},
    {"format", "FORMAT", "grouped", OPT_LOOK, 0, 0, 0, "format",
     "default number format: grouped, plain or short"},
    {"sep", "SEP", "comma", OPT_LOOK, 0, 0, 0, "sep",
     "default group separator: comma, dot, space, thin, apostrophe, underscore or none"},
    /* issue 9 */
    {"dashboard", "on|off", "on", OPT_SWITCH, OFF(dashboard), 0, 0, NULL,
     "serve the dashboard (lookup, top repos, badge builder) at /; the API stays either way"},
    {"metrics-listen", "HOST:PORT", "off", OPT_ADDRESS_OFF, OFF(metrics_listen), 0, 0, NULL,
     "serve /metrics on this address only, not on --listen; off: on --listen"},
    {"durable", "[on|off]", "off", OPT_SWITCH, OFF(durable), 0, 0, NULL,
     "answer a badge only once its hit is written to disk (group commit): a crash loses no "
     "answered hit"},
};

#define NOPTIONS (sizeof options / sizeof options[0])

/* The value of at most five decimal digits. */
static unsigned long port_number(const char *digits)
{
    unsigned long v = 0;
    for (; *digits; digits++)
        v = v * 10 + (unsigned long)(*digits - '0');
    return v;
}

/*
 * Applies a badge option. Unlike a query parameter, whose bad colour falls
 * back to the default as in shields.io, a bad colour given to the server
 * is refused: it is a typo in a configuration, better caught at start-up.
 */
static const char *look_option(struct badge_look *look, const struct option_def *o,
                               const char *value)
{
    char color[BADGE_COLOR_MAX + 1];
    if ((strcmp(o->param, "color") == 0 || strcmp(o->param, "labelColor") == 0) &&
        !badge_color_resolve(value, color, sizeof color))
        return "not a colour: use a shields.io name (brightgreen, blue, ...), 3 or 6 hex "
               "digits, or a CSS colour";
    return badge_look_set(look, o->param, value);
}

/*
 * Checks the form of HOST:PORT or [HOST]:PORT: a host, and a port of 0 to
 * 65535 in digits. Whether the host exists is for the start-up to find out.
 */
static const char *check_address(const char *value)
{
    const char *colon = strrchr(value, ':');
    if (!colon || colon == value)
        return "must be HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080";
    if (value[0] == '[' && colon[-1] != ']')
        return "an IPv6 address is written [ADDRESS]:PORT";
    const char *port = colon + 1;
    size_t n = strlen(port);
    if (n == 0 || n > 5 || strspn(port, "0123456789") != n || port_number(port) > 65535)
        return "the port must be a number from 0 to 65535";
    return NULL;
}

/* Applies value to option o; NULL if fine, else what is wrong. */
static const char *apply(struct config *c, const struct option_def *o, const char *value)
{
    char *base = (char *)c;
    switch (o->kind) {
    case OPT_CHOICE: {
        size_t n = strlen(value);
        for (const char *w = o->param; *w; w += strspn(w, " ")) {
            size_t len = strcspn(w, " ");
            if (len == n && strncmp(w, value, n) == 0) {
                *(const char **)(base + o->offset) = value;
                return NULL;
            }
            w += len;
        }
        return "must be one of"; /* config_parse() names them */
    }
    case OPT_OPTIONAL:
    case OPT_ADDRESS:
    case OPT_STRING: {
        const char *why = !*value                  ? "must not be empty"
                          : o->kind == OPT_ADDRESS ? check_address(value)
                                                   : NULL;
        if (!why)
            *(const char **)(base + o->offset) = value;
        return why;
    }
    case OPT_UINT: {
        char *end;
        errno = 0;
        unsigned long v = strtoul(value, &end, 10);
        if (errno || end == value || *end || value[0] == '-' || v < o->min || v > o->max) {
            static __thread char msg[96];
            snprintf(msg, sizeof msg, "must be a whole number from %u to %u", o->min, o->max);
            return msg;
        }
        *(unsigned *)(base + o->offset) = (unsigned)v;
        return NULL;
    }
    case OPT_LOG_LEVEL:
        return log_parse_level(value, &c->log_level) ? "must be debug, info, warn or error" : NULL;
    case OPT_LOOK:
        return look_option(&c->look, o, value);
    case OPT_RANGES: {
        if (strcmp(value, "none") == 0)
            return NULL;
        const char *bad;
        return netaddr_list_parse((struct netaddr_list *)(base + o->offset), value, &bad);
    }
    case OPT_SWITCH:
        if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0)
            return "must be on or off";
        *(bool *)(base + o->offset) = strcmp(value, "on") == 0;
        return NULL;
    case OPT_ADDRESS_OFF: {
        const char *why = strcmp(value, "off") == 0 ? NULL : check_address(value);
        if (!why)
            *(const char **)(base + o->offset) = strcmp(value, "off") == 0 ? NULL : value;
        return why;
    }
    }
    return "unknown option kind";
}

/* Prints len bytes of word at *col, first wrapping to a new line under the margin if need be. */
static void put_word(FILE *out, int *col, const char *word, int len)
{
    if (*col > 35 && *col + 1 + len > 79) {
        fprintf(out, "\n%35s", "");
        *col = 35;
    }
    fprintf(out, " %.*s", len, word);
    *col += 1 + len;
}

/*
 * The --help entry of one option: the option and its argument, then what it
 * does, wrapped at 79 columns under a 35-column margin, then "(default: X)",
 * never split.
 */
static void print_option(FILE *out, const struct option_def *o)
{
    char left[64], def[96];
    snprintf(left, sizeof left, "--%s %s", o->name, o->arg);
    fprintf(out, "  %-32s", left);
    int col = 35;
    for (const char *w = o->help; *w; w += strspn(w, " ")) {
        size_t len = strcspn(w, " ");
        put_word(out, &col, w, (int)len);
        w += len;
    }
    int n = snprintf(def, sizeof def, "(default: %s)", o->def);
    put_word(out, &col, def, n);
    fputc('\n', out);
}

void config_fini(struct config *c)
{
    netaddr_list_fini(&c->trusted_proxies);
}

void config_init(struct config *c)
{
    memset(c, 0, sizeof *c);
    badge_look_init(&c->look);
    for (size_t i = 0; i < NOPTIONS; i++) {
        /*
         * Badge options are not applied: badge_look_init() holds their
         * defaults, and an explicit value can differ from "unset" (an
         * explicit labelColor keeps an empty label's box, as in shields.io).
         * The unit test checks that the texts above say what it sets.
         */
        if (options[i].kind == OPT_LOOK || options[i].kind == OPT_OPTIONAL)
            continue;
        const char *err = apply(c, &options[i], options[i].def);
        if (err) {
            fprintf(stderr, "ghit: bug: the default of --%s is refused: %s\n", options[i].name,
                    err);
            abort();
        }
    }
}

const char *config_default(const char *name)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (strcmp(options[i].name, name) == 0)
            return options[i].def;
    return NULL;
}

int config_look_option(struct badge_look *look, const char *name, const char *value,
                       const char **why)
{
    for (size_t i = 0; i < NOPTIONS; i++) {
        if (options[i].kind == OPT_LOOK && strcmp(options[i].name, name) == 0) {
            *why = look_option(look, &options[i], value);
            return 1;
        }
    }
    return 0;
}

void config_usage_look(FILE *out)
{
    for (size_t i = 0; i < NOPTIONS; i++) {
        if (options[i].kind == OPT_LOOK)
            print_option(out, &options[i]);
    }
}

void config_usage(FILE *out)
{
    fprintf(out,
            "usage: ghit serve [OPTION]...\n"
            "Count a hit for every fetch of /badge.svg?repo=OWNER/NAME and answer a badge.\n\n");
    for (size_t i = 0; i < NOPTIONS; i++)
        print_option(out, &options[i]);
    fprintf(out, "  %-32s %s\n", "-h, --help", "show this help and exit");
}

int config_parse(struct config *c, int argc, char **argv, FILE *out, FILE *err)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            config_usage(out);
            return 1;
        }
        if (strncmp(arg, "--", 2) != 0) {
            fprintf(err, "ghit serve: unexpected argument '%s' (see ghit serve --help)\n", arg);
            return -1;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const struct option_def *o = NULL;
        for (size_t j = 0; j < NOPTIONS; j++) {
            if (strlen(options[j].name) == len && strncmp(options[j].name, name, len) == 0)
                o = &options[j];
        }
        if (!o) {
            cmdopt_unknown(err, "serve", name, len);
            return -1;
        }
        const char *value = eq ? eq + 1 : NULL;
        /* A switch whose value is optional ([on|off]) given alone is on: --durable is --durable on.
         */
        if (!value && o->kind == OPT_SWITCH && o->arg[0] == '[' &&
            (i + 1 >= argc || (strcmp(argv[i + 1], "on") != 0 && strcmp(argv[i + 1], "off") != 0)))
            value = "on";
        if (!value) {
            if (i + 1 >= argc) {
                fprintf(err, "ghit serve: --%s needs a value (%s)\n", o->name, o->arg);
                return -1;
            }
            value = argv[++i];
        }
        const char *why = apply(c, o, value);
        if (why) {
            fprintf(err, "ghit serve: --%s %s: %s", o->name, value, why);
            /* A choice's message ends with the choices: "must be one of any, camo". */
            for (const char *w = o->kind == OPT_CHOICE ? o->param : ""; *w; w += strspn(w, " ")) {
                size_t word = strcspn(w, " ");
                fprintf(err, "%s%.*s", w == o->param ? " " : ", ", (int)word, w);
                w += word;
            }
            fputc('\n', err);
            return -1;
        }
    }
    return 0;
}
