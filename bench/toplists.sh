#!/bin/bash
# Badges while top lists are read: ghit on a Redis of a million repos, where a top list costs
# seconds, with and without lists asked during the run, interleaved in one invocation.
#
#   bench/toplists.sh                                   (about 3 minutes)
#   ROUNDS=1 DURATION=8 MILLION=100000 OUT=- bench/toplists.sh      (a quick check)
#
# Redis (started on a free port, doc/redis.md's settings) holds MILLION repos bench/rN with
# 5 hits each, all of them today (bench/lib.sh, redis_load), so a list of today sums a
# million (repo, day) pairs. One ghit serve (defaults) on it. Each round runs wrk -t2 -c50
# over badges of 1,000 of those repos (bench/uniform.lua) twice, DURATION seconds each:
#   badges   nothing else;
#   +lists   the same, and from its third second three top lists asked one after the other:
#            the dashboard's two (today, the last 7 days) and the 2 days to today, none in
#            the cache (a round waits out the cache's 30 s).
# Reported: requests/s, the badges' p99 and maximum latency, each run's badge errors, and
# how long each list took. A top list used to be read on the HTTP worker of its request,
# which held that worker's badges (half of them with the default two workers) for the
# whole read.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-20}
MILLION=${MILLION:-1000000}
PORT=${PORT:-18097}
GHIT=${GHIT:-$ROOT/build/ghit}
WORK=${WORK:-/tmp/ghit-bench-toplists}
OUT=${OUT:-$ROOT/bench/results/$(date -u +%F)-toplists.txt}
PID="" REDIS_PID=""

cleanup() {
    stop_child "$PID" 10
    stop_child "$REDIS_PID" 10
}
trap cleanup EXIT INT TERM

bench_setup
rm -rf "$WORK"
mkdir -p "$WORK"
prepare_ghit
REDIS_CONF=(save '' appendonly no)
redis_start
TODAY=$(date -u +%F)
redis_load 0 "$MILLION" "$TODAY"
port_busy "$PORT" && die "port $PORT is in use"
(cd "$WORK" && exec "$GHIT" serve --listen "127.0.0.1:$PORT" --db "redis://127.0.0.1:$REDIS_PORT" \
    --log-level debug 2>"$WORK/ghit.log" 9>&-) &
PID=$!
for ((k = 0; k < 100; k++)); do port_busy "$PORT" && break; sleep 0.1; done
port_busy "$PORT" || die "ghit did not start (see $WORK/ghit.log)"

# run NAME: one wrk run into $WORK/NAME.wrk; with lists, asks them meanwhile.
run() {
    local name=$1 q
    timeout $((DURATION + 30)) wrk -t2 -c50 -d"${DURATION}s" --timeout 10s \
        -s "$ROOT/bench/uniform.lua" "http://127.0.0.1:$PORT/" -- 1000 >"$WORK/$name.wrk" 2>&1 &
    local w=$!
    if [[ $name == lists* ]]; then
        sleep 2
        for q in "days=1" "days=7" "days=2"; do
            curl -s -o /dev/null -m $((DURATION + 30)) -w "%{http_code} %{time_total}\n" \
                "http://127.0.0.1:$PORT/api/v1/top?$q&limit=3" >>"$WORK/$name.top"
        done
    fi
    wait "$w" || die "wrk failed (see $WORK/$name.wrk)"
}

REPORT=$WORK/report.txt
{
    echo "bench/toplists.sh $(date -u '+%F %T') UTC, ghit $GIT_DESC (sha256 $GHIT_SUM)"
    echo "redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p'), $MILLION repos with hits today;" \
        "wrk -t2 -c50 -d${DURATION}s over 1,000 of them; $ROUNDS round(s)"
    printf '%-8s %-7s %9s %9s %9s %-12s %s\n' round run req/s p99_ms max_ms errors "lists (status seconds)"
} >"$REPORT"
FAILS=0 WRK_FAILS=0
P99_BADGES=() P99_LISTS=() MAXES=()
for ((round = 1; round <= ROUNDS; round++)); do
    for name in badges lists; do
        run "$name$round"
        wrk_result "$WORK/$name$round.wrk" "$name$round"
        max=$(sed -n 's/^ *Latency *[^ ]* *[^ ]* *\([^ ]*\) .*/\1/p' "$WORK/$name$round.wrk")
        max_ms=$(awk -v m="$max" 'BEGIN { v = m + 0; if (m ~ /us$/) v /= 1000; else if (m ~ /ms$/) v += 0;
            else if (m ~ /s$/) v *= 1000; printf "%.1f", v }')
        p99=$(ms "$(wrk_field p99_us)")
        tops=""
        [ ! -f "$WORK/$name$round.top" ] || tops=$(tr '\n' ' ' <"$WORK/$name$round.top")
        printf '%-8s %-7s %9s %9s %9s %-12s %s\n' "$round" "$name" "$(wrk_field rps)" "$p99" \
            "$max_ms" "$(wrk_errors)" "$tops" >>"$REPORT"
        [ -z "$(wrk_errors)" ] || WRK_FAILS=$((WRK_FAILS + 1))
        if [ "$name" = badges ]; then P99_BADGES+=("$p99"); else
            P99_LISTS+=("$p99")
            MAXES+=("$max_ms")
        fi
    done
    # The lists stay in the cache 30 s: the next round's must be read again.
    ((round == ROUNDS)) || sleep $((DURATION >= 30 ? 1 : 31 - DURATION))
done
stop_server "$PID"
PID=""
{
    echo
    grep -o 'read the top list of .*' "$WORK/ghit.log" | sed 's/^/ghit: /' || true
    echo
    info "badge p99 ms, badges alone (median of rounds)" "$(median "${P99_BADGES[@]}")"
    info "badge p99 ms, while lists are read (median)" "$(median "${P99_LISTS[@]}")"
    check "badge max ms while lists are read (worst round)" "$(printf '%s\n' "${MAXES[@]}" | sort -g | tail -n1)" "<=" 1000
    if [ "$RC" = 0 ]; then echo "PASS  ghit exited 0 after SIGTERM"; else
        echo "FAIL  ghit exited $RC after SIGTERM"
        FAILS=$((FAILS + 1))
    fi
    if [ "$WRK_FAILS" = 0 ]; then echo "PASS  every wrk run without errors"; else
        echo "FAIL  $WRK_FAILS wrk run(s) with errors"
    fi
} >>"$REPORT"
FAILS=$((FAILS + WRK_FAILS))
save_report
[ "$FAILS" = 0 ]
