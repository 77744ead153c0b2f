/*
 * store: picks a backend for a location (see store.h).
 */
#include "store.h"

struct store *store_open(const char *where, char *err, size_t errlen)
{
    return store_sqlite_open(where, err, errlen);
}

struct store *store_open_readonly(const char *where, char *err, size_t errlen)
{
    return store_sqlite_open_readonly(where, err, errlen);
}

bool store_is_busy(const char *where)
{
    return store_sqlite_is_busy(where);
}

struct store *store_open_reader(const char *where, char *err, size_t errlen)
{
    return store_sqlite_open_reader(where, err, errlen);
}

void store_close(struct store *s)
{
    if (s)
        s->ops->close(s);
}
