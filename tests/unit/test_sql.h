/* Reading a database as another program would: the sqlite3 library, not ghit's store. */
#ifndef GHIT_TEST_SQL_H
#define GHIT_TEST_SQL_H

#include <sqlite3.h>
#include <stdint.h>

/* Runs sql (one integer result) on path with a connection of its own; -1 if no row. */
static inline int64_t query_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    sqlite3_open(path, &db);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

#endif
