/*
 * files: reading whole files, and writing them so that a crash cannot leave
 * half of one.
 * `ghit render` writes badges with it (durable: a power cut leaves the old
 * badge or the new one) and the Redis spool its chunks file (not durable:
 * the spool is for a crash of the process, and an fsync a flush would cost
 * more than it keeps).
 */
#ifndef GHIT_FILES_H
#define GHIT_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct buf;

/* The directory of path: a new string, ".", "/" or the part of path before its last '/'. */
char *file_dir(const char *path);

/* Reads the whole file at path into *out (NUL-terminated); 0, 1 if it does not exist, or -1
 * with errno. */
int read_file(const char *path, struct buf *out);

/* Writes the len bytes at data to fd, all of them, again after EINTR; 0, or -1 with errno
 * (EIO for a write that wrote nothing). */
int write_all(int fd, const void *data, size_t len);

/*
 * Replaces dirfd/name with the len bytes at data. They go to a temporary
 * .NAME.PID.tmp beside it, made afresh (O_EXCL and O_NOFOLLOW: a file or
 * link planted under that name is never written through), and rename(2)
 * puts it in place: a reader, or the next start after a crash, finds the
 * old file or the new one whole. With durable the file, then the
 * directory, are fsync(2)ed as well. The temporary is removed on failure.
 * 0, or -1 with errno.
 */
int replace_file_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                    bool durable);

#endif
