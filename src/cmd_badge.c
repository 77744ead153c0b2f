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
 * would answer, and so does a field that is not NAME=VALUE or whose NAME is
 * none of these (a typo must not pass for a default badge); an empty line is
 * a badge of no fields. Rendered SVGs never contain a newline.
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
#include "cmdopt.h"

/* What one badge is made of besides its look. */
struct job {
    const char *message; /* NULL: from the counts */
    uint64_t total, today;
    bool error;
};

/* Prints " word" at column col of out, on a new line past 78 columns; returns the column after. */
static size_t put_word(FILE *out, size_t col, const char *word)
{
    if (col > 0 && col + 1 + strlen(word) > 78) {
        fputc('\n', out);
        col = 0;
    }
    fprintf(out, " %s", word);
    return col + 1 + strlen(word);
}

/*
 * Prints what --help says of batch lines, after the options: the fields
 * that set the look are the names badge_look_set() takes in a badge URL.
 */
static void batch_usage(FILE *out)
{
    fprintf(out, "\nWith --batch, each line of stdin is a badge: fields NAME=VALUE separated by\n"
                 "tabs, NAME one of\n");
    static const char *const own[] = {"message", "total", "today", "error"};
    size_t col = 0;
    const char *name;
    for (size_t i = 0; (name = badge_look_param_name(i)); i++)
        col = put_word(out, col, name);
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        col = put_word(out, col, own[i]);
    fprintf(out,
            "\nand VALUE with the escapes \\\\ \\t \\n \\r \\xHH. Output: one SVG a line; a bad\n"
            "value, an unknown NAME or a field without '=' gives an error badge.\n");
}

/*
 * Parses a count; false if value is not a whole number that fits 64 bits.
 * Wider than a stored count (COUNT_MAX): the badge conformance suite draws
 * numbers up to 2^64-1, as badge-maker does.
 */
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

/* Parses the value of --name, if given, into *out; false after reporting a bad one. */
static bool count_option(const char *name, const char *value, uint64_t *out)
{
    if (!value || parse_count(value, out))
        return true;
    fprintf(stderr, "ghit badge: --%s %s: must be a whole number from 0 to 18446744073709551615\n",
            name, value);
    return false;
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
    char why[128] = ""; /* the first thing wrong, drawn as the error badge */
    /* Unescaping may produce \0 (from \x00), which then ends that value, as in a query. */
    for (char *field = *line ? line : NULL; field;) {
        char *next = strchr(field, '\t');
        if (next)
            *next++ = '\0';
        char *eq = strchr(field, '=');
        char unknown[64];
        const char *err = NULL;
        if (!eq) {
            err = "a field is not NAME=VALUE";
        } else {
            *eq = '\0';
            char *value = eq + 1;
            unescape(value);
            if (strcmp(field, "message") == 0) {
                job.message = value;
            } else if (strcmp(field, "error") == 0) {
                job.error = true;
            } else if (strcmp(field, "total") == 0) {
                err = parse_count(value, &job.total) ? NULL : "total must be a whole number";
            } else if (strcmp(field, "today") == 0) {
                err = parse_count(value, &job.today) ? NULL : "today must be a whole number";
            } else if (badge_look_param(field)) {
                err = badge_look_set(&look, field, value);
            } else {
                snprintf(unknown, sizeof unknown, "unknown field %.40s", field);
                err = unknown;
            }
        }
        if (err && !why[0])
            snprintf(why, sizeof why, "%s", err);
        field = next;
    }
    if (why[0])
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
    const char *total = NULL, *today = NULL;
    bool batch_mode = false;
    badge_look_init(&look);
    static const char usage[] = "usage: ghit badge [OPTION]...\n"
                                "Print a badge as SVG, exactly as `ghit serve` renders it.\n\n";
    const struct cmdopt opts[] = {
        {"message", "TEXT", "the message (default: counts, see --view)", &job.message,
         .allow_empty = true},
        {"total", "N", "the total count (default: 0)", &total},
        {"today", "N", "today's count (default: 0)", &today},
        {"error", NULL, "render an error badge (red message)", NULL, &job.error},
        {"batch", NULL, "badges from stdin, one a line (see below)", NULL, &batch_mode},
    };
    int rc = cmdopt_parse_look(usage, opts, 5, &look, argc, argv);
    if (rc > 0)
        batch_usage(stdout);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (!count_option("total", total, &job.total) || !count_option("today", today, &job.today))
        return 2;
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
