/*
 * cmdopt: table-driven options of the smaller commands (see cmdopt.h).
 */
#include "cmdopt.h"

#include <string.h>

void cmdopt_usage(FILE *out, const char *usage, const struct cmdopt *opts, int n)
{
    fputs(usage, out);
    for (int i = 0; i < n; i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
                 opts[i].arg ? opts[i].arg : "");
        fprintf(out, "  %-24s %s\n", left, opts[i].help);
    }
    fprintf(out, "  %-24s %s\n", "-h, --help", "show this help and exit");
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

int cmdopt_parse(const char *usage, const struct cmdopt *opts, int n, int argc, char **argv)
{
    char cmd[32];
    command_name(usage, cmd);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            cmdopt_usage(stdout, usage, opts, n);
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
        if (!o) {
            fprintf(stderr, "ghit %s: unknown option '--%.*s' (see ghit %s --help)\n", cmd,
                    (int)len, name, cmd);
            return -1;
        }
        if (!o->arg) {
            if (eq) {
                fprintf(stderr, "ghit %s: --%s takes no value\n", cmd, o->name);
                return -1;
            }
            *o->flag = true;
            continue;
        }
        const char *value = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
        if (!value || !*value) {
            fprintf(stderr, "ghit %s: --%s needs a value (%s)\n", cmd, o->name, o->arg);
            return -1;
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
