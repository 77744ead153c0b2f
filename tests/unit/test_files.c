/* Unit tests of files: whole-file replacement on a real directory under /tmp. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"
#include "test.h"

static char dir[] = "/tmp/ghit-test-files.XXXXXX";
static int dirfd_;

/* The whole text of dir/name, or "(none)". */
static const char *text_of(const char *name)
{
    static char out[256];
    int fd = openat(dirfd_, name, O_RDONLY);
    if (fd < 0)
        return "(none)";
    ssize_t n = read(fd, out, sizeof out - 1);
    close(fd);
    out[n > 0 ? n : 0] = '\0';
    return out;
}

/* How many names in dir start with a dot and end with ".tmp". */
static int temporaries(void)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        n += e->d_name[0] == '.' && len > 4 && strcmp(e->d_name + len - 4, ".tmp") == 0;
    }
    closedir(d);
    return n;
}

static void writes_then_replaces_whole(void)
{
    for (int durable = 0; durable < 2; durable++) {
        CHECK_INT(replace_file_at(dirfd_, "f", "first", 5, 0600, durable), 0);
        CHECK_STR(text_of("f"), "first");
        CHECK_INT(replace_file_at(dirfd_, "f", "2nd", 3, 0600, durable), 0);
        CHECK_STR(text_of("f"), "2nd");
        CHECK_INT(replace_file_at(dirfd_, "f", "", 0, 0600, durable), 0);
        CHECK_STR(text_of("f"), "");
    }
    struct stat st;
    CHECK_INT(replace_file_at(dirfd_, "g", "x", 1, 0640, false), 0);
    CHECK_INT(fstatat(dirfd_, "g", &st, 0), 0);
    CHECK_INT(st.st_mode & 0777 & ~0022, 0640 & ~0022); /* the umask may take bits, never add */
    CHECK_INT(temporaries(), 0);
}

/* A link planted under the temporary's name is removed, never written through. */
static void a_planted_link_is_not_followed(void)
{
    char target[128], tmp[64];
    snprintf(target, sizeof target, "%s/target", dir);
    CHECK_INT(replace_file_at(dirfd_, "target", "keep", 4, 0600, false), 0);
    snprintf(tmp, sizeof tmp, ".h.%ld.tmp", (long)getpid());
    CHECK_INT(symlinkat(target, dirfd_, tmp), 0);
    CHECK_INT(replace_file_at(dirfd_, "h", "new", 3, 0600, false), 0);
    CHECK_STR(text_of("target"), "keep");
    CHECK_STR(text_of("h"), "new");
    CHECK_INT(temporaries(), 0);
}

/* A failed rename (onto a directory that holds a file) leaves the old and no temporary. */
static void a_failure_leaves_the_old_file_and_no_temporary(void)
{
    CHECK_INT(mkdirat(dirfd_, "d", 0700), 0);
    int sub = openat(dirfd_, "d", O_RDONLY | O_DIRECTORY);
    CHECK_INT(replace_file_at(sub, "inside", "x", 1, 0600, false), 0);
    close(sub);
    errno = 0;
    CHECK_INT(replace_file_at(dirfd_, "d", "over", 4, 0600, true), -1);
    CHECK(errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST);
    CHECK_INT(temporaries(), 0);
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    errno = 0;
    CHECK_INT(replace_file_at(dirfd_, longname, "x", 1, 0600, false), -1);
    CHECK_INT(errno, ENAMETOOLONG);
}

static void write_all_writes_everything(void)
{
    int p[2];
    CHECK_INT(pipe(p), 0);
    static char big[60000];
    memset(big, 'b', sizeof big);
    CHECK_INT(write_all(p[1], big, sizeof big), 0);
    close(p[1]);
    size_t got = 0;
    char chunk[4096];
    ssize_t n;
    while ((n = read(p[0], chunk, sizeof chunk)) > 0)
        got += (size_t)n;
    close(p[0]);
    CHECK_INT(got, sizeof big);
    CHECK_INT(write_all(-1, "x", 1), -1);
    CHECK_INT(errno, EBADF);
}

int main(void)
{
    if (!mkdtemp(dir) || (dirfd_ = open(dir, O_RDONLY | O_DIRECTORY)) < 0) {
        perror("test_files: a scratch directory");
        return 1;
    }
    RUN(writes_then_replaces_whole);
    RUN(a_planted_link_is_not_followed);
    RUN(a_failure_leaves_the_old_file_and_no_temporary);
    RUN(write_all_writes_everything);
    static const char *const made[] = {"f", "g", "target", "h", "d/inside"};
    for (size_t i = 0; i < sizeof made / sizeof made[0]; i++)
        unlinkat(dirfd_, made[i], 0);
    unlinkat(dirfd_, "d", AT_REMOVEDIR);
    close(dirfd_);
    if (rmdir(dir) < 0)
        fprintf(stderr, "test_files: could not remove %s: %s\n", dir, strerror(errno));
    return test_main_end("files");
}
