/* Unit tests of config: the defaults of the option table, parsing and its errors. */
#include <stdio.h>

#include "config.h"
#include "test.h"

/* Parses the words of args (NULL-terminated) after "serve"; errors go to a scratch file. */
static int parse(struct config *c, const char **args)
{
    char serve[] = "serve";
    char *argv[32] = {serve};
    int argc = 1;
    while (*args && argc < 31)
        argv[argc++] = (char *)*args++;
    config_init(c);
    FILE *sink = fopen("/dev/null", "w");
    int rc = config_parse(c, argc, argv, sink, sink);
    fclose(sink);
    return rc;
}

/*
 * The defaults fit the real topologies (issue 6): a reverse proxy's 400
 * connections from one address, GitHub's image proxy, a million repos.
 */
static void defaults_suit_a_public_server(void)
{
    struct config c;
    config_init(&c);
    CHECK_STR(c.listen, "127.0.0.1:8080");
    CHECK_STR(c.db, "ghit.db");
    CHECK_INT(c.flush_interval_ms, 1000);
    CHECK_INT(c.max_connections, 4096);
    /* A proxy in front of 400 clients holds more than 512. */
    CHECK_INT(c.max_connections_per_ip, 1024);
    CHECK_INT(c.request_timeout_s, 10);
    CHECK_INT(c.max_url_bytes, 2048);
    CHECK_INT(c.max_header_bytes, 4096);
    CHECK_INT(c.max_repos, 10000000);
    CHECK_INT(c.new_repos_per_minute, 60);
    CHECK_INT(c.trusted_proxies.n, 0);
    CHECK_INT(c.look.style, BADGE_FLAT);
    CHECK_INT(c.look.view, BADGE_VIEW_TOTAL);
    config_fini(&c);
}

/* A switch given alone is on (--durable); on and off may follow; anything else is refused. */
static void switches_alone_are_on(void)
{
    struct config c;
    const char *alone[] = {"--durable", "--listen", "127.0.0.1:9", NULL};
    CHECK_INT(parse(&c, alone), 0);
    CHECK(c.durable);
    CHECK_STR(c.listen, "127.0.0.1:9");
    config_fini(&c);
    const char *last[] = {"--dashboard", "off", "--durable", NULL};
    CHECK_INT(parse(&c, last), 0);
    CHECK(c.durable && !c.dashboard);
    config_fini(&c);
    const char *bad[] = {"--durable", "maybe", NULL};
    CHECK_INT(parse(&c, bad), -1);
    config_fini(&c);
}

/* --trusted-proxy takes lists, may be repeated, and refuses what is not a range. */
static void trusted_proxy_lists(void)
{
    struct config c;
    const char *good[] = {"--trusted-proxy", "127.0.0.1, 10.0.0.0/8", "--trusted-proxy=::1", NULL};
    CHECK_INT(parse(&c, good), 0);
    CHECK_INT(c.trusted_proxies.n, 3);
    config_fini(&c);
    const char *bad[] = {"--trusted-proxy", "10.0.0.0/33", NULL};
    CHECK_INT(parse(&c, bad), -1);
    config_fini(&c);
}

/* The defaults --help shows for the badge options are what an unset look renders. */
static void badge_defaults_in_help_match_the_renderer(void)
{
    static const char *const opts[][2] = {
        {"label", "label"}, {"color", "color"}, {"label-color", "labelColor"}, {"style", "style"},
        {"theme", "theme"}, {"view", "view"},   {"format", "format"},          {"sep", "sep"},
    };
    struct badge_look unset;
    badge_look_init(&unset);
    struct buf a, b;
    buf_init(&a);
    buf_init(&b);
    badge_render(&a, &unset, "1,234");
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        struct badge_look set = unset;
        const char *def = config_default(opts[i][0]);
        CHECK(def != NULL);
        CHECK(badge_look_set(&set, opts[i][1], def) == NULL);
        char m1[64], m2[64];
        badge_message(m1, sizeof m1, &unset, 1234567, 89);
        badge_message(m2, sizeof m2, &set, 1234567, 89);
        CHECK_STR(m1, m2);
        buf_reset(&b);
        badge_render(&b, &set, "1,234");
        if (strcmp(a.data, b.data) != 0) {
            fprintf(stderr, "--%s %s renders unlike the default look\n", opts[i][0], def);
            test_failures_in_current++;
        }
    }
    buf_fini(&a);
    buf_fini(&b);
}

static void options_parse_in_both_forms(void)
{
    struct config c;
    const char *args[] = {"--listen", "0.0.0.0:9", "--flush-interval=250", "--threads",
                          "4",        "--style",   "for-the-badge",        NULL};
    CHECK_INT(parse(&c, args), 0);
    CHECK_STR(c.listen, "0.0.0.0:9");
    CHECK_INT(c.flush_interval_ms, 250);
    CHECK_INT(c.threads, 4);
    CHECK_INT(c.look.style, BADGE_FOR_THE_BADGE);
}

static void bad_values_are_refused(void)
{
    struct config c;
    const char *unknown[] = {"--nope", "1", NULL};
    const char *range[] = {"--threads", "0", NULL};
    const char *negative[] = {"--max-repos", "-5", NULL};
    const char *junk[] = {"--flush-interval", "10ms", NULL};
    const char *missing[] = {"--db", NULL};
    const char *style[] = {"--style", "wobbly", NULL};
    const char *stray[] = {"serve-me", NULL};
    CHECK_INT(parse(&c, unknown), -1);
    CHECK_INT(parse(&c, range), -1);
    CHECK_INT(parse(&c, negative), -1);
    CHECK_INT(parse(&c, junk), -1);
    CHECK_INT(parse(&c, missing), -1);
    CHECK_INT(parse(&c, style), -1);
    CHECK_INT(parse(&c, stray), -1);
}

static void help_is_not_an_error(void)
{
    struct config c;
    const char *args[] = {"--help", NULL};
    CHECK_INT(parse(&c, args), 1);
}

static void look_options_reach_other_commands(void)
{
    struct badge_look look;
    const char *why = "unset";
    badge_look_init(&look);
    CHECK_INT(config_look_option(&look, "style", "plastic", &why), 1);
    CHECK(why == NULL);
    CHECK_INT(look.style, BADGE_PLASTIC);
    CHECK_INT(config_look_option(&look, "db", "x", &why), 0);
    CHECK_INT(config_look_option(&look, "view", "sideways", &why), 1);
    CHECK(why != NULL);
}

int main(void)
{
    RUN(defaults_suit_a_public_server);
    RUN(trusted_proxy_lists);
    RUN(switches_alone_are_on);
    RUN(badge_defaults_in_help_match_the_renderer);
    RUN(options_parse_in_both_forms);
    RUN(bad_values_are_refused);
    RUN(help_is_not_an_error);
    RUN(look_options_reach_other_commands);
    return test_main_end("config");
}
