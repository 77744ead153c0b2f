"""Shared fixtures for ghit's black-box tests.

Every test here runs the real binary ($GHIT_BIN, default: the repo's build/ghit)
over real sockets against real SQLite files in a temporary directory. Nothing is
mocked. Helpers:

  Server       one `ghit serve` process: start(), stop(), restart(), get(), conn()
  server       fixture: a running server on a fresh database (flush every 100 ms)
  make_server  fixture: a factory for servers with extra options; stops them all
  raw()        send raw bytes over a socket, read the answer until close or timeout
  read_response()  parse one HTTP/1.1 response from a socket file (keep-alive, pipelining)
  run_ghit()   run a ghit subcommand with a timeout
  db_rows()    read a ghit database with Python's sqlite3
"""

import datetime
import http.client
import os
import re
import signal
import socket
import sqlite3
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))

SANITIZER_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",
    "ThreadSanitizer",
)

SVG_NS = "{http://www.w3.org/2000/svg}"
START_TIMEOUT = 30.0  # a million repos under ASan, on a loaded machine
STOP_TIMEOUT = 20.0  # SIGTERM flushes; under ASan it is slower
SOCK_TIMEOUT = 10.0


def _find_bin():
    path = os.environ.get("GHIT_BIN") or os.path.join(REPO_ROOT, "build", "ghit")
    return os.path.abspath(path)


GHIT_BIN = _find_bin()


def pytest_sessionstart(session):
    if not (os.path.isfile(GHIT_BIN) and os.access(GHIT_BIN, os.X_OK)):
        pytest.exit(
            "ghit binary not found at %s: run `make` first, or set GHIT_BIN=/abs/path/ghit"
            % GHIT_BIN,
            returncode=2,
        )


def utc_today():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")


def assert_no_sanitizer_report(text, what="ghit"):
    for marker in SANITIZER_MARKERS:
        assert marker not in text, "%s printed a sanitizer report:\n%s" % (what, text[-6000:])


def run_ghit(*args, timeout=30, **kw):
    """Runs `ghit ARGS`; returns the CompletedProcess (text mode) and checks for sanitizer reports."""
    p = subprocess.run(
        [GHIT_BIN, *args], capture_output=True, text=True, timeout=timeout, **kw
    )
    assert_no_sanitizer_report(p.stderr, "ghit " + " ".join(args[:1]))
    return p


# --- HTTP helpers ------------------------------------------------------------


class Reply:
    """One HTTP reply: status, headers (case-insensitive lookup) and body bytes."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (name, value)
        self.body = body

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def text(self):
        return self.body.decode("utf-8")

    def __repr__(self):
        return "Reply(%d, %r, %r)" % (self.status, self.headers, self.body[:200])


def http_request(conn, method, path, headers=None, body=None):
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    return Reply(r.status, r.getheaders(), data)


class Endpoint:
    """Another listener of a server's (--metrics-listen): GET only, for metric()."""

    def __init__(self, port, host="127.0.0.1"):
        self.port = port
        self.host = host

    def get(self, path):
        c = http.client.HTTPConnection(self.host, self.port, timeout=SOCK_TIMEOUT)
        try:
            return http_request(c, "GET", path)
        finally:
            c.close()


def raw(port, data, timeout=5.0, read_until_close=True, host="127.0.0.1"):
    """Sends DATA, then reads until the server closes (or TIMEOUT passes).

    Returns the bytes received; a connection reset counts as a close."""
    s = socket.create_connection((host, port), timeout=SOCK_TIMEOUT)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        s.settimeout(timeout)
        out = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
            if not read_until_close and b"\r\n\r\n" in out:
                head = out.split(b"\r\n\r\n", 1)[0]
                m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
                if m and len(out) >= len(head) + 4 + int(m.group(1)):
                    break
        return out
    finally:
        s.close()


def threads(pid):
    """Each thread of process pid: its name and the CPU time (user and system, in clock
    ticks) it has used."""
    out = []
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
            stat = f.read()
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        out.append((name, int(fields[11]) + int(fields[12])))
    return out


