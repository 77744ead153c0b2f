"""Badge parameters over HTTP (issue 3): styles, label, colours, theme, views, number
formats, bad values, server-wide defaults, /count.svg and HEAD with parameters.

Everything runs against the real server. Large counts cannot be made by hitting, so the
number-format tests read /count.svg from a database prepared with Python's sqlite3
(module fixture `big`): ghit makes the file, sqlite3 sets the totals, ghit serves them.
"""

import json
import os
import re
import shutil
import sqlite3
import urllib.parse
import xml.etree.ElementTree as ET

import pytest

from conftest import SVG_NS, Server, db_totals, svg_title, utc_today

SVG_TYPE = "image/svg+xml; charset=utf-8"
STYLES = ["flat", "flat-square", "plastic", "for-the-badge", "social"]


def q(s):
    """Percent-encodes s for a query value (everything but unreserved characters)."""
    return urllib.parse.quote(s, safe="")


def parse(r):
    """The SVG root of a reply; asserts it is a well-formed SVG badge."""
    assert r.header("Content-Type") == SVG_TYPE, r
    root = ET.fromstring(r.body)
    assert root.tag == SVG_NS + "svg", root.tag
    assert root.get("role") == "img"
    title = root.find(SVG_NS + "title")
    assert title is not None
    assert root.get("aria-label") == (title.text or ""), (root.get("aria-label"), title.text)
    return root


def parts(root):
    """(label rect, message rect) of a flat, flat-square, plastic or for-the-badge badge."""
    g = root.find(SVG_NS + "g[@clip-path]")
    if g is None:
        g = root.find(SVG_NS + "g[@shape-rendering]")
    assert g is not None, ET.tostring(root)[:400]
    rects = g.findall(SVG_NS + "rect")
    return rects[0], rects[1]


def fills(r):
    """(label fill, message fill) of a 200 badge."""
    assert r.status == 200, r
    a, b = parts(parse(r))
    return a.get("fill"), b.get("fill")


def assert_error_badge(r, status=400, says=None):
    assert r.status == status, r
    root = parse(r)
    if says:
        assert says.lower() in svg_title(r.body).lower(), svg_title(r.body)
    # the error message is red (badge-maker 6's red)
    assert parts(root)[1].get("fill") == "#dd4343"
    return root


def message_of(r):
    """The message of a badge with the default label "hits"."""
    t = svg_title(r.body)
    assert t.startswith("hits: "), t
    return t[len("hits: "):]


# --- style ---------------------------------------------------------------------------


def test_every_style_renders_its_own_shape_and_counts(server):
    bodies = {}
    for n, style in enumerate(STYLES, 1):
        r = server.get("/badge.svg?repo=sty/les&style=" + style)
        assert r.status == 200, (style, r)
        root = parse(r)
        bodies[style] = r.body
        title = svg_title(r.body)
        height = root.get("height")
        if style == "flat":
            assert title == "hits: %d" % n
            assert height == "20"
            assert root.find(SVG_NS + "clipPath/" + SVG_NS + "rect").get("rx") == "3"
            assert len(root.findall(SVG_NS + "linearGradient/" + SVG_NS + "stop")) == 2
        elif style == "flat-square":
            assert title == "hits: %d" % n
            assert height == "20"
            assert root.find(SVG_NS + "g").get("shape-rendering") == "crispEdges"
            assert root.find(SVG_NS + "clipPath") is None
            assert not any(e.get("rx") for e in root.iter(SVG_NS + "rect"))
        elif style == "plastic":
            assert title == "hits: %d" % n
            assert height == "18"
            assert root.find(SVG_NS + "clipPath/" + SVG_NS + "rect").get("rx") == "4"
            assert len(root.findall(SVG_NS + "linearGradient/" + SVG_NS + "stop")) == 4
        elif style == "for-the-badge":
            assert title == "HITS: %d" % n  # upper-case label
            assert height == "28"
            assert root.find(SVG_NS + "g").get("shape-rendering") == "crispEdges"
            texts = list(root.iter(SVG_NS + "text"))
            assert texts[-1].get("font-weight") == "bold"
        elif style == "social":
            assert title == "Hits: %d" % n  # capitalised label
            assert height == "20"
            assert "a:hover" in root.find(SVG_NS + "style").text
            assert any(e.get("rx") == "2" for e in root.iter(SVG_NS + "rect"))
            assert any(e.get("fill") == "#fcfcfc" for e in root.iter(SVG_NS + "rect"))
    assert len(set(bodies.values())) == len(STYLES)
    st, j = server.api("sty/les")
    assert st == 200 and j["total"] == len(STYLES)


