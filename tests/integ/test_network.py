"""Where ghit is deployed, with its default options (issue 6).

Behind a TLS reverse proxy every connection comes from one address; GitHub's
image proxy fetches from a few; a client may flood new names or hold
connections open. Each test here runs the real binary with default limits
(only the flush interval and, where named, one option changed) and real
clients on loopback addresses (127.0.0.2 and up are other addresses).
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import REPO_ROOT, db_totals, free_port, http_request, status_of, svg_title, threads


def run_clients(n, work, timeout=120):
    """Runs work(i) in n threads that all start together; returns the exceptions raised."""
    errors = []
    barrier = threading.Barrier(n)

    def body(i):
        try:
            barrier.wait(timeout=60)
            work(i)
        except Exception as e:  # collected and asserted on by the caller
            errors.append(repr(e))

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(timeout=max(0.1, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "clients still running after %s s" % timeout
    return errors


def keep_alive_load(host, port, clients, requests, repo_of, hold=None):
    """clients keep-alive connections, all open at once, each making `requests` badge
    requests; returns (statuses seen, errors)."""
    import http.client

    statuses = {}
    lock = threading.Lock()
    opened = threading.Barrier(clients)

    def work(i):
        conn = http.client.HTTPConnection(host, port, timeout=30)
        try:
            conn.connect()
            opened.wait(timeout=60)  # every connection is open before the first request
            for j in range(requests):
                r = http_request(conn, "GET", "/badge.svg?repo=" + repo_of(i, j))
                with lock:
                    statuses[r.status] = statuses.get(r.status, 0) + 1
        finally:
            conn.close()

    errors = run_clients(clients, work)
    return statuses, errors


def test_200_keep_alive_connections_from_one_address_are_all_answered_and_counted(make_server, loop_args):
    s = make_server(*loop_args)  # default limits
    statuses, errors = keep_alive_load(
        s.host, s.port, 200, 10, lambda i, j: "one/addr%d" % (i % 20))
    assert not errors, errors[:5]
    assert statuses == {200: 2000}, statuses
    s.stop()
    totals = db_totals(s.db)
    assert sum(totals.values()) == 2000
    assert totals == {"one/addr%d" % k: 100 for k in range(20)}


def test_a_proxy_pool_of_keep_alive_connections_is_dealt_to_every_worker(make_server, loop_args):
    """A proxy opens its pool at once, and a keep-alive connection stays on the worker that
    took it: were the pool taken by one worker, one core would serve everything. ghit's
    acceptor thread deals the connections out (src/http.c), on both event loops."""
    s = make_server(*loop_args, "--threads", "2")
    # Each thread names itself once it runs, which may come after the server says it listens.
    wanted = ["MHD-worker", "MHD-worker", "ghit-acceptor", "ghit-flusher", "ghit-merger",
              "ghit-watchdog"]
    deadline = time.monotonic() + 10
    while True:
        names = [name for name, _ in threads(s.proc.pid)]
        if sorted(n for n in names if n in wanted) == wanted:
            break
        assert time.monotonic() < deadline, names
        time.sleep(0.05)
    pool = [socket.create_connection((s.host, s.port), timeout=30) for _ in range(8)]
    burst = b"GET /badge.svg?repo=pool/r HTTP/1.1\r\nHost: ghit\r\n\r\n" * 400
    answered = 0
    for _ in range(30):
        for c in pool:
            c.sendall(burst)
        for c in pool:
            data = b""
            while data.count(b"HTTP/1.1 200 ") < 400:
                chunk = c.recv(1 << 20)
                assert chunk, "the connection closed after %d replies" % data.count(b"HTTP/1.1 ")
                data += chunk
            assert data.count(b"HTTP/1.1 ") == 400
            answered += 400
    for c in pool:
        c.close()
    workers = [ticks for name, ticks in threads(s.proc.pid) if name == "MHD-worker"]
    # Four connections each: about even. All on one worker would leave the other at nothing.
    assert min(workers) * 4 >= sum(workers) > 0, workers
    s.stop()
    assert db_totals(s.db) == {"pool/r": answered}


# --- behind nginx, configured as contrib/nginx-proxy.conf -------------------------


def nginx_config(tmp_path, listen_port, ghit_port):
    """contrib/nginx-proxy.conf made runnable here: plain HTTP on a free loopback port
    instead of TLS on 443, ghit's port, and the files of a private nginx."""
    with open(os.path.join(REPO_ROOT, "contrib", "nginx-proxy.conf")) as f:
        site = f.read()
    assert "keepalive 64;" in site and "proxy_http_version 1.1;" in site
    site = site.replace("server 127.0.0.1:8080;", "server 127.0.0.1:%d;" % ghit_port)
    site = re.sub(r"listen 443 ssl http2;", "listen 127.0.0.1:%d;" % listen_port, site)
    site = re.sub(r"\n\s*ssl_certificate[^\n]*", "", site)
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        "worker_processes 2;\n"
        "pid %s/nginx.pid;\n"
        "error_log %s/nginx-error.log warn;\n"
        "events { worker_connections 4096; }\n"
        "http {\n"
        "  access_log off;\n"
        "  client_body_temp_path %s; proxy_temp_path %s; fastcgi_temp_path %s;\n"
        "  uwsgi_temp_path %s; scgi_temp_path %s;\n"
        "%s\n}\n" % ((tmp_path,) * 2 + (tmp_path,) * 5 + (site,))
    )
    return conf


