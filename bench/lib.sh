# shellcheck shell=bash disable=SC2034
# Shared by the scripts of bench/ (sourced, not run).

# die, note: a message on stderr, named after the script; die exits 1.
die() {
    echo "${0##*/}: $*" >&2
    exit 1
}
note() { echo "${0##*/}: $*" >&2; }

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
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

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
