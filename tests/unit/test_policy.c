/*
 * Unit tests of the counting rules (issue 10): camo's agent and ranges,
 * the dedupe window and its bound under a flood of distinct addresses,
 * and the verdicts and counters of the policy that combines them.
 */
#include <stdlib.h>

#include "camo.h"
#include "dedupe.h"
#include "policy.h"
#include "test.h"

/* The address in text (must parse). */
static struct netaddr addr(const char *text)
{
    struct netaddr a;
    memset(&a, 0, sizeof a);
    if (netaddr_parse(text, strlen(text), &a))
        fprintf(stderr, "bad address in a test: %s\n", text);
    return a;
}

static void camo_agent_is_exact(void)
{
    CHECK(camo_agent("github-camo (876de43e)"));
    CHECK(camo_agent("github-camo (c006e452)"));
    CHECK(!camo_agent(NULL));
    CHECK(!camo_agent("github-camo"));
    CHECK(!camo_agent("github-camo ()"));
    CHECK(!camo_agent("github-camo (876de43e) curl/8"));
    CHECK(!camo_agent("Mozilla/5.0 github-camo (876de43e)"));
    CHECK(!camo_agent("github-camo (xyz)"));
}

static void ranges_file_parses_with_line_numbers(void)
{
    struct netaddr_list l;
    netaddr_list_init(&l);
    static const char text[] = "# comment\n\n 192.0.2.0/24  # docs\r\n2001:db8::/32\n127.0.0.2\n";
    unsigned line = 0;
    CHECK(camo_ranges_parse(&l, text, sizeof text - 1, &line) == NULL);
    CHECK_INT(l.n, 3);
    struct netaddr a = addr("192.0.2.77"), b = addr("2001:db8::1"), c = addr("127.0.0.2"),
                   d = addr("127.0.0.1");
    CHECK(netaddr_list_match(&l, &a));
    CHECK(netaddr_list_match(&l, &b));
    CHECK(netaddr_list_match(&l, &c));
    CHECK(!netaddr_list_match(&l, &d));
    static const char bad[] = "10.0.0.0/8\n\n10.0.0.0/33\n";
    CHECK(camo_ranges_parse(&l, bad, sizeof bad - 1, &line) != NULL);
    CHECK_INT(line, 3);
    netaddr_list_fini(&l);
}

static void dedupe_counts_once_per_window(void)
{
    struct dedupe *d = dedupe_new(1024, 60); /* times in ms */
    struct netaddr a = addr("10.0.0.1"), b = addr("10.0.0.2");
    CHECK(dedupe_first(d, &a, "o/r", 1000000, NULL));
    CHECK(!dedupe_first(d, &a, "o/r", 1001000, NULL));
    CHECK(!dedupe_first(d, &a, "o/r", 1059999, NULL)); /* a repeat does not extend the window */
    CHECK(dedupe_first(d, &a, "o/other", 1010000, NULL));
    CHECK(dedupe_first(d, &b, "o/r", 1010000, NULL));
    CHECK(dedupe_first(d, &a, "o/r", 1060000, NULL)); /* 60 s after the first */
    CHECK(!dedupe_first(d, &a, "o/r", 1061000, NULL));
    /* one IPv6 client is its /64 */
    struct netaddr v6a = addr("2001:db8:1:2::1"), v6b = addr("2001:db8:1:2:ffff::9");
    CHECK(dedupe_first(d, &v6a, "o/r", 2000000, NULL));
    CHECK(!dedupe_first(d, &v6b, "o/r", 2001000, NULL));
    dedupe_free(d);
    /* A window is S seconds from the first fetch, not from the second it fell in. */
    d = dedupe_new(64, 1);
    CHECK(dedupe_first(d, &a, "o/r", 4999, NULL));
    CHECK(!dedupe_first(d, &a, "o/r", 5001, NULL));
    CHECK(!dedupe_first(d, &a, "o/r", 5998, NULL));
    CHECK(dedupe_first(d, &a, "o/r", 5999, NULL));
    /* Two threads' clocks read before the lock: the later stamp may come in first. */
    CHECK(!dedupe_first(d, &a, "o/r", 5998, NULL));
    dedupe_free(d);
}

