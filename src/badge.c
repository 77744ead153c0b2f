/*
 * badge: shields.io's badges, written by hand in C (see badge.h).
 *
 * The renderers below follow badge-maker@6 (lib/badge-renderers.js) line for
 * line: the same layout arithmetic in doubles, the same elements and
 * attributes in the same order, the same number formatting (JavaScript's
 * Number to string) and escaping. The output is byte-identical to
 * makeBadge({label, message, color, labelColor, style}); tests/conformance
 * checks that over hundreds of cases. Where ghit deliberately differs:
 *   - the default message colour is #4c1 (the 2015 ghit badge), badge-maker's #4b0;
 *   - an invalid colour falls back to that default (badge-maker does the same
 *     with its own default), an invalid labelColor to #555;
 *   - control characters are dropped and invalid UTF-8 becomes U+FFFD, so
 *     any input gives well-formed XML; labels are cut to BADGE_LABEL_MAX bytes
 *     and messages to BADGE_MESSAGE_MAX;
 *   - theme=auto adds a <style> with a prefers-color-scheme: dark rule and the
 *     class names it needs (ghit's own extension).
 * Links and logos, which a counter has no use for, are left out.
 */
#include "badge.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "badge_color.h"
#include "badge_font.h"
#include "badge_text.h"

#define BADGE_MESSAGE_MAX   256
#define DEFAULT_LABEL       "hits"
#define DEFAULT_COLOR       "#4c1"
#define DEFAULT_LABEL_COLOR "#555"
#define ERROR_COLOR         "red"
#define FONT_FAMILY         "Verdana,Geneva,DejaVu Sans,sans-serif"
#define SOCIAL_FONT_FAMILY  "Helvetica Neue,Helvetica,Arial,sans-serif"

/* Colours of the dark variant of theme=auto: GitHub's dark palette. */
#define DARK_CSS_FLAT "<style>@media (prefers-color-scheme:dark){.gl{fill:#30363d}}</style>"
#define DARK_CSS_SOCIAL                                                                            \
    "<style>@media (prefers-color-scheme:dark){.gb{stroke:#3d444d}.gf{fill:#21262d}"               \
    ".gn{stroke:#21262d}.gt{fill:#e6edf3}.gh{fill:#010409}}</style>"

/* The choices of each enumerated parameter, indexed by what they set, ghit's default first. */
static const char *const style_choices[] = {
    [BADGE_FLAT] = "flat",       [BADGE_FLAT_SQUARE] = "flat-square",
    [BADGE_PLASTIC] = "plastic", [BADGE_FOR_THE_BADGE] = "for-the-badge",
    [BADGE_SOCIAL] = "social",   NULL,
};
static const char *const view_choices[] = {
    [BADGE_VIEW_TOTAL] = "total",
    [BADGE_VIEW_TODAY] = "today",
    [BADGE_VIEW_TODAY_TOTAL] = "today-total",
    NULL,
};
static const char *const format_choices[] = {
    [NUMFMT_GROUPED] = "grouped",
    [NUMFMT_PLAIN] = "plain",
    [NUMFMT_SHORT] = "short",
    NULL,
};
enum { THEME_LIGHT, THEME_AUTO };
static const char *const theme_choices[] = {[THEME_LIGHT] = "light", [THEME_AUTO] = "auto", NULL};
/* Group separators by name; sep_chars[i] is sep_choices[i]'s, itself accepted as well. */
static const char *const sep_choices[] = {"comma",      "dot",        "space", "thin",
                                          "apostrophe", "underscore", "none",  NULL};
static const char *const sep_chars[] = {",", ".", " ", "\u2009", "'", "_", ""};

enum look_param { P_STYLE, P_LABEL, P_COLOR, P_LABEL_COLOR, P_THEME, P_VIEW, P_FORMAT, P_SEP };

