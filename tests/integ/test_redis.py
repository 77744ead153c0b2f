"""The Redis store (issue 8), against a real redis-server.

Each test starts its own redis-server on a free loopback port (AOF on, no RDB
snapshots, DEBUG allowed from loopback) in its temporary directory, and stops
it by its pid. Totals are checked in Redis itself with Debian's python3-redis,
the way the 2015 cron job read them: every 200 badge reply is one hit, and
Redis must hold exactly that many, never fewer, never more.
"""

import collections
import os
import re
import threading
import time

import pytest

from conftest import run_ghit, svg_title, utc_today

redis = pytest.importorskip("redis", reason="Debian's python3-redis (scripts/deps.sh test)")
from redisfix import R, assert_exact, load, read_back, redis_url, stall, wait_for  # noqa: E402

REPOS = ["Owner%d/Repo.%d" % (i % 7, i) for i in range(40)]


def test_several_frontends_exact_totals_and_2015_cron(make_redis, make_front):
    r = make_redis()
    fronts = [make_front(db=r.url, flush_interval=50) for _ in range(3)]
    counts = load([(f, repo) for f in fronts for repo in REPOS], hits=400, threads=6)
    assert sum(counts.values()) == 2400
    for f in fronts:
        f.stop()
        assert "hits could NOT" not in f.stderr()
    assert_exact(r, counts)
    wait_for("the frontends' connections to close", lambda: not [
        c for c in r.client().client_list() if c["name"].startswith("ghit:")], timeout=5)


def test_read_back_shows_other_frontends_hits(make_redis, make_front):
    r = make_redis()
    a = make_front(db=r.url, flush_interval=50)
    b = make_front(db=r.url, flush_interval=50)
    for _ in range(10):
        assert b.hit("x/shared").status == 200
    wait_for("b's flush", lambda: r.client().get("repo:x%2Fshared") == "10")
    # a's cache does not hold the repo: it reads it from Redis, then counts.
    assert a.hit("x/shared").status == 200
    wait_for("a's figures", lambda: a.total("x/shared") == 11)
    # a may show 11 before its flush wrote the hit: c can only read it after.
    wait_for("a's flush", lambda: r.client().get("repo:x%2Fshared") == "11")
    # A frontend started now reads the repo from Redis (its warmer or its loader).
    c = make_front(db=r.url, flush_interval=50)
    assert read_back(c, "x/shared") == (200, 11)


def test_killed_connections_and_stalls_stay_exact(make_redis, make_front):
    r = make_redis()
    fronts = [make_front(db=redis_url(r, 300), flush_interval=20) for _ in range(2)]
    admin = r.client()
    result = {}
    t = threading.Thread(target=lambda: result.update(
        load([(f, repo) for f in fronts for repo in REPOS[:20]], seconds=6, threads=4)))
    t.start()
    kills = 0
    time.sleep(0.3)
    for round_ in range(4):
        for c in admin.client_list():
            if c["name"].startswith("ghit:"):
                kills += admin.client_kill_filter(_id=c["id"])
        time.sleep(0.2)
        if round_ % 2 == 0:
            admin.execute_command("DEBUG", "SLEEP", "0.8")  # every flush in flight times out
        time.sleep(0.3)
    t.join(timeout=60)
    counts = collections.Counter(result)
    assert kills >= 2 and sum(counts.values()) > 500
    chunks = collections.Counter()
    for f in fronts:
        for outcome, n in re.findall(r'ghit_redis_chunks_total\{outcome="(\w+)"\} (\d+)',
                                     f.get("/metrics").text):
            chunks[outcome] += int(n)
    assert chunks["in_doubt"] >= 1 and chunks["already_applied"] >= 1, chunks
    for f in fronts:
        f.stop()
    assert_exact(r, counts)
    # The stale copies of timed-out chunks ran after the sleep; their re-sends only read.
    logs = "".join(f.stderr() for f in fronts)
    dups = [int(line.split(" chunks applied, ")[1].split()[0])
            for line in logs.splitlines() if " chunks applied, " in line]
    assert len(dups) == 2 and sum(dups) >= 1, logs[-3000:]


