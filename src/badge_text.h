/*
 * badge_text: the text of a badge as code points, made safe and shaped the way
 * badge-maker shapes it (trimmed, uppercased), and written back as escaped XML.
 *
 * Any bytes go in. Invalid UTF-8 becomes U+FFFD, one per bad byte; control
 * characters (C0, DEL, C1) and U+FFFE/U+FFFF, which XML 1.0 forbids or
 * discourages, are dropped; the rest is cut at a character boundary to a
 * byte budget and trimmed of the white space JavaScript's trim() removes.
 * Pure, thread-safe.
 */
#ifndef GHIT_BADGE_TEXT_H
#define GHIT_BADGE_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Room for a 256-byte text uppercased (a code point's uppercase is at most 3). */
#define BADGE_TEXT_CPS 768

struct badge_text {
    uint32_t cp[BADGE_TEXT_CPS];
    size_t n;
};

/*
 * Fills t from the NUL-terminated bytes s (NULL is empty), keeping at most
 * max_bytes (<= 256) of UTF-8 after dropping and before trimming the end.
 */
void badge_text_from(struct badge_text *t, const char *s, size_t max_bytes);

/* JavaScript's toUpperCase() over the whole text, in place (for-the-badge). */
void badge_text_upper(struct badge_text *t);

/* JavaScript's s.charAt(0).toUpperCase() + s.slice(1), in place (social). */
void badge_text_capitalize(struct badge_text *t);

/* JavaScript's s.length: UTF-16 code units. */
size_t badge_text_utf16_len(const struct badge_text *t);

/* Appends t as UTF-8, with & < > " ' written as badge-maker's entities. */
void badge_text_put_xml(struct buf *out, const struct badge_text *t);

/* Appends t as UTF-8. */
void badge_text_put_utf8(struct buf *out, const struct badge_text *t);

#endif
