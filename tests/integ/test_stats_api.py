"""Issue 9's JSON API and chart: history, top lists, shields.io endpoint, chart.svg.

Every test runs the real server over real sockets on a real SQLite file. Past
days are written into the file with Python's sqlite3 while the server is
stopped, as an earlier run would have left them; today's figures must include
hits the server has not yet written (a long --flush-interval keeps them in
memory).
"""

import datetime
import glob
import json
import os
import re
import sqlite3
import time
import xml.etree.ElementTree as ET

import pytest

from conftest import SVG_NS, utc_today

NO_CACHE = "max-age=0, no-cache, no-store, must-revalidate"


def day(offset):
    """The UTC day OFFSET days from today, YYYY-MM-DD."""
    d = datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=offset)
    return d.isoformat()


def get_json(server, path):
    r = server.get(path)
    assert r.header("Content-Type") == "application/json", r
    assert r.header("Access-Control-Allow-Origin") == "*", r
    assert r.header("Set-Cookie") is None
    return r.status, json.loads(r.body)


def seed(server, rows):
    """Stops SERVER, adds (repo, day, hits) rows to its file as earlier runs would, starts it."""
    server.stop()
    con = sqlite3.connect(server.db)
    with con:
        for repo, d, hits in rows:
            con.execute(
                "INSERT INTO repos(name, total, first_day) VALUES (?, ?, ?) ON CONFLICT(name) "
                "DO UPDATE SET total = total + excluded.total, first_day = min(first_day, excluded.first_day)",
                (repo, hits, d))
            con.execute("INSERT INTO daily(repo, day, hits) VALUES (?, ?, ?)", (repo, d, hits))
    con.close()
    server.start()


