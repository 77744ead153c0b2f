/*
 * Fuzz target: the import line and PUT body parser, and the CSV row parser
 * (repofmt), on arbitrary bytes.
 *
 * Checks contracts, not only the absence of crashes: an accepted object has
 * days sorted, unique, non-zero and within its total, a first day not after
 * them; written back and parsed again it gives the same repo, and writing
 * that again gives the same bytes (what makes export, import and export
 * round trips exact).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "count.h"
#include "repofmt.h"

/* Aborts unless r keeps the parser's promises. */
static void check_repo(const struct repofmt_repo *r)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < r->ndays; i++) {
        if (r->days[i].hits == 0 || (i && r->days[i].day <= r->days[i - 1].day))
            abort();
        sum += r->days[i].hits;
    }
    if (sum > r->total || r->total > COUNT_MAX)
        abort();
    if (r->first_day != REPOFMT_NO_DAY && r->ndays && r->first_day > r->days[0].day)
        abort();
}

/* Writes r as JSON (with key and a first day) into out. */
static void write_back(struct buf *out, const struct repofmt_repo *r)
{
    struct store_repo sr = {r->key[0] ? r->key : "a/b", r->total,
                            r->first_day != REPOFMT_NO_DAY ? r->first_day
                            : r->ndays                     ? r->days[0].day
                                                           : 0,
                            r->days, r->ndays};
    buf_reset(out);
    repofmt_format_json(out, &sr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct repofmt_repo r, again;
    repofmt_repo_init(&r);
    repofmt_repo_init(&again);
    struct buf one, two;
    buf_init(&one);
    buf_init(&two);
    for (int need = 0; need < 2; need++) {
        if (repofmt_parse_json(s, size, (enum repofmt_need)need, &r))
            continue;
        check_repo(&r);
        write_back(&one, &r);
        if (repofmt_parse_json(one.data, one.len, REPOFMT_WITH_REPO, &again))
            abort();
        check_repo(&again);
        write_back(&two, &again);
        if (one.len != two.len || memcmp(one.data, two.data, one.len) != 0)
            abort();
    }
    char key[REPO_KEY_SIZE];
    day_t day;
    uint64_t hits;
    if (!repofmt_parse_csv(s, size, key, &day, &hits) && hits > COUNT_MAX)
        abort();
    repofmt_repo_fini(&r);
    repofmt_repo_fini(&again);
    buf_fini(&one);
    buf_fini(&two);
    return 0;
}
