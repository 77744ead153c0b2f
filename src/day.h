/*
 * day: UTC calendar days as integers. Pure.
 *
 * A day is the number of days since 1970-01-01 (day 0), UTC, as the 2015
 * design counted: its keys carried the UTC date. Integers make rollover a
 * comparison; the ISO text form is what the store and the API show.
 */
#ifndef GHIT_DAY_H
#define GHIT_DAY_H

#include <stdint.h>
#include <time.h>

/* YYYY-MM-DD and its NUL. */
#define DAY_TEXT_SIZE 11

typedef int32_t day_t;

/* The UTC day that contains the instant t. */
day_t day_from_time(time_t t);

/* Writes d as "YYYY-MM-DD" into out (DAY_TEXT_SIZE bytes). */
void day_format(day_t d, char out[DAY_TEXT_SIZE]);

/* Parses exactly "YYYY-MM-DD" (a real date, years 1970-9999); NULL on success, else why not. */
const char *day_parse(const char *s, day_t *out);

#endif