def wait_flushed(server, repo, total):
    """Waits until the store holds TOTAL for REPO."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        con = sqlite3.connect("file:%s?mode=ro" % server.db, uri=True)
        row = con.execute("SELECT total FROM repos WHERE name = ?", (repo,)).fetchone()
        con.close()
        if row and row[0] == total:
            return
        time.sleep(0.05)
    raise AssertionError("the store never held %d hits of %s" % (total, repo))


# --- /api/v1/repos/OWNER/NAME/days ---------------------------------------------------


def test_days_default_is_the_last_30_days_with_zeros_and_unflushed_hits(make_server):
    s = make_server(flush_interval=600000)  # nothing is written during the test
    for _ in range(3):
        assert s.hit("Days/Default").status == 200
    st, j = get_json(s, "/api/v1/repos/days/default/days")
    assert st == 200, j
    assert j["repo"] == "days/default"
    assert [e["day"] for e in j["days"]] == [day(-i) for i in range(29, -1, -1)]
    assert [e["hits"] for e in j["days"]] == [0] * 29 + [3]
    assert j["total"] == 3
    # Asking counts nothing.
    assert s.total("days/default") == 3


def test_days_reads_past_days_from_the_store(make_server):
    s = make_server()
    seed(s, [("hist/repo", day(-40), 7), ("hist/repo", day(-3), 5), ("hist/repo", day(-1), 2)])
    s.hit("hist/repo")
    st, j = get_json(s, "/api/v1/repos/hist/repo/days?from=%s&to=%s" % (day(-41), day(0)))
    assert st == 200, j
    got = {e["day"]: e["hits"] for e in j["days"]}
    assert len(j["days"]) == 42
    assert got[day(-40)] == 7 and got[day(-3)] == 5 and got[day(-1)] == 2 and got[day(0)] == 1
    assert sum(got.values()) == 15 == j["total"]
    st, j = get_json(s, "/api/v1/repos/hist/repo/days?from=%s&to=%s" % (day(-3), day(-3)))
    assert j["days"] == [{"day": day(-3), "hits": 5}]


@pytest.mark.parametrize("query,reason", [
    ("from=2026-13-01", "from: no such date"),
    ("from=1969-12-25", "from: days begin at 1970-01-01"),
    ("from=19x9-12-25", "from: a day is written YYYY-MM-DD"),
    ("to=yesterday", "to: a day is written YYYY-MM-DD"),
    ("from=2020-01-02&to=2020-01-01", "from is after to"),
    ("from=2020-01-01&to=2021-01-01", "at most 366"),
    # the NUL is named where it is, not in the other parameter
    ("from=%00&to=2026-11-29", "from: holds a NUL byte"),
    ("from=2026-11-01&to=2026-11-29%00", "to: holds a NUL byte"),
])
def test_days_bad_dates_and_ranges_get_400_with_a_reason(server, query, reason):
    server.hit("bad/range")
    st, j = get_json(server, "/api/v1/repos/bad/range/days?" + query)
    assert st == 400
    assert reason in j["error"], j
    assert j["error"].count("YYYY-MM-DD") <= 1, j  # the format is said once


def test_days_near_1970_begin_at_1970(server):
    # the default range (30 days up to "to") stops at the first day there is
    server.hit("old/range")
    st, j = get_json(server, "/api/v1/repos/old/range/days?to=1970-01-05")
    assert st == 200, j
    assert j["from"] == "1970-01-01" and [e["day"] for e in j["days"]][0] == "1970-01-01"
    assert len(j["days"]) == 5


def test_days_of_an_unknown_or_invalid_repo(server):
    st, j = get_json(server, "/api/v1/repos/never/seen/days")
    assert st == 404 and "unknown repo" in j["error"]
    st, j = get_json(server, "/api/v1/repos/-bad-/x/days")
    assert st == 400 and "owner" in j["error"]


def test_an_api_path_without_a_repo_says_where_the_name_goes(server):
    st, j = get_json(server, "/api/v1/repos/")
    assert (st, j["error"]) == (400, "missing repo: use /api/v1/repos/OWNER/NAME")


def test_a_repo_named_days_is_still_a_repo(server):
    server.hit("owner/days")
    st, j = server.api("owner/days")
    assert st == 200 and j["total"] == 1
    st, j = get_json(server, "/api/v1/repos/owner/days/days")
    assert st == 200 and j["repo"] == "owner/days" and j["days"][-1]["hits"] == 1


# --- /api/v1/top ---------------------------------------------------------------------


def test_top_of_today_and_of_seven_days(make_server):
    s = make_server()
    seed(s, [("top/old", day(-3), 100), ("top/a", day(-2), 1)])
    for repo, n in (("top/a", 5), ("top/b", 3), ("top/c", 3)):
        for _ in range(n):
            s.hit(repo)
    wait_flushed(s, "top/c", 3)
    st, j = get_json(s, "/api/v1/top")
    assert st == 200
    assert j["from"] == j["to"] == utc_today()
    assert j["repos"] == [{"repo": "top/a", "hits": 5}, {"repo": "top/b", "hits": 3},
                          {"repo": "top/c", "hits": 3}]
    st, j = get_json(s, "/api/v1/top?days=7&limit=2")
    assert j["from"] == day(-6) and j["limit"] == 2
    assert j["repos"] == [{"repo": "top/old", "hits": 100}, {"repo": "top/a", "hits": 6}]
    st, j = get_json(s, "/api/v1/top?day=%s" % day(-3))
    assert j["repos"] == [{"repo": "top/old", "hits": 100}]
    st, j = get_json(s, "/api/v1/top?day=2001-01-01")
    assert st == 200 and j["repos"] == []
    st, j = get_json(s, "/api/v1/top?day=1970-01-02&days=7")  # no day before 1970-01-01
    assert st == 200 and (j["from"], j["to"], j["repos"]) == ("1970-01-01", "1970-01-02", [])
    st, j = get_json(s, "/api/v1/top?day=%s&days=2" % day(-2))  # the 2 days ending on day
    assert j["from"] == day(-3) and j["to"] == day(-2)
    assert j["repos"] == [{"repo": "top/old", "hits": 100}, {"repo": "top/a", "hits": 1}]


def test_top_lists_a_repo_as_soon_as_its_hits_are_in_the_journal(make_server):
    """The merger folds the journal every few seconds; a top list does not wait for it."""
    s = make_server()
    for _ in range(4):
        s.hit("journal/top")
    deadline = time.monotonic() + 10
    while True:  # flushed: in the journal file, merged or not
        con = sqlite3.connect("file:%s-flushes?mode=ro" % s.db, uri=True)
        n = con.execute("SELECT coalesce(sum(hits), 0) FROM journal WHERE repo = 'journal/top'"
                        ).fetchone()[0]
        con.close()
        if n == 4:
            break
        assert time.monotonic() < deadline, "never flushed"
        time.sleep(0.02)
    st, j = get_json(s, "/api/v1/top")
    assert st == 200
    assert j["repos"] == [{"repo": "journal/top", "hits": 4}]


def test_top_today_shows_unflushed_hits_of_listed_repos(make_server):
    s = make_server(flush_interval=500)
    s.hit("live/top")
    wait_flushed(s, "live/top", 1)
    s.stop()
    s.args[s.args.index("--flush-interval") + 1] = "600000"  # from now on, nothing is written
    s.start()
    for _ in range(4):
        s.hit("live/top")
    st, j = get_json(s, "/api/v1/top")
    assert j["repos"] == [{"repo": "live/top", "hits": 5}]


@pytest.mark.parametrize("query,reason", [
    ("days=0", "days: is out of range"),
    ("days=32", "days: is out of range"),
    ("limit=101", "limit: is out of range"),
    ("limit=ten", "limit: must be a whole number"),
    ("day=2026-02-30", "day: no such date"),
])
def test_top_bad_parameters_get_400_with_a_reason(server, query, reason):
    st, j = get_json(server, "/api/v1/top?" + query)
    assert st == 400 and reason in j["error"], j


# --- /endpoint.json ------------------------------------------------------------------


def test_endpoint_is_shields_format_and_does_not_count(server):
    server.hit("end/point")
    server.hit("end/point")
    st, j = get_json(server, "/endpoint.json?repo=End/Point")
    assert st == 200
    assert j == {"schemaVersion": 1, "label": "hits", "message": "2", "color": "4c1",
                 "cacheSeconds": 300}
    st, j = get_json(server, "/endpoint.json?repo=end/point&label=views&color=blue"
                             "&labelColor=%23123456&view=today-total")
    assert j["label"] == "views" and j["message"] == "2 / 2"
    assert j["color"] == "007ec6" and j["labelColor"] == "123456"
    assert server.total("end/point") == 2


def test_endpoint_label_is_the_badges(server):
    # escaped for JSON; a control character dropped and a stray byte U+FFFD, as on the badge
    st, j = get_json(server, "/endpoint.json?repo=a/b&label=%22q%22%5C%01%E2%9C%93%FF")
    assert st == 200
    assert j["label"] == '"q"\\\u2713\ufffd'
    # cut to the badge's 128 bytes, at a character's boundary
    st, j = get_json(server, "/endpoint.json?repo=a/b&label=" + "a" * 127 + "%C3%A9zz")
    assert j["label"] == "a" * 127
    badge = server.get("/count.svg?repo=a/b&label=" + "a" * 127 + "%C3%A9zz").text
    assert ">" + "a" * 127 + "<" in badge


def test_endpoint_of_a_bad_repo_is_an_error_badge_with_200(server):
    # shields.io draws a reply other than 200 as "invalid", without reading its reason
    st, j = get_json(server, "/endpoint.json?repo=nope")
    assert st == 200
    assert j["isError"] is True and j["color"] == "red" and "OWNER/NAME" in j["message"]
    st, j = get_json(server, "/endpoint.json?repo=a/b&style=round")
    assert st == 200 and j["isError"] is True and j["message"].startswith("style must be")


# --- /chart.svg ----------------------------------------------------------------------


def chart(server, query):
    r = server.get("/chart.svg?" + query)
    assert r.header("Content-Type") == "image/svg+xml; charset=utf-8"
    assert r.header("Cache-Control") == NO_CACHE and r.header("ETag")
    root = ET.fromstring(r.body)  # well-formed, always
    assert root.tag == SVG_NS + "svg"
    return r, root


def test_chart_draws_the_days_and_states_the_numbers(make_server):
    s = make_server()
    seed(s, [("chart/repo", day(-2), 40)])
    for _ in range(2):
        s.hit("chart/repo")
    r, root = chart(s, "repo=Chart/Repo&days=7")
    assert r.status == 200
    assert root.get("role") == "img"
    assert (root.get("width"), root.get("height")) == ("480", "160")
    title = root.find(SVG_NS + "title").text
    assert title == "chart/repo: 42 hits in 7 days, %s to %s; most on %s (40)" % (
        day(-6), day(0), day(-2))
    bars = root.findall(".//%sg/%srect" % (SVG_NS, SVG_NS))
    assert len(bars) == 7
    assert [b.find(SVG_NS + "title").text for b in bars][-3:] == [
        "%s: 40" % day(-2), "%s: 0" % day(-1), "%s: 2" % day(0)]
    assert s.total("chart/repo") == 42  # drawing counted nothing
    r, root = chart(s, "repo=chart/repo")
    assert len(root.findall(".//%sg/%srect" % (SVG_NS, SVG_NS))) == 30
    r, root = chart(s, "repo=chart/repo&days=365&theme=auto")
    assert b"prefers-color-scheme:dark" in r.body
    assert len(root.findall(".//%sg/%srect" % (SVG_NS, SVG_NS))) == 365


@pytest.mark.parametrize("query", ["repo=a/b&days=6", "repo=a/b&days=366", "repo=a/b&days=x",
                                   "repo=a", "repo=a/b&theme=sepia"])
def test_chart_refuses_with_an_error_badge(server, query):
    r, root = chart(server, query)
    assert r.status == 400
    assert root.get("height") == "20"  # a badge, not a chart


def test_chart_of_a_repo_without_hits_is_all_zeros(server):
    r, root = chart(server, "repo=no/hits&days=7")
    assert r.status == 200
    assert "0 hits in 7 days" in root.find(SVG_NS + "title").text


def with_8000_repos_of_31_days(s, n=8000):
    """Stops s, gives its store n repos with a hit count on each of 31 past days (at 8,000,
    248,000 daily rows: a 31-day top list takes a while), and starts it again. Repo i (o00000/r
    to o{n-1}/r) has 1 + (i + 8000 * k) % 7 hits k + 2 days ago."""
    s.stop()
    con = sqlite3.connect(s.db)
    with con:
        con.execute(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 * 31 - 1) "
            "INSERT INTO daily(repo, day, hits) SELECT printf('o%05d/r', i % ?1), "
            "date('now', '-' || (i / ?1 + 2) || ' days'), 1 + (i % ?1 + 8000 * (i / ?1)) % 7 "
            "FROM n ORDER BY 1, 2", (n,))
        con.execute("INSERT INTO repos(name, total, first_day) SELECT repo, sum(hits), min(day) "
                    "FROM daily GROUP BY repo")
    con.close()
    s.start()


def top_reads(s):
    """The top lists s read from its store, as its debug log tells."""
    return s.stderr().count("read the top list of")


def test_a_top_list_is_read_beside_the_badges_of_its_worker(make_server):
    """A long top list is read by a thread of its own while its request waits: with one
    HTTP worker, badges are answered while it is read (read on the worker, they waited for
    it), a second request for the same list waits for the same read, the dashboard's list
    asked meanwhile is answered too, and another list of a chosen range is refused."""
    import threading

    # A request waits for the read within the request timeout: 10 s was not always enough
    # for 1,860,000 daily rows under the sanitizers on a slow host (a 503, "still being read").
    s = make_server("--threads", "1", "--log-level", "debug", "--request-timeout", "60")
    with_8000_repos_of_31_days(s, 60000)
    replies = {}

    def top(name, path):
        # The client waits as long as the server lets the request wait, not SOCK_TIMEOUT's
        # 10 s: under the sanitizers on a slow host the read took longer than that.
        replies[name] = s.get(path, timeout=70)

    long_list = "/api/v1/top?days=31&day=%s&limit=3" % day(-2)
    asked = [threading.Thread(target=top, args=(k, long_list)) for k in ("first", "same")]
    asked.append(threading.Thread(target=top, args=("today", "/api/v1/top")))
    asked[0].start()
    time.sleep(0.05)
    for t in asked[1:]:
        t.start()
    # Another list that the dashboard does not show waits for nothing while one is read: it
    # is charged to the lists' share once read, so a burst of them would pass the share.
    other = s.get("/api/v1/top?days=31&day=%s&limit=3" % day(-3))
    assert other.status == 503 and "another top list" in json.loads(other.body)["error"], other
    badges = 0
    while asked[0].is_alive():
        assert s.hit("flow/a").status == 200
        badges += int(asked[0].is_alive())
    for t in asked:
        t.join()
    # Read on the worker, the list held the first badge asked after it, which could end
    # just before the list's reply was seen: one at most, where dozens pass now.
    assert badges >= 10, "%d badges were answered while the list was read" % badges
    first = json.loads(replies["first"].body)
    assert replies["first"].status == 200 and first == json.loads(replies["same"].body)
    hits = {"o%05d/r" % i: sum(1 + (i + 8000 * k) % 7 for k in range(31)) for i in range(60000)}
    want = sorted(hits.items(), key=lambda x: (-x[1], x[0]))[:3]
    assert [(r["repo"], r["hits"]) for r in first["repos"]] == want, first
    assert replies["today"].status == 200
    assert top_reads(s) == 2, s.stderr()
    # Served from the cache now, without a read.
    assert json.loads(s.get(long_list).body) == first and top_reads(s) == 2


def test_a_top_list_that_outlasts_its_request_is_refused_then_served_from_the_cache(
        make_server):
    """A request waits for its list until shortly before its deadline: then it is answered
    503, try again, rather than cut off; the read goes on and the next request gets it."""
    s = make_server("--request-timeout", "1", "--log-level", "debug")
    with_8000_repos_of_31_days(s, 60000)
    long_list = "/api/v1/top?days=31&day=%s&limit=3" % day(-2)
    t0 = time.monotonic()
    r = s.get(long_list)
    waited = time.monotonic() - t0
    assert r.status == 503, r
    assert "still being read" in json.loads(r.body)["error"] and waited < 1, (r, waited)
    deadline = time.monotonic() + 30
    while top_reads(s) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    r = s.get(long_list)
    assert r.status == 200 and len(json.loads(r.body)["repos"]) == 3, r
    assert top_reads(s) == 1


def faketime_lib():
    """libfaketime's library (Debian's faketime, which scripts/deps.sh installs)."""
    found = glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1")
    assert found, "libfaketime is missing: install Debian's faketime (scripts/deps.sh test)"
    return found[0]


def top_read_lines(s, first, last):
    """s's debug log lines of its reads of the top list of first..last."""
    return [x for x in s.stderr().splitlines() if "read the top list of %s to %s in " % (
        first, last) in x]


