"""Issue 9's /metrics: parsed by Debian's python3-prometheus-client, counters
checked to move by exactly what was done, and --metrics-listen."""

import os
import socket
import sqlite3
import time

from prometheus_client.parser import text_string_to_metric_families

from conftest import free_port, status_of


def scrape(server, path="/metrics"):
    r = server.get(path)
    assert r.status == 200, r
    assert r.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8"
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    return families


def value(families, family, sample=None, **labels):
    """The value of the sample named SAMPLE (default: the family's) with LABELS, or 0.

    A family with labels appears with its first sample, as is usual in Prometheus."""
    if family not in families:
        return 0
    f = families[family]
    name = sample or (family + "_total" if f.type == "counter" else family)
    for s in f.samples:
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return 0


def test_metrics_follow_prometheus_conventions(server):
    server.hit("conv/a")
    wait_for(server, lambda f: value(f, "ghit_flush_hits") == 1)
    fams = scrape(server)
    for name, f in fams.items():
        assert name.startswith("ghit_"), name
        assert f.documentation, "%s has no help" % name
    assert fams["ghit_hits"].type == "counter"
    assert fams["ghit_http_requests"].type == "counter"
    assert fams["ghit_requests_refused"].type == "counter"
    assert fams["ghit_flush_duration_seconds"].type == "histogram"
    for gauge in ("ghit_pending_hits", "ghit_repos", "ghit_open_connections",
                  "ghit_start_time_seconds", "ghit_build_info"):
        assert fams[gauge].type == "gauge", gauge
    assert value(fams, "ghit_build_info", version="0.1.0") == 1
    assert value(fams, "ghit_start_time_seconds") > 1.7e9
    for limit in ("max_url_bytes", "max_header_bytes", "request_body", "max_params",
                  "max_repos", "request_timeout"):
        assert ("ghit_requests_refused_total", limit) in [
            (s.name, s.labels.get("limit")) for s in fams["ghit_requests_refused"].samples]


def wait_for(server, pred):
    """Scrapes until PRED(families) holds (at most 10 s); returns the last families."""
    deadline = time.monotonic() + 10
    while True:
        fams = scrape(server)
        if pred(fams) or time.monotonic() > deadline:
            return fams
        time.sleep(0.05)


def test_counters_move_by_exactly_the_hits_made(make_server):
    s = make_server(flush_interval=600000)  # every hit stays pending
    before = scrape(s)
    for i in range(7):
        assert s.hit("metrics/a").status == 200
    for i in range(5):
        assert s.hit("metrics/b").status == 200
    assert s.get("/count.svg?repo=metrics/a").status == 200  # not a hit
    assert s.hit("bad").status == 400
    after = scrape(s)
    assert value(after, "ghit_hits") - value(before, "ghit_hits") == 12
    assert value(after, "ghit_http_requests", route="badge", status="200") - \
        value(before, "ghit_http_requests", route="badge", status="200") == 12
    assert value(after, "ghit_http_requests", route="badge", status="400") == 1
    assert value(after, "ghit_http_requests", route="count", status="200") == 1
    assert value(after, "ghit_http_requests", route="metrics", status="200") == 1  # the first scrape
    assert value(after, "ghit_pending_hits") == 12
    assert value(after, "ghit_repos") == 2
    assert value(after, "ghit_open_connections") >= 1


def test_flush_metrics_count_rows_and_hits_written(make_server):
    s = make_server(flush_interval=100)
    for _ in range(4):
        s.hit("flush/a")
    s.hit("flush/b")
    # Written hits are counted a moment before they leave the pending ones: wait for both.
    fams = wait_for(s, lambda f: value(f, "ghit_flush_hits") == 5
                    and value(f, "ghit_pending_hits") == 0)
    assert value(fams, "ghit_flush_hits") == 5
    assert value(fams, "ghit_flush_rows") >= 2
    assert value(fams, "ghit_pending_hits") == 0
    assert value(fams, "ghit_flush_backlog_rows") == 0
    count = value(fams, "ghit_flush_duration_seconds", "ghit_flush_duration_seconds_count")
    inf = value(fams, "ghit_flush_duration_seconds", "ghit_flush_duration_seconds_bucket", le="+Inf")
    assert count >= 1 and inf == count
    assert value(fams, "ghit_flush_duration_seconds", "ghit_flush_duration_seconds_sum") > 0


