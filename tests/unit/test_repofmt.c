/* Unit tests of repofmt: the JSON and CSV forms of a repo's counts (issue 10). */
#include <stdlib.h>
#include <string.h>

#include "repofmt.h"
#include "test.h"

/* Parses text as an import line; returns the error or NULL, leaving the result in r. */
static const char *parse(const char *text, struct repofmt_repo *r)
{
    return repofmt_parse_json(text, strlen(text), REPOFMT_WITH_REPO, r);
}

static void parses_and_writes_canonically(void)
{
    struct repofmt_repo r;
    repofmt_repo_init(&r);
    CHECK(parse(" { \"days\" : {\"2026-01-03\":4, \"2026-01-02\":0, \"2026-01-01\":1}, "
                "\"total\": 10, \"repo\": \"Foo\\/Bar\", \"first_day\":\"2025-12-31\" }\n",
                &r) == NULL);
    CHECK_STR(r.key, "foo/bar");
    CHECK_INT(r.total, 10);
    CHECK_INT(r.ndays, 2); /* the zero day is dropped */
    struct store_repo sr = {r.key, r.total, r.first_day, r.days, r.ndays};
    struct buf out;
    buf_init(&out);
    repofmt_format_json(&out, &sr);
    CHECK_STR(out.data, "{\"repo\":\"foo/bar\",\"total\":10,\"first_day\":\"2025-12-31\","
                        "\"days\":{\"2026-01-01\":1,\"2026-01-03\":4}}\n");
    buf_reset(&out);
    repofmt_format_csv(&out, &sr);
    CHECK_STR(out.data, "foo/bar,,5\nfoo/bar,2026-01-01,1\nfoo/bar,2026-01-03,4\n");
    buf_fini(&out);
    repofmt_repo_fini(&r);
}

static void refuses_bad_input_with_reasons(void)
{
    static const struct {
        const char *text, *why;
    } bad[] = {
        {"", "expected a JSON object"},
        {"{\"repo\":\"a/b\"}", "\"total\" is missing"},
        {"{\"total\":1}", "\"repo\" is missing"},
        {"{\"repo\":\"a/b\",\"total\":-1}", "negative"},
        {"{\"repo\":\"a/b\",\"total\":1.0}", "whole numbers"},
        {"{\"repo\":\"a/b\",\"total\":01}", "begin with 0"},
        {"{\"repo\":\"a/b\",\"total\":9223372036854775808}", "larger than"},
        {"{\"repo\":\"a/b\",\"total\":1,\"total\":1}", "appears twice"},
        {"{\"repo\":\"a/b\",\"total\":1,\"color\":1}", "unknown field"},
        {"{\"repo\":\"a/b\",\"total\":1,\"days\":{\"2026-02-30\":1}}", "not a date"},
        {"{\"repo\":\"a/b\",\"total\":1,\"days\":{\"2026-01-01\":2}}", "more than \"total\""},
        {"{\"repo\":\"a/b\",\"total\":9223372036854775806,"
         "\"days\":{\"2026-01-01\":9223372036854775806,\"2026-01-02\":1}}",
         "more than \"total\""},
        {"{\"repo\":\"a/b\",\"total\":9,\"days\":{\"2026-01-01\":1,\"2026-01-01\":1}}", "twice"},
        {"{\"repo\":\"a/b\",\"total\":9,\"days\":{\"2026-01-01\":0,\"2026-01-01\":1}}", "twice"},
        {"{\"repo\":\"a/b\",\"total\":9,\"days\":{\"2026-01-01\":0,\"2026-01-01\":0}}", "twice"},
        {"{\"repo\":\"a/b\",\"total\":1,\"first_day\":\"2026-01-02\",\"days\":{\"2026-01-01\":1}}",
         "later than"},
        {"{\"repo\":\"a//b\",\"total\":1}", "name"},
        {"{\"repo\":\"a/b\",\"total\":1} x", "text after"},
        {"{\"repo\":\"a/b\",\"total\":1", "expected ','"},
    };
    struct repofmt_repo r;
    repofmt_repo_init(&r);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *err = parse(bad[i].text, &r);
        CHECK(err != NULL);
        if (err && !strstr(err, bad[i].why))
            fprintf(stderr, "%s: got \"%s\", expected it to say \"%s\"\n", bad[i].text, err,
                    bad[i].why);
        CHECK(err && strstr(err, bad[i].why));
    }
    CHECK(repofmt_parse_json("{\"repo\":\"a/b\",\"total\":1}", 24, REPOFMT_WITHOUT_REPO, &r));
    CHECK(!repofmt_parse_json("{\"total\":1}", 11, REPOFMT_WITHOUT_REPO, &r));
    repofmt_repo_fini(&r);
}