def free_port():
    """A loopback port that nothing listens on (bound, then freed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def status_of(data):
    """The status code of the first response in DATA, or None if there is none."""
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", data)
    return int(m.group(1)) if m else None


def read_response(f, head=False):
    """Reads one response from a binary socket file; returns a Reply (or None on EOF)."""
    line = f.readline()
    if not line:
        return None
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", line)
    assert m, "bad status line %r" % line
    headers = []
    while True:
        h = f.readline()
        assert h, "EOF inside headers"
        if h in (b"\r\n", b"\n"):
            break
        k, _, v = h.decode("latin-1").partition(":")
        headers.append((k.strip(), v.strip()))
    rep = Reply(int(m.group(1)), headers, b"")
    if not head:
        n = int(rep.header("Content-Length") or 0)
        rep.body = f.read(n)
        assert len(rep.body) == n
    return rep


def svg_title(body):
    """Parses an SVG (must be well-formed XML) and returns its <title> text."""
    root = ET.fromstring(body)
    assert root.tag == SVG_NS + "svg", root.tag
    title = root.find(SVG_NS + "title")
    assert title is not None, "no <title> in %r" % body[:300]
    return title.text


def metrics(server):
    """One scrape of server's /metrics: {sample name: {labels text or "": value}}, in its order."""
    samples = {}
    for line in server.get("/metrics").text.splitlines():
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$", line)
        if m:
            samples.setdefault(m.group(1), {})[m.group(2) or ""] = float(m.group(3))
    return samples


def metric(server, name):
    """The samples named NAME in server's /metrics: {labels text or "": value}."""
    return metrics(server).get(name, {})


def wait_written(server, n, within=10.0):
    """Waits until server's flushes have written n hits in all (they are on disk)."""
    deadline = time.monotonic() + within
    while metric(server, "ghit_flush_hits_total").get("", 0) < n:
        assert time.monotonic() < deadline, "%d hits not written within %.0f s" % (n, within)
        time.sleep(0.05)


def db_rows(path, sql, args=()):
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def db_with_journal(path):
    """A read-only connection to the database at path with its journal (path-flushes, if there
    is one) attached as j, and the merge mark: journal rows past it count, as ghit counts them
    (a stop merges for at most 500 ms; what is left counts at the next start). The mark is None
    without a journal. The caller closes the connection."""
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)
    if not os.path.exists(path + "-flushes"):
        return con, None
    con.execute("ATTACH ? AS j", ("file:%s-flushes?mode=ro" % path,))
    mark = con.execute("SELECT value FROM main.meta WHERE key = 'merged'").fetchone()
    return con, mark[0] if mark else 0


def db_totals(path):
    """Each repo's total as ghit counts it: the tables plus the journal past the mark."""
    con, mark = db_with_journal(path)
    try:
        totals = dict(con.execute("SELECT name, total FROM repos").fetchall())
        if mark is not None:
            for name, hits in con.execute("SELECT repo, sum(hits) FROM j.journal WHERE id > ? "
                                          "GROUP BY repo", (mark,)):
                totals[name] = totals.get(name, 0) + hits
        return totals
    finally:
        con.close()


def db_days(path):
    """Each (repo, day)'s hits as ghit counts them: daily plus the journal past the mark."""
    con, mark = db_with_journal(path)
    try:
        days = {(r, d): h for r, d, h in con.execute("SELECT repo, day, hits FROM daily")}
        if mark is not None:
            for r, d, h in con.execute("SELECT repo, day, sum(hits) FROM j.journal WHERE id > ? "
                                       "GROUP BY repo, day", (mark,)):
                days[r, d] = days.get((r, d), 0) + h
        return days
    finally:
        con.close()


# --- the server --------------------------------------------------------------