/* Every name badge_look_set() takes, shields.io's old ones included. */
static const struct {
    const char *name;
    enum look_param param;
    const char *const *choices; /* NULL: free text */
} look_params[] = {
    {"style", P_STYLE, style_choices},
    {"label", P_LABEL, NULL},
    {"color", P_COLOR, NULL},
    {"colorB", P_COLOR, NULL},
    {"labelColor", P_LABEL_COLOR, NULL},
    {"colorA", P_LABEL_COLOR, NULL},
    {"label_color", P_LABEL_COLOR, NULL},
    {"theme", P_THEME, theme_choices},
    {"view", P_VIEW, view_choices},
    {"format", P_FORMAT, format_choices},
    {"sep", P_SEP, sep_choices},
};
#define NLOOK_PARAMS (sizeof look_params / sizeof look_params[0])

/*
 * The refusal of a value not among a parameter's choices ("view must be
 * total, today or today-total"), by look_params index: made from the
 * choices once, by the first refusal, so the message cannot list other
 * choices than the table. Never freed: badge_look_set() returns them as
 * static strings.
 */
static const char *refusals[NLOOK_PARAMS];
static pthread_once_t refusals_once = PTHREAD_ONCE_INIT;

void badge_look_init(struct badge_look *look)
{
    memset(look, 0, sizeof *look);
    look->style = BADGE_FLAT;
    look->view = BADGE_VIEW_TOTAL;
    look->fmt.style = NUMFMT_GROUPED;
    snprintf(look->fmt.sep, sizeof look->fmt.sep, "%s", ",");
    look->theme_auto = false;
}

/* The index of name in look_params, or -1. */
static int look_param_index(const char *name)
{
    for (size_t i = 0; name && i < NLOOK_PARAMS; i++)
        if (strcmp(name, look_params[i].name) == 0)
            return (int)i;
    return -1;
}

const char *badge_look_param_name(size_t i)
{
    return i < NLOOK_PARAMS ? look_params[i].name : NULL;
}

bool badge_look_param(const char *name)
{
    return look_param_index(name) >= 0;
}

const char *const *badge_look_choices(const char *name)
{
    int i = look_param_index(name);
    return i < 0 ? NULL : look_params[i].choices;
}

void badge_look_choices_put(struct buf *out, const char *name, const char *sep, const char *last)
{
    const char *const *choices = badge_look_choices(name);
    for (size_t i = 0; choices && choices[i]; i++) {
        if (i > 0)
            buf_puts(out, choices[i + 1] ? sep : last);
        buf_puts(out, choices[i]);
    }
}

/* Makes refusals[] (pthread_once: the first refusal may come on any thread). */
static void make_refusals(void)
{
    for (size_t i = 0; i < NLOOK_PARAMS; i++) {
        if (!look_params[i].choices)
            continue;
        struct buf b;
        buf_init(&b);
        buf_puts(&b, look_params[i].name);
        buf_puts(&b, " must be ");
        badge_look_choices_put(&b, look_params[i].name, ", ", " or ");
        refusals[i] = buf_steal(&b);
    }
}

/* The index of value among look_params[p]'s choices (sep's: by name or itself), or -1. */
static int choice_of(int p, const char *value)
{
    const char *const *choices = look_params[p].choices;
    for (int i = 0; choices[i]; i++)
        if (strcmp(value, choices[i]) == 0 ||
            (look_params[p].param == P_SEP && strcmp(value, sep_chars[i]) == 0))
            return i;
    return -1;
}