/*
 * A total at the maximum stays there while its days go on counting, so
 * export writes days that add up to more: they read back, as written.
 */
static void a_total_at_the_maximum_takes_days_beyond_it(void)
{
    struct repofmt_repo r;
    repofmt_repo_init(&r);
    const char *line = "{\"repo\":\"sat/x\",\"total\":9223372036854775807,"
                       "\"first_day\":\"2026-12-02\",\"days\":{\"2026-12-02\":"
                       "9223372036854775807,\"2026-12-03\":3}}\n";
    CHECK(parse(line, &r) == NULL);
    CHECK_INT(r.ndays, 2);
    struct store_repo sr = {r.key, r.total, r.first_day, r.days, r.ndays};
    struct buf out;
    buf_init(&out);
    repofmt_format_json(&out, &sr);
    CHECK_STR(out.data, line);
    buf_fini(&out);
    repofmt_repo_fini(&r);
}

static void csv_rows(void)
{
    char key[REPO_KEY_SIZE];
    day_t day;
    uint64_t hits;
    CHECK(!repofmt_parse_csv("A/b,2026-01-01,7", 16, key, &day, &hits));
    CHECK_STR(key, "a/b");
    CHECK_INT(hits, 7);
    CHECK(!repofmt_parse_csv("a/b,,0", 6, key, &day, &hits));
    CHECK_INT(day, REPOFMT_NO_DAY);
    CHECK(repofmt_parse_csv("a/b,2026-01-01", 14, key, &day, &hits) != NULL);
    CHECK(repofmt_parse_csv("a/b,2026-01-01, 7", 17, key, &day, &hits) != NULL);
    CHECK(repofmt_parse_csv("a/b,x,7", 7, key, &day, &hits) != NULL);
    CHECK(repofmt_parse_csv("a/b,,7,", 7, key, &day, &hits) != NULL);
}

/* Days after today are refused by the callers that know today (PUT, import). */
static void days_after_today_are_refused(void)
{
    day_t today;
    CHECK(day_parse("2026-06-01", &today) == NULL);
    struct repofmt_repo r;
    repofmt_repo_init(&r);
    CHECK(parse("{\"repo\":\"a/b\",\"total\":10,\"first_day\":\"2026-05-01\","
                "\"days\":{\"2026-06-01\":4}}",
                &r) == NULL);
    CHECK(repofmt_check_today(&r, today) == NULL); /* today itself is fine */
    CHECK(parse("{\"repo\":\"a/b\",\"total\":10,\"days\":{\"2026-06-02\":4}}", &r) == NULL);
    CHECK(strstr(repofmt_check_today(&r, today), "\"days\" holds a day after today (UTC)"));
    /* a future day with no hits is dropped from days, but still refused */
    CHECK(parse("{\"repo\":\"a/b\",\"total\":1,\"days\":{\"2099-01-01\":0}}", &r) == NULL);
    CHECK_INT(r.ndays, 0);
    CHECK(repofmt_check_today(&r, today) != NULL);
    CHECK(parse("{\"repo\":\"a/b\",\"total\":10,\"first_day\":\"2099-01-01\"}", &r) == NULL);
    CHECK(strstr(repofmt_check_today(&r, today), "\"first_day\" is after today (UTC)"));
    repofmt_repo_fini(&r);
    day_t day;
    CHECK(repofmt_check_day(today, today) == NULL);
    CHECK(repofmt_check_day(REPOFMT_NO_DAY, today) == NULL);
    CHECK(day_parse("2026-06-02", &day) == NULL);
    CHECK(repofmt_check_day(day, today) != NULL);
}

int main(void)
{
    RUN(parses_and_writes_canonically);
    RUN(refuses_bad_input_with_reasons);
    RUN(a_total_at_the_maximum_takes_days_beyond_it);
    RUN(csv_rows);
    RUN(days_after_today_are_refused);
    return test_main_end("repofmt");
}
