"""Issue 10 on the Redis store: set, delete, import, export, and the statistics (issue 9),
against a real redis-server with the real binary over real sockets.

Keys are checked the 2015 way (repos, repos:DAY, repo:R, repo:DAY:R, R = owner%2Fname) plus
ghit:first. Exports must be byte-identical to SQLite's for the same data, both ways.
"""

import datetime
import json
import random
import re
import threading
import time

import pytest

from conftest import metric, run_ghit, svg_title, utc_today

redis = pytest.importorskip("redis", reason="Debian's python3-redis (scripts/deps.sh test)")
from redisfix import R, ReplyLoser, changes, read_back, redis_url, stall, wait_for  # noqa: E402

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
    told = changes(s)
    import_(r.url, '{"repo":"own/repo","total":4,"first_day":"%s","days":{"%s":4}}\n'
            % (day(-30), day(-10)))
    assert c.get("repo:" + R("own/repo")) == "7" and c.hget("ghit:first", R("own/repo")) == day(-30)
    wait_for("the frontend told of the import", lambda: changes(s) > told)
    told = changes(s)

    p = ghit_ok("set", "--db", r.url, "--repo", "Own/Repo", "--total", "500")
    assert "own/repo now has 500 hits" in p.stdout
    assert c.get("repo:" + R("own/repo")) == "500"
    assert c.hget("ghit:first", R("own/repo")) == day(-30)  # kept, as on SQLite
    assert day_keys(c, "own/repo") == (set(), set())  # the history went
    assert c.sismember("repos", R("own/repo"))
    # the frontend is told of the change (ghit:feed): its next badge reads it first
    wait_for("the frontend told of the set", lambda: changes(s) > told)
    s.hit("own/repo")
    assert s.total("own/repo") == 501
    wait_for("the hit written", lambda: c.get("repo:" + R("own/repo")) == "501")
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
    assert read_back(s, "own/repo") == (404, None) and read_back(s, "keep/me") == (200, 1)


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
    assert read_back(s, "adm/repo") == (200, 5001)
    assert s.request("DELETE", "/api/v1/repos/adm/repo", {"Authorization": "Bearer " + TOKEN}
                     ).status == 200
    wait_for("the delete", lambda: not c.sismember("repos", R("adm/repo")))
    assert c.get("repo:" + R("adm/repo")) is None
    assert c.hget("ghit:first", R("adm/repo")) is None
    assert day_keys(c, "adm/repo") == (set(), set())
    s.stop()
    s.start()
    assert read_back(s, "adm/repo") == (404, None)


