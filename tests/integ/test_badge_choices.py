"""The badge builder's choices over HTTP: the page's <select>s list what a badge URL takes.

src/badge.c holds one table of each look parameter's choices; the server writes them into
the page (each <select>'s data-choices) and builds the refusal of any other value from them.
Here the page's lists are read as served and held against the badge route itself: the
refusal's list, in the same order (ghit's default first), and every listed value taken.
"""

import html
import re

from conftest import svg_title

SELECTS = ["style", "view", "format", "sep", "theme"]


def page_choices(server):
    """{name: [choices]} of the builder's <select>s as the page is served."""
    r = server.get("/")
    assert r.status == 200, r
    found = {}
    for m in re.finditer(r'<select id="b-([^"]+)" name="([^"]+)" data-choices="([^"]*)">',
                         r.text):
        assert m.group(1) == m.group(2), m.group(0)
        found[m.group(2)] = html.unescape(m.group(3)).split(" ")
    return found


def refused_choices(server, name):
    """The choices that the refusal of a bad value of name lists: "NAME must be A, B or C"."""
    r = server.get("/count.svg?repo=choices/none&%s=no-such-choice" % name)
    assert r.status == 400, r
    title = svg_title(r.body)
    m = re.fullmatch(r"hits: %s must be (.*) or ([^ ,]+)" % name, title)
    assert m, title
    return m.group(1).split(", ") + [m.group(2)]


def test_page_lists_the_choices_the_badge_route_takes(server):
    choices = page_choices(server)
    assert sorted(choices) == sorted(SELECTS)
    assert choices["style"] == ["flat", "flat-square", "plastic", "for-the-badge", "social"]
    for name in SELECTS:
        assert choices[name] == refused_choices(server, name), name
        for value in choices[name]:
            r = server.get("/count.svg?repo=choices/none&%s=%s" % (name, value))
            assert r.status == 200, (name, value, r)


def test_server_defaults_do_not_change_the_choices(make_server):
    s = make_server("--style", "social", "--theme", "auto", "--sep", "thin")
    choices = page_choices(s)
    assert choices["style"][0] == "flat" and "social" in choices["style"]
    assert choices["theme"] == ["light", "auto"] and "thin" in choices["sep"]
    page = s.get("/").text
    assert 'data-style="social"' in page and 'data-theme="auto"' in page
    assert 'data-sep="thin"' in page
