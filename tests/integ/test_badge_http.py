"""The HTTP surface: /badge.svg, /count.svg, /api/v1/repos, /healthz, methods, headers."""

import json
import re
import xml.etree.ElementTree as ET

import pytest

from conftest import SVG_NS, db_days, db_totals, read_response, status_of, svg_title, utc_today

SVG_TYPE = "image/svg+xml; charset=utf-8"
NO_CACHE = "max-age=0, no-cache, no-store, must-revalidate"
EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"


def assert_badge_headers(r):
    assert r.header("Content-Type") == SVG_TYPE
    assert r.header("Cache-Control") == NO_CACHE
    assert r.header("Expires") == EPOCH
    assert re.fullmatch(r'"[0-9a-f]{16}"', r.header("ETag") or ""), r.header("ETag")
    assert r.header("X-Content-Type-Options") == "nosniff"


# --- /badge.svg --------------------------------------------------------------


def test_badge_counts_and_shows_total_after_hit(server):
    for n in range(1, 4):
        r = server.hit("octo/cat")
        assert r.status == 200
        assert_badge_headers(r)
        assert svg_title(r.body) == "hits: %d" % n
    assert server.api("octo/cat")[1]["total"] == 3


def test_badge_svg_is_well_formed_with_aria_label(server):
    r = server.hit("octo/cat")
    root = ET.fromstring(r.body)
    assert root.tag == SVG_NS + "svg"
    assert root.get("role") == "img"
    assert root.get("aria-label") == "hits: 1"
    assert int(root.get("width")) > 0 and int(root.get("height")) > 0
    assert int(r.header("Content-Length")) == len(r.body)


def test_etag_changes_when_count_changes(server):
    e1 = server.hit("octo/cat").header("ETag")
    e2 = server.hit("octo/cat").header("ETag")
    assert e1 != e2
    # same content, same ETag: count.svg shows the same badge as the last hit
    assert server.get("/count.svg?repo=octo/cat").header("ETag") == e2


def test_badge_grows_with_its_text(server):
    w1 = int(ET.fromstring(server.hit("a/b").body).get("width"))
    w2 = int(ET.fromstring(server.get("/count.svg?repo=a/b&label=a-much-longer-label").body).get("width"))
    assert w2 > w1


def test_repo_is_case_insensitive_one_counter(server):
    assert svg_title(server.hit("Foo/Bar").body) == "hits: 1"
    assert svg_title(server.hit("foo/bar").body) == "hits: 2"
    assert svg_title(server.hit("FOO/BAR").body) == "hits: 3"
    st, j = server.api("FoO/bAr")
    assert st == 200 and j["repo"] == "foo/bar" and j["total"] == 3
    server.stop()
    assert db_totals(server.db) == {"foo/bar": 3}


def test_other_query_params_never_split_a_counter(server):
    paths = [
        "/badge.svg?repo=foo/bar",
        "/badge.svg?repo=foo/bar&v=2",
        "/badge.svg?v=3&repo=foo/bar",
        "/badge.svg?repo=foo/bar&style=flat-square",
        "/badge.svg?repo=foo/bar&label=views",
        "/badge.svg?label=x&repo=foo/bar&color=blue&v=99",
    ]
    for i, p in enumerate(paths, 1):
        r = server.get(p)
        assert r.status == 200, (p, r)
        assert svg_title(r.body).endswith(": %d" % i), (p, svg_title(r.body))
    assert svg_title(server.get("/count.svg?repo=foo/bar&label=views").body) == "views: %d" % len(paths)
    server.stop()
    assert db_totals(server.db) == {"foo/bar": len(paths)}
    assert len(db_days(server.db)) == 1


def test_percent_encoded_slash_is_decoded_before_validation(server):
    r = server.get("/badge.svg?repo=foo%2Fbar")
    assert r.status == 200
    assert svg_title(r.body) == "hits: 1"
    r = server.get("/badge.svg?repo=%46oo%2fBar")
    assert r.status == 200
    assert svg_title(r.body) == "hits: 2"
    assert server.total("foo/bar") == 2


VALID = [
    "a/b",
    "a" * 39 + "/x",
    "x/" + "n" * 100,
    "Foo-Bar/x.y_z-1",
    "o/...",
    "o/.hidden",
    "o/-name-",
    "o/_",
    "0/0",
]


@pytest.mark.parametrize("repo", VALID, ids=lambda r: r[:24])
def test_valid_repo_names_count(server, repo):
    r = server.hit(repo)
    assert r.status == 200, r
    assert svg_title(r.body) == "hits: 1"
    st, j = server.api(repo)
    assert st == 200 and j["repo"] == repo.lower() and j["total"] == 1


