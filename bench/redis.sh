#!/bin/bash
# ghit on Redis against ghit on SQLite, two frontends on one Redis, and the 2015 pipeline on
# the same Redis, in one invocation (issue 8, "Benchmark"; DESIGN.md, "Performance method").
# See bench/README.md, "bench/redis.sh", for what each figure means.
#
#   bench/redis.sh                                       (about 12 minutes)
#   ROUNDS=5 bench/redis.sh
#   ROUNDS=1 DURATION=3 DURATION_1M=3 MILLION=100000 OUT=- bench/redis.sh   (a quick check)
#
# One redis-server serves every Redis target: the 2015 pipeline's, which
# ../shared/bench/ghitme-2015/start.sh starts on 127.0.0.1:16379 (its syslog-ng config names
# that port), switched to AOF with appendfsync everysec, a rewrite at 400 % growth and no RDB
# snapshots (doc/redis.md's settings). Without the pipeline among the targets the script
# starts its own on a free port, configured the same. The pipeline writes database 0; ghit
# writes database 1 (one repo, 1,000 repos, two frontends: emptied before each run) and
# database 2 (the million, loaded once with redis-cli --pipe in the 2015 schema plus
# ghit:epoch and ghit:first, and kept across rounds: each run's stored hits are the growth of
# the sum of repo:R).
#
# Targets, interleaved (the order rotates by one each round), wrk -t2 -c50 -d DURATION
# (sqlite1M and redis1M: -d DURATION_1M, long enough to hold SQLite's merges, which wait
# for 1,000,000 journal rows or 12 s; a 10 s run would leave SQLite's merging out):
#   sqlite1 redis1            one repo, an empty store
#   sqlite1000 redis1000      1,000 existing repos, each request a uniform draw (uniform.lua)
#   sqlite1M redis1M          MILLION existing repos, uniform draws (issue 7's spread load)
#   redis1M-MS, redis1000-MS  the same on Redis with --flush-interval MS (how Redis's work per
#                             frontend follows the distinct repos touched per flush)
#   redis2fe                  two ghit processes on one Redis, 1,000 existing repos, a wrk of
#                             -t1 -c25 against each at the same time; req/s is their sum
#   pipeline                  the 2015 pipeline (nginx -> syslog -> syslog-ng -> Redis), one repo
# After every ghit run: SIGTERM, exit status 0, and the hits stored (SQLite: tables plus
# journal; Redis: the growth of the sum of repo:R) equal the answers wrk read, up to the
# requests in flight at wrk's end (0..50). During every Redis run: Redis's commands, CPU
# (used_cpu_user + used_cpu_sys) and network bytes, from INFO before wrk and after ghit has
# written what wrk's run left pending (ghit_pending_hits 0: over the million the flushes
# outlast the run), and the distinct repos per flush from ghit's /metrics
# (ghit_flush_rows_total over the flushes).
#
# Environment (all optional):
#   ROUNDS=3 DURATION=10 DURATION_1M=40 MILLION=1000000 FLUSH_MS=1000
#   TARGETS="sqlite1 redis1 sqlite1000 redis1000 sqlite1M redis1M redis1M-250 redis1M-4000 redis2fe pipeline"
#   GHIT=build/ghit GHIT_ARGS=       the binary and extra `ghit serve` options (every ghit run)
#   GHIT_PORT=18096                  ghit (the second frontend: GHIT_PORT + 1)
#   SHARED=../shared                 where bench/ghitme-2015 is
#   OUT=bench/results/YYYY-MM-DD-redis.txt   (OUT=- : not saved)   KEEP=1: keep the scratch
#
# Everything listens on 127.0.0.1 only, every wait is bounded, and every server this script
# started is stopped when it exits, also on Ctrl-C.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
SHARED=${SHARED:-$ROOT/../shared}
GHITME=$SHARED/bench/ghitme-2015
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
DURATION_1M=${DURATION_1M:-40}
RUN_S=$DURATION # the current run's seconds: DURATION, or DURATION_1M for sqlite1M and redis1M
MILLION=${MILLION:-1000000}
FLUSH_MS=${FLUSH_MS:-1000}
TARGETS=${TARGETS:-sqlite1 redis1 sqlite1000 redis1000 sqlite1M redis1M redis1M-250 redis1M-4000 redis2fe pipeline}
GHIT=${GHIT:-$ROOT/build/ghit}
GHIT_ARGS=${GHIT_ARGS:-}
GHIT_PORT=${GHIT_PORT:-18096}
GHIT_PORT2=$((GHIT_PORT + 1))
WRK_THREADS=2
CONNS=50
OUT=${OUT:-$ROOT/bench/results/$(date -u +%F)-redis.txt}

