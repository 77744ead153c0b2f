/*
 * cmd_redis: `ghit redis init URL` (see cmd_redis.h).
 *
 * init makes ghit:epoch, the mark that a Redis database holds ghit's data,
 * on an empty database. `ghit serve` makes it too on a database that is
 * empty when it first connects, so init is for operators who want the
 * database marked before any server runs, and to check a URL and its
 * password. A database with keys but no mark (2015 ghit.me data) is
 * refused: it must be imported, not written over.
 */
#include "cmd_redis.h"

#include <stdio.h>
#include <string.h>

#include "cmdopt.h"
#include "redis_url.h"
#include "store.h"

/* Prints the usage of ghit redis to out. */
static void usage(FILE *out)
{
    fprintf(out, "usage: ghit redis init URL\n"
                 "Marks an empty Redis database as ghit's (makes ghit:epoch).\n\n"
                 "  URL  redis://[[USER]:PASSWORD@]HOST[:PORT][/N] or unix:///PATH[?db=N]\n"
                 "       the password also from the environment: GHIT_REDIS_PASSWORD, or\n"
                 "       the first line of the file GHIT_REDIS_PASSWORD_FILE names\n"
                 "  -h, --help  show this help and exit\n");
}

int cmd_redis(int argc, char **argv)
{
    /* ghit redis takes no options: --help, and any other is refused as every command refuses it. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strncmp(argv[i], "--", 2) == 0) {
            cmdopt_unknown(stderr, "redis", argv[i] + 2, strcspn(argv[i] + 2, "="));
            return 2;
        }
    }
    if (argc != 3 || strcmp(argv[1], "init") != 0) {
        usage(stderr);
        return 2;
    }
    struct redis_url url;
    const char *why = redis_url_parse(argv[2], &url);
    if (why) {
        fprintf(stderr, "ghit redis init: %s\n", why);
        return 2;
    }
    char msg[512];
    int r = store_redis_init(argv[2], msg, sizeof msg);
    fprintf(r < 0 ? stderr : stdout, "%s%s\n", r < 0 ? "ghit redis init: " : "", msg);
    return r < 0 ? 1 : 0;
}
