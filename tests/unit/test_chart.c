/*
 * test_chart: the bar chart's SVG: golden files (tests/golden/chart-*.svg,
 * rewritten by GHIT_REGEN=1 build/tests/test_chart after a deliberate
 * change), the numbers its title states, one bar per day, the scale, the
 * dark rule only with theme=auto, and a hostile name escaped.
 */
#include "chart.h"
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

/* Counts near the largest (set by an admin): the total stops there, no label goes negative. */
static void counts_near_the_largest(void)
{
    uint64_t big[3] = {COUNT_MAX, COUNT_MAX - 2, 7};
    const char *svg = render("a/b", big, 3, false);
    CHECK(strstr(svg, "9,223,372,036,854,775,807 hits in 3 days") != NULL);
    CHECK(strstr(svg, ">-") == NULL);
    CHECK(strstr(svg, ">4611686018427387904</text>") != NULL); /* half of the odd top */
}

int main(void)
{
    RUN(golden_files);
    RUN(title_states_the_numbers);
    RUN(empty_year_and_hostile_name);
    RUN(counts_near_the_largest);
    return test_main_end("chart");
}
