#!/bin/bash
# What one delta costs Redis's CPU, written three ways (issue 8; doc/redis.md, "Where Redis's
# CPU goes"): is the apply script what makes Redis the bound over the million?
#
#   bench/redis-apply.sh                   (about a minute)
#   ROUNDS=5 N=1000000 bench/redis-apply.sh
#
# Each way writes N deltas (one hit each) for repos drawn uniformly from 1,000,000 loaded in
# the 2015 schema (bench/lib.sh, redis_load), in chunks of 1,000, sent with redis-cli --pipe
# to a redis-server with AOF everysec (doc/redis.md's settings):
#   script  ghit's apply script (src/store_redis_apply.lua) by EVALSHA, its keys and arguments
#           laid out as build_apply() in src/store_redis.c lays them out
#   multi   the writes the script makes on that path, as plain commands in one MULTI/EXEC a
#           chunk: SET of the frontend's mark, two INCRBY a delta, one SADD of the day's set
#           and one XADD to the feed a chunk (what a script-free apply would have to send,
#           less the reads that make it exactly once: a WATCH and two GETs a chunk)
#   plain   the two INCRBY a delta and the SADD a chunk, pipelined, no transaction
# Redis's CPU is INFO cpu's used_cpu_user + used_cpu_sys before and after each way. Each way
# in each round writes a day of its own, so every one starts with no day keys, as a day's
# first deltas do. Checked after each: the day's hits in Redis (repo:DAY:R over repos:DAY)
# equal N. ROUNDS rounds, the order rotating by one each round. 127.0.0.1 only; the
# redis-server is stopped on exit. The report goes to bench/results/YYYY-MM-DD-redis-apply.txt
# (OUT=- : not saved).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
ROUNDS=${ROUNDS:-3}
N=${N:-600000}
OUT=${OUT:-$ROOT/bench/results/$(date -u +%F)-redis-apply.txt}
if [ "$N" -lt 1000 ] || [ $((N % 1000)) != 0 ]; then die "N must be a multiple of 1,000"; fi

WORK=$(mktemp -d /tmp/ghit-redis-apply.XXXXXX)
REDIS_PID=""
cleanup() {
    set +e
    [ -n "$REDIS_PID" ] && stop_child "$REDIS_PID" 10
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'note interrupted; exit 130' INT TERM HUP

bench_setup

redis_start
note "loading 1,000,000 repos"
redis_load 2 1000000
SHA=$(rcli script load "$(cat "$ROOT/src/store_redis_apply.lua")")
EPOCH=$(rcli -n 2 get ghit:epoch)

# Writes way $1's commands for day $2 (frontend $3) to stdout, in RESP, seeded by $4.
commands() { # way day frontend seed
    awk -v way="$1" -v day="$2" -v fe="$3" -v seed="$4" -v n="$N" -v sha="$SHA" -v epoch="$EPOCH" '
    function arg(s) { printf "$%d\r\n%s\r\n", length(s), s }
    function cmd(argc, name) { printf "*%d\r\n", argc; arg(name) }
    BEGIN {
        srand(seed); cmd(2, "SELECT"); arg("2")
        for (seq = 1; seq <= n / 1000; seq++) {
            names = ""
            for (j = 0; j < 1000; j++) {
                r[j] = "bench%2Fr" (1 + int(rand() * 1000000))
                names = names (j ? " " : "") r[j]
            }
            if (way == "script") {
                # KEYS: epoch, mark, repos, first, repos:DAY, 2 a delta, feed;
                # ARGV: epoch, seq, ttl, today, ndays, n, the day, 3 a delta, frontend, feed length
                cmd(3 + 2006 + 9 + 3000, "EVALSHA"); arg(sha); arg(2006)
                arg("ghit:epoch"); arg("ghit:fe:" fe); arg("repos"); arg("ghit:first"); arg("repos:" day)
                for (j = 0; j < 1000; j++) { arg("repo:" r[j]); arg("repo:" day ":" r[j]) }
                arg("ghit:feed")
                arg(epoch); arg(seq); arg("86400"); arg(day); arg("1"); arg("1000"); arg(day)
                for (j = 0; j < 1000; j++) { arg(r[j]); arg("1"); arg("1") }
                arg(fe); arg("1000")
                continue
            }
            if (way == "multi") {
                cmd(1, "MULTI")
                cmd(5, "SET"); arg("ghit:fe:" fe); arg(seq); arg("EX"); arg("86400")
            }
            for (j = 0; j < 1000; j++) {
                cmd(3, "INCRBY"); arg("repo:" r[j]); arg("1")
                cmd(3, "INCRBY"); arg("repo:" day ":" r[j]); arg("1")
            }
            cmd(1002, "SADD"); arg("repos:" day); for (j = 0; j < 1000; j++) arg(r[j])
            if (way == "multi") {
                cmd(10, "XADD"); arg("ghit:feed"); arg("MAXLEN"); arg("~"); arg("1000"); arg("*")
                arg("fe"); arg(fe); arg("r"); arg(names)
                cmd(1, "EXEC")
            }
        }
    }'
}

cpu() { rcli info cpu | tr -d '\r' | awk -F: '/^used_cpu_(sys|user):/ { s += $2 } END { printf "%.6f", s }'; }

WAYS=(script multi plain)
declare -A US
REPORT=$WORK/report.txt
{
    echo "bench/redis-apply.sh  $(date -u '+%F %T') UTC  $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')  $(redis-server --version | awk '{print $3}')"
    echo "$(nproc) cores; $N deltas a way and round, chunks of 1,000, over 1,000,000 repos (2015 schema), AOF everysec"
    echo
} >"$REPORT"
day=0
for ((round = 0; round < ROUNDS; round++)); do
    for ((k = 0; k < ${#WAYS[@]}; k++)); do
        way=${WAYS[$(((k + round) % ${#WAYS[@]}))]}
        day=$((day + 1))
        d=$(printf '2030-01-%02d' "$day")
        commands "$way" "$d" "$way$round" "$day" >"$WORK/cmds.resp"
        c0=$(cpu)
        rcli --pipe <"$WORK/cmds.resp" >"$WORK/pipe.log" 2>&1 || { cat "$WORK/pipe.log" >&2; die "$way: redis-cli --pipe failed"; }
        c1=$(cpu)
        grep -q 'errors: 0' "$WORK/pipe.log" || { cat "$WORK/pipe.log" >&2; die "$way: Redis answered with errors"; }
        stored=$(redis_sum 2 "repos:$d" "repo:$d:")
        [ "$stored" = "$N" ] || die "$way: $stored hits on $d in Redis, want $N"
        us=$(awk -v a="$c0" -v b="$c1" -v n="$N" 'BEGIN { printf "%.2f", (b - a) / n * 1e6 }')
        US[$way]="${US[$way]:-} $us"
        echo "round $((round + 1)) $way: $us us of Redis CPU a delta ($N stored on $d)" >>"$WORK/rounds.txt"
    done
done
{
    echo "Redis CPU a delta (us; per round, then the median):"
    for way in "${WAYS[@]}"; do
        # shellcheck disable=SC2086
        printf '  %-7s %s   median %s\n' "$way" "${US[$way]}" "$(median ${US[$way]})"
    done
    # shellcheck disable=SC2086
    echo "  multi / script: $(ratio "$(median ${US[multi]})" "$(median ${US[script]})")"
    echo
    cat "$WORK/rounds.txt"
} >>"$REPORT"
save_report
