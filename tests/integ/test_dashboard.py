"""Issue 9's dashboard over plain HTTP: the page and its files, the lookup
without JavaScript (a plain form GET), escaping, headers, --dashboard off.
What a browser does with the page is tests/browser/dashboard.test.mjs."""

import os
import re

import pytest

from conftest import REPO_ROOT, run_ghit

WEB = os.path.join(REPO_ROOT, "web")


def test_page_and_files_are_the_files_of_web(server):
    for path, name, ctype in (("/app.css", "app.css", "text/css; charset=utf-8"),
                              ("/app.js", "app.js", "text/javascript; charset=utf-8")):
        r = server.get(path)
        assert r.status == 200 and r.header("Content-Type") == ctype
        assert r.body == open(os.path.join(WEB, name), "rb").read()
    r = server.get("/")
    assert r.status == 200 and r.header("Content-Type") == "text/html; charset=utf-8"
    assert b"{{" not in r.body  # every mark filled
    csp = r.header("Content-Security-Policy")
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    for reply in (r, server.get("/app.js")):
        assert reply.header("Set-Cookie") is None


def test_no_file_names_another_host():
    for name in os.listdir(WEB):
        text = open(os.path.join(WEB, name), encoding="utf-8").read()
        assert not re.search(r"(?i)\b(https?:)?//[a-z0-9]", text.replace("://${", "")), name


def test_lookup_works_without_javascript(server):
    for _ in range(3):
        server.hit("look/up")
    r = server.get("/?repo=Look/Up")
    assert r.status == 200
    html = r.text
    assert '<form id="lookup" action="/" method="get">' in html
    assert '<dd id="result-total">3</dd>' in html
    assert '<dd id="result-today">3</dd>' in html
    assert re.search(r'<dd id="result-first">\d{4}-\d\d-\d\d</dd>', html)
    assert 'src="/chart.svg?repo=look/up&amp;days=30&amp;theme=auto"' in html
    assert 'href="/api/v1/repos/look/up/days"' in html
    assert '<div id="lookup-result" >' in html and 'id="lookup-error" class="error" role="alert" hidden' in html
    assert server.total("look/up") == 3  # looking counted nothing


def test_lookup_of_unknown_and_invalid_repos_says_why(server):
    r = server.get("/?repo=not/there")
    assert r.status == 404 and "unknown repo" in r.text
    assert '<div id="lookup-result" hidden>' in r.text
    r = server.get("/?repo=%3Cscript%3Ealert(1)%3C/script%3E")
    assert r.status == 400
    assert "<script>alert" not in r.text
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in r.text


def test_dashboard_off_keeps_the_api(make_server):
    s = make_server("--dashboard", "off")
    s.hit("off/a")
    r = s.get("/")
    assert r.status == 200 and r.header("Content-Type").startswith("text/plain")
    assert s.get("/app.js").status == 404
    assert s.get("/api/v1/top").status == 200
    assert s.get("/chart.svg?repo=off/a").status == 200
    assert s.total("off/a") == 1


def test_dashboard_option_is_checked():
    p = run_ghit("serve", "--dashboard", "maybe")
    assert p.returncode == 2 and "on or off" in p.stderr
