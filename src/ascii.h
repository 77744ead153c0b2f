/*
 * ascii: byte classification that ignores the C locale. Pure, header only.
 *
 * <ctype.h> answers by the current locale and is undefined for negative
 * chars; ghit's parsers want the same answer on every machine for every
 * byte, so they use these.
 */
#ifndef GHIT_ASCII_H
#define GHIT_ASCII_H

#include <stdbool.h>

static inline bool ascii_is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static inline bool ascii_is_alnum(unsigned char c)
{
    return ascii_is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline char ascii_lower(unsigned char c)
{
    return (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

/* The value of hex digit c, or -1 if c is not one. */
static inline int ascii_hex_digit(unsigned char c)
{
    if (ascii_is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
