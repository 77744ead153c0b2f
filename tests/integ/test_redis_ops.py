"""Issue 10 on the Redis store: set, delete and import, against a real redis-server with the
real binary over real sockets.

Keys are checked the 2015 way (repos, repos:DAY, repo:R, repo:DAY:R, R = owner%2Fname) plus
ghit:first.
"""

import datetime
import json
import random
import re
import threading
import time

import pytest

from conftest import run_ghit, svg_title, utc_today

redis = pytest.importorskip("redis", reason="Debian's python3-redis (scripts/deps.sh test)")
from redisfix import R, redis_url, wait_for  # noqa: E402

from test_admin import TOKEN, token_file  # noqa: E402,F401 (a fixture)
from test_stats_api import day  # noqa: E402


def ghit_ok(*args, **kw):
    p = run_ghit(*args, **kw)
    assert p.returncode == 0, (args, p.stderr)
    return p


def export(db, *extra):
    return ghit_ok("export", "--db", str(db), *extra).stdout


def import_(db, text, *extra):
    return ghit_ok("import", "--db", str(db), *extra, input=text)


def day_keys(c, repo):
    """The day keys of REPO in Redis, and the day sets it is a member of."""
    r = R(repo)
    keys = {k for k in c.scan_iter("repo:*:" + r) if k.count(":") == 2}
    sets = {k for k in c.scan_iter("repos:*") if c.sismember(k, r)}
    return keys, sets


def sample(n=3000, seed=7):
    """JSON Lines of N repos: multi-day histories, totals above the sum of days (carried
    over), first days before their first hit, names whose escaped order differs."""
    rnd = random.Random(seed)
    lines = []
    for i in range(n):
        owner = rnd.choice(["a", "a-b", "a0", "z9", "o%d" % (i % 50)])
        days = {}
        for _ in range(rnd.randrange(0, 6)):
            days[day(-rnd.randrange(0, 400))] = rnd.randrange(1, 10000)
        days = dict(sorted(days.items()))
        total = sum(days.values()) + rnd.choice([0, 0, 1, 12345])
        first = min(days) if days else day(-rnd.randrange(0, 900))
        if days and rnd.random() < 0.3:
            first = (datetime.date.fromisoformat(first) - datetime.timedelta(days=3)).isoformat()
        name = rnd.choice(["r.%d", "r_%d", "r-%d", "r%d"]) % i
        lines.append({"repo": "%s/%s" % (owner, name), "total": total, "first_day": first,
                      "days": days})
    lines.sort(key=lambda x: x["repo"].encode())
    return "".join(json.dumps(x, separators=(",", ":")) + "\n" for x in lines)


def fe_chunks(c):
    """The highest sequence number any writer applied (ghit:fe:<id>)."""
    return max(int(c.get(k)) for k in c.scan_iter("ghit:fe:*"))


# --- set and delete ---------------------------------------------------------------------


def test_set_and_delete_from_the_cli_write_redis_the_2015_way(make_redis, make_front):
    r = make_redis()
    c = r.client()
    s = make_front(db=r.url, flush_interval=50)
    for _ in range(3):
        s.hit("Own/Repo")
    s.hit("keep/me")
    wait_for("flushed", lambda: c.get("repo:" + R("own/repo")) == "3")
    import_(r.url, '{"repo":"own/repo","total":4,"first_day":"%s","days":{"%s":4}}\n'
            % (day(-30), day(-10)))
    assert c.get("repo:" + R("own/repo")) == "7" and c.hget("ghit:first", R("own/repo")) == day(-30)

    p = ghit_ok("set", "--db", r.url, "--repo", "Own/Repo", "--total", "500")
    assert "own/repo now has 500 hits" in p.stdout
    assert c.get("repo:" + R("own/repo")) == "500"
    assert c.hget("ghit:first", R("own/repo")) == day(-30)  # kept, as on SQLite
    assert day_keys(c, "own/repo") == (set(), set())  # the history went
    assert c.sismember("repos", R("own/repo"))
    # the frontend shows it after its next hit of the repo is flushed (it reads totals back)
    s.hit("own/repo")
    wait_for("read back", lambda: s.total("own/repo") == 501)
    assert svg_title(s.get("/count.svg?repo=own/repo").body) == "hits: 501"

    p = ghit_ok("delete", "--db", r.url, "--repo", "own/repo")
    assert "deleted own/repo" in p.stdout
    assert not c.sismember("repos", R("own/repo"))
    assert c.get("repo:" + R("own/repo")) is None
    assert c.hget("ghit:first", R("own/repo")) is None
    assert day_keys(c, "own/repo") == (set(), set())
    assert c.get("repo:" + R("keep/me")) == "1"
    p = run_ghit("delete", "--db", r.url, "--repo", "never/seen")
    assert p.returncode == 1 and "unknown repo never/seen" in p.stderr
    s.stop()
    s.start()  # survives a restart: the repo is gone, the other kept
    assert s.total("own/repo") is None and s.total("keep/me") == 1