case "$ROUNDS$DURATION$DURATION_1M$MILLION$FLUSH_MS" in *[!0-9]*) die "ROUNDS, DURATION, DURATION_1M, MILLION and FLUSH_MS must be whole numbers" ;; esac
if [ "$ROUNDS" -lt 1 ] || [ "$DURATION" -lt 1 ] || [ "$DURATION_1M" -lt 1 ] || [ "$MILLION" -lt 1000 ]; then
    die "ROUNDS, DURATION and DURATION_1M must be at least 1, MILLION at least 1000"
fi
for t in $TARGETS; do
    case $t in
    sqlite1 | redis1 | sqlite1000 | redis1000 | sqlite1M | redis1M | redis2fe | pipeline) ;;
    redis1M-[1-9]* | redis1000-[1-9]*) case ${t#*-} in *[!0-9]*) die "unknown target '$t'" ;; esac ;;
    *) die "unknown target '$t'" ;;
    esac
done
wants_like() { case " $TARGETS " in *" $1"*) return 0 ;; esac; return 1; }
if wants pipeline; then
    [ -d "$GHITME" ] || die "no $GHITME (set SHARED=dir to the shared directory)"
    GHITME=$(cd "$GHITME" && pwd)
fi

# --- clean-up: stop whatever this script started --------------------------------------
WORK=$(mktemp -d /tmp/ghit-redis.XXXXXX)
chmod 711 "$WORK" # nginx's workers (nobody) reach the pipeline's badges below it
export GHITME_DIR=$WORK/ghitme
GHIT_PIDS=()
WRK_PIDS=()
REDIS_PID=""
PIPELINE_UP=""