INVALID = [
    "foo",
    "foo/",
    "/bar",
    "/",
    "-foo/bar",
    "foo-/bar",
    "fo_o/bar",
    "fo.o/bar",
    "a" * 40 + "/x",
    "x/" + "n" * 101,
    "foo/.",
    "foo/..",
    "foo/bar/baz",
    "foo//bar",
    "../etc/passwd",
    "foo/..%2F..%2Fetc",
    "foo/b%20ar",
    "foo/b+ar",  # '+' is a space in a query string
    "foo/bar%00",
    "foo%00/bar",
    "f%C3%A9/bar",
    "foo/b%C3%A4r",
    "foo/bar%0A",
    "foo%5Cbar",
    "foo/" + "x" * 1500,
    "foo/bar%",
    "foo/bar%zz",
    "foo/bar%2",
]


@pytest.mark.parametrize("repo", INVALID, ids=lambda r: r[:24])
def test_invalid_repo_gets_400_error_badge_and_nothing_stored(server, repo):
    r = server.get("/badge.svg?repo=" + repo)
    assert r.status == 400, (repo, r)
    assert r.header("Content-Type") == SVG_TYPE
    title = svg_title(r.body)
    assert "invalid repo" in title, title
    assert server.get("/count.svg?repo=" + repo).status == 400
    server.stop()
    assert db_totals(server.db) == {} and db_days(server.db) == {}


@pytest.mark.parametrize("path", ["/badge.svg", "/badge.svg?", "/badge.svg?v=2", "/badge.svg?repox=a/b"])
def test_missing_repo_gets_400_missing_repo_badge(server, path):
    r = server.get(path)
    assert r.status == 400
    assert r.header("Content-Type") == SVG_TYPE
    assert "missing repo" in svg_title(r.body)


def test_empty_repo_value_is_refused(server):
    r = server.get("/badge.svg?repo=")
    assert r.status == 400
    assert "repo" in svg_title(r.body)


def test_repo_given_twice_is_400_and_counts_nothing(server):
    for p in ["/badge.svg?repo=a/b&repo=a/b", "/badge.svg?repo=a/b&repo=c/d"]:
        r = server.get(p)
        assert r.status == 400
        ET.fromstring(r.body)
    assert server.api("a/b")[0] == 404
    assert server.api("c/d")[0] == 404


def test_error_badge_escapes_nothing_from_user_into_markup(server):
    # a hostile label on an error badge: still well-formed XML, no injected element
    r = server.get("/badge.svg?label=%3Cscript%3Ex%3C%2Fscript%3E&repo=bad")
    assert r.status == 400
    root = ET.fromstring(r.body)
    assert root.find(".//" + SVG_NS + "script") is None
    assert root.find(".//script") is None


# --- HEAD ---------------------------------------------------------------------


def test_head_answers_like_get_without_counting(server):
    g = server.hit("octo/cat")
    h = server.head("/badge.svg?repo=octo/cat")
    assert h.status == 200
    assert h.body == b""
    assert_badge_headers(h)
    assert h.header("ETag") == g.header("ETag")
    assert h.header("Content-Length") == g.header("Content-Length")
    server.head("/badge.svg?repo=octo/cat")
    assert server.total("octo/cat") == 1
    assert svg_title(server.hit("octo/cat").body) == "hits: 2"


def test_head_of_new_repo_creates_nothing(server):
    assert server.head("/badge.svg?repo=new/repo").status == 200
    assert server.api("new/repo")[0] == 404
    server.stop()
    assert db_totals(server.db) == {}


def test_head_invalid_repo_is_400(server):
    assert server.head("/badge.svg?repo=nope").status == 400


# --- /count.svg ----------------------------------------------------------------


def test_count_svg_shows_without_counting(server):
    r = server.get("/count.svg?repo=never/seen")
    assert r.status == 200
    assert_badge_headers(r)
    assert svg_title(r.body) == "hits: 0"
    assert server.api("never/seen")[0] == 404
    server.hit("Seen/Once")
    for _ in range(3):
        assert svg_title(server.get("/count.svg?repo=seen/once").body) == "hits: 1"
    assert server.total("seen/once") == 1
    server.stop()
    assert db_totals(server.db) == {"seen/once": 1}


# --- API --------------------------------------------------------------------------


def test_api_reports_counts_as_json_without_counting(server):
    for _ in range(3):
        server.hit("Octo/Cat")
    r = server.get("/api/v1/repos/octo/cat")
    assert r.status == 200
    assert r.header("Content-Type").startswith("application/json")
    j = json.loads(r.body)
    today = utc_today()
    assert j == {"repo": "octo/cat", "total": 3, "today": 3, "day": today, "first_seen": today}
    assert isinstance(j["total"], int) and isinstance(j["today"], int)
    server.get("/api/v1/repos/octo/cat")
    assert server.total("octo/cat") == 3


def test_api_unknown_repo_is_404_json(server):
    r = server.get("/api/v1/repos/no/such")
    assert r.status == 404
    assert r.header("Content-Type").startswith("application/json")
    assert "error" in json.loads(r.body)


