#!/bin/bash
# The cost of issue 9's history and top queries on a large store, measured through ghit.
#
#   bench/stats.sh                                  REPOS=1000000 DAYS=365 PER_DAY=20000
#   REPOS=10000 DAYS=30 PER_DAY=500 OUT=- bench/stats.sh     a quick check of the script
#
# 1. Makes a ghit database (ghit serve creates the schema, then stops) and fills it with
#    sqlite3: REPOS repos, and for each of the DAYS days up to yesterday PER_DAY draws of
#    a repo whose rank r is log-uniform over 1..REPOS (P(rank <= r) = ln r / ln REPOS,
#    Zipf's law with s = 1, the shape of GitHub's stars and views), each draw giving
#    1 + REPOS / (r * 50) hits. Draws of one repo on one day add up, so popular repos
#    have a row every day and the long tail a row now and then. The file is kept in
#    $WORK (reused by a later run with the same sizes: KEEP_DB=1).
# 2. Starts ghit serve on it (127.0.0.1:$PORT) and times, with curl, warm, QUERIES times
#    each: /api/v1/repos/R/days over a whole year for repos of rank 1, 100, 10,000 and
#    the tail; /api/v1/top for one day, 7 days and 31 days, each ending on another day
#    (not cached), and one cached; and, for comparison, one badge hit. Prints the medians and maxima, and SQLite's query plans.
# Bounded: every wait has a time limit; the server is stopped on exit, also on Ctrl-C.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
REPOS=${REPOS:-1000000}
DAYS=${DAYS:-365}
PER_DAY=${PER_DAY:-20000}
QUERIES=${QUERIES:-20}
PORT=${PORT:-18095}
GHIT=${GHIT:-$ROOT/build/ghit}
WORK=${WORK:-/tmp/ghit-bench-stats}
OUT=${OUT:-$ROOT/bench/results/$(date -u +%F)-stats.txt}
DB=$WORK/stats-$REPOS-$DAYS-$PER_DAY.db
PID=""

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
cleanup() { [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; true; }
trap cleanup EXIT INT TERM

bench_setup # one benchmark at a time; sqlite3 installed
command -v curl >/dev/null || die "curl is required (apt-get install curl)"
mkdir -p "$WORK"
prepare_ghit # built, and a private copy measured

# Starts ghit on $DB; waits (at most 300 s: loading a million repos) until it listens.
start_ghit() {
    "$GHIT" serve --listen "127.0.0.1:$PORT" --db "$DB" --max-repos "$((REPOS + 1000))" \
        --flush-interval 1000 2>"$WORK/ghit.log" 9>&- &
    PID=$!
    for ((i = 0; i < 3000; i++)); do
        grep -q "listening on" "$WORK/ghit.log" && return 0
        kill -0 "$PID" 2>/dev/null || die "ghit exited: $(cat "$WORK/ghit.log")"
        sleep 0.1
    done
    die "ghit did not start within 300 s"
}

stop_ghit() {
    kill -TERM "$PID"
    wait "$PID" || true
    PID=""
}

if [ "${KEEP_DB:-0}" = 1 ] && [ -s "$DB" ]; then
    note "reusing $DB"
else
    rm -f "$DB" "$DB-wal" "$DB-shm" "$DB-flushes" "$DB-flushes-wal" "$DB-flushes-shm"
    start_ghit # makes the schema
    stop_ghit
    note "filling $DB: $REPOS repos, $DAYS days x $PER_DAY draws (takes minutes)"
    start=$(date +%s)
    sqlite3 "$DB" <<SQL
PRAGMA journal_mode=OFF;
PRAGMA synchronous=OFF;
PRAGMA cache_size=-400000;
PRAGMA temp_store=FILE;
DROP INDEX daily_by_day;
CREATE TEMP TABLE draws(r INTEGER, d INTEGER);
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $DAYS * $PER_DAY - 1)
INSERT INTO draws
SELECT CAST(exp((abs(random()) % 1000000000) / 1e9 * ln($REPOS)) AS INTEGER),
       i / $PER_DAY
