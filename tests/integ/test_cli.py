"""The command line: help, version, exit statuses, option checking, the man page."""

import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import GHIT_BIN, REPO_ROOT, assert_no_sanitizer_report, run_ghit, svg_title, threads


def serve_help():
    p = run_ghit("serve", "--help")
    assert p.returncode == 0
    return p.stdout


def options_of(help_text):
    return sorted(set(re.findall(r"^\s+(?:-\w, )?(--[a-z][a-z0-9-]*)", help_text, re.M)))


def test_help_lists_commands():
    p = run_ghit("--help")
    assert p.returncode == 0
    for cmd in ("serve", "render", "badge"):
        assert re.search(r"^\s+%s\b" % cmd, p.stdout, re.M), cmd


def test_version_prints_name_and_semver():
    p = run_ghit("--version")
    assert p.returncode == 0
    assert re.fullmatch(r"ghit \d+\.\d+\.\d+\n", p.stdout), p.stdout
    version_file = os.path.join(REPO_ROOT, "VERSION")
    if os.path.exists(version_file):
        assert p.stdout.split()[1] == open(version_file).read().strip()


@pytest.mark.parametrize("args", [["frobnicate"], ["--frobnicate"], []], ids=["unknown-command", "unknown-flag", "no-command"])
def test_unknown_or_missing_command_exits_2_with_usage(args):
    p = run_ghit(*args)
    assert p.returncode == 2
    assert "usage" in (p.stderr + p.stdout).lower()


SERVE_OPTIONS = [
    "--listen", "--db", "--flush-interval", "--threads", "--max-connections",
    "--max-connections-per-ip", "--trusted-proxy", "--new-repos-per-client", "--idle-timeout", "--request-timeout", "--max-url-bytes",
    "--max-header-bytes", "--connection-memory", "--max-repos", "--shutdown-timeout",
    "--log-level", "--label", "--color", "--label-color", "--style", "--theme", "--view",
    "--format", "--sep",
]

DEFAULTS = {
    "--flush-interval": "1000", "--max-connections": "4096", "--max-connections-per-ip": "1024",
    "--idle-timeout": "30", "--request-timeout": "10", "--max-url-bytes": "2048",
    "--max-header-bytes": "4096", "--max-repos": "10000000", "--new-repos-per-client": "60",
    "--trusted-proxy": "none",
}


def help_entry(text, opt):
    """The --help entry of opt: its line and the continuation lines under the margin."""
    lines = text.splitlines()
    start = [i for i, ln in enumerate(lines) if re.match(r"\s+%s\s" % re.escape(opt), ln)][0]
    entry = [lines[start]]
    for ln in lines[start + 1:]:
        if not ln.startswith(" " * 30):
            break
        entry.append(ln)
    return " ".join(part.strip() for part in entry)


def test_serve_help_lists_every_option_with_its_default():
    text = serve_help()
    listed = options_of(text)
    for opt in SERVE_OPTIONS:
        assert opt in listed, opt
        assert "(default:" in help_entry(text, opt), help_entry(text, opt)
    for opt, default in DEFAULTS.items():
        assert "(default: %s)" % default in help_entry(text, opt), help_entry(text, opt)
    assert max(len(ln) for ln in text.splitlines()) <= 79


BAD_VALUES = [
    ("--flush-interval", "abc"), ("--flush-interval", "-5"), ("--flush-interval", ""),
    ("--flush-interval", "99999999999999999999"), ("--threads", "0"), ("--threads", "1x"),
    ("--max-connections", "none"), ("--max-connections-per-ip", "-1"),
    ("--trusted-proxy", "10.0.0.0/33"), ("--trusted-proxy", "example.org"),
    ("--new-repos-per-client", "0"), ("--connection-memory", "8192"), ("--idle-timeout", "2s"),
    ("--request-timeout", "x"), ("--max-url-bytes", "lots"), ("--max-header-bytes", "-8192"),
    ("--connection-memory", "1e9"), ("--max-repos", "-1"), ("--shutdown-timeout", "soon"),
    ("--log-level", "loud"), ("--style", "weird"), ("--theme", "dusk"), ("--view", "yesterday"),
    ("--format", "roman"), ("--sep", "weird"),
    ("--listen", "nohost"), ("--listen", "127.0.0.1:abc"), ("--listen", "127.0.0.1:99999"),
    ("--listen", "127.0.0.1:"), ("--listen", "127.0.0.1:-1"),
]


