"""Issue 10: ghit export and ghit import, JSON Lines and CSV, on real SQLite files.

Round trips are byte-exact, bad input is refused with its line number and writes
nothing, merge adds and --replace replaces, an export is a snapshot while a server
writes, and an import never writes beside a running server."""

import json
import subprocess

import pytest

from conftest import GHIT_BIN, db_rows, run_ghit, svg_title

LINES = [
    {"repo": "a-owner/first", "total": 12, "first_day": "2024-02-28",
     "days": {"2024-02-28": 2, "2024-02-29": 3, "2026-01-01": 1}},
    {"repo": "b/carried-over", "total": 90000, "first_day": "2019-05-01", "days": {}},
    {"repo": "b/zero", "total": 0, "first_day": "2026-11-01", "days": {}},
]


def jsonl(objs):
    return "".join(json.dumps(o, separators=(",", ":")) + "\n" for o in objs)


def ghit_import(db, text, *args):
    return run_ghit("import", "--db", str(db), *args, input=text)


def export(db, *args):
    p = run_ghit("export", "--db", str(db), *args)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_export_import_export_gives_identical_bytes(make_server, tmp_path):
    s = make_server()
    for repo in ("Zed/last", "a/b", "a/b", "mid/dle"):
        s.hit(repo)
    s.stop()
    p = ghit_import(s.db, jsonl(LINES))
    assert p.returncode == 0, p.stderr
    assert "imported 3 repos, 90012 hits" in p.stdout
    first = export(s.db)
    lines = first.splitlines()
    assert [json.loads(ln)["repo"] for ln in lines] == sorted(json.loads(ln)["repo"] for ln in lines)
    assert json.loads(lines[0]) == LINES[0]
    assert len(lines) == 6
    p = ghit_import(tmp_path / "empty.db", first)
    assert p.returncode == 0, p.stderr
    assert export(tmp_path / "empty.db") == first
    # and CSV, whose extra row keeps the hits that have no day
    csv = export(s.db, "--format", "csv")
    assert csv.splitlines()[0] == "repo,day,hits"
    assert "b/carried-over,,90000" in csv.splitlines()
    assert "a-owner/first,2024-02-29,3" in csv.splitlines()
    p = ghit_import(tmp_path / "csv.db", csv, "--format", "csv")
    assert p.returncode == 0, p.stderr
    assert export(tmp_path / "csv.db", "--format", "csv") == csv


def test_imported_counts_show_in_the_badges(make_server, tmp_path):
    db = tmp_path / "ghit.db"
    assert ghit_import(db, jsonl(LINES)).returncode == 0
    s = make_server(db=db)
    assert svg_title(s.hit("b/carried-over").body) == "hits: 90,001"
    assert s.api("a-owner/first")[1]["first_seen"] == "2024-02-28"


def test_merge_adds_and_replace_replaces(tmp_path):
    db = tmp_path / "m.db"
    assert ghit_import(db, jsonl(LINES)).returncode == 0
    more = [{"repo": "A-Owner/First", "total": 5, "days": {"2024-02-29": 1, "2023-01-01": 4}}]
    assert ghit_import(db, jsonl(more)).returncode == 0
    row = json.loads(export(db).splitlines()[0])
    assert row == {"repo": "a-owner/first", "total": 17, "first_day": "2023-01-01",
                   "days": {"2023-01-01": 4, "2024-02-28": 2, "2024-02-29": 4, "2026-01-01": 1}}
    p = ghit_import(db, jsonl(more), "--replace")
    assert p.returncode == 0 and "imported 1 repos, 5 hits" in p.stdout
    row = json.loads(export(db).splitlines()[0])
    assert row == {"repo": "a-owner/first", "total": 5, "first_day": "2023-01-01",
                   "days": {"2023-01-01": 4, "2024-02-29": 1}}
    assert len(export(db).splitlines()) == 3  # the other repos are kept


