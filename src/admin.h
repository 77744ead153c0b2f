/*
 * admin: the operator's routes (issue 10), which exist only with
 * --admin-token-file:
 *
 *   PUT    /api/v1/repos/OWNER/NAME  {"total": N, "days": {...}, "first_day": "..."}
 *          sets the repo's counts as a whole
 *   DELETE /api/v1/repos/OWNER/NAME  removes the repo and its history
 *
 * Both need "Authorization: Bearer TOKEN"; a missing or wrong token gets
 * 401 and the same body, so a client cannot tell which. The token is
 * compared in constant time (token.c) and never logged. A change goes into
 * the counter table as a pending op, so the next badge shows it and the
 * flusher writes it in order with the hits around it.
 */
#ifndef GHIT_ADMIN_H
#define GHIT_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include "routes.h"

struct admin;

/*
 * Reads the token from the file at path. Returns NULL with a message in
 * err if the file cannot be read or holds no acceptable token. Free with
 * admin_free().
 */
struct admin *admin_new(const char *path, char *err, size_t errlen);
void admin_free(struct admin *a);

/*
 * Whether an Authorization header value carries the token, without
 * counting a refusal: http.c asks before it reads a PUT's body, so that a
 * client without the token makes ghit read and hold nothing.
 */
bool admin_authorized(const struct admin *a, const char *authorization);

/* Requests refused for a missing or wrong token since start (for /metrics). */
unsigned long long admin_refused(const struct admin *a);

/*
 * Handles a PUT or DELETE of /api/v1/repos/NAME (name is what follows the
 * prefix) with app's admin and table. On a shared store the repo is read
 * into the cache first: res->wait_load is then set, and the request is run
 * again, resumed, once it was read.
 */
void admin_handle(const struct app *app, const struct request *req, const char *name,
                  struct response *res);

#endif
