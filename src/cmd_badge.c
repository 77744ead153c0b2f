/*
 * cmd_badge: `ghit badge`, the renderer on the command line.
 *
 *   ghit badge --message 1,234 --style for-the-badge --color blue > hits.svg
 *   ghit badge --total 1234567 --format short             (message from counts)
 *   ghit badge --batch < cases.tsv                        (one SVG per line)
 *
 * The look options are the server's (config.c's table), applied over
 * badge_look_init()'s defaults, so `ghit badge` draws what `ghit serve`
 * answers for the same parameters. Batch mode exists for the
 * conformance test (tests/conformance), which renders hundreds of badges
 * with one process: each input line is a list of NAME=VALUE fields separated
 * by tabs, applied over the command line's look. NAME is a badge query
 * parameter (style, label, color, labelColor, theme, view, format, sep) or
 * message, total, today, error (any value: render an error badge). VALUE
 * may hold the escapes \\ \t \n \r and \xHH (any byte). Each line gives
 * one SVG and a newline; a bad parameter gives the error badge the server
 * would answer. Rendered SVGs never contain a newline.
 */
#include "cmd_badge.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "badge.h"
#include "buf.h"
#include "config.h"

/* What one badge is made of besides its look. */
struct job {
    const char *message; /* NULL: from the counts */
    uint64_t total, today;
    bool error;
};

static void usage(FILE *out)
{
    fprintf(out, "usage: ghit badge [OPTION]...\n"
                 "Print a badge as SVG, exactly as `ghit serve` renders it.\n\n"
                 "  --message TEXT                   the message (default: counts, see --view)\n"
                 "  --total N                        the total count (default: 0)\n"
                 "  --today N                        today's count (default: 0)\n"
                 "  --error                          render an error badge (red message)\n"
                 "  --batch                          read badges from stdin, one a line, fields\n"
                 "                                   NAME=VALUE separated by tabs (see below)\n");
    config_usage_look(out);
    fprintf(out, "  %-32s %s\n\n", "-h, --help", "show this help and exit");
    fprintf(out, "Batch NAMEs: style label color labelColor theme view format sep message\n"
                 "total today error; VALUE escapes: \\\\ \\t \\n \\r \\xHH. Output: one SVG a "
                 "line.\n");
}

/* Parses a count; false if value is not a whole number that fits 64 bits. */
static bool parse_count(const char *value, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!*value || *value == '-' || *value == '+')
        return false;
    unsigned long long v = strtoull(value, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static void render_job(struct buf *out, const struct badge_look *look, const struct job *job)
{
    char counts[2 * NUMFMT_OUT_MAX + 4];
    const char *message = job->message;
    if (!message) {
        badge_message(counts, sizeof counts, look, job->total, job->today);
        message = counts;
    }
    if (job->error)
        badge_render_error(out, look, message);
    else
        badge_render(out, look, message);
}

/* Decodes the batch escapes of s in place. */
static void unescape(char *s)
{
    char *o = s;
    for (const char *p = s; *p; p++) {
        if (*p != '\\' || !p[1]) {
            *o++ = *p;
            continue;
        }
        p++;
        if (*p == 't') {
            *o++ = '\t';
        } else if (*p == 'n') {
            *o++ = '\n';
        } else if (*p == 'r') {
            *o++ = '\r';
        } else if (*p == 'x' && ascii_hex_digit((unsigned char)p[1]) >= 0 &&
                   ascii_hex_digit((unsigned char)p[2]) >= 0) {
            *o++ = (char)(ascii_hex_digit((unsigned char)p[1]) * 16 +
                          ascii_hex_digit((unsigned char)p[2]));
            p += 2;
        } else {
            *o++ = *p; /* \\ and any other escaped character stand for themselves */
        }
    }
    *o = '\0';
}

/* One batch line: fields applied over base, rendered into out. */
static void batch_line(struct buf *out, const struct badge_look *base, char *line)
{
    struct badge_look look = *base;
    struct job job = {0};
    const char *why = NULL;
    /* Unescaping may produce \0 (from \x00), which then ends that value, as in a query. */
    for (char *field = line; field;) {
        char *next = strchr(field, '\t');
        if (next)
            *next++ = '\0';
        char *eq = strchr(field, '=');
        if (eq) {
            *eq = '\0';
            char *value = eq + 1;
            unescape(value);
            const char *err = NULL;
            if (strcmp(field, "message") == 0)
                job.message = value;
            else if (strcmp(field, "error") == 0)
                job.error = true;
            else if (strcmp(field, "total") == 0)
                err = parse_count(value, &job.total) ? NULL : "total must be a whole number";
            else if (strcmp(field, "today") == 0)
                err = parse_count(value, &job.today) ? NULL : "today must be a whole number";
            else
                err = badge_look_set(&look, field, value);
            if (err && !why)
                why = err;
        }
        field = next;
    }
    if (why)
        badge_render_error(out, &look, why);
    else
        render_job(out, &look, &job);
    buf_putc(out, '\n');
}

static int batch(const struct badge_look *look)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    struct buf out;
    buf_init(&out);
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = '\0';
        buf_reset(&out);
        batch_line(&out, look, line);
        fwrite(out.data, 1, out.len, stdout);
    }
    free(line);
    buf_fini(&out);
    return fflush(stdout) == 0 ? 0 : 1;
}

int cmd_badge(int argc, char **argv)
{
    struct badge_look look;
    struct job job = {0};
    bool batch_mode = false;
    badge_look_init(&look);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strncmp(arg, "--", 2) != 0) {
            fprintf(stderr, "ghit badge: unexpected argument '%s' (see ghit badge --help)\n", arg);
            return 2;
        }
        char name[32];
        const char *eq = strchr(arg + 2, '=');
        size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        if (len >= sizeof name) {
            fprintf(stderr, "ghit badge: unknown option '%s' (see ghit badge --help)\n", arg);
            return 2;
        }
        memcpy(name, arg + 2, len);
        name[len] = '\0';
        if (strcmp(name, "batch") == 0 || strcmp(name, "error") == 0) {
            if (eq) {
                fprintf(stderr, "ghit badge: --%s takes no value\n", name);
                return 2;
            }
            *(strcmp(name, "batch") == 0 ? &batch_mode : &job.error) = true;
            continue;
        }
        const char *value = eq ? eq + 1 : NULL;
        if (!value) {
            if (i + 1 >= argc) {
                fprintf(stderr, "ghit badge: --%s needs a value (see ghit badge --help)\n", name);
                return 2;
            }
            value = argv[++i];
        }
        const char *why = NULL;
        if (strcmp(name, "message") == 0) {
            job.message = value;
        } else if (strcmp(name, "total") == 0 || strcmp(name, "today") == 0) {
            if (!parse_count(value, strcmp(name, "total") == 0 ? &job.total : &job.today))
                why = "must be a whole number from 0 to 18446744073709551615";
        } else if (!config_look_option(&look, name, value, &why)) {
            fprintf(stderr, "ghit badge: unknown option '--%s' (see ghit badge --help)\n", name);
            return 2;
        }
        if (why) {
            fprintf(stderr, "ghit badge: --%s %s: %s\n", name, value, why);
            return 2;
        }
    }
    if (batch_mode)
        return batch(&look);
    struct buf out;
    buf_init(&out);
    render_job(&out, &look, &job);
    buf_putc(&out, '\n');
    fwrite(out.data, 1, out.len, stdout);
    buf_fini(&out);
    return fflush(stdout) == 0 ? 0 : 1;
}
