"""Issue 10: the operator's set and delete, over HTTP with the admin token and from the CLI.

Real server, real sockets, real SQLite files. The token is checked for every way of
getting it wrong, changes show in the next badge and survive restarts, no hit is lost
around a set, the token never reaches the log, and there is never a second writer."""

import json
import os
import threading

import pytest

from conftest import (db_days, db_rows, db_totals, run_ghit, status_of, svg_title, utc_today,
                      wait_written)

TOKEN = "s3cret-Token-0123456789abcdefXYZ"


@pytest.fixture
def token_file(tmp_path):
    p = tmp_path / "admin.token"
    p.write_text(TOKEN + "\n")
    p.chmod(0o600)
    return str(p)


@pytest.fixture
def admin(make_server, token_file):
    return make_server("--admin-token-file", token_file)


def put(s, repo, body, token=TOKEN):
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = "Bearer " + token
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return s.request("PUT", "/api/v1/repos/" + repo, headers, data)


def delete(s, repo, token=TOKEN):
    headers = {"Authorization": "Bearer " + token} if token is not None else {}
    return s.request("DELETE", "/api/v1/repos/" + repo, headers)


def test_admin_routes_do_not_exist_without_a_token_file(server):
    assert server.request("DELETE", "/api/v1/repos/a/b").status == 405
    assert server.request("PUT", "/api/v1/repos/a/b").status == 405
    r = server.request("PUT", "/api/v1/repos/a/b", {"Authorization": "Bearer " + TOKEN}, '{"total":5}')
    assert r.status in (405, 413)
    assert server.total("a/b") is None
    r = server.request("POST", "/api/v1/repos/a/b")
    assert (r.status, r.header("Allow")) == (405, "GET, HEAD")


def test_other_methods_on_admin_routes_are_told_what_is_allowed(admin):
    for method in ("POST", "PATCH"):
        r = admin.request(method, "/api/v1/repos/a/b", {"Authorization": "Bearer " + TOKEN})
        assert (r.status, r.header("Allow")) == (405, "GET, HEAD, PUT, DELETE"), r
        assert "use GET, HEAD, PUT or DELETE" in r.text
    r = admin.request("POST", "/badge.svg?repo=a/b")
    assert (r.status, r.header("Allow")) == (405, "GET, HEAD")
    assert admin.total("a/b") is None


@pytest.mark.parametrize("auth", [
    None, "Bearer wrong", "Bearer " + TOKEN[:-1], "Bearer " + TOKEN + "x", "Bearer " + TOKEN[:1],
    "Basic " + TOKEN, TOKEN, "Bearer", "Bearer " + TOKEN.upper(), "Bearer " + TOKEN + " extra",
], ids=["none", "wrong", "prefix", "longer", "first-byte", "basic", "no-scheme", "empty",
        "case", "two-words"])
def test_missing_or_wrong_token_gets_the_same_401(admin, auth):
    admin.hit("a/b")
    headers = {"Authorization": auth} if auth is not None else {}
    for method, body in (("PUT", '{"total":99}'), ("DELETE", None)):
        r = admin.request(method, "/api/v1/repos/a/b", headers, body)
        assert r.status == 401, (method, r)
        assert json.loads(r.body) == {"error": "unauthorized: send Authorization: Bearer TOKEN"}
        assert r.header("WWW-Authenticate") == 'Bearer realm="ghit"'
    # nothing is revealed about the name or the body either
    r = admin.request("PUT", "/api/v1/repos/bad..name/x/y", headers, "not json")
    assert r.status == 401
    assert admin.total("a/b") == 1