@pytest.fixture
def nginx(tmp_path):
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(exe):
        pytest.fail("nginx is not installed: scripts/deps.sh test installs it")
    procs = []

    def start(ghit_port):
        port = free_port()
        conf = nginx_config(tmp_path, port, ghit_port)
        p = subprocess.Popen([exe, "-c", str(conf), "-g", "daemon off;"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append(p)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return port
            except OSError:
                assert p.poll() is None, p.stderr.read().decode()
                time.sleep(0.05)
        raise AssertionError("nginx did not start")

    yield start
    for p in procs:
        p.send_signal(signal.SIGQUIT)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def test_behind_nginx_400_keep_alive_clients_are_all_answered_and_counted(make_server, nginx, tmp_path,
                                                                        loop_args):
    s = make_server(*loop_args)  # default limits: nginx is one address, 127.0.0.1
    port = nginx(s.port)
    statuses, errors = keep_alive_load(
        "127.0.0.1", port, 400, 10, lambda i, j: "via/nginx%d" % (i % 40))
    log = (tmp_path / "nginx-error.log").read_text()
    assert not errors, errors[:5]
    assert statuses == {200: 4000}, (statuses, log[-2000:])
    assert "upstream prematurely closed" not in log, log[-2000:]
    s.stop()
    assert db_totals(s.db) == {"via/nginx%d" % k: 100 for k in range(40)}


# --- connections held open without a request ------------------------------------


def test_idle_connections_from_many_addresses_do_not_lock_out_a_new_client(make_server):
    """More idle connections than --max-connections (default 4096), held from 16 addresses:
    a new client is still answered at once, and so are clients that keep coming."""
    s = make_server()
    held = []
    try:
        for k in range(4200):
            src = "127.0.0.%d" % (2 + k % 16)
            c = socket.socket()
            c.setblocking(True)
            c.bind((src, 0))
            try:
                c.connect(("127.0.0.1", s.port))
            except OSError:
                c.close()
                continue
            held.append(c)
        for i in range(20):
            t0 = time.monotonic()
            r = s.get("/badge.svg?repo=new/client")
            assert r.status == 200
            assert time.monotonic() - t0 < 2.0
        assert svg_title(s.get("/count.svg?repo=new/client").body) == "hits: 20"
    finally:
        for c in held:
            c.close()


def test_per_address_cap_spares_trusted_proxies(make_server):
    s = make_server("--max-connections-per-ip", "4", "--trusted-proxy", "127.0.0.3")

    def open_from(src, n):
        out = []
        for _ in range(n):
            c = socket.socket()
            c.bind((src, 0))
            c.connect(("127.0.0.1", s.port))
            out.append(c)
        return out

    plain = open_from("127.0.0.2", 6)
    proxy = open_from("127.0.0.3", 10)
    try:
        time.sleep(0.3)
        from test_limits import get_on, wait_closed
        assert sum(wait_closed(c, 0.3) for c in plain) == 2  # the 5th and 6th
        for c in proxy:
            assert get_on(c, "/healthz")[0] == 200
    finally:
        for c in plain + proxy:
            c.close()


# --- replies on one keep-alive connection ------------------------------------------


def test_replies_of_every_size_on_one_keep_alive_connection_come_whole(server):
    """A connection's reply is sent from memory that its next reply reuses: small and
    large bodies in turn on one connection each come whole, never a piece of another."""
    page = server.get("/").body
    script = server.get("/app.js").body
    c = server.conn()
    try:
        days = "/api/v1/repos/ka/size/days?from=2025-11-28&to=2026-11-28"
        for n in range(1, 4):
            badge = http_request(c, "GET", "/badge.svg?repo=ka/size")
            assert badge.status == 200 and svg_title(badge.body) == "hits: %d" % n
            history = http_request(c, "GET", days)
            assert history.status == 200 and len(history.body) > 8000
            assert len(json.loads(history.body)["days"]) == 366
            assert http_request(c, "GET", "/").body == page
            assert http_request(c, "GET", "/app.js").body == script
            missing = http_request(c, "GET", "/no-such-page")
            assert missing.status == 404 and b"<svg" not in missing.body
    finally:
        c.close()


# --- the client behind a trusted proxy, and new repos per client -----------------


def get_from(port, src, path, headers=()):
    """One GET from source address src; returns the status."""
    c = socket.socket()
    c.bind((src, 0))
    c.connect(("127.0.0.1", port))
    try:
        extra = b"".join(b"%s: %s\r\n" % (k.encode(), v.encode()) for k, v in headers)
        c.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" + extra +
                  b"Connection: close\r\n\r\n")
        data = b""
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            data += chunk
        return status_of(data)
    finally:
        c.close()


def test_new_repos_are_limited_per_forwarded_client_behind_a_trusted_proxy(make_server):
    s = make_server("--trusted-proxy", "127.0.0.1", "--new-repos-per-client", "5")
    xff = lambda a: [("X-Forwarded-For", "%s, 127.0.0.1" % a)]
    got = [get_from(s.port, "127.0.0.1", "/badge.svg?repo=fw/a%d" % i, xff("203.0.113.1"))
           for i in range(7)]
    assert got == [200] * 5 + [429] * 2
    # another forwarded client has its own allowance; a known repo always counts
    assert get_from(s.port, "127.0.0.1", "/badge.svg?repo=fw/b", xff("203.0.113.2")) == 200
    assert get_from(s.port, "127.0.0.1", "/badge.svg?repo=fw/a0", xff("203.0.113.1")) == 200
    # The proxy sets X-Forwarded-For (the default --forwarded-header) and passes
    # a client's own Forwarded on: that one names nobody, so 203.0.113.1, out of
    # new repos, cannot get a fresh allowance by naming another address there.
    own = [("Forwarded", "for=198.51.100.99")] + xff("203.0.113.1")
    assert get_from(s.port, "127.0.0.1", "/badge.svg?repo=fw/own", own) == 429
    # a peer that is not trusted cannot choose its client by header
    spoof = [get_from(s.port, "127.0.0.2", "/badge.svg?repo=sp/a%d" % i,
                      [("X-Forwarded-For", "198.51.100.%d" % i)]) for i in range(7)]
    assert spoof == [200] * 5 + [429] * 2
    s.stop()
    totals = db_totals(s.db)
    assert totals["fw/a0"] == 2 and "fw/a5" not in totals and "sp/a5" not in totals
    assert "fw/own" not in totals


def test_a_proxy_that_sets_forwarded_names_the_client_there(make_server):
    s = make_server("--trusted-proxy", "127.0.0.1", "--forwarded-header", "forwarded",
                    "--new-repos-per-client", "5")
    fwd = lambda a: [("Forwarded", 'for="%s";proto=https, for=127.0.0.1' % a)]
    assert [get_from(s.port, "127.0.0.1", "/badge.svg?repo=rf/c%d" % i,
                     fwd("[2001:db8::7]:4711")) for i in range(6)] == [200] * 5 + [429]
    # another client of the proxy has its own allowance
    assert get_from(s.port, "127.0.0.1", "/badge.svg?repo=rf/d", fwd("203.0.113.9")) == 200
    # X-Forwarded-For is now the client's to write, and names nobody
    own = [("X-Forwarded-For", "198.51.100.99")] + fwd("[2001:db8::7]:4711")
    assert get_from(s.port, "127.0.0.1", "/badge.svg?repo=rf/own", own) == 429
    s.stop()
    totals = db_totals(s.db)
    assert "rf/c5" not in totals and "rf/own" not in totals and totals["rf/d"] == 1


def test_a_repo_flood_does_not_stop_new_repos_of_others(make_server):
    """One client asks for a new name on every request, as fast as it can, for 10 s
    (default options). Another client's new repo and every known repo still count."""
    s = make_server()
    assert get_from(s.port, "127.0.0.3", "/badge.svg?repo=known/repo") == 200
    stop = time.monotonic() + 10
    flood = {"ok": 0, "refused": 0}

    def flooder(i):
        import http.client
        src = "127.0.0.2"
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10,
                                          source_address=(src, 0))
        n = 0
        while time.monotonic() < stop:
            r = http_request(conn, "GET", "/badge.svg?repo=junk%d/n%d" % (i, n))
            n += 1
            flood["ok" if r.status == 200 else "refused"] += 1
            assert r.status in (200, 429), r.status
        conn.close()

    t = threading.Thread(target=run_clients, args=(4, flooder, 60))
    t.start()
    time.sleep(5)
    legit = [get_from(s.port, "127.0.0.3", "/badge.svg?repo=legit/new"),
             get_from(s.port, "127.0.0.4", "/badge.svg?repo=known/repo")]
    t.join(timeout=60)
    assert legit == [200, 200]
    # 60 a minute, in a burst of 60: at most 60 + 10 s worth (10) of new names
    assert flood["ok"] <= 72, flood
    assert flood["refused"] > 1000, flood
    health = s.get("/healthz").text
    m = re.search(r"new repos refused: (\d+) over --new-repos-per-client", health)
    assert m and int(m.group(1)) == flood["refused"], health
    s.stop()
    assert "a client creates new repos too fast" in s.stderr()
    totals = db_totals(s.db)
    assert totals["legit/new"] == 1 and totals["known/repo"] == 2
    assert sum(1 for k in totals if k.startswith("junk")) == flood["ok"]