def test_empty_style_is_flat(server):
    r = server.get("/badge.svg?repo=e/s&style=")
    assert r.status == 200
    r2 = server.get("/count.svg?repo=e/s&style=flat")
    assert r.body == r2.body


@pytest.mark.parametrize("value", ["bogus", "flat-squared", "for the badge", "FLAT"])
def test_unknown_style_is_400_error_badge_and_counts_nothing(server, value):
    for path in ("/badge.svg", "/count.svg"):
        r = server.get("%s?repo=bad/style&style=%s" % (path, q(value)))
        assert_error_badge(r, says="style")
    assert server.api("bad/style")[0] == 404


# --- label ---------------------------------------------------------------------------


@pytest.mark.parametrize("label", ["views", "my badge", "héllo wörld ✓ 日本語", "a+b=c?", "100%"],
                         ids=["word", "space", "unicode", "query-chars", "percent"])
def test_label_is_shown_as_given(server, label):
    r = server.get("/badge.svg?repo=la/bel&label=" + q(label))
    assert r.status == 200
    root = parse(r)
    assert svg_title(r.body) == "%s: 1" % label
    assert root.get("aria-label") == "%s: 1" % label
    assert server.total("la/bel") == 1


def test_plus_in_label_is_a_space(server):
    r = server.get("/badge.svg?repo=la/bel&label=page+views")
    assert svg_title(r.body) == "page views: 1"


def test_empty_label_hides_the_label_part(server):
    r = server.get("/badge.svg?repo=la/bel&label=")
    assert r.status == 200
    root = parse(r)
    assert svg_title(r.body) == "1"
    left, right = parts(root)
    assert left.get("width") == "0"
    assert right.get("width") == root.get("width")
    # with a label the badge is wider by the label part
    r2 = server.get("/count.svg?repo=la/bel")
    root2 = parse(r2)
    l2, r2part = parts(root2)
    assert float(root2.get("width")) == float(l2.get("width")) + float(r2part.get("width"))
    assert float(root2.get("width")) > float(root.get("width"))
    assert server.total("la/bel") == 1


HOSTILE = "<b>&amp;\"x' onload=\"alert(1)\" </title><script>1</script>"


@pytest.mark.parametrize("style", STYLES)
def test_xml_special_characters_in_label_are_escaped(server, style):
    r = server.get("/badge.svg?repo=x/ml&style=%s&label=%s" % (style, q(HOSTILE)))
    assert r.status == 200
    root = parse(r)
    title = svg_title(r.body)
    shown = {"for-the-badge": HOSTILE.upper(), "social": HOSTILE[0].upper() + HOSTILE[1:]}.get(style, HOSTILE)
    assert title == "%s: 1" % shown
    # nothing injected: the only elements are the renderer's own
    names = {e.tag for e in root.iter()}
    assert not any(t.endswith("}b") or t.endswith("script") or t in ("b", "script") for t in names), names
    assert not any(k.lower() == "onload" for e in root.iter() for k in e.attrib)
    body = r.body.decode("utf-8")
    # no raw < > & " ' from the label in text or attributes
    for m in re.finditer(r">([^<]*)<", body):
        assert not re.search(r"[>\"']", m.group(1)), m.group(1)
    for m in re.finditer(r"&", body):
        assert re.match(r"&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);", body[m.start():]), body[m.start():m.start() + 20]
    for m in re.finditer(r'="([^"]*)"', body):
        assert not re.search(r"[<>']", m.group(1)), m.group(1)
    assert server.total("x/ml") == 1


