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
 * Gives the memory that free() kept back to the system (glibc's
 * malloc_trim). For after freeing a large, passing working set, such as a
 * merge batch's sums: glibc keeps freed heap in its arenas, and what the next
 * batch does not reuse in place stays resident.
 */
void alloc_trim(void);

#define xmalloc(n)     alloc_malloc((n), __FILE__, __LINE__)
#define xcalloc(c, s)  alloc_calloc((c), (s), __FILE__, __LINE__)
#define xrealloc(p, n) alloc_realloc((p), (n), __FILE__, __LINE__)
#define xstrdup(s)     alloc_strdup((s), __FILE__, __LINE__)
#define xstrndup(s, n) alloc_strndup((s), (n), __FILE__, __LINE__)

#endif
