/*
 * badge_color: badge colours accepted and emitted as shields.io's badge-maker@6 does.
 *
 * Accepted, in this order (badge-maker's normalizeColor/toSvgColor):
 *   1. shields' names: brightgreen green yellow yellowgreen orange red blue
 *      grey lightgrey, and the aliases gray lightgray critical important
 *      success informational inactive; emitted as shields' hex value;
 *   2. 3 or 6 hex digits without '#' ("4c1", "FFAA00"): emitted "#" + lowercase;
 *   3. a CSS colour as css-color-converter reads it, emitted lowercased:
 *      #rgb #rgba #rrggbb #rrggbbaa, rgb()/rgba() with integers or integer
 *      percentages (comma or space syntax, optional alpha), hsl()/hsla()
 *      with an integer hue (deg|rad|grad|turn) and integer percentages, and
 *      the 148 CSS named colours (lowercase, as css-color-converter).
 * Inside rgb() and hsl() only the space character counts as white space.
 * ghit trims ASCII white space around a value first (badge-maker keeps it in
 * the emitted value, which then is not a colour for its own brightness test)
 * and refuses values longer than BADGE_COLOR_MAX. Anything else is invalid;
 * badge_render() then uses the default colour (documented in badge.h).
 * Every emitted colour matches [a-z0-9#(),.%/ ]*, so it is safe in an XML
 * attribute without escaping. Pure, thread-safe.
 */
#ifndef GHIT_BADGE_COLOR_H
#define GHIT_BADGE_COLOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest colour value accepted, in bytes, and the size of an output buffer. */
#define BADGE_COLOR_MAX 64

struct badge_css_color {
    const char *name;
    uint8_t r, g, b;
};

extern const struct badge_css_color badge_css_colors[];
extern const size_t badge_css_colors_len;

/*
 * Resolves value as badge-maker's toSvgColor(): on success writes the colour
 * to emit into out (size >= BADGE_COLOR_MAX + 1) and returns true; returns
 * false (out untouched) when value is NULL or not a colour.
 */
bool badge_color_resolve(const char *value, char *out, size_t n);

/*
 * Whether a background of this resolved colour takes dark text (#333 on
 * #ccc shadow) rather than white: badge-maker's brightness() > 0.69.
 */
bool badge_color_is_light(const char *svg_color);

#endif
