/*
 * routes_web: the dashboard (issue 9): GET / and its two files.
 *
 * GET /?repo=OWNER/NAME fills the page's lookup on the server, so the
 * lookup works without JavaScript; /app.css and /app.js are the files of
 * web/ as compiled in. --dashboard off turns all three off: / is then the
 * short text it was before, and the API is unchanged.
 */
#ifndef GHIT_ROUTES_WEB_H
#define GHIT_ROUTES_WEB_H

#include <stdbool.h>

#include "routes.h"

/* Answers req if it is a dashboard URL and the dashboard is on (true), else false. */
bool routes_web_handle(const struct app *app, const struct request *req, struct response *res);

#endif