def read_ms(s, first, last):
    """How long s's last read of the top list of first..last took, by its debug log (ms)."""
    lines = top_read_lines(s, first, last)
    assert lines, s.stderr()
    return int(re.search(r" in (\d+) ms", lines[-1]).group(1))


def test_a_list_of_today_read_across_midnight_is_of_the_day_it_was_asked_on(make_server):
    """A list of today asked just before midnight UTC and read after it is that day's list:
    run again once its read is done, the request takes the range that read was of. (Before,
    it computed "today" anew, found the new day's list not read, and got 503 "still being
    read".) The server runs with its wall clock set to reach midnight a few seconds after it
    starts (libfaketime; its monotonic clock is left alone), and the list is asked about a
    third of its reading time before that: a time measured on a run of its own, since a list
    the dashboard does not show is charged to their share once read. A read that ends before
    midnight all the same proves nothing: the server is started again, three times at most,
    each time with the reading time its last run took."""
    s = make_server("--log-level", "debug")
    with_8000_repos_of_31_days(s, 20000)
    asked = "/api/v1/top?days=31&limit=3"
    r = s.get(asked)
    assert r.status == 200, r
    got = json.loads(r.body)
    took = read_ms(s, got["from"], got["to"]) / 1000
    lib = faketime_lib()
    for attempt in range(3):
        s.stop()
        lead = int(6 + 2 * took)
        now = int(time.time())
        next_midnight = (now // 86400 + 1) * 86400
        s.env = {
            "LD_PRELOAD": lib,
            "FAKETIME": "%+d" % (next_midnight - lead - now),
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "FAKETIME_NO_CACHE": "1",
            # The sanitizer build's runtime is then not the first library; it works all the same.
            "ASAN_OPTIONS": ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"),
                                                   "verify_asan_link_order=0"])),
        }
        s.start()
        asked_on = datetime.datetime.fromtimestamp(next_midnight - 1, datetime.timezone.utc).date()
        wait = now + lead - took / 3 - time.time()  # now + lead: the server's midnight, on ours
        if wait <= 0:
            continue  # it took longer to start than allowed for: inconclusive, again
        time.sleep(wait)
        r = s.get(asked)
        assert r.status == 200, (r, s.stderr())
        got = json.loads(r.body)
        if got["to"] == (asked_on + datetime.timedelta(days=1)).isoformat():
            continue  # asked after midnight after all: the new day's list, rightly; again
        assert got["to"] == asked_on.isoformat(), got
        assert got["from"] == (asked_on - datetime.timedelta(days=30)).isoformat(), got
        assert len(got["repos"]) == 3, got
        took = read_ms(s, got["from"], got["to"]) / 1000
        # Whether the read ended after the server's midnight, by its own log's clock.
        reads = top_read_lines(s, got["from"], got["to"])
        assert len(reads) == 1, s.stderr()
        if reads[0].startswith((asked_on + datetime.timedelta(days=1)).isoformat()):
            return
    raise AssertionError("no read began before midnight and ended after it in 3 tries")