def healthz(front, status, timeout=30):
    """front's /healthz once it answers status."""
    return wait_for("/healthz %d" % status, lambda: (lambda x: x if x.status == status else None)(
        front.get("/healthz")), timeout=timeout)


def test_redis_down_at_start_then_up(make_redis, make_front):
    r = make_redis(start=False)
    s = make_front(db=r.url, flush_interval=50)
    assert "counting into memory" in s.stderr()
    for _ in range(15):
        assert s.hit("late/start").status == 200
    h = healthz(s, 503)
    assert "cannot connect to Redis" in h.text
    time.sleep(0.5)
    r.start()
    wait_for("the held hits in Redis", lambda: r.client().get("repo:late%2Fstart") == "15",
             timeout=40)
    wait_for("/healthz 200", lambda: s.get("/healthz").status == 200)
    assert r.client().get("ghit:epoch")
    for _ in range(5):
        assert s.hit("late/start").status == 200
    s.stop()
    assert_exact(r, {"late/start": 20})


def wrote_hits(make_redis, make_front, n):
    """A Redis, a frontend, and a client of that Redis, once the frontend wrote n hits of
    w/iped there."""
    r = make_redis()
    s = make_front(db=r.url, flush_interval=50)
    for _ in range(n):
        assert s.hit("w/iped").status == 200
    c = r.client()
    wait_for("the flush", lambda: c.get("repo:w%2Fiped") == str(n))
    return r, s, c


def test_wiped_redis_is_refused_and_hits_are_kept(make_redis, make_front):
    r, s, c = wrote_hits(make_redis, make_front, 5)
    epoch = c.get("ghit:epoch")
    c.flushall()
    for _ in range(3):
        assert s.hit("w/iped").status == 200
    h = healthz(s, 503)
    assert "Redis lost ghit's data" in h.text
    assert s.total("w/iped") == 8  # the badge keeps counting
    time.sleep(0.3)
    assert c.dbsize() == 0, "ghit wrote into a wiped Redis"
    # The backup comes back (here: just its mark, no chunk of this frontend in it): the
    # chunks it lacks go again from the replay window, then the held hits, each once.
    c.set("ghit:epoch", epoch)
    wait_for("the held hits", lambda: c.get("repo:w%2Fiped") == "8")
    wait_for("/healthz 200", lambda: s.get("/healthz").status == 200)
    s.stop()
    assert c.get("repo:w%2Fiped") == "8"
    assert "sent again from the replay window" in s.stderr()


READERS = (["export"], ["stats"], ["stats", "--top", "3"], ["render", "--out", "OUT"])


def refused_by_readers(r, tmp_path):
    """Every read-only command refuses r's database, says why, writes nothing, and exits 1."""
    out = tmp_path / "out"
    for args in READERS:
        p = run_ghit(*[str(out) if a == "OUT" else a for a in args], "--db", r.url)
        assert p.returncode == 1 and p.stdout == "", (args, p)
        assert "holds no ghit data (no ghit:epoch)" in p.stderr, (args, p.stderr)
    assert not out.exists() or not any(out.rglob("*.svg"))


def test_a_wiped_redis_is_not_read_as_empty(make_redis, make_front, tmp_path):
    """doc/redis.md: the mark exists so that a Redis that lost its data is never read as
    empty. Read as empty, a nightly `ghit export` would overwrite a good backup with nothing."""
    r, s, c = wrote_hits(make_redis, make_front, 3)
    assert run_ghit("export", "--db", r.url).stdout.startswith('{"repo":"w/iped","total":3')
    assert s.get("/api/v1/top?day=%s" % utc_today()).status == 200  # a reader, kept in the pool
    c.flushall()
    refused_by_readers(r, tmp_path)
    for path in ("/api/v1/top?days=2", "/api/v1/top?days=3"):  # the pool's reader, a new one
        reply = s.get(path)
        assert reply.status == 503 and "no ghit:epoch" in reply.text, (path, reply)
    assert c.dbsize() == 0, "a reader wrote into a wiped Redis"


