/* What the fuzz targets share. */
#ifndef GHIT_FUZZ_H
#define GHIT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A NUL-terminated copy of the n bytes at data (free() it); aborts if memory runs out. */
static inline char *fuzz_text(const uint8_t *data, size_t n)
{
    char *text = malloc(n + 1);
    if (!text)
        abort();
    memcpy(text, data, n);
    text[n] = '\0';
    return text;
}

#endif
