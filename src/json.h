/*
 * json: writes JSON strings. Pure.
 *
 * The API's answers are small and fixed in shape, so they are written with
 * buf_printf; what varies and may come from a client (a label, a name)
 * goes through json_put_str(), which escapes it (RFC 8259, section 7) and
 * replaces bytes that are not UTF-8, so every answer is valid JSON.
 */
#ifndef GHIT_JSON_H
#define GHIT_JSON_H

#include "buf.h"

/*
 * Appends s as a quoted JSON string: " and \ escaped, control characters
 * as \u00XX, each byte of invalid UTF-8 as U+FFFD. NULL is "".
 */
void json_put_str(struct buf *out, const char *s);

#endif
