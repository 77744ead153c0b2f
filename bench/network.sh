#!/bin/bash
# ghit where it is deployed, with its default options (issue 6, "Figures"):
#
#   1. behind nginx configured as contrib/nginx-proxy.conf (TLS left out): wrk with
#      CONNS_PROXY (400) keep-alive connections for DURATION seconds;
#   2. directly, CONNS_DIRECT (200) keep-alive connections from one address;
#   3. a repo flood: FLOOD_CONNS (4) connections from 127.0.0.2 asking for a new name on
#      every request for DURATION seconds, while another client (127.0.0.3) makes a new
#      repo and hits a known one once a second.
#
# For each: requests answered, errors (non-2xx answers and socket errors, as wrk counts
# them), hits stored after a clean stop. Runs 1 and 2 pass when every answer is 200 and
# stored = answered (+ at most one in-flight request per connection that wrk stopped
# reading); run 3 when every legitimate request is counted and the flood made at most
# the per-client allowance of new repos.
#
#   bench/network.sh
#   DURATION=5 OUT=- bench/network.sh
#
# 127.0.0.1 only (and 127.0.0.2-3 for the flood), every wait bounded, every server
# stopped on exit. The report goes to bench/results/YYYY-MM-DD-network.txt.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
DURATION=${DURATION:-10}
CONNS_PROXY=${CONNS_PROXY:-400}
CONNS_DIRECT=${CONNS_DIRECT:-200}
FLOOD_CONNS=${FLOOD_CONNS:-4}
GHIT=${GHIT:-$ROOT/build/ghit}
GHIT_PORT=${GHIT_PORT:-18092}
NGINX_PORT=${NGINX_PORT:-18093}
OUT=${OUT:-$ROOT/bench/results/$(date -u +%F)-network.txt}


WORK=$(mktemp -d /tmp/ghit-network.XXXXXX)
GHIT_PID=""
NGINX_PID=""
cleanup() {
    set +e
    [ -n "$GHIT_PID" ] && kill -TERM "$GHIT_PID" 2>/dev/null && wait "$GHIT_PID"
    [ -n "$NGINX_PID" ] && kill -QUIT "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID"
    if [ "${KEEP:-0}" = 1 ]; then note "scratch kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'note interrupted; exit 130' INT TERM HUP

bench_setup
prepare_ghit

http_status() { # port path [source address]
    curl -s -o /dev/null -w '%{http_code}' ${3:+--interface "$3"} "http://127.0.0.1:$1$2"
}

start_ghit() { # db log
    "$GHIT" serve --listen "127.0.0.1:$GHIT_PORT" --db "$1" >>"$2" 2>&1 9>&- &
    GHIT_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        [ "$(http_status "$GHIT_PORT" /healthz)" = 200 ] && return 0
        sleep 0.1
    done
    die "ghit did not start (see $2)"
}

stop_ghit() {
    kill -TERM "$GHIT_PID"
    local rc=0
    wait "$GHIT_PID" || rc=$?
    GHIT_PID=""
    [ "$rc" = 0 ] || die "ghit exited $rc after SIGTERM"
}

# wrk with report.lua; sets W_REQ, W_ERR (non-2xx answers plus socket errors).
wrk_run() { # connections url
    local out=$WORK/wrk-$RANDOM.txt
    timeout -k 5 $((DURATION + 30)) wrk -t2 -c"$1" -d"${DURATION}s" --timeout 5s \
        -s "$ROOT/bench/report.lua" "$2" >"$out" 2>&1 9>&- || true
    wrk_result "$out"
    W_REQ=$(wrk_field requests)
    W_RPS=$(wrk_field rps)
    W_ERR=$(($(wrk_field errors_status) + $(wrk_field errors_connect) + $(wrk_field errors_read) +
        $(wrk_field errors_write) + $(wrk_field errors_timeout)))
}

REPORT=$WORK/report.txt
FAILS=0
verdict() { # answered errors stored conns
    local extra=$(($3 - $1))
    if [ "$2" = 0 ] && [ "$extra" -ge 0 ] && [ "$extra" -le "$4" ]; then echo ok; else
        FAILS=$((FAILS + 1))
        echo FAIL
    fi
}

{
    echo "ghit network benchmark, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "machine: $(nproc) cores, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "ghit: ${GHIT_SRC#"$ROOT"/} ($("$GHIT" --version), sha256 $GHIT_SUM), git $GIT_DESC;" \
        "ghit serve --listen 127.0.0.1:$GHIT_PORT --db FRESH (default options)"
    echo "load: $(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2) -t2, keep-alive, ${DURATION}s per run"
    echo
    printf '%-44s %10s %9s %8s %10s %s\n' run answered "req/s" errors stored verdict
} >"$REPORT"

# 1. behind nginx, as contrib/nginx-proxy.conf
sed -e "s/server 127.0.0.1:8080;/server 127.0.0.1:$GHIT_PORT;/" \
    -e "s/listen 443 ssl http2;/listen 127.0.0.1:$NGINX_PORT;/" \
    -e '/ssl_certificate/d' "$ROOT/contrib/nginx-proxy.conf" >"$WORK/site.conf"
cat >"$WORK/nginx.conf" <<EOF
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK; proxy_temp_path $WORK; fastcgi_temp_path $WORK;
  uwsgi_temp_path $WORK; scgi_temp_path $WORK;
  include $WORK/site.conf;
}
EOF
start_ghit "$WORK/proxy.db" "$WORK/ghit-proxy.log"
nginx -c "$WORK/nginx.conf" -g 'daemon off;' 9>&- &
NGINX_PID=$!
for ((i = 0; i < 50; i++)); do
    [ "$(http_status "$NGINX_PORT" /healthz)" = 200 ] && break
    sleep 0.1
