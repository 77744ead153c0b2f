/*
 * Unit tests: netaddr (addresses, ranges, lists), forwarded (the client
 * behind trusted proxies) and newrepo_limit (new repos per client).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "forwarded.h"
#include "netaddr.h"
#include "newrepo_limit.h"
#include "test.h"

/* Parses text as an address, failing the test if it does not. */
static struct netaddr addr(const char *text)
{
    struct netaddr a;
    memset(&a, 0, sizeof a);
    const char *err = netaddr_parse(text, strlen(text), &a);
    CHECK(err == NULL);
    return a;
}

/* The text form of a. */
static const char *text_of(const struct netaddr *a)
{
    static char out[NETADDR_TEXT_SIZE];
    netaddr_format(a, out);
    return out;
}

static void addresses_parse_and_format(void)
{
    struct netaddr a = addr("192.0.2.1");
    CHECK(netaddr_is_v4(&a));
    CHECK_STR(text_of(&a), "192.0.2.1");
    a = addr("2001:db8::1");
    CHECK(!netaddr_is_v4(&a));
    CHECK_STR(text_of(&a), "2001:db8::1");
    struct netaddr b;
    CHECK(netaddr_parse("010.1.1.1", 9, &b) != NULL); /* no octal forms */
    CHECK(netaddr_parse("1.2.3", 5, &b) != NULL);
    CHECK(netaddr_parse("", 0, &b) != NULL);
    CHECK(netaddr_parse("[::1]", 5, &b) != NULL);
    CHECK(netaddr_parse("1.2.3.4:80", 10, &b) != NULL);
}

/* What netaddr_format_endpoint() writes for the socket address of text and port. */
static const char *endpoint_of(const char *text, unsigned port)
{
    static char out[64];
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, text, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
    } else {
        ss.ss_family = AF_UNIX;
    }
    netaddr_format_endpoint((const struct sockaddr *)&ss, out, sizeof out);
    return out;
}

static void socket_addresses_format_with_their_port(void)
{
    CHECK_STR(endpoint_of("127.0.0.1", 8080), "127.0.0.1:8080");
    CHECK_STR(endpoint_of("::1", 443), "[::1]:443");
    CHECK_STR(endpoint_of("2001:db8::7", 65535), "[2001:db8::7]:65535");
    /* An IPv6 socket stays bracketed, its IPv4-mapped address in IPv6's text. */
    CHECK_STR(endpoint_of("::ffff:192.0.2.1", 80), "[::ffff:192.0.2.1]:80");
    CHECK_STR(endpoint_of("not an address", 80), "?");
    char small[8];
    struct sockaddr_in in;
    memset(&in, 0, sizeof in);
    in.sin_family = AF_INET;
    in.sin_port = htons(18000);
    inet_pton(AF_INET, "192.0.2.200", &in.sin_addr);
    netaddr_format_endpoint((const struct sockaddr *)&in, small, sizeof small);
    CHECK_STR(small, "192.0.2"); /* cut, and ended */
}

static void ranges_match_their_prefix(void)
{
    struct netaddr_range r;
    CHECK(netaddr_parse_range("10.1.2.3/8", 10, &r) == NULL);
    struct netaddr in = addr("10.255.0.1"), out = addr("11.0.0.1");
    CHECK(netaddr_in_range(&in, &r));
    CHECK(!netaddr_in_range(&out, &r));
    CHECK(netaddr_parse_range("2001:db8::/32", 13, &r) == NULL);
    struct netaddr v6 = addr("2001:db8:ffff::1"), v4 = addr("32.1.13.184");
    CHECK(netaddr_in_range(&v6, &r));
    CHECK(!netaddr_in_range(&v4, &r)); /* an IPv4 address never falls in an IPv6 range */
    CHECK(netaddr_parse_range("1.2.3.4/33", 10, &r) != NULL);
    CHECK(netaddr_parse_range("::/129", 6, &r) != NULL);
    CHECK(netaddr_parse_range("1.2.3.4/", 8, &r) != NULL);
    CHECK(netaddr_parse_range("1.2.3.4/x", 9, &r) != NULL);
    CHECK(netaddr_parse_range("0.0.0.0/0", 9, &r) == NULL);
    CHECK(netaddr_in_range(&in, &r));
    CHECK(!netaddr_in_range(&v6, &r)); /* 0.0.0.0/0 is every IPv4 address, no IPv6 one */
}

static void lists_parse_commas_and_report_the_bad_item(void)
{
    struct netaddr_list l;
    netaddr_list_init(&l);
    const char *bad = NULL;
    CHECK(netaddr_list_parse(&l, "127.0.0.1, 10.0.0.0/8 ,::1", &bad) == NULL);
    CHECK_INT(l.n, 3);
    struct netaddr a = addr("10.9.9.9"), b = addr("::1"), c = addr("127.0.0.2");
    CHECK(netaddr_list_match(&l, &a));
    CHECK(netaddr_list_match(&l, &b));
    CHECK(!netaddr_list_match(&l, &c));
    const char *text = "1.1.1.1,nope,2.2.2.2";
    CHECK(netaddr_list_parse(&l, text, &bad) != NULL);
    CHECK(bad == text + 8);
    netaddr_list_fini(&l);
}

static void ipv6_clients_are_their_64(void)
{
    struct netaddr a = addr("2001:db8:1:2:aaaa::1"), b = addr("2001:db8:1:2:bbbb::2");
    struct netaddr pa = netaddr_client_prefix(&a), pb = netaddr_client_prefix(&b);
    CHECK(memcmp(pa.b, pb.b, 16) == 0);
    struct netaddr c = addr("192.0.2.1"), d = addr("192.0.2.2");
    pa = netaddr_client_prefix(&c);
    pb = netaddr_client_prefix(&d);
    CHECK(memcmp(pa.b, pb.b, 16) != 0);
}

