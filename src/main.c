/*
 * ghit: a self-hosted hit counter for badges.
 *
 * main() only dispatches to a command: serve (the server), badge (render
 * one badge), render (write a badge file for every repo of a store),
 * stats (a store's statistics as a table), redis (set up a Redis store),
 * import-2015 (merge a 2015 ghit.me Redis). For serve it first asks glibc
 * for huge pages (exec_with_huge_pages); every command has large blocks
 * given back to the system when freed (alloc_map_large) and SQLite set up
 * (store_sqlite_setup).
 * Reading order for the source: README.md's tour.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "alloc.h"
#include "cmd_badge.h"
#include "cmd_export.h"
#include "cmd_import.h"
#include "cmd_import2015.h"
#include "cmd_redis.h"
#include "cmd_render.h"
#include "cmd_set.h"
#include "cmd_stats.h"
#include "cmd_vacuum.h"
#include "serve.h"
#include "store.h"

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
    {"vacuum", cmd_vacuum, "rebuild a stopped server's SQLite file with ghit's page size"},
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

/*
 * ghit serve keeps a counter for every repo in memory. With hits spread over
 * a million repos each lookup lands on a random page, and with 4 KB pages
 * nearly every one misses the TLB as well. glibc (2.35 and later) backs its
 * heap with transparent huge pages when its tunable glibc.malloc.hugetlb is
 * 1, and reads tunables only at start, from the environment: so serve runs
 * itself again, once, with the tunable added. On the 2-core development VM,
 * hits spread uniformly over 1,000,000 repos: 85,653 and 91,053 req/s
 * without, 98,083 and 103,300 with (wrk -t2 -c50, 30 s runs, alternated);
 * resident memory 151 and 153 MB. A GLIBC_TUNABLES that already names the
 * tunable is left alone (glibc.malloc.hugetlb=0 declines huge pages); if the
 * exec fails, ghit runs on as it is.
 */
static void exec_with_huge_pages(char **argv)
{
    static const char tunable[] = "glibc.malloc.hugetlb";
    const char *have = getenv("GLIBC_TUNABLES");
    if (have && strstr(have, tunable))
        return;
    char value[1024];
    int n = snprintf(value, sizeof value, "%s%s%s=1", have ? have : "", have && *have ? ":" : "",
                     tunable);
    if (n < 0 || (size_t)n >= sizeof value || setenv("GLIBC_TUNABLES", value, 1) != 0)
        return;
    execv("/proc/self/exe", argv);
    if (have)
        setenv("GLIBC_TUNABLES", have, 1);
    else
        unsetenv("GLIBC_TUNABLES");
}

/*
 * A command's status, its printed result checked: a result lost to a full
 * disk or a closed pipe fails the command, as export's own check does,
 * rather than exit 0 with nothing written. A command that failed has said
 * why already.
 */
static int output_checked(const char *cmd, int rc)
{
    if (rc != 0)
        return rc;
    int e = fflush(stdout) != 0 ? errno : 0; /* else a write before may have failed (ferror) */
    if (!e && !ferror(stdout))
        return 0;
    fprintf(stderr, "ghit %s: cannot write the output%s%s\n", cmd, e ? ": " : "",
            e ? strerror(e) : "");
    return 1;
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
    if (strcmp(argv[1], "serve") == 0) {
        exec_with_huge_pages(argv);
        /*
         * The kernel names a process after the file it runs: "exe" after
         * the exec above. ps, pgrep -x and killall (logrotate's -HUP) look
         * for the name the server was started by, as a first exec gives it.
         */
        const char *slash = strrchr(argv[0], '/');
        prctl(PR_SET_NAME, slash ? slash + 1 : argv[0], 0, 0, 0);
    }
    alloc_map_large();
    store_sqlite_setup();
    /*
     * hiredis sends with write(): a Redis that closed the connection would
     * end any command with SIGPIPE, before its reconnect or its message ran
     * (an import then left chunks applied that a re-run could not tell).
     * A write to a closed socket or pipe returns EPIPE instead, everywhere.
     */
    signal(SIGPIPE, SIG_IGN);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) != 0)
            continue;
        store_set_command(commands[i].name);
        return output_checked(commands[i].name, commands[i].run(argc - 1, argv + 1));
    }
    fprintf(stderr, "ghit: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
