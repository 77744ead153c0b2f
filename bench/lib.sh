# shellcheck shell=bash disable=SC2034
# Shared by the scripts of bench/ (sourced, not run).

# die, note: a message on stderr, named after the script; die exits 1.
die() {
    echo "${0##*/}: $*" >&2
    exit 1
}
note() { echo "${0##*/}: $*" >&2; }

# bench_setup: one benchmark at a time on this machine: holds /tmp/bench.lock on fd 9 (the
# 2015 pipeline's start.sh knows that lock too; servers started with 9>&- do not keep it),
# waiting up to BENCH_LOCK_WAIT seconds (600); then installs what the benchmarks lack
# (scripts/deps.sh bench). Needs ROOT, die.
bench_setup() {
    exec 9>/tmp/bench.lock
    flock -w "${BENCH_LOCK_WAIT:-600}" 9 || die "another benchmark holds /tmp/bench.lock"
    "$ROOT/scripts/deps.sh" bench
}

# prepare_ghit: builds build/ghit when that is the binary asked for, then takes a private
# copy of it into $WORK, since other engineers rebuild build/ghit while a benchmark runs
# and all the runs of one invocation must measure the same binary (a copy taken while the
# linker writes is caught by --version and taken again). Sets GHIT (the copy), GHIT_SRC,
# GHIT_SUM (its sha256, 12 digits) and GIT_DESC (the commit, and whether src/ or the
# Makefile had uncommitted changes when the copy was taken). Needs ROOT, WORK, GHIT, die.
prepare_ghit() {
    if [ "$GHIT" = "$ROOT/build/ghit" ]; then
        make -C "$ROOT" --no-print-directory all >"$WORK/make.log" 2>&1 ||
            { tail -n 30 "$WORK/make.log" >&2; die "make failed"; }
    fi
    [ -x "$GHIT" ] || die "no ghit binary at $GHIT"
    GHIT_SRC=$GHIT
    local try
    for try in 1 2 3 4 5 6; do
        cp "$GHIT_SRC" "$WORK/ghit" 2>/dev/null && "$WORK/ghit" --version >/dev/null 2>&1 && break
        [ "$try" = 6 ] && die "cannot take a working copy of $GHIT_SRC"
        sleep 2
    done
    GHIT=$WORK/ghit
    GHIT_SUM=$(sha256sum "$GHIT" | cut -c1-12)
    GIT_DESC="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo 'no commit yet')$(
        [ -z "$(git -C "$ROOT" status --porcelain -- src Makefile 2>/dev/null)" ] ||
            echo ' + uncommitted changes in src/ or Makefile')"
}

# save_report: prints $REPORT and, unless OUT is -, appends it to $OUT: one file per day, a
# later run of the same day appended below, so every figure measured stays on record.
# Needs ROOT, REPORT, OUT, note.
save_report() {
    cat "$REPORT"
    [ "$OUT" = - ] && return 0
    mkdir -p "$(dirname "$OUT")"
    if [ -s "$OUT" ]; then printf '\n%s\n\n' "----------------------------------------" >>"$OUT"; fi
    cat "$REPORT" >>"$OUT"
    note "report appended to ${OUT#"$ROOT"/}"
}

# --- small helpers the scripts share ----------------------------------------------------

