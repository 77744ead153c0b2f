/*
 * chart: the bar chart's layout and SVG (see chart.h).
 *
 * The plot spans a fixed box; bars share its width, so 7 days give wide
 * bars and 365 days hairlines with no gap. Coordinates are written with at
 * most two decimals. The scale's top is the smallest 1, 2, 2.5 or 5 times
 * a power of ten that holds the busiest day, so the axis reads in round
 * numbers and the busiest day's bar fills more than half the plot. From a
 * top of 100,000 the axis labels are short ("250k", "1.25M", "10E"): in
 * full, a top near COUNT_MAX would be 26 characters, some 170 px, against
 * the 46 px left of the plot. Colours follow the badges: #4c1 bars,
 * GitHub's dark palette for theme=auto.
 */
#include "chart.h"

#include "count.h"

#include <inttypes.h>
#include <stdio.h>

#include "badge_font.h"
#include "badge_text.h"
#include "numfmt.h"

#define PLOT_LEFT   52.0
#define PLOT_RIGHT  (CHART_WIDTH - 10.0)
#define PLOT_TOP    30.0
#define PLOT_BOTTOM (CHART_HEIGHT - 24.0)

#define HEADING_LEFT 10.0
#define HEADING_GAP  12.0 /* at the least, between the heading's name and its total */

/* Tops from here on get short axis labels. "50,000", the widest in full, is 39 px. */
#define SHORT_FROM 100000

#define STYLE_LIGHT                                                                                \
    "text{font:11px Verdana,Geneva,DejaVu Sans,sans-serif;fill:#333}"                              \
    ".h{font-weight:bold}.bg{fill:#fff;stroke:#d0d7de}.ax{stroke:#8c959f}.gr{stroke:#eaeef2}"      \
    ".b{fill:#4c1}"
#define STYLE_DARK                                                                                 \
    "@media (prefers-color-scheme:dark){text{fill:#e6edf3}.bg{fill:#0d1117;stroke:#30363d}"        \
    ".ax{stroke:#6e7681}.gr{stroke:#21262d}}"

/* Appends x with at most two decimals and no trailing zeros (none past 10^15). */
static void num(struct buf *out, double x)
{
    if (x >= 1e15 || x <= -1e15) { /* x * 100 would not fit a long long */
        buf_printf(out, "%.0f", x);
        return;
    }
    char s[32];
    long long v = (long long)(x * 100 + (x < 0 ? -0.5 : 0.5));
    int n = snprintf(s, sizeof s, "%s%lld.%02lld", v < 0 ? "-" : "", (v < 0 ? -v : v) / 100,
                     (v < 0 ? -v : v) % 100);
    while (n > 0 && s[n - 1] == '0')
        n--;
    if (n > 0 && s[n - 1] == '.')
        n--;
    buf_append(out, s, (size_t)n);
}

/* Appends v grouped with commas: 1,234. */
static void count(struct buf *out, uint64_t v)
{
    char s[NUMFMT_OUT_MAX];
    size_t n = numfmt_format(s, sizeof s, &numfmt_commas, v);
    buf_append(out, s, n);
}

/* The heading's total, "1,234 hits in 30 days", into s (NUMFMT_OUT_MAX + 32 bytes). */
static void heading_total(char *s, size_t n, uint64_t total, size_t ndays)
{
    char digits[NUMFMT_OUT_MAX];
    numfmt_format(digits, sizeof digits, &numfmt_commas, total);
    snprintf(s, n, "%s %s in %zu %s", digits, total == 1 ? "hit" : "hits", ndays,
             ndays == 1 ? "day" : "days");
}

/*
 * The width of the heading's name, bold 11px Verdana: the bold 10px table's
 * measure scaled, Verdana being the widest of the fonts text{} names.
 */
static double name_width(const uint32_t *cps, size_t n)
{
    return badge_font_width(&badge_font_verdana_10_bold, cps, n) * 1.1;
}

/*
 * Cuts name to fit room px, with an ellipsis for what is cut: the name
 * starts at the left edge and the total ends at the right, on one line.
 */