cleanup() {
    set +e
    local p
    for p in "${WRK_PIDS[@]}"; do stop_child "$p" 5; done
    for p in "${GHIT_PIDS[@]}"; do stop_child "$p" 10; done
    stop_child "$REDIS_PID" 10
    [ -n "$PIPELINE_UP" ] && "$GHITME/stop.sh" >/dev/null 2>&1
    if [ "${KEEP:-0}" = 1 ]; then note "scratch kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'note interrupted; exit 130' INT TERM HUP

# --- helpers ----------------------------------------------------------------------------

# Redis's counters now, from one INFO: commands, CPU seconds (user + sys), bytes in, bytes
# out, EVALSHA calls, AOF writes postponed behind a slow fsync (aof_delayed_fsync), AOF
# rewrites, CPU seconds of its children (the rewrites' forks), the AOF's size.
redis_sample() {
    rcli info all | tr -d '\r' | awk -F: '
        $1 == "total_commands_processed" { c = $2 }
        $1 == "used_cpu_user" || $1 == "used_cpu_sys" { cpu += $2 }
        $1 == "used_cpu_user_children" || $1 == "used_cpu_sys_children" { kids += $2 }
        $1 == "total_net_input_bytes" { i = $2 }
        $1 == "total_net_output_bytes" { o = $2 }
        $1 == "cmdstat_evalsha" { split($2, a, /[=,]/); e = a[2] }
        $1 == "aof_delayed_fsync" { d = $2 }
        $1 == "aof_rewrites" { w = $2 }
        $1 == "aof_current_size" { z = $2 }
        END { printf "%d %.6f %d %d %d %d %d %.6f %d\n", c, cpu, i, o, e, d, w, kids, z }'
}
# A SQLite database of n repos bench/r1.. with 5 hits each, made with ghit's own schema
# (scale.sh's way).
sqlite_make() { # path n
    start_ghit 0 "$1" "$WORK/make.log"
    stop_ghit 0
    sqlite3 "$1" "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $2)
        INSERT INTO repos(name, total, first_day) SELECT 'bench/r' || i, 5, '2026-01-01' FROM c"
}

# Starts ghit number i (0 or 1: port GHIT_PORT or GHIT_PORT2) on db, logging to log, with the
# options that follow; waits (at most 300 s) for a 200 on /healthz and, on Redis, for the
# cache's warm-up (it reads Redis's repos at start, up to 7/8 of --cache-repos). Sets
# GHIT_PIDS[i] and STARTUP (seconds from exec to ready).
start_ghit() { # i db log options...
    local i=$1 db=$2 log=$3 port t0 k
    shift 3
    port=$((i == 0 ? GHIT_PORT : GHIT_PORT2))
    t0=$(now)
    # shellcheck disable=SC2086 # GHIT_ARGS is a word list
    (cd "$WORK" && exec "$GHIT" serve --listen "127.0.0.1:$port" --db "$db" $GHIT_ARGS "$@" \
        >>"$log" 2>&1 9>&-) & # in WORK: a Redis frontend's default spool is made there
    GHIT_PIDS[i]=$!
    for ((k = 0; k < 6000; k++)); do
        kill -0 "${GHIT_PIDS[i]}" 2>/dev/null || { tail -n 20 "$log" >&2; die "ghit did not start"; }
        http_get "$port" /healthz 2>/dev/null | head -n1 | grep -q ' 200 ' && break
        sleep 0.05
    done
    [ "$k" -lt 6000 ] || { tail -n 20 "$log" >&2; die "ghit was not healthy within 300 s"; }
    # A Redis frontend reads Redis's repos into its cache in the background: ready when done.
    case $db in
    redis://* | unix://*)
        for (( ; k < 6000; k++)); do
            grep -q 'loader: read .* repos into the cache\|loader: the cache starts empty' "$log" &&
                break
            sleep 0.05
        done
        [ "$k" -lt 6000 ] || { tail -n 20 "$log" >&2; die "ghit's cache was not warm within 300 s"; }
        ;;
    esac
    STARTUP=$(secs "$t0" "$(now)")
}

# Stops ghit number i with SIGTERM (at most 60 s, then SIGKILL); sets RC to its exit status.
stop_ghit() { # i
    stop_server "${GHIT_PIDS[$1]}" 60
    GHIT_PIDS[$1]=""
}

# ghit's flushes, rows written and failed store writes so far, from /metrics, summed over
# the frontends on the ports given: "flushes rows failures".
ghit_flushes() { # ports...
    local p
    for p in "$@"; do http_get "$p" /metrics 2>/dev/null | tr -d '\r'; done | awk '
        $1 == "ghit_flush_duration_seconds_count" { f += $2 }
        $1 == "ghit_flush_duration_seconds_sum" { s += $2 }
        $1 == "ghit_flush_rows_total" { r += $2 }
        $1 ~ /^ghit_store_failures_total/ { x += $2 }
        END { printf "%d %d %d %.6f\n", f, r, x, s }'
}

# Waits until every ghit on the ports has written what it counted (ghit_pending_hits 0),
# at most 60 s; a store that fails leaves them pending, and the report's fails column says so.
drain_ghit() { # ports...
    local i p left
    for ((i = 0; i < 600; i++)); do
        left=0
        for p in "$@"; do
            left=$((left + $(http_get "$p" /metrics 2>/dev/null | tr -d '\r' |
                awk '$1 == "ghit_pending_hits" { n = $2 } END { print n + 0 }')))
        done
        [ "$left" = 0 ] && return 0
        sleep 0.1
    done
}

# Runs wrk in the background: label, url, lua, threads, connections; appends to WRK_PIDS.
wrk_start() {
    timeout -k 5 $((RUN_S + 30)) wrk -t"$4" -c"$5" -d"${RUN_S}s" --timeout 5s \
        -s "$3" "$2" >"$WORK/wrk-$1.txt" 2>&1 9>&- &
    WRK_PIDS+=($!)
}
# Waits for every wrk started; sets W_REQ W_RPS (sums), W_P50 W_P99 (us: the larger of the
# runs') and W_ERR from the WRKRESULT lines of the labels given.
wrk_wait() { # labels...
    local p l v
    for p in "${WRK_PIDS[@]}"; do wait "$p" || true; done
    WRK_PIDS=()
    W_REQ=0 W_RPS=0 W_P50=0 W_P99=0 W_ERR=""
    for l in "$@"; do
        wrk_result "$WORK/wrk-$l.txt" "$l"
        W_REQ=$((W_REQ + $(wrk_field requests)))
        W_RPS=$((W_RPS + $(wrk_field rps)))
        v=$(wrk_field p50_us) && [ "$v" -gt "$W_P50" ] && W_P50=$v
        v=$(wrk_field p99_us) && [ "$v" -gt "$W_P99" ] && W_P99=$v
        v=$(wrk_errors)
        [ -z "$v" ] || W_ERR="${W_ERR:+$W_ERR }$v"
    done
}

label() {
    case $1 in
    sqlite1) echo "sqlite, 1 repo" ;;
    redis1) echo "redis, 1 repo" ;;
    sqlite1000) echo "sqlite, 1000 repos" ;;
    redis1000) echo "redis, 1000 repos" ;;
    sqlite1M) echo "sqlite, $MLABEL" ;;
    redis1M) echo "redis, $MLABEL" ;;
    redis1M-*) echo "redis, $MLABEL, ${1#*-}ms" ;;
    redis1000-*) echo "redis, 1000, ${1#*-}ms" ;;
    redis2fe) echo "redis, 2 frontends" ;;
    pipeline) echo "2015 pipeline" ;;
    esac
}
MLABEL=$(awk -v n="$MILLION" 'BEGIN { if (n % 1000000 == 0) printf "%dM spread", n / 1000000;
    else printf "%dk spread", n / 1000 }')