def test_control_characters_dropped_and_invalid_utf8_replaced(server):
    r = server.get("/count.svg?repo=c/c&label=a%01b%1Fc%0Ad%09e")
    assert r.status == 200
    assert svg_title(r.body) == "abcde: 0"
    r = server.get("/count.svg?repo=c/c&label=a%FFb")
    assert r.status == 200
    assert svg_title(r.body) == "a\ufffdb: 0"


NUL_CASES = [("style", "flat%00junk"), ("view", "today%00x"), ("format", "plain%00x"),
             ("sep", "dot%00x"), ("theme", "auto%00x")]


@pytest.mark.parametrize("name,value", NUL_CASES, ids=["%s=%s" % c for c in NUL_CASES])
def test_nul_byte_does_not_cut_a_parameter_value(server, name, value):
    # "flat\0junk" is not "flat": a value is its whole decoded bytes, as repo= is
    assert_error_badge(server.get("/badge.svg?repo=nu/l&%s=%s" % (name, value)), says=name)
    assert server.api("nu/l")[0] == 404


def test_nul_byte_in_label_is_dropped_like_other_control_characters(server):
    r = server.get("/count.svg?repo=nu/l&label=a%00b%00c")
    assert r.status == 200
    assert svg_title(r.body) == "abc: 0"


def test_long_label_is_capped_at_a_character_boundary(server):
    r = server.get("/count.svg?repo=l/ong&label=" + "x" * 300)
    assert r.status == 200
    label = svg_title(r.body)[: -len(": 0")]
    assert label == "x" * 128
    r = server.get("/count.svg?repo=l/ong&label=" + q("é" * 100))  # 200 bytes
    assert r.status == 200
    label = svg_title(r.body)[: -len(": 0")]
    assert label == "é" * 64


# --- colours ---------------------------------------------------------------------------

COLORS = [
    ("blue", "#007ec6"),
    ("brightgreen", "#4b0"),
    ("lightgrey", "#939393"),
    ("informational", "#007ec6"),  # alias of blue
    ("critical", "#dd4343"),  # alias of red
    ("gray", "#555"),  # alias of grey
    ("f80", "#f80"),
    ("%23f80", "#f80"),
    ("FFAA00", "#ffaa00"),
    ("%23ABCDEF", "#abcdef"),
    ("rgb(10,20,30)", "rgb(10,20,30)"),
    ("rgb(10%2020%2030)", "rgb(10 20 30)"),
    ("hsl(120,50%25,50%25)", "hsl(120,50%,50%)"),
    ("rebeccapurple", "rebeccapurple"),
    ("%20blue%20", "#007ec6"),  # white space around is trimmed
]


@pytest.mark.parametrize("value,fill", COLORS, ids=[c[0] for c in COLORS])
def test_color_forms_give_the_message_fill(server, value, fill):
    r = server.get("/badge.svg?repo=co/lor&color=" + value)
    assert fills(r) == ("#555", fill)
    r = server.get("/badge.svg?repo=co/lor&colorB=" + value)
    assert fills(r) == ("#555", fill)
    assert server.total("co/lor") == 2


INVALID_COLORS = ["bogus", "12345", "%2312345", "%23ggg", "rgb(1,2)", "red%3Bstroke:blue",
                  "url(%23s)", "%22%3E%3Cscript%3E", "x" * 80, "%23" + "f" * 70]


@pytest.mark.parametrize("value", INVALID_COLORS, ids=lambda v: v[:20])
def test_invalid_color_falls_back_to_default_and_still_counts(server, value):
    r = server.get("/badge.svg?repo=co/lor&color=%s&labelColor=%s" % (value, value))
    assert r.status == 200
    assert fills(r) == ("#555", "#4c1")
    assert svg_title(r.body) == "hits: 1"
    assert server.total("co/lor") == 1


def test_empty_color_is_the_default(server):
    assert fills(server.get("/badge.svg?repo=co/lor&color=&labelColor=")) == ("#555", "#4c1")


