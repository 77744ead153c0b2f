/*
 * Fuzz target: the spool's chunks file and hits file parsers, on arbitrary
 * bytes (a spool is read back after a crash, and an operator may edit it).
 *
 * Checks contracts, not only the absence of crashes: an accepted chunks
 * file has chunks in increasing order below its next number, each of
 * deltas or of puts; written back and parsed again it gives the same
 * bytes. A hits line handed over has hits and a key of its length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spool.h"

static void check_hit(void *arg, uint64_t take, day_t day, uint64_t hits, const char *key,
                      size_t keylen)
{
    (void)arg;
    (void)take;
    if (hits == 0 || day < 0 || keylen == 0 || memchr(key, ' ', keylen) ||
        memchr(key, '\n', keylen))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    char err[256];
    struct spool_chunks c;
    if (spool_parse_chunks(text, size, &c, err, sizeof err) == 0) {
        for (size_t i = 0; i < c.nchunks; i++) {
            if (c.chunks[i].seq >= c.next_seq || (i && c.chunks[i].seq <= c.chunks[i - 1].seq) ||
                (c.chunks[i].n == 0) == (c.chunks[i].np == 0))
                abort();
        }
        struct buf b;
        buf_init(&b);
        spool_format_chunks(&b, c.inc, c.where, c.id, c.next_seq, c.take, c.chunks, c.nchunks);
        if (b.len != size || memcmp(b.data, data, size) != 0)
            abort();
        buf_fini(&b);
        spool_chunks_free(&c);
    } else if (!err[0]) {
        abort(); /* a refusal says why */
    }
    /* The same bytes as a hits file: of the process named in its header, if any. */
    char inc[SPOOL_ID_MAX + 1] = "0";
    static const char magic[] = "ghit-spool 1 hits ";
    if (size > sizeof magic - 1 && memcmp(data, magic, sizeof magic - 1) == 0) {
        size_t n = 0;
        while (n < SPOOL_ID_MAX && sizeof magic - 1 + n < size &&
               text[sizeof magic - 1 + n] != '\n')
            n++;
        memcpy(inc, text + sizeof magic - 1, n);
        inc[n] = '\0';
    }
    spool_parse_hits(text, size, inc, check_hit, NULL, err, sizeof err);
    return 0;
}
