/*
 * camo: recognising GitHub's image proxy (issue 10). Pure.
 *
 * GitHub shows README images through camo, which fetches with the
 * User-Agent "github-camo (<build id>)", a short hex build id, and from
 * GitHub's published address ranges; it forwards no viewer address and no
 * cookies (shared/reference/peers-2026-11.md, section 2). The agent alone
 * is trivially spoofed, so a fetch is the proxy's only when both the agent
 * and the source address say so.
 */
#ifndef GHIT_CAMO_H
#define GHIT_CAMO_H

#include <stdbool.h>
#include <stddef.h>

#include "netaddr.h"

/* Whether ua is camo's User-Agent: "github-camo (" hex digits ")". NULL is not. */
bool camo_agent(const char *ua);

/*
 * Adds the ranges of a ranges file's text (len bytes) to l: one address or
 * CIDR a line; blank lines and text from '#' to the end of a line are
 * ignored. NULL if fine, else what is wrong and *line its number.
 */
const char *camo_ranges_parse(struct netaddr_list *l, const char *text, size_t len, unsigned *line);

#endif