@pytest.mark.parametrize("name", ["labelColor", "label_color", "colorA"])
def test_label_color_and_its_aliases(server, name):
    r = server.get("/badge.svg?repo=co/lor&%s=orange&color=%%23123456" % name)
    assert fills(r) == ("#ea7233", "#123456")
    r = server.get("/badge.svg?repo=co/lor&%s=abc" % name)
    assert fills(r) == ("#abc", "#4c1")
    assert server.total("co/lor") == 2


def test_colors_apply_in_for_the_badge_and_flat_square(server):
    for style in ("for-the-badge", "flat-square", "plastic"):
        r = server.get("/count.svg?repo=co/lor&style=%s&color=red&labelColor=blue" % style)
        assert fills(r) == ("#007ec6", "#dd4343"), style


# --- theme -------------------------------------------------------------------------------


@pytest.mark.parametrize("style", STYLES)
def test_theme_auto_adds_a_prefers_color_scheme_rule(server, style):
    r = server.get("/badge.svg?repo=th/eme&theme=auto&style=" + style)
    assert r.status == 200
    root = parse(r)
    css = " ".join(e.text or "" for e in root.iter(SVG_NS + "style"))
    assert "prefers-color-scheme" in css, css
    for light in ("theme=light", "theme="):
        r = server.get("/count.svg?repo=th/eme&style=%s&%s" % (style, light))
        assert b"prefers-color-scheme" not in r.body
    assert b"prefers-color-scheme" not in server.get("/count.svg?repo=th/eme&style=" + style).body
    assert server.total("th/eme") == 1


@pytest.mark.parametrize("value", ["bogus", "dark", "AUTO"])
def test_unknown_theme_is_400_and_counts_nothing(server, value):
    assert_error_badge(server.get("/badge.svg?repo=th/eme&theme=" + value), says="theme")
    assert server.api("th/eme")[0] == 404


# --- views over real hits ------------------------------------------------------------------


def test_views_over_real_hits(server):
    for _ in range(3):
        server.hit("vi/ew")
    r = server.get("/badge.svg?repo=vi/ew&view=today-total")
    assert message_of(r) == "4 / 4"
    assert message_of(server.get("/badge.svg?repo=vi/ew&view=today")) == "5"
    assert message_of(server.get("/badge.svg?repo=vi/ew&view=total")) == "6"
    assert message_of(server.get("/badge.svg?repo=vi/ew&view=")) == "7"
    st, j = server.api("vi/ew")
    assert (j["total"], j["today"]) == (7, 7)
    assert message_of(server.get("/count.svg?repo=vi/ew&view=today-total")) == "7 / 7"
    assert message_of(server.get("/count.svg?repo=vi/ew&view=today")) == "7"


# --- bad values ------------------------------------------------------------------------------

BAD = [
    ("view", "yesterday", "view"),
    ("view", "today-totals", "view"),
    ("format", "roman", "format"),
    ("format", "Short", "format"),
    ("sep", "semicolon", "sep"),
    ("sep", "%3B", "sep"),
    ("sep", "..", "sep"),
    ("style", "bogus", "style"),
    ("theme", "bogus", "theme"),
]


@pytest.mark.parametrize("name,value,says", BAD, ids=["%s=%s" % b[:2] for b in BAD])
def test_bad_parameter_value_is_400_error_badge_and_counts_nothing(server, name, value, says):
    server.hit("ba/d")
    for path in ("/badge.svg?repo=ba/d&%s=%s", "/badge.svg?%s=%s&repo=ba/d", "/count.svg?repo=ba/d&%s=%s"):
        r = server.get(path % (name, value))
        assert_error_badge(r, says=says)
    r = server.get("/badge.svg?repo=ba/dd&%s=%s&label=x" % (name, value))
    assert_error_badge(r, says=says)
    assert server.total("ba/d") == 1
    assert server.api("ba/dd")[0] == 404
    h = server.head("/badge.svg?repo=ba/d&%s=%s" % (name, value))
    assert h.status == 400 and h.body == b""
    server.stop()
    assert db_totals(server.db) == {"ba/d": 1}


