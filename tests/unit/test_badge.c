/*
 * test_badge: parameters, messages, golden SVGs, escaping and hostile input.
 *
 * The golden files in tests/golden are badge-maker@6's own output for the
 * plain styles (tests/golden/regen.sh), so these tests pin byte-identity with
 * shields.io even where node is not installed; auto-*.svg pin ghit's
 * theme=auto. The tests run from the repository root (the Makefile does so).
 */
#include "badge.h"

#include <stdlib.h>

#include "buf.h"
#include "test.h"

/* Renders with look and message into a static buffer's string. */
static const char *render(const struct badge_look *look, const char *message)
{
    static struct buf b;
    if (!b.data)
        buf_init(&b);
    buf_reset(&b);
    badge_render(&b, look, message);
    return b.data;
}

/* The golden file's content without its final newline; NULL if unreadable. */
static char *golden(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "tests/golden/%s", name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s (run from the repository root)\n", path);
        return NULL;
    }
    static char data[65536];
    size_t n = fread(data, 1, sizeof data - 1, f);
    fclose(f);
    if (n && data[n - 1] == '\n')
        n--;
    data[n] = '\0';
    return data;
}

static void check_golden(const char *file, const char *style, bool theme_auto, bool error,
                         const char *message)
{
    struct badge_look look;
    badge_look_init(&look);
    CHECK(badge_look_set(&look, "style", style) == NULL);
    if (theme_auto)
        CHECK(badge_look_set(&look, "theme", "auto") == NULL);
    struct buf b;
    buf_init(&b);
    if (error)
        badge_render_error(&b, &look, message);
    else
        badge_render(&b, &look, message);
    const char *want = golden(file);
    CHECK(want != NULL);
    if (want && strcmp(b.data, want) != 0) {
        fprintf(stderr, "%s differs:\n got  %s\n want %s\n", file, b.data, want);
        test_failures_in_current++;
    }
    buf_fini(&b);
}

static void test_golden(void)
{
    static const char *const styles[] = {"flat", "flat-square", "plastic", "for-the-badge",
                                         "social"};
    char file[64];
    for (size_t i = 0; i < 5; i++) {
        snprintf(file, sizeof file, "%s.svg", styles[i]);
        check_golden(file, styles[i], false, false, "1,234");
        snprintf(file, sizeof file, "auto-%s.svg", styles[i]);
        check_golden(file, styles[i], true, false, "1,234");
    }
    check_golden("error-flat.svg", "flat", false, true, "repo must be OWNER/NAME");
}

static void test_defaults(void)
{
    struct badge_look look;
    badge_look_init(&look);
    CHECK_INT(look.style, BADGE_FLAT);
    CHECK_INT(look.view, BADGE_VIEW_TOTAL);
    CHECK_INT(look.fmt.style, NUMFMT_GROUPED);
    CHECK_STR(look.fmt.sep, ",");
    CHECK(!look.theme_auto);
    const char *svg = render(&look, "5");
    CHECK(strstr(svg, "aria-label=\"hits: 5\"") != NULL);
    CHECK(strstr(svg, "fill=\"#4c1\"") != NULL);
    CHECK(strstr(svg, "fill=\"#555\"") != NULL);
}

