/*
 * repofmt: JSON Lines and CSV forms of a repo's counts (see repofmt.h).
 *
 * A small recursive-descent reader over a cursor, for exactly the shape
 * the format has (an object of a string, numbers, a date and one nested
 * object of numbers), not a general JSON library: every accepted input is
 * one ghit can write back.
 */
#include "repofmt.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "ascii.h"
#include "count.h"

/* The longest JSON string accepted: a repo key (the longest) fits. */
#define STRING_MAX 256

struct cursor {
    const char *p, *end;
};

void repofmt_repo_init(struct repofmt_repo *r)
{
    memset(r, 0, sizeof *r);
    r->first_day = REPOFMT_NO_DAY;
    r->latest_day = -1;
}

void repofmt_repo_fini(struct repofmt_repo *r)
{
    free(r->days);
    repofmt_repo_init(r);
}

/* Skips JSON white space. */
static void skip_ws(struct cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

/* Consumes ch (after white space); false if the next byte is not ch. */
static bool eat(struct cursor *c, char ch)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

/*
 * Reads a JSON string into out (STRING_MAX bytes, NUL-terminated). Only
 * ASCII is accepted: names and dates have nothing else.
 */
static const char *read_string(struct cursor *c, char out[STRING_MAX])
{
    if (!eat(c, '"'))
        return "expected a string in double quotes";
    size_t n = 0;
    for (;;) {
        if (c->p >= c->end)
            return "a string is not closed";
        unsigned char ch = (unsigned char)*c->p++;
        if (ch == '"')
            break;
        if (ch < 0x20 || ch >= 0x80)
            return "strings must be printable ASCII";
        if (ch == '\\') {
            if (c->p >= c->end)
                return "a string is not closed";
            char e = *c->p++;
            static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
            const char *k = strchr(from, e);
            if (e && k) {
                ch = (unsigned char)to[k - from];
            } else if (e == 'u' && c->end - c->p >= 4) {
                int v = 0;
                for (int i = 0; i < 4; i++) {
                    int h = ascii_hex_digit((unsigned char)c->p[i]);
                    if (h < 0)
                        return "a \\u escape needs four hex digits";
                    v = v * 16 + h;
                }
                c->p += 4;
                if (v < 0x20 || v >= 0x80)
                    return "strings must be printable ASCII";
                ch = (unsigned char)v;
            } else {
                return "a string holds an unknown escape";
            }
        }
        if (n + 1 >= STRING_MAX)
            return "a string is too long";
        out[n++] = (char)ch;
    }
    out[n] = '\0';
    return NULL;
}

/* Reads a whole number from 0 to COUNT_MAX. */
static const char *read_count(struct cursor *c, uint64_t *out)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == '-')
        return "counts must not be negative";
    if (c->p >= c->end || !ascii_is_digit((unsigned char)*c->p))
        return "expected a whole number";
    if (*c->p == '0' && c->end - c->p > 1 && ascii_is_digit((unsigned char)c->p[1]))
        return "numbers must not begin with 0";
    uint64_t v = 0;
    while (c->p < c->end && ascii_is_digit((unsigned char)*c->p)) {
        unsigned d = (unsigned)(*c->p++ - '0');
        if (v > (COUNT_MAX - d) / 10)
            return "a count is larger than 9223372036854775807";
        v = v * 10 + d;
    }
    if (c->p < c->end && (*c->p == '.' || *c->p == 'e' || *c->p == 'E'))
        return "counts must be whole numbers";
    *out = v;
    return NULL;
}

/* Adds one day to r; one of zero hits goes once check_repo() has seen it is not there twice. */
static void add_day(struct repofmt_repo *r, day_t day, uint64_t hits)
{
    if (r->ndays == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 16;
        r->days = xrealloc(r->days, r->cap * sizeof *r->days);
    }
    r->days[r->ndays++] = (struct store_day){day, hits};
}

