/*
 * test_badge_color: which colour values are accepted, what is emitted, and
 * which backgrounds take dark text. Expected values are badge-maker@6's
 * (toSvgColor and brightness, checked with node).
 */
#include "badge_color.h"

#include "test.h"

static const char *resolve(const char *value)
{
    static char out[BADGE_COLOR_MAX + 1];
    return badge_color_resolve(value, out, sizeof out) ? out : "(invalid)";
}

static void test_resolve(void)
{
    static const char *const table[][2] = {
        /* shields' names and aliases */
        {"brightgreen", "#4b0"},
        {"green", "#67ac09"},
        {"yellow", "#d8b800"},
        {"yellowgreen", "#95991a"},
        {"orange", "#ea7233"},
        {"red", "#dd4343"},
        {"blue", "#007ec6"},
        {"grey", "#555"},
        {"lightgrey", "#939393"},
        {"gray", "#555"},
        {"lightgray", "#939393"},
        {"critical", "#dd4343"},
        {"important", "#ea7233"},
        {"success", "#4b0"},
        {"informational", "#007ec6"},
        {"inactive", "#939393"},
        /* bare hex: 3 or 6 digits */
        {"4c1", "#4c1"},
        {"ABC", "#abc"},
        {"FfAa00", "#ffaa00"},
        {"abcd", "(invalid)"},
        {"12", "(invalid)"},
        {"ggg", "(invalid)"},
        /* CSS hex: 3, 4, 6, 8 digits */
        {"#4C1", "#4c1"},
        {"#abcd", "#abcd"},
        {"#ff69b480", "#ff69b480"},
        {"#12", "(invalid)"},
        {"#abcde", "(invalid)"},
        {"#ggg", "(invalid)"},
        /* rgb() */
        {"rgb(1,2,3)", "rgb(1,2,3)"},
        {"rgba( 0 , 0 , 0 , .5 )", "rgba( 0 , 0 , 0 , .5 )"},
        {"rgb(10% 20% 30%)", "rgb(10% 20% 30%)"},
        {"rgb(1 2 3 / 0.5)", "rgb(1 2 3 / 0.5)"},
        {"rgb(1,2,3,50%)", "rgb(1,2,3,50%)"},
        {"rgb(300,300,300)", "rgb(300,300,300)"},
        {"rgb(1,2)", "(invalid)"},
        {"rgb(1,2,3,4)", "(invalid)"},
        {"rgb(1%,2,3)", "(invalid)"},
        {"rgb(1 2,3)", "(invalid)"},
        {"rgb(1,2,3,0.5%)", "(invalid)"},
        {"rgb(1,2,3) x", "(invalid)"},
        {"RGB(1,2,3)", "(invalid)"},
        {"rgb(1,\t2,3)", "(invalid)"}, /* inner white space is the space only */
        /* hsl() */
        {"hsl(120,100%,50%)", "hsl(120,100%,50%)"},
        {"hsla(1turn, 10%, 20%, 1)", "hsla(1turn, 10%, 20%, 1)"},
        {"hsl(1.5,2%,3%)", "(invalid)"},
        {"hsl(10,20,30)", "(invalid)"},
        /* CSS names, lowercase only */
        {"aliceblue", "aliceblue"},
        {"rebeccapurple", "rebeccapurple"},
        {"Red", "(invalid)"},
        {"AliceBlue", "(invalid)"},
        /* ghit trims ASCII white space around a value */
        {"  blue\n", "#007ec6"},
        {" #ABC ", "#abc"},
        /* injection attempts and odd input */
        {"\"/><script>", "(invalid)"},
        {"url(#x)", "(invalid)"},
        {"rgb(1,2,3);fill:red", "(invalid)"},
        {"constructor", "(invalid)"},
        {"", "(invalid)"},
        {"   ", "(invalid)"},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        CHECK_STR(resolve(table[i][0]), table[i][1]);
    CHECK_STR(resolve(NULL), "(invalid)");
}

static void test_too_long(void)
{
    char v[BADGE_COLOR_MAX + 8];
    snprintf(v, sizeof v, "rgb(%0*d,0,0)", BADGE_COLOR_MAX - 9, 1); /* 64 bytes: fine */
    CHECK_INT(strlen(v), BADGE_COLOR_MAX);
    CHECK_STR(resolve(v), v);
    snprintf(v, sizeof v, "rgb(%0*d,0,0)", BADGE_COLOR_MAX - 8, 1);
    CHECK_STR(resolve(v), "(invalid)");
    char small[8];
    CHECK(!badge_color_resolve("aliceblue", small, sizeof small));
}

static void test_emitted_forms_are_safe(void)
{
    static const char *const values[] = {"rgba( 0 , 0 , 0 , .5 )", "#ABC", "hsl(1rad, 2%, 3%)",
                                         "lightgoldenrodyellow", "rgb(1 2 3 / 50%)"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        const char *out = resolve(values[i]);
        CHECK(strspn(out, "abcdefghijklmnopqrstuvwxyz0123456789#(),.%/ ") == strlen(out));
    }
}

static void test_is_light(void)
{
    /* badge-maker: dark text when +(brightness).toFixed(2) > 0.69 */
    CHECK(!badge_color_is_light("#555"));
    CHECK(!badge_color_is_light("#4c1"));
    CHECK(!badge_color_is_light("#dd4343"));
    CHECK(!badge_color_is_light("#d8b800")); /* shields' yellow: 0.66 */
    CHECK(badge_color_is_light("#eee"));
    CHECK(badge_color_is_light("white"));
    CHECK(badge_color_is_light("#fff8")); /* alpha is ignored */
    CHECK(badge_color_is_light("rgb(250 250 250)"));
    CHECK(badge_color_is_light("hsl(59, 100%, 80%)"));
    CHECK(!badge_color_is_light("hsl(240, 100%, 50%)"));
    CHECK(!badge_color_is_light("navy"));
    CHECK(badge_color_is_light("gold"));
    /* 1e23 prints as "1e+23" in JavaScript, and parseInt reads 1: brightness 0.59, dark */
    CHECK(!badge_color_is_light("rgb(99999999999999999999999,255,0)"));
    CHECK(badge_color_is_light("rgb(255,255,0)"));
    /* the threshold: a sum of 177225 is 0.695, which toFixed(2) makes "0.69": dark */
    CHECK(!badge_color_is_light("rgb(12,249,241)"));
    CHECK(badge_color_is_light("rgb(6,254,231)")); /* 177226 */
    CHECK(!badge_color_is_light("not a colour"));
    CHECK(!badge_color_is_light(NULL));
}

int main(void)
{
    RUN(test_resolve);
    RUN(test_too_long);
    RUN(test_emitted_forms_are_safe);
    RUN(test_is_light);
    return test_main_end("badge_color");
}
