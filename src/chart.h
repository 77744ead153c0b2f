/*
 * chart: a repo's daily hits as an SVG bar chart (issue 9). Pure: no I/O.
 *
 * One bar per day, a y axis with 0, half and the top of a rounded-up
 * scale (labelled short from 100,000 on: 1.25M), the first and last dates
 * under the x axis, and a heading with the name and the total over the
 * range. For screen readers the <svg> has
 * role="img", and its <title> (also its accessible name) states the
 * numbers: total, range, busiest day; each bar has a <title> with its day
 * and hits, shown on hover. theme_auto adds a prefers-color-scheme rule,
 * as theme=auto does for badges. Any name gives well-formed XML: it is
 * cleaned and escaped as badge text is.
 */
#ifndef GHIT_CHART_H
#define GHIT_CHART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "day.h"

/* The size the chart declares (width and height attributes, in px). */
#define CHART_WIDTH  480
#define CHART_HEIGHT 160

struct chart {
    const char *name;     /* what the chart is of, e.g. "owner/name" */
    day_t first;          /* the day of hits[0] */
    const uint64_t *hits; /* one per day */
    size_t ndays;         /* at least 1 */
    bool theme_auto;
};

/* Appends the chart's SVG to out. */
void chart_render(struct buf *out, const struct chart *c);

#endif