def run_refused(args, timeout=10):
    """Runs `ghit ARGS`, which must not start serving: returns (returncode, stderr).

    Fails at once if the server says it is listening."""
    errf = tempfile.TemporaryFile()
    proc = subprocess.Popen([GHIT_BIN, *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=errf)
    try:
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline:
            errf.seek(0)
            if b"listening on" in errf.read():
                break
            time.sleep(0.05)
        errf.seek(0)
        err = errf.read().decode("utf-8", "replace")
        if proc.poll() is None:
            pytest.fail("ghit %s started instead of refusing:\n%s" % (" ".join(args), err))
        assert_no_sanitizer_report(err)
        return proc.returncode, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        errf.close()


@pytest.mark.parametrize("opt,value", BAD_VALUES, ids=["%s=%s" % ov for ov in BAD_VALUES])
def test_bad_option_value_exits_2_with_message(tmp_path, opt, value):
    db = tmp_path / "ghit.db"
    args = ["serve", "--db", str(db)]
    if opt != "--listen":
        args += ["--listen", "127.0.0.1:0"]
    rc, err = run_refused(args + [opt, value])
    assert rc == 2, (rc, err)
    assert opt in err, err
    assert not db.exists(), "a refused command line created the database"


@pytest.mark.parametrize("opt,value,says", [
    ("--count", "bogus", "--count bogus: must be one of any, camo"),
    ("--forwarded-header", "x", "--forwarded-header x: must be one of x-forwarded-for, forwarded"),
])
def test_a_choice_refused_names_the_choices(tmp_path, opt, value, says):
    rc, err = run_refused(["serve", "--db", str(tmp_path / "ghit.db"), "--listen", "127.0.0.1:0",
                           opt, value])
    assert rc == 2 and says in err, err


@pytest.mark.parametrize("args", [["--bogus"], ["stray-argument"], ["--db"], ["--threads"]])
def test_bad_serve_command_line_exits_2(tmp_path, args):
    p = run_ghit("serve", "--listen", "127.0.0.1:0", *args, cwd=tmp_path, timeout=10)
    assert p.returncode == 2
    assert p.stderr.strip()


def test_listen_on_busy_port_fails_cleanly(server, tmp_path):
    p = run_ghit("serve", "--listen", "127.0.0.1:%d" % server.port, "--db", str(tmp_path / "b.db"), timeout=10)
    assert p.returncode != 0
    assert str(server.port) in p.stderr
    assert server.get("/healthz").status == 200


def http_threads(pid):
    """The HTTP threads of process pid, by the names libmicrohttpd gives them."""
    return sorted(name for name, _ in threads(pid) if name.startswith("MHD-"))


# --threads once never reached libmicrohttpd (the option list ended before it): every
# server ran one HTTP thread, whatever it was told.
@pytest.mark.parametrize("args, want", [
    ([], ["MHD-worker"] * 2),
    (["--threads", "1"], ["MHD-single"]),
    (["--threads", "3"], ["MHD-worker"] * 3),
])
def test_threads_sets_the_http_threads(make_server, args, want):
    s = make_server(*args)
    # A thread takes its name once it runs, which can be after "listening" is logged (seen
    # once under the sanitizers: one MHD-worker of two).
    deadline = time.monotonic() + 5
    while http_threads(s.proc.pid) != want and time.monotonic() < deadline:
        time.sleep(0.02)
    assert http_threads(s.proc.pid) == want
    for i in range(6):  # each on a new connection, so every thread takes some
        assert svg_title(s.hit("thr/eads").body) == "hits: %d" % (i + 1)


def environ_lines(pid):
    """The process's environment as its memory holds it, one string a line. glibc splits
    GLIBC_TUNABLES in place at its ':' as it reads it, so each tunable shows on a line."""
    with open("/proc/%d/environ" % pid, "rb") as f:
        return f.read().decode(errors="replace").split("\0")


@pytest.mark.parametrize("have, want", [
    (None, ["GLIBC_TUNABLES=glibc.malloc.hugetlb=1"]),
    ("glibc.malloc.arena_max=4", ["GLIBC_TUNABLES=glibc.malloc.arena_max=4",
                                  "glibc.malloc.hugetlb=1"]),
    ("glibc.malloc.hugetlb=0", ["GLIBC_TUNABLES=glibc.malloc.hugetlb=0"]),  # the user's choice
], ids=["unset", "other-tunables", "declined"])
def test_serve_asks_glibc_for_huge_pages(make_server, monkeypatch, have, want):
    """serve runs itself again with glibc.malloc.hugetlb=1 (see main.c), in the same process."""
    if have is None:
        monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    else:
        monkeypatch.setenv("GLIBC_TUNABLES", have)
    s = make_server()
    env = environ_lines(s.proc.pid)
    for line in want:
        assert line in env
    assert ("glibc.malloc.hugetlb=1" in " ".join(env)) == (have != "glibc.malloc.hugetlb=0")
    assert svg_title(s.hit("huge/pages").body) == "hits: 1"
    # ps, pgrep -x and killall -HUP (logrotate) find it by its name, not "exe"
    with open("/proc/%d/comm" % s.proc.pid) as f:
        assert f.read().strip() == os.path.basename(GHIT_BIN)
    assert os.path.realpath("/proc/%d/exe" % s.proc.pid) == os.path.realpath(GHIT_BIN)


def test_serve_started_by_a_link_has_the_link_name(tmp_path):
    """An install that links bin/ghit to ghit-0.1.0: the server is named as it was started."""
    target = tmp_path / "ghit-0.1.0"
    shutil.copy(GHIT_BIN, target)
    link = tmp_path / "ghit"
    os.symlink(target, link)
    env = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}  # the re-exec happens
    p = subprocess.Popen([str(link), "serve", "--listen", "127.0.0.1:0", "--db", str(tmp_path / "l.db")],
                         stderr=subprocess.PIPE, env=env)
    try:
        assert b"listening on" in p.stderr.readline()
        with open("/proc/%d/comm" % p.pid) as f:
            assert f.read().strip() == "ghit"
    finally:
        p.terminate()
        assert p.wait(timeout=20) == 0


