/*
 * badge_font: text widths and case mapping exactly as shields.io measures them.
 *
 * badge-maker@6 measures a string with anafanafo: the sum, in string order
 * and in double precision, of each code point's width from a published table
 * (control characters count 0, a code point missing from the table counts as
 * wide as "m"). badge_font_width() does the same sum, so the rounding of the
 * result is the same to the last bit. The tables are generated data
 * (src/badge_font_data.c, scripts/gen-font-data.mjs). Pure, thread-safe.
 */
#ifndef GHIT_BADGE_FONT_H
#define GHIT_BADGE_FONT_H

#include <stddef.h>
#include <stdint.h>

struct badge_font_range {
    uint32_t first;
    uint16_t span;  /* last code point - first */
    uint16_t width; /* in 1/100 px */
};

struct badge_font_table {
    const struct badge_font_range *ranges;
    size_t len;
    uint16_t ascii[128]; /* the widths of U+0000..U+007F, looked up in advance */
};

extern const struct badge_font_table badge_font_verdana_11;
extern const struct badge_font_table badge_font_verdana_10;
extern const struct badge_font_table badge_font_verdana_10_bold;
extern const struct badge_font_table badge_font_helvetica_11_bold;

/* A code point whose uppercase differs from it, and that uppercase (0-padded). */
struct badge_upper {
    uint32_t cp;
    uint32_t upper[3];
};

extern const struct badge_upper badge_upper_table[];
extern const size_t badge_upper_table_len;

/* The width in px of the n code points cps in font f, as anafanafo computes it. */
double badge_font_width(const struct badge_font_table *f, const uint32_t *cps, size_t n);

/*
 * Writes the uppercase of cp (as JavaScript's toUpperCase(), locale-free) to
 * out and returns how many code points it is (1 to 3).
 */
size_t badge_font_upper(uint32_t cp, uint32_t out[3]);

#endif
