"""The SQLite store: schema, refusing foreign files, surviving a locked database."""

import os
import sqlite3
import subprocess
import threading
import time

import pytest

from conftest import GHIT_BIN, db_days, db_rows, db_totals, run_ghit, svg_title, utc_today, wait_written


def wait_healthz(s, status, within_s, when):
    """Polls /healthz until it answers status; fails after within_s seconds."""
    deadline = time.monotonic() + within_s
    while (h := s.get("/healthz")).status != status:
        assert time.monotonic() < deadline, f"/healthz not {status} {within_s} s {when}"
        time.sleep(0.1)
    return h


def test_schema_has_repos_and_daily(server):
    server.hit("Schema/Check")
    server.stop()
    cols = {t: [r[1] for r in db_rows(server.db, "PRAGMA table_info(%s)" % t)] for t in ("repos", "daily")}
    assert {"name", "total", "first_day"} <= set(cols["repos"])
    assert {"repo", "day", "hits"} <= set(cols["daily"])
    day = utc_today()
    assert db_rows(server.db, "SELECT name, total, first_day FROM repos") == [("schema/check", 1, day)]
    assert db_rows(server.db, "SELECT repo, day, hits FROM daily") == [("schema/check", day, 1)]
    assert db_rows(server.db, "PRAGMA journal_mode")[0][0].lower() == "wal"
    assert db_rows(server.db, "PRAGMA integrity_check") == [("ok",)]


def test_new_database_file_is_created(tmp_path, make_server):
    db = tmp_path / "fresh.db"
    assert not db.exists()
    s = make_server(db=db)
    assert db.exists()
    assert s.get("/healthz").status == 200
    s.stop()
    assert db_totals(str(db)) == {}


def refuse(path, tmp_path):
    """Runs ghit serve on PATH; asserts it exits non-zero with a message and leaves PATH as it was."""
    before = open(path, "rb").read()
    listing = sorted(os.listdir(tmp_path))
    try:
        p = run_ghit("serve", "--listen", "127.0.0.1:0", "--db", str(path), timeout=15)
    except subprocess.TimeoutExpired:
        pytest.fail("ghit serve started on a database that is not ghit's")
    assert p.returncode != 0
    assert str(path) in p.stderr or "ghit" in p.stderr.lower()
    assert len(p.stderr.strip()) > 10
    assert open(path, "rb").read() == before, "the file was modified"
    assert sorted(os.listdir(tmp_path)) == listing, "files appeared beside the database"
    return p.stderr


def test_foreign_sqlite_database_is_refused_untouched(tmp_path):
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("INSERT INTO customers(name) VALUES ('alice')")
    con.commit()
    con.close()
    err = refuse(path, tmp_path)
    assert "ghit" in err.lower() or "schema" in err.lower() or "not" in err.lower()
    assert db_rows(str(path), "SELECT name FROM customers") == [("alice",)]


def test_database_with_a_wrong_repos_table_is_refused(tmp_path):
    path = tmp_path / "almost.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE repos (id INTEGER, something TEXT)")
    con.commit()
    con.close()
    refuse(path, tmp_path)


def test_text_file_is_refused_untouched(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"these are my notes, not a database\n" * 100)
    refuse(path, tmp_path)


def test_corrupt_database_is_refused_untouched(tmp_path, make_server):
    s = make_server(db=tmp_path / "c.db")
    s.hit("a/b")
    s.stop()
    data = bytearray((tmp_path / "c.db").read_bytes())
    for i in range(100, len(data), 7):
        data[i] ^= 0x5A
    (tmp_path / "c.db").write_bytes(bytes(data))
    for extra in ("c.db-wal", "c.db-shm"):
        if (tmp_path / extra).exists():
            (tmp_path / extra).unlink()
    for f in os.listdir(tmp_path):
        if f.startswith("ghit-serve"):
            os.unlink(tmp_path / f)
    refuse(tmp_path / "c.db", tmp_path)


def test_database_in_missing_directory_fails_cleanly(tmp_path):
    p = run_ghit("serve", "--listen", "127.0.0.1:0", "--db", str(tmp_path / "no" / "such" / "x.db"), timeout=15)
    assert p.returncode != 0
    assert p.stderr.strip()


