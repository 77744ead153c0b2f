"""A Redis frontend's spool (issue 8): the hits not yet in Redis on local disk, so that a crash
of the process loses at most about one flush interval of them, however long Redis takes a
write, and a stop while Redis is down loses none. Each test starts its own redis-server; the
frontends are the real binary, killed with SIGKILL.
"""

import os
import re
import time

import pytest

from conftest import metric

redis = pytest.importorskip("redis", reason="Debian's python3-redis (scripts/deps.sh test)")
from redisfix import R, ReplyLoser, assert_exact, free_port, load, wait_for  # noqa: E402

MANY = ("--new-repos-per-client", "1000000")


def written(front):
    """Whether front has nothing left to write and Redis answers."""
    return (metric(front, "ghit_pending_hits").get("", -1) == 0
            and front.get("/healthz").status == 200)


def warm(r, front, repos):
    """One hit on each of repos, written."""
    for repo in repos:
        assert front.hit(repo).status == 200
    c = r.client()
    wait_for("the first hits", lambda: all(c.get("repo:" + R(x)) for x in repos))
    return {x: 1 for x in repos}


def kill_with_hits_left(r, front, repo, n):
    """n hits on repo while Redis takes no write, then SIGKILL: they stay in front's spool.
    The hits come once the frontend's idle probe (a write) waits on Redis, so the flusher
    takes none of them and only the spool's hits file holds them."""
    r.client().execute_command("CLIENT", "PAUSE", "30000", "WRITE")
    try:
        time.sleep(0.3)  # a few idle ticks: one's probe is caught by the pause
        for _ in range(n):
            assert front.hit(repo).status == 200
        time.sleep(0.5)  # the spool writes once an interval
        front.kill()
    finally:
        r.client().execute_command("CLIENT", "UNPAUSE")


def test_a_kill9_while_redis_takes_no_write_loses_no_spooled_hit(make_redis, make_front,
                                                                 tmp_path):
    # Redis takes no write for a while (CLIENT PAUSE WRITE: the apply script waits, reads go
    # on): a chunk is in doubt and every later interval's hits wait. Without the spool a kill
    # lost them all; with it, the restart sends the chunk again (applied once) and the rest.
    r = make_redis()
    c = r.client()
    spool = str(tmp_path / "spool")
    f = make_front("--spool", spool, *MANY, db=r.url, flush_interval=200)
    want = warm(r, f, ["old/r%d" % i for i in range(20)])
    c.execute_command("CLIENT", "PAUSE", "30000", "WRITE")
    try:
        counts = load([(f, "old/r%d" % i) for i in range(20)] +
                      [(f, "new/r%d" % i) for i in range(5)], seconds=1.0, threads=4)
        time.sleep(0.6)  # a few intervals: the spool writes every one
        f.kill()
    finally:
        c.execute_command("CLIENT", "UNPAUSE")
    for repo, n in counts.items():
        want[repo] = want.get(repo, 0) + n
    f.start()
    log = f.stderr()
    # The chunk in doubt is there unless the pause caught the flusher in its idle check (also
    # a write); the hits after it always are.
    m = re.search(r"the last run left (\d+) chunks \((\d+) hits\) in doubt and (\d+) hits", log)
    assert m and int(m.group(3)) > 0, log
    wait_for("the spool's hits written", lambda: written(f))
    f.stop()
    assert_exact(r, want)


def test_a_chunk_that_ran_before_the_kill_is_not_counted_twice(make_redis, make_front,
                                                                tmp_path):
    # A chunk reaches Redis and runs, and its reply is lost; Redis then cannot be reached, and
    # the frontend is killed with the chunk in doubt. The restart sends it again from the
    # spool, under its old id and number: "already applied", counted once.
    r = make_redis()
    c = r.client()
    relay = ReplyLoser(r)
    spool = str(tmp_path / "spool")
    f = make_front("--spool", spool, db=relay.url, flush_interval=100)
    repos = ["doubt/r%d" % i for i in range(10)]
    want = warm(r, f, repos)
    before = sum(want.values())
    relay.lose_after(b"$7\r\nEVALSHA\r\n", then_down=True)
    for i in range(50):
        assert f.hit(repos[i % 10]).status == 200
        want[repos[i % 10]] += 1
    # The hits may span two flushes (a slow machine, ASan): the first chunk runs, and the
    # hits after it wait for a Redis that cannot be reached, in the spool.
    wait_for("the chunk run by Redis",
             lambda: sum(int(c.get("repo:" + R(x))) for x in repos) > before)
    time.sleep(0.5)  # the spool writes once an interval
    f.kill()
    relay.up()
    f.start()
    assert re.search(r"the last run left [1-9]\d* chunks", f.stderr()), f.stderr()
    wait_for("the spool's chunk answered", lambda: written(f))
    f.stop()
    assert_exact(r, want)
    assert re.search(r"[1-9]\d* answered \"already applied\"", f.stderr()), f.stderr()


