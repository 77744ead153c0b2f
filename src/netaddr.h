/*
 * netaddr: client addresses and address ranges (CIDR), with no I/O.
 *
 * Every address is held as 16 bytes, IPv4 as an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d, RFC 4291 section 2.5.5.2), so one comparison serves both
 * families. Used for the client a request counts for (--trusted-proxy),
 * per-client limits, and ranges read from the command line or a file.
 */
#ifndef GHIT_NETADDR_H
#define GHIT_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;

struct netaddr {
    uint8_t b[16];
};

/* An address range: the first `bits` bits of addr (bits counted on the 128-bit form). */
struct netaddr_range {
    struct netaddr addr;
    unsigned bits;
};

/* A list of ranges; netaddr_list_fini() frees it. */
struct netaddr_list {
    struct netaddr_range *r;
    size_t n, cap;
};

#define NETADDR_TEXT_SIZE 46 /* INET6_ADDRSTRLEN */

/* Fills *out from an AF_INET or AF_INET6 socket address; -1 for another family. */
int netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out);

/*
 * Parses an IPv4 or IPv6 address in text (len bytes, not NUL-terminated
 * necessarily; "[v6]" brackets and a ":port" after IPv4 or "]" are not
 * accepted here). NULL if fine, else what is wrong.
 */
const char *netaddr_parse(const char *text, size_t len, struct netaddr *out);

/* Parses "ADDR" or "ADDR/BITS" (BITS of the address's own family). NULL or what is wrong. */
const char *netaddr_parse_range(const char *text, size_t len, struct netaddr_range *out);

/* Writes addr as text (IPv4 dotted for mapped addresses) into out. */
void netaddr_format(const struct netaddr *addr, char out[NETADDR_TEXT_SIZE]);

/*
 * Writes a socket address with its port: "a.b.c.d:port", or "[v6]:port"
 * for an IPv6 socket, an IPv4-mapped one included; "?" for another family.
 */
void netaddr_format_endpoint(const struct sockaddr *sa, char *out, size_t size);

bool netaddr_is_v4(const struct netaddr *addr);
bool netaddr_in_range(const struct netaddr *addr, const struct netaddr_range *range);

/*
 * The part of addr that identifies one client for per-client limits: the
 * whole address for IPv4, the /64 prefix for IPv6, since one host or
 * subscriber is usually handed a whole /64 (RFC 6177).
 */
struct netaddr netaddr_client_prefix(const struct netaddr *addr);

void netaddr_list_init(struct netaddr_list *l);
void netaddr_list_fini(struct netaddr_list *l);
void netaddr_list_add(struct netaddr_list *l, const struct netaddr_range *r);
bool netaddr_list_match(const struct netaddr_list *l, const struct netaddr *addr);

/*
 * Adds the ranges of a comma-separated text ("127.0.0.1/32,::1") to l.
 * NULL if fine, else what is wrong; *bad points at the offending item.
 */
const char *netaddr_list_parse(struct netaddr_list *l, const char *text, const char **bad);

#endif