def test_an_unmarked_empty_redis_is_no_ghit_data_until_written(make_redis, tmp_path):
    """As an empty SQLite file: nothing to read, and nothing is made by reading it. An import
    (or a serve) marks it; then it reads as ghit's."""
    r = make_redis()
    refused_by_readers(r, tmp_path)
    assert r.client().dbsize() == 0
    text = '{"repo":"i/mp","total":2,"first_day":"%s","days":{"%s":2}}\n' % ((utc_today(),) * 2)
    assert run_ghit("import", "--db", r.url, input=text).returncode == 0
    p = run_ghit("export", "--db", r.url)
    assert p.returncode == 0 and p.stdout == text


def test_keys_of_the_wrong_type_are_logged_with_what_they_missed(make_redis, make_front):
    """doc/redis.md: a key of the wrong type loses only its own hits, and ghit logs it as an
    error. The sets' SADDs and ghit:first's HSET were refused without a word: a repo whose
    total was then non-zero was never listed in repos again."""
    r = make_redis()
    s = make_front(db=r.url, flush_interval=50)
    c = r.client()
    today = utc_today()
    for key in ("repos", "repos:" + today, "ghit:first"):
        c.set(key, "junk")
    c.lpush("repo:w%2Fa", "junk")
    for repo in ("w/a", "n/ew"):
        assert s.hit(repo).status == 200
    wait_for("n/ew's hit", lambda: c.get("repo:n%2Few") == "1")
    wanted = ["repos: 1 members not added, n%2Few first (WRONGTYPE",
              "repos:%s: 2 members not added, " % today,
              "ghit:first: the first day of n%2Few not set (WRONGTYPE",
              "repo:w%2Fa: 1 hits not added (WRONGTYPE"]
    wait_for("the refusals in the log", lambda: all(w in s.stderr() for w in wanted), timeout=10)
    assert "error: redis: a key of another type" in s.stderr()
    assert "its hits are dropped" not in s.stderr()
    # Only its own hits: w/a's day key counted.
    assert c.get("repo:%s:w%%2Fa" % today) == "1" and c.lrange("repo:w%2Fa", 0, -1) == ["junk"]


def test_an_out_of_memory_redis_fails_the_idle_probe_and_an_import_gets_nothing(make_redis,
                                                                                make_front):
    """doc/redis.md's outages: out of memory, /healthz 503; the man page: an import into a
    Redis that refuses writes gets nothing, says so and stops. The probe's EXPIRE and GET pass
    under maxmemory: /healthz stayed 200, and the import tried for 15 s, then said it had
    stopped part way."""
    r = make_redis()
    s = make_front(db=r.url, flush_interval=50)
    assert s.hit("o/om").status == 200
    c = r.client()
    wait_for("the flush", lambda: c.get("repo:o%2Fom") == "1")
    healthz(s, 200, timeout=10)
    c.config_set("maxmemory-policy", "noeviction")
    c.config_set("maxmemory", 1)
    try:
        assert "out of memory" in healthz(s, 503, timeout=10).text
        p = run_ghit("import", "--db", r.url, input='{"repo":"i/mp","total":2,"days":{}}\n')
        assert p.returncode == 1 and "out of memory" in p.stderr, p.stderr
        assert "nothing was imported" in p.stderr and "part way" not in p.stderr, p.stderr
        assert c.get("repo:i%2Fmp") is None
    finally:
        c.config_set("maxmemory", 0)
    healthz(s, 200, timeout=10)
    assert c.get("repo:o%2Fom") == "1"


def test_2015_data_without_mark_is_refused(make_redis, make_front):
    r = make_redis()
    c = r.client()
    c.sadd("repos", "Foo%2FBar")
    c.set("repo:Foo%2FBar", 5)
    s = make_front(db=r.url, start=False)
    with pytest.raises(AssertionError) as e:
        s.start()
    assert "import-2015" in str(e.value)
    p = run_ghit("redis", "init", r.url)
    assert p.returncode == 1 and "import-2015" in p.stderr
    assert c.get("ghit:epoch") is None and c.get("repo:Foo%2FBar") == "5"


