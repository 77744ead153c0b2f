/*
 * test_redis_url: the Redis store's URL forms and the 2015 escaping of repo
 * names (redis_url.c), which the 2015 cron job and nginx agree on.
 */
#include "redis_url.h"

#include "test.h"

/* Escapes s and returns the static result ("(overflow)" if it did not fit). */
static const char *esc(const char *s)
{
    static char out[256];
    return redis_key_escape(s, strlen(s), out, sizeof out) == (size_t)-1 ? "(overflow)" : out;
}

static void escape_is_set_escape_uri(void)
{
    CHECK_STR(esc("benwilber/bashids"), "benwilber%2Fbashids");
    CHECK_STR(esc("a.b_c-d/x.y"), "a.b_c-d%2Fx.y");
    /* Bytes nginx's set_escape_uri keeps and escapes, as measured (design 2.1). */
    CHECK_STR(esc("!$'()*,-.@_`|~"), "!$'()*,-.@_`|~");
    CHECK_STR(esc("a b\"#%&+:;<=>?[\\]^{}"),
              "a%20b%22%23%25%26%2B%3A%3B%3C%3D%3E%3F%5B%5C%5D%5E%7B%7D");
    CHECK_STR(esc("\x7f\x80\xff"), "%7F%80%FF");
    CHECK_STR(esc("Benwilber%2Fbashids"), "Benwilber%252Fbashids");
    char small[6];
    CHECK(redis_key_escape("ab/c", 4, small, sizeof small) == (size_t)-1); /* needs 7 */
    CHECK(redis_key_escape("ab/", 3, small, sizeof small) == 5);
}

static void unescape_inverts_escape(void)
{
    char out[64];
    CHECK(redis_key_unescape("owner%2Fname", out, sizeof out) == 10);
    CHECK_STR(out, "owner/name");
    CHECK(redis_key_unescape("o%2fn", out, sizeof out) == 3); /* 2014's lower-case hex */
    CHECK_STR(out, "o/n");
    CHECK(redis_key_unescape("bad%2", out, sizeof out) == (size_t)-1);
    CHECK(redis_key_unescape("bad%zz", out, sizeof out) == (size_t)-1);
    CHECK(redis_key_unescape("toolong", out, 4) == (size_t)-1);
}

static void tcp_urls(void)
{
    struct redis_url u;
    CHECK(redis_url_parse("redis://127.0.0.1:6390", &u) == NULL);
    CHECK_STR(u.host, "127.0.0.1");
    CHECK_INT(u.port, 6390);
    CHECK_INT(u.db, 0);
    CHECK_STR(u.password, "");
    CHECK_INT(u.timeout_ms, REDIS_URL_DEFAULT_TIMEOUT_MS);

    CHECK(redis_url_parse("redis://:s%40cret@db.example:7000/3?timeout=250", &u) == NULL);
    CHECK_STR(u.host, "db.example");
    CHECK_INT(u.port, 7000);
    CHECK_INT(u.db, 3);
    CHECK_STR(u.user, "");
    CHECK_STR(u.password, "s@cret");
    CHECK_INT(u.timeout_ms, 250);

    CHECK(redis_url_parse("redis://ghit:pw@[::1]:6379/", &u) == NULL);
    CHECK_STR(u.host, "::1");
    CHECK_STR(u.user, "ghit");
    CHECK_STR(u.password, "pw");
    CHECK_INT(u.db, 0);

    CHECK(redis_url_parse("redis://localhost", &u) == NULL);
    CHECK_INT(u.port, REDIS_URL_DEFAULT_PORT);
}

static void unix_urls(void)
{
    struct redis_url u;
    CHECK(redis_url_parse("unix:///run/redis/redis.sock?db=2&timeout=100", &u) == NULL);
    CHECK_STR(u.path, "/run/redis/redis.sock");
    CHECK_STR(u.host, "");
    CHECK_INT(u.db, 2);
    CHECK_INT(u.timeout_ms, 100);
    CHECK(redis_url_parse("unix:///tmp/r.sock", &u) == NULL);
    CHECK_INT(u.db, 0);
}

