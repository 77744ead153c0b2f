/* Unit tests of fold: journal rows summed by (repo, day), given back in key order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "fold.h"
#include "test.h"

static void check_row(const struct store_delta *d, const char *key, day_t day, uint64_t hits)
{
    CHECK_STR(d->key, key);
    CHECK_INT(d->day, day);
    CHECK_INT(d->hits, hits);
}

static void sums_by_repo_and_day_in_key_order(void)
{
    struct fold *f = fold_new();
    /* "a/b" and "a/bc": a name that is a prefix of another sorts first, as in SQLite. */
    fold_add(f, "a/bc", 4, 20, 1);
    fold_add(f, "a/b", 3, 21, 2);
    fold_add(f, "a/b", 3, 20, 3);
    fold_add(f, "a/bcXYZ", 4, 20, 4); /* only its first len bytes are the name */
    fold_add(f, "a/b", 3, 21, 5);
    CHECK_INT(fold_count(f), 3);
    size_t n = 0;
    const struct store_delta *d = fold_sorted(f, &n);
    CHECK_INT(n, 3);
    check_row(&d[0], "a/b", 20, 3);
    check_row(&d[1], "a/b", 21, 7);
    check_row(&d[2], "a/bc", 20, 5);
    fold_free(f);
}

/* The sums by repo replace the days': the first day, all hits, the order kept. */
static void sums_by_repo_take_the_days_place(void)
{
    struct fold *f = fold_new();
    fold_add(f, "b/c", 3, 22, 1);
    fold_add(f, "a/b", 3, 21, 2);
    fold_add(f, "a/b", 3, 20, 3);
    fold_add(f, "a/bc", 4, 23, 4);
    fold_add(f, "b/c", 3, 19, 5);
    fold_add(f, "a/b", 3, 21, 6);
    size_t n = 0;
    fold_sorted(f, &n);
    CHECK_INT(n, 5);
    const struct store_delta *d = fold_by_repo(f, &n);
    CHECK_INT(n, 3);
    CHECK_INT(fold_count(f), 3);
    check_row(&d[0], "a/b", 20, 11);
    check_row(&d[1], "a/bc", 23, 4);
    check_row(&d[2], "b/c", 19, 6);
    size_t again = 0;
    CHECK(fold_sorted(f, &again) == d && again == 3);
    fold_free(f);
}

static void empty_fold_has_no_rows(void)
{
    struct fold *f = fold_new();
    size_t n = 99;
    fold_sorted(f, &n);
    CHECK_INT(n, 0);
    n = 99;
    fold_by_repo(f, &n);
    CHECK_INT(n, 0);
    fold_free(f);
    fold_free(NULL);
}

/* Many names over the table's growth: every sum kept, the order strict. */
static void many_rows_keep_every_sum(void)
{
    enum { REPOS = 50000, DAYS = 3, ROUNDS = 4 };
    struct fold *f = fold_new();
    char name[32];
    for (int r = 0; r < ROUNDS; r++)
        for (int i = 0; i < REPOS; i++)
            for (int day = 0; day < DAYS; day++) {
                int len = snprintf(name, sizeof name, "o/r%d", (i * 7919) % REPOS);
                fold_add(f, name, (size_t)len, 100 + day, (uint64_t)(day + 1));
            }
    size_t n = 0;
    const struct store_delta *d = fold_sorted(f, &n);
    CHECK_INT(n, REPOS * DAYS);
    uint64_t sum = 0;
    int wrong = 0;
    for (size_t i = 0; i < n; i++) {
        sum += d[i].hits;
        if (d[i].hits != (uint64_t)ROUNDS * (uint64_t)(d[i].day - 99))
            wrong++;
        if (i && (strcmp(d[i - 1].key, d[i].key) > 0 ||
                  (strcmp(d[i - 1].key, d[i].key) == 0 && d[i - 1].day >= d[i].day)))
            wrong++;
    }
    CHECK_INT(wrong, 0);
    CHECK_INT(sum, (uint64_t)ROUNDS * REPOS * (1 + 2 + 3));
    d = fold_by_repo(f, &n);
    CHECK_INT(n, REPOS);
    for (size_t i = 0; i < n; i++)
        if (d[i].day != 100 || d[i].hits != (uint64_t)ROUNDS * (1 + 2 + 3) ||
            (i && strcmp(d[i - 1].key, d[i].key) >= 0))
            wrong++;
    CHECK_INT(wrong, 0);
    fold_free(f);
}

/*
 * Names of every length from 1 to 300 (entries are padded to 4 bytes in the
 * arena): each comes back whole, NUL-terminated at its length, with its sum.
 */
static void names_of_every_length_come_back_whole(void)
{
    enum { LONGEST = 300 };
    char name[LONGEST + 8];
    struct fold *f = fold_new();
    for (int round = 0; round < 2; round++)
        for (int len = LONGEST; len >= 1; len--) {
            memset(name, 'a' + len % 26, sizeof name); /* bytes past len must not count */
            fold_add(f, name, (size_t)len, 7, (uint64_t)len);
        }
    size_t n = 0;
    const struct store_delta *d = fold_sorted(f, &n);
    int wrong = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(d[i].key);
        if (d[i].hits != 2 * len || d[i].day != 7)
            wrong++;
        for (size_t j = 0; j < len; j++)
            wrong += d[i].key[j] != 'a' + (int)(len % 26);
    }
    CHECK_INT(n, LONGEST);
    CHECK_INT(wrong, 0);
    fold_free(f);
}

