/*
 * import2015: what a key of a 2015 ghit.me Redis is, and which ghit repo a
 * 2015 name stands for (issue 8, ghit import-2015). Pure.
 *
 * 2015 wrote repo:<m> (a total), repo:<YYYY-MM-DD>:<m> (a day's count),
 * and the sets repos and repos:<YYYY-MM-DD>, with m the raw ?repo= value
 * as nginx's set_escape_uri escaped it (shared/design/redis.md, 2.1). ghit
 * folds case and reads the value percent-decoded, so several 2015 names
 * are one ghit repo; the rule is design 2.2's:
 * canonical(m) = fold(validate(decode(decode(m)))).
 */
#ifndef GHIT_IMPORT2015_H
#define GHIT_IMPORT2015_H

#include <stddef.h>

#include "day.h"
#include "repo_key.h"

enum import2015_kind {
    IMPORT2015_OTHER, /* neither 2015's nor ghit's: left alone */
    IMPORT2015_TOTAL, /* repo:<m> */
    IMPORT2015_DAY,   /* repo:<day>:<m> */
    IMPORT2015_SET,   /* repos or repos:<day> */
    IMPORT2015_GHIT,  /* ghit:...: ghit's own (an import's ledger, ghit:epoch), never 2015's */
};

/* A classified key: member points into the key given, member_len bytes. */
struct import2015_key {
    enum import2015_kind kind;
    day_t day;          /* DAY, and SET of one day */
    int has_day;        /* SET: repos:<day> rather than repos */
    const char *member; /* TOTAL and DAY */
    size_t member_len;
};

/*
 * Classifies the len bytes of key (any bytes, NULs too) into *out. A day
 * that is not a real date (repo:2015-13-45:x) makes the key a total of the
 * member "2015-13-45:x", which is never a valid repo, so it is listed as
 * invalid rather than lost.
 */
void import2015_classify(const char *key, size_t len, struct import2015_key *out);

/*
 * The ghit key of the 2015 member m (len bytes, any bytes) into key:
 * NULL, or why ghit would have refused that name (a message for a list of
 * names that are skipped).
 */
const char *import2015_canonical(const char *m, size_t len, char key[REPO_KEY_SIZE]);

#endif