def test_options_are_honoured_by_the_server(make_server):
    s = make_server("--label", "views", "--threads", "1", "--log-level", "debug", "--max-repos", "1")
    r = s.hit("opt/ions")
    assert r.status == 200
    assert svg_title(r.body) == "views: 1"
    assert svg_title(s.get("/count.svg?repo=opt/ions&label=other").body) == "other: 1"
    assert s.hit("second/repo").status == 503


# --- man page -------------------------------------------------------------------------

MAN = os.path.join(REPO_ROOT, "doc", "ghit.1")


def man_text():
    if not os.path.exists(MAN):
        pytest.skip("doc/ghit.1 does not exist yet")
    text = open(MAN, encoding="utf-8").read()
    text = re.sub(r"\\f[BIRP]|\\f\(..", "", text)
    return text.replace("\\-", "-").replace("\\&", "")


def test_man_page_lists_every_serve_option():
    text = man_text()
    missing = [o for o in options_of(serve_help()) if not re.search(re.escape(o) + r"(?![a-z-])", text)]
    assert not missing, "in `ghit serve --help` but not in doc/ghit.1: %s" % missing


def test_man_page_lists_every_render_option():
    text = man_text()
    p = run_ghit("render", "--help")
    assert p.returncode == 0
    missing = [o for o in options_of(p.stdout) if not re.search(re.escape(o) + r"(?![a-z-])", text)]
    assert not missing, "in `ghit render --help` but not in doc/ghit.1: %s" % missing


def test_man_page_names_the_version():
    text = man_text()
    version = run_ghit("--version").stdout.split()[1]
    th = [ln for ln in text.splitlines() if ln.startswith(".TH")]
    assert th and version in th[0], th


def readme_option_defaults():
    """{option: default} from README.md's Configuration table, which says --help prints it too."""
    text = open(os.path.join(REPO_ROOT, "README.md"), encoding="utf-8").read()
    table = text.split("\n## Configuration\n", 1)[1].split("\n### ", 1)[0]
    found = {}
    for line in table.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) != 3 or not cells[0].startswith("`--"):
            continue
        names = re.findall(r"`(--[a-z][a-z0-9-]*)", cells[0])
        # one default a name: `value`, or none written bare
        defaults = re.findall(r"`([^`]*)`|\bnone\b", cells[1])
        defaults = [d or "none" for d in defaults]
        assert len(names) == len(defaults), line
        found.update(zip(names, defaults))
    return found


