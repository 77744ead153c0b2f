/*
 * web: the compiled-in files and the page filler (see web.h).
 */
#include "web.h"

#include <string.h>

/* Defined by web_assets.S: each file's first byte and the byte after its last. */
extern const char web_index_html[], web_index_html_end[];
extern const char web_app_css[], web_app_css_end[];
extern const char web_app_js[], web_app_js_end[];

bool web_asset(const char *path, struct web_asset *out)
{
    const struct web_asset assets[] = {
        {"/", "text/html; charset=utf-8", web_index_html,
         (size_t)(web_index_html_end - web_index_html)},
        {"/app.css", "text/css; charset=utf-8", web_app_css,
         (size_t)(web_app_css_end - web_app_css)},
        {"/app.js", "text/javascript; charset=utf-8", web_app_js,
         (size_t)(web_app_js_end - web_app_js)},
    };
    for (size_t i = 0; i < sizeof assets / sizeof assets[0]; i++) {
        if (strcmp(assets[i].path, path) == 0) {
            *out = assets[i];
            return true;
        }
    }
    return false;
}

void web_put_escaped(struct buf *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            buf_puts(out, "&amp;");
            break;
        case '<':
            buf_puts(out, "&lt;");
            break;
        case '>':
            buf_puts(out, "&gt;");
            break;
        case '"':
            buf_puts(out, "&quot;");
            break;
        case '\'':
            buf_puts(out, "&#39;");
            break;
        default:
            buf_putc(out, *s);
        }
    }
}

void web_fill(struct buf *out, const char *tmpl, size_t len, const struct web_var *vars, size_t n)
{
    const char *p = tmpl, *end = tmpl + len;
    while (p < end) {
        const char *open = memmem(p, (size_t)(end - p), "{{", 2);
        const char *close = open ? memmem(open + 2, (size_t)(end - open - 2), "}}", 2) : NULL;
        if (!close) {
            buf_append(out, p, (size_t)(end - p));
            return;
        }
        buf_append(out, p, (size_t)(open - p));
        size_t name_len = (size_t)(close - open - 2);
        for (size_t i = 0; i < n; i++) {
            if (strlen(vars[i].name) == name_len && memcmp(vars[i].name, open + 2, name_len) == 0) {
                web_put_escaped(out, vars[i].value);
                break;
            }
        }
        p = close + 2;
    }
}