static void test_look_set(void)
{
    struct badge_look look;
    badge_look_init(&look);
    static const char *const styles[] = {"flat", "flat-square", "plastic", "for-the-badge",
                                         "social"};
    for (int i = 0; i < 5; i++) {
        CHECK(badge_look_set(&look, "style", styles[i]) == NULL);
        CHECK_INT(look.style, i);
    }
    /* empty is the caller's default: the look as it is */
    CHECK(badge_look_set(&look, "style", "") == NULL);
    CHECK_INT(look.style, BADGE_SOCIAL);
    CHECK(badge_look_set(&look, "style", "Flat") != NULL);
    CHECK(badge_look_set(&look, "style", "round") != NULL);
    CHECK_INT(look.style, BADGE_SOCIAL); /* a refused value changes nothing */

    CHECK(badge_look_set(&look, "label", "views") == NULL);
    CHECK_STR(look.label, "views");
    CHECK(badge_look_set(&look, "color", "blue") == NULL);
    CHECK_STR(look.color, "blue");
    CHECK(badge_look_set(&look, "color", "") == NULL);
    CHECK_STR(look.color, "blue");
    CHECK(badge_look_set(&look, "labelColor", "#abc") == NULL);
    CHECK_STR(look.label_color, "#abc");
    CHECK(badge_look_set(&look, "label_color", "red") == NULL);
    CHECK_STR(look.label_color, "red");
    CHECK(badge_look_set(&look, "labelColor", "") == NULL);
    CHECK_STR(look.label_color, "red");
    /* an invalid colour is not an error: it falls back at render time, as on shields.io */
    CHECK(badge_look_set(&look, "color", "nonsense") == NULL);

    CHECK(badge_look_set(&look, "theme", "auto") == NULL);
    CHECK(look.theme_auto);
    CHECK(badge_look_set(&look, "theme", "light") == NULL);
    CHECK(!look.theme_auto);
    CHECK(badge_look_set(&look, "theme", "dusk") != NULL);
    CHECK(badge_look_set(&look, "theme", "auto") == NULL);
    CHECK(badge_look_set(&look, "theme", "") == NULL);
    CHECK(look.theme_auto);
    CHECK(badge_look_set(&look, "view", "today") == NULL);
    CHECK(badge_look_set(&look, "view", "") == NULL);
    CHECK_INT(look.view, BADGE_VIEW_TODAY);
    CHECK(badge_look_set(&look, "view", "total") == NULL);

    CHECK(badge_look_set(&look, "view", "today") == NULL);
    CHECK_INT(look.view, BADGE_VIEW_TODAY);
    CHECK(badge_look_set(&look, "view", "today-total") == NULL);
    CHECK_INT(look.view, BADGE_VIEW_TODAY_TOTAL);
    CHECK(badge_look_set(&look, "view", "week") != NULL);

    CHECK(badge_look_set(&look, "format", "short") == NULL);
    CHECK_INT(look.fmt.style, NUMFMT_SHORT);
    CHECK(badge_look_set(&look, "format", "plain") == NULL);
    CHECK_INT(look.fmt.style, NUMFMT_PLAIN);
    CHECK(badge_look_set(&look, "format", "metric") != NULL);
    CHECK(badge_look_set(&look, "format", "") == NULL);
    CHECK_INT(look.fmt.style, NUMFMT_PLAIN);

    static const char *const seps[][2] = {
        {"comma", ","},      {"dot", "."}, {"space", " "}, {"thin", "\u2009"}, {"apostrophe", "'"},
        {"underscore", "_"}, {"none", ""}, {".", "."},     {"'", "'"},         {"", ""},
    };
    for (size_t i = 0; i < sizeof seps / sizeof seps[0]; i++) {
        CHECK(badge_look_set(&look, "sep", seps[i][0]) == NULL);
        CHECK_STR(look.fmt.sep, seps[i][1]);
    }
    CHECK(badge_look_set(&look, "sep", "semicolon") != NULL);
    CHECK(badge_look_set(&look, "sep", ";") != NULL);

    /* not the badge's business */
    CHECK(badge_look_set(&look, "repo", "a/b") == NULL);
    CHECK(badge_look_set(&look, "v", "2") == NULL);
}

/*
 * The names and choices the CLI's --batch and the dashboard's builder take
 * from badge.c: each name is one badge_look_set() applies, each choice is
 * taken and changes the look from one made with another choice.
 */
