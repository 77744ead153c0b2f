/*
 * flusher: the thread that moves pending hits from the counter table to the store.
 *
 * Every interval it takes the pending hits, writes them to the store in one
 * batch and, if the store refuses, gives them back to the table and tries
 * again later with a growing delay (backoff), so no hit is dropped. A
 * failure is logged once per cause, not once per attempt, and shows in
 * flusher_health() until a write succeeds.
 *
 * The store belongs to the flusher thread between flusher_start() and
 * flusher_stop(); nobody else calls it then.
 */
#ifndef GHIT_FLUSHER_H
#define GHIT_FLUSHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "counter.h"
#include "notify.h"
#include "store.h"

struct flusher;

struct flusher_stats {
    uint64_t flushes;      /* successful writes */
    uint64_t failures;     /* failed writes */
    uint64_t hits_written; /* hits the store accepted */
    unsigned consecutive;  /* failed writes since the last success */
    uint64_t flush_ms;     /* time spent in flushes, in all */
    uint64_t flush_ms_max; /* the longest flush */
    uint64_t flush_rows;   /* (repo, day) rows handed to the store */
    uint64_t ops_lost;     /* sets and deletes flusher_stop could not write */
};

/* A flusher for table and store (both borrowed), writing every interval_ms. */
struct flusher *flusher_new(struct counter_table *table, struct store *store, unsigned interval_ms);
void flusher_free(struct flusher *f);

/* Starts the thread; 0, or -1 with errno set. */
int flusher_start(struct flusher *f);

/*
 * Stops the thread, then writes what is still pending, retrying for up to
 * timeout_ms while the store refuses. Returns the number of hits that could
 * not be written (0 after a clean stop).
 */
uint64_t flusher_stop(struct flusher *f, unsigned timeout_ms);

struct spool;

/* Tells sp (a Redis frontend's spool) of each take, before its hits are written. Before start. */
void flusher_use_spool(struct flusher *f, struct spool *sp);

/*
 * Durable mode (a reply waits until its hit is written): fn is told, from
 * the flusher thread, each time every hit of a take number and before is
 * written, with that number. Safe at any time (notify.h says when the old
 * fn is done with).
 */
void flusher_on_commit(struct flusher *f, notify_fn *fn, void *arg);

/*
 * fn is told, from the thread that wrote, when the store takes a write or a
 * check again after one failed (n: 0), before flusher_health() says so: a
 * Redis frontend's loader, paused after a failed read, reads again at once.
 * Safe at any time (notify.h says when the old fn is done with).
 */
void flusher_on_recovery(struct flusher *f, notify_fn *fn, void *arg);

/* The counter_take() number up to which every hit is written. Safe from any thread. */
uint64_t flusher_written(struct flusher *f);

/*
 * A reply waits until take number take_no is written: flush now, and keep
 * flushing back to back until it is (group commit). Safe from any thread;
 * cheap when a flush is already asked for.
 */
void flusher_need(struct flusher *f, uint64_t take_no);

/* Asks the flusher thread to write the pending hits now rather than at the next interval. */
void flusher_kick(struct flusher *f);

/* Writes the pending hits once, now, from the calling thread; true if the store took them. */
bool flusher_flush(struct flusher *f);

/*
 * Whether the last write succeeded; if not, copies its error into msg
 * (size n). Safe from any thread.
 */
bool flusher_health(struct flusher *f, char *msg, size_t n);

void flusher_get_stats(struct flusher *f, struct flusher_stats *out);

#endif
