"""A Redis that goes back in time (issue 8; design 5.2): restored from an older copy, or failed
over to a replica that was behind. Its high-water mark for a frontend then stands below what it
had confirmed; the frontend sends the chunks it lost again from its replay window (the last 30 s
of applied chunks), each applied once, so the totals equal every hit answered.

The test makes Redis lose its last writes for real: a snapshot (SAVE) is copied aside, more
hits are written and confirmed, then redis-server is killed and started again from the copy.
"""

import collections
import contextlib
import os
import shutil
import signal
import time

import pytest

redis = pytest.importorskip("redis", reason="Debian's python3-redis (scripts/deps.sh test)")
from redisfix import R, assert_exact, wait_for  # noqa: E402

REPOS = ["Back/In.%d" % i for i in range(7)]


def hit_all(front, counts, rounds):
    for _ in range(rounds):
        for repo in REPOS:
            assert front.hit(repo).status == 200
            counts[repo.lower()] += 1


def in_redis(r, counts):
    c = r.client()
    return all(c.get("repo:" + R(k)) == str(n) for k, n in counts.items())


def go_back(r, snapshot):
    """kill -9 redis-server and start it again from the snapshot: it forgets what came after."""
    r.kill()
    shutil.copy(snapshot, os.path.join(r.dir, "dump.rdb"))
    r.start()


@contextlib.contextmanager
def held(front):
    """The frontend stopped (SIGSTOP) for the block: it connects again as soon as Redis is back,
    so a look at Redis as it went back must come before the frontend can send anything."""
    os.kill(front.proc.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(front.proc.pid, signal.SIGCONT)


def start_with_snapshot(make_redis, make_front, tmp_path, rounds):
    """A Redis without AOF and a frontend on it; rounds of hits, in Redis, then a snapshot of
    Redis copied aside. Returns Redis, the frontend, the hits and the snapshot's path."""
    r = make_redis("--appendonly", "no")
    f = make_front(db=r.url, flush_interval=50)
    counts = collections.Counter()
    hit_all(f, counts, rounds)
    wait_for("the first hits in Redis", lambda: in_redis(r, counts))
    r.client().save()
    snapshot = str(tmp_path / "older.rdb")
    shutil.copy(os.path.join(r.dir, "dump.rdb"), snapshot)
    return r, f, counts, snapshot


@pytest.mark.parametrize("then", ["more hits", "idle"])
def test_chunks_a_redis_lost_are_sent_again(make_redis, make_front, tmp_path, then):
    r, f, counts, snapshot = start_with_snapshot(make_redis, make_front, tmp_path, 3)
    before = dict(counts)
    hit_all(f, counts, 4)  # several flushes, each confirmed by Redis
    wait_for("the later hits in Redis", lambda: in_redis(r, counts))
    with held(f):
        go_back(r, snapshot)
        c = r.client()
        assert int(c.get("repo:" + R(REPOS[0]))) == before[REPOS[0].lower()], \
            "Redis did not go back"
    if then == "more hits":
        hit_all(f, counts, 2)  # the next flush finds the gap
    # Either way (the next write, or the idle probe) the lost chunks go again, once.
    wait_for("the lost chunks sent again", lambda: in_redis(r, counts))
    f.stop()
    assert_exact(r, counts)
    assert "sent again from the replay window" in f.stderr()
    assert "their hits are lost" not in f.stderr()


def test_what_the_window_holds_after_a_hole_is_sent_again(make_redis, make_front, tmp_path):
    # Redis loses chunks of which the window (30 s) holds only the later ones: the earlier ones
    # are lost, and said so; the later ones go again, once, under a new frontend id.
    r, f, counts, snapshot = start_with_snapshot(make_redis, make_front, tmp_path, 2)
    hole = collections.Counter()
    hit_all(f, hole, 3)  # confirmed, then out of the window by age
    counts.update(hole)
    wait_for("the hole's hits in Redis", lambda: in_redis(r, counts))
    time.sleep(31)
    tail = collections.Counter()
    hit_all(f, tail, 4)  # confirmed; their flush moves the window past the hole's
    counts.update(tail)
    wait_for("the later hits in Redis", lambda: in_redis(r, counts))
    go_back(r, snapshot)
    counts.subtract(hole)  # lost for good: Redis forgot them, and so did the window
    hit_all(f, counts, 1)  # the next flush finds the gap
    wait_for("the window's chunks sent again", lambda: in_redis(r, counts), timeout=10)
    f.stop()
    assert_exact(r, counts)
    err = f.stderr()
    assert "their hits are lost" in err and "go again under a new id" in err, err
    assert "sent again from the replay window" in err, err
