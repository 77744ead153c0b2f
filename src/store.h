/*
 * store: where counts live between runs. One interface, one file per backend.
 *
 * The counting code sees only this struct of function pointers; SQLite
 * (store_sqlite.c, the embedded default) sits behind it, and Redis
 * (store_redis.c, shared by several ghit frontends, issue 8) the same way. A backend is used by one
 * thread at a time (the main thread at start-up, then the flusher): calls
 * need no locking of their own.
 *
 * Results are a small enum; the caller decides what a failure means to a
 * user (the flusher keeps the deltas and retries, start-up refuses to run).
 * Every function that can fail writes a message into the caller's err
 * buffer that says what happened and, where it can, what to do.
 */
#ifndef GHIT_STORE_H
#define GHIT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "day.h"

enum store_result {
    STORE_OK,
    STORE_RETRY, /* could not write now (locked, disk full, I/O error, unreachable): try again */
    STORE_FAILED /* will not work by retrying (not ghit's database, corrupt, bad argument) */
};

/* Hits to add for one repo on one day. */
struct store_delta {
    const char *key;
    day_t day;
    uint64_t hits;
};

/* The hits of the n deltas at d, saturating at COUNT_MAX. */
uint64_t store_deltas_hits(const struct store_delta *d, size_t n);

/* A first day a shared store's apply did not read: keep the one known (COUNTER_NO_DAY too). */
#define STORE_NO_DAY ((day_t)-1)

/* One repo as the store has it. */
struct store_row {
    const char *key;
    uint64_t total;
    day_t first_day;   /* or, reported by apply, STORE_NO_DAY */
    uint64_t day_hits; /* hits on the day asked about */
};

/* Receives rows; the strings in row live only for the call. */
typedef void store_row_fn(void *arg, const struct store_row *row);

/* Receives one key asked for by load: its row, or NULL if the store does not have it. */
typedef void store_load_fn(void *arg, const char *key, const struct store_row *row);

/* Receives one repo another writer changed. */
typedef void store_change_fn(void *arg, const char *key);

/* Where a reader of changes stands (an opaque position in the store's feed). */
#define STORE_CURSOR_SIZE 48

/* --- whole repos: set, delete, export and import (issue 10) --- */

/* Hits of one repo on one day. */
struct store_day {
    day_t day;
    uint64_t hits;
};

/* One repo's counts in full. */
struct store_repo {
    const char *key;
    uint64_t total; /* at least the sum of days: hits may have no day (a carried-over total) */
    day_t first_day;
    const struct store_day *days; /* sorted by day, no zero hits */
    size_t ndays;
};

enum store_put_mode {
    STORE_PUT_SET,   /* the repo's counts become repo's, its old history goes */
    STORE_PUT_ADD,   /* repo's counts are added to the repo's (first_day: the earlier) */
    STORE_PUT_DELETE /* the repo and its history go (repo.key only) */
};

/* A change to one repo as a whole. */
struct store_put {
    enum store_put_mode mode;
    struct store_repo repo;
    /*
     * The change's number, from 1, the same when a failed write is made
     * again with it; 0: none. A shared store (Redis) that may have written
     * it already then only sends again the copy it sent (exactly once).
     */
    uint64_t id;
};

/* Receives repos; what repo points to lives only for the call. */
typedef void store_repo_fn(void *arg, const struct store_repo *repo);
/* One repo of a top list: its hits over the days asked about (issue 9). */
struct store_top_row {
    const char *key;
    uint64_t hits;     /* summed over the range */
    uint64_t last_day; /* of which on the range's last day */
};

/* Receives top rows, most hits first; the strings live only for the call. */
typedef void store_top_fn(void *arg, const struct store_top_row *row);

/* The most days one history call answers (a year and a day, leap years included). */
#define STORE_HISTORY_MAX_DAYS 366

struct store;

/* What a store has done since it was opened; for logs and metrics. */
struct store_stats {
    uint64_t journal_rows;      /* deltas written durably by apply */
    uint64_t merged_rows;       /* of those, folded into the final form (SQLite: the tables) */
    uint64_t backlog_rows;      /* written and not folded yet (now) */
    uint64_t ambiguous_commits; /* COMMITs that reported an error but had reached the file */
    uint64_t merge_ms;          /* time spent folding */
    uint64_t merges;            /* batches folded (merged_rows / merges: the batches' size) */
};