const char *badge_look_set(struct badge_look *look, const char *name, const char *value)
{
    int p = look_param_index(name);
    if (p < 0)
        return NULL;
    if (!value)
        value = "";
    enum look_param param = look_params[p].param;
    /* Empty is the caller's default (look as it is), but for two that give it a meaning. */
    if (!*value && param != P_LABEL && param != P_SEP)
        return NULL;
    int c = 0;
    if (look_params[p].choices && (c = choice_of(p, value)) < 0) {
        pthread_once(&refusals_once, make_refusals);
        return refusals[p];
    }
    switch (param) {
    case P_STYLE:
        look->style = (enum badge_style)c;
        break;
    case P_LABEL:
        look->label = value;
        break;
    case P_COLOR:
        look->color = value;
        break;
    case P_LABEL_COLOR:
        look->label_color = value;
        break;
    case P_THEME:
        look->theme_auto = c == THEME_AUTO;
        break;
    case P_VIEW:
        look->view = (enum badge_view)c;
        break;
    case P_FORMAT:
        look->fmt.style = (enum numfmt_style)c;
        break;
    case P_SEP:
        snprintf(look->fmt.sep, sizeof look->fmt.sep, "%s", sep_chars[c]);
        break;
    }
    return NULL;
}

void badge_label_put(struct buf *out, const struct badge_look *look)
{
    struct badge_text t;
    badge_text_from(&t, look->label ? look->label : DEFAULT_LABEL, BADGE_LABEL_MAX);
    badge_text_put_utf8(out, &t);
}

void badge_message(char *out, size_t n, const struct badge_look *look, uint64_t total,
                   uint64_t today)
{
    char a[NUMFMT_OUT_MAX], b[NUMFMT_OUT_MAX];
    if (n == 0)
        return;
    switch (look->view) {
    case BADGE_VIEW_TODAY:
        numfmt_format(a, sizeof a, &look->fmt, today);
        snprintf(out, n, "%s", a);
        break;
    case BADGE_VIEW_TODAY_TOTAL:
        numfmt_format(a, sizeof a, &look->fmt, today);
        numfmt_format(b, sizeof b, &look->fmt, total);
        snprintf(out, n, "%s / %s", a, b);
        break;
    default:
        numfmt_format(a, sizeof a, &look->fmt, total);
        snprintf(out, n, "%s", a);
        break;
    }
}

/* ---- output helpers ------------------------------------------------------ */

/*
 * Appends x as JavaScript's String(x) writes it. Every coordinate here is a
 * non-negative multiple of 1/8 far below 1e9, whose shortest decimal form is
 * its exact one: an integer, or up to three decimals without trailing zeros.
 */
static void num(struct buf *b, double x)
{
    char s[48];
    double milli = x * 1000; /* exact for the multiples of 1/8 used here */
    if (x >= 0 && x < 1e9 && milli == (double)(long)milli) {
        /* the common case, without printf: up to three decimals, no trailing zeros */
        long v = (long)milli, frac = v % 1000, whole = v / 1000;
        char *p = s + sizeof s;
        int digits = 3;
        while (frac && frac % 10 == 0)
            frac /= 10, digits--;
        if (frac) {
            for (int i = 0; i < digits; i++, frac /= 10)
                *--p = (char)('0' + frac % 10);
            *--p = '.';
        }
        do {
            *--p = (char)('0' + whole % 10);
            whole /= 10;
        } while (whole);
        buf_append(b, p, (size_t)(s + sizeof s - p));
        return;
    }
    int n = snprintf(s, sizeof s, "%.17g", x); /* not reached by badge geometry */
    if (n > 0 && n < (int)sizeof s)
        buf_append(b, s, (size_t)n);
}

/* Appends a string literal, without measuring it at run time. */
#define PUTS(b, lit) buf_append((b), lit, sizeof(lit) - 1)

/* Appends literal before, then x, then literal after: the common attr="N" piece. */
#define PUT(b, before, x, after) (PUTS(b, before), num((b), (x)), PUTS(b, after))

/* put() for strings that are not literals. */
static void put(struct buf *b, const char *before, double x, const char *after)
{
    buf_puts(b, before);
    num(b, x);
    buf_puts(b, after);
}

/* badge-maker's roundUpToOdd(anafanafo(s) | 0). */
static double preferred_width(const struct badge_font_table *f, const struct badge_text *t)
{
    long w = (long)badge_font_width(f, t->cp, t->n);
    return (double)(w % 2 == 0 ? w + 1 : w);
}