static void test_look_params(void)
{
    size_t n = 0;
    for (const char *name; (name = badge_look_param_name(n)); n++)
        CHECK(badge_look_param(name));
    CHECK_INT(n, 11);
    CHECK(badge_look_param("colorB"));
    CHECK(badge_look_param("label_color"));
    CHECK(!badge_look_param("repo"));
    CHECK(!badge_look_param(NULL));
    CHECK(badge_look_choices("label") == NULL);
    CHECK(badge_look_choices("repo") == NULL);
    const char *params[] = {"style", "view", "format", "sep", "theme"};
    for (size_t p = 0; p < sizeof params / sizeof params[0]; p++) {
        const char *const *c = badge_look_choices(params[p]);
        CHECK(c && c[0] && c[1]);
        for (size_t i = 0; c && c[i]; i++) {
            struct badge_look a, b;
            badge_look_init(&a);
            badge_look_init(&b);
            CHECK(badge_look_set(&a, params[p], c[i]) == NULL);
            CHECK(badge_look_set(&b, params[p], c[i == 0 ? 1 : 0]) == NULL);
            CHECK(a.style != b.style || a.view != b.view || a.fmt.style != b.fmt.style ||
                  strcmp(a.fmt.sep, b.fmt.sep) != 0 || a.theme_auto != b.theme_auto);
        }
    }
    /* ghit's default comes first */
    struct badge_look d, e;
    badge_look_init(&d);
    badge_look_init(&e);
    e.style = BADGE_SOCIAL;
    e.view = BADGE_VIEW_TODAY;
    e.fmt.style = NUMFMT_SHORT;
    e.theme_auto = true;
    snprintf(e.fmt.sep, sizeof e.fmt.sep, "%s", ".");
    const char *params0[] = {"style", "view", "format", "sep", "theme"};
    for (size_t p = 0; p < sizeof params0 / sizeof params0[0]; p++)
        CHECK(badge_look_set(&e, params0[p], badge_look_choices(params0[p])[0]) == NULL);
    CHECK(d.style == e.style && d.view == e.view && d.fmt.style == e.fmt.style &&
          strcmp(d.fmt.sep, e.fmt.sep) == 0 && d.theme_auto == e.theme_auto);
}

/* Appends name's choices with sep and last between them (badge_look_choices_put()), as text. */
static const char *choices_text(struct buf *b, const char *name, const char *sep, const char *last)
{
    buf_reset(b);
    badge_look_choices_put(b, name, sep, last);
    return b->data;
}

/*
 * One table lists each parameter's choices: the text the dashboard's
 * <select>s are filled from, and the refusal of a value not among them,
 * both read it (the theme's refusal once listed them in another order).
 */
static void test_choices_text(void)
{
    struct buf b, want;
    buf_init(&b);
    buf_init(&want);
    CHECK_STR(choices_text(&b, "style", " ", " "), "flat flat-square plastic for-the-badge social");
    CHECK_STR(choices_text(&b, "view", " ", " "), "total today today-total");
    CHECK_STR(choices_text(&b, "format", " ", " "), "grouped plain short");
    CHECK_STR(choices_text(&b, "sep", " ", " "), "comma dot space thin apostrophe underscore none");
    CHECK_STR(choices_text(&b, "theme", " ", " "), "light auto");
    CHECK_STR(choices_text(&b, "view", ", ", " or "), "total, today or today-total");
    CHECK_STR(choices_text(&b, "label", " ", " "), "");
    CHECK_STR(choices_text(&b, "colorB", " ", " "), "");
    CHECK_STR(choices_text(&b, "repo", " ", " "), "");
    CHECK_STR(choices_text(&b, NULL, " ", " "), "");

    struct badge_look look;
    badge_look_init(&look);
    CHECK_STR(badge_look_set(&look, "style", "round"),
              "style must be flat, flat-square, plastic, for-the-badge or social");
    CHECK_STR(badge_look_set(&look, "theme", "dusk"), "theme must be light or auto");
    CHECK_STR(badge_look_set(&look, "sep", ";"),
              "sep must be comma, dot, space, thin, apostrophe, underscore or none");
    /* every choice parameter's refusal lists its choices, the same string each time */
    const char *name;
    for (size_t i = 0; (name = badge_look_param_name(i)); i++) {
        if (!badge_look_choices(name))
            continue;
        buf_reset(&want);
        buf_printf(&want, "%s must be %s", name, choices_text(&b, name, ", ", " or "));
        const char *why = badge_look_set(&look, name, "no-such-choice");
        CHECK_STR(why, want.data);
        CHECK(badge_look_set(&look, name, "no-such-choice") == why);
    }
    buf_fini(&b);
    buf_fini(&want);
}

