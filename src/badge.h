/*
 * badge: renders shields.io-compatible SVG badges. Pure: no I/O, no HTTP.
 *
 * A badge is a label (left) and a message (right). struct badge_look holds
 * everything about a badge except its message: the look (style, colours,
 * label, theme) and what it shows (view, number format). The server fills one
 * from its defaults, then from the request's query parameters; the CLI fills
 * one from options. badge_render() turns a look and a message into SVG.
 */
#ifndef GHIT_BADGE_H
#define GHIT_BADGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "numfmt.h"

enum badge_style { BADGE_FLAT, BADGE_FLAT_SQUARE, BADGE_PLASTIC, BADGE_FOR_THE_BADGE, BADGE_SOCIAL };

/* Which counts a badge shows. */
enum badge_view { BADGE_VIEW_TOTAL, BADGE_VIEW_TODAY, BADGE_VIEW_TODAY_TOTAL };

/* The longest label kept, in bytes; a longer one is cut at a character boundary. */
#define BADGE_LABEL_MAX 128

struct badge_look {
    enum badge_style style;
    enum badge_view view;
    struct numfmt fmt;
    bool theme_auto;
    /* Borrowed strings: they must outlive the look. NULL means the style's default. */
    const char *label;
    const char *color;
    const char *label_color;
};

/* Fills look with ghit's defaults: flat, label "hits", total, grouped with ",". */
void badge_look_init(struct badge_look *look);

/*
 * Applies one parameter (a query parameter or a CLI option) by its
 * shields.io name: style, label, color, labelColor, theme, view, format, sep.
 * Returns NULL when applied or when name is not a look parameter (other
 * parameters, e.g. repo or a cache-busting v=2, are none of the badge's
 * business), or a message saying what is wrong with value. value is
 * borrowed (see struct badge_look).
 */
const char *badge_look_set(struct badge_look *look, const char *name, const char *value);

/*
 * Writes the message for the counts into out (size n, NUL-terminated) as
 * look->view and look->fmt say, e.g. "1,234" or "12 / 3,456".
 */
void badge_message(char *out, size_t n, const struct badge_look *look, uint64_t total,
                   uint64_t today);

/* Appends the SVG of a badge with this look and message to out. */
void badge_render(struct buf *out, const struct badge_look *look, const char *message);

/*
 * Appends an error badge: look's style and label, message in red. Used for
 * every error a badge URL can meet, so that an error still shows as a badge.
 */
void badge_render_error(struct buf *out, const struct badge_look *look, const char *message);

#endif