def test_readme_configuration_table_matches_serve_help():
    text = serve_help()
    readme = readme_option_defaults()
    listed = [o for o in options_of(text) if o != "--help"]
    assert sorted(readme) == listed, "README's table and `ghit serve --help` list other options"
    for opt in listed:
        want = re.search(r"\(default: ([^)]*)\)", help_entry(text, opt)).group(1)
        assert readme[opt] == want, "%s: README says %r, --help %r" % (opt, readme[opt], want)


def test_listen_on_ipv6_loopback(make_server):
    import socket

    try:
        probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        probe.bind(("::1", 0))
        probe.close()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    s = make_server(listen="[::1]:0")
    assert s.host == "::1"
    assert svg_title(s.hit("six/six").body) == "hits: 1"
    # bound to ::1 only, as configured
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", s.port), timeout=2).close()


# --- ghit badge ------------------------------------------------------------------------


def badge_title(*args):
    p = run_ghit("badge", *args)
    assert p.returncode == 0, (args, p.stderr)
    return svg_title(p.stdout.encode("utf-8"))


@pytest.mark.parametrize("args", [["--total", "100", "--today", "5"], ["--today", "5", "--total", "100"]],
                         ids=["total-first", "today-first"])
def test_badge_today_total_shows_today_then_total(args):
    assert badge_title(*args, "--view", "today-total") == "hits: 5 / 100"


def test_badge_views_pick_the_right_count():
    assert badge_title("--total", "100", "--today", "5", "--view", "today") == "hits: 5"
    assert badge_title("--total", "100", "--today", "5", "--view", "total") == "hits: 100"
    assert badge_title("--total", "100", "--today", "5") == "hits: 100"
    assert badge_title("--today", "5", "--view", "today-total") == "hits: 5 / 0"


def test_badge_counts_go_to_64_bits_as_badge_makers_do():
    assert badge_title("--total", "18446744073709551615") == "hits: 18,446,744,073,709,551,615"
    p = run_ghit("badge", "--total", "18446744073709551616")
    assert p.returncode == 2 and "from 0 to 18446744073709551615" in p.stderr, p.stderr


def test_badge_number_formats():
    assert badge_title("--format", "short", "--total", "1234567") == "hits: 1.2M"
    assert badge_title("--total", "1234567") == "hits: 1,234,567"
    assert badge_title("--format", "plain", "--total", "1234567") == "hits: 1234567"
    assert badge_title("--sep", "dot", "--total", "1234567") == "hits: 1.234.567"
    assert badge_title("--format", "short", "--total", "1234567", "--today", "4321",
                       "--view", "today-total") == "hits: 4.3k / 1.2M"


@pytest.mark.parametrize("args", [["--view", "yesterday"], ["--view", "TODAY"], ["--format", "roman"],
                                  ["--total", "-1"], ["--today", "x"]],
                         ids=["view", "upper-case-view", "format", "negative-total", "bad-today"])
def test_badge_bad_option_exits_2(args):
    p = run_ghit("badge", "--total", "1", *args)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert args[0] in p.stderr, p.stderr
    assert "<svg" not in p.stdout


# --- every command's options --------------------------------------------------------

COMMANDS = ["serve", "badge", "render", "stats", "export", "import", "set", "delete", "vacuum",
            "import-2015"]


# badge once said "--errror needs a value", and stats and render "expected --OPTION VALUE":
# each checked for a value before it knew the option.
@pytest.mark.parametrize("cmd", COMMANDS)
@pytest.mark.parametrize("args", [["--errror"], ["--bogus", "1"], ["--bogus=1"]],
                         ids=["alone", "with-value", "with-equals"])
def test_every_command_refuses_an_unknown_option(tmp_path, cmd, args):
    p = run_ghit(cmd, *args, cwd=tmp_path, input="", timeout=10)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert "unknown option '%s'" % args[0].split("=")[0] in p.stderr, p.stderr
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("cmd", COMMANDS)
def test_every_command_help_lists_help(cmd):
    p = run_ghit(cmd, "--help")
    assert p.returncode == 0, p.stderr
    assert re.search(r"^\s+-h, --help\s+show this help and exit$", p.stdout, re.M), p.stdout
    # A terminal of 80 columns shows it unbroken (badge's --batch names were one 112-column line).
    wide = [ln for ln in p.stdout.splitlines() if len(ln) > 79]
    assert wide == [], wide