def test_locked_database_fails_healthz_then_recovers_without_losing_hits(make_server):
    s = make_server("--flush-interval", "100", "--shutdown-timeout", "15000")
    assert s.hit("lock/step").status == 200
    wait_written(s, 1)  # the repo row exists; from now on flushes need the journal's write lock
    con = sqlite3.connect(s.db + "-flushes", isolation_level=None, timeout=5)
    hits = 1
    try:
        con.execute("BEGIN EXCLUSIVE")
        saw_503 = None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            r = s.hit("lock/step")
            assert r.status == 200
            hits += 1
            assert svg_title(r.body) == "hits: %d" % hits
            h = s.get("/healthz")
            if h.status == 503:
                saw_503 = h.text
                if hits >= 10:
                    break
            time.sleep(0.1)
        assert saw_503 is not None, "/healthz stayed 200 while the store could not commit"
        assert saw_503.startswith("store failing:"), saw_503
        assert s.total("lock/step") == hits
    finally:
        con.rollback()
        con.close()
    assert wait_healthz(s, 200, 20, "after the lock was released").text.split("\n")[0] == "ok"
    s.hit("lock/step")
    hits += 1
    s.stop()
    assert db_totals(s.db) == {"lock/step": hits}
    assert sum(db_days(s.db).values()) == hits


def test_healthz_fails_while_idle_and_the_store_cannot_take_writes(make_server):
    # No hit is pending, so no flush fails: the flusher must probe the store itself.
    s = make_server("--flush-interval", "100")
    assert s.get("/healthz").status == 200
    con = sqlite3.connect(s.db + "-flushes", isolation_level=None, timeout=5)
    try:
        con.execute("BEGIN EXCLUSIVE")
        h = wait_healthz(s, 503, 10, "while the store was locked")
        assert h.text.startswith("store failing:") and "locked" in h.text, h.text
    finally:
        con.rollback()
        con.close()
    wait_healthz(s, 200, 20, "after the lock was released")


def test_sigterm_while_locked_flushes_once_the_lock_goes(make_server):
    s = make_server("--flush-interval", "100", "--shutdown-timeout", "15000")
    s.hit("stop/locked")
    wait_written(s, 1)
    con = sqlite3.connect(s.db + "-flushes", isolation_level=None, timeout=5,
                          check_same_thread=False)
    con.execute("BEGIN EXCLUSIVE")
    for _ in range(4):
        s.hit("stop/locked")
    release = threading.Timer(1.5, lambda: (con.rollback(), con.close()))
    release.start()
    try:
        s.stop()  # must keep retrying until the lock goes, then exit 0
    finally:
        release.join(timeout=10)
    assert db_totals(s.db) == {"stop/locked": 5}


def test_a_flush_longer_than_the_interval_is_logged(make_server):
    # While a flush runs, the next interval's hits wait in memory: a crash then loses more
    # than one interval, and the log says so (not only at debug level).
    s = make_server("--flush-interval", "200")
    s.hit("slow/flush")
    time.sleep(0.5)
    assert "longer than the flush interval" not in s.stderr()
    hits = 1
    # A tick between the lock and the hit runs the idle check instead, which waits for the
    # lock and logs nothing: the hit is then written quickly after. So up to three tries.
    for _ in range(3):
        con = sqlite3.connect(s.db + "-flushes", isolation_level=None, timeout=5,
                              check_same_thread=False)
        con.execute("BEGIN EXCLUSIVE")
        s.hit("slow/flush")
        hits += 1
        # Held for less than the flusher's busy timeout (1 s): its flush waits, then succeeds.
        release = threading.Timer(0.7, lambda c=con: (c.rollback(), c.close()))
        release.start()
        release.join(timeout=10)
        deadline = time.monotonic() + 3
        while "longer than the flush interval" not in s.stderr() and time.monotonic() < deadline:
            time.sleep(0.1)
        if "longer than the flush interval" in s.stderr():
            break
    line = [x for x in s.stderr().splitlines() if "longer than the flush interval" in x]
    assert line and "a flush of 1 rows took" in line[0] and "(200 ms)" in line[0], s.stderr()
    assert "store failing" not in s.get("/healthz").text
    s.stop()
    assert db_totals(s.db) == {"slow/flush": hits}