/* The client forwarded_client() picks from text, as text ("-" if none). */
static const char *client_of(enum forwarded_kind kind, const char *text)
{
    struct netaddr_list trusted;
    netaddr_list_init(&trusted);
    const char *bad;
    netaddr_list_parse(&trusted, "10.0.0.0/8,2001:db8::/32", &bad);
    struct netaddr c;
    bool found = forwarded_client(kind, text, strlen(text), &trusted, &c);
    netaddr_list_fini(&trusted);
    return found ? text_of(&c) : "-";
}

static void x_forwarded_for_takes_the_rightmost_untrusted(void)
{
    CHECK_STR(client_of(FORWARDED_XFF, "203.0.113.7"), "203.0.113.7");
    /* A client may forge the left part; the trusted proxies appended the right part. */
    CHECK_STR(client_of(FORWARDED_XFF, "6.6.6.6, 203.0.113.7, 10.0.0.2"), "203.0.113.7");
    CHECK_STR(client_of(FORWARDED_XFF, "10.0.0.5,10.0.0.2"), "10.0.0.5"); /* all trusted */
    CHECK_STR(client_of(FORWARDED_XFF, "garbage, 10.0.0.2"), "10.0.0.2");
    CHECK_STR(client_of(FORWARDED_XFF, "203.0.113.9, , 10.0.0.2"), "203.0.113.9");
    CHECK_STR(client_of(FORWARDED_XFF, ""), "-");
    CHECK_STR(client_of(FORWARDED_XFF, "unknown"), "-");
    CHECK_STR(client_of(FORWARDED_XFF, "2001:db8::5, 2001:dead::1"), "2001:dead::1");
}

static void forwarded_reads_for_pairs(void)
{
    CHECK_STR(client_of(FORWARDED_RFC, "for=192.0.2.60;proto=http;by=203.0.113.43"), "192.0.2.60");
    CHECK_STR(client_of(FORWARDED_RFC, "For=\"[2001:dead::17]:4711\""), "2001:dead::17");
    CHECK_STR(client_of(FORWARDED_RFC, "for=192.0.2.43, for=\"198.51.100.17:80\";proto=https"),
              "198.51.100.17");
    CHECK_STR(client_of(FORWARDED_RFC, "for=192.0.2.43, for=10.1.1.1"), "192.0.2.43");
    CHECK_STR(client_of(FORWARDED_RFC, "for=_hidden, for=10.1.1.1"), "10.1.1.1");
    CHECK_STR(client_of(FORWARDED_RFC, "proto=https"), "-");
    CHECK_STR(client_of(FORWARDED_RFC, "for=\"[10.0.0.1]\""), "-"); /* brackets are for IPv6 */
    CHECK_STR(client_of(FORWARDED_RFC, "for=\"1.2.3.4, 5.6.7.8\""), "-"); /* no commas in a node */
}

static void new_repos_are_limited_per_client_and_refill(void)
{
    struct newrepo_limit *l = newrepo_limit_new(6, 64); /* 6 a minute: one every 10 s */
    struct netaddr a = addr("192.0.2.1"), b = addr("192.0.2.2");
    for (int i = 0; i < 6; i++)
        CHECK(newrepo_limit_take(l, &a, 1000));
    CHECK(!newrepo_limit_take(l, &a, 1000));
    CHECK(newrepo_limit_take(l, &b, 1000)); /* another client has its own bucket */
    CHECK(!newrepo_limit_take(l, &a, 10999));
    CHECK(newrepo_limit_take(l, &a, 11000)); /* one token back after 10 s */
    CHECK(!newrepo_limit_take(l, &a, 11000));
    CHECK_INT(newrepo_limit_refused(l), 3);
    newrepo_limit_free(l);
}

static void a_flood_of_clients_forgets_quiet_ones_without_growing(void)
{
    struct newrepo_limit *l = newrepo_limit_new(2, 1); /* one set of 4 buckets */
    struct netaddr quiet = addr("198.51.100.1");
    CHECK(newrepo_limit_take(l, &quiet, 0));
    CHECK(newrepo_limit_take(l, &quiet, 0));
    CHECK(!newrepo_limit_take(l, &quiet, 0));
    /* 1000 flooders take every way; each spends its tokens. */
    for (unsigned i = 0; i < 1000; i++) {
        struct netaddr f = addr("203.0.113.1");
        f.b[14] = (uint8_t)(i >> 8);
        f.b[15] = (uint8_t)i;
        newrepo_limit_take(l, &f, 0);
        newrepo_limit_take(l, &f, 0);
    }
    /* Forgotten, the quiet client starts again with a full bucket: bounded memory, no lock-out. */
    CHECK(newrepo_limit_take(l, &quiet, 1));
    newrepo_limit_free(l);
}

int main(void)
{
    RUN(addresses_parse_and_format);
    RUN(socket_addresses_format_with_their_port);
    RUN(ranges_match_their_prefix);
    RUN(lists_parse_commas_and_report_the_bad_item);
    RUN(ipv6_clients_are_their_64);
    RUN(x_forwarded_for_takes_the_rightmost_untrusted);
    RUN(forwarded_reads_for_pairs);
    RUN(new_repos_are_limited_per_client_and_refill);
    RUN(a_flood_of_clients_forgets_quiet_ones_without_growing);
    return test_main_end("netaddr");
}