/*
 * The sort compares the first 16 bytes as numbers, then the rest: names
 * around that length, sharing long prefixes or bytes above 0x7f, come back
 * in the order strcmp() (and SQLite's BINARY) gives, each once.
 */
static void order_is_bytewise_around_sixteen_bytes(void)
{
    static const char *const heads[] = {"",
                                        "a",
                                        "0123456789abcde",
                                        "0123456789abcdef",
                                        "0123456789abcdef0",
                                        "0123456789abcdeg",
                                        "\xff\x80",
                                        "\x80"};
    static const char *const tails[] = {"", "a", "b", "\xff", "aa", "0123456789"};
    enum { H = sizeof heads / sizeof heads[0], T = sizeof tails / sizeof tails[0] };
    struct fold *f = fold_new();
    char name[64];
    size_t want = 0;
    for (int day = 3; day >= 1; day -= 2)
        for (size_t t = T; t-- > 0;)
            for (size_t h = 0; h < H; h++) {
                int len = snprintf(name, sizeof name, "%s%s", heads[h], tails[t]);
                if (len == 0)
                    continue;
                fold_add(f, name, (size_t)len, day, 1);
                want++;
            }
    size_t n = 0;
    const struct store_delta *d = fold_sorted(f, &n);
    /* Two names come twice a day: "" + "a" and "a" + "", "" + "aa" and "a" + "a". */
    CHECK_INT(n, want - 4);
    int wrong = 0;
    for (size_t i = 1; i < n; i++) {
        int c = strcmp(d[i - 1].key, d[i].key);
        if (c > 0 || (c == 0 && d[i - 1].day >= d[i].day))
            wrong++;
    }
    CHECK_INT(wrong, 0);
    CHECK_STR(d[0].key, "0123456789");
    CHECK_STR(d[n - 1].key, "\xff\x80\xff");
    fold_free(f);
}

/*
 * fold_order() sorts deltas as fold_sorted() sorts sums, names around 16
 * bytes and days included, and keeps every delta, equal ones too.
 */
static void order_sorts_deltas_as_the_sums(void)
{
    static const char *const heads[] = {"a", "0123456789abcde", "0123456789abcdef",
                                        "0123456789abcdef0", "\xff\x80"};
    static const char *const tails[] = {"", "b", "\xff", "0123456789"};
    enum { H = sizeof heads / sizeof heads[0], T = sizeof tails / sizeof tails[0] };
    static char names[H * T][64];
    struct store_delta d[2 * H * T + 1];
    size_t n = 0;
    for (int day = 3; day >= 1; day -= 2)
        for (size_t t = T; t-- > 0;)
            for (size_t h = H; h-- > 0;) {
                char *name = names[t * H + h];
                snprintf(name, sizeof names[0], "%s%s", heads[h], tails[t]);
                d[n++] = (struct store_delta){name, day, t * H + h + 1};
            }
    d[n++] = (struct store_delta){names[0], 1, 1000}; /* the same (key, day) twice */
    struct order_room room = {0};
    const struct store_delta *o = fold_order(d, n, &room);
    int wrong = 0;
    uint64_t hits = 0;
    for (size_t i = 0; i < n; i++) {
        hits += o[i].hits;
        if (i == 0)
            continue;
        int c = strcmp(o[i - 1].key, o[i].key);
        if (c > 0 || (c == 0 && o[i - 1].day > o[i].day))
            wrong++;
    }
    CHECK_INT(wrong, 0);
    CHECK_INT(hits, (uint64_t)(H * T) * (H * T + 1) + 1000);
    CHECK_STR(o[0].key, "0123456789abcde");
    CHECK_INT(o[0].day, 1);
    CHECK_STR(o[n - 1].key, "\xff\x80\xff");
    CHECK_INT(o[n - 1].day, 3);
    order_room_fini(&room);
}

/*
 * fold_order() over random deltas of every count around its sort's runs
 * of 16 and merges: each comes out in order, once and unchanged.
 */
