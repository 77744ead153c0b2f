#!/bin/bash
# ghit's server benchmark, in one invocation (issue 2, "Benchmark"; DESIGN.md, "Performance
# method"). See bench/README.md for what each figure means.
#
#   bench/run.sh                     (or: make bench)
#   ROUNDS=5 DURATION=10 bench/run.sh
#
# It installs what it lacks (scripts/deps.sh bench), builds build/ghit and
# build/bench/bare_mhd, starts the 2015 ghit.me pipeline from ../shared/bench/ghitme-2015/
# (nginx 18080 with syslog -> syslog-ng -> redis 16379; nginx static 18081) and bare_mhd,
# then runs ROUNDS interleaved rounds of wrk (2 threads, 50 keep-alive connections,
# DURATION seconds) against every target. Each ghit run gets a fresh database; ghit is
# stopped with SIGTERM after it, and the total stored in SQLite is compared with the
# responses wrk read. The report (medians, ratios, losses, PASS/FAIL against the targets)
# is printed and saved to bench/results/YYYY-MM-DD-server.txt.
#
# Environment (all optional):
#   ROUNDS=3 DURATION=10         rounds, seconds per wrk run
#   TARGETS="ghit1 ghit1000 ghitstyled nginx nginx1000 pipeline bare bare1000"
#                                targets, round-1 order (nginx1000, bare1000: the baselines
#                                driven by many-repos.lua; ghitstyled: issue 3's heaviest badge,
#                                style=for-the-badge&view=today-total&theme=auto; prev1,
#                                prev1000: GHIT_PREV, another build, such as the previous commit)
#   GHIT_PREV=path PREV_ARGS=    the other build for prev1/prev1000, and its options
#   PREV_SEED=                   options of prev1000's seeding run only (a build with a
#                                per-client limit on new repos needs
#                                "--new-repos-per-client 1000000" there, as ghit gets)
#                                (ghit before issue 6 needs --max-connections-per-ip 1000)
#   SHARED=../shared             the shared directory (relative to the repo root)
#   GHIT=build/ghit GHIT_ARGS=   the binary and extra `ghit serve` options
#   FLUSH_MS=1000                ghit --flush-interval
#   GHIT_PORT=18090 BARE_PORT=18091 BARE_THREADS=2 BARE_ARGS=
#   OUT=bench/results/YYYY-MM-DD-server.txt   where the report is saved (OUT=- : not saved)
#   KEEP=1                       keep the scratch directory (databases, logs, wrk output)
#
# Everything listens on 127.0.0.1 only, every wait is bounded, and every server this
# script started is stopped when it exits, also on Ctrl-C.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
SHARED=${SHARED:-$ROOT/../shared}
GHITME=$SHARED/bench/ghitme-2015
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
TARGETS=${TARGETS:-ghit1 ghit1000 ghitstyled nginx nginx1000 pipeline bare bare1000}
GHIT=${GHIT:-$ROOT/build/ghit}
GHIT_ARGS=${GHIT_ARGS:-}
PREV_ARGS=${PREV_ARGS:-}
PREV_SEED=${PREV_SEED:-}
FLUSH_MS=${FLUSH_MS:-1000}
GHIT_PORT=${GHIT_PORT:-18090}
BARE_PORT=${BARE_PORT:-18091}
BARE_THREADS=${BARE_THREADS:-2}
BARE_ARGS=${BARE_ARGS:-}
BARE=$ROOT/build/bench/bare_mhd
STYLED_PATH='/badge.svg?repo=bench/one&style=for-the-badge&view=today-total&theme=auto'
WRK_THREADS=2
CONNS=50
OUT=${OUT:-$ROOT/bench/results/$(date -u +%F)-server.txt}
export GHITME_DIR=${GHITME_DIR:-/tmp/ghitme-2015}


