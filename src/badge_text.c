/*
 * badge_text: UTF-8 in, safe code points, escaped UTF-8 out (see badge_text.h).
 */
#include "badge_text.h"

#include <stdbool.h>
#include <string.h>

#include "badge_font.h"

/* The characters JavaScript's String.prototype.trim() removes (WhiteSpace, LineTerminator). */
static bool js_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
           c == 0x205f || c == 0x3000 || c == 0xfeff;
}

static bool dropped(uint32_t c)
{
    return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0xfffe || c == 0xffff;
}

static size_t utf8_len(uint32_t c)
{
    return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}

/*
 * Decodes one code point at s (n > 0 bytes left) into *cp and returns the
 * bytes used; a byte that starts no well-formed sequence (overlong forms,
 * surrogates and values past U+10FFFF included) gives U+FFFD and 1.
 */
static size_t decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char b = s[0];
    size_t len;
    uint32_t c, min;
    if (b < 0x80) {
        *cp = b;
        return 1;
    } else if (b >= 0xc2 && b <= 0xdf) {
        len = 2, c = b & 0x1f, min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
        len = 3, c = b & 0x0f, min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
        len = 4, c = b & 0x07, min = 0x10000;
    } else {
        *cp = 0xfffd;
        return 1;
    }
    if (n < len) {
        *cp = 0xfffd;
        return 1;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *cp = 0xfffd;
            return 1;
        }
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
        *cp = 0xfffd;
        return 1;
    }
    *cp = c;
    return len;
}

void badge_text_from(struct badge_text *t, const char *s, size_t max_bytes)
{
    t->n = 0;
    if (!s)
        return;
    const unsigned char *p = (const unsigned char *)s;
    size_t left = strlen(s), bytes = 0;
    if (max_bytes > BADGE_TEXT_CPS / 3)
        max_bytes = BADGE_TEXT_CPS / 3;
    while (left) {
        uint32_t c;
        size_t used = decode(p, left, &c);
        p += used, left -= used;
        if (dropped(c) || (t->n == 0 && js_space(c)))
            continue;
        if (bytes + utf8_len(c) > max_bytes)
            break;
        bytes += utf8_len(c);
        t->cp[t->n++] = c;
    }
    while (t->n && js_space(t->cp[t->n - 1]))
        t->n--;
}

void badge_text_upper(struct badge_text *t)
{
    uint32_t up[BADGE_TEXT_CPS];
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++) {
        uint32_t u[3];
        size_t k = badge_font_upper(t->cp[i], u);
        for (size_t j = 0; j < k && n < BADGE_TEXT_CPS; j++)
            up[n++] = u[j];
    }
    memcpy(t->cp, up, n * sizeof up[0]);
    t->n = n;
}

void badge_text_capitalize(struct badge_text *t)
{
    /* charAt(0) is a UTF-16 unit: the high surrogate of an astral code point, left as is. */
    if (t->n == 0 || t->cp[0] > 0xffff)
        return;
    uint32_t u[3];
    size_t k = badge_font_upper(t->cp[0], u);
    if (k > 1) {
        size_t keep = t->n - 1;
        if (keep + k > BADGE_TEXT_CPS)
            keep = BADGE_TEXT_CPS - k;
        memmove(t->cp + k, t->cp + 1, keep * sizeof t->cp[0]);
        t->n = keep + k;
    }
    memcpy(t->cp, u, k * sizeof u[0]);
}

size_t badge_text_utf16_len(const struct badge_text *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++)
        n += t->cp[i] > 0xffff ? 2 : 1;
    return n;
}

/* badge_text_put_xml(), or with xml false the plain UTF-8. */
static void put(struct buf *out, const struct badge_text *t, bool xml)
{
    /* Written straight into out's memory: at most 6 bytes a code point ("&quot;"). */
    buf_reserve(out, t->n * 6);
    char *o = out->data + out->len;
    for (size_t i = 0; i < t->n; i++) {
        uint32_t c = t->cp[i];
        const char *ent = NULL;
        switch (xml ? c : 0) {
        case '&':
            ent = "&amp;";
            break;
        case '<':
            ent = "&lt;";
            break;
        case '>':
            ent = "&gt;";
            break;
        case '"':
            ent = "&quot;";
            break;
        case '\'':
            ent = "&apos;";
            break;
        }
        if (ent) {
            size_t n = strlen(ent);
            memcpy(o, ent, n);
            o += n;
        } else if (c < 0x80) {
            *o++ = (char)c;
        } else if (c < 0x800) {
            *o++ = (char)(0xc0 | (c >> 6));
            *o++ = (char)(0x80 | (c & 0x3f));
        } else if (c < 0x10000) {
            *o++ = (char)(0xe0 | (c >> 12));
            *o++ = (char)(0x80 | ((c >> 6) & 0x3f));
            *o++ = (char)(0x80 | (c & 0x3f));
        } else {
            *o++ = (char)(0xf0 | (c >> 18));
            *o++ = (char)(0x80 | ((c >> 12) & 0x3f));
            *o++ = (char)(0x80 | ((c >> 6) & 0x3f));
            *o++ = (char)(0x80 | (c & 0x3f));
        }
    }
    out->len = (size_t)(o - out->data);
    out->data[out->len] = '\0';
}

void badge_text_put_xml(struct buf *out, const struct badge_text *t)
{
    put(out, t, true);
}

void badge_text_put_utf8(struct buf *out, const struct badge_text *t)
{
    put(out, t, false);
}
