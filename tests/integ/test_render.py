"""`ghit render`: static badges for every repo, written only inside --out."""

import os
import sqlite3

import pytest

from conftest import run_ghit, svg_title

COUNTS = {"Foo/Bar": 3, "foo/baz": 1, "a/b": 12, "Owner-1/name.with.dots": 2, "x/_-_": 1}


def all_files(top):
    """Every path under TOP (files, dirs, links), relative to it."""
    out = set()
    for dirpath, dirnames, filenames in os.walk(top):
        for n in dirnames + filenames:
            out.add(os.path.relpath(os.path.join(dirpath, n), top))
    return out


@pytest.fixture
def populated_db(make_server, tmp_path):
    """A database made by the server: COUNTS hits, then SIGTERM."""
    db = tmp_path / "store" / "ghit.db"
    db.parent.mkdir()
    s = make_server(db=db)
    for repo, n in COUNTS.items():
        for _ in range(n):
            assert s.hit(repo).status == 200
    s.stop()
    return db


def expected_files():
    return {"%s.svg" % r.lower() for r in COUNTS}


def test_render_writes_one_badge_per_repo_with_its_count(populated_db, tmp_path):
    base = tmp_path / "site"
    base.mkdir()
    out = base / "badges"
    p = run_ghit("render", "--db", str(populated_db), "--out", str(out))
    assert p.returncode == 0, p.stderr
    files = {f for f in all_files(out) if f.endswith(".svg")}
    assert files == expected_files()
    dirs = all_files(out) - files
    assert dirs == {r.split("/")[0].lower() for r in COUNTS}, "unexpected entries (temp files?)"
    for repo, n in COUNTS.items():
        path = out / ("%s.svg" % repo.lower())
        assert svg_title(path.read_bytes()) == "hits: %d" % n
    assert os.listdir(base) == ["badges"], "something was written beside --out"
    assert p.stdout == "ghit render: wrote %d badges to %s\n" % (len(COUNTS), out), p.stdout


