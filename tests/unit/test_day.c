/* Unit tests of day: UTC day numbers and their text form. */
#include "day.h"
#include "test.h"

static void epoch_and_known_dates(void)
{
    char s[DAY_TEXT_SIZE];
    day_format(0, s);
    CHECK_STR(s, "1970-01-01");
    day_format(day_from_time(951782400), s); /* 2000-02-29 00:00:00 UTC, a leap day */
    CHECK_STR(s, "2000-02-29");
    day_format(day_from_time(1798761599), s); /* 2026-12-31 23:59:59 UTC */
    CHECK_STR(s, "2026-12-31");
    day_format(day_from_time(1798761600), s); /* one second later: a new year */
    CHECK_STR(s, "2027-01-01");
}

static void rollover_is_at_utc_midnight(void)
{
    time_t midnight = 1796256000; /* 2026-12-03 00:00:00 UTC */
    CHECK_INT(day_from_time(midnight - 1) + 1, day_from_time(midnight));
    CHECK_INT(day_from_time(midnight), day_from_time(midnight + 86399));
}

static void parse_round_trips(void)
{
    for (day_t d = 0; d < 40000; d += 7) {
        char s[DAY_TEXT_SIZE];
        day_t back = -1;
        day_format(d, s);
        CHECK(day_parse(s, &back) == NULL);
        CHECK_INT(back, d);
    }
}

static void parse_refuses_what_is_not_a_date(void)
{
    day_t d;
    CHECK(day_parse("2026-02-29", &d) != NULL); /* not a leap year */
    CHECK(day_parse("2024-02-29", &d) == NULL);
    CHECK(day_parse("2026-13-01", &d) != NULL);
    CHECK(day_parse("2026-00-10", &d) != NULL);
    CHECK(day_parse("2026-04-31", &d) != NULL);
    CHECK(day_parse("2026-4-1", &d) != NULL);
    CHECK(day_parse("2026-04-01x", &d) != NULL);
    CHECK(day_parse("", &d) != NULL);
    CHECK(day_parse("1969-12-31", &d) != NULL);
}

int main(void)
{
    RUN(epoch_and_known_dates);
    RUN(rollover_is_at_utc_midnight);
    RUN(parse_round_trips);
    RUN(parse_refuses_what_is_not_a_date);
    return test_main_end("day");
}
