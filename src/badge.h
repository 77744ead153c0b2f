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

enum badge_style {
    BADGE_FLAT,
    BADGE_FLAT_SQUARE,
    BADGE_PLASTIC,
    BADGE_FOR_THE_BADGE,
    BADGE_SOCIAL
};

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
 * borrowed (see struct badge_look). An empty value leaves look as it is, so
 * that it means the caller's default (the server's --style, --color, ...),
 * but for label and sep, where it means something of its own.
 *
 *   style       flat (default), flat-square, plastic, for-the-badge, social;
 *               anything else is refused.
 *   label       any text; empty hides the label part, as on shields.io.
 *               Control characters are dropped, invalid UTF-8 shows as
 *               U+FFFD, and it is cut to BADGE_LABEL_MAX bytes.
 *   color       message colour; also colorB (shields' old name). Every form
 *   labelColor  shields.io takes (badge_color.h); also label_color, colorA.
 *               Never refused: an invalid colour falls back to the default
 *               (#4c1 for color, #555 for labelColor) as shields.io falls
 *               back to its own.
 *   theme       light (default) or auto: a prefers-color-scheme
 *               rule darkens the default label part (social: the whole
 *               badge) for viewers in dark mode.
 *   view        total (default), today, today-total ("12 / 3,456").
 *   format      grouped (default), plain, short (1.2k, 12k, 1.2M, 3.4B).
 *   sep         group separator of grouped: comma "," (default), dot ".",
 *               space " ", thin (U+2009 THIN SPACE), apostrophe "'",
 *               underscore "_", none; the separator itself ("," "." " " "'"
 *               "_" or empty for none) is accepted too.
 * A refused value leaves look unchanged. Messages are static strings; a
 * refused choice's is "NAME must be " and the choices (badge_look_choices_put()).
 */
const char *badge_look_set(struct badge_look *look, const char *name, const char *value);

/* The i-th name badge_look_set() takes (synonyms included), or NULL past the last. */
const char *badge_look_param_name(size_t i);

/* Whether badge_look_set() takes name. */
bool badge_look_param(const char *name);

/*
 * The values parameter name takes by name, its default first, NULL-terminated
 * (sep's literal separators left out); NULL if it takes free text (label,
 * the colours) or is no look parameter.
 */
const char *const *badge_look_choices(const char *name);

/*
 * Appends parameter name's choices (those of badge_look_choices(), in order)
 * to out, sep between two and last before the last: ", " and " or " give
 * "total, today or today-total", as badge_look_set()'s refusal lists them.
 * Appends nothing for a free-text or unknown name.
 */
void badge_look_choices_put(struct buf *out, const char *name, const char *sep, const char *last);

/*
 * Appends look's label as its badge shows it, as UTF-8: control characters
 * dropped, invalid UTF-8 as U+FFFD, cut to BADGE_LABEL_MAX bytes (before a
 * style's change of case).
 */
void badge_label_put(struct buf *out, const struct badge_look *look);

/*
 * Writes the message for the counts into out (size n, NUL-terminated) as
 * look->view and look->fmt say, e.g. "1,234" or "12 / 3,456".
 */
void badge_message(char *out, size_t n, const struct badge_look *look, uint64_t total,
                   uint64_t today);

/*
 * Appends the SVG of a badge with this look and message to out: byte for
 * byte what shields.io's badge-maker@6 makes of the same label, message,
 * colours and style (theme=auto aside). message is any bytes, treated as the
 * label is (cut at 256 bytes). Thread-safe; no allocation besides out's.
 */
void badge_render(struct buf *out, const struct badge_look *look, const char *message);

/*
 * Appends an error badge: look's style and label, message in red. Used for
 * every error a badge URL can meet, so that an error still shows as a badge.
 */
void badge_render_error(struct buf *out, const struct badge_look *look, const char *message);

#endif