static void fit_name(struct badge_text *name, double room)
{
    static const uint32_t ellipsis = 0x2026;
    if (name_width(name->cp, name->n) <= room)
        return;
    double tail = name_width(&ellipsis, 1);
    while (name->n && name_width(name->cp, name->n) + tail > room)
        name->n--;
    name->cp[name->n++] = ellipsis;
}

/*
 * Appends an axis value v: grouped (1,234), or, if short_form and v >= 1000,
 * in the units of numfmt's short style with up to two decimals, cut rather
 * than rounded: exact for every value the scale labels (1, 1.25, 2, 2.5
 * and 5 times a power of ten), so "1.25M" is never shown as "1.3M".
 */
static void axis_value(struct buf *out, uint64_t v, bool short_form)
{
    static const char unit[] = {'k', 'M', 'B', 'T', 'P', 'E'};
    if (!short_form || v < 1000) {
        count(out, v);
        return;
    }
    size_t u = 0;
    uint64_t scale = 1000;
    while (u + 1 < sizeof unit && v / scale >= 1000) {
        scale *= 1000;
        u++;
    }
    uint64_t cents = v % scale / (scale / 100);
    buf_printf(out, "%" PRIu64, v / scale);
    if (cents % 10)
        buf_printf(out, ".%02" PRIu64, cents);
    else if (cents)
        buf_printf(out, ".%" PRIu64, cents / 10);
    buf_printf(out, "%c", unit[u]);
}

/*
 * The smallest of 2, 5, 10, 20, 25, 50, 100, 200, 250, 500 ... that is >= v.
 * Each step is at most twice the last, so the busiest day's bar fills more
 * than half the plot (2.5 is left out below 10: its half would be 1.25
 * hits). Every count fits: COUNT_MAX gets 10^19.
 */
static uint64_t nice_top(uint64_t v)
{
    if (v <= 2)
        return 2;
    if (v <= 5)
        return 5;
    for (uint64_t p = 10;; p *= 10) {
        if (v <= p)
            return p;
        if (p > UINT64_MAX / 10)
            return v; /* past 10^19: not a count */
        if (v <= 2 * p)
            return 2 * p;
        if (v <= p / 2 * 5)
            return p / 2 * 5;
        if (v <= 5 * p)
            return 5 * p;
    }
}

/* Appends the day d as YYYY-MM-DD. */
static void date(struct buf *out, day_t d)
{
    char s[DAY_TEXT_SIZE];
    day_format(d, s);
    buf_puts(out, s);
}

/* Appends the sentence that states the numbers (the title). */
static void summary(struct buf *out, const struct chart *c, const struct badge_text *name,
                    uint64_t total, size_t busiest)
{
    badge_text_put_xml(out, name);
    buf_puts(out, ": ");
    count(out, total);
    buf_puts(out, total == 1 ? " hit" : " hits");
    buf_printf(out, " in %zu %s, ", c->ndays, c->ndays == 1 ? "day" : "days");
    date(out, c->first);
    buf_puts(out, " to ");
    date(out, c->first + (day_t)c->ndays - 1);
    if (total) {
        buf_puts(out, "; most on ");
        date(out, c->first + (day_t)busiest);
        buf_puts(out, " (");
        count(out, c->hits[busiest]);
        buf_puts(out, ")");
    }
}