FROM n;
CREATE TEMP TABLE hits AS
SELECT r, d, sum(1 + $REPOS / (r * 50)) AS h FROM draws GROUP BY r, d;
DROP TABLE draws;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $REPOS)
INSERT INTO repos(name, total, first_day)
SELECT printf('user%06d/project-%07d', i / 3, i), 0, date('now', '-' || $DAYS || ' days') FROM n;
INSERT INTO daily(repo, day, hits)
SELECT printf('user%06d/project-%07d', r / 3, r), date('now', '-' || ($DAYS - d) || ' days'), h
FROM hits ORDER BY 1, 2;
UPDATE repos SET total = (SELECT coalesce(sum(hits), 0) FROM daily WHERE repo = name);
CREATE INDEX daily_by_day ON daily(day);
ANALYZE;
SQL
    note "filled in $(($(date +%s) - start)) s"
fi

rows=$(sqlite3 "$DB" "select count(*) from daily")
size=$(du -m "$DB" | cut -f1)
start_ghit
base=http://127.0.0.1:$PORT
yesterday=$(date -u -d yesterday +%F)
year_ago=$(date -u -d "$((DAYS - 1)) days ago" +%F)
name() { printf 'user%06d/project-%07d' $(($1 / 3)) "$1"; }

# time_url LABEL URL: QUERIES timed fetches after one warm-up; prints median and max in ms.
# @DAY@ in URL is a different day for each fetch (2 to QUERIES + 2 days ago), so that
# each top list is read from the store, not from ghit's 30-second cache of top lists.
time_url() {
    local t
    curl -s -o /dev/null --max-time 60 "${2//@DAY@/$(date -u -d '1 day ago' +%F)}"
    t=$(for ((q = 0; q < QUERIES; q++)); do
        curl -s -o /dev/null --max-time 60 -w '%{time_total}\n' \
            "${2//@DAY@/$(date -u -d "$((q + 2)) days ago" +%F)}"
    done | sort -n | awk '{ v[NR] = $1 * 1000 } END { printf "%8.2f %8.2f", v[int((NR + 1) / 2)], v[NR] }')
    printf '%-52s %s\n' "$1" "$t"
}

REPORT=$WORK/report.txt
{
    echo "ghit statistics queries, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, git $(git -C "$ROOT" rev-parse --short HEAD)"
    echo "store: $REPOS repos, $rows daily rows over $DAYS days ($PER_DAY log-uniform draws a day), $size MB"
    echo "each: $QUERIES requests with curl after one warm-up, one connection each (ms, incl. HTTP)"
    echo
    printf '%-52s %8s %8s\n' query median max
    for rank in 1 100 10000 $((REPOS / 2)); do
        time_url "history, $DAYS days, repo of rank $rank" "$base/api/v1/repos/$(name "$rank")/days?from=$year_ago&to=$yesterday"
    done
    time_url "history, 30 days (default), rank 100" "$base/api/v1/repos/$(name 100)/days"
    time_url "chart.svg, 365 days, rank 100" "$base/chart.svg?repo=$(name 100)&days=365"
    time_url "top 10 of one day" "$base/api/v1/top?day=@DAY@"
    time_url "top 10 of 7 days" "$base/api/v1/top?day=@DAY@&days=7"
    time_url "top 100 of 31 days" "$base/api/v1/top?day=@DAY@&days=31&limit=100"
    time_url "top 10 of 7 days, again (ghit's cache)" "$base/api/v1/top?days=7"
    time_url "for comparison: one badge hit" "$base/badge.svg?repo=$(name 100)"
    echo
    echo "query plans (SQLite $(sqlite3 --version | cut -d' ' -f1)):"
    sqlite3 "$DB" "EXPLAIN QUERY PLAN SELECT day, hits FROM daily WHERE repo = 'a/b' AND day BETWEEN '2026-01-01' AND '2026-12-31'" | sed 's/^/  history: /'
    sqlite3 "$DB" "EXPLAIN QUERY PLAN SELECT repo, sum(hits) AS h FROM daily INDEXED BY daily_by_day WHERE day BETWEEN '2026-01-01' AND '2026-01-07' GROUP BY repo ORDER BY h DESC, repo LIMIT 10" | sed 's/^/  top: /'
    echo "rows a day: $(sqlite3 "$DB" "select min(n) || ' to ' || max(n) from (select count(*) n from daily group by day)")"
} >"$REPORT"
stop_ghit
cat "$REPORT"
if [ "$OUT" != - ]; then
    mkdir -p "$(dirname "$OUT")"
    [ -s "$OUT" ] && printf '\n----------------------------------------\n\n' >>"$OUT"
    cat "$REPORT" >>"$OUT"
    note "report appended to ${OUT#"$ROOT"/}"
fi