# --- set-up -----------------------------------------------------------------------------
bench_setup
prepare_ghit
for p in $GHIT_PORT $GHIT_PORT2; do
    port_busy "$p" && die "port $p on 127.0.0.1 is in use; stop what listens there (or set GHIT_PORT)"
done

if wants pipeline; then
    for p in 18080 18081 16379; do
        port_busy "$p" && die "port $p on 127.0.0.1 is in use; stop what listens there"
    done
    "$GHITME/start.sh" >"$WORK/pipeline.log" 2>&1 9>&- ||
        { cat "$WORK/pipeline.log" >&2; "$GHITME/stop.sh" >/dev/null 2>&1; die "start.sh failed"; }
    PIPELINE_UP=1
    REDIS_PORT=16379
    http_get 18080 '/badge.svg?repo=ghit/demo' | head -n1 | grep -q ' 200 ' ||
        die "the 2015 pipeline does not answer 200 on 18080"
    # The pipeline's own Redis, made durable as doc/redis.md recommends; start.sh made it
    # without persistence (a benchmark sink).
    redis_conf
else
    redis_start
fi
for ((k = 0; k < 300; k++)); do
    [ "$(rinfo persistence aof_rewrite_in_progress)" = 0 ] && [ "$(rinfo persistence aof_enabled)" = 1 ] && break
    sleep 0.1
done
REDIS_VERSION=$(rinfo server redis_version)
# Redis records its own stalls over 100 ms (fork, fsync, a slow command), and the commands
# that took as long: both in the report.
rcli config set latency-monitor-threshold 100 >/dev/null
rcli config set slowlog-log-slower-than 100000 >/dev/null
rcli slowlog reset >/dev/null
R1="redis://127.0.0.1:$REDIS_PORT/1"
R2="redis://127.0.0.1:$REDIS_PORT/2"

# The stores with existing repos: 1,000 and MILLION, in SQLite (copied for every run) and in
# Redis (database 2 for the million, kept; database 1 reloaded before every 1,000-repo run).
sed "s/^local n = .*/local n = 1000/" "$ROOT/bench/uniform.lua" >"$WORK/thousand.lua"
sed "s/^local n = .*/local n = $MILLION/" "$ROOT/bench/uniform.lua" >"$WORK/million.lua"
if wants sqlite1000; then sqlite_make "$WORK/thousand-pristine.db" 1000; fi
if wants sqlite1M; then
    note "making a SQLite store of $MILLION repos"
    t0=$(now)
    sqlite_make "$WORK/million-pristine.db" "$MILLION"
    SQLITE_MADE=$(secs "$t0" "$(now)")
fi
if wants_like redis1M; then
    note "loading $MILLION repos into Redis (db 2)"
    mem0=$(rinfo memory used_memory)
    t0=$(now)
    rcli -n 2 flushdb >/dev/null
    redis_load 2 "$MILLION"
    REDIS_LOADED=$(secs "$t0" "$(now)")
    REDIS_PER_REPO=$(awk -v a="$mem0" -v b="$(rinfo memory used_memory)" -v n="$MILLION" \
        'BEGIN { printf "%.0f", (b - a) / n }')
    M_STORED=$(redis_sum 2)
fi

# --- the runs -----------------------------------------------------------------------------
declare -A RPS=() P50=() P99=() START=() RW=()
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

# Checks one ghit run's count and keeps its line: round target stored.
count_line() {
    local diff=$(($3 - W_REQ)) lost verdict=ok
    lost=$((diff < 0 ? -diff : 0))
    LOST_TOTAL=$((LOST_TOTAL + lost))
    if [ "$RC" != 0 ] || [ "$lost" != 0 ] || [ "$diff" -gt "$CONNS" ] || [ -n "$W_ERR" ]; then
        verdict=FAIL
        GHIT_FAILS=$((GHIT_FAILS + 1))
    fi
    COUNT_LINES+=("$(printf '%-5s %-24s %10s %10s %6s %7s  exit=%s %s%s' "$1" "$(label "$2")" \
        "$W_REQ" "$3" "$lost" "$diff" "$RC" "$verdict" "${W_ERR:+ wrk errors: $W_ERR}")")
}

