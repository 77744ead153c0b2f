/*
 * test_metrics: the registry and its Prometheus text: one series per name
 * and labels, counts summed over threads exactly, families grouped under
 * one HELP and TYPE, the histogram cumulative with +Inf, and requests by
 * route and status.
 */
#include "metrics.h"

#include <pthread.h>
#include <stdlib.h>

#include "test.h"

/* The rendered text. */
static char *render(void)
{
    static struct buf b;
    if (!b.data)
        buf_init(&b);
    buf_reset(&b);
    metrics_render(&b);
    return b.data;
}

/* Whether text has the line line. */
static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return 1;
    return 0;
}

static void one_series_per_name_and_labels(void)
{
    struct metrics_counter *a = metrics_counter("t_a_total", "A.", "");
    CHECK(a == metrics_counter("t_a_total", "A again.", ""));
    struct metrics_counter *b = metrics_counter("t_a_total", "A.", "k=\"b\"");
    CHECK(a != b);
    metrics_add(a, 2);
    metrics_add(b, 5);
    for (int i = 0; i < 3; i++)
        METRICS_INC("t_a_total", "A.", "");
    const char *t = render();
    CHECK(has_line(t, "# HELP t_a_total A."));
    CHECK(has_line(t, "# TYPE t_a_total counter"));
    CHECK(has_line(t, "t_a_total 5"));
    CHECK(has_line(t, "t_a_total{k=\"b\"} 5"));
    /* HELP once per family */
    const char *first = strstr(t, "# HELP t_a_total");
    CHECK(first && !strstr(first + 1, "# HELP t_a_total"));
}

static void *count_many(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100000; i++)
        METRICS_INC("t_threads_total", "Counted by threads.", "");
    return NULL;
}

static void counts_from_threads_add_up_exactly(void)
{
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, count_many, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    CHECK(has_line(render(), "t_threads_total 400000"));
}

static void gauges_and_refusals(void)
{
    struct metrics_gauge *g = metrics_gauge("t_gauge", "G.", "");
    metrics_gauge_set(g, 10);
    metrics_gauge_add(g, -3);
    METRICS_GAUGE_ADD("t_gauge", "G.", "", 1);
    metrics_declare_limit("t_never");
    METRICS_REFUSED("t_once");
    const char *t = render();
    CHECK(has_line(t, "# TYPE t_gauge gauge"));
    CHECK(has_line(t, "t_gauge 8"));
    CHECK(has_line(t, "ghit_requests_refused_total{limit=\"t_never\"} 0"));
    CHECK(has_line(t, "ghit_requests_refused_total{limit=\"t_once\"} 1"));
}

static void histogram_is_cumulative(void)
{
    static const double bounds[] = {0.001, 0.01, 0.1};
    struct metrics_histogram *h = metrics_histogram("t_seconds", "H.", bounds, 3);
    metrics_observe(h, 0.0005);
    metrics_observe(h, 0.005);
    metrics_observe(h, 0.005);
    metrics_observe(h, 2);
    const char *t = render();
    CHECK(has_line(t, "# TYPE t_seconds histogram"));
    CHECK(has_line(t, "t_seconds_bucket{le=\"0.001\"} 1"));
    CHECK(has_line(t, "t_seconds_bucket{le=\"0.01\"} 3"));
    CHECK(has_line(t, "t_seconds_bucket{le=\"0.1\"} 3"));
    CHECK(has_line(t, "t_seconds_bucket{le=\"+Inf\"} 4"));
    CHECK(has_line(t, "t_seconds_count 4"));
    CHECK(has_line(t, "t_seconds_sum 2.0105"));
}

static void requests_by_route_and_status(void)
{
    for (int i = 0; i < 3; i++)
        metrics_request("badge", 200);
    metrics_request("badge", 400);
    metrics_request("api", 200);
    const char *t = render();
    CHECK(has_line(t, "ghit_http_requests_total{route=\"badge\",status=\"200\"} 3"));
    CHECK(has_line(t, "ghit_http_requests_total{route=\"badge\",status=\"400\"} 1"));
    CHECK(has_line(t, "ghit_http_requests_total{route=\"api\",status=\"200\"} 1"));
}

int main(void)
{
    RUN(one_series_per_name_and_labels);
    RUN(counts_from_threads_add_up_exactly);
    RUN(gauges_and_refusals);
    RUN(histogram_is_cumulative);
    RUN(requests_by_route_and_status);
    return test_main_end("metrics");
}