[ -d "$GHITME" ] || die "no $GHITME (set SHARED=dir to the shared directory)"
GHITME=$(cd "$GHITME" && pwd)
case "$ROUNDS$DURATION" in *[!0-9]*) die "ROUNDS and DURATION must be whole numbers" ;; esac
if [ "$ROUNDS" -lt 1 ] || [ "$DURATION" -lt 1 ]; then die "ROUNDS and DURATION must be at least 1"; fi
for t in $TARGETS; do
    case $t in ghit1 | ghit1000 | ghitstyled | nginx | nginx1000 | pipeline | bare | bare1000) ;;
    prev1 | prev1000) [ -x "${GHIT_PREV:-}" ] || die "target $t needs GHIT_PREV=binary" ;;
    *) die "unknown target '$t'" ;;
    esac
done

# --- clean-up: stop whatever this script started --------------------------------------
WORK=$(mktemp -d /tmp/ghit-bench.XXXXXX)
GHIT_PID=""
BARE_PID=""
WRK_PID=""
PIPELINE_UP=""


cleanup() {
    set +e
    stop_child "$WRK_PID" 5
    stop_child "$GHIT_PID" 10
    stop_child "$BARE_PID" 10
    [ -n "$PIPELINE_UP" ] && "$GHITME/stop.sh" >/dev/null 2>&1
    if [ "${KEEP:-0}" = 1 ]; then note "scratch kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'note interrupted; exit 130' INT TERM HUP

# --- helpers ----------------------------------------------------------------------------

# Waits (at most 10 s) until GET path on port answers 200 while pid lives.
wait_ready() { # port path pid
    local i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$3" 2>/dev/null || return 1
        http_get "$1" "$2" 2>/dev/null | head -n1 | grep -q ' 200 ' && return 0
        sleep 0.1
    done
    return 1
}

# Runs wrk; sets W_REQ W_RPS W_P50 W_P99 (us) W_ERR (summary of error counters).
run_wrk() { # label url lua
    local out=$WORK/wrk-$1.txt
    # In the background and waited for, so that a signal to this script (Ctrl-C, SIGTERM)
    # runs the trap at once instead of after wrk's run; the clean-up stops wrk too.
    timeout -k 5 $((DURATION + 30)) wrk -t$WRK_THREADS -c$CONNS -d"${DURATION}s" --timeout 5s \
        -s "$3" "$2" >"$out" 2>&1 9>&- &
    WRK_PID=$!
    wait "$WRK_PID" || true
    WRK_PID=""
    wrk_result "$out" "$1"
    W_REQ=$(wrk_field requests)
    W_RPS=$(wrk_field rps)
    W_P50=$(wrk_field p50_us)
    W_P99=$(wrk_field p99_us)
    W_ERR=$(wrk_errors)
}


# Sum of the 2015 pipeline's total counters (repo:R; the per-day ones are repo:DAY:R).
redis_total() {
    redis-cli -p 16379 --scan --pattern 'repo:*' | awk -F: 'NF == 2' | while read -r k; do
        redis-cli -p 16379 GET "$k"
    done | awk '{s += $1} END {print s + 0}'
}

# --- set-up -----------------------------------------------------------------------------
bench_setup
if wants ghit1 || wants ghit1000 || wants ghitstyled; then
    prepare_ghit
fi
if wants prev1 || wants prev1000; then
    GHIT_PREV_COPY=$WORK/ghit-prev
    cp "$GHIT_PREV" "$GHIT_PREV_COPY"
fi
mkdir -p "$ROOT/build/bench"
# shellcheck disable=SC2046 # pkg-config's words are wanted
cc -O2 -std=c11 -Wall -Wextra -o "$BARE" "$ROOT/bench/bare_mhd.c" \
    $(pkg-config --cflags --libs libmicrohttpd) -lpthread || die "cannot build bare_mhd"

for p in $GHIT_PORT $BARE_PORT 18080 18081 16379; do
    port_busy "$p" && die "port $p on 127.0.0.1 is in use; stop what listens there"
done

if wants nginx || wants nginx1000 || wants pipeline; then
    "$GHITME/start.sh" >"$WORK/pipeline.log" 2>&1 9>&- ||
        { cat "$WORK/pipeline.log" >&2; "$GHITME/stop.sh" >/dev/null 2>&1; die "start.sh failed"; }
    PIPELINE_UP=1
    http_get 18081 '/badge.svg?repo=ghit/demo' | head -n1 | grep -q ' 200 ' ||
        die "nginx static does not answer 200 on 18081"
fi
if wants bare || wants bare1000; then
    # shellcheck disable=SC2086 # BARE_ARGS is a word list
    "$BARE" --threads "$BARE_THREADS" --svg "$GHITME/badge.svg" $BARE_ARGS "$BARE_PORT" \
        >"$WORK/bare.log" 2>&1 9>&- &
    BARE_PID=$!
    wait_ready "$BARE_PORT" /badge.svg "$BARE_PID" || { cat "$WORK/bare.log" >&2; die "bare_mhd did not start"; }
fi

# --- the runs -----------------------------------------------------------------------------
declare -A RPS P50 P99
COUNT_LINES=()
ERR_LINES=()
FAILS=0
GHIT_FAILS=0
LOST_TOTAL=0

record() { # target
    RPS[$1]="${RPS[$1]:-} $W_RPS"
    P50[$1]="${P50[$1]:-} $W_P50"
    P99[$1]="${P99[$1]:-} $W_P99"
}

# Starts ghit ($1: binary) on db $2, logging to $3, with the options that follow; sets GHIT_PID.
start_ghit() { # binary db log options...
    local bin=$1 db=$2 log=$3
    shift 3
    "$bin" serve --listen "127.0.0.1:$GHIT_PORT" --db "$db" --flush-interval "$FLUSH_MS" \
        "$@" >>"$log" 2>&1 9>&- &
    GHIT_PID=$!
    wait_ready "$GHIT_PORT" /healthz "$GHIT_PID" || { tail -n 20 "$log" >&2; die "ghit did not become healthy"; }
}

# Stops ghit with SIGTERM (at most 30 s, then SIGKILL); sets RC to its exit status.
stop_ghit() {
    stop_server "$GHIT_PID" 30
    GHIT_PID=""
}

# The sum of repos.total in a ghit database (0 if it cannot be read).
stored_total() {
    local v
    v=$(sqlite3 "$1" 'select coalesce(sum(total),0) from repos' 2>&1) || true
    case $v in *[!0-9]* | "")
        note "cannot read the stored total of $1: $v"
        v=0
        ;;
    esac
    echo "$v"
}

