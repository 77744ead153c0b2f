"""The chart's y axis (/chart.svg): every label inside the image, and a scale whose top is a
round value close above the busiest day, for counts from 0 up to the largest a day can hold.

Real server, real sockets, real SQLite file: the days are set with the admin PUT (issue 10),
the chart is fetched and its SVG parsed. Before the fix a top of 2,000,000 was drawn as
",000,000" (right-aligned at x=46, it ran off the left edge) and a busiest day of 201 got a
scale of 500, its bar filling less than half the plot."""

import datetime
import json
import time
import xml.etree.ElementTree as ET
from fractions import Fraction

import pytest

from conftest import SVG_NS

TOKEN = "chart-axis-Token-0123456789abcdef"
MAX_COUNT = 9223372036854775807  # COUNT_MAX (src/count.h): what a day's count stops at

# Upper bounds of a character's advance width, in em. The chart sets its text in
# "11px Verdana,Geneva,DejaVu Sans,sans-serif". In Verdana (the widths badges are measured
# with, src/badge_font_data.c) and in DejaVu Sans every digit is 0.636 em, "," and "." are
# 0.364 em (Verdana) or 0.318 em (DejaVu Sans), and no Basic Latin letter or space is wider
# than "W" at 0.989 em. So 0.7 em per digit, 0.4 em per "," or "." and 1 em for anything
# else bound the width of a label from above.
FONT_PX = 11
EM_DIGIT, EM_POINT, EM_OTHER = 0.7, 0.4, 1.0

# The letters of numfmt's short style (src/numfmt.c): 1.2k, 3.4M, 5B, 6T, 7P, 8E.
UNITS = {"k": 10**3, "M": 10**6, "B": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}


def day(offset):
    """The UTC day OFFSET days from today, YYYY-MM-DD."""
    d = datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=offset)
    return d.isoformat()


def width_bound(text):
    """An upper bound of TEXT's width in px (see EM_DIGIT above)."""
    em = sum(EM_DIGIT if c.isdigit() else EM_POINT if c in ",." else EM_OTHER for c in text)
    return em * FONT_PX


def label_value(text):
    """The number an axis label stands for: "1,500" is 1500, "2.5" 5/2, "1.25M" 1,250,000."""
    s = text.replace(",", "")
    unit = UNITS.get(s[-1:], 1)
    if unit != 1:
        s = s[:-1]
    return Fraction(s) * unit


def is_round(v):
    """Whether v is 1, 2, 2.5 or 5 times a power of ten (a value the scale may stop at)."""
    p = 1
    while p * 10 <= v:
        p *= 10
    return v in (p, 2 * p, Fraction(5, 2) * p, 5 * p)


@pytest.fixture
def admin(make_server, tmp_path):
    p = tmp_path / "admin.token"
    p.write_text(TOKEN + "\n")
    p.chmod(0o600)
    return make_server("--admin-token-file", str(p))


def set_days(s, repo, counts):
    """Gives repo the hits COUNTS on the days before today (the last on yesterday): past days,
    so that a UTC midnight between the PUT and the chart moves none of them out of range."""
    days = {day(i - len(counts)): n for i, n in enumerate(counts)}
    body = json.dumps({"total": min(sum(counts), MAX_COUNT), "days": days})
    r = s.request("PUT", "/api/v1/repos/" + repo,
                  {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"}, body)
    assert r.status == 200, r


def axis(s, repo, total):
    """Fetches repo's 7-day chart once it shows TOTAL hits (past days are drawn from the store,
    where the set days arrive with the next flush); returns (root, labels, plot) where labels
    are the y axis's (text, x, y) from the bottom up and plot is (left, top, bottom) of the
    plot box."""
    deadline = time.monotonic() + 10
    while True:
        r = s.get("/chart.svg?repo=%s&days=7" % repo)
        assert r.status == 200, r
        root = ET.fromstring(r.body)  # well-formed, whatever the numbers
        assert root.tag == SVG_NS + "svg"
        title = root.find(SVG_NS + "title").text
        if ": {:,} hit".format(total) in title:
            break
        assert time.monotonic() < deadline, "the chart never showed %d hits: %s" % (total, title)
        time.sleep(0.05)
    assert (root.get("width"), root.get("height")) == ("480", "160")
    lines = [ln for ln in root.iter(SVG_NS + "line") if ln.get("class") in ("ax", "gr")]
    assert len(lines) == 3, r.body
    left = float(lines[0].get("x1"))
    ys = sorted(float(ln.get("y1")) for ln in lines)
    labels = [(t.text, float(t.get("x")), float(t.get("y"))) for t in root.iter(SVG_NS + "text")
              if t.get("text-anchor") == "end" and float(t.get("x")) < left]
    labels.sort(key=lambda t: -t[2])
    assert len(labels) == 3, r.body
    return root, labels, (left, ys[0], ys[-1])


CASES = [
    ("zero/a", []),
    ("one/a", [1]),
    ("seven/a", [0, 3, 7]),
    ("just/above", [201]),  # was a scale of 500: its bar at 40 % of the plot
    ("quarter/m", [250000]),  # was a scale of 500,000, its labels cut
    ("c/m12", [1200000, 3]),  # was ",000,000" at the top
    ("tera/a", [10**12, 17]),
    ("max/a", [MAX_COUNT]),
    ("max/b", [MAX_COUNT - 8, 7, 1]),
]


@pytest.mark.parametrize("repo,counts", CASES, ids=[c[0] for c in CASES])
def test_axis_labels_fit_and_the_top_is_close_above_the_busiest_day(admin, repo, counts):
    if counts:
        set_days(admin, repo, counts)
    root, labels, (left, top_y, bottom_y) = axis(admin, repo, min(sum(counts), MAX_COUNT))
    for t in root.iter(SVG_NS + "text"):
        x, w = float(t.get("x")), width_bound(t.text)
        start = {"end": x - w, "middle": x - w / 2}.get(t.get("text-anchor"), x)
        assert start >= 0, "%r starts at x=%.1f, left of the image" % (t.text, start)
    for text, x, _ in labels:
        assert x <= left, "%r ends right of the plot's left edge" % text
    values = [label_value(text) for text, _, _ in labels]
    top = values[2]
    assert values[0] == 0 and values[1] == top / 2, labels
    assert is_round(top), labels
    busiest = max(counts, default=0)
    plot_h = bottom_y - top_y
    bars = [float(b.get("height")) for b in root.iter(SVG_NS + "rect")
            if b.find(SVG_NS + "title") is not None]
    assert len(bars) == 7
    if busiest == 0:
        assert top > 0 and max(bars) == 0
        return
    assert busiest <= top <= Fraction(5, 2) * busiest, labels
    assert top <= 2 * busiest, "steps of 1, 2, 2.5, 5: the next round value is under twice"
    if is_round(busiest) and busiest >= 2:  # 1 gets a scale of 2: no half hits
        assert top == busiest, "a busiest day on a round value fills the plot"
    assert max(bars) >= 0.4 * plot_h
    assert abs(max(bars) - plot_h * busiest / top) <= 0.01, (bars, plot_h, top)
