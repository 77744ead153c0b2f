"""Connections that Redis closed while they idled (its `timeout`, CLIENT KILL, a NAT that
forgot them), against a real redis-server.

hiredis learns of such a close only when the next command fails. A read on a connection
found closed so connects again and is sent once more: a badge of a repo only Redis holds
shows its count and counts its hit, and the statistics answer 200, as if the connection had
never closed. Found by an audit with `timeout 2`: about half of such badges showed "?" and
their hits were not counted, and every other top list answered 503.
"""

import json
import re

import pytest

from conftest import metric, run_ghit, svg_title

redis = pytest.importorskip("redis", reason="Debian's python3-redis (scripts/deps.sh test)")
from redisfix import wait_for  # noqa: E402

from test_stats_api import day  # noqa: E402

REPOS = 10


def import_repos(r):
    """q/r0 .. q/r9, 5 hits each today, written by ghit import (the frontend never saw them)."""
    text = "".join(json.dumps({"repo": "q/r%d" % i, "total": 5, "days": {day(0): 5}}) + "\n"
                   for i in range(REPOS))
    p = run_ghit("import", "--db", r.url, input=text)
    assert p.returncode == 0, p.stderr


def badge_counts(front, r, i):
    """A badge of q/rI, which only Redis holds: it shows 6 (5 and this hit), and Redis gets
    the hit."""
    reply = front.hit("q/r%d" % i)
    assert reply.status == 200 and svg_title(reply.body) == "hits: 6", reply
    wait_for("q/r%d's hit in Redis" % i,
             lambda: r.client().get("repo:q%%2Fr%d" % i) == "6", timeout=10)


def readers_closed(r):
    """Waits until Redis has closed the idle readers: no read-only connection is left but the
    feed's follower (blocked in XREAD)."""
    wait_for("Redis to close the idle readers", lambda: not [
        c for c in r.client().client_list()
        if c["name"].startswith("ghit-ro:") and c["cmd"] != "xread"], timeout=10)


def assert_all_counted(front):
    """No badge went without its count; the loader never failed (the feed's follower, killed
    inside its blocking XREAD, and the writer, whose chunk goes again, may say so)."""
    assert metric(front, "ghit_not_counted_total").get('{reason="store_unreadable"}', 0) == 0
    assert not re.search(r"loader: Redis at \S+ did not answer", front.stderr())


def test_readers_that_redis_timed_out_connect_again(make_redis, make_front):
    r = make_redis()
    r.client().config_set("timeout", 1)
    f = make_front(db=r.url)
    import_repos(r)
    for i in range(3):
        badge_counts(f, r, i)  # the loader
        top = f.get("/api/v1/top?day=%s" % day(-i))  # a pooled reader; each day read anew
        assert top.status == 200, top
        readers_closed(r)
    badge_counts(f, r, 3)
    assert f.get("/api/v1/top?day=%s" % day(-3)).status == 200
    assert f.get("/api/v1/repos/q/r0/days").status == 200
    assert_all_counted(f)


def test_readers_killed_between_requests_connect_again(make_redis, make_front):
    r = make_redis()
    f = make_front(db=r.url)
    import_repos(r)
    admin = r.client()
    for i in range(3):
        badge_counts(f, r, i)
        assert f.get("/api/v1/top?day=%s" % day(-i)).status == 200
        assert admin.client_kill_filter(_type="normal") >= 2  # not this client (SKIPME)
    badge_counts(f, r, 3)
    assert f.get("/api/v1/top?day=%s" % day(-3)).status == 200
    assert_all_counted(f)
