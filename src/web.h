/*
 * web: the dashboard's files and the filling of its page. Pure: no I/O.
 *
 * The files live in web/ as ordinary HTML, CSS and JavaScript, edited and
 * linted as such; src/web_assets.S compiles them into the binary. The page
 * holds {{name}} marks that web_fill() replaces with HTML-escaped values,
 * so the server can answer a lookup without JavaScript and without a line
 * of HTML in C.
 */
#ifndef GHIT_WEB_H
#define GHIT_WEB_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct web_asset {
    const char *path;         /* the URL path, e.g. "/app.css" */
    const char *content_type; /* with its charset */
    const char *data;         /* the file's bytes, followed by a NUL */
    size_t len;
};

/* Fills *out with the asset served at path; false if none. "/" is the page (web/index.html). */
bool web_asset(const char *path, struct web_asset *out);

struct web_var {
    const char *name;  /* the mark's name, without braces */
    const char *value; /* any text; written HTML-escaped */
};

/*
 * Appends tmpl (len bytes) to out with every {{name}} replaced by its
 * value, escaped for HTML text and quoted attributes (& < > " '). A mark
 * with no var is replaced by nothing.
 */
void web_fill(struct buf *out, const char *tmpl, size_t len, const struct web_var *vars, size_t n);

/* Appends s HTML-escaped. */
void web_put_escaped(struct buf *out, const char *s);

#endif