def test_redis_refuses_an_unknown_option_as_every_command_does(make_redis):
    r = make_redis()
    for args in (["--bogus"], ["init", r.url, "--bogus"], ["init", "--bogus=1", r.url]):
        p = run_ghit("redis", *args)
        assert p.returncode == 2, (args, p.returncode, p.stderr)
        assert p.stderr == "ghit redis: unknown option '--bogus' (see ghit redis --help)\n", (
            args, p.stderr)
    assert r.client().get("ghit:epoch") is None  # nothing was marked
    p = run_ghit("redis", "init", r.url)
    assert p.returncode == 0 and "made ghit:epoch" in p.stdout, p.stderr


def test_redis_init_and_render(make_redis, make_front, tmp_path):
    r = make_redis()
    p = run_ghit("redis", "init", r.url + "/2")
    assert p.returncode == 0 and "made ghit:epoch" in p.stdout
    p = run_ghit("redis", "init", r.url + "/2")
    assert p.returncode == 0 and "already" in p.stdout
    assert r.client(db=2).get("ghit:epoch")
    s = make_front(db=r.url + "/2", flush_interval=50)
    for _ in range(7):
        assert s.hit("ren/der").status == 200
    s.stop()
    out = tmp_path / "out"
    p = run_ghit("render", "--db", r.url + "/2", "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert svg_title((out / "ren" / "der.svg").read_bytes()) == "hits: 7"
    p = run_ghit("export", "--db", r.url + "/2")
    assert p.returncode == 0 and p.stdout == (
        '{"repo":"ren/der","total":7,"first_day":"%s","days":{"%s":7}}\n' % ((utc_today(),) * 2))


def test_password_from_the_environment(make_redis, make_front, monkeypatch, tmp_path):
    r = make_redis("--requirepass", "s3cret")
    s = make_front(db=r.url, start=False)
    with pytest.raises(AssertionError) as e:
        s.start()
    assert "NOAUTH" in str(e.value) or "AUTH" in str(e.value)
    monkeypatch.setenv("GHIT_REDIS_PASSWORD", "s3cret")
    s = make_front(db=r.url, flush_interval=50)
    assert s.hit("pass/word").status == 200
    s.stop()
    assert r.client(password="s3cret").get("repo:pass%2Fword") == "1"
    assert "s3cret" not in s.stderr()
    # Or from a file that only ghit's user reads, named in the environment.
    monkeypatch.delenv("GHIT_REDIS_PASSWORD")
    secret = tmp_path / "redis-password"
    secret.write_text("s3cret\n")
    secret.chmod(0o600)
    monkeypatch.setenv("GHIT_REDIS_PASSWORD_FILE", str(secret))
    s = make_front(db=r.url, flush_interval=50)
    assert s.hit("pass/word").status == 200
    s.stop()
    assert r.client(password="s3cret").get("repo:pass%2Fword") == "2"
    monkeypatch.setenv("GHIT_REDIS_PASSWORD_FILE", str(tmp_path / "missing"))
    p = run_ghit("redis", "init", r.url)
    assert p.returncode != 0 and "GHIT_REDIS_PASSWORD_FILE" in p.stderr
    monkeypatch.delenv("GHIT_REDIS_PASSWORD_FILE")


def test_a_password_in_the_url_is_never_shown(make_redis, make_front):
    # A raw '@' in the password: Redis takes it, the parser splits at the last
    # '@', and no message, /healthz text or output may show any of it.
    r = make_redis("--requirepass", "p@ss-w0rd")
    url = r.url.replace("redis://", "redis://:p@ss-w0rd@")
    s = make_front(db=url, flush_interval=50)
    assert s.hit("pass/url").status == 200
    s.stop()
    assert "w0rd" not in s.stderr() and "***@" in s.stderr()
    p = run_ghit("stats", "--db", url)
    assert p.returncode == 0, p.stderr
    assert "w0rd" not in p.stdout + p.stderr and "***@" in p.stdout
    p = run_ghit("import", "--db", url,
                 input='{"repo":"pass/imp","total":2,"first_day":"2026-01-01","days":{}}\n')
    assert p.returncode == 0, p.stderr
    assert "w0rd" not in p.stdout + p.stderr and "into redis://***@" in p.stdout
    bad = r.url.replace("redis://", "redis://:abc/def+w0rd=@")  # a raw '/': refused
    p = run_ghit("stats", "--db", bad)
    assert p.returncode != 0 and "w0rd" not in p.stdout + p.stderr


# --- the apply script itself, called as ghit calls it ----------------------------------------

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))), "src", "store_redis_apply.lua")


