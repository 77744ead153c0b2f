/*
 * test_chart: the bar chart's SVG: golden files (tests/golden/chart-*.svg,
 * rewritten by GHIT_REGEN=1 build/tests/test_chart after a deliberate
 * change), the numbers its title states, one bar per day, the scale, the
 * dark rule only with theme=auto, a hostile name escaped, and axis labels
 * that fit left of the plot for every scale a count can get.
 */
#include "chart.h"
#include "badge_font.h"
#include "count.h"

#include <stdlib.h>

#include "test.h"

/* The chart of hits (n days from day 20000, 2024-10-04) with name, as a string. */
static const char *render(const char *name, const uint64_t *hits, size_t n, bool theme_auto)
{
    static struct buf b;
    if (!b.data)
        buf_init(&b);
    buf_reset(&b);
    struct chart c = {name, 20000, hits, n, theme_auto};
    chart_render(&b, &c);
    return b.data;
}

/* Compares svg with tests/golden/name (or writes it with GHIT_REGEN=1). */
static void check_golden(const char *name, const char *svg)
{
    char path[256];
    snprintf(path, sizeof path, "tests/golden/%s", name);
    if (getenv("GHIT_REGEN")) {
        FILE *f = fopen(path, "wb");
        CHECK(f != NULL);
        if (f) {
            fprintf(f, "%s\n", svg);
            fclose(f);
        }
        return;
    }
    static char data[131072];
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f)
        return;
    size_t n = fread(data, 1, sizeof data - 1, f);
    fclose(f);
    if (n && data[n - 1] == '\n')
        n--;
    data[n] = '\0';
    if (strcmp(data, svg) != 0) {
        fprintf(stderr, "%s differs:\n got  %s\n want %s\n", name, svg, data);
        test_failures_in_current++;
    }
}

