"""Issue 9's `ghit stats`: the store's figures as a table, beside a running server."""

import re
import time

from conftest import run_ghit, utc_today


def wait_stored(server, repo, total):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        p = run_ghit("stats", "--db", server.db, "--repo", repo)
        if p.returncode == 0 and re.search(r"^total\s+%s$" % total, p.stdout, re.M):
            return p
        time.sleep(0.05)
    raise AssertionError("the store never showed %s for %s:\n%s%s" % (total, repo, p.stdout, p.stderr))


def test_stats_beside_a_running_server(server):
    for _ in range(3):
        server.hit("cli/a")
    server.hit("cli/b")
    p = wait_stored(server, "cli/a", 3)
    assert re.search(r"^first seen\s+%s$" % utc_today(), p.stdout, re.M)
    assert re.search(r"^%s\s+3$" % utc_today(), p.stdout, re.M)  # the last line of 30 days
    assert len(re.findall(r"^\d{4}-\d\d-\d\d\s+\d+$", p.stdout, re.M)) == 30
    wait_stored(server, "cli/b", 1)
    p = run_ghit("stats", "--db", server.db, "--top", "1")
    assert p.returncode == 0, p.stderr
    assert "2 repos, 4 hits" in p.stdout
    tops = re.findall(r"^\s+1\s+(\S+)\s+(\S+)$", p.stdout, re.M)
    assert tops == [("cli/a", "3"), ("cli/a", "3")]  # the day, and the 7 days
    assert not re.search(r"^\s+2\s", p.stdout, re.M)
    assert server.total("cli/a") == 3  # reading counted nothing, and the server still runs


def test_stats_of_another_day_and_errors(server):
    server.hit("cli/c")
    wait_stored(server, "cli/c", 1)
    p = run_ghit("stats", "--db", server.db, "--day", "2001-01-01")
    assert p.returncode == 0 and "(no hits)" in p.stdout
    assert run_ghit("stats", "--db", server.db, "--repo", "no/such").returncode == 3
    for args in (["--repo", "bad"], ["--top", "0"], ["--day", "2001-02-30"], ["--frob", "1"],
                 ["--frob"], ["--top"], []):
        p = run_ghit("stats", "--db", server.db, *args) if args else run_ghit("stats")
        assert p.returncode == 2, (args, p.stderr)
        assert p.stderr.startswith("ghit stats:")
    # A last option without a value was "expected --OPTION VALUE", known or not.
    p = run_ghit("stats", "--db", server.db, "--frob")
    assert "unknown option '--frob'" in p.stderr, p.stderr
    p = run_ghit("stats", "--db", server.db, "--top")
    assert "--top needs a value" in p.stderr, p.stderr
    p = run_ghit("stats", "--db", server.db + ".missing")
    assert p.returncode == 1


def test_stats_counts_the_journal_rows_not_merged_yet(make_server, tmp_path):
    # A flush goes to the journal; the merger folds it into the tables seconds later, and a
    # server killed with -9 leaves it there until the next start. stats counted the tables
    # only: its summary and --repo missed those hits while its top lists and export had them.
    from conftest import db_with_journal, wait_written

    db = str(tmp_path / "lag.db")
    s = make_server(db=db)
    for _ in range(2):
        s.hit("lag/both")
    s.stop()  # merged at the stop: in the tables
    s.start()
    for repo in ("lag/both", "lag/new", "lag/new", "lag/new"):
        s.hit(repo)
    wait_written(s, 4)
    s.kill()
    con, mark = db_with_journal(db)
    try:
        pending = con.execute("SELECT count(*) FROM j.journal WHERE id > ?", (mark,)).fetchone()[0]
        tables = dict(con.execute("SELECT name, total FROM repos").fetchall())
    finally:
        con.close()
    assert pending > 0 and tables == {"lag/both": 2}, "the merger ran before the kill"

    p = run_ghit("stats", "--db", db)
    assert p.returncode == 0, p.stderr
    assert "2 repos, 6 hits" in p.stdout, p.stdout
    tops = re.findall(r"^\s+1\s+(\S+)\s+(\S+)$", p.stdout, re.M)
    assert tops == [("lag/both", "3"), ("lag/both", "3")], p.stdout  # ties go by name
    for repo, total, first in (("lag/new", 3, utc_today()), ("lag/both", 3, utc_today())):
        p = run_ghit("stats", "--db", db, "--repo", repo)
        assert p.returncode == 0, p.stderr
        assert re.search(r"^total\s+%d$" % total, p.stdout, re.M), p.stdout
        assert re.search(r"^first seen\s+%s$" % first, p.stdout, re.M), p.stdout
        assert re.search(r"^hits on day\s+%d " % total, p.stdout, re.M), p.stdout
        assert re.search(r"^%s\s+%d$" % (utc_today(), total), p.stdout, re.M), p.stdout
    # What export says, stats says.
    p = run_ghit("export", "--db", db)
    assert '"repo":"lag/new","total":3' in p.stdout and '"repo":"lag/both","total":3' in p.stdout


def table_after(text, header):
    """The lines of the table whose header line matches header, up to a blank line."""
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if re.match(header, line))
    end = lines.index("", start)
    return lines[start:end]


# The hits column was 14 characters wide: a count of 19 digits or more (2^63 - 1 is 25 characters
# with its commas) stuck out past its header and the other rows, in every table.
def test_stats_columns_fit_the_widest_count(tmp_path):
    import json

    top = "9223372036854775807"
    db = str(tmp_path / "big.db")
    today = utc_today()
    text = "".join(json.dumps(o) + "\n" for o in [
        {"repo": "big/day", "total": int(top), "days": {today: int(top)}},
        {"repo": "small/one", "total": 5, "days": {today: 5}}])
    assert run_ghit("import", "--db", db, input=text).returncode == 0
    p = run_ghit("set", "--db", db, "--repo", "big/total", "--total", top)
    assert p.returncode == 0 and "big/total now has %s hits" % top in p.stdout, p.stderr

    p = run_ghit("stats", "--db", db)
    assert p.returncode == 0, p.stderr
    assert "3 repos, 9,223,372,036,854,775,807 hits" in p.stdout, p.stdout
    for heading in (r"^top 10 of the day", r"^top 10 of the 7 days"):
        table = table_after(p.stdout + "\n", heading)[1:]
        assert re.match(r"^rank  repo +hits$", table[0]), table
        assert [line.split() for line in table[1:]] == [
            ["1", "big/day", "9,223,372,036,854,775,807"], ["2", "small/one", "5"]], table
        # Right-aligned under its header, the name column as wide for every line.
        assert len({len(line) for line in table}) == 1, "\n".join(table)
        assert len({line.index("big/day" if "big" in line else "small/one" if "small" in line
                               else "repo") for line in table}) == 1, "\n".join(table)

    p = run_ghit("stats", "--db", db, "--repo", "big/day")
    assert p.returncode == 0, p.stderr
    table = table_after(p.stdout + "\n", r"^day +hits$")
    assert len(table) == 31 and table[-1].split() == [today, "9,223,372,036,854,775,807"], table
    assert len({len(line) for line in table}) == 1, "\n".join(table)
    p = run_ghit("stats", "--db", db, "--repo", "big/total")
    assert p.returncode == 0, p.stderr
    assert re.search(r"^total\s+9,223,372,036,854,775,807$", p.stdout, re.M), p.stdout
    table = table_after(p.stdout + "\n", r"^day +hits$")
    assert len({len(line) for line in table}) == 1 and table[-1].split() == [today, "0"], table
