/*
 * badge_color: colour values, following badge-maker@6's lib/color.js and the
 * css-color-converter@2 parser it relies on (see badge_color.h for the rules).
 *
 * The CSS forms are matched by hand-written scanners that accept exactly
 * what css-color-converter's regular expressions accept (with ASCII white
 * space for \s). The red, green and blue values are then computed with the
 * same double arithmetic as that JavaScript, including its habit of turning a
 * number back into a string for parseInt(): that only matters for choosing
 * white or dark text, but then it matters to the byte.
 */
#include "badge_color.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"

struct named {
    const char *name;
    const char *svg;
};

/* badge-maker's namedColors, then its aliases, already resolved. */
static const struct named shields_colors[] = {
    {"brightgreen", "#4b0"},    {"green", "#67ac09"},     {"yellow", "#d8b800"},
    {"yellowgreen", "#95991a"}, {"orange", "#ea7233"},    {"red", "#dd4343"},
    {"blue", "#007ec6"},        {"grey", "#555"},         {"lightgrey", "#939393"},
    {"gray", "#555"},           {"lightgray", "#939393"}, {"critical", "#dd4343"},
    {"important", "#ea7233"},   {"success", "#4b0"},      {"informational", "#007ec6"},
    {"inactive", "#939393"},
};

/* White space around a value, which ghit trims. */
static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/*
 * White space inside rgb() and hsl(): css-color-converter's \s, but only the
 * space character, so that an emitted colour never holds a tab or a newline.
 */
static bool is_inner_ws(char c)
{
    return c == ' ';
}

/* A cursor over the value being scanned. */
struct cur {
    const char *p, *end;
};

static void skip_ws(struct cur *c)
{
    while (c->p < c->end && is_inner_ws(*c->p))
        c->p++;
}

/* \s+ : at least one white-space character. */
static bool need_ws(struct cur *c)
{
    if (c->p >= c->end || !is_inner_ws(*c->p))
        return false;
    skip_ws(c);
    return true;
}

static bool lit(struct cur *c, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
        return false;
    c->p += n;
    return true;
}

/* \d+ ; returns its value as JavaScript's parseInt(digits, 10) would. */
static bool digits(struct cur *c, double *v)
{
    const char *start = c->p;
    while (c->p < c->end && ascii_is_digit((unsigned char)*c->p))
        c->p++;
    if (c->p == start)
        return false;
    char tmp[BADGE_COLOR_MAX + 1];
    size_t n = (size_t)(c->p - start);
    memcpy(tmp, start, n); /* n <= BADGE_COLOR_MAX: the whole value is no longer */
    tmp[n] = '\0';
    *v = strtod(tmp, NULL);
    return true;
}

/* The alpha alternatives (0|1|0?\.\d+|\d+%); the caller checks what follows. */
static bool alpha(struct cur *c)
{
    const char *start = c->p;
    double ignored;
    if (c->p < c->end && *c->p == '.') {
        c->p++;
        return digits(c, &ignored);
    }
    if (!digits(c, &ignored))
        return false;
    size_t n = (size_t)(c->p - start);
    if (c->p < c->end && *c->p == '%') {
        c->p++;
        return true;
    }
    if (n == 1 && *start == '0' && c->p + 1 < c->end && c->p[0] == '.' &&
        ascii_is_digit((unsigned char)c->p[1])) {
        c->p++;
        return digits(c, &ignored);
    }
    return n == 1 && (*start == '0' || *start == '1');
}

/* \s*\)$ */
static bool close_paren(struct cur *c)
{
    skip_ws(c);
    return c->p + 1 == c->end && *c->p == ')';
}

/*
 * JavaScript's parseInt(x, 10) for a number x: it goes through String(x),
 * which writes exponent notation below 1e-6 and from 1e21 on, and parseInt
 * then keeps only the digit before the point ("1e+23" gives 1).
 */
