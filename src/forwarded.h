/*
 * forwarded: the client behind trusted reverse proxies, from the
 * X-Forwarded-For or Forwarded (RFC 7239) header. Pure: no I/O.
 *
 * Each proxy appends the address it received the request from, so the
 * list reads client, proxy1, proxy2, ... and only its right end can be
 * trusted: everything left of the first hop we do not trust may be forged
 * by the client. The client is therefore the right-most address that is
 * not in a trusted range (the peer itself being trusted). If every hop is
 * trusted, the left-most one is the client. An element that cannot be
 * read (garbage, "unknown", an obfuscated RFC 7239 identifier) ends the
 * walk: the hop to its right, which we trust, is the best we know.
 */
#ifndef GHIT_FORWARDED_H
#define GHIT_FORWARDED_H

#include <stdbool.h>
#include <stddef.h>

#include "netaddr.h"

enum forwarded_kind {
    FORWARDED_XFF, /* X-Forwarded-For: "client, proxy1, proxy2" */
    FORWARDED_RFC, /* Forwarded: "for=client;proto=https, for=\"[2001:db8::1]:4711\"" */
};

/*
 * Walks the list in text (len bytes; several header lines joined by ",")
 * from the right, starting from the trusted peer, and sets *client to the
 * client as described above. Returns false, leaving *client alone, if
 * text names no address at all.
 */
bool forwarded_client(enum forwarded_kind kind, const char *text, size_t len,
                      const struct netaddr_list *trusted, struct netaddr *client);

#endif