def test_admin_routes_act_on_redis_not_on_one_frontends_cache(make_redis, make_front, token_file):
    # Behind a load balancer an admin request may reach a frontend that never
    # read the repo: it reads it first, as for a badge, and acts on Redis's.
    r = make_redis()
    c = r.client()
    a = make_front("--admin-token-file", token_file, db=r.url, flush_interval=50)
    b = make_front("--admin-token-file", token_file, db=r.url, flush_interval=50)
    auth = {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"}
    for _ in range(3):
        a.hit("lb/gone")
    assert a.request("PUT", "/api/v1/repos/lb/kept", auth,
                     json.dumps({"total": 50, "days": {day(-10): 5}})).status == 200
    wait_for("a's writes", lambda: c.get("repo:" + R("lb/gone")) == "3"
             and c.hget("ghit:first", R("lb/kept")) == day(-10))
    def admin(method, path, body=None):
        """b's answer; a 503 (the repo not read in time: a slow build) is asked again."""
        deadline = time.monotonic() + 10
        while True:
            got = b.request(method, path, auth, body)
            if got.status != 503 or time.monotonic() > deadline:
                return got
            assert b"try again" in got.body, got.body
            time.sleep(0.2)

    # b has read neither repo: a set without a first day keeps the one Redis has
    got = admin("PUT", "/api/v1/repos/lb/kept", json.dumps({"total": 60}))
    assert got.status == 200, got.body
    assert json.loads(got.body)["first_seen"] == day(-10)
    got = admin("DELETE", "/api/v1/repos/lb/gone")
    assert got.status == 200, got.body
    wait_for("b's writes", lambda: c.get("repo:" + R("lb/kept")) == "60"
             and c.get("repo:" + R("lb/gone")) is None)
    assert c.hget("ghit:first", R("lb/kept")) == day(-10)
    assert not c.sismember("repos", R("lb/gone"))
    # a repo that is nowhere is still unknown
    assert admin("DELETE", "/api/v1/repos/lb/never").status == 404
    for f in (a, b):
        f.stop()


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
    sleeper = stall(r, 1.5)
    s.stop()  # the only flush meets the stall: no answer, sent again until answered
    sleeper.join(timeout=10)
    assert c.get("repo:" + R("doubt/repo")) == "105"
    assert c.get("repo:%s:%s" % (utc_today(), R("doubt/repo"))) == "5"
    assert c.get("repo:%s:%s" % (day(-2), R("doubt/repo"))) == "60"
    line = [x for x in s.stderr().splitlines() if " chunks applied, " in x][-1]
    assert re.search(r"[1-9]\d* answered \"already applied\"", line), line


def test_a_set_that_supersedes_one_in_doubt_wins(make_redis, make_front, token_file):
    """A set and its hits are in doubt in a stall (their copies run after it); meanwhile the
    operator sets the repo again. The copies in doubt are sent again before the new set, which
    then replaces them, as it would have had they applied at once."""
    r = make_redis()
    c = r.client()
    s = make_front("--admin-token-file", token_file, db=redis_url(r, 300), flush_interval=1000)
    s.hit("sup/repo")
    wait_for("flushed", lambda: c.get("repo:" + R("sup/repo")) == "1")
    auth = {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"}
    assert s.request("PUT", "/api/v1/repos/sup/repo", auth, '{"total":100}').status == 200
    for _ in range(3):
        s.hit("sup/repo")
    # the next flush (within a second) meets the stall: in doubt, retried 2 s later
    sleeper = stall(r, 2.5)
    time.sleep(1.5)
    assert s.request("PUT", "/api/v1/repos/sup/repo", auth, '{"total":200}').status == 200
    for _ in range(2):
        s.hit("sup/repo")
    sleeper.join(timeout=10)
    wait_for("the second set and its hits", lambda: c.get("repo:" + R("sup/repo")) == "202")
    s.stop()
    assert c.get("repo:" + R("sup/repo")) == "202"
    assert c.get("repo:%s:%s" % (utc_today(), R("sup/repo"))) == "2"
    assert "bug" not in s.stderr()
    line = [x for x in s.stderr().splitlines() if " chunks applied, " in x][-1]
    assert re.search(r"[2-9]\d* answered \"already applied\"", line), line


@pytest.mark.parametrize("after", [0, 2])
def test_a_set_in_doubt_behind_refused_hits_of_its_repo(make_redis, make_front, token_file,
                                                         after):
    """Hits of a repo are refused (maxmemory) and stay owed; the repo is then set. Once Redis
    takes writes, the old hits apply, and the reply to the set is lost: both stay owed, the
    table holding only the hits after the set. That state stopped every later write (the owed
    hits before the set were looked for among the pending ones); it must apply once."""
    r = make_redis()
    c = r.client()
    relay = ReplyLoser(r)
    f = make_front("--admin-token-file", token_file, db=relay.url + "?timeout=500",
                   flush_interval=50)
    refused = lambda: metric(f, "ghit_store_failures_total").get('{cause="full"}', 0)  # noqa: E731
    f.hit("doubt/set")
    wait_for("the first hit", lambda: c.get("repo:" + R("doubt/set")) == "1")
    c.config_set("maxmemory", 1)
    try:
        for _ in range(5):
            f.hit("doubt/set")
        wait_for("a refusal", lambda: refused() >= 1)
        seen = refused()
        auth = {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"}
        assert f.request("PUT", "/api/v1/repos/doubt/set", auth, '{"total":100}').status == 200
        for _ in range(after):
            f.hit("doubt/set")
        wait_for("the set refused", lambda: refused() > seen)
        relay.lose_after(b"$4\r\nEVAL\r\n")  # the write script's call (apply's is EVALSHA)
    finally:
        c.config_set("maxmemory", 0)
    wait_for("the set's reply lost", lambda: relay.lost == 1)
    wait_for("everything written", lambda: c.get("repo:" + R("doubt/set")) == str(100 + after)
             and f.get("/healthz").status == 200)
    f.stop()
    assert c.get("repo:" + R("doubt/set")) == str(100 + after)
    assert "bug" not in f.stderr()


# --- export and import -------------------------------------------------------------------


def test_round_trips_give_identical_bytes_both_ways(make_redis, make_front, tmp_path):
    text = sample()
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    import_(a, text)
    e1 = export(a)
    assert e1 == text
    r1, r2 = make_redis(), make_redis()
    import_(r1.url, e1)
    assert fe_chunks(r1.client()) >= 3  # written in several chunks
    assert export(r1.url) == e1  # SQLite -> Redis
    import_(b, export(r1.url))
    assert export(b) == e1  # -> SQLite again
    assert export(r1.url, "--format", "csv") == export(a, "--format", "csv")
    # --replace over a doubled copy, in many chunks: every old day of every repo goes
    import_(r1.url, e1)
    import_(r1.url, e1, "--replace")
    assert export(r1.url) == e1
    no_days = "".join(json.dumps(dict(x, days={}), separators=(",", ":")) + "\n"
                      for x in map(json.loads, e1.splitlines()))
    import_(r1.url, no_days, "--replace")
    assert export(r1.url) == no_days
    rc = r1.client()
    assert not [k for k in rc.scan_iter("repo:*:*", count=10000) if k.count(":") == 2]
    assert not list(rc.scan_iter("repos:*"))
    import_(r1.url, e1, "--replace")

    # Redis -> SQLite -> Redis, from a Redis that frontends wrote too
    s = make_front(db=r1.url, flush_interval=50)
    for repo in (json.loads(e1.splitlines()[5])["repo"], "new/one", "new/one", "z9/late"):
        s.hit(repo)
    s.stop()
    e2 = export(r1.url)
    assert '{"repo":"new/one","total":2,"first_day":"%s","days":{"%s":2}}' % (
        (utc_today(),) * 2) in e2
    c = tmp_path / "c.db"
    import_(c, e2)
    assert export(c) == e2
    import_(r2.url, export(c))
    assert export(r2.url) == e2


def test_import_merge_and_replace_on_redis(make_redis):
    r = make_redis()
    c = r.client()
    base = ('{"repo":"m/a","total":10,"first_day":"%s","days":{"%s":4}}\n'
            '{"repo":"m/keep","total":1,"first_day":"%s","days":{}}\n' % (day(-5), day(-1), day(-9)))
    import_(r.url, base)
    more = '{"repo":"m/a","total":3,"first_day":"%s","days":{"%s":1,"%s":2}}\n' % (
        day(-20), day(-20), day(-1))
    p = import_(r.url, more)
    assert "imported 1 repos, 3 hits" in p.stdout
    assert export(r.url) == (
        '{"repo":"m/a","total":13,"first_day":"%s","days":{"%s":1,"%s":6}}\n' % (
            day(-20), day(-20), day(-1)) + base.splitlines(True)[1])
    import_(r.url, base.splitlines(True)[0], "--replace")
    assert export(r.url) == base
    assert c.get("repo:%s:%s" % (day(-20), R("m/a"))) is None
    assert not c.sismember("repos:" + day(-20), R("m/a"))


def test_a_bad_line_imports_nothing_on_redis(make_redis):
    r = make_redis()
    ghit_ok("redis", "init", r.url)
    before = r.client().dbsize()
    text = '{"repo":"ok/one","total":1}\n{"repo":"bad..name/x","total":1}\n'
    p = run_ghit("import", "--db", r.url, input=text)
    assert p.returncode == 1 and "line 2" in p.stderr and "nothing was imported" in p.stderr
    assert r.client().dbsize() == before


def test_a_killed_connection_during_an_import_adds_nothing_twice(make_redis, tmp_path):
    """CLIENT KILL of the import's connection while its chunks are in flight: the chunks in
    doubt are sent again as they were, and whichever copy ran first is the only one applied."""
    r = make_redis()
    c = r.client()
    text = sample(20000, seed=3)
    db = tmp_path / "x.db"
    import_(db, text)
    import_(db, text)
    doubled = export(db)
    import_(r.url, text)
    killed = []

    def killer():
        deadline = time.monotonic() + 20
        while len(killed) < 2 and time.monotonic() < deadline:
            for cl in c.client_list():
                if cl["name"].startswith("ghit:") and cl["cmd"] == "eval" and cl["id"] not in killed:
                    c.client_kill_filter(_id=cl["id"])
                    killed.append(cl["id"])
            time.sleep(0.001)

    t = threading.Thread(target=killer)
    t.start()
    p = import_(r.url, text)
    t.join(timeout=30)
    assert killed, "the import's connection was never seen running a script"
    assert "writing again" in p.stderr, p.stderr
    assert export(r.url) == doubled


# --- statistics --------------------------------------------------------------------------


def test_a_top_list_of_more_repos_than_a_pass_holds_is_read_in_passes(make_redis, make_front):
    # A frontend sums a top list's repos in passes of at most 1,400,000 (src/topsum.h), not all
    # of a range's (repo, day) pairs at once. Here 3 days of 500,000 repos each, none on two
    # days: the largest day fits one pass, so the first pass fills up part-way, stops, and the
    # list is read again in two parts (3 passes). Hits of p/rN: N % 997 + 1; ties go by name.
    r = make_redis()
    f = make_front("--log-level", "debug", "--request-timeout", "300", db=r.url)
    f.hit("top/first")  # the frontend has written ghit's marker: Redis is ghit's
    n, per_day = 1500000, 500000
    for k in range(3):
        r.client().eval("""
            for i = tonumber(ARGV[2]), tonumber(ARGV[3]) do
              redis.call('SADD', 'repos:' .. ARGV[1], 'p%2Fr' .. i)
              redis.call('SET', 'repo:' .. ARGV[1] .. ':p%2Fr' .. i, i % 997 + 1)
            end""", 0, day(k - 2), k * per_day + 1, (k + 1) * per_day)
    # One more hit today for a repo of today's: the list adds a frontend's hits of the last day
    # that Redis does not hold yet, which takes the last day's sum right (998, never 1995).
    assert f.hit("p/r1001984").status == 200
    hits = {"p/r%d" % i: i % 997 + 1 for i in range(1, n + 1)}
    hits["p/r1001984"] += 1
    want = sorted(((h, k) for k, h in hits.items()), key=lambda x: (-x[0], x[1]))[:7]
    assert want[0] == (998, "p/r1001984")
    reply = f.get("/api/v1/top?days=3&limit=7", timeout=300)
    assert reply.status == 200, reply
    assert [(x["hits"], x["repo"]) for x in json.loads(reply.body)["repos"]] == want
    assert "a top list of 3 days took 3 passes" in f.stderr()


def test_a_long_top_list_of_redis_holds_no_badge_and_no_stop(make_redis, make_front):
    # Summing a top list over Redis costs about 2 us a (repo, day) pair: a second for a day
    # of 400,000 repos. It is read by a thread of its own, so the one HTTP worker here goes
    # on answering badges meanwhile (read on the worker, they waited for it), and a stop
    # interrupts a read under way instead of waiting for it. The dashboard's two lists (today,
    # the last 7 days) are read, which the share of other lists does not hold back.
    r = make_redis()
    f = make_front("--threads", "1", "--log-level", "debug", db=r.url)
    f.hit("top/first")  # the frontend has written ghit's marker: Redis is ghit's
    n = 400000
    for d in (0, -1):
        r.client().eval("""
            for i = 1, tonumber(ARGV[2]) do
              redis.call('SADD', 'repos:' .. ARGV[1], 'p%2Fr' .. i)
              redis.call('SET', 'repo:' .. ARGV[1] .. ':p%2Fr' .. i, i % 997 + 5000)
            end""", 0, day(d), n)
    replies = []

    def top(days):
        replies.append(f.get("/api/v1/top?days=%d&limit=3" % days, timeout=60))

    asked = threading.Thread(target=top, args=(1,))
    asked.start()
    badges = 0
    # At most 1,000: as many hits of flow/a as the list's first repos have (5,996) would put it
    # among them (a sanitizer build answered 7,104 badges while the list was read).
    while asked.is_alive() and badges < 1000:
        assert f.hit("flow/a").status == 200
        badges += int(asked.is_alive())
    asked.join()
    # Read on the worker, the list held the first badge asked after it, which could end
    # just before the list's reply was seen: one at most, where dozens pass now.
    assert badges >= 10, "%d badges were answered while the list was read" % badges
    want = sorted(("p/r%d" % i for i in range(1, n + 1)), key=lambda k: (-(int(k[3:]) % 997), k))
    assert replies[0].status == 200, replies[0]
    assert [(x["repo"], x["hits"]) for x in json.loads(replies[0].body)["repos"]] == \
        [(k, 5996) for k in want[:3]]
    asked = threading.Thread(target=top, args=(7,))
    asked.start()
    time.sleep(0.2)
    f.stop()
    asked.join()
    assert replies[1].status == 503 and b"ghit is stopping" in replies[1].body, replies[1]
    reads = [x for x in f.stderr().splitlines() if "read the top list of" in x]
    assert len(reads) == 2 and "which failed" not in reads[0], reads
    assert "which failed" in reads[1], reads


def test_a_refused_mget_fails_the_statistics_rather_than_zeroing_them(make_redis):
    # The sums and the top lists read counts with MGET after an SSCAN; a reply of an error was
    # read as "no hits": "1 repos, 0 hits", "(no hits)", exit 0. Here a user that may SSCAN
    # but not MGET.
    r = make_redis()
    import_(r.url, json.dumps({"repo": "m/a", "total": 5, "days": {day(0): 5}}) + "\n")
    r.client().execute_command("ACL", "SETUSER", "nomget", "on", ">pw", "~*", "&*", "+@all",
                               "-mget")
    url = r.url.replace("redis://", "redis://nomget:pw@")
    for args in ([], ["--top", "3"]):
        p = run_ghit("stats", "--db", url, *args)
        assert p.returncode == 1 and "0 hits" not in p.stdout and "no hits" not in p.stdout, p
        assert "answered MGET with NOPERM" in p.stderr, p.stderr
    assert ghit_ok("stats", "--db", r.url).stdout.startswith("%s: 1 repos, 5 hits" % r.url)


def test_history_top_and_stats_match_sqlite(make_redis, make_front, make_server, tmp_path):
    rows = []
    for i in range(40):
        days = {day(-k): (i * 7 + k) % 13 + 1 for k in range(0, 9) if (i + k) % 3}
        rows.append({"repo": "st/r%02d" % i, "total": sum(days.values()) + i,
                     "first_day": min(days) if days else day(-1), "days": days})
    rows.append({"repo": "st/tie-b", "total": 50, "first_day": day(-1), "days": {day(-1): 50}})
    rows.append({"repo": "st/tie-a", "total": 50, "first_day": day(-1), "days": {day(-1): 50}})
    rows.append({"repo": "st-x/z", "total": 50, "first_day": day(-1), "days": {day(-1): 50}})
    text = "".join(json.dumps(x) + "\n" for x in sorted(rows, key=lambda x: x["repo"]))
    r = make_redis()
    db = tmp_path / "s.db"
    import_(db, text)
    import_(r.url, text)
    sq = make_server(db=str(db), flush_interval=60000)
    rd = make_front(db=r.url, flush_interval=60000)
    paths = ["/api/v1/top", "/api/v1/top?days=7&limit=5", "/api/v1/top?days=30&limit=100",
             "/api/v1/top?day=%s" % day(-1), "/api/v1/repos/st/r05/days",
             "/api/v1/repos/st/r07/days?from=%s&to=%s" % (day(-12), day(0)),
             "/api/v1/repos/st/r01", "/api/v1/repos/never/seen/days", "/"]
    for path in paths:
        a, b = sq.get(path), rd.get(path)
        assert (a.status, a.body) == (b.status, b.body), path
        assert a.status == 200 or path.endswith("seen/days"), (path, a)
    top = json.loads(rd.get("/api/v1/top?day=%s" % day(-1)).body)["repos"]
    assert [x["repo"] for x in top[:3]] == ["st-x/z", "st/tie-a", "st/tie-b"]
    sq.stop()
    rd.stop()
    for args in ([], ["--repo", "st/r05"], ["--top", "3"], ["--day", day(-1)]):
        a = ghit_ok("stats", "--db", str(db), *args).stdout.replace(str(db), "DB")
        b = ghit_ok("stats", "--db", r.url, *args).stdout.replace(r.url, "DB")
        assert a == b, args