def test_database_unchanged_when_serve_is_refused_by_bad_option(tmp_path):
    path = tmp_path / "ghit.db"
    p = subprocess.run([GHIT_BIN, "serve", "--db", str(path), "--threads", "nope"],
                       capture_output=True, text=True, timeout=15)
    assert p.returncode == 2
    assert not path.exists()


def test_sigterm_gives_up_after_shutdown_timeout_and_says_so(make_server):
    s = make_server("--flush-interval", "100", "--shutdown-timeout", "1000")
    s.hit("give/up")
    wait_written(s, 1)
    con = sqlite3.connect(s.db + "-flushes", isolation_level=None, timeout=5)
    con.execute("BEGIN EXCLUSIVE")
    try:
        for _ in range(3):
            s.hit("give/up")
        t0 = time.monotonic()
        rc = s.stop(expect_rc=None)
        assert time.monotonic() - t0 < 15
    finally:
        con.rollback()
        con.close()
    assert rc != 0, "exit 0 although hits were not written"
    assert "3" in s.stderr().splitlines()[-1]
    assert db_totals(s.db) == {"give/up": 1}


@pytest.fixture
def tiny_fs(tmp_path):
    """A 1 MiB tmpfs of our own, so that a test can fill the disk (needs root)."""
    mnt = tmp_path / "fs"
    mnt.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (not root?): " + p.stderr.strip())
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_full_disk_keeps_hits_in_memory_and_writes_them_once_space_returns(tiny_fs, make_server):
    s = make_server("--flush-interval", "100", db=str(tiny_fs / "ghit.db"))
    assert s.hit("disk/one").status == 200
    time.sleep(0.5)  # written: the database and its WAL exist
    filler = tiny_fs / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:  # take every free byte, down to the last block
        for size in (65536, 4096, 512, 1):
            while True:
                try:
                    os.write(fd, b"\0" * size)
                except OSError:
                    break
    finally:
        os.close(fd)
    hits = {"disk/one": 1}
    deadline = time.monotonic() + 15
    while (h := s.get("/healthz")).status != 503:
        assert time.monotonic() < deadline, "/healthz stayed 200 on a full disk"
        for i in range(20):  # new repos need new pages
            repo = "full/r%d" % (len(hits) + i)
            r = s.hit(repo)
            assert r.status == 200 and svg_title(r.body) == "hits: 1"
        hits.update({"full/r%d" % (len(hits) + i): 1 for i in range(20)})
        time.sleep(0.2)
    assert "full" in h.text, h.text
    r = s.hit("disk/one")  # still answered, still counting
    hits["disk/one"] += 1
    assert svg_title(r.body) == "hits: 2"
    filler.unlink()
    wait_healthz(s, 200, 20, "after space came back")
    s.stop()
    assert db_totals(s.db) == hits
    # The log says what failed: the error of the write, not SQLite's after the rollback.
    assert "not an error" not in s.stderr(), s.stderr()


# --- a journal belongs to one database -----------------------------------------------------------

def files_of(path):
    """{name: bytes} of the database or journal at path and its WAL, if it holds anything (a
    reader may make an empty one, and the -shm index, which hold no rows)."""
    return {path + x: open(path + x, "rb").read() for x in ("", "-wal")
            if os.path.exists(path + x) and os.path.getsize(path + x) > 0}


def move_files(src, dst):
    """Moves the file at src and its -wal and -shm to dst, as an operator moves a database."""
    for x in ("", "-wal", "-shm"):
        if os.path.exists(src + x):
            os.rename(src + x, dst + x)


def killed_with_journal_rows(make_server, db, repos):
    """A server on db that counted one hit per repo, flushed them, and was killed with -9."""
    s = make_server(db=db)
    for repo in repos:
        s.hit(repo)
    wait_written(s, len(repos))
    s.kill()
    return s