/* The <svg> start tag and <title>: "label: message", or the message alone. */
static void put_head(struct buf *b, double width, double height, const struct badge_text *label,
                     const struct badge_text *message)
{
    PUT(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"", width, "\"");
    PUT(b, " height=\"", height, "\" role=\"img\" aria-label=\"");
    for (int pass = 0; pass < 2; pass++) {
        if (label->n) {
            badge_text_put_xml(b, label);
            PUTS(b, ": ");
        }
        badge_text_put_xml(b, message);
        buf_puts(b, pass == 0 ? "\"><title>" : "</title>");
    }
}

/* The resolved colours of one badge. */
struct colors {
    char color[BADGE_COLOR_MAX + 1];
    char label_color[BADGE_COLOR_MAX + 1];
    bool label_color_set; /* a valid labelColor was given */
};

static void resolve_colors(struct colors *c, const struct badge_look *look)
{
    if (!badge_color_resolve(look->color, c->color, sizeof c->color))
        snprintf(c->color, sizeof c->color, "%s", DEFAULT_COLOR);
    c->label_color_set =
        badge_color_resolve(look->label_color, c->label_color, sizeof c->label_color);
    if (!c->label_color_set)
        snprintf(c->label_color, sizeof c->label_color, "%s", DEFAULT_LABEL_COLOR);
}

/* ---- flat, flat-square, plastic ------------------------------------------ */

/* badge-maker's Badge.getTextElement() without links. */
static void put_text(struct buf *b, enum badge_style style, double margin, double width,
                     const struct badge_text *t, const char *bg)
{
    if (!t->n)
        return;
    bool light = badge_color_is_light(bg);
    double x = 10 * (margin + 0.5 * width + 5), len = 10 * width;
    double y = style == BADGE_PLASTIC ? 130 : 140;
    if (style == BADGE_FLAT_SQUARE) {
        PUT(b, "<text x=\"", x, "\"");
        PUT(b, " y=\"", y, "\"");
        PUT(b, " textLength=\"", len, "\" transform=\"scale(.1)\"");
        buf_puts(b, light ? " fill=\"#333\">" : ">");
        badge_text_put_xml(b, t);
        PUTS(b, "</text>");
        return;
    }
    PUTS(b, "<g transform=\"scale(.1)\"><g aria-hidden=\"true\" fill=\"");
    buf_puts(b, light ? "#ccc" : "#010101");
    for (int i = 0; i < 2; i++) {
        put(b, i == 0 ? "\"><text x=\"" : "</text><text x=\"", x, "\"");
        PUT(b, " y=\"", y + 10, "\"");
        buf_puts(b, i == 0 ? " fill-opacity=\".8\" filter=\"url(#blur)\"" : " fill-opacity=\".3\"");
        PUT(b, " textLength=\"", len, "\">");
        badge_text_put_xml(b, t);
    }
    PUT(b, "</text></g><text x=\"", x, "\"");
    PUT(b, " y=\"", y, "\"");
    PUT(b, " textLength=\"", len, "\"");
    buf_puts(b, light ? " fill=\"#333\">" : ">");
    badge_text_put_xml(b, t);
    PUTS(b, "</text></g>");
}

