/*
 * cmdopt: table-driven options of the commands other than serve (see cmdopt.h).
 */
#include "cmdopt.h"

#include <string.h>

#include "badge.h"
#include "config.h"

/* Prints usage, the table and, with look, serve's badge options, then --help. */
static void print_usage(FILE *out, const char *usage, const struct cmdopt *opts, int n, bool look)
{
    /* config.c prints the badge options in a column of 32: the others line up with them. */
    int width = look ? 32 : 24;
    fputs(usage, out);
    for (int i = 0; i < n; i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
                 opts[i].arg ? opts[i].arg : "");
        fprintf(out, "  %-*s %s\n", width, left, opts[i].help);
    }
    if (look)
        config_usage_look(out);
    fprintf(out, "  %-*s %s\n", width, "-h, --help", "show this help and exit");
}

void cmdopt_unknown(FILE *err, const char *cmd, const char *name, size_t len)
{
    fprintf(err, "ghit %s: unknown option '--%.*s' (see ghit %s --help)\n", cmd, (int)len, name,
            cmd);
}

void cmdopt_usage(FILE *out, const char *usage, const struct cmdopt *opts, int n)
{
    print_usage(out, usage, opts, n, false);
}

/* The name of the command: the first word after "ghit " in usage. */
static void command_name(const char *usage, char out[32])
{
    const char *p = strstr(usage, "ghit ");
    p = p ? p + 5 : "ghit";
    size_t len = strcspn(p, " \n");
    snprintf(out, 32, "%.*s", (int)(len < 31 ? len : 31), p);
}

/* Whether value is one of the '|'-separated words of choices. */
static bool is_choice(const char *choices, const char *value)
{
    size_t n = strlen(value);
    for (const char *w = choices;; w++) {
        size_t len = strcspn(w, "|");
        if (len == n && strncmp(w, value, n) == 0)
            return true;
        w += len;
        if (!*w)
            return false;
    }
}

/*
 * Whether name is one of serve's badge options. config.h finds them only
 * by applying a value, so this applies one to a copy of look.
 */
static bool is_look_option(const struct badge_look *look, const char *name)
{
    struct badge_look copy = *look;
    const char *why;
    return config_look_option(&copy, name, "", &why);
}

/* cmdopt_parse(), and serve's badge options applied to look unless it is NULL. */
static int parse(const char *usage, const struct cmdopt *opts, int n, struct badge_look *look,
                 int argc, char **argv)
{
    char cmd[32];
    command_name(usage, cmd);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            print_usage(stdout, usage, opts, n, look != NULL);
            return 1;
        }
        if (strncmp(arg, "--", 2) != 0) {
            fprintf(stderr, "ghit %s: unexpected argument '%s' (see ghit %s --help)\n", cmd, arg,
                    cmd);
            return -1;
        }
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const struct cmdopt *o = NULL;
        for (int j = 0; j < n; j++)
            if (strlen(opts[j].name) == len && strncmp(opts[j].name, name, len) == 0)
                o = &opts[j];
        /* Known or not is settled before a value is taken: "--typo" last is unknown, not short. */
        char word[32];
        snprintf(word, sizeof word, "%.*s", (int)len, name);
        bool badge_option = !o && look && len < sizeof word && is_look_option(look, word);
        if (!o && !badge_option) {
            cmdopt_unknown(stderr, cmd, name, len);
            return -1;
        }
        if (o && !o->arg) {
            if (eq) {
                fprintf(stderr, "ghit %s: --%s takes no value\n", cmd, o->name);
                return -1;
            }
            *o->flag = true;
            continue;
        }
        const char *value = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
        /* A badge option judges an empty value itself: an empty --label hides the label. */
        if (!value || (!*value && o && !o->allow_empty)) {
            if (o)
                fprintf(stderr, "ghit %s: --%s needs a value (%s)\n", cmd, o->name, o->arg);
            else
                fprintf(stderr, "ghit %s: --%s needs a value\n", cmd, word);
            return -1;
        }
        if (badge_option) {
            const char *why = NULL;
            config_look_option(look, word, value, &why);
            if (why) {
                fprintf(stderr, "ghit %s: --%s %s: %s\n", cmd, word, value, why);
                return -1;
            }
            continue;
        }
        if (o->choices && !is_choice(o->choices, value)) {
            fprintf(stderr, "ghit %s: --%s %s: must be one of %s\n", cmd, o->name, value,
                    o->choices);
            return -1;
        }
        *o->value = value;
    }
    for (int j = 0; j < n; j++) {
        if (opts[j].required && !*opts[j].value) {
            fprintf(stderr, "ghit %s: --%s is required (see ghit %s --help)\n", cmd, opts[j].name,
                    cmd);
            return -1;
        }
    }
    return 0;
}

int cmdopt_parse(const char *usage, const struct cmdopt *opts, int n, int argc, char **argv)
{
    return parse(usage, opts, n, NULL, argc, argv);
}

int cmdopt_parse_look(const char *usage, const struct cmdopt *opts, int n, struct badge_look *look,
                      int argc, char **argv)
{
    return parse(usage, opts, n, look, argc, argv);
}
