/*
 * badge_font: anafanafo's measuring rules over ghit's generated tables.
 *
 * anafanafo (char-width-table-consumer) looks each code point up by binary
 * search in sorted [first, last, width] ranges, counts control characters
 * (<= 31, 127) as 0 and a code point found in no range as the width of "m",
 * and adds the widths left to right in doubles. badge-maker then truncates
 * the sum. Doing the very same additions in the same order gives the very
 * same double, so every width ghit computes equals shields.io's.
 */
#include "badge_font.h"

/* The range holding cp, or NULL. */
static const struct badge_font_range *find(const struct badge_font_table *f, uint32_t cp)
{
    size_t lo = 0, hi = f->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct badge_font_range *r = &f->ranges[mid];
        if (cp < r->first)
            hi = mid;
        else if (cp - r->first > r->span)
            lo = mid + 1;
        else
            return r;
    }
    return NULL;
}

/* The width of one code point, as char-width-table-consumer's widthOfCharCode(). */
static double char_width(const struct badge_font_table *f, uint32_t cp)
{
    if (cp < 128)
        return f->ascii[cp] / 100.0;
    if (cp <= 31 || cp == 127)
        return 0.0;
    const struct badge_font_range *r = find(f, cp);
    if (!r)
        r = find(f, 'm'); /* anafanafo's guess: one em */
    return r ? r->width / 100.0 : 0.0;
}

double badge_font_width(const struct badge_font_table *f, const uint32_t *cps, size_t n)
{
    double w = 0.0;
    for (size_t i = 0; i < n; i++)
        w += char_width(f, cps[i]);
    return w;
}

size_t badge_font_upper(uint32_t cp, uint32_t out[3])
{
    /* ASCII, nearly every label, without the search (callgrind: 2k instructions a badge). */
    if (cp < 0x80) {
        out[0] = cp >= 'a' && cp <= 'z' ? cp - ('a' - 'A') : cp;
        return 1;
    }
    size_t lo = 0, hi = badge_upper_table_len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct badge_upper *u = &badge_upper_table[mid];
        if (cp < u->cp) {
            hi = mid;
        } else if (cp > u->cp) {
            lo = mid + 1;
        } else {
            size_t n = 1;
            out[0] = u->upper[0];
            while (n < 3 && u->upper[n])
                out[n] = u->upper[n], n++;
            return n;
        }
    }
    out[0] = cp;
    return 1;
}