static void render_classic(struct buf *b, const struct badge_look *look,
                           const struct badge_text *label, const struct badge_text *message,
                           const struct colors *c)
{
    const struct badge_font_table *f = &badge_font_verdana_11;
    enum badge_style style = look->style;
    double height = style == BADGE_PLASTIC ? 18 : 20;
    bool has_label = label->n > 0 || c->label_color_set;
    const char *label_color = has_label ? c->label_color : c->color;
    double label_width = label->n ? preferred_width(f, label) : 0;
    double left = has_label ? label_width + 10 : 0;
    double message_width = preferred_width(f, message);
    double message_margin = left - (message->n ? 1 : 0) + (has_label ? 0 : 1);
    double right = message_width + 10, width = left + right;
    bool dark_label = look->theme_auto && has_label && !c->label_color_set;

    put_head(b, width, height, label, message);
    if (dark_label)
        buf_puts(b, DARK_CSS_FLAT);
    if (style == BADGE_FLAT_SQUARE) {
        PUTS(b, "<g shape-rendering=\"crispEdges\">");
    } else {
        PUTS(b, "<filter id=\"blur\"><feGaussianBlur stdDeviation=\"16\"/></filter>"
                "<linearGradient id=\"s\" x2=\"0\" y2=\"100%\">");
        if (style == BADGE_PLASTIC)
            PUTS(b, "<stop offset=\"0\" stop-color=\"#fff\" stop-opacity=\".7\"/>"
                    "<stop offset=\".1\" stop-color=\"#aaa\" stop-opacity=\".1\"/>"
                    "<stop offset=\".9\" stop-color=\"#000\" stop-opacity=\".3\"/>"
                    "<stop offset=\"1\" stop-color=\"#000\" stop-opacity=\".5\"/>");
        else
            PUTS(b, "<stop offset=\"0\" stop-color=\"#bbb\" stop-opacity=\".1\"/>"
                    "<stop offset=\"1\" stop-opacity=\".1\"/>");
        PUT(b, "</linearGradient><clipPath id=\"r\"><rect width=\"", width, "\"");
        PUT(b, " height=\"", height, "\"");
        buf_puts(b, style == BADGE_PLASTIC ? " rx=\"4\"/>" : " rx=\"3\"/>");
        PUTS(b, "</clipPath><g clip-path=\"url(#r)\">");
    }
    PUT(b, "<rect width=\"", left, "\"");
    PUT(b, " height=\"", height, "\" fill=\"");
    buf_puts(b, label_color);
    buf_puts(b, dark_label ? "\" class=\"gl\"/>" : "\"/>");
    PUT(b, "<rect x=\"", left, "\"");
    PUT(b, " width=\"", right, "\"");
    PUT(b, " height=\"", height, "\" fill=\"");
    buf_puts(b, c->color);
    PUTS(b, "\"/>");
    if (style != BADGE_FLAT_SQUARE) {
        PUT(b, "<rect width=\"", width, "\"");
        PUT(b, " height=\"", height, "\" fill=\"url(#s)\"/>");
    }
    PUTS(b, "</g><g fill=\"#fff\" text-anchor=\"middle\" font-family=\"" FONT_FAMILY
            "\" text-rendering=\"geometricPrecision\" font-size=\"110\">");
    put_text(b, style, 1, label_width, label, label_color);
    put_text(b, style, message_margin, message_width, message, c->color);
    PUTS(b, "</g></svg>");
}

/* ---- for-the-badge ------------------------------------------------------- */