def test_render_of_one_repo_says_one_badge(make_server, tmp_path):
    db = tmp_path / "one.db"
    s = make_server(db=db)
    assert s.hit("only/one").status == 200
    s.stop()
    out = tmp_path / "badges"
    p = run_ghit("render", "--db", str(db), "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert p.stdout == "ghit render: wrote 1 badge to %s\n" % out, p.stdout


def test_render_takes_look_options(populated_db, tmp_path):
    out = tmp_path / "out"
    p = run_ghit("render", "--db", str(populated_db), "--out", str(out), "--label", "views",
                 "--style", "for-the-badge")
    assert p.returncode == 0, p.stderr
    title = svg_title((out / "a" / "b.svg").read_bytes())
    assert title.lower() == "views: 12"


def test_render_again_replaces_badges_in_place(populated_db, tmp_path, make_server):
    out = tmp_path / "out"
    assert run_ghit("render", "--db", str(populated_db), "--out", str(out)).returncode == 0
    s = make_server(db=populated_db)
    s.hit("a/b")
    s.stop()
    assert run_ghit("render", "--db", str(populated_db), "--out", str(out)).returncode == 0
    assert svg_title((out / "a" / "b.svg").read_bytes()) == "hits: 13"
    assert {f for f in all_files(out) if "." in os.path.basename(f)} == expected_files()


def test_render_does_not_write_through_a_symlinked_owner_dir(populated_db, tmp_path):
    out = tmp_path / "out"
    elsewhere = tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    os.symlink(elsewhere, out / "foo")  # foo/bar and foo/baz would land in elsewhere/
    p = run_ghit("render", "--db", str(populated_db), "--out", str(out))
    assert p.returncode != 0, "render reported success although it could not write foo/*"
    assert "foo" in p.stderr
    assert os.listdir(elsewhere) == [], "render wrote through a symlink"
    assert os.path.islink(out / "foo")
    # the other repos are still rendered, and no temp files are left
    assert svg_title((out / "a" / "b.svg").read_bytes()) == "hits: 12"
    leftover = {f for f in all_files(out) if not f.endswith(".svg")} - {"foo", "a", "owner-1", "x"}
    assert not leftover, leftover


def test_render_does_not_follow_a_symlinked_badge_file(populated_db, tmp_path):
    out = tmp_path / "out"
    (out / "a").mkdir(parents=True)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    os.symlink(victim, out / "a" / "b.svg")
    run_ghit("render", "--db", str(populated_db), "--out", str(out))
    assert victim.read_text() == "precious\n", "render wrote through a symlinked file"
    # renamed into place: the link is replaced by a real file, or left alone with an error
    if not os.path.islink(out / "a" / "b.svg"):
        assert svg_title((out / "a" / "b.svg").read_bytes()) == "hits: 12"


BAD_NAMES = ["../evil", "../../evil", "a/../../evil", "/tmp/abs-evil", "owner/", "/name",
             "a/b/c", "-x/y", "x/..", ".", "", "evil\n/x", "a/b.svg/../../../evil"]


def test_render_skips_bad_names_in_the_database(populated_db, tmp_path):
    con = sqlite3.connect(populated_db)
    for name in BAD_NAMES:
        con.execute("INSERT INTO repos(name, total, first_day) VALUES (?, 5, '2020-01-01')", (name,))
    con.commit()
    con.close()
    base = tmp_path / "site"
    (base / "deep").mkdir(parents=True)
    out = base / "deep" / "out"
    p = run_ghit("render", "--db", str(populated_db), "--out", str(out))
    assert "skip" in p.stderr.lower()
    assert {f for f in all_files(out) if f.endswith(".svg")} == expected_files()
    assert all_files(base) - {"deep", "deep/out"} == {os.path.join("deep", "out", f) for f in all_files(out)}
    assert not os.path.exists("/tmp/abs-evil.svg")
    assert not any("evil" in f for f in os.listdir(tmp_path))
    for f in all_files(tmp_path):
        assert "evil" not in f, f


def test_render_stops_at_a_malformed_journal_row_and_says_what_it_wrote(populated_db, tmp_path):
    # One flush's rows, in key order as ghit writes them: two good ones, then one that ghit did
    # not write (its day is no day). The scan goes in key order too, a row ahead in the journal,
    # and stops when it reaches the third.
    con = sqlite3.connect(str(populated_db) + "-flushes", isolation_level=None)
    flush = con.execute("SELECT coalesce(max(flush), 0) + 1 FROM journal").fetchone()[0]
    con.executemany("INSERT INTO journal(flush, repo, day, hits) VALUES (?, ?, ?, 1)",
                    [(flush, "a/b", "2026-01-01"), (flush, "foo/bar", "2026-01-01"),
                     (flush, "zz/zz", "not-a-day")])
    con.close()
    out = tmp_path / "out"
    p = run_ghit("render", "--db", str(populated_db), "--out", str(out))
    assert p.returncode == 1, p
    assert "holds a row that ghit did not write" in p.stderr, p.stderr
    written = {f for f in all_files(out) if f.endswith(".svg")}
    assert written and written < expected_files(), written
    said = "1 badge was" if len(written) == 1 else "%d badges were" % len(written)
    assert said + " written before that" in p.stderr, p.stderr
    assert svg_title((out / "a" / "b.svg").read_bytes()) == "hits: 13"  # the good row counted


def test_render_missing_database_fails_without_creating_it(tmp_path):
    db = tmp_path / "missing.db"
    p = run_ghit("render", "--db", str(db), "--out", str(tmp_path / "out"))
    assert p.returncode != 0
    assert p.stderr.strip()
    assert not db.exists()


def test_render_refuses_a_file_that_is_not_a_database(tmp_path):
    db = tmp_path / "notes.txt"
    db.write_bytes(b"not a database\n")
    p = run_ghit("render", "--db", str(db), "--out", str(tmp_path / "out"))
    assert p.returncode != 0
    assert db.read_bytes() == b"not a database\n"
    assert not (tmp_path / "out").exists() or not all_files(tmp_path / "out")


@pytest.mark.parametrize("args", [[], ["--db", "x.db"], ["--out", "o"], ["--style", "fancy"],
                                  ["--bogus"], ["--label"]])
def test_render_bad_command_line_exits_2(tmp_path, args):
    if args[:1] not in ([], ["--db"], ["--out"]):
        args = ["--db", str(tmp_path / "x.db"), "--out", str(tmp_path / "o")] + args
    p = run_ghit("render", *args, cwd=tmp_path)
    assert p.returncode == 2
    assert p.stderr.strip()
    assert os.listdir(tmp_path) == []


def test_render_says_which_option_it_does_not_know(populated_db, tmp_path):
    # It once said "expected --OPTION VALUE at '--bogus'", as if only the value were missing.
    p = run_ghit("render", "--db", str(populated_db), "--out", str(tmp_path / "o"), "--bogus")
    assert p.returncode == 2
    assert p.stderr == "ghit render: unknown option '--bogus' (see ghit render --help)\n"
    # An empty badge option is a value (an empty label hides the label), not a missing one.
    p = run_ghit("render", "--db", str(populated_db), "--out", str(tmp_path / "o"), "--label", "")
    assert p.returncode == 0, p.stderr
    assert svg_title((tmp_path / "o" / "a" / "b.svg").read_bytes()) == "12"


def test_rendered_badge_is_the_one_the_server_shows(populated_db, tmp_path, make_server):
    out = tmp_path / "out"
    assert run_ghit("render", "--db", str(populated_db), "--out", str(out)).returncode == 0
    s = make_server(db=populated_db)
    for repo in COUNTS:
        served = s.get("/count.svg?repo=" + repo)
        assert served.status == 200
        assert (out / ("%s.svg" % repo.lower())).read_bytes() == served.body, repo