done
wrk_run "$CONNS_PROXY" "http://127.0.0.1:$NGINX_PORT/badge.svg?repo=bench/proxy"
kill -QUIT "$NGINX_PID"
wait "$NGINX_PID" || true
NGINX_PID=""
stop_ghit
s=$(sqlite_stored "$WORK/proxy.db")
printf '%-44s %10s %9s %8s %10s %s\n' "behind nginx (contrib), $CONNS_PROXY connections" "$W_REQ" "$W_RPS" \
    "$W_ERR" "$s" "$(verdict "$W_REQ" "$W_ERR" "$s" "$CONNS_PROXY")" >>"$REPORT"
upstream_errors=$(grep -c 'upstream prematurely closed' "$WORK/nginx-error.log" || true)
echo "  nginx error log: $upstream_errors \"upstream prematurely closed\"" >>"$REPORT"
[ "$upstream_errors" = 0 ] || FAILS=$((FAILS + 1))

# 2. directly, many connections from one address
start_ghit "$WORK/direct.db" "$WORK/ghit-direct.log"
wrk_run "$CONNS_DIRECT" "http://127.0.0.1:$GHIT_PORT/badge.svg?repo=bench/direct"
stop_ghit
s=$(sqlite_stored "$WORK/direct.db")
printf '%-44s %10s %9s %8s %10s %s\n' "direct, $CONNS_DIRECT connections from one address" "$W_REQ" "$W_RPS" \
    "$W_ERR" "$s" "$(verdict "$W_REQ" "$W_ERR" "$s" "$CONNS_DIRECT")" >>"$REPORT"

# 3. a repo flood from one client, and a legitimate client beside it
cat >"$WORK/flood.lua" <<'EOF'
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("id", threads)
end
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/badge.svg?repo=junk" .. id .. "/n" .. n)
end
done = function(summary, latency, requests)
  io.write(string.format("WRKRESULT requests=%d rps=%.0f errors_status=%d errors_connect=%d errors_read=%d errors_write=%d errors_timeout=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6), summary.errors.status,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
end
EOF
start_ghit "$WORK/flood.db" "$WORK/ghit-flood.log"
curl -s -o /dev/null --interface 127.0.0.3 "http://127.0.0.1:$GHIT_PORT/badge.svg?repo=legit/known"
# wrk cannot bind a source address: it floods from 127.0.0.1, the legitimate client is 127.0.0.3.
out=$WORK/wrk-flood.txt
timeout -k 5 $((DURATION + 30)) wrk -t2 -c"$FLOOD_CONNS" -d"${DURATION}s" -s "$WORK/flood.lua" \
    "http://127.0.0.1:$GHIT_PORT/" >"$out" 2>&1 9>&- &
WRK=$!
legit_ok=0
legit_n=0
for ((i = 1; i < DURATION; i++)); do
    sleep 1
    [ "$(http_status "$GHIT_PORT" "/badge.svg?repo=legit/new$i" 127.0.0.3)" = 200 ] && legit_ok=$((legit_ok + 1))
    [ "$(http_status "$GHIT_PORT" /badge.svg?repo=legit/known 127.0.0.3)" = 200 ] && legit_ok=$((legit_ok + 1))
    legit_n=$((legit_n + 2))
done
wait "$WRK" || true
wrk_result "$out"
flood_req=$(wrk_field requests)
flood_429=$(wrk_field errors_status)
health=$(curl -s "http://127.0.0.1:$GHIT_PORT/healthz" | tr '\n' ' ')
stop_ghit
junk=$(sqlite3 "$WORK/flood.db" "select count(*) from repos where name like 'junk%'")
legit_stored=$(sqlite3 "$WORK/flood.db" "select coalesce(sum(total),0) from repos where name like 'legit/%'")
{
    printf '%-44s %10s %9s %8s %10s %s\n' "flood: $FLOOD_CONNS connections, a new name each" "$flood_req" \
        "-" "$flood_429" "$junk repos" "$([ "$junk" -le $((60 + DURATION + 2)) ] && echo ok || echo FAIL)"
    printf '%-44s %10s %9s %8s %10s %s\n' "  beside it, another client (127.0.0.3)" "$legit_n" "-" \
        "$((legit_n - legit_ok))" "$((legit_stored - 1))" \
        "$([ "$legit_ok" = "$legit_n" ] && [ "$((legit_stored - 1))" = "$legit_n" ] && echo ok || echo FAIL)"
    echo "  /healthz during the flood: $health"
    echo "  (flood errors are its 429 answers: new repos over --new-repos-per-client 60 a minute)"
} >>"$REPORT"
[ "$junk" -le $((60 + DURATION + 2)) ] || FAILS=$((FAILS + 1))
[ "$legit_ok" = "$legit_n" ] || FAILS=$((FAILS + 1))

save_report
[ "$FAILS" = 0 ]