/* Reads the "days" object: {"YYYY-MM-DD": N, ...}. */
static const char *read_days(struct cursor *c, struct repofmt_repo *r)
{
    if (!eat(c, '{'))
        return "\"days\" must be an object of \"YYYY-MM-DD\": hits";
    if (eat(c, '}'))
        return NULL;
    do {
        char text[STRING_MAX];
        day_t day;
        uint64_t hits;
        const char *err = read_string(c, text);
        if (err)
            return err;
        if (day_parse(text, &day))
            return "\"days\" holds a key that is not a date YYYY-MM-DD from 1970 on";
        if (!eat(c, ':'))
            return "expected ':' after a day";
        if ((err = read_count(c, &hits)))
            return err;
        if (day > r->latest_day)
            r->latest_day = day;
        add_day(r, day, hits);
    } while (eat(c, ','));
    return eat(c, '}') ? NULL : "expected ',' or '}' in \"days\"";
}

/* Orders days by date. */
static int by_day(const void *a, const void *b)
{
    day_t x = ((const struct store_day *)a)->day, y = ((const struct store_day *)b)->day;
    return (x > y) - (x < y);
}

/* Checks what no single field shows: days in order and unique, their sum, the first day. */
static const char *check_repo(struct repofmt_repo *r)
{
    if (r->ndays > 1)
        qsort(r->days, r->ndays, sizeof *r->days, by_day);
    uint64_t sum = 0;
    size_t kept = 0;
    /*
     * A total at COUNT_MAX stays there while its days go on counting (each
     * count stops at the maximum on its own): what export writes of such a
     * repo reads back.
     */
    bool saturated = r->total == COUNT_MAX;
    for (size_t i = 0; i < r->ndays; i++) {
        if (i && r->days[i].day == r->days[i - 1].day)
            return "a day appears twice in \"days\"";
        if (!saturated && r->days[i].hits > r->total - sum)
            return "the hits in \"days\" add up to more than \"total\"";
        sum = count_add(sum, r->days[i].hits);
        if (r->days[i].hits) /* a day of no hits: nothing to keep */
            r->days[kept++] = r->days[i];
    }
    r->ndays = kept;
    if (r->first_day != REPOFMT_NO_DAY && r->ndays && r->first_day > r->days[0].day)
        return "\"first_day\" is later than a day in \"days\"";
    return NULL;
}

const char *repofmt_parse_json(const char *s, size_t len, enum repofmt_need need,
                               struct repofmt_repo *r)
{
    repofmt_repo_fini(r);
    struct cursor c = {s, s + len};
    enum { F_REPO = 1, F_TOTAL = 2, F_FIRST = 4, F_DAYS = 8 };
    unsigned seen = 0;
    const char *err = NULL;
    if (!eat(&c, '{'))
        return "expected a JSON object: {\"total\": N, ...}";
    if (!eat(&c, '}')) {
        do {
            char name[STRING_MAX], text[STRING_MAX];
            if ((err = read_string(&c, name)))
                return err;
            if (!eat(&c, ':'))
                return "expected ':' after a field name";
            unsigned f = strcmp(name, "repo") == 0        ? F_REPO
                         : strcmp(name, "total") == 0     ? F_TOTAL
                         : strcmp(name, "first_day") == 0 ? F_FIRST
                         : strcmp(name, "days") == 0      ? F_DAYS
                                                          : 0;
            if (!f)
                return "unknown field: the fields are repo, total, first_day and days";
            if (seen & f)
                return "a field appears twice";
            seen |= f;
            if (f == F_REPO) {
                if (need == REPOFMT_WITHOUT_REPO)
                    return "\"repo\" is not taken here: the repo is in the URL";
                if ((err = read_string(&c, text)) ||
                    (err = repo_key_parse(text, strlen(text), r->key)))
                    return err;
            } else if (f == F_TOTAL) {
                if ((err = read_count(&c, &r->total)))
                    return err;
            } else if (f == F_FIRST) {
                if ((err = read_string(&c, text)))
                    return err;
                if (day_parse(text, &r->first_day))
                    return "\"first_day\" is not a date YYYY-MM-DD from 1970 on";
            } else if ((err = read_days(&c, r))) {
                return err;
            }
        } while (eat(&c, ','));
        if (!eat(&c, '}'))
            return "expected ',' or '}' after a field";
    }
    skip_ws(&c);
    if (c.p != c.end)
        return "text after the end of the object";
    if (need == REPOFMT_WITH_REPO && !(seen & F_REPO))
        return "\"repo\" is missing";
    if (!(seen & F_TOTAL))
        return "\"total\" is missing";
    return check_repo(r);
}