class Server:
    """One `ghit serve` process on 127.0.0.1 with a free port."""

    def __init__(self, workdir, db=None, args=(), flush_interval=100, listen="127.0.0.1:0",
                 cwd=None):
        self.workdir = str(workdir)
        self.cwd = cwd  # the server's working directory; None: the test run's
        self.env = {}  # set over the test run's environment at each start
        self.listen = listen
        self.host = None
        self.db = str(db) if db else os.path.join(self.workdir, "ghit.db")
        self.args = list(args)
        if flush_interval is not None and "--flush-interval" not in self.args:
            self.args += ["--flush-interval", str(flush_interval)]
        self.proc = None
        self.port = None
        self.runs = 0
        self.stderr_path = None
        self._stderr_file = None
        self.returncode = None

    # lifecycle

    def start(self):
        assert self.proc is None, "already running"
        self.runs += 1
        self.stderr_path = os.path.join(self.workdir, "ghit-serve.%d.stderr" % self.runs)
        self._stderr_file = open(self.stderr_path, "wb")
        cmd = [GHIT_BIN, "serve", "--listen", self.listen, "--db", self.db, *self.args]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr_file,
            cwd=self.cwd, env={**os.environ, **self.env} if self.env else None
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            m = re.search(r"listening on http://(\[[0-9a-fA-F:.]+\]|[0-9.]+):(\d+)", self.stderr())
            if m:
                self.host = m.group(1).strip("[]")
                self.port = int(m.group(2))
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        err = self.stderr()
        self.kill()
        raise AssertionError("ghit serve did not start (%s):\n%s" % (" ".join(cmd), err))

    def stop(self, sig=signal.SIGTERM, expect_rc=0):
        """Stops with SIG; asserts the exit status and that no sanitizer spoke."""
        assert self.proc is not None, "not running"
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("ghit serve did not exit %ss after %s:\n%s"
                                 % (STOP_TIMEOUT, sig.name, self.stderr()))
        self._close()
        err = self.stderr()
        assert_no_sanitizer_report(err, "ghit serve")
        if expect_rc is not None:
            assert rc == expect_rc, "ghit serve exited %d after %s:\n%s" % (rc, sig.name, err)
        self.returncode = rc
        return rc

    def restart(self):
        self.stop()
        return self.start()

    def kill(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT)
            self._close()

    def _close(self):
        self.proc = None
        if self._stderr_file:
            self._stderr_file.close()
            self._stderr_file = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr(self):
        if not self.stderr_path or not os.path.exists(self.stderr_path):
            return ""
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    # HTTP

    def conn(self, timeout=SOCK_TIMEOUT):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, headers=None, body=None, timeout=SOCK_TIMEOUT):
        c = self.conn(timeout)
        try:
            return http_request(c, method, path, headers, body)
        finally:
            c.close()

    def get(self, path, headers=None, timeout=SOCK_TIMEOUT):
        return self.request("GET", path, headers, timeout=timeout)

    def head(self, path, headers=None):
        return self.request("HEAD", path, headers)

    def hit(self, repo, **params):
        q = "&".join("%s=%s" % kv for kv in params.items())
        return self.get("/badge.svg?repo=%s%s" % (repo, "&" + q if q else ""))

    def api(self, repo):
        """(status, parsed JSON) of /api/v1/repos/REPO."""
        import json

        r = self.get("/api/v1/repos/" + repo)
        return r.status, json.loads(r.body)

    def total(self, repo):
        st, j = self.api(repo)
        return j["total"] if st == 200 else None

    def raw(self, data, timeout=5.0, read_until_close=True):
        return raw(self.port, data, timeout=timeout, read_until_close=read_until_close, host=self.host)


@pytest.fixture(params=[(), ("--durable",)], ids=["epoll", "durable-poll"])
def loop_args(request):
    """Options that pick libmicrohttpd's event loop: epoll by default, poll() with --durable
    (src/http.c). Tests of how connections are limited and timed out run on both."""
    return request.param


@pytest.fixture
def make_server(tmp_path):
    servers = []

    def factory(*args, db=None, flush_interval=100, start=True, listen="127.0.0.1:0", workdir=None,
                cwd=None):
        s = Server(workdir or tmp_path, db=db, args=args, flush_interval=flush_interval,
                   listen=listen, cwd=cwd)
        servers.append(s)
        return s.start() if start else s

    yield factory
    errors = []
    for s in servers:
        if s.alive():
            try:
                s.stop()
            except AssertionError as e:
                errors.append(str(e))
        s.kill()
    if errors:
        pytest.fail("\n".join(errors))


@pytest.fixture
def server(make_server):
    return make_server()


@pytest.fixture
def make_redis(tmp_path):
    """A factory for redis-servers on free loopback ports (redisfix.RedisServer); stops them
    all. Skips the test when Debian's python3-redis is missing."""
    redisfix = pytest.importorskip("redisfix")
    servers = []

    def factory(*extra, start=True):
        r = redisfix.RedisServer(tmp_path / ("r%d" % len(servers)), extra)
        servers.append(r)
        return r.start() if start else r

    yield factory
    for r in servers:
        r.stop()


@pytest.fixture
def make_front(make_server, tmp_path):
    """make_server, each server in a directory of its own: several frontends on one store keep
    separate logs."""
    n = iter(range(1 << 30))

    def factory(*args, **kw):
        workdir = tmp_path / ("front%d" % next(n))
        workdir.mkdir()
        return make_server(*args, workdir=str(workdir), **kw)

    return factory
