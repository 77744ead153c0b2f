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