struct store_ops {
    const char *name;
    /*
     * Shared with other processes (Redis): apply reports its figures, and
     * serve starts even if scan cannot reach the store yet.
     */
    bool shared;
    /* Calls fn for every repo, with its hits on day. */
    enum store_result (*scan)(struct store *s, day_t day, store_row_fn *fn, void *arg, char *err,
                              size_t errlen);
    /*
     * Adds n deltas, all or none, recording each repo among all repos and
     * among its day's repos. A shared store may report its new figures for
     * today through fn (others' hits included); a store whose figures are
     * this process's own reports nothing. Called by the flusher only.
     */
    enum store_result (*apply)(struct store *s, const struct store_delta *d, size_t n, day_t today,
                               store_row_fn *fn, void *arg, char *err, size_t errlen);
    /*
     * Whether a write could be made now, without writing anything: lets the
     * flusher keep /healthz true while no hits arrive. Called by the
     * flusher only.
     */
    enum store_result (*check)(struct store *s, char *err, size_t errlen);
    /*
     * Optional: makes every later apply durable against a power cut too, not
     * only a crash of ghit (durable mode; SQLite: synchronous=FULL, an fsync
     * per write). Called before the flusher starts.
     */
    void (*set_durable)(struct store *s);
    /*
     * Optional, a shared store's (issue 8): reads the figures of n keys on
     * day, calling fn once for each key, in order. For the loader of a
     * frontend's cache, on a store of its own.
     */
    enum store_result (*load)(struct store *s, const char *const *keys, size_t n, day_t day,
                              store_load_fn *fn, void *arg, char *err, size_t errlen);
    /*
     * Optional, a shared store's (issue 8): calls fn for every repo a writer
     * other than own (an id of store_redis_frontend_id) changed after cursor,
     * waiting at most wait_ms for one, and moves cursor on. An empty cursor is set to now. *lost:
     * changes after cursor are no longer kept (the reader fell too far behind): any repo may have
     * changed. *behind: there are more changes to read at once.
     */
    enum store_result (*changes)(struct store *s, char cursor[STORE_CURSOR_SIZE], unsigned wait_ms,
                                 const char *own, store_change_fn *fn, void *arg, bool *lost,
                                 bool *behind, char *err, size_t errlen);
    /* Optional: fills *out. Called by the flusher only. */
    void (*stats)(struct store *s, struct store_stats *out);
    /*
     * Makes n puts, in order, then adds nd deltas, all in one transaction
     * or none of it (issue 10: set, delete, import). Called by the flusher,
     * or by a command that holds the store alone.
     *
     * Redis has no transaction that size: it applies the puts, then the
     * deltas, in chunks (about 1,000 puts or days each), each chunk atomic
     * and exactly once (store_redis.c), while frontends write beside it. A
     * write that fails part way (STORE_RETRY: Redis stalled or went away)
     * has applied a prefix of its chunks, in order, and may apply the one
     * in doubt later. Made again with the same puts (the same ids) and
     * deltas on the same store, it finishes the rest without applying a
     * chunk twice; a command that gives up has left that prefix written.
     */
    enum store_result (*write)(struct store *s, const struct store_put *p, size_t n,
                               const struct store_delta *d, size_t nd, char *err, size_t errlen);
    /*
     * Calls fn for every repo in byte order of key, with its whole history,
     * all read from one consistent snapshot (issue 10: export). Works on a
     * store opened read-only, while a server writes.
     *
     * Redis has no such snapshot. It gives the repos in repos when the
     * export began, each read whole at one instant (total, first day and
     * days together, in a MULTI of about 1,000 repos), so each repo's total
     * is at least the sum of its days; but repos are read at different
     * instants. A repo made after the export began is left out, one deleted
     * before its read is left out, and a day first written after the days
     * were listed is missing unless it is today.
     */
    enum store_result (*export)(struct store *s, store_repo_fn *fn, void *arg, char *err,
                                size_t errlen);
    void (*close)(struct store *s);