# ghit set on a path that did not exist made a new database there (and its -flushes file),
# said "a/b now has 5 hits" and exited 0; delete made both files, then said "unknown repo".
@pytest.mark.parametrize("args", [["set", "--total", "5"], ["delete"]], ids=["set", "delete"])
def test_set_and_delete_refuse_a_missing_database_and_make_none(tmp_path, args):
    p = run_ghit(args[0], "--db", "typo.db", "--repo", "a/b", *args[1:], cwd=tmp_path)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert "typo.db: No such file or directory" in p.stderr, p.stderr
    assert p.stdout == ""
    assert os.listdir(tmp_path) == []


CHANGES = {"set": ["--repo", "a/b", "--total", "5"], "delete": ["--repo", "a/b"], "vacuum": []}


def file_state(path):
    """What must not change of a file a command refused: its bytes, size and mtime."""
    st = os.stat(path)
    return path.read_bytes(), st.st_size, st.st_mtime_ns


# SQLite reads an empty file as an empty database: set, delete and vacuum made one of a file
# just touched (or emptied by a stray `> ghit.db`), with ghit's tables and a -flushes file
# beside it; set said "a/b now has 5 hits" and exited 0.
@pytest.mark.parametrize("cmd", sorted(CHANGES))
@pytest.mark.parametrize("kind", ["zero-bytes", "sqlite-without-tables"])
def test_set_delete_vacuum_refuse_an_empty_file_untouched(tmp_path, cmd, kind):
    db = tmp_path / "empty.db"
    db.touch()
    if kind == "sqlite-without-tables":
        subprocess.run(["sqlite3", str(db), "CREATE TABLE t(x); DROP TABLE t"], check=True)
    os.utime(db, ns=(10**18, 10**18))  # in the past: a rewrite within the second shows too
    before = file_state(db)
    p = run_ghit(cmd, "--db", str(db), *CHANGES[cmd])
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    says = "an empty file (0 bytes)" if kind == "zero-bytes" else "an empty SQLite database"
    assert "ghit %s: %s is %s, not a ghit database; ghit %s changes an existing one" % (
        cmd, db, says, cmd) in p.stderr, p.stderr
    assert p.stdout == ""
    assert file_state(db) == before
    assert os.listdir(tmp_path) == ["empty.db"]


# A FIFO passed the path's check, and the lock's probe then opened it to read, which waits for a
# writer: set and delete hung for good.
@pytest.mark.parametrize("cmd", sorted(CHANGES))
def test_set_delete_vacuum_refuse_a_fifo_at_once(tmp_path, cmd):
    fifo = tmp_path / "fifo.db"
    os.mkfifo(fifo)
    p = run_ghit(cmd, "--db", str(fifo), *CHANGES[cmd], timeout=10)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "%s is not a regular file" % fifo in p.stderr, p.stderr
    assert os.listdir(tmp_path) == ["fifo.db"]