@pytest.mark.parametrize("repo", ["-bad/x", "x/..", "onlyowner", "a/b/c", "x/b%20c", "a" * 40 + "/x"],
                         ids=lambda r: r[:24])
def test_api_invalid_repo_is_400_json(server, repo):
    r = server.get("/api/v1/repos/" + repo)
    assert r.status == 400, (repo, r)
    assert r.header("Content-Type").startswith("application/json")
    assert "error" in json.loads(r.body)


# --- health, routing, methods ---------------------------------------------------------


def test_healthz_ok(server):
    r = server.get("/healthz")
    assert r.status == 200
    assert r.body.split(b"\n")[0] == b"ok"


@pytest.mark.parametrize("path", ["/nope", "/badge.png?repo=a/b", "/api/v1/repos", "/api/v2/repos/a/b", "/badge.svg/extra?repo=a/b"])
def test_unknown_path_is_404(server, path):
    assert server.get(path).status == 404
    assert server.api("a/b")[0] == 404


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_other_methods_are_405_with_allow_and_count_nothing(server, method):
    r = server.request(method, "/badge.svg?repo=a/b", body=b"")
    assert r.status == 405
    allow = {m.strip() for m in r.header("Allow").split(",")}
    assert allow == {"GET", "HEAD"}
    assert server.api("a/b")[0] == 404


@pytest.mark.parametrize("body", [
    b"Content-Length: 5\r\nConnection: close\r\n\r\nhello",
    b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
], ids=["content-length", "chunked"])
def test_get_with_body_is_413_and_counts_nothing(server, body):
    out = server.raw(b"GET /badge.svg?repo=a/b HTTP/1.1\r\nHost: x\r\n" + body)
    assert status_of(out) == 413, out[:300]
    assert server.api("a/b")[0] == 404


# --- keep-alive and pipelining --------------------------------------------------------------


def test_keep_alive_get_keeps_connection_open(server):
    c = server.conn()
    try:
        for n in range(1, 6):
            c.request("GET", "/badge.svg?repo=k/a")
            r = c.getresponse()
            body = r.read()
            assert r.status == 200
            assert (r.getheader("Connection") or "").lower() != "close"
            assert not r.will_close
            assert svg_title(body) == "hits: %d" % n
        sock1 = c.sock
        c.request("GET", "/api/v1/repos/k/a")
        r = c.getresponse()
        r.read()
        assert c.sock is sock1, "the connection was reopened"
    finally:
        c.close()


def test_pipelined_requests_get_ordered_keep_alive_responses(server):
    import socket

    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        req = b"GET /badge.svg?repo=pipe/line HTTP/1.1\r\nHost: x\r\n\r\n"
        head = b"HEAD /badge.svg?repo=pipe/line HTTP/1.1\r\nHost: x\r\n\r\n"
        api = b"GET /api/v1/repos/pipe/line HTTP/1.1\r\nHost: x\r\n\r\n"
        s.sendall(req * 3 + head + api)
        f = s.makefile("rb")
        for n in range(1, 4):
            r = read_response(f)
            assert r.status == 200
            assert (r.header("Connection") or "").lower() != "close"
            assert svg_title(r.body) == "hits: %d" % n
        r = read_response(f, head=True)
        assert r.status == 200 and r.header("Content-Type") == SVG_TYPE
        r = read_response(f)
        assert r.status == 200 and json.loads(r.body)["total"] == 3
        f.close()
    finally:
        s.close()


def test_http10_request_is_answered(server):
    out = server.raw(b"GET /badge.svg?repo=old/client HTTP/1.0\r\n\r\n")
    assert status_of(out) == 200
    body = out.split(b"\r\n\r\n", 1)[1]
    assert svg_title(body) == "hits: 1"


def test_an_empty_look_parameter_is_the_servers_default(make_server):
    # a templated URL (color={{c}} left empty) gets the server's look, not ghit's built-in one
    s = make_server("--color", "blue", "--label-color", "8b4513", "--style", "for-the-badge",
                    "--view", "today-total", "--format", "plain", "--theme", "auto")
    s.hit("emp/ty")
    plain = s.get("/count.svg?repo=emp/ty").text
    assert "#007ec6" in plain and "#8b4513" in plain and "HITS" in plain
    empty = s.get("/count.svg?repo=emp/ty&color=&labelColor=&style=&view=&format=&theme=").text
    assert empty == plain
    # but for the two whose empty value means something: no label, no group separator
    no_label = s.get("/count.svg?repo=emp/ty&label=").text
    assert "HITS" not in no_label and ">1 / 1</text>" in no_label
    for _ in range(1233):
        s.hit("emp/ty")
    grouped = "/count.svg?repo=emp/ty&view=total&format=grouped"
    assert ">1,234</text>" in s.get(grouped).text
    assert ">1234</text>" in s.get(grouped + "&sep=").text
    assert s.get("/endpoint.json?repo=emp/ty&color=&view=").body == \
        s.get("/endpoint.json?repo=emp/ty").body
