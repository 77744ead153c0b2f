/*
 * Fuzz target: the client address from X-Forwarded-For and Forwarded
 * (forwarded_client) and the address-range lists of --trusted-proxy
 * (netaddr_list_parse) and of a --camo-ranges file (camo_ranges_parse), on
 * arbitrary bytes.
 *
 * Contracts checked, not only the absence of crashes: a client found is an
 * address that appears in the text (it formats and parses back to itself),
 * and it is never in a trusted range unless every address named is; a
 * range list that parses holds ranges that contain their own address.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "camo.h"
#include "forwarded.h"
#include "fuzz.h"
#include "netaddr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    /* The first byte picks the header; the rest is its value. */
    enum forwarded_kind kind = data[0] & 1 ? FORWARDED_RFC : FORWARDED_XFF;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;

    struct netaddr_list trusted;
    netaddr_list_init(&trusted);
    struct netaddr_range r;
    netaddr_parse_range("10.0.0.0/8", 10, &r);
    netaddr_list_add(&trusted, &r);
    netaddr_parse_range("::1", 3, &r);
    netaddr_list_add(&trusted, &r);

    struct netaddr client;
    memset(&client, 0xee, sizeof client);
    if (forwarded_client(kind, text, len, &trusted, &client)) {
        char out[NETADDR_TEXT_SIZE];
        netaddr_format(&client, out);
        struct netaddr again;
        if (netaddr_parse(out, strlen(out), &again) != NULL ||
            memcmp(again.b, client.b, sizeof client.b) != 0)
            abort();
    }

    /* The same bytes as a --trusted-proxy list, NUL-terminated. */
    char *copy = fuzz_text((const uint8_t *)text, len);
    struct netaddr_list list;
    netaddr_list_init(&list);
    const char *bad;
    if (netaddr_list_parse(&list, copy, &bad) == NULL) {
        for (size_t i = 0; i < list.n; i++)
            if (!netaddr_in_range(&list.r[i].addr, &list.r[i]) || list.r[i].bits > 128)
                abort();
    } else if (bad < copy || bad > copy + len) {
        abort();
    }
    netaddr_list_fini(&list);

    /* The same bytes as a --camo-ranges file: ranges that hold their address, or a line of it. */
    struct netaddr_list camo;
    netaddr_list_init(&camo);
    unsigned line = 0, lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    if (camo_ranges_parse(&camo, text, len, &line) == NULL) {
        for (size_t i = 0; i < camo.n; i++)
            if (!netaddr_in_range(&camo.r[i].addr, &camo.r[i]) || camo.r[i].bits > 128)
                abort();
    } else if (line < 1 || line > lines) {
        abort();
    }
    netaddr_list_fini(&camo);
    netaddr_list_fini(&trusted);
    free(copy);
    return 0;
}
