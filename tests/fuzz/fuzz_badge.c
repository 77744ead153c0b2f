/*
 * fuzz_badge: any parameter bytes in, well-formed SVG out.
 *
 * The input is split at '\n': the first line is the message, each other line
 * a NAME=VALUE parameter given to badge_look_set() as a query parameter
 * would be. The first byte also picks the style, theme and error badge
 * directly, so that every renderer is reached without the fuzzer having to
 * find the parameter names first. Each output is parsed by libxml2; a
 * parse error, a root that is not <svg>, or a refused parameter with no
 * message aborts. The same input also draws a bar chart (chart.c, issue
 * 9): the message as its name, hits taken from the input's bytes, 1 to
 * 365 days, theme from the first byte; it goes through the same check.
 * Built by `make fuzz` (libFuzzer) and by `make fuzz-replay`
 * (tests/fuzz/replay.c) over tests/fuzz/corpus/badge.
 */
#include <libxml/parser.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "badge.h"
#include "fuzz.h"
#include "buf.h"
#include "chart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PARAMS 16

static void check_svg(const struct buf *svg)
{
    xmlDocPtr doc = xmlReadMemory(svg->data, (int)svg->len, "badge.svg", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        fprintf(stderr, "not well-formed XML:\n%s\n", svg->data);
        abort();
    }
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!root || strcmp((const char *)root->name, "svg") != 0)
        abort();
    xmlFreeDoc(doc);
    if (strlen(svg->data) != svg->len) /* no NUL inside */
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    /* One NUL-terminated copy, cut into lines in place. */
    char *text = fuzz_text(data + 1, size - 1);
    uint8_t pick = data[0];

    struct badge_look look;
    badge_look_init(&look);
    look.style = (enum badge_style)(pick % 5);
    look.theme_auto = (pick & 8) != 0;
    const char *message = text;
    const char *refused = NULL;
    char *line = strchr(text, '\n');
    if (line)
        *line++ = '\0';
    for (int i = 0; line && i < MAX_PARAMS; i++) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *eq = strchr(line, '=');
        const char *value = "";
        if (eq) {
            *eq = '\0';
            value = eq + 1;
        }
        const char *why = badge_look_set(&look, line, value);
        if (why && !*why)
            abort(); /* a refusal must say why */
        if (why && !refused)
            refused = why;
        line = next;
    }

    struct buf svg;
    buf_init(&svg);
    if (refused)
        badge_render_error(&svg, &look, refused);
    else if (pick & 16)
        badge_render_error(&svg, &look, message);
    else
        badge_render(&svg, &look, message);
    check_svg(&svg);

    /* The counts' message with the same look renders too. */
    char counts[2 * NUMFMT_OUT_MAX + 4];
    uint64_t total = 0;
    for (size_t i = 0; i < size && i < 8; i++)
        total = total << 8 | data[i];
    badge_message(counts, sizeof counts, &look, total, total >> 17);
    buf_reset(&svg);
    badge_render(&svg, &look, counts);
    check_svg(&svg);

    /* A chart named by the message, its hits from the input's bytes. */
    static uint64_t hits[365];
    size_t ndays = 1 + (size + pick) % 365;
    for (size_t i = 0; i < ndays; i++)
        hits[i] = i < size ? (uint64_t)data[i] << (data[i] % 40) : 0;
    struct chart chart = {message, (day_t)(pick * 97), hits, ndays, (pick & 8) != 0};
    buf_reset(&svg);
    chart_render(&svg, &chart);
    check_svg(&svg);

    buf_fini(&svg);
    free(text);
    return 0;
}
