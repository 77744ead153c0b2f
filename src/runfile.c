/*
 * runfile: the writer lock and the run file of a store (see runfile.h).
 *
 * The run file is two lines of "name value": "address HOST:PORT" and
 * "token-file PATH". It holds no secret: whoever can read the token file
 * it names can use the admin routes, whoever cannot, cannot.
 */
#include "runfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* db's run file name into out. */
static void run_path(const char *db, char *out, size_t n)
{
    snprintf(out, n, "%s.serve", db);
}

int runfile_write(const char *db, const char *address, const char *token_file, char *err,
                  size_t errlen)
{
    char path[PATH_MAX], tmp[PATH_MAX + 16], abs_token[PATH_MAX] = "";
    run_path(db, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    if (token_file && !realpath(token_file, abs_token)) {
        snprintf(err, errlen, "%s: %s", token_file, strerror(errno));
        return -1;
    }
    FILE *f = fopen(tmp, "we");
    if (!f) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    fprintf(f, "address %s\ntoken-file %s\n", address, abs_token);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

void runfile_remove(const char *db)
{
    char path[PATH_MAX];
    run_path(db, path, sizeof path);
    unlink(path);
}

int runfile_read(const char *db, struct runfile *out)
{
    char path[PATH_MAX], line[1200];
    run_path(db, path, sizeof path);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    memset(out, 0, sizeof *out);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "address ", 8) == 0)
            snprintf(out->address, sizeof out->address, "%.127s", line + 8);
        else if (strncmp(line, "token-file ", 11) == 0)
            snprintf(out->token_file, sizeof out->token_file, "%.1023s", line + 11);
    }
    fclose(f);
    return out->address[0] ? 0 : -1;
}
