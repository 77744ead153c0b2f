/*
 * numfmt: locale-free number formatting for badges. Pure.
 *
 * grouped: 1,234,567 (the separator is configurable, "," by default)
 * plain:   1234567
 * short:   1.2k, 12k, 123k, 1.2M, 3.4B (as shields.io's metric())
 * The output is the same on every machine, whatever the C locale says.
 */
#ifndef GHIT_NUMFMT_H
#define GHIT_NUMFMT_H

#include <stddef.h>
#include <stdint.h>

enum numfmt_style { NUMFMT_GROUPED, NUMFMT_PLAIN, NUMFMT_SHORT };

#define NUMFMT_SEP_MAX 8

struct numfmt {
    enum numfmt_style style;
    char sep[NUMFMT_SEP_MAX]; /* group separator, UTF-8, NUL-terminated */
};

/* The longest output of numfmt_format plus its NUL, with the longest separator. */
#define NUMFMT_OUT_MAX 96

/*
 * grouped with ",": 1,234,567. How a count reads outside a badge, whose
 * format is the user's: ghit stats and vacuum, the chart, the dashboard.
 */
extern const struct numfmt numfmt_commas;

/* Writes v into out (size n >= NUMFMT_OUT_MAX) as fmt says; returns the length. */
size_t numfmt_format(char *out, size_t n, const struct numfmt *fmt, uint64_t v);

#endif
