"""ghit vacuum: a stopped server's SQLite file rebuilt with ghit's 16 KB pages, its
journal merged first, every count kept; refused while anything holds the file, and on
what is not a ghit database, which it leaves as it was."""

import json
import os
import sqlite3

import pytest

from conftest import db_days, db_rows, db_totals, run_ghit, utc_today

IMPORTED = [
    {"repo": "old/days", "total": 9, "first_day": "2024-02-28",
     "days": {"2024-02-28": 2, "2024-02-29": 3}},
    {"repo": "old/total-only", "total": 90000, "first_day": "2019-05-01", "days": {}},
]


def old_database(path):
    """An empty file with SQLite's 4 KB pages fixed by WAL mode, as databases made before
    ghit chose 16 KB pages have them."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA page_size=4096")
    assert con.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    con.close()


def pragma(path, name):
    return db_rows(str(path), "PRAGMA " + name)[0][0]


def export(db):
    p = run_ghit("export", "--db", str(db))
    assert p.returncode == 0, p.stderr
    return p.stdout


def counted_database(make_server, path):
    """A 4 KB-page database with hits served today and days imported; the server stopped."""
    old_database(path)
    s = make_server(db=path)
    for repo in ("a/b", "a/b", "c/d", "old/days"):
        s.hit(repo)
    s.stop()
    text = "".join(json.dumps(o) + "\n" for o in IMPORTED)
    p = run_ghit("import", "--db", str(path), input=text)
    assert p.returncode == 0, p.stderr
    assert pragma(path, "page_size") == 4096
    assert "has smaller pages than ghit makes now (16 KB)" in s.stderr()
    assert "ghit vacuum --db %s, with the server stopped, rebuilds it" % path in s.stderr()
    return s


def test_vacuum_rebuilds_with_16_kb_pages_and_keeps_every_count(make_server, tmp_path):
    db = tmp_path / "old.db"
    s = counted_database(make_server, db)
    totals, days, exported = db_totals(str(db)), db_days(str(db)), export(db)
    assert totals["old/days"] == 10 and totals["a/b"] == 2

    p = run_ghit("vacuum", "--db", str(db))
    assert p.returncode == 0, p.stderr
    assert "in 4 KB pages, now" in p.stdout and "bytes in 16 KB pages" in p.stdout, p.stdout
    assert pragma(db, "page_size") == 16384
    assert pragma(db, "journal_mode") == "wal"
    assert pragma(db, "integrity_check") == "ok"
    assert db_totals(str(db)) == totals and db_days(str(db)) == days
    assert export(db) == exported

    # The server runs on the rebuilt file, counts on from where it was, and has no hint.
    s.start()
    s.hit("a/b")
    assert s.total("a/b") == 3
    assert s.total("old/total-only") == 90000
    s.stop()
    assert "listening on" in s.stderr() and "ghit vacuum" not in s.stderr()
    # A second vacuum keeps the pages; the file is ghit's as before.
    p = run_ghit("vacuum", "--db", str(db))
    assert p.returncode == 0, p.stderr
    assert "in 16 KB pages, now" in p.stdout
    assert db_totals(str(db))["a/b"] == 3


def test_vacuum_merges_the_journal_a_crash_left(make_server, tmp_path):
    db = tmp_path / "crashed.db"
    s = make_server(db=db)
    s.hit("in/tables")
    s.stop()
    # What a kill -9 leaves: flushed rows past the merge mark, not yet in the tables.
    today = utc_today()
    con = sqlite3.connect(str(db) + "-flushes")
    con.executemany("INSERT INTO journal(flush, repo, day, hits) VALUES (?, ?, ?, ?)",
                    [(1000, "in/tables", today, 4), (1000, "only/journal", today, 7),
                     (1001, "only/journal", "2026-01-02", 5)])
    con.commit()
    con.close()
    totals, days = db_totals(str(db)), db_days(str(db))
    assert totals == {"in/tables": 5, "only/journal": 12}

    p = run_ghit("vacuum", "--db", str(db))
    assert p.returncode == 0, p.stderr
    assert db_rows(str(db) + "-flushes", "SELECT count(*) FROM journal")[0][0] == 0
    assert dict(db_rows(str(db), "SELECT name, total FROM repos")) == totals
    assert {(r, d): h for r, d, h in db_rows(str(db), "SELECT repo, day, hits FROM daily")} == days
    assert db_rows(str(db), "SELECT first_day FROM repos WHERE name = 'only/journal'") == [
        ("2026-01-02",)]
    s.start()
    assert s.total("only/journal") == 12
    s.stop()


def test_vacuum_refuses_a_database_a_server_runs_on(make_server, tmp_path):
    db = tmp_path / "busy.db"
    old_database(db)
    s = make_server(db=db)
    s.hit("still/served")
    p = run_ghit("vacuum", "--db", str(db))
    assert p.returncode == 1
    assert "is in use by a ghit server or command; stop it first" in p.stderr
    assert s.hit("still/served").status == 200
    assert s.total("still/served") == 2
    s.stop()
    assert pragma(db, "page_size") == 4096


def test_vacuum_beside_another_reader_fails_and_leaves_the_file_whole(make_server, tmp_path):
    db = tmp_path / "read.db"
    s = counted_database(make_server, db)
    totals = db_totals(str(db))
    reader = sqlite3.connect(str(db), isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM repos").fetchone()  # holds a read lock
    try:
        p = run_ghit("vacuum", "--db", str(db))
    finally:
        reader.execute("ROLLBACK")
        reader.close()
    assert p.returncode == 1
    assert "cannot leave WAL mode (does another program have the database open?)" in p.stderr
    assert pragma(db, "journal_mode") == "wal"
    assert pragma(db, "page_size") == 4096
    assert db_totals(str(db)) == totals
    # Once the reader is gone, it goes through.
    p = run_ghit("vacuum", "--db", str(db))
    assert p.returncode == 0, p.stderr
    assert db_totals(str(db)) == totals
    s.start()
    assert s.total("c/d") == 1
    s.stop()


def test_vacuum_refuses_what_is_not_a_ghit_database(tmp_path):
    missing = tmp_path / "missing.db"
    p = run_ghit("vacuum", "--db", str(missing))
    assert p.returncode == 1 and "missing.db: No such file or directory" in p.stderr, p.stderr
    assert not missing.exists()

    p = run_ghit("vacuum", "--db", "redis://127.0.0.1:1/0")
    assert p.returncode == 2 and "is a Redis store" in p.stderr

    other = tmp_path / "other.db"
    con = sqlite3.connect(str(other))
    con.execute("CREATE TABLE notes(x)")
    con.execute("INSERT INTO notes VALUES ('mine')")
    con.commit()
    con.close()
    before = other.read_bytes()
    p = run_ghit("vacuum", "--db", str(other))
    assert p.returncode == 1 and "not ghit's" in p.stderr
    assert other.read_bytes() == before

    assert run_ghit("vacuum").returncode == 2
    assert run_ghit("vacuum", "--db", str(other), "--bogus").returncode == 2


# VACUUM copies the database to SQLite's temporary directory and keeps the pages it replaces in a
# rollback journal beside it. Without room, vacuum merged the journal, started the rebuild and
# stopped at the end with "cannot rebuild the database: unable to open database file". devpts,
# mounted on every Linux, reports no free blocks and is a directory root may write: named by
# SQLITE_TMPDIR, it is where SQLite would put its copy, with no room at all. The database is
# large enough (16 MB) that SQLite writes its copy out: one of 4 MB it kept in memory, and the
# vacuum of before went through (the check asks for room for the copy whatever the size).
@pytest.mark.skipif(os.geteuid() != 0, reason="only root may write /dev/pts, as SQLite requires")
def test_vacuum_without_room_for_its_copy_is_refused_before_it_starts(tmp_path):
    try:
        pts = os.statvfs("/dev/pts")
    except OSError:
        pytest.skip("no /dev/pts here")
    if pts.f_bavail != 0:
        pytest.skip("/dev/pts reports free space here")
    db = tmp_path / "big.db"
    text = "".join(json.dumps({"repo": "owner%d/name" % i, "total": 100 + i,
                               "days": {"2026-11-%02d" % (d + 1): 1 + d for d in range(5)}}) + "\n"
                   for i in range(40000))
    p = run_ghit("import", "--db", str(db), input=text)
    assert p.returncode == 0, p.stderr
    names = sorted(os.listdir(tmp_path))
    for name in names:
        os.utime(tmp_path / name, ns=(10**18, 10**18))
    before = {n: ((tmp_path / n).read_bytes(), os.stat(tmp_path / n).st_mtime_ns) for n in names}
    size = sum(len(b) for b, _ in before.values())
    assert size > 15 * 1024 * 1024

    p = run_ghit("vacuum", "--db", str(db), env={**os.environ, "SQLITE_TMPDIR": "/dev/pts"})
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert p.stderr == (
        "ghit vacuum: not enough free space for %s: the rebuild needs about %s bytes free in "
        "/dev/pts for SQLite's temporary copy of the database (set SQLITE_TMPDIR to a directory "
        "with room), and it has 0; nothing was changed: free some space and run it again\n"
        % (db, format(size, ","))), p.stderr
    assert p.stdout == ""
    assert sorted(os.listdir(tmp_path)) == names
    assert {n: ((tmp_path / n).read_bytes(), os.stat(tmp_path / n).st_mtime_ns)
            for n in names} == before

    # With room, the same file goes through.
    p = run_ghit("vacuum", "--db", str(db))
    assert p.returncode == 0, p.stderr
    assert db_totals(str(db))["owner39999/name"] == 40099
