"""The Redis store's chunks (issue 8): what ghit_redis_chunks_total and ghit_redis_owed_deltas
say, the owed list while some tries half fail, and a spool whose numbers Redis is past. Each
test starts its own redis-server; the frontends are the real binary.
"""

import re
import signal
import threading
import time

import pytest

from conftest import metric, utc_today

redis = pytest.importorskip("redis", reason="Debian's python3-redis (scripts/deps.sh test)")
from redisfix import R, Relay, ReplyLoser, assert_exact, load, redis_url, stall, wait_for  # noqa: E402

MANY = ("--new-repos-per-client", "1000000")
EVALSHA = b"$7\r\nEVALSHA\r\n"


def chunks(front):
    """ghit_redis_chunks_total by outcome."""
    return {k: v for k, v in ((re.search(r'"(\w+)"', k).group(1), v)
                              for k, v in metric(front, "ghit_redis_chunks_total").items())}


def hw(r):
    """The one frontend's id and high-water mark in Redis."""
    keys = r.client().keys("ghit:fe:*")
    assert len(keys) == 1, keys
    return keys[0][len("ghit:fe:"):], int(r.client().get(keys[0]))


class SecondSendCut(Relay):
    """A relay that, while cutting, passes the second EVALSHA burst of each connection (one
    sent after Redis answered the first) to Redis and then closes both sides: the chunks
    run, and ghit never hears of them. The first burst of a connection, the chunks a try
    sends again, is answered; the new ones sent after it are in doubt."""

    recv_bytes = 1 << 20

    def __init__(self, r):
        self.cutting = False
        self.cuts = 0
        super().__init__(r)

    def new_state(self):
        return {"burst": False, "answered": False}

    def passed(self, data, from_ghit, st):
        if not from_ghit:
            st["answered"] = st["burst"]
            return False
        if EVALSHA not in data:
            return False
        cut = self.cutting and st["answered"]
        self.cuts += cut
        st["burst"] = True
        return cut


