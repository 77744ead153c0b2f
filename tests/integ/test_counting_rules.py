"""Issue 10: counting that resists inflation, over real sockets.

Loopback aliases (127.0.0.2, ...) stand for other client addresses: Linux routes all of
127.0.0.0/8 to lo, so a socket bound to one connects to the server as that address.
--count camo counts only the image proxy's agent from a listed address; --dedupe counts
a client's repeats of one repo once per window, leaves the proxy alone and forgets under
a flood instead of growing; what was not counted is reported as numbers, never addresses."""

import http.client
import time

import pytest

from conftest import GHIT_BIN, db_totals, svg_title

CAMO_UA = "github-camo (876de43e)"


def fetch(server, repo, source="127.0.0.1", ua="curl/8.0", path="/badge.svg?repo=", xff=None):
    c = http.client.HTTPConnection(server.host, server.port, timeout=10,
                                   source_address=(source, 0))
    headers = {"User-Agent": ua}
    if xff:
        headers["X-Forwarded-For"] = xff
    try:
        c.request("GET", path + repo, headers=headers)
        r = c.getresponse()
        body = r.read()
        assert r.status == 200, (r.status, body)
        return svg_title(body)
    finally:
        c.close()


@pytest.fixture
def ranges(tmp_path):
    p = tmp_path / "camo-ranges.txt"
    p.write_text("# test ranges\n127.0.0.2\n127.0.0.3/32  # another\n")
    return str(p)


def test_count_camo_counts_only_the_proxy_agent_from_a_listed_address(make_server, ranges):
    s = make_server("--count", "camo", "--camo-ranges", ranges)
    assert fetch(s, "o/r", "127.0.0.2", CAMO_UA) == "hits: 1"
    assert fetch(s, "o/r", "127.0.0.3", CAMO_UA) == "hits: 2"
    # the right agent from an unlisted address, and the listed address with another agent:
    # the same badge with the current count, nothing counted
    assert fetch(s, "o/r", "127.0.0.1", CAMO_UA) == "hits: 2"
    assert fetch(s, "o/r", "127.0.0.2", "Mozilla/5.0") == "hits: 2"
    assert fetch(s, "o/r", "127.0.0.4", "github-camo") == "hits: 2"
    assert fetch(s, "new/repo", "127.0.0.1", CAMO_UA) == "hits: 0"
    assert s.total("o/r") == 2
    assert s.total("new/repo") is None
    s.stop()
    log = s.stderr()
    assert "not counted in this run: 2 not from the image proxy, 2 with its agent from an " \
           "address outside --camo-ranges, 0 repeats" in log, log
    assert "127.0.0." not in log.replace("127.0.0.1:", "")  # no client address is ever logged
    assert db_totals(s.db) == {"o/r": 2}


def test_count_camo_without_ranges_is_refused(make_server, tmp_path):
    s = make_server("--count", "camo", start=False)
    with pytest.raises(AssertionError, match="needs --camo-ranges"):
        s.start()
    bad = tmp_path / "bad.txt"
    bad.write_text("127.0.0.2\nnot-an-address\n")
    s = make_server("--count", "camo", "--camo-ranges", str(bad), start=False)
    with pytest.raises(AssertionError, match="line 2"):
        s.start()


def test_dedupe_counts_a_clients_repeats_once_per_window(make_server):
    # A window of 2 s: the fetches below are ms apart, with room for a slow machine.
    s = make_server("--dedupe", "2")
    assert fetch(s, "d/r", "127.0.0.1") == "hits: 1"
    assert fetch(s, "d/r", "127.0.0.1") == "hits: 1"  # the badge, with nothing counted
    assert fetch(s, "d/r", "127.0.0.2") == "hits: 2"  # another client
    assert fetch(s, "d/other", "127.0.0.1") == "hits: 1"  # another repo
    time.sleep(2.05)
    assert fetch(s, "d/r", "127.0.0.1") == "hits: 3"  # the window has passed
    assert fetch(s, "d/r", "127.0.0.1") == "hits: 3"
    assert "--dedupe without --camo-ranges" in s.stderr()
    s.stop()
    assert "0 not from the image proxy, 0 with its agent from an address outside " \
           "--camo-ranges, 2 repeats within --dedupe" in s.stderr()
    assert db_totals(s.db) == {"d/r": 3, "d/other": 1}


