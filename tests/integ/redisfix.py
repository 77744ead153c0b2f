"""Helpers for the tests that run a real redis-server (issue 8): one server per test on a free
loopback port (AOF on, no RDB snapshots, DEBUG allowed from loopback) in the test's
temporary directory, stopped by its pid; load from several clients; the exact-totals check
the way the 2015 cron job read Redis. The fixtures make_redis and make_front are in
conftest.py.
"""

import collections
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import free_port, metric, utc_today

redis = pytest.importorskip("redis", reason="Debian's python3-redis (scripts/deps.sh test)")

REDIS_BIN = "/usr/bin/redis-server"


def R(repo):
    """The 2015 schema's name for a repo: lower case, '/' escaped as nginx's set_escape_uri does."""
    return repo.lower().replace("/", "%2F")


class RedisServer:
    """One redis-server process on 127.0.0.1, its data in its own directory."""

    def __init__(self, workdir, extra=()):
        self.dir = os.path.join(str(workdir), "redis")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.extra = list(extra)
        self.proc = None

    @property
    def url(self):
        return "redis://127.0.0.1:%d" % self.port

    def start(self):
        self.proc = subprocess.Popen(
            [REDIS_BIN, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "everysec", "--enable-debug-command", "local",
             "--dir", self.dir, "--daemonize", "no", "--logfile", "redis.log", *self.extra],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return self
            except redis.exceptions.AuthenticationError:
                return self
            except redis.exceptions.ResponseError as e:
                if "NOAUTH" in str(e):
                    return self
            except redis.exceptions.ConnectionError:
                pass
            assert self.proc.poll() is None, "redis-server exited %s" % self.proc.returncode
            time.sleep(0.05)
        raise AssertionError("redis-server did not answer on port %d" % self.port)

    def client(self, **kw):
        return redis.Redis(host="127.0.0.1", port=self.port, decode_responses=True,
                           socket_timeout=10, **kw)

    def kill(self):
        """kill -9: what the process wrote to its AOF stays (the page cache), nothing else."""
        self.proc.kill()
        self.proc.wait(timeout=10)
        self.proc = None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None


def load(targets, seconds=None, hits=None, threads=4):
    """Hits (server, repo) targets from THREADS keep-alive clients, round-robin, until SECONDS
    pass or each thread made HITS requests; returns a Counter of 200 replies per repo."""
    counts = collections.Counter()
    lock = threading.Lock()
    stop_at = time.monotonic() + (seconds or 60)

    def worker(n):
        conns = {}
        mine = collections.Counter()
        i = n
        made = 0
        while time.monotonic() < stop_at and (hits is None or made < hits):
            server, repo = targets[i % len(targets)]
            i += threads
            made += 1
            c = conns.get(server.port) or server.conn()
            conns[server.port] = c
            try:
                c.request("GET", "/badge.svg?repo=" + repo)
                r = c.getresponse()
                r.read()
                if r.status == 200:
                    mine[repo.lower()] += 1
            except (OSError, ConnectionError):
                c.close()
                conns.pop(server.port, None)
        for c in conns.values():
            c.close()
        with lock:
            counts.update(mine)

    ts = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=(seconds or 60) + 30)
    assert not any(t.is_alive() for t in ts), "the load did not stop"
    return counts


def assert_exact(r, counts):
    """Redis holds exactly counts, read as the 2015 cron job read it, and the per-day keys agree."""
    c = r.client()
    day = utc_today()
    members = c.smembers("repos")  # the 2015 cron: SMEMBERS repos, then MGET repo:R ...
    assert members == {R(k) for k in counts}
    names = sorted(members)
    totals = dict(zip(names, c.mget(["repo:" + m for m in names])))
    assert {m: int(v) for m, v in totals.items()} == {R(k): n for k, n in counts.items()}
    assert c.smembers("repos:" + day) == members
    days = dict(zip(names, c.mget(["repo:%s:%s" % (day, m) for m in names])))
    assert {m: int(v) for m, v in days.items()} == {R(k): n for k, n in counts.items()}
    assert set(c.hvals("ghit:first")) == {day}