const char *repofmt_check_today(const struct repofmt_repo *r, day_t today)
{
    if (r->first_day != REPOFMT_NO_DAY && r->first_day > today)
        return "\"first_day\" is after today (UTC): counts are of views that happened";
    if (r->latest_day > today)
        return "\"days\" holds a day after today (UTC): counts are of views that happened";
    return NULL;
}

const char *repofmt_check_day(day_t day, day_t today)
{
    return day != REPOFMT_NO_DAY && day > today
               ? "the day is after today (UTC): counts are of views that happened"
               : NULL;
}

void repofmt_format_json(struct buf *out, const struct store_repo *r)
{
    char day[DAY_TEXT_SIZE];
    day_format(r->first_day, day);
    buf_printf(out, "{\"repo\":\"%s\",\"total\":%" PRIu64 ",\"first_day\":\"%s\",\"days\":{",
               r->key, r->total, day);
    for (size_t i = 0; i < r->ndays; i++) {
        day_format(r->days[i].day, day);
        buf_printf(out, "%s\"%s\":%" PRIu64, i ? "," : "", day, r->days[i].hits);
    }
    buf_puts(out, "}}\n");
}

void repofmt_format_csv(struct buf *out, const struct store_repo *r)
{
    uint64_t sum = 0; /* at most COUNT_MAX, like the total, which then stays there */
    for (size_t i = 0; i < r->ndays; i++)
        sum = count_add(sum, r->days[i].hits);
    /* First, as an empty day sorts first; also the row that keeps a repo with no hits at all. */
    if (r->total > sum || r->ndays == 0)
        buf_printf(out, "%s,,%" PRIu64 "\n", r->key, r->total - sum);
    char day[DAY_TEXT_SIZE];
    for (size_t i = 0; i < r->ndays; i++) {
        day_format(r->days[i].day, day);
        buf_printf(out, "%s,%s,%" PRIu64 "\n", r->key, day, r->days[i].hits);
    }
}

const char *repofmt_parse_csv(const char *s, size_t len, char key[REPO_KEY_SIZE], day_t *day,
                              uint64_t *hits)
{
    const char *c1 = memchr(s, ',', len);
    const char *c2 = c1 ? memchr(c1 + 1, ',', len - (size_t)(c1 + 1 - s)) : NULL;
    if (!c2)
        return "expected three fields: repo,day,hits";
    const char *err = repo_key_parse(s, (size_t)(c1 - s), key);
    if (err)
        return err;
    size_t dlen = (size_t)(c2 - c1 - 1);
    *day = REPOFMT_NO_DAY;
    if (dlen) {
        char text[DAY_TEXT_SIZE + 1];
        if (dlen >= sizeof text)
            return "the day is not a date YYYY-MM-DD from 1970 on";
        memcpy(text, c1 + 1, dlen);
        text[dlen] = '\0';
        if (day_parse(text, day))
            return "the day is not a date YYYY-MM-DD from 1970 on";
    }
    struct cursor c = {c2 + 1, s + len};
    if (c.p >= c.end || *c.p == ' ' || *c.p == '\t')
        return "expected a whole number of hits";
    if ((err = read_count(&c, hits)))
        return err;
    return c.p == c.end ? NULL : "text after the hits";
}