static void render_for_the_badge(struct buf *b, const struct badge_look *look,
                                 struct badge_text *label, struct badge_text *message,
                                 const struct colors *c)
{
    badge_text_upper(label);
    badge_text_upper(message);
    double label_tw = 0, message_tw = 0;
    if (label->n)
        label_tw = (double)(long)badge_font_width(&badge_font_verdana_10, label->cp, label->n) +
                   1.25 * (double)badge_text_utf16_len(label);
    if (message->n)
        message_tw =
            (double)(long)badge_font_width(&badge_font_verdana_10_bold, message->cp, message->n) +
            1.25 * (double)badge_text_utf16_len(message);
    bool has_label = label->n > 0;
    double label_rect = has_label ? 12 + label_tw + 12 : 0;
    double message_x = has_label ? label_rect + 12 : 12;
    double message_rect = 24 + message_tw;
    bool dark_label = look->theme_auto && has_label && !c->label_color_set;

    put_head(b, label_rect + message_rect, 28, label, message);
    if (dark_label)
        buf_puts(b, DARK_CSS_FLAT);
    PUTS(b, "<g shape-rendering=\"crispEdges\">");
    if (has_label) {
        PUT(b, "<rect width=\"", label_rect, "\" height=\"28\" fill=\"");
        buf_puts(b, c->label_color);
        buf_puts(b, dark_label ? "\" class=\"gl\"/>" : "\"/>");
        PUT(b, "<rect x=\"", label_rect, "\"");
        PUT(b, " width=\"", message_rect, "\" height=\"28\" fill=\"");
    } else {
        PUT(b, "<rect width=\"", message_rect, "\" height=\"28\" fill=\"");
    }
    buf_puts(b, c->color);
    PUTS(b, "\"/></g><g fill=\"#fff\" text-anchor=\"middle\" font-family=\"" FONT_FAMILY
            "\" text-rendering=\"geometricPrecision\" font-size=\"100\">");
    if (has_label) {
        PUT(b, "<text transform=\"scale(.1)\" x=\"", 10 * (12 + 0.5 * label_tw), "\"");
        PUT(b, " y=\"175\" textLength=\"", 10 * label_tw, "\"");
        buf_puts(b, badge_color_is_light(c->label_color) ? " fill=\"#333\">" : ">");
        badge_text_put_xml(b, label);
        PUTS(b, "</text>");
    }
    PUT(b, "<text transform=\"scale(.1)\" x=\"", 10 * (message_x + 0.5 * message_tw), "\"");
    PUT(b, " y=\"175\" textLength=\"", 10 * message_tw, "\" font-weight=\"bold\"");
    buf_puts(b, badge_color_is_light(c->color) ? " fill=\"#333\">" : ">");
    badge_text_put_xml(b, message);
    PUTS(b, "</text></g></svg>");
}

/* ---- social -------------------------------------------------------------- */