def read_back(front, repo, timeout=30):
    """(status, total) of front's API for repo once its read of Redis is done: the API says
    503 while the read is pending (a frontend just started may take longer than the wait)."""
    deadline = time.monotonic() + timeout
    while True:
        st, j = front.api(repo)
        if st != 503:
            return st, j.get("total") if st == 200 else None
        assert time.monotonic() < deadline, "%s not read from Redis" % repo
        time.sleep(0.05)


def changes(front):
    """How many times front's follower was told that another writer changed a repo."""
    return metric(front, "ghit_cache_changes_total").get('{what="repo"}', 0)


def stall(r, seconds):
    """Makes Redis sleep (DEBUG SLEEP) for seconds, from a thread; returns that thread once a
    PING goes unanswered: Redis is inside the sleep."""
    t = threading.Thread(target=lambda: r.client().execute_command("DEBUG", "SLEEP", str(seconds)))
    t.start()
    deadline = time.monotonic() + 5
    while True:
        with socket.create_connection(("127.0.0.1", r.port), timeout=1) as sock:
            sock.settimeout(0.5)  # a PING on a loaded machine may be slow; the stalls last longer
            sock.sendall(b"PING\r\n")
            try:
                sock.recv(16)
            except socket.timeout:
                return t
        assert time.monotonic() < deadline, "Redis did not stall"
        time.sleep(0.01)


class Relay:
    """A TCP relay to Redis on a port of its own (url), for tests that lose replies. Each piece
    passed on is shown to passed(data, from_ghit, state), state being the connection's
    (new_state()); a true answer closes both sides after a pause, so that Redis runs what it
    got and its reply finds no one. refuse() closes new connections at once."""

    recv_bytes = 65536

    def __init__(self, r):
        self.to = r.port
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.url = "redis://127.0.0.1:%d" % self.port
        threading.Thread(target=self._accept, daemon=True).start()

    def refuse(self):
        return False

    def new_state(self):
        return {}

    def passed(self, data, from_ghit, state):
        return False

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.refuse():
                client.close()
                continue
            server = socket.create_connection(("127.0.0.1", self.to))
            state = self.new_state()
            cut = threading.Event()
            threading.Thread(target=self._pump, args=(client, server, True, state, cut),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False, state, cut),
                             daemon=True).start()

    def _pump(self, src, dst, from_ghit, state, cut):
        try:
            while not cut.is_set():
                data = src.recv(self.recv_bytes)
                if not data or cut.is_set():
                    break
                # Cut before passing it on: set after, a fast reply could slip through the
                # other direction's pump first (seen in CI: the reply was not lost).
                last = self.passed(data, from_ghit, state)
                if last:
                    cut.set()
                dst.sendall(data)
                if last:
                    time.sleep(0.3)  # Redis runs it; its reply finds no one
        except OSError:
            pass
        for sock in (src, dst):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


class ReplyLoser(Relay):
    """A relay that can lose a reply: after lose_after(marker), the first write from ghit that
    holds marker (say b"EVAL" for the write script) is passed on to Redis, then both sides
    are closed, so the command runs and ghit never hears of it. With then_down, the relay
    then closes every new connection at once, until up()."""

    def __init__(self, r):
        self.marker = None
        self.lost = 0
        self.down = self.down_after = False
        super().__init__(r)

    def lose_after(self, marker, then_down=False):
        self.down_after = then_down
        self.marker = marker

    def up(self):
        self.down = False

    def refuse(self):
        return self.down

    def passed(self, data, from_ghit, state):
        if not (from_ghit and self.marker and self.marker in data):
            return False
        self.marker = None
        self.down = self.down_after
        self.lost += 1
        return True


def wait_for(what, fn, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def redis_url(r, timeout_ms=None):
    return r.url + ("?timeout=%d" % timeout_ms if timeout_ms else "")