static void dedupe_memory_is_bounded_under_a_flood(void)
{
    struct dedupe *d = dedupe_new(4096, 3600);
    size_t before = dedupe_memory(d);
    CHECK_INT(before, 4096 * 16);
    struct netaddr first = addr("10.0.0.1");
    CHECK(dedupe_first(d, &first, "o/r", 100000, NULL));
    CHECK(!dedupe_first(d, &first, "o/r", 100000, NULL));
    /* a million distinct addresses, each later than the first */
    unsigned forgotten_at = 0;
    for (unsigned i = 0; i < 1000000; i++) {
        struct netaddr a = addr("11.0.0.0");
        a.b[13] = (uint8_t)(i >> 16);
        a.b[14] = (uint8_t)(i >> 8);
        a.b[15] = (uint8_t)i;
        CHECK(dedupe_first(d, &a, "o/r", 101000 + i, NULL));
        if (!forgotten_at && i % 1024 == 0 && dedupe_first(d, &first, "o/r", 101000 + i, NULL))
            forgotten_at = i;
    }
    CHECK_INT(dedupe_memory(d), before);
    CHECK(forgotten_at > 0); /* it forgot, it did not grow */
    /* a flood within one millisecond churns every slot of a bucket, not only one */
    struct netaddr second = addr("10.0.0.2");
    CHECK(dedupe_first(d, &second, "o/r", 5000000, NULL));
    for (unsigned i = 0; i < 20000; i++) {
        struct netaddr a = addr("12.0.0.0");
        a.b[14] = (uint8_t)(i >> 8);
        a.b[15] = (uint8_t)i;
        dedupe_first(d, &a, "o/r", 5000000, NULL);
    }
    CHECK(dedupe_first(d, &second, "o/r", 5000000, NULL));
    printf("dedupe: 4096 slots (%zu bytes) forgot the first client after %u others\n", before,
           forgotten_at);
    dedupe_free(d);
}

/* A fetch judged first but then refused is forgotten: the next one counts, and only once. */
static void dedupe_forgets_a_refused_hit(void)
{
    struct dedupe *d = dedupe_new(64, 60);
    struct netaddr a = addr("10.0.0.1");
    struct dedupe_mark mark = {0};
    CHECK(dedupe_first(d, &a, "o/r", 1000, &mark));
    CHECK(mark.tag != 0);
    dedupe_forget(d, &mark);
    CHECK(dedupe_first(d, &a, "o/r", 2000, &mark)); /* counts: the refused one was forgotten */
    CHECK(!dedupe_first(d, &a, "o/r", 3000, NULL));
    /* A stale mark (the pair was remembered again since, after the window) forgets nothing. */
    struct dedupe_mark old = mark;
    CHECK(dedupe_first(d, &a, "o/r", 62000, &mark));
    dedupe_forget(d, &old);
    CHECK(!dedupe_first(d, &a, "o/r", 63000, NULL));
    struct dedupe_mark none = {0};
    dedupe_forget(d, &none); /* nothing remembered: nothing to do */
    dedupe_free(d);
}

static void policy_verdicts_and_counters(void)
{
    struct netaddr_list ranges;
    netaddr_list_init(&ranges);
    unsigned line;
    CHECK(camo_ranges_parse(&ranges, "127.0.0.2\n", 10, &line) == NULL);
    struct policy *camo = policy_new(true, &ranges, 0, 0);
    struct netaddr listed = addr("127.0.0.2"), other = addr("127.0.0.3");
    const char *ua = "github-camo (876de43e)";
    struct dedupe_mark mark;
    CHECK_INT(policy_judge(camo, &listed, ua, "o/r", 5, &mark), POLICY_COUNT);
    CHECK_INT(policy_judge(camo, &listed, ua, "o/r", 5, &mark), POLICY_COUNT);
    CHECK_INT(policy_judge(camo, &other, ua, "o/r", 5, &mark), POLICY_CAMO_UNLISTED);
    CHECK_INT(policy_judge(camo, &listed, "curl/8", "o/r", 5, &mark), POLICY_NOT_CAMO);
    CHECK_INT(policy_judge(camo, &other, NULL, "o/r", 5, &mark), POLICY_NOT_CAMO);
    struct policy_stats st;
    policy_get_stats(camo, &st);
    CHECK_INT(st.not_camo, 2);
    CHECK_INT(st.camo_unlisted, 1);
    CHECK_INT(st.repeat, 0);
    policy_free(camo);

    netaddr_list_init(&ranges);
    CHECK(camo_ranges_parse(&ranges, "127.0.0.2\n", 10, &line) == NULL);
    struct policy *any = policy_new(false, &ranges, 60, 64);
    CHECK_INT(policy_dedupe_memory(any), 64 * 16);
    CHECK_INT(policy_judge(any, &other, "curl/8", "o/r", 5000, &mark), POLICY_COUNT);
    CHECK_INT(policy_judge(any, &other, "curl/8", "o/r", 6000, &mark), POLICY_REPEAT);
    CHECK_INT(policy_judge(any, &other, ua, "o/r", 6000, &mark), POLICY_REPEAT); /* a faked agent */
    for (int i = 0; i < 5; i++) /* the proxy itself is never deduped */
        CHECK_INT(policy_judge(any, &listed, ua, "o/r", 6000, &mark), POLICY_COUNT);
    policy_get_stats(any, &st);
    CHECK_INT(st.repeat, 2);
    policy_free(any);
}

int main(void)
{
    RUN(camo_agent_is_exact);
    RUN(ranges_file_parses_with_line_numbers);
    RUN(dedupe_counts_once_per_window);
    RUN(dedupe_memory_is_bounded_under_a_flood);
    RUN(dedupe_forgets_a_refused_hit);
    RUN(policy_verdicts_and_counters);
    return test_main_end("policy");
}