def test_a_journal_beside_another_database_is_refused_and_left_alone(make_server, tmp_path):
    # The operator's mistake: kill -9 (the journal holds rows not merged), the database moved
    # away without its journal, a server started on the old name: a new database. It merged the
    # old journal's repos into the new database, and old.db lost them.
    db, old = str(tmp_path / "ghit.db"), str(tmp_path / "old.db")
    killed_with_journal_rows(make_server, db, ["pair/a", "pair/b", "pair/c"])
    move_files(db, old)
    journal = files_of(db + "-flushes")
    assert journal
    s = make_server(db=db, start=False)
    with pytest.raises(AssertionError):
        s.start()
    err = s.stderr()
    assert "%s-flushes" % db in err and "belongs to another database" in err, err
    assert "move it back beside its database" in err and "remove it" in err, err
    assert not os.path.exists(db), "a database was made beside a journal that is not its"
    assert files_of(db + "-flushes") == journal

    # The same for a command: import into a new database, and export or stats of a database
    # made before, each beside that journal.
    p = run_ghit("import", "--db", db, input='{"repo":"x/y","total":1,"first_day":"2026-01-01","days":{}}\n')
    assert p.returncode == 1 and "belongs to another database" in p.stderr, p.stderr
    assert not os.path.exists(db)
    other = str(tmp_path / "other.db")
    p = run_ghit("import", "--db", other, input='{"repo":"x/y","total":1,"first_day":"2026-01-01","days":{}}\n')
    assert p.returncode == 0, p.stderr
    for x in ("", "-wal", "-shm"):
        if os.path.exists(other + "-flushes" + x):
            os.unlink(other + "-flushes" + x)
    for name, data in journal.items():
        with open(other + name[len(db):], "wb") as f:
            f.write(data)
    before = files_of(other) | files_of(other + "-flushes")
    for cmd in (["export"], ["stats"], ["render", "--out", str(tmp_path / "out")]):
        p = run_ghit(*cmd, "--db", other)
        assert p.returncode == 1, (cmd, p.stdout, p.stderr)
        assert "%s-flushes" % other in p.stderr and "not to %s;" % other in p.stderr, p.stderr
        assert "belongs to another database" in p.stderr, p.stderr
        assert "pair/a" not in p.stdout
    assert files_of(other) | files_of(other + "-flushes") == before

    # Moved back beside its database, the journal's hits count there.
    move_files(db + "-flushes", old + "-flushes")
    s = make_server(db=old)
    assert [s.total(r) for r in ("pair/a", "pair/b", "pair/c")] == [1, 1, 1]


def test_a_database_and_journal_from_before_ids_are_adopted_and_keep_counting(make_server, tmp_path):
    db = str(tmp_path / "ghit.db")
    killed_with_journal_rows(make_server, db, ["old/a", "old/b"])
    # A ghit from before a journal named its database: no id in either file.
    for path in (db, db + "-flushes"):
        con = sqlite3.connect(path)
        con.execute("DELETE FROM meta WHERE key = 'pair'")
        con.commit()
        con.close()
    s = make_server(db=db)
    assert s.total("old/a") == 1 and s.total("old/b") == 1
    s.hit("old/a")
    wait_written(s, 1)
    s.stop()
    ids = [db_rows(path, "SELECT value FROM meta WHERE key = 'pair'") for path in (db, db + "-flushes")]
    assert ids[0] == ids[1] and len(ids[0]) == 1, ids  # adopted: the same id in both
    s = make_server(db=db)
    assert s.total("old/a") == 2 and s.total("old/b") == 1
    p = run_ghit("export", "--db", db)
    assert p.returncode == 0 and '"repo":"old/a","total":2' in p.stdout, p.stdout + p.stderr


def test_a_database_without_its_merge_mark_says_so(make_server, tmp_path):
    db = str(tmp_path / "mark.db")
    s = make_server(db=db)
    s.hit("mark/a")
    s.stop()
    con = sqlite3.connect(db)
    con.execute("DELETE FROM meta WHERE key = 'merged'")
    con.commit()
    con.close()
    p = run_ghit("serve", "--listen", "127.0.0.1:0", "--db", db, timeout=15)
    assert p.returncode != 0
    assert "merge mark" in p.stderr and "not an error" not in p.stderr, p.stderr