# --- number formats on large counts (prepared database) -------------------------------------

BIG = {
    # repo: (total, today)
    "big/m": (1234567, 4321),
    "big/k": (1234, 0),
    "big/kk": (12345, 12),
    "big/kkk": (123456, 0),
    "big/edge": (999999, 999),
    "big/b": (3456789012, 1000),
    "big/max": (9223372036854775807, 0),
    "big/hit": (100, 7),
}


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """A server on a database whose counts were set with sqlite3; yields (server, pristine db copy)."""
    d = tmp_path_factory.mktemp("bigdb")
    s = Server(d)
    s.start()
    try:
        for repo in BIG:
            assert s.hit(repo).status == 200
    finally:
        s.stop()
    today = utc_today()
    con = sqlite3.connect(s.db)
    with con:
        for repo, (total, hits) in BIG.items():
            con.execute("UPDATE repos SET total = ? WHERE name = ?", (total, repo))
            con.execute("DELETE FROM daily WHERE repo = ?", (repo,))
            con.execute("INSERT INTO daily(repo, day, hits) VALUES (?, '2001-02-03', 5)", (repo,))
            if hits:
                con.execute("INSERT INTO daily(repo, day, hits) VALUES (?, ?, ?)", (repo, today, hits))
    con.close()
    pristine = os.path.join(str(d), "pristine.db")
    shutil.copyfile(s.db, pristine)
    s.start()
    yield s, pristine
    try:
        s.stop()
    finally:
        s.kill()


def big_message(big, query):
    s = big[0]
    r = s.get("/count.svg?" + query)
    assert r.status == 200, (query, r)
    parse(r)
    return message_of(r)


FORMATS = [
    ("repo=big/m", "1,234,567"),
    ("repo=big/m&format=grouped", "1,234,567"),
    ("repo=big/m&format=", "1,234,567"),
    ("repo=big/m&format=plain", "1234567"),
    ("repo=big/m&format=short", "1.2M"),
    ("repo=big/m&sep=comma", "1,234,567"),
    ("repo=big/m&sep=%2C", "1,234,567"),
    ("repo=big/m&sep=dot", "1.234.567"),
    ("repo=big/m&sep=.", "1.234.567"),
    ("repo=big/m&sep=space", "1 234 567"),
    ("repo=big/m&sep=+", "1 234 567"),
    ("repo=big/m&sep=%20", "1 234 567"),
    ("repo=big/m&sep=thin", "1\u2009234\u2009567"),
    ("repo=big/m&sep=%E2%80%89", "1\u2009234\u2009567"),
    ("repo=big/m&sep=apostrophe", "1'234'567"),
    ("repo=big/m&sep=%27", "1'234'567"),
    ("repo=big/m&sep=underscore", "1_234_567"),
    ("repo=big/m&sep=_", "1_234_567"),
    ("repo=big/m&sep=none", "1234567"),
    ("repo=big/m&sep=", "1234567"),
    ("repo=big/m&sep=dot&format=plain", "1234567"),
    ("repo=big/m&sep=dot&format=short", "1.2M"),
    ("repo=big/m&view=today", "4,321"),
    ("repo=big/m&view=today&format=short", "4.3k"),
    ("repo=big/m&view=today-total", "4,321 / 1,234,567"),
    ("repo=big/m&view=today-total&format=short", "4.3k / 1.2M"),
    ("repo=big/m&view=today-total&sep=dot", "4.321 / 1.234.567"),
    ("repo=big/m&view=today-total&format=plain", "4321 / 1234567"),
    ("repo=big/k&format=short", "1.2k"),
    ("repo=big/k&view=today-total", "0 / 1,234"),
    ("repo=big/kk&format=short", "12k"),
    ("repo=big/kk&view=today-total&format=short", "12 / 12k"),
    ("repo=big/kkk&format=short", "123k"),
    ("repo=big/kkk", "123,456"),
    ("repo=big/edge", "999,999"),
    ("repo=big/edge&format=short", "1M"),
    ("repo=big/edge&view=today&format=short", "999"),
    ("repo=big/b", "3,456,789,012"),
    ("repo=big/b&format=short", "3.5B"),
    ("repo=big/b&view=today-total&format=short", "1k / 3.5B"),
    ("repo=big/max", "9,223,372,036,854,775,807"),
    ("repo=big/max&format=plain", "9223372036854775807"),
    ("repo=big/max&sep=thin", "\u2009".join(["9", "223", "372", "036", "854", "775", "807"])),
    ("repo=never/seen&view=today-total&format=short", "0 / 0"),
]


