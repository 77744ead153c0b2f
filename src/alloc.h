/*
 * alloc: allocation that never fails.
 *
 * ghit treats running out of memory as fatal: every allocation goes through
 * these wrappers, which abort with the caller's file and line instead of
 * returning NULL, so no caller carries an error path that could never be
 * tested honestly.
 */
#ifndef GHIT_ALLOC_H
#define GHIT_ALLOC_H

#include <stddef.h>

void *alloc_malloc(size_t n, const char *file, int line);
void *alloc_calloc(size_t count, size_t size, const char *file, int line);
void *alloc_realloc(void *p, size_t n, const char *file, int line);
char *alloc_strdup(const char *s, const char *file, int line);
char *alloc_strndup(const char *s, size_t n, const char *file, int line);

/*
 * n zeroed bytes at an address that is a multiple of align (a power of two,
 * at least sizeof(void *)), for free(): for what must start a cache line.
 */
void *alloc_zeroed_aligned(size_t align, size_t n, const char *file, int line);

/*
 * Gives the memory that free() kept back to the system (glibc's
 * malloc_trim). For after freeing a large, passing working set, such as a
 * merge batch's sums: glibc keeps freed heap in its arenas, and what the next
 * batch does not reuse in place stays resident.
 */
void alloc_trim(void);

/*
 * Has every block of ALLOC_MAPPED_BYTES or more mapped on its own, so that
 * freeing it gives it back to the system at once. glibc does so from 128 KB
 * at first, but raises that bar to the size of each mapped block freed, up
 * to 32 MB, and the heap's trim threshold to twice it: after one merge's
 * sums were freed, the next merge's came from the heap, and 40 MB of them
 * stayed resident between merges, which malloc_trim() did not give back (a
 * thread's arena keeps its free top). Fixing the bar turns that off.
 * Called once, before threads start.
 */
void alloc_map_large(void);
#define ALLOC_MAPPED_BYTES (128 * 1024)

#define xmalloc(n)            alloc_malloc((n), __FILE__, __LINE__)
#define xcalloc(c, s)         alloc_calloc((c), (s), __FILE__, __LINE__)
#define xrealloc(p, n)        alloc_realloc((p), (n), __FILE__, __LINE__)
#define xstrdup(s)            alloc_strdup((s), __FILE__, __LINE__)
#define xstrndup(s, n)        alloc_strndup((s), (n), __FILE__, __LINE__)
#define xzalloc_aligned(a, n) alloc_zeroed_aligned((a), (n), __FILE__, __LINE__)

#endif
