/*
 * Fuzz target: `ghit serve`'s command line (config_parse), on arbitrary
 * bytes cut at NULs into arguments.
 *
 * Contracts checked, not only the absence of crashes: the parse returns 0,
 * 1 (--help) or -1, and an accepted command line leaves every number within
 * the bounds its option states (config.c's table) and the strings set.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 32

static void within(unsigned v, unsigned lo, unsigned hi)
{
    if (v < lo || v > hi)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    static char name[] = "ghit-serve";
    char *argv[MAX_ARGS + 2] = {name};
    int argc = 1;
    for (char *p = text; p < text + size && argc <= MAX_ARGS; p += strlen(p) + 1)
        argv[argc++] = p;
    argv[argc] = NULL;

    FILE *sink = fopen("/dev/null", "w");
    if (!sink)
        abort();
    struct config c;
    config_init(&c);
    int rc = config_parse(&c, argc, argv, sink, sink);
    if (rc < -1 || rc > 1)
        abort();
    if (rc == 0) {
        if (!c.listen || !c.db || !c.spool || !c.count)
            abort();
        within(c.flush_interval_ms, 10, 3600000);
        within(c.threads, 1, 256);
        within(c.max_connections, 16, 1000000);
        within(c.max_connections_per_ip, 1, 1000000);
        within(c.idle_timeout_s, 1, 3600);
        within(c.request_timeout_s, 1, 3600);
        within(c.max_url_bytes, 64, 65536);
        within(c.max_header_bytes, 256, 65536);
        within(c.connection_memory, 4096, 16777216);
        within(c.max_repos, 1, 1000000000);
        within(c.cache_repos, 1000, 1000000000);
        within(c.max_age_ms, 0, 3600000);
        within(c.new_repos_per_minute, 1, 1000000);
        within(c.shutdown_timeout_ms, 0, 3600000);
        within(c.dedupe_s, 0, 86400);
        within(c.dedupe_slots, 64, 16777216);
        if (strcmp(c.count, "any") != 0 && strcmp(c.count, "camo") != 0)
            abort();
    }
    config_fini(&c);
    fclose(sink);
    free(text);
    return 0;
}
