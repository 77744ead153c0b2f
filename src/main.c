/*
 * ghit: a self-hosted hit counter for badges.
 *
 * main() only dispatches to a command: serve (the server), badge (render
 * one badge), render (write a badge file for every repo of a store),
 * stats (a store's statistics as a table), redis (set up a Redis store),
 * import-2015 (merge a 2015 ghit.me Redis).
 * Reading order for the source: README.md's tour.
 */
#include <stdio.h>
#include <string.h>

#include "cmd_badge.h"
#include "cmd_export.h"
#include "cmd_import.h"
#include "cmd_import2015.h"
#include "cmd_redis.h"
#include "cmd_render.h"
#include "cmd_set.h"
#include "cmd_stats.h"
#include "serve.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"serve", serve_main, "count hits and serve badges over HTTP"},
    {"badge", cmd_badge, "print one badge as SVG"},
    {"render", cmd_render, "write OWNER/NAME.svg for every repo of a store"},
    {"export", cmd_export, "write every repo's counts as JSON Lines or CSV"},
    {"import", cmd_import, "read counts from JSON Lines or CSV into a store"},
    {"set", cmd_set, "set a repo's total, through the running server or directly"},
    {"delete", cmd_delete, "delete a repo and its history"},
    {"stats", cmd_stats, "print a store's statistics: a repo's days, the top repos"},
    {"import-2015", cmd_import2015, "merge a 2015 ghit.me Redis into a store"},
    {"redis", cmd_redis, "mark an empty Redis database as ghit's: ghit redis init URL"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: ghit COMMAND [OPTION]...\n"
                 "A self-hosted hit counter for badges.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n  ghit COMMAND --help   options of a command\n"
                 "  ghit --version        print the version\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("ghit %s\n", GHIT_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "ghit: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
