/*
 * numfmt: counts as text, without the C locale.
 *
 * grouped and plain are plain integer arithmetic. short follows shields.io's
 * metric() (services/text-formatters.js) step by step, in doubles as its
 * JavaScript does, so a count shows as on a shields.io badge: one decimal
 * below 10 of a unit unless that decimal is 0 ("1.2k", "1k"), whole units
 * from 10 on ("12k", "999k"), and a rounded 1000 moves to the next unit
 * ("1M" for 999,500). Units are k, M, B (not shields' G: a count reads as
 * billions), T, P, E; a uint64_t stops below 18.5E.
 */
#include "numfmt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const struct numfmt numfmt_commas = {NUMFMT_GROUPED, ","};

/* Writes the decimal digits of v into out (room for 21); returns the length. */
static size_t digits(char *out, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return n;
}

/* JavaScript's Number.prototype.toFixed(1) for 1 <= x < 10: "d.d" or "10.0". */
static void to_fixed1(char out[8], double x)
{
    /*
     * toFixed rounds the exact binary value half up; glibc's printf rounds it
     * half to even. They differ only on exact ties, which for one decimal are
     * the odd multiples of 0.05 that a double holds exactly: x.25 and x.75.
     */
    double q = x * 4; /* exact: a power of two */
    if (q == floor(q) && fmod(q, 2) == 1)
        x += 0.05; /* a tie: nudge it up, well clear of the next tie */
    snprintf(out, 8, "%.1f", x);
}

static size_t format_short(char *out, size_t n, uint64_t v)
{
    static const char prefix[] = {'k', 'M', 'B', 'T', 'P', 'E'};
    const int units = (int)sizeof prefix;
    double x = (double)v, limit = 1e3 * pow(1e3, units - 1);
    for (int i = units - 1; i >= 0; i--, limit /= 1e3) {
        if (x < limit)
            continue;
        double scaled = x / limit;
        if (scaled < 10) {
            char one[8];
            to_fixed1(one, scaled);
            if (one[strlen(one) - 1] != '0')
                return (size_t)snprintf(out, n, "%s%c", one, prefix[i]);
        }
        double rounded = floor(scaled + 0.5); /* Math.round, scaled >= 1 */
        if (rounded < 1000)
            return (size_t)snprintf(out, n, "%.0f%c", rounded, prefix[i]);
        if (i + 1 < units)
            return (size_t)snprintf(out, n, "1%c", prefix[i + 1]);
        return (size_t)snprintf(out, n, "%.0f%c", rounded, prefix[i]);
    }
    char d[21];
    digits(d, v);
    return (size_t)snprintf(out, n, "%s", d);
}

size_t numfmt_format(char *out, size_t n, const struct numfmt *fmt, uint64_t v)
{
    if (n == 0)
        return 0;
    if (fmt->style == NUMFMT_SHORT)
        return format_short(out, n, v);
    char d[21];
    size_t nd = digits(d, v);
    const char *sep = fmt->style == NUMFMT_GROUPED ? fmt->sep : "";
    size_t seplen = strnlen(sep, NUMFMT_SEP_MAX - 1);
    size_t o = 0;
    for (size_t i = 0; i < nd; i++) {
        if (i > 0 && (nd - i) % 3 == 0 && o + seplen < n) {
            memcpy(out + o, sep, seplen);
            o += seplen;
        }
        if (o + 1 < n)
            out[o++] = d[i];
    }
    out[o] = '\0';
    return o;
}