run_sqlite() { # round target
    local db=$WORK/r$1-$2.db lua=$WORK/thousand.lua path=/ base
    case $2 in
    sqlite1) base=0 lua=$ROOT/bench/report.lua path='/badge.svg?repo=bench/one' ;;
    sqlite1000) cp "$WORK/thousand-pristine.db" "$db" && base=5000 ;;
    sqlite1M) cp "$WORK/million-pristine.db" "$db" && base=$((5 * MILLION)) lua=$WORK/million.lua ;;
    esac
    start_ghit 0 "$db" "$WORK/ghit-r$1-$2.log" --flush-interval "$FLUSH_MS"
    START[$2]="${START[$2]:-} $STARTUP"
    wrk_start "r$1-$2" "http://127.0.0.1:$GHIT_PORT$path" "$lua" $WRK_THREADS $CONNS
    wrk_wait "r$1-$2"
    stop_ghit 0
    count_line "$1" "$2" $(($(sqlite_stored "$db") - base))
    rm -f "$db" "$db"-*
}

# Redis's work during one run (the samples before and after wrk, $1 and $2), per frontend
# ($3 of them), with ghit's flushes and rows ($4: "flushes rows" summed over the frontends).
redis_work() { # target before after frontends flushes_rows
    local row
    row=$(awk -v b="$2" -v a="$3" -v fe="$4" -v fr="$5" -v d="$SAMPLED_S" -v req="$W_REQ" 'BEGIN {
        split(b, x, " "); split(a, y, " "); split(fr, f, " ")
        cmd = y[1] - x[1]; cpu = y[2] - x[2]; nin = y[3] - x[3]; nout = y[4] - x[4]; ev = y[5] - x[5]
        delayed = y[6] - x[6]; rewrites = y[7] - x[7]; kids = y[8] - x[8]; aof = y[9] - x[9]
        rows = f[2] > 0 ? f[2] : 1; fl = f[1] > 0 ? f[1] : 1
        printf "%.0f %.0f %.0f %.1f %.2f %.2f %.1f %.0f %.0f %.2f %d %d %d %.1f %.0f %.0f",
            rows / fl, cmd / d / fe, ev / d / fe, 100 * cpu / d / fe, 1e6 * cpu / rows,
            1e6 * cpu / (req > 0 ? req : 1), cmd / rows, nin / rows, nout / rows, rows / (req > 0 ? req : 1),
            f[3], delayed, rewrites, 100 * kids / d, (aof > 0 ? aof / rows : 0), 1000 * f[4] / fl }')
    RW[$1]="${RW[$1]:-}|$row"
}

run_redis() { # round target
    local t=$2 db=1 url=$R1 lua=$WORK/thousand.lua path=/ base=0 fl=$FLUSH_MS before after fr stored ports
    case $t in
    redis1) lua=$ROOT/bench/report.lua path='/badge.svg?repo=bench/one' ;;
    redis1M*) db=2 url=$R2 lua=$WORK/million.lua base=$M_STORED ;;
    esac
    case $t in *-*) fl=${t#*-} ;; esac
    if [ $db = 1 ]; then
        rcli -n 1 flushdb >/dev/null
        if [ "$t" != redis1 ]; then
            redis_load 1 1000
            base=5000
        fi
    fi
    start_ghit 0 "$url" "$WORK/ghit-r$1-$t.log" --flush-interval "$fl"
    START[$t]="${START[$t]:-} $STARTUP"
    if [ "$t" = redis2fe ]; then start_ghit 1 "$url" "$WORK/ghit-r$1-$t-b.log" --flush-interval "$fl"; fi
    ports=$GHIT_PORT
    [ "$t" = redis2fe ] && ports="$GHIT_PORT $GHIT_PORT2"
    # shellcheck disable=SC2086 # the ports are words
    fr=$(ghit_flushes $ports)
    before=$(redis_sample)
    local t0
    t0=$(now)
    if [ "$t" = redis2fe ]; then
        wrk_start "r$1-$t-a" "http://127.0.0.1:$GHIT_PORT$path" "$lua" 1 $((CONNS / 2))
        wrk_start "r$1-$t-b" "http://127.0.0.1:$GHIT_PORT2$path" "$lua" 1 $((CONNS / 2))
        wrk_wait "r$1-$t-a" "r$1-$t-b"
    else
        wrk_start "r$1-$t" "http://127.0.0.1:$GHIT_PORT$path" "$lua" $WRK_THREADS $CONNS
        wrk_wait "r$1-$t"
    fi
    # What wrk's run left pending written (over the million the flushes outlast the run),
    # then the counters, over the time they took.
    # shellcheck disable=SC2086 # the ports are words
    drain_ghit $ports
    after=$(redis_sample)
    SAMPLED_S=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
    # shellcheck disable=SC2086 # the ports are words
    fr=$(echo "$fr $(ghit_flushes $ports)" | awk '{ printf "%d %d %d %.6f", $5 - $1, $6 - $2, $7 - $3, $8 - $4 }')
    redis_work "$t" "$before" "$after" "$([ "$t" = redis2fe ] && echo 2 || echo 1)" "$fr"
    stop_ghit 0
    local rc0=$RC
    if [ "$t" = redis2fe ]; then
        stop_ghit 1
        [ "$RC" = 0 ] && RC=$rc0
    fi
    if [ "$t" = redis1 ]; then
        stored=$(rcli -n 1 get 'repo:bench%2Fone')
        stored=${stored:-0}
    else
        stored=$(redis_sum $db)
    fi
    [ $db = 2 ] && M_STORED=$stored
    count_line "$1" "$t" $((stored - base))
}