static double js_parseint_num(double x)
{
    if (isnan(x) || isinf(x))
        return NAN;
    double a = fabs(x);
    if (a == 0.0)
        return 0.0;
    if (a >= 1e-6 && a < 1e21)
        return trunc(x);
    char s[40];
    for (int prec = 0; prec < 17; prec++) { /* the shortest round-tripping form */
        snprintf(s, sizeof s, "%.*e", prec, a);
        if (strtod(s, NULL) == a)
            break;
    }
    double d = s[0] - '0';
    return x < 0 ? -d : d;
}

/* css-color-converter's Color constructor: parseInt, then clamp to 0..255. */
static double component(double v)
{
    v = js_parseint_num(v);
    if (isnan(v))
        return v;
    return v > 255 ? 255 : v < 0 ? 0 : v;
}

/* JavaScript's Math.round: halves go towards +infinity. */
static double js_round(double x)
{
    double r = floor(x);
    return x - r >= 0.5 ? r + 1 : r;
}

/* rgb(), rgba() in their four css-color-converter forms. */
static bool parse_rgb(struct cur *c, double rgb[3])
{
    if (!lit(c, "rgb"))
        return false;
    lit(c, "a");
    if (!lit(c, "("))
        return false;
    skip_ws(c);
    bool comma = false;
    int pct = -1;
    for (int i = 0; i < 3; i++) {
        if (i > 0) {
            if (i == 1) {
                const char *save = c->p;
                skip_ws(c);
                comma = c->p < c->end && *c->p == ',';
                c->p = save;
            }
            if (comma) {
                skip_ws(c);
                if (!lit(c, ","))
                    return false;
                skip_ws(c);
            } else if (!need_ws(c)) {
                return false;
            }
        }
        double v;
        if (!digits(c, &v))
            return false;
        int is_pct = lit(c, "%");
        if (pct >= 0 && pct != is_pct)
            return false;
        pct = is_pct;
        rgb[i] = is_pct ? v * 255 / 100 : v;
    }
    const char *save = c->p;
    skip_ws(c);
    if (lit(c, comma ? "," : "/")) {
        skip_ws(c);
        if (!alpha(c))
            return false;
    } else {
        c->p = save;
    }
    return close_paren(c);
}

/* css-color-converter's hslToRgb(), to the last bit. */
static void hsl_to_rgb(double h, double s, double l, double rgb[3])
{
    double hprim = h / 60, sprim = s / 100, lprim = l / 100;
    double ch = (1 - fabs(2 * lprim - 1)) * sprim;
    double x = ch * (1 - fabs(fmod(hprim, 2) - 1));
    double m = lprim - ch / 2;
    double r, g, b;
    if (hprim < 1)
        r = ch, g = x, b = 0;
    else if (hprim < 2)
        r = x, g = ch, b = 0;
    else if (hprim < 3)
        r = 0, g = ch, b = x;
    else if (hprim < 4)
        r = 0, g = x, b = ch;
    else if (hprim < 5)
        r = x, g = 0, b = ch;
    else
        r = ch, g = 0, b = x;
    rgb[0] = (r + m) * 255;
    rgb[1] = (g + m) * 255;
    rgb[2] = (b + m) * 255;
}

/* hsl(), hsla(): integer hue with an optional unit, integer percentages. */
static bool parse_hsl(struct cur *c, double rgb[3])
{
    if (!lit(c, "hsl"))
        return false;
    lit(c, "a");
    if (!lit(c, "("))
        return false;
    skip_ws(c);
    double h, s, l;
    if (!digits(c, &h))
        return false;
    double to_deg = 1; /* css-unit-converter's factors, then its 5-decimal rounding */
    if (lit(c, "deg"))
        to_deg = 1;
    else if (lit(c, "rad"))
        to_deg = 180 / M_PI;
    else if (lit(c, "grad"))
        to_deg = 0.9;
    else if (lit(c, "turn"))
        to_deg = 360;
    h = js_round(to_deg * h * 100000) / 100000;
    skip_ws(c);
    if (!lit(c, ","))
        return false;
    skip_ws(c);
    if (!digits(c, &s) || !lit(c, "%"))
        return false;
    skip_ws(c);
    if (!lit(c, ","))
        return false;
    skip_ws(c);
    if (!digits(c, &l) || !lit(c, "%"))
        return false;
    const char *save = c->p;
    skip_ws(c);
    if (lit(c, ",")) {
        skip_ws(c);
        if (!alpha(c))
            return false;
    } else {
        c->p = save;
    }
    if (!close_paren(c))
        return false;
    hsl_to_rgb(h, s, l, rgb);
    return true;
}

