/*
 * forwarded: the client behind trusted proxies (see forwarded.h).
 *
 * The list is walked from its right end, element by element (commas
 * separate elements in both headers). An X-Forwarded-For element is an
 * address with optional spaces. A Forwarded element is a list of
 * pairs separated by ";"; its "for" value is a token or a quoted string,
 * holding an IPv4 address, an IPv4 address and port, or "[IPv6]" with an
 * optional port (RFC 7239 section 6).
 */
#include "forwarded.h"

#include <string.h>

#include "ascii.h"

/* Trims spaces and tabs on both ends of [*p, *p + *n). */
static void trim(const char **p, size_t *n)
{
    while (*n && (**p == ' ' || **p == '\t')) {
        (*p)++;
        (*n)--;
    }
    while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
        (*n)--;
}

/* Reads an X-Forwarded-For element: a bare address. */
static bool xff_element(const char *p, size_t n, struct netaddr *out)
{
    trim(&p, &n);
    return netaddr_parse(p, n, out) == NULL;
}

/* Reads the node of a Forwarded "for" value: IPv4[:port] or [IPv6][:port]. */
static bool rfc_node(const char *p, size_t n, struct netaddr *out)
{
    if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
        p++;
        n -= 2;
    }
    if (n && p[0] == '[') {
        const char *close = memchr(p, ']', n);
        if (!close)
            return false;
        size_t rest = n - (size_t)(close - p) - 1;
        if (rest && close[1] != ':')
            return false;
        struct netaddr a;
        if (netaddr_parse(p + 1, (size_t)(close - p - 1), &a) != NULL || netaddr_is_v4(&a))
            return false;
        *out = a;
        return true;
    }
    const char *colon = memchr(p, ':', n);
    struct netaddr a;
    if (netaddr_parse(p, colon ? (size_t)(colon - p) : n, &a) != NULL || !netaddr_is_v4(&a))
        return false;
    *out = a;
    return true;
}

/* Reads a Forwarded element: finds its "for=" pair (case-insensitive name). */
static bool rfc_element(const char *p, size_t n, struct netaddr *out)
{
    while (n) {
        const char *semi = memchr(p, ';', n);
        size_t len = semi ? (size_t)(semi - p) : n;
        const char *q = p;
        size_t m = len;
        trim(&q, &m);
        if (m >= 4 && ascii_lower(q[0]) == 'f' && ascii_lower(q[1]) == 'o' &&
            ascii_lower(q[2]) == 'r' && q[3] == '=') {
            const char *v = q + 4;
            size_t vn = m - 4;
            trim(&v, &vn);
            return rfc_node(v, vn, out);
        }
        if (!semi)
            break;
        p = semi + 1;
        n -= len + 1;
    }
    return false;
}

/*
 * The start of the element that ends at end (exclusive), skipping commas
 * inside a quoted string, which a Forwarded value may hold.
 */
static const char *element_start(const char *begin, const char *end)
{
    bool quoted = false;
    for (const char *p = end; p > begin; p--) {
        if (p[-1] == '"')
            quoted = !quoted;
        else if (p[-1] == ',' && !quoted)
            return p;
    }
    return begin;
}

bool forwarded_client(enum forwarded_kind kind, const char *text, size_t len,
                      const struct netaddr_list *trusted, struct netaddr *client)
{
    const char *end = text + len;
    bool any = false;
    while (end > text) {
        const char *start = element_start(text, end);
        struct netaddr a;
        size_t n = (size_t)(end - start);
        bool ok = kind == FORWARDED_XFF ? xff_element(start, n, &a) : rfc_element(start, n, &a);
        end = start > text ? start - 1 : text;
        if (!ok) {
            /* An empty element (",,") is skipped; anything else unreadable ends the walk. */
            const char *p = start;
            trim(&p, &n);
            if (n == 0)
                continue;
            return any;
        }
        *client = a;
        any = true;
        if (!netaddr_list_match(trusted, &a))
            return true;
    }
    return any;
}
