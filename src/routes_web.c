/*
 * routes_web: the dashboard's URLs (see routes_web.h).
 *
 * The page gets a Content-Security-Policy that allows this origin only:
 * even a bug in app.js could not make the browser ask another host for
 * anything, and no inline script can run. No reply sets a cookie.
 */
#include "routes_web.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "badge.h"
#include "numfmt.h"
#include "repo_key.h"
#include "web.h"

#define PAGE_CSP                                                                                   \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "                    \
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

/* The figures of a lookup, as text for the page's marks. */
struct lookup {
    char key[REPO_KEY_SIZE];
    char total[NUMFMT_OUT_MAX], today[NUMFMT_OUT_MAX], first[DAY_TEXT_SIZE];
    char chart[REPO_KEY_SIZE + 64], json[REPO_KEY_SIZE + 32], days[REPO_KEY_SIZE + 40];
    char endpoint[REPO_KEY_SIZE + 32], chart_alt[REPO_KEY_SIZE + 64];
    const char *error; /* NULL when found */
    bool unknown;      /* the error is that the repo has no hits: 404, not 400 */
};

/*
 * Looks repo up in the counter table, as /api/v1/repos does; false if the
 * request waits for the repo to be read from a shared store (return at once).
 */
static bool look_up(const struct app *app, const struct request *req,
                    const struct request_param *repo, struct lookup *l, struct response *res)
{
    l->error = repo_key_parse(repo->value, repo->value_len, l->key);
    if (l->error)
        return true;
    day_t today = day_from_time(time(NULL));
    struct counter_view v;
    int known = routes_get(app, req, l->key, today, &v, res);
    if (known < 0)
        return false;
    if (!known) {
        l->error = "unknown repo: it has no hits yet";
        l->unknown = true;
        return true;
    }
    /* grouped as the page's script groups them (en-US), whatever the badges' --sep */
    numfmt_format(l->total, sizeof l->total, &numfmt_commas, v.total);
    numfmt_format(l->today, sizeof l->today, &numfmt_commas, v.today);
    day_format(v.first_day, l->first);
    snprintf(l->chart, sizeof l->chart, "/chart.svg?repo=%s&days=30&theme=auto", l->key);
    snprintf(l->chart_alt, sizeof l->chart_alt, "Daily hits of %s over the last 30 days", l->key);
    snprintf(l->json, sizeof l->json, "/api/v1/repos/%s", l->key);
    snprintf(l->days, sizeof l->days, "/api/v1/repos/%s/days", l->key);
    snprintf(l->endpoint, sizeof l->endpoint, "/endpoint.json?repo=%s", l->key);
    return true;
}

/*
 * The first of param's choices (those the builder's <select>s offer) that
 * gives look's own value, or "" if none does. Asking badge_look_set(),
 * rather than mapping look's fields back to names here, keeps the names
 * meaning what a badge URL makes of them.
 */
static const char *look_name(const struct badge_look *look, const char *param)
{
    for (const char *const *names = badge_look_choices(param); *names; names++) {
        struct badge_look t = *look;
        if (badge_look_set(&t, param, *names) == NULL && t.style == look->style &&
            t.view == look->view && t.fmt.style == look->fmt.style &&
            strcmp(t.fmt.sep, look->fmt.sep) == 0 && t.theme_auto == look->theme_auto)
            return *names;
    }
    return "";
}

/*
 * The builder's <select>s: each one's mark, filled with its parameter's
 * choices as badge.c lists them, space-separated (no choice holds a space),
 * for app.js to make the options of. The page thus offers what a badge URL
 * takes, from the table that takes it.
 */
static const struct {
    const char *mark, *param;
} selects[] = {
    {"choices_style", "style"}, {"choices_view", "view"},   {"choices_format", "format"},
    {"choices_sep", "sep"},     {"choices_theme", "theme"},
};
#define NSELECTS (sizeof selects / sizeof selects[0])

/* GET /: the page, with the lookup of ?repo= filled in when given. */
static void page(const struct app *app, const struct request *req, const struct web_asset *a,
                 struct response *res)
{
    const struct request_param *repo = NULL;
    for (unsigned i = 0; i < req->nparams; i++)
        if (strcmp(req->params[i].name, "repo") == 0)
            repo = &req->params[i];
    struct lookup l = {.error = req->params_error};
    bool asked = l.error || (repo && repo->value_len);
    if (asked && !l.error && !look_up(app, req, repo, &l, res))
        return;
    bool found = asked && !l.error;
    const struct badge_look *look = &app->cfg->look;
    const struct web_var fixed[] = {
        {"version", GHIT_VERSION},
        /* what was typed, so the form shows it again (escaped like every value) */
        {"repo", found  ? l.key
                 : repo ? repo->value
                        : ""},
        {"error", l.error ? l.error : ""},
        {"error_hidden", l.error ? "" : "hidden"},
        {"result_hidden", found ? "" : "hidden"},
        {"total", l.total},
        {"today", l.today},
        {"first_seen", l.first},
        {"chart_src", found ? l.chart : "/chart.svg?repo=ghit/none&days=30"},
        {"chart_alt", found ? l.chart_alt : "chart"},
        {"json_href", l.json},
        {"days_href", l.days},
        {"endpoint_href", l.endpoint},
        /* the badge builder starts from the server's defaults (--style, --label, ...) */
        {"default_style", look_name(look, "style")},
        {"default_label", look->label ? look->label : config_default("label")},
        {"default_color", look->color ? look->color : ""},
        {"default_label_color", look->label_color ? look->label_color : ""},
        {"default_view", look_name(look, "view")},
        {"default_format", look_name(look, "format")},
        {"default_sep", look_name(look, "sep")},
        {"default_theme", look_name(look, "theme")},
    };
    struct web_var vars[sizeof fixed / sizeof fixed[0] + NSELECTS];
    size_t nvars = sizeof fixed / sizeof fixed[0];
    memcpy(vars, fixed, sizeof fixed);
    struct buf choices[NSELECTS];
    for (size_t i = 0; i < NSELECTS; i++) {
        buf_init(&choices[i]);
        badge_look_choices_put(&choices[i], selects[i].param, " ", " ");
        vars[nvars++] = (struct web_var){selects[i].mark, choices[i].data};
    }
    res->status = found || !asked ? 200 : l.unknown ? 404 : 400;
    res->content_type = a->content_type;
    res->csp = PAGE_CSP;
    buf_reset(&res->body);
    web_fill(&res->body, a->data, a->len, vars, nvars);
    for (size_t i = 0; i < NSELECTS; i++)
        buf_fini(&choices[i]);
}

bool routes_web_handle(const struct app *app, const struct request *req, struct response *res)
{
    struct web_asset a;
    if (!app->cfg->dashboard || !web_asset(req->path, &a))
        return false;
    if (strcmp(req->path, "/") == 0) {
        res->route = "dashboard";
        page(app, req, &a, res);
        return true;
    }
    res->route = "asset";
    res->status = 200;
    res->content_type = a.content_type;
    buf_reset(&res->body);
    buf_append(&res->body, a.data, a.len);
    return true;
}
