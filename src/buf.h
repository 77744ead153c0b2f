/*
 * buf: a growable byte buffer, always NUL-terminated.
 *
 * The one string builder of ghit: renderers append to a caller's buf, the
 * HTTP layer hands its bytes to the socket. A buf embedded in a struct is
 * set up with buf_init() and released with buf_fini(); buf_reset() empties
 * it but keeps the memory, so a per-thread buf costs no allocation per
 * request once warm.
 */
#ifndef GHIT_BUF_H
#define GHIT_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

struct buf {
    char *data; /* NUL-terminated; owned by the buf */
    size_t len;
    size_t cap;
};

void buf_init(struct buf *b);
void buf_fini(struct buf *b);
void buf_reset(struct buf *b);
void buf_reserve(struct buf *b, size_t extra);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/*
 * Appends len bytes. Inline: renderers append a few bytes at a time, and
 * the call into buf.c cost as much as the copy (perf, badge hot path).
 */
static inline void buf_append(struct buf *b, const void *data, size_t len)
{
    if (b->len + len >= b->cap)
        buf_reserve(b, len);
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

/* Takes the bytes out of b (the caller frees them); b is left empty. */
char *buf_steal(struct buf *b);

#endif