@pytest.mark.parametrize("query,expected", FORMATS, ids=[f[0][5:] for f in FORMATS])
def test_number_formats_on_large_counts(big, query, expected):
    assert big_message(big, query) == expected


def test_format_and_sep_apply_to_every_style(big):
    s = big[0]
    for style in STYLES:
        r = s.get("/count.svg?repo=big/m&sep=dot&style=" + style)
        assert r.status == 200
        parse(r)
        assert svg_title(r.body).endswith(": 1.234.567"), (style, svg_title(r.body))


def test_views_after_hits_on_a_prepared_repo(big):
    s = big[0]
    # 100 in total, 7 of them today: a hit makes 101 and 8
    r = s.get("/badge.svg?repo=big/hit&view=today-total")
    assert message_of(r) == "8 / 101"
    assert message_of(s.get("/badge.svg?repo=big/hit&view=today")) == "9"
    assert message_of(s.get("/badge.svg?repo=big/hit&view=total&format=short")) == "103"
    st, j = s.api("big/hit")
    assert (j["total"], j["today"]) == (103, 10)
    assert message_of(s.get("/count.svg?repo=big/hit&view=today-total")) == "10 / 103"


def test_count_svg_does_not_count_a_large_total(big):
    s = big[0]
    for query in ("", "&style=social", "&view=today-total&format=short", "&label=x&color=red&theme=auto"):
        assert s.get("/count.svg?repo=big/m" + query).status == 200
    st, j = s.api("big/m")
    assert st == 200 and (j["total"], j["today"]) == (1234567, 4321)


# --- server-wide defaults --------------------------------------------------------------------


def test_server_wide_defaults_and_query_overrides(make_server):
    s = make_server("--style", "for-the-badge", "--label", "views", "--color", "blue",
                    "--view", "today-total", "--label-color", "red")
    r = s.get("/badge.svg?repo=x/y")
    assert r.status == 200
    root = parse(r)
    assert root.get("height") == "28"
    assert svg_title(r.body) == "VIEWS: 1 / 1"
    assert fills(r) == ("#dd4343", "#007ec6")

    r = s.get("/badge.svg?repo=x/y&style=flat&label=hits&color=green&labelColor=grey&view=total")
    root = parse(r)
    assert root.get("height") == "20"
    assert svg_title(r.body) == "hits: 2"
    assert fills(r) == ("#555", "#67ac09")

    # one parameter at a time overrides only itself
    assert svg_title(s.get("/badge.svg?repo=x/y&view=today").body) == "VIEWS: 3"
    r = s.get("/badge.svg?repo=x/y&label=seen")
    assert svg_title(r.body) == "SEEN: 4 / 4"
    assert parse(r).get("height") == "28"
    r = s.get("/badge.svg?repo=x/y&style=social")
    assert svg_title(r.body) == "Views: 5 / 5"
    assert fills(s.get("/count.svg?repo=x/y&color=orange")) == ("#dd4343", "#ea7233")
    # empty values are the server's defaults (a template's empty field), not ghit's
    r = s.get("/count.svg?repo=x/y&style=&view=&color=&labelColor=")
    assert parse(r).get("height") == "28"
    assert svg_title(r.body) == "VIEWS: 5 / 5"
    assert fills(r) == ("#dd4343", "#007ec6")
    # errors are drawn in the server's look
    r = s.get("/badge.svg?repo=x/y&view=bogus")
    assert assert_error_badge(r, says="view").get("height") == "28"
    assert s.total("x/y") == 5


