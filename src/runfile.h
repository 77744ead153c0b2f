/*
 * runfile: which process may write a store, and how to reach a running server.
 *
 * Never two writers (issue 10): opening a store for writing takes its
 * writer's lock (store_sqlite.c: flock on the database file itself), which
 * `ghit serve` holds for its whole life; a command that writes directly
 * (set, delete, import) opens the store the same way, and store_is_busy()
 * tells it that a server runs (or another command writes).
 *
 * A running server also writes DB.serve beside the database: its address
 * and the path of its admin token file (never the token), so that `ghit
 * set` and `ghit delete` can go through it. It is removed at stop; one left
 * by a crash is ignored, since the lock is free then.
 */
#ifndef GHIT_RUNFILE_H
#define GHIT_RUNFILE_H

#include <stddef.h>

/* What a running server says about itself. */
struct runfile {
    char address[128];     /* HOST:PORT or [HOST]:PORT */
    char token_file[1024]; /* absolute path, or empty: no admin routes */
};

/* Writes db's run file (through a temporary file and rename); 0, or -1 with a message in err. */
int runfile_write(const char *db, const char *address, const char *token_file, char *err,
                  size_t errlen);

/* Removes db's run file. */
void runfile_remove(const char *db);

/* Reads db's run file into out; 0, or -1 if there is none or it is malformed. */
int runfile_read(const char *db, struct runfile *out);

#endif
