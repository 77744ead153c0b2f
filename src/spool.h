/*
 * spool: a Redis frontend's hits and unacknowledged chunks on local disk.
 *
 * A Redis frontend holds its hits in memory until Redis has applied them.
 * When a write to Redis outlasts the flush interval (hits spread over a
 * million repos on a busy machine, a slow Redis, an outage), the hits of
 * every interval meanwhile wait in memory, and a crash of the process
 * (kill -9, the OOM killer) lost them all. The spool keeps them in files,
 * with a write() every interval and no fsync (a crash of the process leaves
 * the page cache to the kernel; a power cut is not covered), so that a
 * restart on the same spool writes them, each exactly once:
 *
 *   - hits files: every counted hit as "TAKE DAY HITS KEY", appended by a
 *     thread of the spool every interval, TAKE being the counter_take()
 *     that hands the hit to the flusher (counter_view.take, exact);
 *   - the chunks file: the frontend id, its next sequence number and every
 *     chunk sent to Redis or about to be and not known applied, with the
 *     number TAKE of the last take whose hits they hold. It is rewritten
 *     (a new file renamed over the old) before a chunk it does not list is
 *     sent.
 *
 * A restart sends the chunks again under the old id and numbers, so Redis's
 * gate (store_redis_apply.lua) applies each once, and counts again the hits
 * of the hits files whose take is after TAKE: every hit of a take up to
 * TAKE is in those chunks or already in Redis. Hits files are removed once
 * the chunks file's TAKE covers all their hits.
 *
 * The directory holds one process's spool at a time (a lock file); the
 * files are text, so that an operator can read them.
 */
#ifndef GHIT_SPOOL_H
#define GHIT_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "day.h"
#include "store.h"

#define SPOOL_ID_MAX    64  /* the longest frontend id */
#define SPOOL_WHERE_MAX 512 /* the longest store description */

/* A chunk as the spool keeps it: deltas, or puts, under one sequence number. */
struct spool_chunk {
    uint64_t seq;
    day_t today;
    const struct store_delta *d;
    size_t n;
    const struct store_put *p;
    size_t np;
};

/* A repo that chunks set or delete, and the index of the last chunk that does. */
struct spool_put_at {
    const char *key;
    size_t chunk;
};

/*
 * The repos the n chunks at c set or delete, sorted, each once with its
 * last such chunk; *m of them (free() the array).
 */
struct spool_put_at *spool_last_puts(const struct spool_chunk *c, size_t n, size_t *m);

/*
 * Whether a chunk after chunk i sets or deletes key (puts: m of them, from
 * spool_last_puts): hits of key owed in chunk i came before that put,
 * which supersedes them.
 */
bool spool_put_after(const struct spool_put_at *puts, size_t m, const char *key, size_t i);

/* What a chunks file says, parsed (spool_parse_chunks). */
struct spool_chunks {
    char inc[SPOOL_ID_MAX + 1];  /* the process that wrote it: its hits files */
    char where[SPOOL_WHERE_MAX]; /* the store it was written for */
    char id[SPOOL_ID_MAX + 1];   /* the frontend id; "" if it had none yet */
    uint64_t next_seq;           /* the frontend's next sequence number */
    uint64_t take;               /* hits of this take and before are in the chunks or in Redis */
    struct spool_chunk *chunks;  /* in sequence order */
    size_t nchunks;
    /* Storage the chunks point into. */
    struct store_delta *d;
    struct store_put *p;
    struct store_day *days;
    char *keys;
};

void spool_chunks_free(struct spool_chunks *c);

/*
 * Writes a chunks file's text into out: inc, where, id, next_seq, take and
 * the n chunks at c.
 */
void spool_format_chunks(struct buf *out, const char *inc, const char *where, const char *id,
                         uint64_t next_seq, uint64_t take, const struct spool_chunk *c, size_t n);

/*
 * Parses the len bytes at text, a chunks file, into *out (free it with
 * spool_chunks_free); 0, or -1 with a message in err and nothing to free.
 */
int spool_parse_chunks(const char *text, size_t len, struct spool_chunks *out, char *err,
                       size_t errlen);

/* Receives one hit line of a hits file. */
typedef void spool_hit_fn(void *arg, uint64_t take, day_t day, uint64_t hits, const char *key,
                          size_t keylen);

/*
 * Parses the len bytes at text, a hits file: checks its header names the
 * process inc and hands each complete line to fn (a last line that a crash
 * cut short is ignored). 0, or -1 with a message in err (fn may have been
 * called for the lines before the bad one).
 */
int spool_parse_hits(const char *text, size_t len, const char *inc, spool_hit_fn *fn, void *arg,
                     char *err, size_t errlen);

struct spool;

/* What a previous process left in a spool: see spool_open. */
struct spool_recovered {
    struct spool_chunks chunks;     /* its owed chunks and identity */
    const struct store_delta *hits; /* the hits in no chunk, one per (repo, day), sorted */
    size_t nhits;
    uint64_t nhit_total;
    struct fold *fold; /* holds hits */
    bool unusable;     /* spool_open failed: the directory could not be made or opened */
};

void spool_recovered_free(struct spool_recovered *r);

/*
 * Opens the spool directory dir (made if missing, mode 0700) for the store
 * where, taking its lock, and reads what a previous process left into *rec
 * (free it with spool_recovered_free), which the caller must hand to the
 * store and the table before anything is written. The spool is then this
 * process's: the recovered hits are its first hits file, the recovered
 * chunks its chunks file. NULL, with a message in err, if the directory
 * cannot be used, is locked by another process, belongs to another store,
 * or holds a file that is not what ghit wrote.
 */
struct spool *spool_open(const char *dir, const char *where, struct spool_recovered *rec, char *err,
                         size_t errlen);

/* Logs one counted hit (any thread): the hit of key on day, handed over by take take. */
void spool_hit(struct spool *sp, const char *key, day_t day, uint64_t take);

/* Starts the thread that writes the logged hits every interval_ms; 0, or -1 with errno. */
int spool_start(struct spool *sp, unsigned interval_ms);

/* The flusher took hits: every hit of take take_no and before is in its hands now. */
void spool_taken(struct spool *sp, uint64_t take_no);

/*
 * Writes the chunks file (the flusher's thread): the frontend id and next
 * sequence number, and the n chunks at c, every chunk not known applied,
 * holding the hits of the last take (spool_taken) and before that Redis
 * does not have. Call it before sending a chunk it did not list.
 *
 * A spool that cannot write (disk full, an I/O error) gives up, says so in
 * the log, and removes its files: what it holds would no longer be the
 * whole truth, and a restart would send it all the same. ghit goes on as
 * without a spool, and the spool tries again every 10 s.
 */
void spool_write_chunks(struct spool *sp, const char *id, uint64_t next_seq,
                        const struct spool_chunk *c, size_t n);

/* Whether the spool has no chunks file since it started again after a give-up: the store
 * writes one (spool_write_chunks) at the flusher's next turn, before it tries Redis, whether
 * its chunks changed or not. */
bool spool_wants_chunks(struct spool *sp);

/*
 * Stops the thread (writing what is logged) and closes the spool. With
 * clean (every hit and every set or delete was written to the store), its
 * files are removed; else they stay for the next start. Returns whether
 * they stay (not if the spool had given up). sp may be NULL.
 */
bool spool_close(struct spool *sp, bool clean);

#endif
