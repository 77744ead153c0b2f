/*
 * badge_micro: the cost of rendering one badge, per style, in ns.
 *
 * Renders each case ITER times into one reused buffer (as a server thread
 * does), takes the best of 5 rounds to dodge the noise of a shared VM, and
 * prints a table. Run with bench/badge-micro.sh, which builds it with the
 * default -O2 flags against build/libghit.a. The figure for
 * for-the-badge + today-total + theme=auto is the worst case.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "badge.h"
#include "buf.h"

struct bench_case {
    const char *name;
    const char *params[4][2];
};

static const struct bench_case cases[] = {
    {"flat", {{"style", "flat"}}},
    {"flat-square", {{"style", "flat-square"}}},
    {"plastic", {{"style", "plastic"}}},
    {"for-the-badge", {{"style", "for-the-badge"}}},
    {"social", {{"style", "social"}}},
    {"flat, theme=auto", {{"style", "flat"}, {"theme", "auto"}}},
    {"ftb, today-total, auto",
     {{"style", "for-the-badge"}, {"view", "today-total"}, {"theme", "auto"}}},
    {"flat, color=hsl(...)", {{"style", "flat"}, {"color", "hsl(120, 50%, 40%)"}}},
    {"flat, non-ASCII label", {{"style", "flat"}, {"label", "Besucher \u65e5\u672c"}}},
};

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    long iter = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
    if (iter <= 0)
        iter = 200000;
    struct buf out;
    buf_init(&out);
    size_t sink = 0;
    printf("%-26s %10s %8s\n", "badge", "ns/badge", "bytes");
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct badge_look look;
        badge_look_init(&look);
        for (int p = 0; p < 4 && cases[c].params[p][0]; p++)
            badge_look_set(&look, cases[c].params[p][0], cases[c].params[p][1]);
        double best = 1e30;
        for (int round = 0; round < 5; round++) {
            double t0 = now_ns();
            for (long i = 0; i < iter; i++) {
                char message[2 * NUMFMT_OUT_MAX + 4];
                badge_message(message, sizeof message, &look, 1234567 + (uint64_t)i, 321);
                buf_reset(&out);
                badge_render(&out, &look, message);
                sink += out.len;
            }
            double per = (now_ns() - t0) / (double)iter;
            if (per < best)
                best = per;
        }
        printf("%-26s %10.0f %8zu\n", cases[c].name, best, out.len);
    }
    buf_fini(&out);
    return sink == 0; /* keeps the loop from being optimised away */
}