def test_server_wide_number_defaults(big, make_server):
    db = big[1] + ".thin"
    shutil.copyfile(big[1], db)
    s = make_server("--sep", "thin", "--theme", "auto", "--format", "grouped",
                    "--view", "today-total", db=db)
    r = s.get("/count.svg?repo=big/m")
    assert message_of(r) == "4\u2009321 / 1\u2009234\u2009567"
    assert b"prefers-color-scheme" in r.body
    r = s.get("/count.svg?repo=big/m&sep=comma&theme=light&view=total")
    assert message_of(r) == "1,234,567"
    assert b"prefers-color-scheme" not in r.body
    assert message_of(s.get("/count.svg?repo=big/m&format=short")) == "4.3k / 1.2M"
    assert s.total("big/m") == 1234567


def test_server_wide_format_short(big, make_server):
    db = big[1] + ".short"
    shutil.copyfile(big[1], db)
    s = make_server("--format", "short", db=db)
    assert message_of(s.get("/count.svg?repo=big/b")) == "3.5B"
    assert message_of(s.get("/count.svg?repo=big/b&format=grouped")) == "3,456,789,012"
    assert message_of(s.get("/count.svg?repo=big/b&format=plain")) == "3456789012"


# --- a name given twice, a NUL in a name ---------------------------------------------------------

TWICE = [
    ("/badge.svg?repo=tw/ice&repo=tw/other", "svg", "repo given more than once"),
    ("/badge.svg?repo=tw/ice&style=flat&style=plastic", "svg", "style given more than once"),
    ("/badge.svg?repo=tw/ice&x%2By=1&x%2By=2", "svg", "a parameter is given more than once"),
    ("/count.svg?label=a&repo=tw/ice&label=b", "svg", "label given more than once"),
    ("/chart.svg?repo=tw/ice&days=7&days=30", "svg", "days given more than once"),
    ("/endpoint.json?repo=tw/ice&label=a&label=b", "endpoint", "label given more than once"),
    ("/api/v1/top?limit=1&limit=2", "json", "limit given more than once"),
    ("/api/v1/top?day=2026-12-01&day=2026-12-02", "json", "day given more than once"),
    ("/api/v1/repos/tw/ice/days?from=2026-11-01&from=2026-11-02", "json", "from given more than once"),
    ("/?repo=tw/ice&repo=tw/other", "page", "repo given more than once"),
    ("/?unknown=1&unknown=2", "page", "unknown given more than once"),  # 400, not a 404
    ("/badge.svg?repo%00junk=tw/ice", "svg", "a parameter name holds a NUL byte"),
    ("/count.svg?repo=tw/ice&style%00=plastic", "svg", "a parameter name holds a NUL byte"),
    ("/api/v1/repos/tw/ice/days?from%00x=2026-12-01", "json", "a parameter name holds a NUL byte"),
    ("/api/v1/top?limit%00=1", "json", "a parameter name holds a NUL byte"),
]


@pytest.mark.parametrize("path,kind,says", TWICE, ids=[t[0] for t in TWICE])
def test_a_name_given_twice_or_holding_a_nul_is_refused_on_every_route(server, path, kind, says):
    server.hit("tw/ice")
    r = server.get(path)
    if kind == "svg":
        assert_error_badge(r, 400, says)
    elif kind == "json":
        assert r.status == 400, r
        assert json.loads(r.body)["error"] == says
    elif kind == "endpoint":
        assert r.status == 200, r  # shields.io's format: isError in a 200
        j = json.loads(r.body)
        assert j["isError"] is True and j["message"] == says
    else:
        assert r.status == 400, r
        assert says in r.body.decode()
    assert server.total("tw/ice") == 1
    assert server.api("tw/other")[0] == 404


def test_empty_segments_of_a_query_name_nothing_and_are_not_repeats(server):
    r = server.get("/badge.svg?repo=tw/empty&&style=flat&&")
    assert r.status == 200, r
    assert server.total("tw/empty") == 1


