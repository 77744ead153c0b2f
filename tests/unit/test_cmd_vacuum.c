/* Unit tests of cmd_vacuum: the room a vacuum needs, decided from figures alone. */
#include <stdint.h>
#include <string.h>

#include "cmd_vacuum.h"
#include "test.h"

/* r with files bytes to rebuild, dir_free and tmp_free, on one file system or two. */
static struct cmd_vacuum_room room(uint64_t files, uint64_t dir_free, uint64_t tmp_free,
                                   bool same_fs)
{
    return (struct cmd_vacuum_room){files, "/srv/ghit", dir_free, "/var/tmp", tmp_free, same_fs};
}

/* Two file systems: each needs the files' size, no more. */
static void test_two_file_systems_need_the_size_each(void)
{
    char why[512] = "";
    struct cmd_vacuum_room r = room(1000, 1000, 1000, false);
    CHECK(cmd_vacuum_room_enough(&r, why, sizeof why));
    CHECK_STR(why, "");
    r = room(1000, 999, 1000000, false);
    CHECK(!cmd_vacuum_room_enough(&r, why, sizeof why));
    CHECK_STR(why, "the rebuild needs about 1,000 bytes free in /srv/ghit for SQLite's rollback "
                   "journal (the files' size), and it has 999");
    r = room(1000, 1000000, 999, false);
    CHECK(!cmd_vacuum_room_enough(&r, why, sizeof why));
    CHECK_STR(why, "the rebuild needs about 1,000 bytes free in /var/tmp for SQLite's temporary "
                   "copy of the database (set SQLITE_TMPDIR to a directory with room), and it "
                   "has 999");
    /* Both short: the database's directory is named first. */
    r = room(1000, 10, 20, false);
    CHECK(!cmd_vacuum_room_enough(&r, why, sizeof why));
    CHECK(strstr(why, "in /srv/ghit for SQLite's rollback journal") != NULL);
}

/* One file system holds both the journal and the copy: twice the size there. */
static void test_one_file_system_needs_twice_the_size(void)
{
    char why[512] = "";
    struct cmd_vacuum_room r = room(1000, 2000, 2000, true);
    CHECK(cmd_vacuum_room_enough(&r, why, sizeof why));
    r = room(1000, 1999, 1999, true);
    CHECK(!cmd_vacuum_room_enough(&r, why, sizeof why));
    CHECK_STR(why, "the rebuild needs about 2,000 bytes free on the file system of /srv/ghit and "
                   "of SQLite's temporary directory /var/tmp (the files' size twice: its rollback "
                   "journal and its temporary copy), and it has 1,999");
}

/* Free space not known (UINT64_MAX) is not held against a vacuum; twice a huge size saturates. */
static void test_unknown_room_and_huge_files(void)
{
    char why[512] = "";
    struct cmd_vacuum_room r = room(1000, UINT64_MAX, UINT64_MAX, false);
    CHECK(cmd_vacuum_room_enough(&r, why, sizeof why));
    r = room(UINT64_MAX / 2 + 10, UINT64_MAX, 0, true);
    CHECK(cmd_vacuum_room_enough(&r, why, sizeof why));
    r = room(UINT64_MAX / 2 + 10, 5, 5, true);
    CHECK(!cmd_vacuum_room_enough(&r, why, sizeof why));
    CHECK(strstr(why, "about 9,223,372,036,854,775,807 bytes free") != NULL);
    /* No files (an empty or missing one, refused later by the open): nothing needed. */
    r = room(0, 0, 0, true);
    CHECK(cmd_vacuum_room_enough(&r, why, sizeof why));
}

int main(void)
{
    RUN(test_two_file_systems_need_the_size_each);
    RUN(test_one_file_system_needs_twice_the_size);
    RUN(test_unknown_room_and_huge_files);
    return test_main_end("cmd_vacuum");
}
