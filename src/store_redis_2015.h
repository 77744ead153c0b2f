/*
 * store_redis_2015: a plain Redis connection for ghit import-2015 (issue 8):
 * it reads a 2015 ghit.me database key by key and runs the import's own
 * commands, where the Redis store only runs ghit's scripts. Built in
 * store_redis.c, on a read-only store's connection, so that hiredis stays
 * in that one file; no hiredis type crosses this header.
 */
#ifndef GHIT_STORE_REDIS_2015_H
#define GHIT_STORE_REDIS_2015_H

#include <stddef.h>

struct store_redis_2015;

/*
 * Connects to the Redis at url (redis_url.h's forms; the password from the
 * URL or GHIT_REDIS_PASSWORD), with AUTH and SELECT. NULL with a message in
 * err (never the password). Free with store_redis_2015_close().
 */
struct store_redis_2015 *store_redis_2015_open(const char *url, char *err, size_t errlen);
void store_redis_2015_close(struct store_redis_2015 *c);

/* The URL without its password, for messages; lives as long as c. */
const char *store_redis_2015_where(const struct store_redis_2015 *c);

/*
 * Which server and database c talks to, as "RUN_ID/DB" into out (n bytes):
 * two URLs that name one database by different host names give the same
 * text. 0, or -1 with a message in err.
 */
int store_redis_2015_server(struct store_redis_2015 *c, char *out, size_t n, char *err,
                            size_t errlen);

/*
 * GETs key into out (n bytes, NUL added): 1 if it holds a string, 0 if
 * missing, -1 with a message in err.
 */
int store_redis_2015_get(struct store_redis_2015 *c, const char *key, char *out, size_t n,
                         char *err, size_t errlen);

/*
 * Receives one key of a SCAN; for the 2015 counters (import2015.h: TOTAL
 * and DAY) value is what GET answered (NULL if the key is gone or not a
 * string). Key and value live only for the call; neither holds a NUL
 * unless the key itself does.
 */
typedef void store_redis_2015_key_fn(void *arg, const char *key, size_t keylen, const char *value,
                                     size_t vlen);

/* SCANs every key of the database (COUNT 1000); 0, or -1 with a message in err. */
int store_redis_2015_scan(struct store_redis_2015 *c, store_redis_2015_key_fn *fn, void *arg,
                          char *err, size_t errlen);

/* Receives one field of a hash and its value, for the call only. */
typedef void store_redis_2015_field_fn(void *arg, const char *field, const char *value);

/* HSCANs the hash at key (missing: no fields); 0, or -1 with a message in err. */
int store_redis_2015_hscan(struct store_redis_2015 *c, const char *key,
                           store_redis_2015_field_fn *fn, void *arg, char *err, size_t errlen);

/*
 * Queues a command (argc NUL-terminated strings, copied) to be pipelined.
 * store_redis_2015_flush sends what is queued and reads every reply:
 * out[i] is the i-th reply if it is an integer, else 0 (out may be NULL).
 * 0, or -1 with a message in err if Redis failed or refused one (the first
 * refusal is reported; the other commands ran as Redis answered them).
 */
void store_redis_2015_queue(struct store_redis_2015 *c, int argc, const char **argv);
size_t store_redis_2015_queued(const struct store_redis_2015 *c);
int store_redis_2015_flush(struct store_redis_2015 *c, long long *out, char *err, size_t errlen);

#endif
