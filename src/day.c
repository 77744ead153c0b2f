/*
 * day: UTC days since the epoch (see day.h).
 *
 * The civil-date conversions are the proleptic Gregorian algorithms of
 * Howard Hinnant's "chrono-Compatible Low-Level Date Algorithms"
 * (days_from_civil, civil_from_days), which need no tables and no libc
 * time zone state, so they are safe in every thread.
 */
#include "day.h"

#include <stdio.h>
#include <string.h>

/* Days since 1970-01-01 of year y, month m (1-12), day d (1-31). */
static day_t from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (day_t)(era * 146097 + doe - 719468);
}

/* The civil date of day z. */
static void to_civil(day_t z, int *y, int *m, int *d)
{
    z += 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    int doe = z - era * 146097;
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

day_t day_from_time(time_t t)
{
    /* Floor division: an instant before the epoch belongs to a negative day. */
    long long s = (long long)t;
    return (day_t)(s >= 0 ? s / 86400 : -((-s + 86399) / 86400));
}

void day_format(day_t d, char out[DAY_TEXT_SIZE])
{
    int y, m, dd;
    to_civil(d, &y, &m, &dd);
    if (y < 0 || y > 9999) {
        memcpy(out, "0000-00-00", DAY_TEXT_SIZE);
        return;
    }
    /* Written digit by digit: no format string, and provably within 10 bytes. */
    int parts[3] = {y, m, dd}, widths[3] = {4, 2, 2};
    char *p = out;
    for (int i = 0; i < 3; i++) {
        for (int w = widths[i] - 1; w >= 0; w--) {
            p[w] = (char)('0' + parts[i] % 10);
            parts[i] /= 10;
        }
        p += widths[i];
        *p++ = i < 2 ? '-' : '\0';
    }
}

/* Reads n decimal digits at s; -1 if any is not a digit. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

const char *day_parse(const char *s, day_t *out)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return "a day is written YYYY-MM-DD";
    int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
    if (y < 0 || m < 0 || d < 0)
        return "a day is written YYYY-MM-DD";
    if (y < 1970)
        return "days begin at 1970-01-01";
    if (m < 1 || m > 12 || d < 1)
        return "no such date";
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[m - 1] + (m == 2 && leap))
        return "no such date";
    *out = from_civil(y, m, d);
    return NULL;
}
