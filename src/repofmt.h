/*
 * repofmt: a repo's counts as text, JSON Lines and CSV, both ways. Pure.
 *
 * The JSON form is one object per repo (issue 10), what `ghit export`
 * writes one per line, `ghit import` reads, and `PUT /api/v1/repos/O/N`
 * takes without "repo":
 *
 *   {"repo":"owner/name","total":N,"first_day":"YYYY-MM-DD","days":{"YYYY-MM-DD":N,...}}
 *
 * The parser is strict, since its input sets counts: unknown or repeated
 * fields, negative, fractional or too large numbers, bad names and dates,
 * and days that add up to more than the total (unless it is at COUNT_MAX,
 * where it stays while days go on counting) are refused with a message
 * that says what is wrong. Writing is canonical (fields in this order, days
 * sorted, no spaces), so export, import and export again give the same
 * bytes.
 *
 * The CSV form is a row per repo and day, "repo,day,hits", for
 * spreadsheets; a row with an empty day holds the hits that have no day
 * (a total set or carried over without history).
 */
#ifndef GHIT_REPOFMT_H
#define GHIT_REPOFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "repo_key.h"
#include "store.h"

/* "No day": first_day not given, or a CSV row of hits without a day. */
#define REPOFMT_NO_DAY ((day_t)-1)

/* A parsed repo; days are owned (repofmt_repo_fini). */
struct repofmt_repo {
    char key[REPO_KEY_SIZE]; /* empty when the text had no "repo" */
    uint64_t total;
    day_t first_day;        /* REPOFMT_NO_DAY when not given */
    struct store_day *days; /* sorted by day, none zero */
    size_t ndays, cap;
    day_t latest_day; /* the latest day "days" names, with zero hits too; -1: none */
};

enum repofmt_need {
    REPOFMT_WITH_REPO,   /* a line of an import: "repo" is required */
    REPOFMT_WITHOUT_REPO /* a PUT body: the repo is in the URL, "repo" is refused */
};

void repofmt_repo_init(struct repofmt_repo *r);
void repofmt_repo_fini(struct repofmt_repo *r);

/*
 * Parses one JSON object (len bytes at s, any bytes) into r, which must be
 * set up with repofmt_repo_init() (its old content is dropped). NULL if
 * fine, else what is wrong.
 */
const char *repofmt_parse_json(const char *s, size_t len, enum repofmt_need need,
                               struct repofmt_repo *r);

/*
 * NULL if neither r's first_day nor a day in its "days" is after today,
 * else what is wrong: counts are of views that happened. today (UTC) is
 * passed in, so that this module stays pure.
 */
const char *repofmt_check_today(const struct repofmt_repo *r, day_t today);

/* The same for a CSV row's day (REPOFMT_NO_DAY passes). */
const char *repofmt_check_day(day_t day, day_t today);

/* Appends r as one JSON line (with its newline) to out. */
void repofmt_format_json(struct buf *out, const struct store_repo *r);

/* The CSV header line. */
#define REPOFMT_CSV_HEADER "repo,day,hits\n"

/* Appends r's CSV rows to out. */
void repofmt_format_csv(struct buf *out, const struct store_repo *r);

/*
 * Parses one CSV row "repo,day,hits" (day may be empty: *day is then
 * REPOFMT_NO_DAY). NULL if fine, else what is wrong.
 */
const char *repofmt_parse_csv(const char *s, size_t len, char key[REPO_KEY_SIZE], day_t *day,
                              uint64_t *hits);

#endif