BAD = [
    ('{"repo":"a/b","total":1}\nnot json\n', 2, "expected a JSON object"),
    ('{"repo":"a/b","total":1}\n{"repo":"c/d","total":-3}\n', 2, "negative"),
    ('{"repo":"a/b","total":1}\n\n{"repo":"A/B","total":2}\n', 3, "a/b is on line 1 too"),
    ('{"repo":"a/b","total":1,"days":{"2026-13-01":1}}\n', 1, "not a date"),
    ('{"repo":"a/b","total":1,"days":{"2026-01-01":5}}\n', 1, "more than"),
    # A day of no hits is dropped, but not before it was seen twice.
    ('{"repo":"a/b","total":3,"days":{"2026-01-01":0,"2026-01-01":3}}\n', 1, "a day appears twice"),
    ('{"repo":"a/../b","total":1}\n', 1, "name"),
    ('{"total":1}\n', 1, '"repo" is missing'),
    ('{"repo":"a/b","total":1}\n{"repo":"f/d","total":10,"days":{"2099-06-01":4}}\n', 2,
     '"days" holds a day after today (UTC)'),
    ('{"repo":"f/d","total":10,"first_day":"2099-01-01"}\n', 1, '"first_day" is after today (UTC)'),
]


@pytest.mark.parametrize("text,line,why", BAD, ids=[b[2] for b in BAD])
def test_a_bad_line_is_reported_and_nothing_is_imported(tmp_path, text, line, why):
    db = tmp_path / "bad.db"
    assert ghit_import(db, jsonl(LINES)).returncode == 0
    before = export(db)
    p = ghit_import(db, text)
    assert p.returncode == 1
    assert "line %d: " % line in p.stderr and why in p.stderr, p.stderr
    assert "nothing was imported" in p.stderr
    assert export(db) == before
    assert not (tmp_path / "new.db").exists()
    assert ghit_import(tmp_path / "new.db", text).returncode == 1
    assert not (tmp_path / "new.db").exists()


def test_a_byte_order_mark_before_the_first_line_is_skipped(tmp_path):
    # Spreadsheets save UTF-8 CSV with a byte order mark; a header after it is still a header.
    p = ghit_import(tmp_path / "c.db", "\ufeffrepo,day,hits\na/b,2026-01-01,2\n", "--format", "csv")
    assert p.returncode == 0, p.stderr
    p = ghit_import(tmp_path / "j.db", "\ufeff" + jsonl(LINES))
    assert p.returncode == 0, p.stderr
    assert export(tmp_path / "c.db", "--format", "csv") == "repo,day,hits\na/b,2026-01-01,2\n"
    assert ghit_import(tmp_path / "plain.db", jsonl(LINES)).returncode == 0
    assert export(tmp_path / "j.db") == export(tmp_path / "plain.db")
    # Only there: inside the input it is a bad repo name.
    p = ghit_import(tmp_path / "c.db", "a/b,2026-01-01,1\n\ufeffc/d,2026-01-01,1\n", "--format", "csv")
    assert p.returncode == 1 and "line 2:" in p.stderr, p.stderr


def test_a_good_import_logs_nothing(tmp_path):
    # An import closes its store as soon as it has written, and so stops the journal's merger,
    # sometimes while the merger is still making its statements. That stop interrupts them and
    # is no failure; it used to log "error: store: merging the journal: interrupted" (or, under
    # ASan, "vtable constructor failed: ghit_deltas") after a good import, about one pair in 25.
    most = 2**63 - 1
    for i in range(100):
        db = tmp_path / ("q%d.db" % i)
        for total in (most, 5):
            p = ghit_import(db, jsonl([{"repo": "a/b", "total": total,
                                        "days": {"2026-11-01": total}}]))
            assert p.returncode == 0 and p.stderr == "", (i, p.stderr)
        row = json.loads(export(db))
        assert row["total"] == most and row["days"] == {"2026-11-01": most}  # counts stop there


def test_bad_csv_rows_are_refused(tmp_path):
    db = tmp_path / "c.db"
    p = ghit_import(db, "repo,day,hits\na/b,2026-01-01,1\na/b,2026-01-01,2\n", "--format", "csv")
    assert p.returncode == 1 and "line 3: a/b has a row for this day on line 2 too" in p.stderr
    p = ghit_import(db, "a/b,2026-01-01,x\n", "--format", "csv")
    assert p.returncode == 1 and "line 1:" in p.stderr
    p = ghit_import(db, "a/b,2026-01-01,1\nf/d,2099-06-01,4\n", "--format", "csv")
    assert p.returncode == 1, p.stderr
    assert "line 2: the day is after today (UTC)" in p.stderr, p.stderr
    assert not db.exists()