def apply_chunk(c, sha, epoch, fe, seq, today, deltas):
    """Calls ghit_apply with ghit's layout: deltas are (R, day, hits)."""
    days = sorted({d for _, d, _ in deltas})
    keys = ["ghit:epoch", "ghit:fe:" + fe, "repos", "ghit:first"] + ["repos:" + d for d in days]
    argv = [epoch, seq, 2592000, today, len(days), len(deltas)] + days
    for r_, d, h in deltas:
        keys += ["repo:" + r_, "repo:%s:%s" % (d, r_)]
        keys += ["repo:%s:%s" % (today, r_)] if d != today else []
        argv += [r_, days.index(d) + 1, h]
    keys.append("ghit:feed")
    argv += [fe, 1000]
    return c.evalsha(sha, len(keys), *keys, *argv)


def test_apply_script_exactly_once_gate(make_redis):
    r = make_redis()
    c = r.client()
    with open(SCRIPT) as f:
        sha = c.script_load(f.read())
    today, yday = "2026-11-28", "2026-11-27"
    with pytest.raises(redis.exceptions.ResponseError, match="GHITEPOCH none"):
        apply_chunk(c, sha, "E", "fe1", 1, today, [("a%2Fb", today, 5)])
    assert c.dbsize() == 0, "a chunk wrote without the epoch"
    c.set("ghit:epoch", "E")
    with pytest.raises(redis.exceptions.ResponseError, match="GHITGAP 0"):
        apply_chunk(c, sha, "E", "fe1", 2, today, [("a%2Fb", today, 5)])
    assert apply_chunk(c, sha, "E", "fe1", 1, today, [("a%2Fb", today, 5)]) == [
        1, 1, [5, 5, today], []]
    # The same chunk again (its reply was lost): it only reads.
    assert apply_chunk(c, sha, "E", "fe1", 1, today, [("a%2Fb", today, 5)]) == [
        0, 1, [5, 5, today], []]
    assert c.get("repo:a%2Fb") == "5" and c.get("ghit:fe:fe1") == "1"
    # Applied once, told once to the other frontends' caches.
    assert [e[1] for e in c.xrange("ghit:feed")] == [{"fe": "fe1", "r": "a%2Fb"}]
    assert 0 < c.ttl("ghit:fe:fe1") <= 2592000
    # Another frontend has its own sequence; yesterday's hits report today's count.
    assert apply_chunk(c, sha, "E", "fe2", 1, today, [("a%2Fb", yday, 2)]) == [
        1, 1, [7, 5, yday], []]
    assert c.get("repo:%s:a%%2Fb" % yday) == "2" and c.hget("ghit:first", "a%2Fb") == yday
    assert c.smembers("repos") == {"a%2Fb"} and c.smembers("repos:" + yday) == {"a%2Fb"}
    # A key of the wrong type loses its own hits only, and says so.
    c.set("repo:bad%2Fx", "junk")
    res = apply_chunk(c, sha, "E", "fe1", 2, today, [("bad%2Fx", today, 1), ("a%2Fb", today, 1)])
    # a%2Fb had hits today: its first day is not read again ('' : keep yours).
    assert res[0] == 1 and res[2][3:] == [8, 6, ""] and "repo:bad%2Fx" in res[3][0]
    # Refused before the first write (OOM): nothing changed, the same seq applies later.
    c.config_set("maxmemory", 1)
    try:
        with pytest.raises(redis.exceptions.ResponseError, match="maxmemory"):
            apply_chunk(c, sha, "E", "fe1", 3, today, [("a%2Fb", today, 1)])
        assert c.get("ghit:fe:fe1") == "2" and c.get("repo:a%2Fb") == "8"
    finally:
        c.config_set("maxmemory", 0)
    assert apply_chunk(c, sha, "E", "fe1", 3, today, [("a%2Fb", today, 1)])[:2] == [1, 3]
    with pytest.raises(redis.exceptions.ResponseError, match="GHITEPOCH E"):
        apply_chunk(c, sha, "F", "fe1", 4, today, [("a%2Fb", today, 1)])
    assert c.get("repo:a%2Fb") == "9"


