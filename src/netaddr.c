/*
 * netaddr: addresses and ranges (see netaddr.h).
 *
 * Text is parsed with inet_pton(), which accepts only the strict forms
 * (no "010.1.1.1" octal, no shortened IPv4), on a NUL-terminated copy.
 */
#include "netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "alloc.h"

static const uint8_t v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        memcpy(out->b, v4_prefix, 12);
        memcpy(out->b + 12, &in->sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        memcpy(out->b, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        return 0;
    }
    return -1;
}

bool netaddr_is_v4(const struct netaddr *addr)
{
    return memcmp(addr->b, v4_prefix, 12) == 0;
}

const char *netaddr_parse(const char *text, size_t len, struct netaddr *out)
{
    char copy[NETADDR_TEXT_SIZE];
    if (len == 0)
        return "an address is empty";
    if (len >= sizeof copy)
        return "not an IPv4 or IPv6 address";
    memcpy(copy, text, len);
    copy[len] = '\0';
    struct in_addr a4;
    if (inet_pton(AF_INET, copy, &a4) == 1) {
        memcpy(out->b, v4_prefix, 12);
        memcpy(out->b + 12, &a4, 4);
        return NULL;
    }
    if (inet_pton(AF_INET6, copy, out->b) == 1)
        return NULL;
    return "not an IPv4 or IPv6 address";
}

const char *netaddr_parse_range(const char *text, size_t len, struct netaddr_range *out)
{
    const char *slash = memchr(text, '/', len);
    size_t alen = slash ? (size_t)(slash - text) : len;
    const char *err = netaddr_parse(text, alen, &out->addr);
    if (err)
        return err;
    unsigned max = netaddr_is_v4(&out->addr) ? 32 : 128;
    unsigned bits = max;
    if (slash) {
        const char *p = slash + 1, *end = text + len;
        if (p == end || end - p > 3)
            return "the prefix length after / must be a number";
        bits = 0;
        for (; p < end; p++) {
            if (*p < '0' || *p > '9')
                return "the prefix length after / must be a number";
            bits = bits * 10 + (unsigned)(*p - '0');
        }
        if (bits > max)
            return max == 32 ? "an IPv4 prefix length is at most 32"
                             : "an IPv6 prefix length is at most 128";
    }
    out->bits = max == 32 ? 96 + bits : bits;
    /* Clear the host bits, so that 10.1.2.3/8 and 10.0.0.0/8 are the same range. */
    for (unsigned i = 0; i < 16; i++) {
        unsigned keep = out->bits > i * 8 ? out->bits - i * 8 : 0;
        if (keep < 8)
            out->addr.b[i] &= (uint8_t)(0xff << (8 - keep));
    }
    return NULL;
}

void netaddr_format(const struct netaddr *addr, char out[NETADDR_TEXT_SIZE])
{
    if (netaddr_is_v4(addr))
        inet_ntop(AF_INET, addr->b + 12, out, NETADDR_TEXT_SIZE);
    else
        inet_ntop(AF_INET6, addr->b, out, NETADDR_TEXT_SIZE);
}

void netaddr_format_endpoint(const struct sockaddr *sa, char *out, size_t size)
{
    struct netaddr a;
    char host[NETADDR_TEXT_SIZE];
    if (netaddr_from_sockaddr(sa, &a) < 0) {
        snprintf(out, size, "?");
    } else if (sa->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, a.b, host, sizeof host);
        snprintf(out, size, "[%s]:%u", host, ntohs(((const struct sockaddr_in6 *)sa)->sin6_port));
    } else {
        netaddr_format(&a, host);
        snprintf(out, size, "%s:%u", host, ntohs(((const struct sockaddr_in *)sa)->sin_port));
    }
}

bool netaddr_in_range(const struct netaddr *addr, const struct netaddr_range *range)
{
    unsigned full = range->bits / 8, rest = range->bits % 8;
    if (memcmp(addr->b, range->addr.b, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (addr->b[full] & mask) == range->addr.b[full];
}

struct netaddr netaddr_client_prefix(const struct netaddr *addr)
{
    struct netaddr p = *addr;
    if (!netaddr_is_v4(addr))
        memset(p.b + 8, 0, 8);
    return p;
}

void netaddr_list_init(struct netaddr_list *l)
{
    memset(l, 0, sizeof *l);
}

void netaddr_list_fini(struct netaddr_list *l)
{
    free(l->r);
    memset(l, 0, sizeof *l);
}

void netaddr_list_add(struct netaddr_list *l, const struct netaddr_range *r)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->r = xrealloc(l->r, l->cap * sizeof *l->r);
    }
    l->r[l->n++] = *r;
}

bool netaddr_list_match(const struct netaddr_list *l, const struct netaddr *addr)
{
    for (size_t i = 0; i < l->n; i++)
        if (netaddr_in_range(addr, &l->r[i]))
            return true;
    return false;
}

const char *netaddr_list_parse(struct netaddr_list *l, const char *text, const char **bad)
{
    const char *p = text;
    for (;;) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, ",");
        size_t trimmed = len;
        while (trimmed && p[trimmed - 1] == ' ')
            trimmed--;
        struct netaddr_range r;
        const char *err = netaddr_parse_range(p, trimmed, &r);
        if (err) {
            *bad = p;
            return err;
        }
        netaddr_list_add(l, &r);
        if (p[len] != ',')
            return NULL;
        p += len + 1;
    }
}