# --- signals -----------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2])
def test_hangup_and_user_signals_write_pending_hits_and_go_on(make_server, sig):
    s = make_server(flush_interval=60000)
    for _ in range(5):
        assert s.hit("sig/pending").status == 200
    assert db_totals(s.db).get("sig/pending") is None  # still pending: a minute to go
    s.proc.send_signal(sig)
    deadline = time.monotonic() + 5
    while db_totals(s.db).get("sig/pending") != 5:
        assert time.monotonic() < deadline, "pending hits not written after %s" % sig.name
        time.sleep(0.05)
    assert s.alive()
    assert svg_title(s.hit("sig/pending").body) == "hits: 6"
    s.stop(signal.SIGQUIT)
    assert db_totals(s.db)["sig/pending"] == 6


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGQUIT])
def test_stop_signals_write_every_pending_hit(make_server, sig):
    s = make_server(flush_interval=60000)
    for _ in range(5):
        s.hit("sig/stop")
    s.stop(sig)
    assert db_totals(s.db)["sig/stop"] == 5


# --- HTTP strictness -----------------------------------------------------------------


AMBIGUOUS = [
    ("two-content-length", b"GET /badge.svg?repo=st/a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n", 400),
    ("space-before-colon", b"GET /badge.svg?repo=st/a HTTP/1.1\r\nHost: x\r\nContent-Length : 44\r\n\r\n" + b"G" * 44, 400),
    ("nul-in-target", b"GET /badge.svg?repo=st/a\x00junk HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("nul-before-query", b"GET /badge.svg\x00x?repo=st/a HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("no-host", b"GET /badge.svg?repo=st/a HTTP/1.1\r\n\r\n", 400),
    ("two-hosts", b"GET /badge.svg?repo=st/a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400),
    ("te-and-length", b"GET /badge.svg?repo=st/a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("nul-in-path", b"GET /badge.svg%00junk?repo=st/a HTTP/1.1\r\nHost: x\r\n\r\n", 404),
    ("nul-in-api-path", b"GET /api/v1/repos/st/a%00junk HTTP/1.1\r\nHost: x\r\n\r\n", 404),
    # libmicrohttpd 0.9.75 ends the head at a field line with an empty name after the first
    # field: the lines after it would be a second request, which a proxy read as fields.
    ("empty-name-hides-a-request", b"GET /count.svg?repo=st/a HTTP/1.1\r\nHost: x\r\n: v\r\n"
     b"GET /badge.svg?repo=st/a HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("lone-colon-hides-a-request", b"GET /count.svg?repo=st/a HTTP/1.1\r\nHost: x\r\n:\r\n"
     b"GET /badge.svg?repo=st/a HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("lone-colon-lf-hides-a-request", b"GET /count.svg?repo=st/a HTTP/1.1\nHost: x\n:\n"
     b"GET /badge.svg?repo=st/a HTTP/1.1\nHost: x\n\n", 400),
    # The library cuts a value at a NUL: a proxy and ghit would read different tokens.
    ("nul-in-value", b"GET /badge.svg?repo=st/a HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400),
    ("nul-ends-value", b"GET /badge.svg?repo=st/a HTTP/1.1\r\nHost: x\r\nX-A: a\x00\r\n\r\n", 400),
    # A fold (obs-fold, RFC 9112 5.2), which the library glues to the field's name.
    ("folded-line", b"GET /badge.svg?repo=st/a HTTP/1.1\r\nHost: x\r\nX-A: a\r\n folded\r\n\r\n", 400),
    ("folded-host", b"GET /badge.svg?repo=st/a HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400),
    ("mixed-line-ends", b"GET /badge.svg?repo=st/a HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n", 400),
]


@pytest.mark.parametrize("name,request_bytes,status", AMBIGUOUS, ids=[a[0] for a in AMBIGUOUS])
def test_requests_a_proxy_could_read_otherwise_are_refused_and_count_nothing(server, name, request_bytes, status):
    out = server.raw(request_bytes)
    assert status_of(out) == status, out[:300]
    assert b"Connection: close" in out.split(b"\r\n\r\n")[0]
    assert server.api("st/a")[0] == 404
    assert server.get("/api/v1/repos/st/a").status == 404


LEGAL_HEADS = [
    ("crlf", b"GET /badge.svg?repo=legal/h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    ("lf", b"GET /badge.svg?repo=legal/h HTTP/1.1\nHost: x\nConnection: close\n\n"),
    ("http10-no-fields", b"GET /badge.svg?repo=legal/h HTTP/1.0\r\n\r\n"),
    ("http10-no-fields-lf", b"GET /badge.svg?repo=legal/h HTTP/1.0\n\n"),
    ("empty-line-first", b"\r\nGET /badge.svg?repo=legal/h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    ("empty-and-blank-values", b"GET /badge.svg?repo=legal/h HTTP/1.1\r\nHost: x\r\nX-A:\r\nX-B: \t \r\n"
     b"X-C:\tc\t\r\nConnection: close\r\n\r\n"),
    ("cookies", b"GET /badge.svg?repo=legal/h HTTP/1.1\r\nHost: x\r\nCookie: a=b; c=\"d\"\r\nConnection: close\r\n\r\n"),
    ("content-length-00", b"GET /badge.svg?repo=legal/h HTTP/1.1\r\nHost: x\r\nContent-Length: 00\r\n"
     b"Connection: close\r\n\r\n"),
]


@pytest.mark.parametrize("name,request_bytes", LEGAL_HEADS, ids=[h[0] for h in LEGAL_HEADS])
def test_heads_of_every_legal_shape_are_served_and_counted(server, name, request_bytes):
    out = server.raw(request_bytes)
    assert status_of(out) == 200, out[:300]
    assert server.total("legal/h") == 1


def test_pipelined_requests_are_each_answered_and_counted(server):
    one = b"GET /badge.svg?repo=legal/pipe HTTP/1.1\r\nHost: x\r\n\r\n"
    out = server.raw(one * 3 + b"GET /badge.svg?repo=legal/pipe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert out.count(b"HTTP/1.1 200 OK\r\n") == 4, out[:300]
    assert server.total("legal/pipe") == 4


def test_absolute_form_target_is_served_and_counted(server):
    out = server.raw(b"GET http://example.org/badge.svg?repo=abs/form HTTP/1.1\r\nHost: example.org\r\nConnection: close\r\n\r\n")
    assert status_of(out) == 200, out[:300]
    assert server.total("abs/form") == 1


def fields_request(n, repo):
    fields = b"".join(b"X-H%d: v\r\n" % i for i in range(n))
    return b"GET /badge.svg?repo=" + repo.encode() + b" HTTP/1.1\r\nHost: x\r\n" + fields + \
        b"Connection: close\r\n\r\n"


def cookies_request(n, repo):
    cookies = b"; ".join(b"c%d=1" % i for i in range(n))
    return b"GET /badge.svg?repo=" + repo.encode() + b" HTTP/1.1\r\nHost: x\r\nCookie: " + \
        cookies + b"\r\nConnection: close\r\n\r\n"


@pytest.mark.parametrize("make_request,served_up_to", [(fields_request, 62), (cookies_request, None)],
                         ids=["header-fields", "cookies"])
def test_every_count_of_fields_is_answered_and_never_counted_without_a_reply(make_server, make_request, served_up_to):
    """libmicrohttpd 0.9.75 stores a record per field and cookie in the connection's
    memory and builds the reply in what is left: counts up to where that memory is full,
    and past it, each get a reply, and a hit is counted exactly when it is 200."""
    server = make_server("--new-repos-per-client", "1000")
    statuses = {}
    for n in range(1, 401):
        repo = "hf/n%d" % n
        out = server.raw(make_request(n, repo), timeout=3)
        st = status_of(out)
        assert st is not None, "n=%d: no reply" % n
        assert (server.total(repo) == 1) == (st == 200), (n, out[:200])
        statuses.setdefault(st, []).append(n)
    assert set(statuses) == {200, 431}, statuses
    last_ok = max(statuses[200])
    assert min(statuses[431]) == last_ok + 1  # one edge, no gaps
    if served_up_to:
        assert last_ok == served_up_to  # 2 + 62 fields: HTTP_MAX_FIELDS


def test_hundreds_of_query_parameters_get_400_at_once(server):
    for n in (33, 100, 240, 500):
        q = "&".join("p=%d" % (i % 10) for i in range(n))
        t0 = time.monotonic()
        out = server.raw(b"GET /badge.svg?repo=qp/x&" + q.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n", timeout=5)
        assert status_of(out) == 400, (n, out[:200])
        assert b"too many query parameters" in out
        assert time.monotonic() - t0 < 2
    assert server.api("qp/x")[0] == 404


# --- start-up: descriptors, limits, files -------------------------------------------


def test_descriptor_limit_is_raised_or_reported(make_server, tmp_path):
    prlimit = shutil.which("prlimit")
    assert prlimit, "prlimit (util-linux) is missing"
    # soft 256, hard 20000: ghit raises its soft limit to fit --max-connections
    db = tmp_path / "fd.db"
    from conftest import GHIT_BIN
    p = subprocess.Popen([prlimit, "--nofile=256:20000", GHIT_BIN, "serve", "--listen", "127.0.0.1:0",
                          "--db", str(db)], stderr=subprocess.PIPE)
    try:
        line = p.stderr.readline().decode()
        assert "listening on" in line, line
        with open("/proc/%d/limits" % p.pid) as f:
            soft = int(re.search(r"Max open files\s+(\d+)", f.read()).group(1))
        assert soft >= 4096 + 64
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=20)
    # hard 300: it cannot, and says so in the log at the default level
    p = subprocess.Popen([prlimit, "--nofile=300:300", GHIT_BIN, "serve", "--listen", "127.0.0.1:0",
                          "--db", str(db)], stderr=subprocess.PIPE)
    try:
        out = b""
        while b"listening on" not in out:
            line = p.stderr.readline()
            assert line, out
            out += line
        assert re.search(rb"file descriptor limit \(300, hard 300\) is too low for "
                         rb"--max-connections 4096: serving at most 236 connections", out), out
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=20)


def test_connection_memory_must_hold_a_request_at_the_limits(tmp_path):
    from conftest import run_ghit
    p = run_ghit("serve", "--listen", "127.0.0.1:0", "--db", str(tmp_path / "m.db"),
                 "--max-header-bytes", "16384", timeout=10)
    assert p.returncode == 2
    assert "--connection-memory 16384 is too small for --max-url-bytes 2048 and --max-header-bytes 16384" in p.stderr
    assert not (tmp_path / "m.db").exists()


def service_options():
    """The serve options of contrib/ghit.service's ExecStart, without --listen and --db."""
    with open(os.path.join(REPO_ROOT, "contrib", "ghit.service")) as f:
        line = [ln for ln in f if ln.startswith("ExecStart=")][0]
    words = line.split("=", 1)[1].split()
    assert words[1] == "serve"
    opts, i = [], 2
    while i < len(words):
        if words[i] in ("--listen", "--db"):
            i += 2
            continue
        opts.append(words[i])
        i += 1
    return opts


def test_contrib_pair_limits_each_client_behind_nginx(make_server, nginx):
    """ghit as contrib/ghit.service starts it, behind nginx as contrib/nginx-proxy.conf:
    each client has its own allowance of new repos, named by X-Forwarded-For."""
    opts = service_options()
    assert "--trusted-proxy" in opts
    s = make_server(*opts)
    port = nginx(s.port)
    flood = [get_from(port, "127.0.0.2", "/badge.svg?repo=nx/flood%d" % i) for i in range(70)]
    assert flood == [200] * 60 + [429] * 10
    assert get_from(port, "127.0.0.3", "/badge.svg?repo=nx/legit") == 200
    s.stop()
    totals = db_totals(s.db)
    assert totals["nx/legit"] == 1 and sum(1 for k in totals if k.startswith("nx/flood")) == 60