/* How many times needle occurs in s. */
static int occurrences(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static void golden_files(void)
{
    uint64_t week[7] = {3, 0, 12, 7, 1500, 40, 9};
    check_golden("chart-7.svg", render("owner/name", week, 7, false));
    uint64_t month[30];
    for (int i = 0; i < 30; i++)
        month[i] = (uint64_t)((i * 37) % 23);
    check_golden("chart-auto-30.svg", render("ghit/demo", month, 30, true));
}

static void title_states_the_numbers(void)
{
    uint64_t week[7] = {3, 0, 12, 7, 1500, 40, 9};
    const char *svg = render("owner/name", week, 7, false);
    CHECK(strstr(svg, "role=\"img\"") != NULL);
    CHECK(strstr(svg, "width=\"480\" height=\"160\"") != NULL);
    CHECK(strstr(svg, "<title id=\"t\">owner/name: 1,571 hits in 7 days, 2024-10-04 to "
                      "2024-10-10; most on 2024-10-08 (1,500)</title>") != NULL);
    CHECK_INT(occurrences(svg, "<rect x="), 7);
    CHECK(strstr(svg, "<title>2024-10-05: 0</title>") != NULL);
    /* the scale: 1,500 rounds up to 2,000 */
    CHECK(strstr(svg, ">2,000</text>") != NULL);
    CHECK(strstr(svg, ">1,000</text>") != NULL);
    CHECK(strstr(svg, "prefers-color-scheme") == NULL);
    CHECK(strstr(render("owner/name", week, 7, true), "prefers-color-scheme:dark") != NULL);
}

static void empty_year_and_hostile_name(void)
{
    static uint64_t year[365];
    const char *svg = render("<a&b>\"\x01\xff", year, 365, false);
    CHECK_INT(occurrences(svg, "<rect x="), 365);
    CHECK(strstr(svg, "0 hits in 365 days") != NULL);
    CHECK(strstr(svg, "most on") == NULL);
    CHECK(strstr(svg, "&lt;a&amp;b&gt;&quot;") != NULL);
    CHECK(strstr(svg, "<a&b>") == NULL);
    CHECK(strchr(svg, '\x01') == NULL);
    uint64_t one[7] = {0, 0, 0, 0, 0, 0, 5};
    CHECK(strstr(render("a/b", one, 7, false), ">2.5</text>") != NULL);
}

/*
 * The heading's name, from its left edge, and the total, up to the plot's
 * right edge, never overlap: a long name is cut with an ellipsis (the title
 * keeps it whole); a short one is left alone.
 */
static void long_name_is_cut_to_the_room_left(void)
{
    char name[141];
    memset(name, 'o', 39);
    name[39] = '/';
    memset(name + 40, 'W', 100);
    name[140] = '\0';
    uint64_t hits[7] = {0, 0, 0, 0, 0, 0, 123456};
    const char *svg = render(name, hits, 7, false);
    const char *h = strstr(svg, "<text class=\"h\" x=\"10\" y=\"18\">");
    CHECK(h != NULL);
    if (!h)
        return;
    h = strchr(h, '>') + 1;
    const char *end = strstr(h, "</text>");
    CHECK(end > h && end - h < 140);
    CHECK(end - h >= 3 && memcmp(end - 3, "\xe2\x80\xa6", 3) == 0); /* U+2026 */
    CHECK(strncmp(h, "oooooooooooooooooooooooooooooooooooooo", 38) == 0);
    /* measured as chart.c measures: name and total fit between 10 and 470 px */
    uint32_t cps[160];
    size_t n = 0;
    for (const char *p = h; p < end - 3; p++)
        cps[n++] = (uint8_t)*p;
    cps[n++] = 0x2026;
    double name_px = badge_font_width(&badge_font_verdana_10_bold, cps, n) * 1.1;
    const char *total = "123,456 hits in 7 days";
    n = 0;
    for (const char *p = total; *p; p++)
        cps[n++] = (uint8_t)*p;
    double total_px = badge_font_width(&badge_font_verdana_11, cps, n);
    CHECK(10 + name_px + 12 + total_px <= 470);
    CHECK(10 + name_px + 12 + total_px > 440); /* cut no shorter than needed */
    CHECK(strstr(svg, ">123,456 hits in 7 days</text>") != NULL);
    CHECK(strstr(svg, name) != NULL); /* whole in the title */
    /* a name that fits is not touched */
    CHECK(strstr(render("torvalds/linux", hits, 7, false), ">torvalds/linux</text>") != NULL);
}

/* Counts near the largest (set by an admin): the total stops there, no label goes negative. */
static void counts_near_the_largest(void)
{
    uint64_t big[3] = {COUNT_MAX, COUNT_MAX - 2, 7};
    const char *svg = render("a/b", big, 3, false);
    CHECK(strstr(svg, "9,223,372,036,854,775,807 hits in 3 days") != NULL);
    CHECK(strstr(svg, ">-") == NULL);
    CHECK(strstr(svg, "text-anchor=\"end\">10E</text>") != NULL); /* 10^19 */
    CHECK(strstr(svg, "text-anchor=\"end\">5E</text>") != NULL);
}

/* The y axis's labels of the chart of one day with max hits, bottom up, joined by "|". */
static const char *axis_labels(uint64_t max)
{
    static char labels[128];
    const char *svg = render("a/b", &max, 1, false);
    size_t n = 0;
    labels[0] = '\0';
    for (const char *p = svg; (p = strstr(p, "<text x=\"46\" ")) != NULL;) {
        p = strchr(p, '>') + 1;
        size_t len = (size_t)(strchr(p, '<') - p);
        if (n + len + 2 > sizeof labels)
            break;
        n += (size_t)snprintf(labels + n, sizeof labels - n, "%s%.*s", n ? "|" : "", (int)len, p);
    }
    return labels;
}

/* The scale's top is the next of 1, 2, 2.5, 5 times a power of ten; large ones read short. */
static void the_scale_is_close_above_the_busiest_day(void)
{
    CHECK_STR(axis_labels(0), "0|1|2");
    CHECK_STR(axis_labels(1), "0|1|2");
    CHECK_STR(axis_labels(3), "0|2.5|5");
    CHECK_STR(axis_labels(22), "0|12.5|25");
    CHECK_STR(axis_labels(201), "0|125|250");
    CHECK_STR(axis_labels(50000), "0|25,000|50,000");
    CHECK_STR(axis_labels(50001), "0|50k|100k");
    CHECK_STR(axis_labels(250000), "0|125k|250k");
    CHECK_STR(axis_labels(2400000), "0|1.25M|2.5M");
    CHECK_STR(axis_labels(24000000), "0|12.5M|25M");
    CHECK_STR(axis_labels(1000000000000), "0|500B|1T");
    CHECK_STR(axis_labels(COUNT_MAX), "0|5E|10E");
}

/*
 * Every label of every scale (the tops 2 to 10^19, reached from just above
 * the one before) measures, in the font badges are measured with, at least
 * 4 px short of the 46 it is right-aligned at: nothing is cut at the left.
 */
static void every_axis_label_fits_left_of_the_plot(void)
{
    double widest = 0;
    for (uint64_t p = 1; p <= 1000000000000000000ULL; p *= 10) {
        uint64_t steps[4] = {p, 2 * p, p * 5 / 2, 5 * p};
        for (int i = 0; i < 4; i++) {
            for (uint64_t max = steps[i]; max <= steps[i] + 1; max++) {
                const char *labels = axis_labels(max);
                for (const char *l = labels; *l;) {
                    uint32_t cps[32];
                    size_t n = 0;
                    for (; *l && *l != '|' && n < 32; l++)
                        cps[n++] = (uint8_t)*l;
                    if (*l == '|')
                        l++;
                    double w = badge_font_width(&badge_font_verdana_11, cps, n);
                    if (w > widest)
                        widest = w;
                    if (w > 42)
                        fprintf(stderr, "max %" PRIu64 ": %s is %.2f px\n", max, labels, w);
                    CHECK(w <= 42);
                }
            }
        }
    }
    CHECK(widest > 38); /* "50,000", measured: the loop saw the labels */
}

int main(void)
{
    RUN(golden_files);
    RUN(title_states_the_numbers);
    RUN(empty_year_and_hostile_name);
    RUN(long_name_is_cut_to_the_room_left);
    RUN(counts_near_the_largest);
    RUN(the_scale_is_close_above_the_busiest_day);
    RUN(every_axis_label_fits_left_of_the_plot);
    return test_main_end("chart");
}