# One ghit run: fresh database, start, wait for /healthz, wrk, SIGTERM, compare counts.
# The 1000-repo runs measure repos that exist, as on a server that has run for a while: a
# seeding run makes them first (2 s of the same load, with the per-client limit on new
# repos lifted for it alone), and the measured run, with ghit's default options, adds to them.
run_ghit() { # round target lua path
    local db=$WORK/ghit-r$1-$2.db log=$WORK/ghit-r$1-$2.log stored diff lost base=0
    local bin=$GHIT args=$GHIT_ARGS seed="--new-repos-per-client 1000000"
    case $2 in prev*) bin=$GHIT_PREV_COPY args=$PREV_ARGS seed=$PREV_SEED ;; esac
    if [ "$3" = "$ROOT/bench/many-repos.lua" ]; then
        # shellcheck disable=SC2086 # option lists are words
        start_ghit "$bin" "$db" "$log" $args $seed
        timeout -k 5 30 wrk -t$WRK_THREADS -c$CONNS -d2s -s "$3" "http://127.0.0.1:$GHIT_PORT$4" >/dev/null 2>&1 9>&- || true
        stop_ghit
        base=$(stored_total "$db")
    fi
    # shellcheck disable=SC2086 # option lists are words
    start_ghit "$bin" "$db" "$log" $args
    run_wrk "r$1-$2" "http://127.0.0.1:$GHIT_PORT$4" "$3"
    stop_ghit
    stored=$(($(stored_total "$db") - base))
    diff=$((stored - W_REQ))
    lost=$((diff < 0 ? -diff : 0))
    LOST_TOTAL=$((LOST_TOTAL + lost))
    local verdict=ok
    if [ "$RC" != 0 ] || [ "$lost" != 0 ] || [ "$diff" -gt "$CONNS" ] || [ -n "$W_ERR" ]; then
        verdict=FAIL
        GHIT_FAILS=$((GHIT_FAILS + 1))
    fi
    COUNT_LINES+=("$(printf '%-5s %-16s %10s %10s %6s %7s  exit=%s %s%s' "$1" "$(label "$2")" \
        "$W_REQ" "$stored" "$lost" "$diff" "$RC" "$verdict" "${W_ERR:+ wrk errors: $W_ERR}")")
}