def test_script_flush_and_many_chunks_stay_exact(make_redis, make_front):
    r = make_redis()
    s = make_front("--new-repos-per-client", "100000", db=r.url, flush_interval=3000)
    repos = ["many/r%d" % i for i in range(2500)]
    counts = load([(s, repo) for repo in repos], hits=len(repos) // 4, threads=4)
    r.client().script_flush()  # the next flush gets NOSCRIPT, loads the script, sends again
    assert sum(counts.values()) == 2500
    s.stop()  # one flush of 2,500 repos: three chunks
    assert_exact(r, counts)
    applied = [line for line in s.stderr().splitlines() if " chunks applied, " in line]
    assert applied and int(applied[0].split(" chunks applied")[0].split()[-1]) >= 3, applied


def test_unix_socket_url(make_redis, make_front, tmp_path):
    sock = str(tmp_path / "redis.sock")
    r = make_redis("--unixsocket", sock, "--unixsocketperm", "700")
    s = make_front(db="unix://%s?db=3" % sock, flush_interval=50)
    for _ in range(4):
        assert s.hit("uni/x").status == 200
    s.stop()
    assert r.client(db=3).get("repo:uni%2Fx") == "4"
    assert r.client().get("repo:uni%2Fx") is None


def test_kill9_of_a_frontend_counts_nothing_twice(make_redis, make_front):
    r = make_redis()
    a = make_front(db=r.url, flush_interval=100)
    b = make_front(db=r.url, flush_interval=100)
    result = {}
    t = threading.Thread(target=lambda: result.update(load(
        [(a, "a/r%d" % i) for i in range(10)] + [(b, "b/r%d" % i) for i in range(10)],
        seconds=3, threads=4)))
    t.start()
    time.sleep(1.5)
    a.kill()  # SIGKILL: its last interval's hits are lost, nothing else
    t.join(timeout=60)
    b.stop()
    counts = collections.Counter(result)
    c = r.client()
    for repo in ("b/r%d" % i for i in range(10)):
        assert int(c.get("repo:" + R(repo))) == counts[repo]
    a_answered = sum(n for k, n in counts.items() if k.startswith("a/"))
    a_stored = sum(int(c.get("repo:" + R("a/r%d" % i)) or 0) for i in range(10))
    assert 0 < a_stored <= a_answered, (a_stored, a_answered)


def test_commands_of_issues_9_and_10_work_on_redis(make_redis, make_front, tmp_path):
    """They refused Redis once ("not built for the Redis store yet"); now each works on it
    (tests/integ/test_redis_ops.py tests them in depth)."""
    r = make_redis()
    token = tmp_path / "admin.token"
    token.write_text("s3cret-Token-0123456789abcdefXYZ\n")
    token.chmod(0o600)
    s = make_front("--admin-token-file", str(token), db=r.url)
    assert "not built" not in s.stderr()
    for args, out in ((["set", "--db", r.url, "--repo", "a/b", "--total", "3"], "now has 3 hits"),
                      (["import", "--db", r.url], "imported 1 repos, 4 hits"),
                      (["stats", "--db", r.url], "2 repos, 7 hits"),
                      (["delete", "--db", r.url, "--repo", "a/b"], "deleted a/b"),
                      (["export", "--db", r.url], '{"repo":"c/d","total":4,')):
        p = run_ghit(*args, input='{"repo":"c/d","total":4}\n' if args[0] == "import" else None)
        assert p.returncode == 0 and out in p.stdout, (args, p.stdout, p.stderr)
    assert r.client().get("repo:" + R("c/d")) == "4"
    assert r.client().get("repo:" + R("a/b")) is None


def test_redis_killed_and_restarted_under_load_stays_exact(make_redis, make_front):
    r = make_redis()
    fronts = [make_front(db=redis_url(r, 500), flush_interval=20) for _ in range(2)]
    result = {}
    t = threading.Thread(target=lambda: result.update(
        load([(f, repo) for f in fronts for repo in REPOS[:10]], seconds=5, threads=4)))
    t.start()
    time.sleep(1.5)
    r.kill()  # chunks in flight die with it; AOF everysec keeps what it acknowledged
    time.sleep(0.5)
    r.start()  # the same port and directory: it loads its AOF
    t.join(timeout=60)
    counts = collections.Counter(result)
    for f in fronts:
        f.stop()
    assert_exact(r, counts)


def test_large_flush_in_doubt_during_a_stall_counts_once(make_redis, make_front):
    r = make_redis()
    s = make_front("--new-repos-per-client", "100000", db=redis_url(r, 300), flush_interval=60000)
    repos = ["stall/r%d" % i for i in range(2500)]
    counts = load([(s, repo) for repo in repos], hits=len(repos) // 4, threads=4)
    assert sum(counts.values()) == 2500
    sleeper = stall(r, 1.5)
    s.stop()  # the only flush, 3 chunks, meets the stall: no answer, sent again until applied
    sleeper.join(timeout=10)
    assert_exact(r, counts)
    line = [x for x in s.stderr().splitlines() if " chunks applied, " in x][0]
    applied, dups = (int(n) for n in re.findall(r"(\d+) (?:chunks applied|answered)", line))
    assert applied + dups >= 3 and dups >= 1, line


def test_a_redis_that_evicts_keys_is_named_in_the_log(make_redis, make_front):
    # Any maxmemory-policy but noeviction drops counts when Redis is full; a
    # volatile-* one drops ghit:fe:<id> (it has a TTL) first.
    quiet = make_redis("--maxmemory", "100mb")  # Redis's default policy: noeviction
    evicting = make_redis("--maxmemory", "100mb", "--maxmemory-policy", "volatile-lru")
    a = make_front(db=quiet.url)
    b = make_front(db=evicting.url)
    for f in (a, b):
        assert f.hit("evict/repo").status == 200
    wait_for("b's warning", lambda: "evicts keys when it is full (maxmemory-policy volatile-lru)"
             in b.stderr())
    assert "doc/redis.md" in b.stderr()
    for f in (a, b):
        f.stop()
    assert "evicts keys" not in a.stderr()
    assert evicting.client().get("repo:" + R("evict/repo")) == "1"  # counted all the same


def test_the_acl_user_in_doc_redis_md_is_enough(make_redis, make_front, tmp_path):
    # doc/redis.md gives an ACL line for ghit's user; this runs what it says it covers.
    doc = os.path.join(os.path.dirname(__file__), "..", "..", "doc", "redis.md")
    with open(doc) as f:
        line = next(x for x in f.read().splitlines() if x.startswith("user ghit on "))
    rules = line.split()[2:]
    rules = [">acl-pass" if x == ">GHIT-PASSWORD" else x for x in rules]
    r = make_redis()
    r.client().execute_command("ACL", "SETUSER", "ghit", *rules)
    url = r.url.replace("redis://", "redis://ghit:acl-pass@")
    a = make_front(db=url, flush_interval=50)
    b = make_front(db=url, flush_interval=50)
    for i in range(1, 4):
        assert a.hit("acl/repo").status == 200
        wait_for("a's hit in Redis", lambda: r.client().get("repo:" + R("acl/repo")) == str(i))
    r4 = b.get("/badge.svg?repo=acl/repo")  # b reads the repo from Redis first
    assert r4.status == 200 and svg_title(r4.body).endswith(": 4"), r4
    for f in (a, b):
        f.stop()
        assert "refused" not in f.stderr() and "NOPERM" not in f.stderr(), f.stderr()
    for cmd in (["stats"], ["export"], ["render", "--out", str(tmp_path / "out")]):
        p = run_ghit(*cmd, "--db", url)
        assert p.returncode == 0, (cmd, p.stderr)
    assert r.client().get("repo:" + R("acl/repo")) == "4"
    assert (tmp_path / "out" / "acl" / "repo.svg").exists()