# The sum of the 2015 pipeline's total counters (repo:R) in database 0.
pipeline_total() {
    rcli -n 0 --scan --pattern 'repo:*' | awk -F: 'NF == 2' | while read -r k; do
        rcli -n 0 get "$k"
    done | awk '{ s += $1 } END { print s + 0 }'
}

run_pipeline() { # round
    local prev=-1 cur=0 i diff lost
    rcli -n 0 flushdb >/dev/null
    wrk_start "r$1-pipeline" "http://127.0.0.1:18080/badge.svg?repo=ghit/demo" "$ROOT/bench/report.lua" \
        $WRK_THREADS $CONNS
    wrk_wait "r$1-pipeline"
    # syslog-ng drains its queue after wrk stops: wait until the count holds still (<= 20 s).
    for ((i = 0; i < 40; i++)); do
        sleep 0.5
        cur=$(pipeline_total)
        [ "$cur" = "$prev" ] && break
        prev=$cur
    done
    diff=$((cur - W_REQ))
    lost=$((diff < 0 ? -diff : 0))
    PIPE_LOST="${PIPE_LOST:-} $lost"
    # Counted requests/s (DESIGN.md's measure of the pipeline): what it stored, per second of load.
    PIPE_COUNTED="${PIPE_COUNTED:-} $(awk -v c="$cur" -v n="$W_REQ" -v r="$W_RPS" \
        'BEGIN { printf "%.0f", (n > 0 ? c * r / n : 0) }')"
    COUNT_LINES+=("$(printf '%-5s %-24s %10s %10s %6s %7s  (%s%% lost)' "$1" "$(label pipeline)" \
        "$W_REQ" "$cur" "$lost" "$diff" "$(awk -v l="$lost" -v r="$W_REQ" 'BEGIN{printf "%.1f", r ? 100*l/r : 0}')")")
}

read -r -a ORDER <<<"$TARGETS"
N=${#ORDER[@]}
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
START_TIME=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
T0=$(now)
for ((r = 1; r <= ROUNDS; r++)); do
    for ((k = 0; k < N; k++)); do
        t=${ORDER[$(((k + r - 1) % N))]}
        case $t in sqlite1M | redis1M) RUN_S=$DURATION_1M ;; *) RUN_S=$DURATION ;; esac
        note "round $r/$ROUNDS: $(label "$t") (${RUN_S}s)"
        case $t in
        sqlite*) run_sqlite "$r" "$t" ;;
        redis*) run_redis "$r" "$t" ;;
        pipeline) run_pipeline "$r" ;;
        esac
        if [ -n "$W_ERR" ]; then
            note "  wrk errors: $W_ERR"
            ERR_LINES+=("round $r, $(label "$t"): $W_ERR")
        fi
        record "$t"
        sleep 1
    done
