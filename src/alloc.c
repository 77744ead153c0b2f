/*
 * alloc: allocation that never fails (see alloc.h).
 */
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

/* Report where memory ran out and stop: there is nothing sensible to do. */
static void out_of_memory(size_t n, const char *file, int line)
{
    fprintf(stderr, "ghit: out of memory allocating %zu bytes at %s:%d\n", n, file, line);
    abort();
}

void *alloc_malloc(size_t n, const char *file, int line)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        out_of_memory(n, file, line);
    return p;
}

void *alloc_calloc(size_t count, size_t size, const char *file, int line)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        out_of_memory(count * size, file, line);
    return p;
}

void *alloc_zeroed_aligned(size_t align, size_t n, const char *file, int line)
{
    void *p;
    if (posix_memalign(&p, align, n ? n : 1) != 0)
        out_of_memory(n, file, line);
    memset(p, 0, n);
    return p;
}

void *alloc_realloc(void *p, size_t n, const char *file, int line)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        out_of_memory(n, file, line);
    return q;
}

char *alloc_strdup(const char *s, const char *file, int line)
{
    return alloc_strndup(s, strlen(s), file, line);
}

char *alloc_strndup(const char *s, size_t n, const char *file, int line)
{
    char *p = alloc_malloc(n + 1, file, line);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void alloc_map_large(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, ALLOC_MAPPED_BYTES);
#endif
}

void alloc_trim(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}
