/*
 * camo: the image proxy's agent and address ranges (see camo.h).
 */
#include "camo.h"

#include <string.h>

#include "ascii.h"

bool camo_agent(const char *ua)
{
    static const char prefix[] = "github-camo (";
    if (!ua || strncmp(ua, prefix, sizeof prefix - 1) != 0)
        return false;
    const char *p = ua + sizeof prefix - 1;
    size_t n = 0;
    while (ascii_hex_digit((unsigned char)p[n]) >= 0)
        n++;
    /* A build id: a few hex digits (8 seen), a commit hash at the most. */
    return n >= 1 && n <= 40 && p[n] == ')' && p[n + 1] == '\0';
}

const char *camo_ranges_parse(struct netaddr_list *l, const char *text, size_t len, unsigned *line)
{
    const char *p = text, *end = text + len;
    for (*line = 1; p < end; (*line)++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        const char *hash = memchr(p, '#', (size_t)(eol - p));
        const char *stop = hash ? hash : eol;
        while (p < stop && (*p == ' ' || *p == '\t'))
            p++;
        while (stop > p && (stop[-1] == ' ' || stop[-1] == '\t' || stop[-1] == '\r'))
            stop--;
        if (stop > p) {
            struct netaddr_range r;
            const char *err = netaddr_parse_range(p, (size_t)(stop - p), &r);
            if (err)
                return err;
            netaddr_list_add(l, &r);
        }
        p = eol + 1;
    }
    return NULL;
}