def test_behind_a_trusted_proxy_the_forwarded_client_is_the_one_deduped_and_judged(make_server, ranges):
    # The proxy at 127.0.0.1 forwards two clients; the camo rule looks at the forwarded one too.
    s = make_server("--dedupe", "60", "--trusted-proxy", "127.0.0.1")
    assert fetch(s, "fw/d", xff="203.0.113.1") == "hits: 1"
    assert fetch(s, "fw/d", xff="203.0.113.1") == "hits: 1"  # the same client again
    assert fetch(s, "fw/d", xff="203.0.113.2") == "hits: 2"  # another client behind the proxy
    assert fetch(s, "fw/d", xff="6.6.6.6, 203.0.113.2") == "hits: 2"  # a forged left part
    # what was not counted, as numbers in /metrics (never addresses)
    text = s.get("/metrics").text
    assert 'ghit_not_counted_total{reason="dedupe_repeat"} 2' in text, text
    assert "203.0.113" not in text
    s.stop()
    camo = make_server("--count", "camo", "--camo-ranges", ranges, "--trusted-proxy", "127.0.0.1")
    assert fetch(camo, "fw/c", ua=CAMO_UA, xff="127.0.0.2") == "hits: 1"  # a listed address
    assert fetch(camo, "fw/c", ua=CAMO_UA, xff="198.51.100.7") == "hits: 1"  # unlisted: not counted
    assert fetch(camo, "fw/c", ua=CAMO_UA) == "hits: 1"  # the proxy itself is not camo


def test_dedupe_leaves_the_image_proxy_alone_but_not_a_faked_agent(make_server, ranges):
    s = make_server("--dedupe", "600", "--camo-ranges", ranges)
    for i in range(5):
        assert fetch(s, "p/r", "127.0.0.2", CAMO_UA) == "hits: %d" % (i + 1)
    assert fetch(s, "p/r", "127.0.0.5", CAMO_UA) == "hits: 6"
    assert fetch(s, "p/r", "127.0.0.5", CAMO_UA) == "hits: 6"
    assert s.total("p/r") == 6


def test_dedupe_memory_is_bounded_and_forgets_under_a_flood(make_server):
    """A 64-slot table, 300 distinct clients: the first client is forgotten, not kept."""
    s = make_server("--dedupe", "3600", "--dedupe-slots", "64")
    assert fetch(s, "f/r", "127.0.0.1") == "hits: 1"
    assert fetch(s, "f/r", "127.0.0.1") == "hits: 1"
    rss = [int(ln.split()[1]) for ln in open("/proc/%d/status" % s.proc.pid)
           if ln.startswith("VmRSS")][0]
    for i in range(300):
        fetch(s, "f/r", "127.0.%d.%d" % (1 + i // 250, 1 + i % 250))
    assert s.total("f/r") == 301
    assert fetch(s, "f/r", "127.0.0.1") == "hits: 302"  # forgotten: counts again
    rss_after = [int(ln.split()[1]) for ln in open("/proc/%d/status" % s.proc.pid)
                 if ln.startswith("VmRSS")][0]
    # KiB: no growth with the clients. Not under AddressSanitizer, whose quarantine keeps
    # the memory of every closed connection by design (tests/unit/test_policy.c pins the
    # table's fixed size there too).
    if not sanitized():
        assert rss_after - rss < 4096, (rss, rss_after)


def sanitized():
    with open(GHIT_BIN, "rb") as f:
        return b"__asan_init" in f.read()


@pytest.mark.parametrize("limit", ["new-repos-per-client", "max-repos"])
def test_dedupe_forgets_a_view_that_was_refused(make_server, tmp_path, limit):
    """A view refused (429 over --new-repos-per-client, 503 over --max-repos) was not counted,
    so --dedupe must not remember it: once the repo may count, the same client's next view
    counts, and only once. Room is made with the admin routes, not by waiting out a limit."""
    token = "dedupe-Token-0123456789abcdefXYZ"
    tf = tmp_path / "admin.token"
    tf.write_text(token + "\n")
    tf.chmod(0o600)
    opt = ("--new-repos-per-client", "2") if limit == "new-repos-per-client" else ("--max-repos", "2")
    s = make_server("--trusted-proxy", "127.0.0.1/32", "--dedupe", "60", "--admin-token-file",
                    str(tf), *opt)
    xff = {"X-Forwarded-For": "9.9.9.9"}
    auth = {"Authorization": "Bearer " + token}
    assert s.get("/badge.svg?repo=dd/n1", xff).status == 200
    assert s.get("/badge.svg?repo=dd/n2", xff).status == 200
    assert s.get("/badge.svg?repo=dd/n3", xff).status == (429 if limit == "new-repos-per-client"
                                                          else 503)
    if limit == "new-repos-per-client":
        # the operator makes the repo: it is known now, and no new repo for the client
        assert s.request("PUT", "/api/v1/repos/dd/n3", auth, '{"total":0}').status == 200
    else:
        assert s.request("DELETE", "/api/v1/repos/dd/n1", auth).status == 200  # room for one
    assert fetch(s, "dd/n3", xff="9.9.9.9") == "hits: 1"
    assert fetch(s, "dd/n3", xff="9.9.9.9") == "hits: 1"  # now remembered: a repeat
    assert fetch(s, "dd/n2", xff="9.9.9.9") == "hits: 1"  # counted before: still remembered
    assert s.total("dd/n3") == 1
    text = s.get("/metrics").text
    assert 'ghit_not_counted_total{reason="dedupe_repeat"} 2' in text, text