static void order_sorts_every_count(void)
{
    static const size_t counts[] = {0, 1, 2, 15, 16, 17, 31, 33, 100, 1000, 4097};
    static char names[4097][24];
    static struct store_delta d[4097];
    struct order_room room = {0}; /* one room for every count, as a flusher keeps it */
    enum { C = sizeof counts / sizeof counts[0] };
    srand(7);
    /* Up the counts, then down: the room grows, then serves smaller calls. */
    for (size_t c = 0; c < 2 * C; c++) {
        size_t n = counts[c < C ? c : 2 * C - 1 - c];
        uint64_t hits = 0;
        for (size_t i = 0; i < n; i++) {
            /* Few names, so that equal ones meet; some past the 16 bytes of a prefix. */
            snprintf(names[i], sizeof names[0], "%s%d", rand() % 2 ? "o/" : "0123456789abcdef/",
                     rand() % 50);
            d[i] = (struct store_delta){names[i], 1 + rand() % 3, 1 + (uint64_t)(rand() % 9)};
            hits += d[i].hits;
        }
        const struct store_delta *o = fold_order(d, n, &room);
        /* Every delta once, as it went in: each has a name buffer of its own. */
        static unsigned char seen[4097];
        memset(seen, 0, sizeof seen);
        size_t wrong = 0, changed = 0;
        for (size_t i = 0; i < n; i++) {
            hits -= o[i].hits;
            if (i > 0 && fold_delta_cmp(&o[i - 1], &o[i]) > 0)
                wrong++;
            size_t at = (size_t)(o[i].key - names[0]) / sizeof names[0];
            if (at >= n || o[i].key != names[at] || seen[at]++ || o[i].day != d[at].day ||
                o[i].hits != d[at].hits)
                changed++;
        }
        CHECK_INT(wrong, 0);
        CHECK_INT(changed, 0);
        CHECK_INT(hits, 0);
    }
    order_room_fini(&room);
}

/*
 * The room a burst of deltas needed (more than fold_order() keeps) is given
 * back by the next call that needs less, which still sorts.
 */
static void order_gives_back_a_bursts_room(void)
{
    enum { BURST = 300000 };
    static const char *const names[] = {"c/c", "a/a", "b/b"};
    struct store_delta *d = xmalloc(BURST * sizeof *d);
    for (size_t i = 0; i < BURST; i++)
        d[i] = (struct store_delta){names[i % 3], 1, 1};
    struct order_room room = {0};
    const struct store_delta *o = fold_order(d, BURST, &room);
    CHECK_INT(room.cap, BURST);
    CHECK_STR(o[0].key, "a/a");
    CHECK_STR(o[BURST - 1].key, "c/c");
    o = fold_order(d, 3, &room);
    CHECK_INT(room.cap, 3);
    CHECK_STR(o[0].key, "a/a");
    CHECK_STR(o[1].key, "b/b");
    CHECK_STR(o[2].key, "c/c");
    order_room_fini(&room);
    free(d);
}

/*
 * fold_order()'s room grows a quarter beyond what a call needs, never past
 * what it keeps: a flush a little larger than the last one sorts in the
 * room it has.
 */
static void order_room_grows_with_a_margin(void)
{
    enum { KEEP = 262144 };
    static const char *const names[] = {"b/b", "a/a"};
    struct store_delta *d = xmalloc(KEEP * sizeof *d);
    for (size_t i = 0; i < KEEP; i++)
        d[i] = (struct store_delta){names[i % 2], 1, 1};
    struct order_room room = {0};
    fold_order(d, 1000, &room);
    CHECK_INT(room.cap, 1250);
    const struct delta_order *order = room.order;
    const struct store_delta *o = fold_order(d, 1250, &room);
    CHECK(room.order == order);
    CHECK_INT(room.cap, 1250);
    CHECK_STR(o[0].key, "a/a");
    CHECK_STR(o[1249].key, "b/b");
    fold_order(d, 1251, &room);
    CHECK_INT(room.cap, 1563);
    fold_order(d, KEEP - 1, &room);
    CHECK_INT(room.cap, KEEP);
    order = room.order;
    o = fold_order(d, KEEP, &room);
    CHECK(room.order == order);
    CHECK_STR(o[KEEP / 2 - 1].key, "a/a");
    CHECK_STR(o[KEEP / 2].key, "b/b");
    order_room_fini(&room);
    free(d);
}

/* A NUL inside a name (against fold.h's rule) compares as a byte and reads nothing past it. */
static void a_nul_in_a_name_stays_inside_it(void)
{
    static const char longer[] = "a\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0z";
    struct fold *f = fold_new();
    fold_add(f, longer, sizeof longer - 1, 1, 1);
    fold_add(f, "a", 1, 1, 2);
    fold_add(f, "a\0b", 3, 1, 3);
    size_t n = 0;
    const struct store_delta *d = fold_sorted(f, &n);
    CHECK_INT(n, 3);
    CHECK_INT(d[0].hits, 2); /* "a", a prefix of both */
    CHECK_INT(d[1].hits, 1); /* then "a" NUL NUL ..., whose second NUL is below "b" */
    CHECK_INT(d[2].hits, 3);
    fold_free(f);
}

int main(void)
{
    RUN(sums_by_repo_and_day_in_key_order);
    RUN(sums_by_repo_take_the_days_place);
    RUN(empty_fold_has_no_rows);
    RUN(many_rows_keep_every_sum);
    RUN(names_of_every_length_come_back_whole);
    RUN(order_is_bytewise_around_sixteen_bytes);
    RUN(a_nul_in_a_name_stays_inside_it);
    RUN(order_sorts_deltas_as_the_sums);
    RUN(order_sorts_every_count);
    RUN(order_gives_back_a_bursts_room);
    RUN(order_room_grows_with_a_margin);
    return test_main_end("fold");
}