static void bad_urls(void)
{
    struct redis_url u;
    CHECK(redis_url_parse("ghit.db", &u) != NULL);
    CHECK(redis_url_parse("redis://", &u) != NULL);
    CHECK(redis_url_parse("redis://h:0", &u) != NULL);
    CHECK(redis_url_parse("redis://h:65536", &u) != NULL);
    CHECK(redis_url_parse("redis://h:port", &u) != NULL);
    CHECK(redis_url_parse("redis://h:1/x", &u) != NULL);
    CHECK(redis_url_parse("redis://pw@h:1", &u) != NULL); /* the password needs its ':' */
    CHECK(redis_url_parse("redis://h:1?tls=1", &u) != NULL);
    CHECK(redis_url_parse("redis://h:1?timeout=0", &u) != NULL);
    CHECK(redis_url_parse("redis://[::1:1", &u) != NULL);
    CHECK(redis_url_parse("unix://relative.sock", &u) != NULL);
    CHECK(redis_url_parse("unix:///s?db=x", &u) != NULL);
    /* each given once: which of two was meant is a guess */
    CHECK(redis_url_parse("redis://h:1/1?db=2", &u) != NULL);
    CHECK(redis_url_parse("redis://h:1/?db=2", &u) == NULL && u.db == 2); /* "/" names none */
    CHECK(redis_url_parse("redis://h:1?db=1&db=1", &u) != NULL);
    CHECK(redis_url_parse("redis://h:1?timeout=1&timeout=5", &u) != NULL);
    CHECK(redis_url_parse("unix:///s?db=1&db=2", &u) != NULL);
    CHECK(redis_url_parse("redis://h:1?db=2&timeout=5", &u) == NULL && u.db == 2);
    CHECK(redis_url_parse("unix:///s?timeout=5&db=3", &u) == NULL && u.db == 3);
    CHECK(!redis_url_is("ghit.db"));
    CHECK(!redis_url_is("./redis://x"));
    CHECK(redis_url_is("redis://x"));
    CHECK(redis_url_is("unix:///x"));
}

/* What redis_url_redact() makes of url. */
static const char *redacted(const char *url)
{
    static char out[256];
    redis_url_redact(url, out, sizeof out);
    return out;
}

static void passwords_are_hidden_in_messages(void)
{
    CHECK_STR(redacted("redis://:pw@h:6379/2"), "redis://***@h:6379/2");
    CHECK_STR(redacted("redis://user:pw@h"), "redis://***@h");
    /* a raw '@' in the password: the parser splits at the last one, and so does this */
    struct redis_url u;
    CHECK(redis_url_parse("redis://:p@ss@h:6379/2", &u) == NULL);
    CHECK_STR(u.password, "p@ss");
    CHECK_STR(redacted("redis://:p@ss@h:6379/2"), "redis://***@h:6379/2");
    CHECK_STR(redacted("redis://us@er:pw@h"), "redis://***@h");
    /* a raw '/' in it (base64): the parser refuses the URL, whose message shows this */
    CHECK(redis_url_parse("redis://:abc/def+=@h", &u) != NULL);
    CHECK_STR(redacted("redis://:abc/def+=@h"), "redis://***@h");
    CHECK_STR(redacted("unix://:pw@/run/r.sock"), "unix://***@/run/r.sock");
    /* nothing to hide */
    CHECK_STR(redacted("redis://h:6379/2?timeout=100"), "redis://h:6379/2?timeout=100");
    CHECK_STR(redacted("unix:///run/redis.sock?db=1"), "unix:///run/redis.sock?db=1");
    CHECK_STR(redacted("/var/lib/ghit/a@b.db"), "/var/lib/ghit/a@b.db"); /* a SQLite path */
}

int main(void)
{
    RUN(escape_is_set_escape_uri);
    RUN(unescape_inverts_escape);
    RUN(tcp_urls);
    RUN(unix_urls);
    RUN(bad_urls);
    RUN(passwords_are_hidden_in_messages);
    return test_main_end("redis_url");
}