def test_set_shows_in_the_next_badge_and_survives_a_restart(admin, token_file):
    for _ in range(3):
        admin.hit("Own/Repo")
    today = admin.api("own/repo")[1]["day"]
    r = put(admin, "Own/Repo", {"total": 5000, "days": {"2025-01-01": 40, today: 7}})
    assert r.status == 200, r
    assert json.loads(r.body) == {"repo": "own/repo", "total": 5000, "today": 7, "day": today,
                                  "first_seen": "2025-01-01"}
    assert svg_title(admin.get("/count.svg?repo=own/repo").body) == "hits: 5,000"
    assert svg_title(admin.hit("own/repo").body) == "hits: 5,001"
    assert "admin: set own/repo to 5000 hits, 2 days of history" in admin.stderr()
    assert TOKEN not in admin.stderr()
    admin.restart()
    assert admin.api("own/repo")[1]["total"] == 5001
    assert admin.api("own/repo")[1]["today"] == 8
    assert {d: h for (r, d), h in db_days(admin.db).items() if r == "own/repo"} == {
        "2025-01-01": 40, today: 8}
    # a total alone keeps the first day and clears the history
    assert put(admin, "own/repo", {"total": 0}).status == 200
    admin.restart()
    assert admin.api("own/repo")[1]["total"] == 0
    assert admin.api("own/repo")[1]["first_seen"] == "2025-01-01"
    assert not [d for r, d in db_days(admin.db) if r == "own/repo"]
    assert TOKEN not in admin.stderr()


def test_delete_removes_the_repo_and_its_history_for_good(admin):
    for _ in range(4):
        admin.hit("del/me")
    admin.hit("keep/me")
    r = delete(admin, "del/me")
    assert r.status == 200
    assert json.loads(r.body) == {"repo": "del/me", "deleted": True}
    assert admin.api("del/me")[0] == 404
    assert delete(admin, "del/me").status == 404
    assert "admin: deleted del/me" in admin.stderr()
    admin.restart()
    assert admin.api("del/me")[0] == 404
    assert not [d for r, d in db_days(admin.db) if r == "del/me"]
    assert admin.total("keep/me") == 1
    assert svg_title(admin.hit("del/me").body) == "hits: 1"


@pytest.mark.parametrize("body,why", [
    ("", "expected a JSON object"), ('{"total":-1}', "negative"), ('{"total":1.5}', "whole"),
    ('{"days":{}}', "total"), ('{"repo":"a/b","total":1}', "in the URL"),
    ('{"total":1,"days":{"2025-01-01":2}}', "more than"), ('{"total":1,"x":2}', "unknown field"),
])
def test_bad_bodies_are_refused_with_a_reason(admin, body, why):
    admin.hit("a/b")
    r = put(admin, "a/b", body)
    assert r.status == 400
    assert why in json.loads(r.body)["error"]
    assert admin.total("a/b") == 1


@pytest.mark.parametrize("body,why", [
    ({"total": 10, "first_day": "2099-01-01", "days": {"2099-06-01": 4}},
     '"first_day" is after today (UTC)'),
    ({"total": 10, "days": {"2099-06-01": 4}}, '"days" holds a day after today (UTC)'),
    ({"total": 10, "days": {"2099-06-01": 0}}, '"days" holds a day after today (UTC)'),
], ids=["first_day", "days", "zero-day"])
def test_days_after_today_are_refused(admin, body, why):
    admin.hit("fu/ture")
    r = put(admin, "fu/ture", body)
    assert r.status == 400, r
    assert json.loads(r.body)["error"] == why + ": counts are of views that happened"
    assert admin.api("fu/ture")[1]["total"] == 1
    assert put(admin, "fu/ture", {"total": 10, "days": {utc_today(): 4}}).status == 200