run_pipeline() { # round
    local prev=-1 cur i diff lost
    redis-cli -p 16379 flushall >/dev/null
    run_wrk "r$1-pipeline" "http://127.0.0.1:18080/badge.svg?repo=ghit/demo" "$ROOT/bench/report.lua"
    # syslog-ng drains its queue after wrk stops: wait until the count holds still (<= 20 s).
    for ((i = 0; i < 40; i++)); do
        sleep 0.5
        cur=$(redis_total)
        [ "$cur" = "$prev" ] && break
        prev=$cur
    done
    diff=$((cur - W_REQ))
    lost=$((diff < 0 ? -diff : 0))
    COUNT_LINES+=("$(printf '%-5s %-16s %10s %10s %6s %7s  (%s%% lost)' "$1" "$(label pipeline)" \
        "$W_REQ" "$cur" "$lost" "$diff" "$(awk -v l="$lost" -v r="$W_REQ" 'BEGIN{printf "%.1f", r ? 100*l/r : 0}')")")
}

label() {
    case $1 in
    ghit1) echo "ghit, 1 repo" ;;
    ghit1000) echo "ghit, 1000 repos" ;;
    ghitstyled) echo "ghit, styled" ;;
    nginx) echo "nginx static" ;;
    nginx1000) echo "nginx, 1000 files" ;;
    pipeline) echo "2015 pipeline" ;;
    bare) echo "bare_mhd" ;;
    bare1000) echo "bare_mhd, 1000 URLs" ;;
    prev1) echo "prev, 1 repo" ;;
    prev1000) echo "prev, 1000 repos" ;;
    esac
}

