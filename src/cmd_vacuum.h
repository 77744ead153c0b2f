/* cmd_vacuum: `ghit vacuum`, a SQLite store rebuilt in place while no server runs. */
#ifndef GHIT_CMD_VACUUM_H
#define GHIT_CMD_VACUUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int cmd_vacuum(int argc, char **argv);

/* What a vacuum needs and has, in bytes: see cmd_vacuum_room_enough(). */
struct cmd_vacuum_room {
    uint64_t files;    /* the database, its journal and their WALs, as they are */
    const char *dir;   /* the database's directory */
    uint64_t dir_free; /* free there to a user who is not root (statvfs f_bavail) */
    const char *tmp;   /* where SQLite writes its temporary copy */
    uint64_t tmp_free;
    bool same_fs; /* dir and tmp are on one file system */
};

/*
 * Whether r has room for a vacuum: about the files' size in the database's
 * directory (SQLite's rollback journal holds every page the rebuild
 * replaces; the WALs and the journal's rows go into the files first) and
 * as much again where SQLite writes its temporary copy; twice on one file
 * system. If not, says in why which place is short, with the figures.
 */
bool cmd_vacuum_room_enough(const struct cmd_vacuum_room *r, char *why, size_t len);

#endif