def test_a_stop_while_redis_is_down_keeps_the_hits_for_the_next_start(make_redis, make_front,
                                                                      tmp_path):
    r = make_redis()
    spool = str(tmp_path / "spool")
    f = make_front("--spool", spool, "--shutdown-timeout", "300", *MANY,
                   db=r.url + "?timeout=300", flush_interval=100)
    want = warm(r, f, ["down/known"])
    r.stop()
    for _ in range(5):
        assert f.hit("down/known").status == 200
    for _ in range(3):
        assert f.hit("down/new").status == 200
    want["down/known"] += 5
    want["down/new"] = 3
    f.stop(expect_rc=1)
    assert "the spool keeps them, and the next start with it writes them" in f.stderr()
    assert os.path.exists(os.path.join(spool, "chunks"))
    # What a kill in the middle of writing the chunks file leaves: the start removes it.
    cut = os.path.join(spool, ".chunks.424242.tmp")
    with open(cut, "w") as out:
        out.write("half a chunks file")
    r.start()
    f.start()
    wait_for("the kept hits written", lambda: written(f))
    assert not os.path.exists(cut)
    f.stop()
    assert_exact(r, want)
    # A clean stop leaves nothing to send again.
    assert sorted(os.listdir(spool)) == ["lock"]


def test_a_spool_belongs_to_one_frontend_and_one_redis(make_redis, make_front, tmp_path):
    r, other = make_redis(), make_redis()
    spool = str(tmp_path / "spool")
    a = make_front("--spool", spool, db=r.url, flush_interval=100)
    b = make_front("--spool", spool, db=r.url, flush_interval=100, start=False)
    with pytest.raises(AssertionError, match="is in use by another ghit"):
        b.start()
    # a leaves hits behind (Redis takes no write), then starts on another Redis: refused, the
    # hits are kept for the Redis they were counted for.
    want = warm(r, a, ["mine/repo"])
    kill_with_hits_left(r, a, "mine/repo", 4)
    c = make_front("--spool", spool, db=other.url, flush_interval=100, start=False)
    with pytest.raises(AssertionError, match=r"holds hits for redis://127\.0\.0\.1:%d/0" % r.port):
        c.start()
    assert "mine" not in str(other.client().keys("*"))
    a.start()
    wait_for("the kept hits written", lambda: written(a))
    a.stop()
    want["mine/repo"] += 4
    assert_exact(r, want)


def test_the_default_spool_is_named_after_the_listening_address(make_redis, make_server,
                                                                tmp_path):
    r = make_redis()
    port = free_port()
    f = make_server(db=r.url, listen="127.0.0.1:%d" % port, cwd=str(tmp_path),
                    workdir=str(tmp_path))
    spool = tmp_path / ("ghit-spool-127.0.0.1-%d" % port)
    assert f.hit("named/repo").status == 200
    wait_for("the chunks file", lambda: (spool / "chunks").exists())
    assert "spool ghit-spool-127.0.0.1-%d" % port in f.stderr()
    f.stop()
    assert sorted(os.listdir(spool)) == ["lock"]
    # Hits left in the default spool: a start there on another Redis is refused, as with
    # --spool DIR (it does not run on without a spool while the spool holds hits).
    other = make_redis()
    want = {"named/repo": 1}
    f.start()
    kill_with_hits_left(r, f, "named/repo", 3)
    want["named/repo"] += 3
    g = make_server(db=other.url, listen="127.0.0.1:%d" % port, cwd=str(tmp_path),
                    workdir=str(tmp_path), start=False)
    with pytest.raises(AssertionError, match="holds hits for redis://127.0.0.1:%d/0" % r.port):
        g.start()
    f.start()
    wait_for("the kept hits written", lambda: written(f))
    f.stop()
    assert_exact(r, want)
    # An ephemeral port names no frontend from one start to the next: no spool, said so.
    (tmp_path / "g").mkdir()
    e = make_server(db=r.url, cwd=str(tmp_path), workdir=str(tmp_path / "g"))
    assert "no spool (--spool auto, --listen 127.0.0.1:0)" in e.stderr()
    e.stop()


def test_a_spool_that_gave_up_writes_again_once_it_can(make_redis, make_front, tmp_path):
    # A write that fails (here: a directory where the chunks file goes, so its rename fails)
    # gives the spool up; once the cause is gone it starts again by itself, and a kill after
    # that loses no spooled hit again.
    r = make_redis()
    spool = tmp_path / "spool"
    f = make_front("--spool", str(spool), db=r.url, flush_interval=100)
    want = warm(r, f, ["up/again"])
    blocker = spool / "chunks"
    if blocker.exists():
        blocker.unlink()
    blocker.mkdir()
    (blocker / "in-the-way").write_text("x")
    for _ in range(3):
        assert f.hit("up/again").status == 200
    want["up/again"] += 3
    wait_for("the spool given up", lambda: metric(f, "ghit_spool_up").get("") == 0)
    assert "cannot write the chunks file" in f.stderr()
    wait_for("the hits written all the same", lambda: written(f))
    (blocker / "in-the-way").unlink()
    blocker.rmdir()
    wait_for("the spool writing again", lambda: metric(f, "ghit_spool_up").get("") == 1,
             timeout=20)
    assert "writing again" in f.stderr()
    kill_with_hits_left(r, f, "up/again", 4)
    want["up/again"] += 4
    f.start()
    wait_for("the kept hits written", lambda: written(f))
    f.stop()
    assert_exact(r, want)