read -r -a ORDER <<<"$TARGETS"
N=${#ORDER[@]}
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
for ((r = 1; r <= ROUNDS; r++)); do
    # Interleaved: every round runs every target; the order rotates so that no target
    # always runs first (or right after the heaviest one).
    for ((k = 0; k < N; k++)); do
        t=${ORDER[$(((k + r - 1) % N))]}
        note "round $r/$ROUNDS: $(label "$t") (${DURATION}s)"
        case $t in
        ghit1) run_ghit "$r" ghit1 "$ROOT/bench/report.lua" '/badge.svg?repo=bench/one' ;;
        ghit1000) run_ghit "$r" ghit1000 "$ROOT/bench/many-repos.lua" '/' ;;
        ghitstyled) run_ghit "$r" ghitstyled "$ROOT/bench/report.lua" "$STYLED_PATH" ;;
        prev1) run_ghit "$r" prev1 "$ROOT/bench/report.lua" '/badge.svg?repo=bench/one' ;;
        prev1000) run_ghit "$r" prev1000 "$ROOT/bench/many-repos.lua" '/' ;;
        nginx) run_wrk "r$r-nginx" 'http://127.0.0.1:18081/badge.svg?repo=ghit/demo' "$ROOT/bench/report.lua" ;;
        nginx1000) run_wrk "r$r-nginx1000" 'http://127.0.0.1:18081/' "$ROOT/bench/many-repos.lua" ;;
        pipeline) run_pipeline "$r" ;;
        bare | bare1000)
            kill -0 "$BARE_PID" 2>/dev/null || die "bare_mhd has stopped (see $WORK/bare.log)"
            if [ "$t" = bare ]; then
                run_wrk "r$r-bare" "http://127.0.0.1:$BARE_PORT/badge.svg?repo=ghit/demo" "$ROOT/bench/report.lua"
            else
                run_wrk "r$r-bare1000" "http://127.0.0.1:$BARE_PORT/" "$ROOT/bench/many-repos.lua"
            fi
            ;;
        esac
        if [ -n "$W_ERR" ]; then
            note "  wrk errors: $W_ERR"
            ERR_LINES+=("round $r, $(label "$t"): $W_ERR")
        fi
        record "$t"
        sleep 1
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the report -----------------------------------------------------------------------------
REPORT=$WORK/report.txt
{
    echo "ghit server benchmark, $START"
    echo "machine: $(nproc) cores, $(uname -sr), load average before $LOAD_BEFORE, after $LOAD_AFTER"
    if wants ghit1 || wants ghit1000 || wants ghitstyled; then
        echo "ghit: ${GHIT_SRC#"$ROOT"/} ($("$GHIT" --version 2>/dev/null | head -n1 || true), sha256 $GHIT_SUM)," \
            "git $GIT_DESC at the start"
        echo "  ghit serve --flush-interval $FLUSH_MS $GHIT_ARGS (1000 repos: seeded first, see run_ghit)"
    fi
    if wants prev1 || wants prev1000; then
        echo "prev: $GHIT_PREV ($("$GHIT_PREV_COPY" --version 2>/dev/null | head -n1 || true)), options: $PREV_ARGS"
    fi
    echo "load: $(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2), -t$WRK_THREADS -c$CONNS -d${DURATION}s, keep-alive," \
        "127.0.0.1; $ROUNDS round(s), interleaved, order rotating"
    echo "baselines: $(nginx -v 2>&1 | sed 's/.*: //') static (18081) and 2015 pipeline (18080) from $GHITME;"
    echo "  bare_mhd: libmicrohttpd $(pkg-config --modversion libmicrohttpd), pool of $BARE_THREADS epoll threads $BARE_ARGS"
    echo
    printf '%-18s' "target"
    for ((r = 1; r <= ROUNDS; r++)); do printf '%10s' "round $r"; done
    printf '%10s %8s %8s\n' "median" "p50 ms" "p99 ms"
    for t in "${ORDER[@]}"; do
        printf '%-18s' "$(label "$t")"
        for v in ${RPS[$t]}; do printf '%10s' "$v"; done
        # shellcheck disable=SC2086 # the lists are words
        printf '%10s %8s %8s\n' "$(median ${RPS[$t]})" "$(ms "$(median ${P50[$t]})")" "$(ms "$(median ${P99[$t]})")"
    done
    echo "(req/s per round; median of the rounds; p50 and p99 are medians of the per-run percentiles)"
    if [ ${#COUNT_LINES[@]} -gt 0 ]; then
        echo
        echo "counting: answered = responses wrk read; stored = sum(repos.total) in SQLite after SIGTERM"
        echo "(2015 pipeline: sum of repo:R in Redis once it holds still); lost = answered - stored when"
        echo "positive; extra = stored - answered: requests wrk had sent when its time ran out, which the"
        echo "server counted but wrk stopped reading (at most one per connection, so 0..$CONNS is correct)"
        printf '%-5s %-16s %10s %10s %6s %7s\n' round target answered stored lost extra
        printf '%s\n' "${COUNT_LINES[@]}"
    fi
    # shellcheck disable=SC2086 # the lists are words
    m() { median ${RPS[$1]}; }
    # shellcheck disable=SC2086
    m99() { median ${P99[$1]}; }
    if [ ${#ERR_LINES[@]} -gt 0 ]; then
        echo
        echo "wrk errors (status = answers above 399; read/write/connect/timeout = socket errors):"
        printf '  %s\n' "${ERR_LINES[@]}"
    fi
    echo
    echo "ratios of medians (targets from issue 2):"
    if wants ghit1; then
        wants nginx && check "ghit, 1 repo / nginx static, req/s" "$(ratio "$(m ghit1)" "$(m nginx)")" ">=" 1.5
        wants bare && check "ghit, 1 repo / bare_mhd, req/s" "$(ratio "$(m ghit1)" "$(m bare)")" ">=" 0.85
        wants nginx && check "ghit, 1 repo p99 / nginx static p99" "$(ratio "$(m99 ghit1)" "$(m99 nginx)")" "<=" 1.0
        wants pipeline && info "ghit, 1 repo / 2015 pipeline, req/s" "$(ratio "$(m ghit1)" "$(m pipeline)")"
    fi
    if wants ghit1000; then
        # Against the baselines driven by the same many-repos.lua when they ran (its Lua
        # request() costs wrk CPU, which lowers any server's figure); else the one-URL ones.
        ng=nginx bm=bare
        wants nginx1000 && ng=nginx1000
        wants bare1000 && bm=bare1000
        wants $ng && check "ghit, 1000 repos / $(label $ng), req/s" "$(ratio "$(m ghit1000)" "$(m $ng)")" ">=" 1.5
        wants $bm && check "ghit, 1000 repos / $(label $bm), req/s" "$(ratio "$(m ghit1000)" "$(m $bm)")" ">=" 0.85
        wants $ng && check "ghit, 1000 repos p99 / $(label $ng) p99" "$(ratio "$(m99 ghit1000)" "$(m99 $ng)")" "<=" 1.0
        if [ $ng != nginx ] && wants nginx; then
            info "ghit, 1000 repos / nginx static (one URL), req/s" "$(ratio "$(m ghit1000)" "$(m nginx)")"
        fi
        if [ $bm != bare ] && wants bare; then
            info "ghit, 1000 repos / bare_mhd (one URL), req/s" "$(ratio "$(m ghit1000)" "$(m bare)")"
        fi
        wants pipeline && info "ghit, 1000 repos / 2015 pipeline, req/s" "$(ratio "$(m ghit1000)" "$(m pipeline)")"
    fi
    if wants prev1 && wants ghit1; then
        info "ghit, 1 repo / prev, 1 repo, req/s" "$(ratio "$(m ghit1)" "$(m prev1)")"
        info "ghit, 1 repo p99 / prev, 1 repo p99" "$(ratio "$(m99 ghit1)" "$(m99 prev1)")"
    fi
    if wants prev1000 && wants ghit1000; then
        info "ghit, 1000 repos / prev, 1000 repos, req/s" "$(ratio "$(m ghit1000)" "$(m prev1000)")"
        info "ghit, 1000 repos p99 / prev, 1000 repos p99" "$(ratio "$(m99 ghit1000)" "$(m99 prev1000)")"
    fi
    if wants ghitstyled && wants ghit1; then
        check "ghit, styled / ghit, 1 repo (issue 3), req/s" "$(ratio "$(m ghitstyled)" "$(m ghit1)")" ">=" 0.9
    fi
    wants nginx && wants bare && info "bare_mhd / nginx static, req/s" "$(ratio "$(m bare)" "$(m nginx)")"
    if wants ghit1 || wants ghit1000 || wants ghitstyled || wants prev1 || wants prev1000; then
        ghit_verdict
    fi
} >"$REPORT"

save_report
[ "$FAILS" = 0 ]