static void test_message(void)
{
    struct badge_look look;
    char out[2 * NUMFMT_OUT_MAX];
    badge_look_init(&look);
    badge_message(out, sizeof out, &look, 3456, 12);
    CHECK_STR(out, "3,456");
    look.view = BADGE_VIEW_TODAY;
    badge_message(out, sizeof out, &look, 3456, 12);
    CHECK_STR(out, "12");
    look.view = BADGE_VIEW_TODAY_TOTAL;
    badge_message(out, sizeof out, &look, 3456, 12);
    CHECK_STR(out, "12 / 3,456");
    CHECK(badge_look_set(&look, "format", "short") == NULL);
    badge_message(out, sizeof out, &look, 1234567, 1500);
    CHECK_STR(out, "1.5k / 1.2M");
    CHECK(badge_look_set(&look, "format", "grouped") == NULL);
    CHECK(badge_look_set(&look, "sep", "dot") == NULL);
    badge_message(out, sizeof out, &look, UINT64_MAX, 0);
    CHECK_STR(out, "0 / 18.446.744.073.709.551.615");
    char small[6];
    badge_message(small, sizeof small, &look, 123456, 0);
    CHECK_STR(small, "0 / 1"); /* truncated, terminated */
}

/* Widths of shields.io badges measured with badge-maker@6. */
static void test_geometry(void)
{
    struct badge_look look;
    badge_look_init(&look);
    CHECK(strstr(render(&look, "1,234"), "width=\"72\" height=\"20\"") != NULL);
    CHECK(badge_look_set(&look, "label", "") == NULL);
    /* no label: the message part alone, 11 px for an empty message */
    CHECK(strstr(render(&look, ""), "width=\"11\" height=\"20\"") != NULL);
    CHECK(strstr(render(&look, "x"), "width=\"17\" height=\"20\"") != NULL);
    CHECK(badge_look_set(&look, "labelColor", "red") == NULL);
    /* an empty label with a labelColor keeps a 10 px label part */
    CHECK(strstr(render(&look, "x"), "width=\"27\" height=\"20\"") != NULL);
    badge_look_init(&look);
    CHECK(badge_look_set(&look, "style", "for-the-badge") == NULL);
    const char *svg = render(&look, "1,234");
    CHECK(strstr(svg, "width=\"115.25\" height=\"28\"") != NULL);
    CHECK(strstr(svg, "x=\"841.25\" y=\"175\" textLength=\"382.5\"") != NULL);
    CHECK(strstr(svg, ">HITS<") != NULL);
    CHECK(badge_look_set(&look, "style", "social") == NULL);
    CHECK(strstr(render(&look, "1,234"), ">Hits<") != NULL);
}

static void test_colors_in_badge(void)
{
    struct badge_look look;
    badge_look_init(&look);
    CHECK(badge_look_set(&look, "color", "blue") == NULL);
    CHECK(strstr(render(&look, "1"), "fill=\"#007ec6\"") != NULL);
    CHECK(badge_look_set(&look, "color", "FFAA00") == NULL);
    CHECK(strstr(render(&look, "1"), "fill=\"#ffaa00\"") != NULL);
    CHECK(badge_look_set(&look, "color", "\"/><script>alert(1)</script>") == NULL);
    const char *svg = render(&look, "1");
    CHECK(strstr(svg, "script") == NULL);
    CHECK(strstr(svg, "fill=\"#4c1\"") != NULL); /* fell back to the default */
    /* a light background takes dark text */
    CHECK(badge_look_set(&look, "color", "white") == NULL);
    CHECK(strstr(render(&look, "1"), "fill=\"#333\">1</text>") != NULL);
    CHECK(badge_look_set(&look, "labelColor", "nope") == NULL);
    CHECK(strstr(render(&look, "1"), "fill=\"#555\"") != NULL);
}

static void test_error_badge(void)
{
    struct badge_look look;
    struct buf b;
    badge_look_init(&look);
    CHECK(badge_look_set(&look, "color", "blue") == NULL);
    CHECK(badge_look_set(&look, "style", "for-the-badge") == NULL);
    buf_init(&b);
    badge_render_error(&b, &look, "invalid repo");
    CHECK(strstr(b.data, "fill=\"#dd4343\"") != NULL);
    CHECK(strstr(b.data, "#007ec6") == NULL);
    CHECK(strstr(b.data, ">INVALID REPO<") != NULL);
    buf_fini(&b);
}

