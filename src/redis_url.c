/*
 * redis_url: parses Redis store URLs and escapes repo names (see redis_url.h).
 *
 * The escape table is set_escape_uri's (set-misc-nginx-module,
 * ngx_escape_uri_patched with NGX_ESCAPE_URI), measured byte by byte against
 * nginx 1.22 with set-misc 0.33 (shared/design/redis.md, section 2.1): these
 * bytes stay, every other one becomes %XX in upper-case hex.
 */
#include "redis_url.h"

#include <stdio.h>
#include <stdbool.h>
#include <string.h>

#include "ascii.h"

bool redis_url_is(const char *where)
{
    return strncmp(where, "redis://", 8) == 0 || strncmp(where, "unix://", 7) == 0;
}

/* Whether set_escape_uri leaves byte c as it is. */
static bool kept(unsigned char c)
{
    return ascii_is_alnum(c) || (c && strchr("!$'()*,-.@_`|~", c));
}

size_t redis_key_escape(const char *s, size_t len, char *out, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        size_t need = kept(c) ? 1 : 3;
        if (o + need >= n)
            return (size_t)-1;
        if (need == 1) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    if (o >= n)
        return (size_t)-1;
    out[o] = '\0';
    return o;
}

size_t redis_key_unescape(const char *s, char *out, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = ascii_hex_digit((unsigned char)s[i + 1]),
                lo = hi < 0 ? -1 : ascii_hex_digit((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return (size_t)-1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (o + 1 >= n)
            return (size_t)-1;
        out[o++] = c;
    }
    if (o >= n)
        return (size_t)-1;
    out[o] = '\0';
    return o;
}

/* Copies the len bytes at s into out (n bytes), percent-decoded; NULL, or why not. */
static const char *copy_decoded(const char *s, size_t len, char *out, size_t n)
{
    char tmp[512];
    if (len >= sizeof tmp)
        return "the user name or password is too long";
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    if (redis_key_unescape(tmp, out, n) == (size_t)-1)
        return "the user name or password is too long or has a bad %-escape";
    return NULL;
}

/* Parses the decimal number in the len bytes at s, at most max; -1 if it is not one. */
static long number(const char *s, size_t len, long max)
{
    if (len == 0 || len > 9)
        return -1;
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v <= max ? v : -1;
}

/*
 * Parses a query string "db=N&timeout=MS" (q without its '?') into u;
 * db_given if the path named the database. Each is given once: which of two
 * was meant is a guess.
 */
static const char *parse_query(const char *q, struct redis_url *u, bool db_given)
{
    bool timeout_given = false;
    while (*q) {
        size_t len = strcspn(q, "&");
        const char *eq = memchr(q, '=', len);
        if (!eq)
            return "a URL parameter is not NAME=VALUE (known: db, timeout)";
        size_t nlen = (size_t)(eq - q), vlen = len - nlen - 1;
        long v = number(eq + 1, vlen, 1000000000L);
        if (nlen == 2 && memcmp(q, "db", 2) == 0) {
            if (db_given)
                return "the database is given twice (the path /N and db=, or db= twice)";
            if (v < 0 || v > 65535)
                return "db= takes a database number";
            u->db = (unsigned)v;
            db_given = true;
        } else if (nlen == 7 && memcmp(q, "timeout", 7) == 0) {
            if (timeout_given)
                return "timeout= is given twice";
            if (v < 1 || v > 600000)
                return "timeout= takes milliseconds, 1 to 600000";
            u->timeout_ms = (unsigned)v;
            timeout_given = true;
        } else {
            return "unknown URL parameter (known: db, timeout)";
        }
        q += len + (q[len] == '&');
    }
    return NULL;
}

/* Parses redis://[[USER]:PASSWORD@]HOST[:PORT][/N][?...] (s after "redis://"). */
static const char *parse_tcp(const char *s, struct redis_url *u)
{
    size_t alen = strcspn(s, "/?");
    const char *end = s + alen, *at = NULL;
    for (const char *p = s; p < end; p++)
        if (*p == '@')
            at = p;
    const char *host = s, *err;
    if (at) {
        const char *colon = memchr(s, ':', (size_t)(at - s));
        if (!colon)
            return "give the password as redis://:PASSWORD@HOST:PORT (or in GHIT_REDIS_PASSWORD)";
        if ((err = copy_decoded(s, (size_t)(colon - s), u->user, sizeof u->user)) ||
            (err = copy_decoded(colon + 1, (size_t)(at - colon - 1), u->password,
                                sizeof u->password)))
            return err;
        host = at + 1;
    }
    const char *port = NULL, *hend = end;
    if (*host == '[') {
        const char *close = memchr(host, ']', (size_t)(end - host));
        if (!close)
            return "an IPv6 address needs its closing ']'";
        if (close + 1 < end) {
            if (close[1] != ':')
                return "expected :PORT after the IPv6 address";
            port = close + 2;
        }
        host++;
        hend = close;
    } else {
        const char *colon = memchr(host, ':', (size_t)(end - host));
        if (colon) {
            port = colon + 1;
            hend = colon;
        }
    }
    if (hend == host)
        return "the URL names no host";
    if ((size_t)(hend - host) >= sizeof u->host)
        return "the host name is too long";
    memcpy(u->host, host, (size_t)(hend - host));
    u->host[hend - host] = '\0';
    if (port) {
        long v = number(port, (size_t)(end - port), 65535);
        if (v < 1)
            return "the port must be a number from 1 to 65535";
        u->port = (unsigned)v;
    }
    /* An empty path ("redis://h:6379/") names no database, as in redis-py's URLs. */
    bool db_given = *end == '/' && strcspn(end + 1, "?") > 0;
    if (*end == '/') {
        size_t dlen = strcspn(end + 1, "?");
        long v = dlen ? number(end + 1, dlen, 65535) : 0;
        if (v < 0)
            return "the path of a redis:// URL is a database number: /0, /1, ...";
        u->db = (unsigned)v;
        end += 1 + dlen;
    }
    return *end == '?' ? parse_query(end + 1, u, db_given) : NULL;
}

void redis_url_redact(const char *s, char *out, size_t n)
{
    size_t scheme = strncmp(s, "redis://", 8) == 0 ? 8 : strncmp(s, "unix://", 7) == 0 ? 7 : 0;
    const char *at = scheme ? strrchr(s + scheme, '@') : NULL;
    if (at)
        snprintf(out, n, "%.*s***@%s", (int)scheme, s, at + 1);
    else
        snprintf(out, n, "%s", s);
}

const char *redis_url_parse(const char *s, struct redis_url *u)
{
    memset(u, 0, sizeof *u);
    u->port = REDIS_URL_DEFAULT_PORT;
    u->timeout_ms = REDIS_URL_DEFAULT_TIMEOUT_MS;
    if (strncmp(s, "redis://", 8) == 0)
        return parse_tcp(s + 8, u);
    if (strncmp(s, "unix://", 7) != 0)
        return "not a Redis URL: redis://HOST:PORT[/N] or unix:///PATH[?db=N]";
    s += 7;
    size_t plen = strcspn(s, "?");
    if (plen == 0 || *s != '/')
        return "a unix:// URL needs an absolute path: unix:///run/redis/redis.sock";
    if (plen >= sizeof u->path)
        return "the socket path is too long";
    memcpy(u->path, s, plen);
    u->path[plen] = '\0';
    return s[plen] == '?' ? parse_query(s + plen + 1, u, false) : NULL;
}