# set looked at the path (stat), then opened it, making it if missing: a database removed in
# between came back as a new one holding this repo, and set said it worked. strace holds the
# first system call on the path for a second, and the test removes the files meanwhile.
def test_set_on_a_database_removed_after_its_first_look_makes_none(tmp_path):
    strace = shutil.which("strace")
    assert strace, "strace is missing (scripts/deps.sh test installs it)"
    db = tmp_path / "gone.db"
    p = run_ghit("import", "--db", str(db), input='{"repo":"a/b","total":1}\n')
    assert p.returncode == 0, p.stderr
    trace = tmp_path / "trace"
    proc = subprocess.Popen([strace, "-f", "-qq", "-o", str(trace), "-P", str(db),
                             "-e", "inject=all:delay_exit=1000000:when=1",
                             GHIT_BIN, "set", "--db", str(db), "--repo", "a/b", "--total", "5"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while str(db) not in (trace.read_text() if trace.exists() else ""):
        assert time.monotonic() < deadline and proc.poll() is None, "ghit never looked at the path"
        time.sleep(0.01)
    for name in os.listdir(tmp_path):
        if name.startswith("gone.db"):
            os.unlink(tmp_path / name)
    out, err = proc.communicate(timeout=60)
    assert_no_sanitizer_report(err)
    assert proc.returncode == 1, (proc.returncode, out, err)
    assert "%s: No such file or directory; --db must name an existing ghit database" % db in err, err
    assert out == ""
    assert sorted(os.listdir(tmp_path)) == ["trace"]


# A database ghit makes: import and serve make a missing file, and one just touched (0 bytes,
# nothing to lose) the same way, as the README's --db says.
def test_import_and_serve_make_an_empty_file_a_database(tmp_path, make_server):
    db = tmp_path / "touched.db"
    db.touch()
    p = run_ghit("import", "--db", str(db), input='{"repo":"a/b","total":3}\n')
    assert p.returncode == 0, p.stderr
    assert "imported 1 repos, 3 hits" in p.stdout
    served = tmp_path / "served.db"
    served.touch()
    s = make_server(db=served)
    s.hit("a/b")
    assert s.total("a/b") == 1
    s.stop()
    p = run_ghit("stats", "--db", str(served), "--repo", "a/b")
    assert p.returncode == 0 and re.search(r"^total\s+1$", p.stdout, re.M), p.stdout + p.stderr


# import and serve said "unable to open database file" of a path whose directory is missing.
@pytest.mark.parametrize("cmd", ["import", "serve"])
def test_a_database_in_a_missing_directory_is_named_so(tmp_path, cmd):
    db = tmp_path / "no" / "such" / "x.db"
    args = ["--listen", "127.0.0.1:0"] if cmd == "serve" else []
    p = run_ghit(cmd, *args, "--db", str(db), input="", timeout=20)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "cannot make %s: the directory %s does not exist" % (db, db.parent) in p.stderr, p.stderr
    assert os.listdir(tmp_path) == []


def badge_lines(text):
    p = run_ghit("badge", "--batch", input=text)
    assert p.returncode == 0, p.stderr
    return p.stdout.split("\n")[:-1]


def error_badge(message):
    p = run_ghit("badge", "--error", "--message", message)
    assert p.returncode == 0, p.stderr
    return p.stdout.rstrip("\n")


# A line with a misspelt field name, or a field without '=', once drew the default badge,
# "hits: 0", as if it had been right; a bad value drew an error badge.
def test_badge_batch_refuses_unknown_fields_as_it_refuses_bad_values():
    lines = badge_lines("view=yesterday\nbogus=1\nstyle\nlabel=x\tstyle=flat\tcolour=red\n"
                        "message=fine\n\n")
    assert lines[:3] == [error_badge("view must be total, today or today-total"),
                         error_badge("unknown field bogus"),
                         error_badge("a field is not NAME=VALUE")]
    assert error_badge("unknown field bogus") != badge_lines("message=unknown field bogus\n")[0]
    assert svg_title(lines[3].encode()) == "x: unknown field colour"
    assert svg_title(lines[4].encode()) == "hits: fine"
    assert svg_title(lines[5].encode()) == "hits: 0"  # an empty line: a badge of no fields
    assert len(lines) == 6


def test_badge_batch_takes_the_aliases_a_badge_url_takes():
    def badge(*args):
        p = run_ghit("badge", *args)
        assert p.returncode == 0, p.stderr
        return p.stdout.rstrip("\n")
    assert badge_lines("colorB=red\tcolorA=blue\n") == [badge("--color", "red", "--label-color", "blue")]
    assert badge_lines("label_color=blue\n") == [badge("--label-color", "blue")]


def test_a_result_that_cannot_be_written_fails(tmp_path):
    # stats (and render's summary) exited 0 with their output lost on a full disk; export said
    # "cannot write the output" and exited 1. Every command's printed result is checked so.
    db = str(tmp_path / "out.db")
    p = run_ghit("import", "--db", db, input='{"repo":"out/a","total":2,"first_day":"2026-01-01","days":{}}\n')
    assert p.returncode == 0, p.stderr
    cases = [("stats", "--db", db), ("stats", "--db", db, "--repo", "out/a"),
             ("render", "--db", db, "--out", str(tmp_path / "badges")), ("export", "--db", db)]
    for args in cases:
        with open("/dev/full", "w") as full:
            p = subprocess.run([GHIT_BIN, *args], stdout=full, stderr=subprocess.PIPE, text=True,
                               timeout=30)
        assert p.returncode == 1, (args, p.stderr)
        assert p.stderr.startswith("ghit %s: cannot write the output" % args[0]), (args, p.stderr)