def test_import_is_refused_while_a_server_runs_and_export_is_a_snapshot(server):
    for _ in range(3):
        server.hit("live/repo")
    p = ghit_import(server.db, jsonl(LINES))
    assert p.returncode == 1
    assert "a ghit server runs on" in p.stderr
    assert server.total("b/carried-over") is None
    import time
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        out = export(server.db)
        if out:
            break
        time.sleep(0.05)
    row = json.loads(out.splitlines()[0])
    assert row["repo"] == "live/repo" and row["total"] == 3
    # The merger folds the journal into the tables within a few seconds (doc/design.md).
    deadline = time.monotonic() + 10
    while db_rows(server.db, "SELECT total FROM repos") != [(3,)]:
        assert time.monotonic() < deadline, db_rows(server.db, "SELECT total FROM repos")
        time.sleep(0.1)


@pytest.mark.parametrize("args", [["export"], ["export", "--db", "x.db", "--format", "xml"],
                                  ["import"], ["import", "--db", "x.db", "--format", "tsv"],
                                  ["import", "--db", "x.db", "--replace=yes"]])
def test_bad_command_lines_exit_2(tmp_path, args):
    p = run_ghit(*args, cwd=tmp_path, input="")
    assert p.returncode == 2, p.stderr
    assert not (tmp_path / "x.db").exists()


def test_export_of_a_missing_store_fails(tmp_path):
    p = run_ghit("export", "--db", str(tmp_path / "nope.db"))
    assert p.returncode == 1 and p.stderr
    assert not (tmp_path / "nope.db").exists()


def test_an_export_into_a_closed_pipe_says_so_and_stops(tmp_path):
    # A reader that leaves (ghit export | head) closes the pipe: the export is
    # not killed by SIGPIPE (which would also end a Redis command mid-write),
    # it stops writing and says why, exit 1.
    db = tmp_path / "many.db"
    many = [{"repo": "pipe/r%05d" % i, "total": i + 1, "first_day": "2026-01-01",
             "days": {"2026-01-01": i + 1}} for i in range(5000)]
    assert ghit_import(db, jsonl(many)).returncode == 0
    reader = subprocess.Popen(["head", "-c", "100"], stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL)
    p = subprocess.run([GHIT_BIN, "export", "--db", str(db)], stdout=reader.stdin,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    reader.stdin.close()
    reader.wait(timeout=10)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "cannot write the output" in p.stderr


# --- the commands' help and the man page --------------------------------------------

@pytest.mark.parametrize("cmd", ["export", "import", "set", "delete"])
def test_new_commands_are_listed_documented_and_fit_79_columns(cmd):
    import os
    import re

    from conftest import REPO_ROOT

    top = run_ghit("--help").stdout
    assert re.search(r"^\s+%s\b" % cmd, top, re.M)
    p = run_ghit(cmd, "--help")
    assert p.returncode == 0
    assert max(len(ln) for ln in p.stdout.splitlines()) <= 79
    options = set(re.findall(r"^\s+(--[a-z][a-z0-9-]*)", p.stdout, re.M)) - {"--help"}
    assert options
    man = open(os.path.join(REPO_ROOT, "doc", "ghit.1"), encoding="utf-8").read()
    man = re.sub(r"\\f[BIRP]", "", man).replace("\\-", "-")
    missing = [o for o in options if not re.search(re.escape(o) + r"(?![a-z-])", man)]
    assert not missing, "in `ghit %s --help` but not in doc/ghit.1: %s" % (cmd, missing)
    assert re.search(r"^\.B %s$|^\.B ghit %s " % (cmd, cmd), man, re.M)


# --- a store that cannot be written ---------------------------------------------------

def test_an_import_into_a_redis_that_is_down_says_nothing_was_imported(make_redis):
    # It once tried for 15 s, then said "the import stopped part way ... a merge run again
    # would add those repos twice", when not one repo had reached Redis.
    r = make_redis(start=False)  # its port: nothing listens there yet
    p = run_ghit("import", "--db", r.url, input=jsonl(LINES), timeout=10)
    assert p.returncode == 1, p.stderr
    assert "nothing was imported, so it is safe to run it again" in p.stderr, p.stderr
    assert "part way" not in p.stderr
    r.start()
    p = ghit_import(r.url, jsonl(LINES))  # and it is: each repo once
    assert p.returncode == 0 and "imported 3 repos, 90012 hits" in p.stdout, p.stderr
    assert [json.loads(ln)["total"] for ln in export(r.url).splitlines()] == [12, 90000, 0]


def test_an_import_into_a_store_that_cannot_be_opened_says_nothing_was_imported(tmp_path):
    p = ghit_import(tmp_path / "no" / "such" / "dir.db", jsonl(LINES))
    assert p.returncode == 1
    assert "nothing was imported, so it is safe to run it again" in p.stderr, p.stderr
    assert not (tmp_path / "no").exists()