    /*
     * Statistics (issue 9). Answered from the store's indexes, never by
     * scanning every repo, so a reader can ask them per HTTP request.
     */
    /* One repo's figures: total, first day and hits on day; *found false if unknown. */
    enum store_result (*get)(struct store *s, const char *key, day_t day, struct store_row *out,
                             int *found, char *err, size_t errlen);
    /*
     * hits[i] = key's hits on day from + i, for every day from..to (at most
     * STORE_HISTORY_MAX_DAYS of them); days without hits are 0.
     */
    enum store_result (*history)(struct store *s, const char *key, day_t from, day_t to,
                                 uint64_t *hits, char *err, size_t errlen);
    /* The limit repos with most hits summed over from..to, most first, ties by name. */
    enum store_result (*top)(struct store *s, day_t from, day_t to, size_t limit, store_top_fn *fn,
                             void *arg, char *err, size_t errlen);
    /* How many repos, and their hits in total (reads every repo: for the CLI, not per request). */
    enum store_result (*summary)(struct store *s, uint64_t *repos, uint64_t *hits, char *err,
                                 size_t errlen);
    /*
     * A short, fixed name for the cause of the last failure ("busy", "full",
     * "ioerr", ...), for metrics labels; never NULL.
     */
    const char *(*cause)(struct store *s);
    /*
     * Makes a statistics read running on s in another thread give up soon,
     * failed, so that a stop need not wait for it; safe from any thread
     * while s is open. Reads begun later may fail too: s is for closing.
     */
    void (*interrupt)(struct store *s);
};

struct store {
    const struct store_ops *ops;
};

/*
 * Opens the store that where names: a file path (SQLite, made if missing
 * or empty).
 * Returns NULL with a message in err if it cannot be opened or is not
 * ghit's. Close with store_close().
 */
struct store *store_open(const char *where, char *err, size_t errlen);
/*
 * store_open() for a command that changes an existing store (set, delete):
 * a SQLite file must exist and be ghit's already; nothing is made. The
 * check is the open itself, not a look at the path before it. Redis opens
 * as with store_open().
 */
struct store *store_open_existing(const char *where, char *err, size_t errlen);
void store_close(struct store *s);

/*
 * Whether another process writes the store at where now (a running ghit
 * serve, or a command writing directly): its writer's lock is held.
 */
bool store_is_busy(const char *where);
bool store_sqlite_is_busy(const char *path);

/*
 * Opens where for reading only (ghit render): nothing is made or changed,
 * and apply must not be called.
 */
struct store *store_open_readonly(const char *where, char *err, size_t errlen);

/*
 * Opens where for the statistics queries of one more thread while a writer
 * (ghit serve) has it open: read-only, checked to be ghit's but without
 * the writer's slower integrity check. Works beside a running server
 * (SQLite's WAL lets readers run beside the writer; Redis: a connection
 * that only reads). Close with store_close().
 */
struct store *store_open_reader(const char *where, char *err, size_t errlen);

/*
 * store_open_reader() for ghit serve's own statistics. Its SQLite reader
 * reads a repo's figures and history from the tables, not also from the
 * journal's rows not merged yet: the journal has no index by repo, so that
 * read scans every such row (some 80 ms a million, the backlog of the
 * heaviest load) on each /chart.svg or /days request. The server needs
 * none of it: it holds every repo's total and today's hits in memory, and
 * a past day's rows are merged seconds after midnight (store_sqlite.c,
 * past_day()). Its top lists, one at a time, still read the journal.
 */
struct store *store_open_server_reader(const char *where, char *err, size_t errlen);

/*
 * A command's write (set, delete, import): s->ops->write, made again, with
 * the same puts, up to a few times over some seconds while a shared store
 * answers STORE_RETRY (a Redis that stalled or dropped the connection), so
 * that a chunk in doubt is resolved, exactly once, rather than left half
 * done. Puts without an id are given ids 1, 2, ... first (p is changed).
 */
enum store_result store_write(struct store *s, struct store_put *p, size_t n, char *err,
                              size_t errlen);

/*
 * The Redis backend (issue 8): where is redis://[[USER]:PASSWORD@]HOST[:PORT][/N]
 * or unix:///PATH[?db=N] (redis_url.h). Open starts even if Redis cannot be
 * reached (it connects at the next write), and refuses a Redis that holds
 * data that is not ghit's, or refuses its password. It has every
 * operation; its readers (store_open_reader) are read-only connections.
 */
struct store *store_redis_open(const char *where, char *err, size_t errlen);
struct store *store_redis_open_readonly(const char *where, char *err, size_t errlen);
/* For a cache's loader: read-only, and connects at its first call (Redis may be down now). */
struct store *store_redis_open_loader(const char *where, char *err, size_t errlen);

/*
 * Makes loader expect the ghit:epoch that writer (both Redis stores, before
 * either runs in a thread) has learnt, if any: a Redis wiped before the
 * loader's first read is then refused, not read as a store without repos.
 */
void store_redis_expect_epoch(struct store *loader, struct store *writer);

/* The id under which s (a Redis store) writes now: its changes in the feed carry it. */
const char *store_redis_frontend_id(struct store *s);

struct spool;
struct spool_chunks;