def test_journal_metrics_follow_a_merge_after_the_last_hit(make_server):
    # The merger folds the journal a moment after the flushes that wrote it; with no hit
    # after that, the figures must still move (they were read only after a write).
    s = make_server(flush_interval=100)
    for i in range(40):
        assert s.hit("merge/r%d" % i).status == 200
    fams = wait_for(s, lambda f: value(f, "ghit_flush_hits") == 40)
    assert value(fams, "ghit_flush_hits") == 40
    deadline = time.monotonic() + 20  # a small backlog is merged after 2 s
    while True:
        fams = scrape(s)
        merged = value(fams, "ghit_journal_merged_rows")
        if merged >= 40 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert merged == 40
    assert value(fams, "ghit_journal_backlog_rows") == 0
    assert value(fams, "ghit_journal_merges") >= 1
    assert value(fams, "ghit_hits") == 40  # no hit made it move


def test_refusals_are_counted_by_limit(server):
    before = scrape(server)
    long_target = b"GET /badge.svg?repo=a/b&v=" + b"x" * 3000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    assert status_of(server.raw(long_target, read_until_close=False)) == 414
    params = "&".join("p%d=1" % i for i in range(40))
    assert server.get("/badge.svg?repo=a/b&" + params).status == 400
    after = scrape(server)
    for limit, n in (("max_url_bytes", 1), ("max_params", 1), ("max_header_bytes", 0)):
        assert value(after, "ghit_requests_refused", limit=limit) - \
            value(before, "ghit_requests_refused", limit=limit) == n, limit


def test_store_failures_are_counted_by_cause(make_server):
    s = make_server(flush_interval=100)
    s.hit("lock/a")
    wait_for(s, lambda f: value(f, "ghit_flush_hits") == 1)
    # Where flushes go; the idle check may hold its lock a moment.
    con = sqlite3.connect(s.db + "-flushes", timeout=5)
    con.execute("BEGIN IMMEDIATE")  # the flusher now finds the database locked
    try:
        s.hit("lock/a")
        # The idle check can fail first (busy too): wait for the hit's own failed flush.
        fams = wait_for(s, lambda f: value(f, "ghit_flush_backlog_rows") == 1
                        and value(f, "ghit_store_failures", cause="busy") >= 1)
        assert value(fams, "ghit_store_failures", cause="busy") >= 1
        assert value(fams, "ghit_flush_backlog_rows") == 1
        assert value(fams, "ghit_pending_hits") == 1
    finally:
        con.rollback()
        con.close()


def test_metrics_listen_serves_metrics_apart(make_server):
    port = free_port()
    s = make_server("--metrics-listen", "127.0.0.1:%d" % port)
    assert "metrics on http://127.0.0.1:%d/metrics" % port in s.stderr()
    s.hit("apart/a")
    assert s.get("/metrics").status == 404  # not on the public address
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/metrics")
    r = c.getresponse()
    body = r.read().decode()
    assert r.status == 200
    fams = {f.name: f for f in text_string_to_metric_families(body)}
    assert value(fams, "ghit_hits") == 1
    c.request("GET", "/badge.svg?repo=apart/a")
    r = c.getresponse()
    r.read()
    assert r.status == 404  # the metrics address serves nothing else
    c.close()
    assert s.total("apart/a") == 1


def test_metrics_listen_holds_few_connections(make_server):
    # A scraper needs one or two: the metrics address is not a second
    # --max-connections of descriptors beside the public one's (32 at most).
    port = free_port()
    s = make_server("--metrics-listen", "127.0.0.1:%d" % port)
    fds = lambda: len(os.listdir("/proc/%d/fd" % s.proc.pid))
    before = fds()
    idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(100)]
    try:
        time.sleep(0.5)
        assert fds() - before <= 32, fds() - before
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/metrics")  # a fresh scrape still gets in: the idlest one goes
        assert c.getresponse().status == 200
        c.close()
        assert s.hit("pub/lic").status == 200  # the public address is untouched
    finally:
        for k in idle:
            k.close()


def test_metrics_listen_refuses_a_bad_address(tmp_path):
    from conftest import run_ghit
    p = run_ghit("serve", "--db", str(tmp_path / "g.db"), "--metrics-listen", "nohost")
    assert p.returncode == 2 and "--metrics-listen" in p.stderr
    assert not (tmp_path / "g.db").exists()
