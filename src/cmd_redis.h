/*
 * cmd_redis: `ghit redis init URL`, the set-up of a Redis store (issue 8).
 */
#ifndef GHIT_CMD_REDIS_H
#define GHIT_CMD_REDIS_H

/* ghit redis SUBCOMMAND ...; argv[0] is "redis". Returns the exit status. */
int cmd_redis(int argc, char **argv);

#endif