# --- parameters never split a counter ------------------------------------------------------------


def test_parameters_never_split_a_counter(server):
    queries = [
        "", "&style=flat-square", "&style=for-the-badge", "&style=social", "&style=plastic",
        "&label=views", "&label=", "&v=2", "&v=3&cache=no", "&color=red", "&colorB=blue",
        "&labelColor=abc", "&colorA=red", "&label_color=blue", "&theme=auto", "&theme=light",
        "&view=today", "&view=today-total", "&format=short", "&format=plain", "&sep=dot",
        "&sep=thin&style=social&label=x&color=bogus",
    ]
    for i, extra in enumerate(queries, 1):
        r = server.get("/badge.svg?repo=one/counter" + extra)
        assert r.status == 200, (extra, r)
        parse(r)
    st, j = server.api("one/counter")
    assert st == 200 and (j["total"], j["today"]) == (len(queries), len(queries))
    assert message_of(server.get("/count.svg?repo=one/counter")) == str(len(queries))
    server.stop()
    assert db_totals(server.db) == {"one/counter": len(queries)}


# --- /count.svg ----------------------------------------------------------------------------------


def test_count_svg_takes_the_same_parameters_and_does_not_count(server):
    for _ in range(3):
        server.hit("pe/ek")
    cases = [
        ("style=for-the-badge", "HITS: 3"),
        ("style=social&label=views", "Views: 3"),
        ("label=seen&view=today-total", "seen: 3 / 3"),
        ("view=today&format=short", "hits: 3"),
        ("label=&theme=auto", "3"),
    ]
    for query, title in cases:
        c = server.get("/count.svg?repo=pe/ek&" + query)
        assert c.status == 200
        parse(c)
        assert svg_title(c.body) == title, query
    # the badge it shows is byte for byte what a hit with the same parameters shows, one less
    q1 = "style=plastic&label=x&color=rgb(1,2,3)&labelColor=f00&theme=auto&view=today-total&sep=dot"
    c = server.get("/count.svg?repo=pe/ek&" + q1)
    assert fills(c) == ("#f00", "rgb(1,2,3)")
    assert server.total("pe/ek") == 3
    h = server.get("/badge.svg?repo=pe/ek&" + q1)
    assert svg_title(h.body) == "x: 4 / 4"
    assert server.get("/count.svg?repo=pe/ek&" + q1).body == h.body
    assert server.total("pe/ek") == 4


def test_count_svg_unknown_repo_is_zero_with_parameters(server):
    for query, title in [("", "hits: 0"), ("&view=today-total", "hits: 0 / 0"),
                         ("&style=for-the-badge&label=n", "N: 0"), ("&format=short&view=today", "hits: 0")]:
        r = server.get("/count.svg?repo=no/body" + query)
        assert r.status == 200
        parse(r)
        assert svg_title(r.body) == title
    assert server.api("no/body")[0] == 404
    server.stop()
    assert db_totals(server.db) == {}


# --- HEAD with parameters ------------------------------------------------------------------------


HEADERS = ("Content-Type", "Content-Length", "ETag", "Cache-Control", "Expires", "X-Content-Type-Options")


@pytest.mark.parametrize("query", ["style=for-the-badge&label=x&view=today-total",
                                   "style=social&theme=auto&format=short&color=blue",
                                   "label=" + q("<é>") + "&sep=thin&labelColor=abc"])
def test_head_with_parameters_has_get_headers_and_no_body(server, query):
    url = "/badge.svg?repo=he/ad&" + query
    for _ in range(2):
        g = server.get(url)
    assert g.status == 200
    h = server.head(url)
    assert h.status == 200
    assert h.body == b""
    c = server.get("/count.svg?repo=he/ad&" + query)  # the same badge, not counted
    assert c.body == g.body
    for name in HEADERS:
        assert h.header(name) is not None, name
        assert h.header(name) == g.header(name), name
        assert h.header(name) == c.header(name), name
    assert int(h.header("Content-Length")) == len(g.body)
    assert server.total("he/ad") == 2