wants() { case " $TARGETS " in *" $1 "*) return 0 ;; esac; return 1; }
# Sends SIGTERM to a child, waits up to $2 seconds (default 30), then SIGKILL.
stop_child() {
    local pid=$1 limit=${2:-30} i
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < limit * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}
# Stops a ghit server with SIGTERM, waits up to $2 seconds (default 30), then SIGKILL with a
# note; sets RC to its exit status.
stop_server() { # pid [limit]
    local pid=$1 limit=${2:-30} i
    kill -TERM "$pid"
    for ((i = 0; i < limit * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid"
        note "ghit did not exit within $limit s of SIGTERM (killed)"
    fi
    RC=0
    wait "$pid" || RC=$?
}
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# GET over a fresh HTTP/1.0 connection; prints the whole reply.
http_get() { # port path
    # shellcheck disable=SC2016 # $1 and $2 expand in the inner bash
    timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" &&
        printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" "$2" >&3 && cat <&3' _ "$1" "$2"
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {
    if (NR == 0) print "nan"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a/b; else print "nan" }'; }
ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u/1000 }'; }
now() { date +%s.%N; }

# A ghit SQLite database (PATH plus its journal PATH-flushes, doc/design.md "The journal and
# the merger"): the rows past the merge mark count, as ghit counts them.
# sqlite_stored DB [COLUMN TABLE]: sum(COLUMN) of TABLE (repos.total unless given), plus the
# journal's hits past the mark, if DB has a journal.
sqlite_stored() {
    local j=""
    [ -f "$1-flushes" ] && j="+ (SELECT coalesce(sum(hits), 0) FROM j.journal
        WHERE id > (SELECT value FROM main.meta WHERE key = 'merged'))"
    sqlite3 "$1" "ATTACH '$1-flushes' AS j; SELECT (SELECT coalesce(sum(${2:-total}), 0) FROM main.${3:-repos}) $j"
}
# sqlite_backlog DB: the journal rows past the mark (written, not merged yet).
sqlite_backlog() {
    sqlite3 "$1" "ATTACH '$1-flushes' AS j; SELECT max(0, coalesce((SELECT max(id) FROM j.journal), m) - m)
        FROM (SELECT value AS m FROM main.meta WHERE key = 'merged')"
}
# wrk_result FILE [LABEL]: the last WRKRESULT line of FILE (bench/uniform.lua, bench/report.lua)
# into WRK_LINE; dies with FILE's text if wrk wrote none.
wrk_result() {
    WRK_LINE=$(grep '^WRKRESULT ' "$1" | tail -n1) || true
    [ -n "$WRK_LINE" ] || {
        cat "$1" >&2
        die "wrk gave no result${2:+ for $2}"
    }
}
# wrk_field NAME: the number NAME=... of WRK_LINE.
wrk_field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$WRK_LINE"; }
# wrk_errors: WRK_LINE's socket errors and non-2xx answers that are not 0, as "read=3 status=7".
wrk_errors() {
    local e v out=""
    for e in connect read write status timeout; do
        v=$(wrk_field "errors_$e")
        [ "${v:-0}" = 0 ] || out="$out $e=$v"
    done
    echo "${out# }"
}

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# A line of a report's verdict: check TEXT VALUE OP LIMIT prints PASS or FAIL (adding one to
# FAILS) as VALUE is OP (>= or <=) LIMIT; nan fails. info TEXT VALUE: a figure without target.
check() {
    local ok
    ok=$(awk -v v="$2" -v l="$4" -v op="$3" 'BEGIN { if (v == "nan") print 0;
        else if (op == ">=") print (v >= l); else print (v <= l) }')
    if [ "$ok" = 1 ]; then printf 'PASS  %-52s %6s (target %s %s)\n' "$1" "$2" "$3" "$4"; else
        printf 'FAIL  %-52s %6s (target %s %s)\n' "$1" "$2" "$3" "$4"
        FAILS=$((FAILS + 1))
    fi
}
info() { printf 'info  %-52s %6s\n' "$1" "$2"; }

# The report's verdict on the ghit runs: no hit lost and every run clean (GHIT_FAILS runs
# were not: they lost LOST_TOTAL hits in all, or failed otherwise); adds them to FAILS.
ghit_verdict() {
    FAILS=$((FAILS + GHIT_FAILS))
    if [ "$GHIT_FAILS" = 0 ]; then
        echo "PASS  zero hits lost; every ghit run exited 0 after SIGTERM, without wrk errors"
    elif [ "$LOST_TOTAL" = 0 ]; then
        echo "FAIL  zero hits lost, but $GHIT_FAILS ghit run(s) failed (see the counting table)"
    else
        echo "FAIL  $LOST_TOTAL hits lost in the ghit runs (see the counting table)"
    fi
}

# --- Redis (bench/redis.sh, bench/kill9.sh STORE=redis); the caller sets WORK -------------

rcli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
# One field of INFO (section $1, field $2).
rinfo() { rcli info "$1" | tr -d '\r' | awk -F: -v k="$2" '$1 == k { print $2 }'; }
# redis_sum DB [SET PREFIX]: the sum of PREFIX.M over the members M of SET in database DB,
# repo:R over repos unless given (repos:DAY and repo:DAY: give a day's hits), in one script
# (about 1 s of Redis per million repos; only ever run between runs).
SUM_LUA="local s = 0
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  s = s + (tonumber(redis.call('GET', ARGV[1] .. m)) or 0)
end
return s"
redis_sum() { rcli -n "$1" eval "$SUM_LUA" 1 "${2:-repos}" "${3:-repo:}"; }

# Loads n repos bench/r1..bench/rN into database $1 as the 2015 schema has them (repos,
# repo:R = 5) with ghit's keys (ghit:first R = 2026-01-01, ghit:epoch), through redis-cli
# --pipe: 1,000 members or pairs a command. With a day (YYYY-MM-DD), the 5 hits are that
# day's too (repos:DAY, repo:DAY:R), which top lists read.
redis_load() { # db n [day]
    awk -v db="$1" -v n="$2" -v day="${3:-}" 'function arg(s) { printf "$%d\r\n%s\r\n", length(s), s }
    function cmd(argc, name, key) { printf "*%d\r\n", argc; arg(name); if (key != "") arg(key) }
    BEGIN {
        cmd(2, "SELECT", ""); arg(db)
        cmd(3, "SET", "ghit:epoch"); arg("0bench0" n)
        for (lo = 1; lo <= n; lo += 1000) {
            hi = lo + 999; if (hi > n) hi = n; m = hi - lo + 1
            cmd(2 + m, "SADD", "repos"); for (i = lo; i <= hi; i++) arg("bench%2Fr" i)
            cmd(1 + 2 * m, "MSET", ""); for (i = lo; i <= hi; i++) { arg("repo:bench%2Fr" i); arg("5") }
            cmd(2 + 2 * m, "HSET", "ghit:first"); for (i = lo; i <= hi; i++) { arg("bench%2Fr" i); arg("2026-01-01") }
            if (day == "") continue
            cmd(2 + m, "SADD", "repos:" day); for (i = lo; i <= hi; i++) arg("bench%2Fr" i)
            cmd(1 + 2 * m, "MSET", ""); for (i = lo; i <= hi; i++) { arg("repo:" day ":bench%2Fr" i); arg("5") }
        }
    }' >"$WORK/load-$1.resp"
    rcli --pipe <"$WORK/load-$1.resp" >"$WORK/load-$1.log" 2>&1 ||
        { cat "$WORK/load-$1.log" >&2; die "redis-cli --pipe failed"; }
    grep -q 'errors: 0' "$WORK/load-$1.log" || { cat "$WORK/load-$1.log" >&2; die "loading Redis db $1 had errors"; }
    rm -f "$WORK/load-$1.resp"
}

# What doc/redis.md recommends, as name-value pairs: no RDB saves, AOF synced every second,
# a rewrite when the AOF has grown by four times its base. redis_start gives them to
# redis-server as --NAME VALUE; redis_conf to a running Redis with CONFIG SET, in this order
# (appendonly last: turning it on writes the first AOF).
REDIS_CONF=(save '' appendfsync everysec auto-aof-rewrite-percentage 400 appendonly yes)

# Sets the running Redis on REDIS_PORT as REDIS_CONF says.
redis_conf() {
    local i
    for ((i = 0; i < ${#REDIS_CONF[@]}; i += 2)); do
        rcli config set "${REDIS_CONF[i]}" "${REDIS_CONF[i + 1]}" >/dev/null ||
            die "CONFIG SET ${REDIS_CONF[i]} failed"
    done
}

# Starts redis-server as REDIS_CONF says on the first free port from 16390, its files in
# $WORK/redis; sets REDIS_PORT and REDIS_PID.
redis_start() {
    local k i conf=()
    for ((REDIS_PORT = 16390; REDIS_PORT < 16490; REDIS_PORT++)); do
        port_busy "$REDIS_PORT" || break
    done
    for ((i = 0; i < ${#REDIS_CONF[@]}; i += 2)); do
        conf+=("--${REDIS_CONF[i]}" "${REDIS_CONF[i + 1]}")
    done
    mkdir -p "$WORK/redis"
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$WORK/redis" "${conf[@]}" \
        --daemonize no --logfile "$WORK/redis.log" 9>&- &
    REDIS_PID=$!
    for ((k = 0; k < 100; k++)); do rcli ping >/dev/null 2>&1 && break; sleep 0.1; done
    rcli ping >/dev/null 2>&1 || die "redis-server did not start (see $WORK/redis.log)"
}