def test_in_doubt_counts_the_chunks_sent_not_those_never_sent(make_redis, make_front):
    # One flush of 16,500 repos is 17 chunks, sent 16 at a time. Redis stalls: the first 16
    # are handed to the connection and get no answer (in doubt, sent again later); the 17th
    # was never sent, is made again and counted when sent. It was counted in doubt too, and
    # then applied: counted twice.
    r = make_redis()
    f = make_front(*MANY, db=redis_url(r, 1000), flush_interval=60000)
    repos = ["doubt/r%d" % i for i in range(16500)]
    counts = load([(f, repo) for repo in repos], hits=len(repos) // 4, threads=4)
    assert sum(counts.values()) == len(repos)
    sleeper = stall(r, 3)
    f.proc.send_signal(signal.SIGHUP)  # the flush, now, into the stall
    sleeper.join(timeout=10)
    wait_for("the flush written", lambda: metric(f, "ghit_pending_hits").get("", -1) == 0
             and f.get("/healthz").status == 200, timeout=60)
    got = chunks(f)
    _, mark = hw(r)
    assert got["in_doubt"] == 16, got
    # Then the 16 went again, each answered applied or "already applied" (if its copy in
    # doubt had run), and the rest, made again (in one chunk or more), for the first time:
    # one answered send per chunk.
    assert mark >= 17 and got["applied"] + got.get("already_applied", 0) == mark, (mark, got)
    f.stop()
    assert_exact(r, counts)


def test_owed_list_stays_bounded_when_old_chunks_apply_and_new_ones_fail(make_redis,
                                                                        make_front):
    # Try after try, the chunks owed from the try before are answered (they ran: "already
    # applied") and the new ones are not. The owed list kept the old ones too, since the
    # flusher takes every hit back on a failure, and grew by a try's chunks each time.
    r = make_redis()
    relay = SecondSendCut(r)
    f = make_front(db=relay.url + "?timeout=1000", flush_interval=50)
    repos = ["half/r%d" % i for i in range(5)]
    for repo in repos:
        assert f.hit(repo).status == 200
    wait_for("the first hits", lambda: all(r.client().get("repo:" + R(x)) for x in repos))
    want = {x: 1 for x in repos}
    stop = threading.Event()
    owed = []

    def hits():
        i = 0
        while not stop.is_set():
            if f.hit(repos[i % 5]).status == 200:
                want[repos[i % 5]] += 1
            i += 1
            time.sleep(0.01)

    t = threading.Thread(target=hits)
    relay.cutting = True
    t.start()
    try:
        deadline = time.monotonic() + 40
        while relay.cuts < 6 and time.monotonic() < deadline:
            owed.append(metric(f, "ghit_redis_owed_deltas").get("", 0))
            time.sleep(0.02)
        assert relay.cuts >= 6, relay.cuts
    finally:
        relay.cutting = False
        stop.set()
        t.join(timeout=10)
    # Owed: the chunk of one try, one delta per repo, never more.
    assert max(owed) <= len(repos), owed
    wait_for("every hit written", lambda: metric(f, "ghit_pending_hits").get("", -1) == 0
             and metric(f, "ghit_redis_owed_deltas").get("", -1) == 0, timeout=60)
    f.stop()
    assert "bug" not in f.stderr()
    assert_exact(r, want)


def test_a_spool_older_than_redis_does_not_swallow_new_chunks(make_redis, make_front,
                                                              tmp_path):
    # A restart takes its id and next number from the spool. If Redis's high-water mark for
    # that id is already past them (the spool is older than Redis: restored after a power
    # cut, or copied), every new chunk was answered "already applied" and its hits lost,
    # in silence. A chunk never sent before cannot have run: the frontend goes on under a
    # new id, and says so.
    r = make_redis()
    f = make_front("--spool", str(tmp_path / "spool"), db=r.url, flush_interval=100)
    assert f.hit("old/spool").status == 200
    wait_for("the first hit", lambda: r.client().get("repo:" + R("old/spool")) == "1")
    fe, mark = hw(r)
    time.sleep(0.3)  # the chunks file, empty, after the write
    f.kill()
    r.client().set("ghit:fe:" + fe, mark + 40)  # numbers this spool never gave out
    f.start()
    assert "frontend %s again, from the spool" % fe in f.stderr()
    for _ in range(5):
        assert f.hit("old/spool").status == 200
    wait_for("the new hits in Redis", lambda: r.client().get("repo:" + R("old/spool")) == "6",
             timeout=20)
    f.stop()
    assert_exact(r, {"old/spool": 6})
    assert "which it never had" in f.stderr()
    assert int(r.client().get("ghit:fe:" + fe)) == mark + 40  # the old id is left alone


def test_a_restore_after_redis_lost_its_last_chunks_counts_nothing_twice(make_redis, make_front,
                                                                         tmp_path):
    # Redis goes back in time (its last second lost, a failover) while the frontend crashes
    # with a chunk in doubt that had run. At the restart Redis's high-water mark is below the
    # spool's chunk: GHITGAP. The chunks Redis lost that only the crashed process's replay
    # window held are lost, and logged by number; the spool's chunk applies once, under a new
    # id (its copy under the old id cannot apply past the gap).
    r = make_redis()
    c = r.client()
    relay = ReplyLoser(r)
    f = make_front("--spool", str(tmp_path / "spool"), db=relay.url, flush_interval=100)
    repos = ["back/r%d" % i for i in range(10)]
    for repo in repos:
        assert f.hit(repo).status == 200
    wait_for("the first hits", lambda: all(c.get("repo:" + R(x)) == "1" for x in repos))
    fe, mark = hw(r)
    for repo in repos:  # applied, confirmed, then lost by Redis below
        assert f.hit(repo).status == 200
    wait_for("the second hits", lambda: all(c.get("repo:" + R(x)) == "2" for x in repos))
    relay.lose_after(EVALSHA, then_down=True)
    for i in range(50):
        assert f.hit(repos[i % 10]).status == 200
    wait_for("the chunk in doubt run", lambda: all(c.get("repo:" + R(x)) == "7" for x in repos))
    time.sleep(0.3)  # the spool's writer: an interval
    f.kill()
    # What Redis holds after losing every chunk since the first hits.
    day = utc_today()
    for repo in repos:
        c.set("repo:" + R(repo), 1)
        c.set("repo:%s:%s" % (day, R(repo)), 1)
    c.set("ghit:fe:" + fe, mark)
    relay.up()
    f.start()
    wait_for("the spool's chunk written", lambda: metric(f, "ghit_pending_hits").get("", -1) == 0
             and f.get("/healthz").status == 200)
    f.stop()
    assert_exact(r, {x: 6 for x in repos})  # 1 kept, 1 lost with Redis, 5 from the spool
    assert re.search(r"Redis lost chunks %d\.\.\d+ of frontend %s" % (mark + 1, fe), f.stderr())
