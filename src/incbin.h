/*
 * incbin: for the assembler files that compile files into the binary as
 * they are (web_assets.S, store_redis_lua.S). INCBIN(sym, file) defines
 * sym, the file's first byte, and sym_end, the byte after its last, which
 * is a NUL for C's sake. Paths resolve from the repository root.
 */
#ifndef GHIT_INCBIN_H
#define GHIT_INCBIN_H

/* Assembler, not C: */
/* clang-format off */
#define INCBIN(sym, file)         \
    .global sym;                  \
    .global sym##_end;            \
    .balign 16;                   \
sym:                              \
    .incbin file;                 \
sym##_end:                        \
    .byte 0
/* clang-format on */

#endif
