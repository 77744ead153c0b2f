/*
 * redis_url: where a Redis store is, and its key names. Pure.
 *
 * `--db` takes a SQLite path or one of two URL forms (issue 8):
 *   redis://[[USER]:PASSWORD@]HOST[:PORT][/N][?timeout=MS]
 *   unix:///PATH[?db=N][&timeout=MS]
 * A password in the URL is visible to `ps`; the environment variable
 * GHIT_REDIS_PASSWORD is the way that is not (store_redis.c reads it).
 *
 * Repo names in Redis are the 2015 schema's: the lower-case key escaped as
 * nginx's set_escape_uri escapes it, so owner/name is owner%2Fname.
 */
#ifndef GHIT_REDIS_URL_H
#define GHIT_REDIS_URL_H

#include <stdbool.h>
#include <stddef.h>

#define REDIS_URL_DEFAULT_PORT       6379
#define REDIS_URL_DEFAULT_TIMEOUT_MS 2000

struct redis_url {
    char host[256]; /* "" for a unix socket */
    unsigned port;
    char path[108]; /* the socket's path (sun_path's size) */
    char user[128]; /* "" : AUTH with the password alone */
    char password[256];
    unsigned db;
    unsigned timeout_ms; /* connect and every command */
};

/* Whether where names a Redis store rather than a SQLite file. */
bool redis_url_is(const char *where);

/* Parses s into *out; NULL on success, else what is wrong with it. */
const char *redis_url_parse(const char *s, struct redis_url *out);

/*
 * Copies a Redis URL into out (n bytes) for messages, without what may be
 * a password: everything between the scheme and the last '@' becomes
 * "***". That covers what the parser reads as the user and password (up
 * to the last '@' before the path), and a URL it refuses too, whose
 * password may hold a raw '/'. Other text is copied as it is.
 */
void redis_url_redact(const char *s, char *out, size_t n);

/*
 * Escapes the len bytes at s as set_escape_uri does into out (n bytes, NUL
 * added); the length written, or (size_t)-1 if out is too small.
 */
size_t redis_key_escape(const char *s, size_t len, char *out, size_t n);

/* Undoes redis_key_escape() on s into out (n bytes); the length, or (size_t)-1. */
size_t redis_key_unescape(const char *s, char *out, size_t n);

#endif