def test_admin_routes_on_a_redis_backed_server(make_redis, make_front, token_file):
    r = make_redis()
    c = r.client()
    s = make_front("--admin-token-file", token_file, db=r.url, flush_interval=50)
    for _ in range(4):
        s.hit("adm/repo")
    wait_for("flushed", lambda: c.get("repo:" + R("adm/repo")) == "4")
    today = utc_today()
    auth = {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"}
    body = json.dumps({"total": 5000, "days": {day(-400): 40, today: 7}})
    assert s.request("PUT", "/api/v1/repos/adm/repo", auth, body).status == 200
    assert svg_title(s.hit("adm/repo").body) == "hits: 5,001"
    wait_for("the set and the hit after it", lambda: c.get("repo:" + R("adm/repo")) == "5001")
    assert c.get("repo:%s:%s" % (today, R("adm/repo"))) == "8"
    assert c.get("repo:%s:%s" % (day(-400), R("adm/repo"))) == "40"
    assert c.sismember("repos:" + day(-400), R("adm/repo"))
    assert c.hget("ghit:first", R("adm/repo")) == day(-400)
    s.stop()
    s.start()
    assert s.total("adm/repo") == 5001
    assert s.request("DELETE", "/api/v1/repos/adm/repo", {"Authorization": "Bearer " + TOKEN}
                     ).status == 200
    wait_for("the delete", lambda: not c.sismember("repos", R("adm/repo")))
    assert c.get("repo:" + R("adm/repo")) is None
    assert c.hget("ghit:first", R("adm/repo")) is None
    assert day_keys(c, "adm/repo") == (set(), set())
    s.stop()
    s.start()
    assert s.total("adm/repo") is None


def test_a_set_and_the_hits_after_it_in_doubt_apply_once(make_redis, make_front, token_file):
    """The reply of a flush holding a set and the hits after it is lost in a stall; the chunks
    still run afterwards. Sent again they answer "already applied": the set is not made again
    over the hits, and the hits are not added twice."""
    r = make_redis()
    c = r.client()
    s = make_front("--admin-token-file", token_file, db=redis_url(r, 300), flush_interval=60000)
    s.hit("doubt/repo")
    s.stop()
    s.start()  # flushed at the stop; the server is now connected, nothing pending
    auth = {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"}
    assert s.request("PUT", "/api/v1/repos/doubt/repo", auth,
                     json.dumps({"total": 100, "days": {day(-2): 60}})).status == 200
    for _ in range(5):
        s.hit("doubt/repo")
    sleeper = threading.Thread(target=lambda: c.execute_command("DEBUG", "SLEEP", "1.5"))
    sleeper.start()
    time.sleep(0.2)
    s.stop()  # the only flush meets the stall: no answer, sent again until answered
    sleeper.join(timeout=10)
    assert c.get("repo:" + R("doubt/repo")) == "105"
    assert c.get("repo:%s:%s" % (utc_today(), R("doubt/repo"))) == "5"
    assert c.get("repo:%s:%s" % (day(-2), R("doubt/repo"))) == "60"
    line = [x for x in s.stderr().splitlines() if " chunks applied, " in x][-1]
    assert re.search(r"[1-9]\d* answered \"already applied\"", line), line


# --- export and import -------------------------------------------------------------------


def test_a_bad_line_imports_nothing_on_redis(make_redis):
    r = make_redis()
    ghit_ok("redis", "init", r.url)
    before = r.client().dbsize()
    text = '{"repo":"ok/one","total":1}\n{"repo":"bad..name/x","total":1}\n'
    p = run_ghit("import", "--db", r.url, input=text)
    assert p.returncode == 1 and "line 2" in p.stderr and "nothing was imported" in p.stderr
    assert r.client().dbsize() == before