static void render_social(struct buf *b, const struct badge_look *look, struct badge_text *label,
                          const struct badge_text *message)
{
    const struct badge_font_table *f = &badge_font_helvetica_11_bold;
    bool dark = look->theme_auto;
    badge_text_capitalize(label);
    double label_tw = preferred_width(f, label), message_tw = preferred_width(f, message);
    double label_rect = label_tw + 10, message_rect = message_tw + 8;
    bool has_message = message->n > 0;

    put_head(b, label_rect + 1 + (has_message ? 6 + message_rect : 0), 20, label, message);
    buf_puts(b, "<style>a:hover #llink{fill:url(#b);stroke:#ccc}a:hover #rlink{fill:#4183c4}"
                "</style>");
    if (dark)
        buf_puts(b, DARK_CSS_SOCIAL);
    PUTS(b, "<linearGradient id=\"a\" x2=\"0\" y2=\"100%\"><stop offset=\"0\" "
            "stop-color=\"#fcfcfc\" stop-opacity=\"0\"/><stop offset=\"1\" "
            "stop-opacity=\".1\"/></linearGradient><linearGradient id=\"b\" x2=\"0\" "
            "y2=\"100%\"><stop offset=\"0\" stop-color=\"#ccc\" stop-opacity=\".1\"/><stop "
            "offset=\"1\" stop-opacity=\".1\"/></linearGradient>");
    buf_puts(b, dark ? "<g stroke=\"#d5d5d5\" class=\"gb\">" : "<g stroke=\"#d5d5d5\">");
    PUTS(b, "<rect stroke=\"none\" fill=\"#fcfcfc\" x=\".5\" y=\".5\"");
    PUT(b, " width=\"", label_rect, "\" height=\"19\" rx=\"2\"");
    buf_puts(b, dark ? " class=\"gf\"/>" : "/>");
    if (has_message) {
        double main_x = label_rect + 6 + 0.5, notch_x = label_rect + 6;
        PUT(b, "<rect x=\"", main_x, "\" y=\".5\"");
        PUT(b, " width=\"", message_rect, "\" height=\"19\" rx=\"2\" fill=\"#fafafa\"");
        buf_puts(b, dark ? " class=\"gf\"/>" : "/>");
        PUT(b, "<rect x=\"", notch_x, "\" y=\"7.5\" width=\".5\" height=\"5\" stroke=\"#fafafa\"");
        buf_puts(b, dark ? " class=\"gn\"/>" : "/>");
        PUT(b, "<path d=\"M", main_x, " 6.5 l-3 3v1 l3 3\" fill=\"#fafafa\"");
        buf_puts(b, dark ? " class=\"gf\"/>" : "/>");
    }
    PUTS(b, "</g><g aria-hidden=\"true\" fill=\"#333\" text-anchor=\"middle\" "
            "font-family=\"" SOCIAL_FONT_FAMILY
            "\" text-rendering=\"geometricPrecision\" font-weight=\"700\" font-size=\"110px\" "
            "line-height=\"14px\"");
    buf_puts(b, dark ? " class=\"gt\">" : ">");
    PUT(b, "<rect id=\"llink\" stroke=\"#d5d5d5\" fill=\"url(#a)\" x=\".5\" y=\".5\" width=\"",
        label_rect, "\" height=\"19\" rx=\"2\"");
    buf_puts(b, dark ? " class=\"gb\"/>" : "/>");
    double label_x = 10 * (label_tw / 2 + 5);
    PUT(b, "<text aria-hidden=\"true\" x=\"", label_x, "\" y=\"150\" fill=\"#fff\"");
    put(b,
        dark ? " class=\"gh\" transform=\"scale(.1)\" textLength=\""
             : " transform=\"scale(.1)\" textLength=\"",
        10 * label_tw, "\">");
    badge_text_put_xml(b, label);
    PUT(b, "</text><text x=\"", label_x, "\" y=\"140\" transform=\"scale(.1)\"");
    PUT(b, " textLength=\"", 10 * label_tw, "\">");
    badge_text_put_xml(b, label);
    PUTS(b, "</text>");
    if (has_message) {
        double message_x = 10 * (label_rect + 6 + message_rect / 2);
        PUT(b, "<text aria-hidden=\"true\" x=\"", message_x, "\" y=\"150\" fill=\"#fff\"");
        put(b,
            dark ? " class=\"gh\" transform=\"scale(.1)\" textLength=\""
                 : " transform=\"scale(.1)\" textLength=\"",
            10 * message_tw, "\">");
        badge_text_put_xml(b, message);
        PUT(b, "</text><text id=\"rlink\" x=\"", message_x, "\" y=\"140\" transform=\"scale(.1)\"");
        PUT(b, " textLength=\"", 10 * message_tw, "\">");
        badge_text_put_xml(b, message);
        PUTS(b, "</text>");
    }
    PUTS(b, "</g></svg>");
}

/* ---- entry points -------------------------------------------------------- */

/* Renders with the message colour given (NULL: look's), the one path of both renderers. */
static void render(struct buf *out, const struct badge_look *look, const char *message,
                   const char *color)
{
    struct badge_text label, msg;
    struct colors c;
    struct badge_look l = *look;
    if (color)
        l.color = color;
    badge_text_from(&label, look->label ? look->label : DEFAULT_LABEL, BADGE_LABEL_MAX);
    badge_text_from(&msg, message, BADGE_MESSAGE_MAX);
    resolve_colors(&c, &l);
    switch (look->style) {
    case BADGE_FOR_THE_BADGE:
        render_for_the_badge(out, &l, &label, &msg, &c);
        break;
    case BADGE_SOCIAL:
        render_social(out, &l, &label, &msg);
        break;
    default:
        render_classic(out, &l, &label, &msg, &c);
        break;
    }
}

void badge_render(struct buf *out, const struct badge_look *look, const char *message)
{
    render(out, look, message, NULL);
}

void badge_render_error(struct buf *out, const struct badge_look *look, const char *message)
{
    render(out, look, message, ERROR_COLOR);
}
