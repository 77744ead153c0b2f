/*
 * test_json: JSON string escaping: quotes, backslashes, control bytes,
 * UTF-8 kept, invalid UTF-8 replaced.
 */
#include "json.h"

#include "test.h"

/* s as json_put_str writes it. */
static const char *q(const char *s)
{
    static struct buf b;
    if (!b.data)
        buf_init(&b);
    buf_reset(&b);
    json_put_str(&b, s);
    return b.data;
}

static void escapes(void)
{
    CHECK_STR(q("plain"), "\"plain\"");
    CHECK_STR(q(NULL), "\"\"");
    CHECK_STR(q("a\"b\\c"), "\"a\\\"b\\\\c\"");
    CHECK_STR(q("tab\there\nnl\x7f"), "\"tab\\u0009here\\u000anl\\u007f\"");
    CHECK_STR(q("caf\xc3\xa9 \xe2\x9c\x93"), "\"caf\xc3\xa9 \xe2\x9c\x93\"");
    CHECK_STR(q("bad\xff\xc3"), "\"bad\\ufffd\\ufffd\"");
    CHECK_STR(q("\xc0\xaf"), "\"\\ufffd\\ufffd\"");            /* overlong '/' */
    CHECK_STR(q("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\""); /* a surrogate */
    CHECK_STR(q("</script>"), "\"</script>\"");
}

int main(void)
{
    RUN(escapes);
    return test_main_end("json");
}