def test_a_stop_interrupts_a_top_list_being_read(make_server):
    """A stop does not wait for a top list: the read is interrupted and its request answered
    503 (read to its end, this one took over a second of the stop's five of grace)."""
    import threading

    s = make_server("--log-level", "debug")
    with_8000_repos_of_31_days(s, 60000)
    replies = []
    asked = threading.Thread(target=lambda: replies.append(
        s.get("/api/v1/top?days=31&day=%s&limit=3" % day(-2))))
    asked.start()
    time.sleep(0.2)
    s.stop()
    asked.join()
    assert replies[0].status == 503, replies[0]
    assert "ghit is stopping" in json.loads(replies[0].body)["error"], replies[0]
    reads = [x for x in s.stderr().splitlines() if "read the top list of" in x]
    assert len(reads) == 1 and "which failed" in reads[0], reads


def test_top_lists_a_client_chooses_take_a_bounded_share_of_the_server(make_server):
    """Each client names its own day and span, so the cache cannot bound how often top
    lists are read. Those the dashboard does not show use a quarter of the time at most:
    one after another, some are answered 503 with when to try again; the dashboard's own
    lists and the badges are not held back."""
    s = make_server()
    with_8000_repos_of_31_days(s)
    refused = None
    t0 = time.monotonic()
    for k in range(40):  # each one a range not read before: never from the cache
        r = s.get("/api/v1/top?days=31&day=%s" % day(-2 - k))
        if r.status == 503:
            refused = json.loads(r.body)["error"]
            break
        assert r.status == 200 and len(json.loads(r.body)["repos"]) == 10
    assert refused, "40 lists in %.1f s and none held back" % (time.monotonic() - t0)
    assert "a quarter of the server's time" in refused and "try again in" in refused, refused
    assert s.get("/api/v1/top").status == 200
    assert s.get("/api/v1/top?days=7").status == 200
    assert s.hit("share/badge").status == 200
    wait_ms = int(refused.rsplit("try again in ", 1)[1].split()[0])
    time.sleep(wait_ms / 1000 + 0.05)
    assert s.get("/api/v1/top?days=31&day=%s" % day(-60)).status == 200
