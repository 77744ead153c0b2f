/*
 * test_numfmt: grouped, plain and short counts, boundaries and separators.
 * The short form's expected strings are what shields.io's metric() gives.
 */
#include "numfmt.h"

#include "test.h"

static const char *fmt(enum numfmt_style style, const char *sep, uint64_t v)
{
    static char out[NUMFMT_OUT_MAX];
    struct numfmt f = {.style = style};
    snprintf(f.sep, sizeof f.sep, "%s", sep);
    size_t n = numfmt_format(out, sizeof out, &f, v);
    CHECK_INT(n, strlen(out));
    return out;
}

static void test_grouped(void)
{
    CHECK_STR(fmt(NUMFMT_GROUPED, ",", 0), "0");
    CHECK_STR(fmt(NUMFMT_GROUPED, ",", 7), "7");
    CHECK_STR(fmt(NUMFMT_GROUPED, ",", 999), "999");
    CHECK_STR(fmt(NUMFMT_GROUPED, ",", 1000), "1,000");
    CHECK_STR(fmt(NUMFMT_GROUPED, ",", 12345), "12,345");
    CHECK_STR(fmt(NUMFMT_GROUPED, ",", 999999), "999,999");
    CHECK_STR(fmt(NUMFMT_GROUPED, ",", 1000000), "1,000,000");
    CHECK_STR(fmt(NUMFMT_GROUPED, ",", 1234567), "1,234,567");
    CHECK_STR(fmt(NUMFMT_GROUPED, ",", UINT64_MAX), "18,446,744,073,709,551,615");
}

static void test_separators(void)
{
    CHECK_STR(fmt(NUMFMT_GROUPED, ".", 1234567), "1.234.567");
    CHECK_STR(fmt(NUMFMT_GROUPED, " ", 1234567), "1 234 567");
    CHECK_STR(fmt(NUMFMT_GROUPED, "'", 1234567), "1'234'567");
    CHECK_STR(fmt(NUMFMT_GROUPED, "_", 1234567), "1_234_567");
    CHECK_STR(fmt(NUMFMT_GROUPED, "", 1234567), "1234567");
    CHECK_STR(fmt(NUMFMT_GROUPED, "\u2009", 1234), "1\u2009234");
    /* the longest separator (7 bytes) on the longest number still fits */
    CHECK_STR(fmt(NUMFMT_GROUPED, "<sep7b>", UINT64_MAX),
              "18<sep7b>446<sep7b>744<sep7b>073<sep7b>709<sep7b>551<sep7b>615");
    /* plain ignores the separator */
    CHECK_STR(fmt(NUMFMT_PLAIN, ".", 1234567), "1234567");
}

static void test_plain(void)
{
    CHECK_STR(fmt(NUMFMT_PLAIN, ",", 0), "0");
    CHECK_STR(fmt(NUMFMT_PLAIN, ",", 1000), "1000");
    CHECK_STR(fmt(NUMFMT_PLAIN, ",", UINT64_MAX), "18446744073709551615");
}

static void test_short(void)
{
    CHECK_STR(fmt(NUMFMT_SHORT, ",", 0), "0");
    CHECK_STR(fmt(NUMFMT_SHORT, ",", 999), "999");
    CHECK_STR(fmt(NUMFMT_SHORT, ",", 1000), "1k");
    CHECK_STR(fmt(NUMFMT_SHORT, ",", 1049), "1k");   /* 1.0 drops its decimal */
    CHECK_STR(fmt(NUMFMT_SHORT, ",", 1050), "1.1k"); /* 1.05 is just above in binary */
    CHECK_STR(fmt(NUMFMT_SHORT, ",", 1150), "1.1k"); /* 1.15 is just below in binary */
    CHECK_STR(fmt(NUMFMT_SHORT, ",", 1250), "1.3k"); /* exact tie: toFixed rounds up */
    CHECK_STR(fmt(NUMFMT_SHORT, ",", 1234), "1.2k");
    CHECK_STR(fmt(NUMFMT_SHORT, ",", 9949), "9.9k");
    CHECK_STR(fmt(NUMFMT_SHORT, ",", 9960), "10k"); /* toFixed gives "10.0" */
    CHECK_STR(fmt(NUMFMT_SHORT, ",", 12345), "12k");
    CHECK_STR(fmt(NUMFMT_SHORT, ",", 999499), "999k");
    CHECK_STR(fmt(NUMFMT_SHORT, ",", 999500), "1M"); /* rounds to 1000k: next unit */
    CHECK_STR(fmt(NUMFMT_SHORT, ",", 999999), "1M");
    CHECK_STR(fmt(NUMFMT_SHORT, ",", 1000000), "1M");
    CHECK_STR(fmt(NUMFMT_SHORT, ",", 1234567), "1.2M");
    CHECK_STR(fmt(NUMFMT_SHORT, ",", 3400000000ULL), "3.4B");
    CHECK_STR(fmt(NUMFMT_SHORT, ",", 1000000000000ULL), "1T");
    CHECK_STR(fmt(NUMFMT_SHORT, ",", 1500000000000000ULL), "1.5P");
    CHECK_STR(fmt(NUMFMT_SHORT, ",", 1000000000000000000ULL), "1E");
    CHECK_STR(fmt(NUMFMT_SHORT, ",", UINT64_MAX), "18E");
}

static void test_small_buffer(void)
{
    char out[4];
    struct numfmt f = {.style = NUMFMT_GROUPED, .sep = ","};
    numfmt_format(out, sizeof out, &f, 1234567);
    CHECK_INT(strlen(out), 3); /* truncated, still terminated */
}

int main(void)
{
    RUN(test_grouped);
    RUN(test_separators);
    RUN(test_plain);
    RUN(test_short);
    RUN(test_small_buffer);
    return test_main_end("numfmt");
}