/* Writes the chunks of s (a Redis store) ahead into sp's chunks file (spool.h). */
void store_redis_use_spool(struct store *s, struct spool *sp);

/* What names s's Redis in a spool: host, port and database (or socket), no password. */
void store_redis_spool_name(struct store *s, char *out, size_t n);

/*
 * Takes over what a crashed process left in a spool: its frontend id,
 * numbers and owed chunks, sent again before anything new. 0, or -1 with a
 * message in err.
 */
int store_redis_restore(struct store *s, const struct spool_chunks *c, char *err, size_t errlen);

/* Makes scan of s (a Redis store) stop after about n repos (a warm-up of a cache of n). */
void store_redis_scan_limit(struct store *s, size_t n);

/*
 * ghit redis init: makes ghit:epoch on an empty Redis. 0 if made, 1 if it
 * was there, -1 if not (data that is not ghit's, unreachable); msg says.
 */
int store_redis_init(const char *where, char *msg, size_t n);

/*
 * Names the ghit command that runs ("serve", "set", ...), for the messages
 * of a store it cannot write: "ghit set needs to write its database". Once,
 * before any store is opened; "serve" if never called.
 */
void store_set_command(const char *name);
const char *store_command(void);

/*
 * Sets SQLite up for ghit: once, before any thread or store. It turns
 * SQLite's memory statistics off, which ghit never reads and which take a
 * global mutex around every allocation of every connection.
 */
void store_sqlite_setup(void);

/*
 * The SQLite backend: path is made with ghit's schema if it does not exist
 * or is empty (0 bytes, or a SQLite database without tables).
 */
struct store *store_sqlite_open(const char *path, char *err, size_t errlen);
/* The same, but path must be a ghit database already: a missing or empty file is refused. */
struct store *store_sqlite_open_existing(const char *path, char *err, size_t errlen);
struct store *store_sqlite_open_readonly(const char *path, char *err, size_t errlen);
struct store *store_sqlite_open_reader(const char *path, char *err, size_t errlen);
/* Makes a reader read a repo from the tables only (see store_open_server_reader()). */
void store_sqlite_tables_per_repo(struct store *base);

/* Faults the SQLite backend can be told to fake, for the tests of what follows them. */
enum store_sqlite_fault {
    STORE_SQLITE_FAULT_NONE,
    STORE_SQLITE_FAULT_COMMIT_FAILS,      /* the next flush's COMMIT fails: nothing is written */
    STORE_SQLITE_FAULT_COMMIT_REPLY_LOST, /* it succeeds, but reports an I/O error */
    /* The two above, and then the flush number cannot be read back either. */
    STORE_SQLITE_FAULT_COMMIT_FAILS_UNREAD,
    STORE_SQLITE_FAULT_COMMIT_REPLY_LOST_UNREAD,
    STORE_SQLITE_FAULT_READ_BACK_FAILS, /* the next read of the flush number fails */
    STORE_SQLITE_FAULT_READ_PAUSES, /* the next read pauses 300 ms after the journal's snapshot */
};

/* Makes the next flush (or read) of s (a SQLite store) fail as fault says. For tests. */
void store_sqlite_fault(struct store *s, enum store_sqlite_fault fault);

/*
 * Waits, at most timeout_ms, until everything s wrote is folded from its
 * journal into the tables; 0, or -1 if it was not (the merger fails or is
 * slow). For tests and tools; the server never needs to.
 */
int store_sqlite_drain(struct store *s, unsigned timeout_ms);

/*
 * The bytes of the files of the SQLite store at path as they are now: the
 * database, its journal and their WALs (a missing one counts 0). Read by
 * path, for an estimate of the room a vacuum needs; it checks nothing.
 */
uint64_t store_sqlite_files_bytes(const char *path);

/* Whether the database of s (a SQLite store) has smaller pages than ghit makes. */
bool store_sqlite_has_small_pages(struct store *s);

/* A file's size before and after store_sqlite_vacuum(), its pages' too. */
struct store_sqlite_size {
    int64_t page_size;
    int64_t bytes;
};

/*
 * Rebuilds the database of s (a SQLite store opened to write, so holding
 * the writer's lock) with ghit's page size, after merging its journal into
 * the tables, and compacts the journal; fills before and after for the
 * database. s stops merging: close it next. 0, or -1 with a message in err,
 * the files as they were or rebuilt (SQLite's rollback keeps them whole).
 */
int store_sqlite_vacuum(struct store *s, struct store_sqlite_size *before,
                        struct store_sqlite_size *after, char *err, size_t errlen);

#endif