def test_bad_name_and_large_body_are_refused(admin):
    assert put(admin, "a/b/c", {"total": 1}).status == 400
    head = ("PUT /api/v1/repos/a/b HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
            "Content-Length: %d\r\n\r\n" % (TOKEN, 1024 * 1024 + 1)).encode()
    assert status_of(admin.raw(head)) == 413  # refused before a byte of the body is read
    chunked = ("PUT /api/v1/repos/a/b HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
               "Transfer-Encoding: chunked\r\n\r\n" % TOKEN).encode()
    assert status_of(admin.raw(chunked)) == 413
    admin.hit("a/kept")
    with_body = ("DELETE /api/v1/repos/a/kept HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                 "Content-Length: 3\r\n\r\nabc" % TOKEN).encode()
    reply = admin.raw(with_body)
    assert status_of(reply) == 413 and b"a request body is accepted with PUT only" in reply, reply
    assert admin.total("a/kept") == 1
    # a NUL cuts the library's copy of a field: the token before it must not pass for the field
    nul_token = ("DELETE /api/v1/repos/a/kept HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\x00junk\r\n"
                 "\r\n" % TOKEN).encode()
    assert status_of(admin.raw(nul_token)) == 400
    assert admin.total("a/kept") == 1
    # without the token, not a byte of a body is read or held: 401 at once
    for token in ("wrong", TOKEN[:-1]):
        head = ("PUT /api/v1/repos/a/b HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                "Content-Length: 1000\r\n\r\n" % token).encode()
        reply = admin.raw(head, timeout=3)
        assert status_of(reply) == 401, reply
    assert admin.total("a/b") is None


def test_no_hit_is_lost_around_a_set(admin):
    """Hits race a set; whatever the server shows afterwards is what the store holds."""
    stop = threading.Event()
    answered = []

    def hammer():
        c = admin.conn()
        n = 0
        while not stop.is_set() and n < 400:
            c.request("GET", "/badge.svg?repo=race/set")
            r = c.getresponse()
            r.read()
            n += 1
        answered.append(n)
        c.close()

    threads = [threading.Thread(target=hammer) for _ in range(2)]
    for t in threads:
        t.start()
    import time
    time.sleep(0.15)
    assert put(admin, "race/set", {"total": 100000}).status == 200
    time.sleep(0.15)
    stop.set()
    for t in threads:
        t.join(20)
    shown = admin.total("race/set")
    assert 100000 <= shown <= 100000 + sum(answered)
    admin.restart()
    assert admin.total("race/set") == shown
    assert db_totals(admin.db)["race/set"] == shown


def test_cli_set_and_delete_go_through_the_running_server(admin):
    admin.hit("cli/repo")
    p = run_ghit("set", "--db", admin.db, "--repo", "CLI/repo", "--total", "777")
    assert p.returncode == 0, p.stderr
    assert "cli/repo now has 777 hits" in p.stdout
    assert admin.total("cli/repo") == 777  # the running server's count, at once
    assert "admin: set cli/repo to 777 hits" in admin.stderr()
    assert TOKEN not in admin.stderr()
    p = run_ghit("delete", "--db", admin.db, "--repo", "cli/repo")
    assert p.returncode == 0, p.stderr
    assert admin.api("cli/repo")[0] == 404
    p = run_ghit("delete", "--db", admin.db, "--repo", "cli/repo")
    assert p.returncode == 1 and "404" in p.stderr


def test_cli_set_needs_the_token_a_running_server_names(admin, tmp_path):
    bad = tmp_path / "other.token"
    bad.write_text("another-token-0123456789\n")
    p = run_ghit("set", "--db", admin.db, "--repo", "a/b", "--total", "5",
                 "--admin-token-file", str(bad))
    assert p.returncode == 1
    assert "401" in p.stderr
    assert admin.total("a/b") is None


def test_cli_set_refuses_a_server_without_admin_routes(server):
    server.hit("a/b")
    p = run_ghit("set", "--db", server.db, "--repo", "a/b", "--total", "5")
    assert p.returncode == 1
    assert "without --admin-token-file" in p.stderr
    assert server.total("a/b") == 1


def test_cli_set_and_delete_write_directly_when_no_server_runs(make_server, tmp_path):
    s = make_server()
    s.hit("off/line")
    s.hit("gone/soon")
    s.stop()
    assert not os.path.exists(s.db + ".serve")
    p = run_ghit("set", "--db", s.db, "--repo", "off/line", "--total", "42")
    assert p.returncode == 0, p.stderr
    p = run_ghit("delete", "--db", s.db, "--repo", "gone/soon")
    assert p.returncode == 0, p.stderr
    assert run_ghit("delete", "--db", s.db, "--repo", "never/was").returncode == 1
    s.start()
    assert s.total("off/line") == 42
    assert s.api("gone/soon")[0] == 404


@pytest.mark.parametrize("args", [
    ["set", "--repo", "a/b", "--total", "1"], ["set", "--db", "x.db", "--total", "1"],
    ["set", "--db", "x.db", "--repo", "a/b"], ["set", "--db", "x.db", "--repo", "a/b", "--total", "-1"],
    ["set", "--db", "x.db", "--repo", "a", "--total", "1"], ["delete", "--db", "x.db"],
    ["set", "--db", "x.db", "--repo", "a/b", "--total", "1", "--bogus", "1"],
])
def test_cli_bad_command_lines_exit_2_and_write_nothing(tmp_path, args):
    p = run_ghit(*args, cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    assert p.stderr.strip()
    assert not (tmp_path / "x.db").exists()


def test_a_second_server_on_the_same_store_is_refused(server, tmp_path):
    p = run_ghit("serve", "--listen", "127.0.0.1:0", "--db", server.db, timeout=10)
    assert p.returncode == 1
    assert "is in use by another ghit serve" in p.stderr
    assert server.get("/healthz").status == 200


def test_a_crashed_servers_run_file_is_ignored_and_replaced(admin):
    import signal

    import time

    admin.hit("crash/repo")
    time.sleep(0.3)  # three flush intervals
    admin.stop(sig=signal.SIGKILL, expect_rc=None)
    assert os.path.exists(admin.db + ".serve")  # left behind by the crash
    p = run_ghit("set", "--db", admin.db, "--repo", "crash/repo", "--total", "9")
    assert p.returncode == 0, p.stderr  # the lock is free: written directly
    admin.start()
    assert admin.total("crash/repo") == 9
    with open(admin.db + ".serve") as f:
        assert "address 127.0.0.1:%d\n" % admin.port in f.read()
    assert TOKEN not in open(admin.db + ".serve").read()
    p = run_ghit("set", "--db", admin.db, "--repo", "crash/repo", "--total", "10")
    assert p.returncode == 0, p.stderr
    assert admin.total("crash/repo") == 10


MAX_COUNT = 9223372036854775807  # COUNT_MAX (src/count.h): what SQLite's integers hold


def test_counts_saturate_at_the_maximum_and_stay_integers(admin):
    """A total and a day set to the maximum stay there when hits come: in memory, in SQLite
    (an INTEGER column, not a REAL past it) and after a restart."""
    today = utc_today()
    r = put(admin, "big/one", {"total": MAX_COUNT, "days": {today: MAX_COUNT}})
    assert r.status == 200, r
    for _ in range(2):
        assert svg_title(admin.hit("big/one").body) == "hits: 9,223,372,036,854,775,807"
    st, j = admin.api("big/one")
    assert (j["total"], j["today"]) == (MAX_COUNT, MAX_COUNT), j
    # the hits in the journal, not merged yet, added to the maximum: still the maximum
    admin.hit("small/one")
    wait_written(admin, 3)
    p = run_ghit("export", "--db", admin.db)
    assert p.returncode == 0, p.stderr
    assert [json.loads(ln)["total"] for ln in p.stdout.splitlines()] == [MAX_COUNT, 1]
    r = admin.get("/api/v1/top?days=1")
    assert r.status == 200, r
    assert [x["hits"] for x in json.loads(r.body)["repos"]] == [MAX_COUNT, 1]
    admin.restart()
    assert admin.api("big/one")[1]["total"] == MAX_COUNT
    assert admin.hit("big/one").status == 200  # on the figures read back at the start
    st, j = admin.api("big/one")
    assert (j["total"], j["today"]) == (MAX_COUNT, MAX_COUNT), j
    admin.stop()
    assert db_rows(admin.db, "SELECT total, typeof(total) FROM repos WHERE name = 'big/one'") \
        == [(MAX_COUNT, "integer")]
    assert db_rows(admin.db, "SELECT hits, typeof(hits) FROM daily WHERE repo = 'big/one'") \
        == [(MAX_COUNT, "integer")]
    admin.start()
    assert admin.api("big/one")[1]["total"] == MAX_COUNT


def test_an_export_of_a_total_at_the_maximum_whose_days_went_on_reads_back(admin, tmp_path):
    """At the maximum the total stays while a new day counts: the export's days add up to
    more than its total, and import takes them back (it refused that line)."""
    r = put(admin, "sat/x", {"total": MAX_COUNT, "days": {utc_today(): MAX_COUNT - 5}})
    assert r.status == 200, r
    for _ in range(7):
        assert admin.hit("sat/x").status == 200
    st, j = admin.api("sat/x")
    assert (j["total"], j["today"]) == (MAX_COUNT, MAX_COUNT), j
    admin.stop()
    p = run_ghit("export", "--db", admin.db)
    assert p.returncode == 0, p.stderr
    line = json.loads(p.stdout)
    assert line["total"] == MAX_COUNT and line["days"] == {utc_today(): MAX_COUNT}
    # another day past the maximum total, as the server writes it once a new day counts
    line["days"]["2020-01-01"] = 3
    line["first_day"] = "2020-01-01"
    db2 = str(tmp_path / "again.db")
    p = run_ghit("import", "--db", db2, input=json.dumps(line) + "\n")
    assert p.returncode == 0, p.stderr
    p = run_ghit("export", "--db", db2)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == line
    # and as CSV, whose rows add up past the maximum: no made-up row of the rest
    p = run_ghit("export", "--db", db2, "--format", "csv")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "repo,day,hits\nsat/x,2020-01-01,3\nsat/x,%s,%d\n" % (
        utc_today(), MAX_COUNT)
    db3 = str(tmp_path / "csv.db")
    p = run_ghit("import", "--db", db3, "--format", "csv", input=p.stdout)
    assert p.returncode == 0, p.stderr
    p = run_ghit("export", "--db", db3)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == line


def test_an_absolute_form_put_is_an_admin_request(admin):
    # RFC 9112 (3.2.2): a server takes the absolute form of a target, as ghit does for GET.
    r = admin.request("PUT", "http://x/api/v1/repos/abs/form",
                      {"Authorization": "Bearer " + TOKEN}, '{"total":7}')
    assert r.status == 200, r.text()
    assert admin.total("abs/form") == 7
    r = admin.request("PUT", "http://x/api/v1/repos/abs/form", {}, '{"total":9}')
    assert r.status == 401
    assert admin.total("abs/form") == 7


@pytest.mark.parametrize("first,second", [(TOKEN, "x"), ("x", TOKEN)], ids=["right-first",
                                                                           "right-second"])
def test_two_authorization_fields_are_refused(admin, first, second):
    # Which of two fields a proxy or a log looked at is a guess: neither order gets in.
    body = b'{"total":3}'
    r = admin.raw(b"PUT /api/v1/repos/two/auth HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                  + first.encode() + b"\r\nAuthorization: Bearer " + second.encode()
                  + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    assert status_of(r) == 400, r
    assert admin.total("two/auth") is None


def test_cli_set_beside_a_server_whose_run_file_is_gone_says_it_may_be_one(admin):
    # It said "locked by another process that is not a running ghit server" of a server.
    admin.hit("gone/runfile")
    os.unlink(admin.db + ".serve")
    p = run_ghit("set", "--db", admin.db, "--repo", "gone/runfile", "--total", "9")
    assert p.returncode == 1
    assert "not a running ghit server" not in p.stderr, p.stderr
    assert "a ghit serve whose %s.serve file was removed" % admin.db in p.stderr, p.stderr
    assert admin.total("gone/runfile") == 1