static int css_name_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct badge_css_color *)elem)->name);
}

/* css-color-converter's fromString(): the colour's red, green and blue, or false. */
static bool css_parse(const char *s, size_t n, double rgb[3])
{
    char name[BADGE_COLOR_MAX + 1];
    if (n == 0 || n > BADGE_COLOR_MAX)
        return false;
    memcpy(name, s, n);
    name[n] = '\0';
    const struct badge_css_color *cc = bsearch(name, badge_css_colors, badge_css_colors_len,
                                               sizeof badge_css_colors[0], css_name_cmp);
    if (cc) {
        rgb[0] = cc->r, rgb[1] = cc->g, rgb[2] = cc->b;
        return true;
    }
    if (s[0] == '#') {
        size_t nd = n - 1;
        if (nd != 3 && nd != 4 && nd != 6 && nd != 8)
            return false;
        for (size_t i = 1; i < n; i++)
            if (ascii_hex_digit((unsigned char)s[i]) < 0)
                return false;
        for (int i = 0; i < 3; i++)
            rgb[i] = nd <= 4 ? ascii_hex_digit((unsigned char)s[1 + i]) * 17
                             : ascii_hex_digit((unsigned char)s[1 + 2 * i]) * 16 +
                                   ascii_hex_digit((unsigned char)s[2 + 2 * i]);
        return true;
    }
    struct cur c = {s, s + n};
    double v[3];
    if (parse_rgb(&c, v) || (c.p = s, parse_hsl(&c, v))) {
        for (int i = 0; i < 3; i++)
            rgb[i] = component(v[i]);
        return true;
    }
    return false;
}

bool badge_color_resolve(const char *value, char *out, size_t n)
{
    if (!value)
        return false;
    size_t len = strlen(value);
    while (len && is_ws(*value))
        value++, len--;
    while (len && is_ws(value[len - 1]))
        len--;
    if (len == 0 || len > BADGE_COLOR_MAX || n < sizeof "#rrggbb")
        return false;
    for (size_t i = 0; i < sizeof shields_colors / sizeof shields_colors[0]; i++) {
        if (strlen(shields_colors[i].name) == len &&
            memcmp(shields_colors[i].name, value, len) == 0) {
            snprintf(out, n, "%s", shields_colors[i].svg);
            return true;
        }
    }
    bool bare_hex = len == 3 || len == 6;
    for (size_t i = 0; i < len && bare_hex; i++)
        bare_hex = ascii_hex_digit((unsigned char)value[i]) >= 0;
    double rgb[3];
    if (n < len + 1 + bare_hex || (!bare_hex && !css_parse(value, len, rgb)))
        return false;
    size_t o = 0;
    if (bare_hex)
        out[o++] = '#';
    for (size_t i = 0; i < len; i++) {
        char ch = value[i];
        out[o++] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
    }
    out[o] = '\0';
    return true;
}

bool badge_color_is_light(const char *svg_color)
{
    double rgb[3];
    if (!svg_color || !css_parse(svg_color, strlen(svg_color), rgb))
        return false; /* brightness() is 0 for what it cannot read */
    if (isnan(rgb[0]) || isnan(rgb[1]) || isnan(rgb[2]))
        return true; /* NaN <= 0.69 is false in JavaScript */
    /*
     * badge-maker: +(sum / 255000).toFixed(2) <= 0.69 means dark. With integer
     * components the sum is an integer, and that holds exactly for sums up to
     * 177225 (checked for every sum from 0 to 255000 against node).
     */
    double sum = rgb[0] * 299 + rgb[1] * 587 + rgb[2] * 114;
    return sum > 177225;
}