static void test_escaping(void)
{
    struct badge_look look;
    badge_look_init(&look);
    CHECK(badge_look_set(&look, "label", "<a href='x'>&\"") == NULL);
    const char *svg = render(&look, "</svg>&amp;");
    CHECK(strstr(svg, "aria-label=\"&lt;a href=&apos;x&apos;&gt;&amp;&quot;: "
                      "&lt;/svg&gt;&amp;amp;\"") != NULL);
    CHECK(strstr(svg, "<title>&lt;a href=&apos;x&apos;&gt;&amp;&quot;: &lt;/svg&gt;&amp;amp;"
                      "</title>") != NULL);
    CHECK(strstr(svg, "<a ") == NULL);
    CHECK(strstr(svg, "</svg>") == svg + strlen(svg) - 6); /* only the real end tag */
}

static void test_hostile_text(void)
{
    struct badge_look look;
    badge_look_init(&look);
    /* control characters are dropped; invalid UTF-8 becomes U+FFFD, one per bad byte */
    CHECK(badge_look_set(&look, "label", "a\x01\x1b[31mb\x7f\xc2\x85") == NULL);
    CHECK(strstr(render(&look, "\xff\xc3(\xed\xa0\x80z"),
                 "<title>a[31mb: \xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz"
                 "</title>") != NULL);
    /* JavaScript's trim(): ASCII and Unicode white space at both ends */
    CHECK(badge_look_set(&look, "label", " \t\u3000 x y\u00a0 ") == NULL);
    CHECK(strstr(render(&look, "  1  "), "<title>x y: 1</title>") != NULL);
}

static void test_label_cap(void)
{
    struct badge_look look;
    char label[400], want[200];
    badge_look_init(&look);
    memset(label, 'a', 300);
    label[300] = '\0';
    CHECK(badge_look_set(&look, "label", label) == NULL);
    snprintf(want, sizeof want, "<title>%.*s: 1</title>", BADGE_LABEL_MAX, label);
    CHECK(strstr(render(&look, "1"), want) != NULL);
    /* cut at a character boundary: 127 bytes, then a 2-byte character */
    memset(label, 'b', BADGE_LABEL_MAX - 1);
    snprintf(label + BADGE_LABEL_MAX - 1, 16, "%s", "\xc3\xa9tail");
    snprintf(want, sizeof want, "<title>%.*s: 1</title>", BADGE_LABEL_MAX - 1, label);
    CHECK(strstr(render(&look, "1"), want) != NULL);
}

static void test_theme_auto(void)
{
    struct badge_look look;
    badge_look_init(&look);
    CHECK(badge_look_set(&look, "theme", "auto") == NULL);
    const char *svg = render(&look, "1");
    CHECK(strstr(svg, "@media (prefers-color-scheme:dark)") != NULL);
    CHECK(strstr(svg, "class=\"gl\"") != NULL);
    /* an explicit label colour is the user's choice: kept in dark mode too */
    CHECK(badge_look_set(&look, "labelColor", "blue") == NULL);
    svg = render(&look, "1");
    CHECK(strstr(svg, "prefers-color-scheme") == NULL);
    CHECK(badge_look_set(&look, "theme", "light") == NULL);
    CHECK(badge_look_set(&look, "labelColor", "") == NULL);
    CHECK(strstr(render(&look, "1"), "prefers-color-scheme") == NULL);
}

int main(void)
{
    RUN(test_golden);
    RUN(test_defaults);
    RUN(test_look_set);
    RUN(test_look_params);
    RUN(test_choices_text);
    RUN(test_message);
    RUN(test_geometry);
    RUN(test_colors_in_badge);
    RUN(test_error_badge);
    RUN(test_escaping);
    RUN(test_hostile_text);
    RUN(test_label_cap);
    RUN(test_theme_auto);
    return test_main_end("badge");
}
