"""Files and processes around the store (issue 6): a database ghit cannot write, two
servers on one file, a reader without write access to the directory, an address that
cannot be bound, a database deleted under a running server.

Tests that need another user run ghit as `nobody` through setpriv (util-linux); root
can write any file, so permissions are only tested honestly as someone else.
"""

import os
import pathlib
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import GHIT_BIN, db_totals, metric, run_ghit, svg_title, wait_written
from test_store import wait_healthz

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="runs ghit as another user (nobody)")


@pytest.fixture(scope="module")
def nobody_bin():
    """A copy of the binary that nobody may run, whatever the checkout's permissions."""
    d = tempfile.mkdtemp(prefix="ghit-bin-")
    os.chmod(d, 0o755)
    path = os.path.join(d, "ghit")
    shutil.copy(GHIT_BIN, path)
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(d)


def as_nobody(exe, *args, timeout=20, input=""):
    """Runs `ghit ARGS` as nobody, input on its standard input; returns the CompletedProcess."""
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux) is missing"
    return subprocess.run([setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                           exe, *args], capture_output=True, text=True, timeout=timeout,
                          input=input)


@pytest.fixture
def shared_dir():
    """A directory of root's that nobody can enter but not write (pytest's own
    temporary directories are closed to other users)."""
    d = pathlib.Path(tempfile.mkdtemp(prefix="ghit-test-"))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d)


def make_db(make_server, path, hits):
    s = make_server(db=path)
    for repo, n in hits.items():
        for _ in range(n):
            s.hit(repo)
    s.stop()


@needs_root
def test_database_the_user_cannot_write_is_refused_at_start(make_server, shared_dir, nobody_bin):
    db = shared_dir / "ghit.db"
    make_db(make_server, db, {"ro/db": 2})
    os.chmod(db, 0o644)  # root's, readable by nobody
    before = db.read_bytes()
    p = as_nobody(nobody_bin, "serve", "--listen", "127.0.0.1:0", "--db", str(db))
    assert p.returncode == 1, p.stderr
    assert "cannot write %s (Permission denied): ghit serve needs to write its database" % db \
        in p.stderr, p.stderr
    assert "listening" not in p.stderr
    assert db.read_bytes() == before


@needs_root
def test_a_command_that_cannot_write_the_database_names_itself(make_server, shared_dir, nobody_bin):
    # set, delete, vacuum and import said "ghit serve needs to write its database".
    db = shared_dir / "ghit.db"
    make_db(make_server, db, {"ro/cmd": 2})
    os.chmod(db, 0o644)
    before = db.read_bytes()
    line = '{"repo":"ro/new","total":1,"first_day":"2026-01-01","days":{}}\n'
    for cmd, args in (("set", ["--repo", "ro/cmd", "--total", "5"]), ("delete", ["--repo", "ro/cmd"]),
                      ("vacuum", []), ("import", [])):
        p = as_nobody(nobody_bin, cmd, "--db", str(db), *args, input=line)
        assert p.returncode == 1, (cmd, p.stderr)
        assert "cannot write %s (Permission denied): ghit %s needs to write its database" % (db, cmd) \
            in p.stderr, p.stderr
    assert db.read_bytes() == before


@needs_root
def test_directory_the_user_cannot_write_is_refused_at_start(make_server, shared_dir, nobody_bin):
    db = shared_dir / "ghit.db"
    make_db(make_server, db, {"ro/dir": 1})
    os.chmod(db, 0o666)  # the file is writable, its directory is not
    p = as_nobody(nobody_bin, "serve", "--listen", "127.0.0.1:0", "--db", str(db))
    assert p.returncode == 1, p.stderr
    assert "cannot write the directory %s" % shared_dir in p.stderr


def test_a_second_server_on_one_database_is_refused(make_server, tmp_path):
    first = make_server()
    first.hit("two/servers")
    p = run_ghit("serve", "--listen", "127.0.0.1:0", "--db", first.db, timeout=10)
    assert p.returncode == 1
    assert "is in use by another ghit serve" in p.stderr
    assert "redis://" in p.stderr  # points to the store for several frontends
    assert svg_title(first.hit("two/servers").body) == "hits: 2"
    first.stop()
    assert db_totals(first.db) == {"two/servers": 2}
    # the lock goes with the process: a new server may open the file now
    again = make_server(db=first.db)
    assert again.total("two/servers") == 2


def test_the_lock_goes_with_a_killed_server(make_server):
    s = make_server()
    s.hit("killed/lock")
    wait_written(s, 1)
    s.kill()
    again = make_server(db=s.db)
    assert again.total("killed/lock") == 1