done
ELAPSED=$(secs "$T0" "$(now)")
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the report -----------------------------------------------------------------------------
# The median over the rounds of field $2 (1-based) of target $1's Redis work rows.
rw() { # target field
    # shellcheck disable=SC2046 # the values are words
    median $(tr '|' '\n' <<<"${RW[$1]}" | awk -v f="$2" 'NF { print $f }')
}
# The sum over the rounds of field $2 of target $1's Redis work rows.
rwsum() { tr '|' '\n' <<<"${RW[$1]}" | awk -v f="$2" 'NF { s += $f } END { print s + 0 }'; }
REPORT=$WORK/report.txt
{
    echo "ghit on Redis, benchmark of issue 8, $START_TIME"
    echo "machine: $(nproc) cores, $(uname -sr), load average before $LOAD_BEFORE, after $LOAD_AFTER; ${ELAPSED} s of rounds"
    echo "ghit: ${GHIT_SRC#"$ROOT"/} ($("$GHIT" --version 2>/dev/null | head -n1 || true), sha256 $GHIT_SUM), git $GIT_DESC at the start"
    echo "  ghit serve --flush-interval $FLUSH_MS $GHIT_ARGS (redis*-MS targets: --flush-interval MS)"
    echo "redis: redis-server $REDIS_VERSION on 127.0.0.1:$REDIS_PORT, appendonly yes, appendfsync everysec," \
        "auto-aof-rewrite-percentage 400, no RDB saves$([ -n "$PIPELINE_UP" ] && echo "; the 2015 pipeline's, from $GHITME (db 0)"); ghit on db 1 and 2"
    echo "load: $(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2), -t$WRK_THREADS -c$CONNS -d${DURATION}s (sqlite1M, redis1M: ${DURATION_1M}s), keep-alive, 127.0.0.1" \
        "(2 frontends: -t1 -c$((CONNS / 2)) each, at once); $ROUNDS round(s), interleaved, order rotating"
    echo "stores: 1 repo from empty; 1000 and $MILLION repos existing (5 hits each), hits drawn uniformly (uniform.lua)"
    if wants sqlite1M; then echo "  SQLite, $MILLION repos: made in $SQLITE_MADE s (ghit's schema, sqlite3)"; fi
    if wants_like redis1M; then
        echo "  Redis, $MILLION repos: loaded in $REDIS_LOADED s with redis-cli --pipe (SADD repos, MSET repo:R," \
            "HSET ghit:first: 1,000 a command); used_memory grew by $REDIS_PER_REPO bytes a repo"
    fi
    echo
    printf '%-26s' "target"
    for ((r = 1; r <= ROUNDS; r++)); do printf '%9s' "round $r"; done
    printf '%9s %7s %7s %8s\n' "median" "p50 ms" "p99 ms" "start s"
    for t in "${ORDER[@]}"; do
        printf '%-26s' "$(label "$t")"
        for v in ${RPS[$t]}; do printf '%9s' "$v"; done
        # shellcheck disable=SC2086 # the lists are words
        printf '%9s %7s %7s %8s\n' "$(median ${RPS[$t]})" "$(ms "$(median ${P50[$t]})")" \
            "$(ms "$(median ${P99[$t]})")" "$([ -n "${START[$t]:-}" ] && median ${START[$t]} || echo -)"
    done
    echo "(req/s per round, summed over both frontends for \"2 frontends\"; median of the rounds; p50, p99:"
    echo " medians of the runs' percentiles (the larger frontend's for 2 frontends); start: exec to /healthz 200"
    echo " and, on Redis, to the end of the cache's warm-up (SSCAN + MGET/HMGET of every repo), median)"
    echo
    echo "counting: answered = responses wrk read; stored = hits in the store after SIGTERM (SQLite: tables"
    echo "plus journal; Redis: growth of the sum of repo:R); 2015 pipeline: sum of repo:R once it holds still;"
    echo "lost = answered - stored when positive; extra = stored - answered (requests in flight at wrk's end:"
    echo "0..$CONNS is correct)"
    printf '%-5s %-24s %10s %10s %6s %7s\n' round target answered stored lost extra
    printf '%s\n' "${COUNT_LINES[@]}"
    if [ ${#ERR_LINES[@]} -gt 0 ]; then
        echo
        echo "wrk errors (status = answers above 399; read/write/connect/timeout = socket errors):"
        printf '  %s\n' "${ERR_LINES[@]}"
    fi
    if [ ${#RW[@]} -gt 0 ]; then
        echo
        echo "Redis's work per frontend (medians of the rounds; INFO deltas over wrk's run, per second of it):"
        printf '%-26s %9s %8s %8s %8s %6s %8s %7s %7s %6s %5s %5s %4s %5s %5s %5s\n' target "repos/fl" "deltas/h" \
            "cmd/s" "chunks/s" "CPU %" "us/delta" "us/hit" "cmd/dlt" "B in/d" fails "aofdl" rewr "kid %" "aof/d" "fl ms"
        for t in "${ORDER[@]}"; do
            [ -n "${RW[$t]:-}" ] || continue
            printf '%-26s %9s %8s %8s %8s %6s %8s %7s %7s %6s %5s %5s %4s %5s %5s %5s\n' "$(label "$t")" "$(rw "$t" 1)" \
                "$(rw "$t" 10)" "$(rw "$t" 2)" "$(rw "$t" 3)" "$(rw "$t" 4)" "$(rw "$t" 5)" "$(rw "$t" 6)" "$(rw "$t" 7)" \
                "$(rw "$t" 8)" "$(rwsum "$t" 11)" "$(rwsum "$t" 12)" "$(rwsum "$t" 13)" "$(rw "$t" 14)" "$(rw "$t" 15)" \
                "$(rw "$t" 16)"
        done
        echo "repos/fl: distinct (repo, day) deltas per flush (ghit_flush_rows_total / flushes, both frontends"
        echo "for 2 frontends); deltas/h: deltas per answered hit; cmd/s: total_commands_processed (EVALSHA and"
        echo "every command its script runs); chunks/s: EVALSHA calls; CPU %: used_cpu_user + used_cpu_sys, % of"
        echo "one core (rates over the run and the writing of what it left pending); us/delta, us/hit: Redis CPU per delta written and per answered hit; cmd/dlt: commands"
        echo "per delta; B in/d: bytes Redis read per delta (its replies: $(for t in "${ORDER[@]}"; do
            [ -n "${RW[$t]:-}" ] && printf '%s %s B, ' "$t" "$(rw "$t" 9)"; done | sed 's/, $//') a delta);"
        echo "fails: failed store writes in ghit (ghit_store_failures_total; the hits stay in memory and"
        echo "go again), all rounds; aofdl: Redis's aof_delayed_fsync (writes it held back up to 2 s behind a"
        echo "slow fsync), all rounds; rewr: AOF rewrites (auto-aof-rewrite: a fork that writes the whole"
        echo "dataset) completed during the runs, all rounds; kid %: CPU of Redis's children (those"
        echo "rewrites, not in CPU %), % of one core; aof/d: bytes the AOF grew a delta (0 if a rewrite"
        echo "shrank it); fl ms: mean time of one flush (ghit_flush_duration_seconds), against the"
        echo "--flush-interval: a flush longer than it lets the next interval's hits wait in memory, and"
        echo "a kill -9 then loses them too. A run with fails has fewer, larger flushes than its load alone"
        echo "makes."
    fi
    echo
    echo "Redis's own stalls over 100 ms (LATENCY LATEST: event, last time, last ms, worst ms), whole run:"
    rcli latency latest | paste -d' ' - - - - | grep '[^ ]' | sed 's/^/  /' || echo "  none"
    if command -v python3 >/dev/null; then
        echo "commands over 100 ms (SLOWLOG: UTC time, ms, command, its keys for EVALSHA, client; the 10 last;"
        echo "an unnamed eval is this script's sum of repo:R between runs):"
        rcli -2 --json slowlog get 10 | python3 -c 'import json, sys, time
for e in json.load(sys.stdin):
    print("  %s %8.1f %s %s %s" % (time.strftime("%H:%M:%S", time.gmtime(e[1])), e[2] / 1000,
          e[3][0], e[3][2] + " keys" if len(e[3]) > 2 and e[3][0].lower() == "evalsha" else "",
          e[5] or e[4]))' || true
    fi
    # shellcheck disable=SC2086 # the lists are words
    m() { median ${RPS[$1]}; }
    echo
    echo "ratios of medians (targets from issue 8):"
    for n in 1 1000 1M; do
        if wants "redis$n" && wants "sqlite$n"; then
            check "$(label "redis$n") / $(label "sqlite$n"), req/s" "$(ratio "$(m "redis$n")" "$(m "sqlite$n")")" ">=" 0.9
        fi
    done
    if wants redis2fe && wants redis1000; then
        info "redis, 2 frontends / redis, 1000 repos, req/s" "$(ratio "$(m redis2fe)" "$(m redis1000)")"
    fi
    if wants pipeline; then
        # ghit counts every request it answers; the pipeline does not (DESIGN.md measures it by
        # the requests it counted): the target is on counted requests/s, answered shown beside.
        # shellcheck disable=SC2086 # the list is words
        wants redis1 && check "redis, 1 repo / 2015 pipeline, counted req/s" "$(ratio "$(m redis1)" "$(median $PIPE_COUNTED)")" ">=" 8
        wants redis1 && info "redis, 1 repo / 2015 pipeline, answered req/s" "$(ratio "$(m redis1)" "$(m pipeline)")"
        # shellcheck disable=SC2086 # the list is words
        info "2015 pipeline: counted req/s, median" "$(median $PIPE_COUNTED)"
        wants redis1000 && info "redis, 1000 repos / 2015 pipeline, req/s" "$(ratio "$(m redis1000)" "$(m pipeline)")"
        wants sqlite1 && info "sqlite, 1 repo / 2015 pipeline, req/s" "$(ratio "$(m sqlite1)" "$(m pipeline)")"
        # shellcheck disable=SC2086 # the list is words
        info "2015 pipeline: hits lost, all rounds" "$(echo $PIPE_LOST | tr ' ' '\n' | awk '{ s += $1 } END { print s + 0 }')"
    fi
    ghit_verdict
} >"$REPORT"

save_report
[ "$FAILS" = 0 ]