void chart_render(struct buf *out, const struct chart *c)
{
    struct badge_text name;
    badge_text_from(&name, c->name, 256); /* a repo key is at most 140 bytes */
    uint64_t total = 0, max = 0;
    size_t busiest = 0;
    for (size_t i = 0; i < c->ndays; i++) {
        total = count_add(total, c->hits[i]);
        if (c->hits[i] > max) {
            max = c->hits[i];
            busiest = i;
        }
    }
    uint64_t top = nice_top(max);
    bool short_form = top >= SHORT_FROM;

    buf_printf(out,
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" role=\"img\" aria-labelledby=\"t\"><title id=\"t\">",
               CHART_WIDTH, CHART_HEIGHT, CHART_WIDTH, CHART_HEIGHT);
    summary(out, c, &name, total, busiest);
    buf_puts(out, "</title><style>" STYLE_LIGHT);
    if (c->theme_auto)
        buf_puts(out, STYLE_DARK);
    buf_printf(out,
               "</style><rect class=\"bg\" x=\"0.5\" y=\"0.5\" width=\"%d\" height=\"%d\" "
               "rx=\"4\"/>",
               CHART_WIDTH - 1, CHART_HEIGHT - 1);

    /* The heading: name and total, the name cut to the room the total leaves (the title has it
     * whole). */
    char right[NUMFMT_OUT_MAX + 32];
    heading_total(right, sizeof right, total, c->ndays);
    struct badge_text right_text;
    badge_text_from(&right_text, right, sizeof right);
    fit_name(&name, PLOT_RIGHT - HEADING_LEFT - HEADING_GAP -
                        badge_font_width(&badge_font_verdana_11, right_text.cp, right_text.n));
    buf_puts(out, "<text class=\"h\" x=\"");
    num(out, HEADING_LEFT);
    buf_puts(out, "\" y=\"18\">");
    badge_text_put_xml(out, &name);
    buf_puts(out, "</text><text x=\"");
    num(out, PLOT_RIGHT);
    buf_printf(out, "\" y=\"18\" text-anchor=\"end\">%s</text>", right);

    /* The y axis: grid lines and labels at 0, half and top. */
    for (int k = 0; k <= 2; k++) {
        double y = PLOT_BOTTOM - (PLOT_BOTTOM - PLOT_TOP) * k / 2.0;
        buf_printf(out, "<line class=\"%s\" x1=\"", k ? "gr" : "ax");
        num(out, PLOT_LEFT);
        buf_puts(out, "\" x2=\"");
        num(out, PLOT_RIGHT);
        buf_puts(out, "\" y1=\"");
        num(out, y);
        buf_puts(out, "\" y2=\"");
        num(out, y);
        buf_puts(out, "\"/><text x=\"");
        num(out, PLOT_LEFT - 6);
        buf_puts(out, "\" y=\"");
        num(out, y + 4);
        buf_puts(out, "\" text-anchor=\"end\">");
        if (k == 1 && top % 2 && !short_form)
            num(out, (double)top / 2); /* the scales 0-5 and 0-25 have 2.5 and 12.5 */
        else
            axis_value(out, k == 2 ? top : k == 1 ? top / 2 : 0, short_form);
        buf_puts(out, "</text>");
    }

    /* The bars, each with its day and hits on hover. */
    double slot = (PLOT_RIGHT - PLOT_LEFT) / (double)c->ndays;
    double gap = slot >= 4 ? slot * 0.2 : 0;
    buf_puts(out, "<g class=\"b\">");
    for (size_t i = 0; i < c->ndays; i++) {
        double h = (PLOT_BOTTOM - PLOT_TOP) * (double)c->hits[i] / (double)top;
        if (c->hits[i] && h < 1)
            h = 1; /* a day with hits is never invisible */
        buf_puts(out, "<rect x=\"");
        num(out, PLOT_LEFT + slot * (double)i + gap / 2);
        buf_puts(out, "\" y=\"");
        num(out, PLOT_BOTTOM - h);
        buf_puts(out, "\" width=\"");
        num(out, slot - gap);
        buf_puts(out, "\" height=\"");
        num(out, h);
        buf_puts(out, "\"><title>");
        date(out, c->first + (day_t)i);
        buf_puts(out, ": ");
        count(out, c->hits[i]);
        buf_puts(out, "</title></rect>");
    }
    buf_puts(out, "</g>");

    /* The x axis: first and last day. */
    buf_puts(out, "<text x=\"");
    num(out, PLOT_LEFT);
    buf_puts(out, "\" y=\"");
    num(out, PLOT_BOTTOM + 16);
    buf_puts(out, "\">");
    date(out, c->first);
    buf_puts(out, "</text><text x=\"");
    num(out, PLOT_RIGHT);
    buf_puts(out, "\" y=\"");
    num(out, PLOT_BOTTOM + 16);
    buf_puts(out, "\" text-anchor=\"end\">");
    date(out, c->first + (day_t)c->ndays - 1);
    buf_puts(out, "</text></svg>");
}