@needs_root
def test_render_by_a_reader_who_cannot_write_the_directory(make_server, shared_dir, nobody_bin):
    db = shared_dir / "ghit.db"
    make_db(make_server, db, {"read/only": 3})
    os.chmod(db, 0o644)
    assert not os.path.exists(str(db) + "-wal")  # a clean stop leaves no WAL
    before = sorted(os.listdir(shared_dir))  # the database and its journal
    out = pathlib.Path(tempfile.mkdtemp(prefix="ghit-out-"))
    os.chmod(out, 0o777)
    p = as_nobody(nobody_bin, "render", "--db", str(db), "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert svg_title((out / "read" / "only.svg").read_bytes()) == "hits: 3"
    assert sorted(os.listdir(shared_dir)) == before == ["ghit.db", "ghit.db-flushes"]
    shutil.rmtree(out)


@needs_root
def test_stats_by_a_reader_who_cannot_write_the_directory(make_server, shared_dir, nobody_bin):
    # export and render read such a database as immutable; stats said "attempt to write a
    # readonly database".
    db = shared_dir / "ghit.db"
    make_db(make_server, db, {"read/only": 3, "read/other": 1})
    os.chmod(db, 0o644)
    before = sorted(os.listdir(shared_dir))
    p = as_nobody(nobody_bin, "stats", "--db", str(db))
    assert p.returncode == 0, p.stderr
    assert "2 repos, 4 hits" in p.stdout, p.stdout
    p = as_nobody(nobody_bin, "stats", "--db", str(db), "--repo", "read/only")
    assert p.returncode == 0, p.stderr
    assert "total        3" in p.stdout, p.stdout
    assert sorted(os.listdir(shared_dir)) == before == ["ghit.db", "ghit.db-flushes"]


def test_an_address_that_cannot_be_bound_touches_no_database(tmp_path):
    db = tmp_path / "never.db"
    p = run_ghit("serve", "--listen", "192.0.2.1:8080", "--db", str(db), timeout=10)
    assert p.returncode == 2
    assert "cannot listen on 192.0.2.1:8080" in p.stderr
    assert not db.exists()
    busy = subprocess.Popen([GHIT_BIN, "serve", "--listen", "127.0.0.1:0", "--db",
                             str(tmp_path / "busy.db")], stderr=subprocess.PIPE)
    try:
        line = busy.stderr.readline().decode()
        port = line.rsplit(":", 1)[1].split()[0]
        p = run_ghit("serve", "--listen", "127.0.0.1:" + port, "--db", str(db), timeout=10)
        assert p.returncode == 2 and "Address already in use" in p.stderr
        assert not db.exists()
    finally:
        busy.terminate()
        busy.wait(timeout=20)


def test_a_database_deleted_under_the_server_is_noticed(make_server):
    s = make_server()
    s.hit("gone/db")
    wait_healthz(s, 200, 10, "at start")
    wait_written(s, 1)
    os.rename(s.db, s.db + ".moved")
    h = wait_healthz(s, 503, 10, "after the file was moved away")
    assert "was deleted or replaced while ghit runs" in h.text
    assert svg_title(s.hit("gone/db").body) == "hits: 2"  # hits are still answered, kept
    failures = metric(s, "ghit_store_failures_total")
    assert failures.get('{cause="moved"}', 0) >= 1 and '{cause="none"}' not in failures, failures
    os.rename(s.db + ".moved", s.db)  # put back: the kept hit is written
    wait_healthz(s, 200, 10, "after the file came back")
    s.stop()
    assert db_totals(s.db) == {"gone/db": 2}


def test_a_journal_deleted_under_the_server_is_noticed(make_server):
    # A flush writes only to the journal (PATH-flushes): a journal moved away
    # would swallow every flush, and its rows would be lost to the next start.
    s = make_server(flush_interval=100)
    s.hit("gone/journal")
    wait_healthz(s, 200, 10, "at start")
    wait_written(s, 1)
    journal = s.db + "-flushes"
    os.rename(journal, journal + ".moved")
    h = wait_healthz(s, 503, 10, "after the journal was moved away")
    assert "the journal file" in h.text and "was deleted or replaced while ghit runs" in h.text
    assert svg_title(s.hit("gone/journal").body) == "hits: 2"  # answered, kept in memory
    time.sleep(0.5)  # flushes meanwhile fail: nothing goes to the moved-away file
    os.rename(journal + ".moved", journal)  # put back: the kept hit is written
    wait_healthz(s, 200, 10, "after the journal came back")
    s.stop()
    assert db_totals(s.db) == {"gone/journal": 2}


def test_a_database_replaced_under_the_server_is_not_written(make_server, tmp_path):
    s = make_server(flush_interval=100)
    s.hit("swap/db")
    wait_written(s, 1)
    other = tmp_path / "other.db"
    shutil.copy(s.db, other)
    os.replace(other, s.db)  # a new inode at the path
    h = wait_healthz(s, 503, 10, "after the file was replaced")
    assert "deleted or replaced" in h.text
    s.hit("swap/db")
    rc = s.stop(expect_rc=None)
    assert rc == 1  # the kept hit could not be written, and the exit status says so
    assert "1 hits could NOT be written" in s.stderr()
