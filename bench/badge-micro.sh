#!/bin/sh
# Builds and runs the badge-rendering microbenchmark: ns per badge, per style.
#   bench/badge-micro.sh [ITERATIONS]     (default 200000 per round, best of 5)
set -eu
cd "$(dirname "$0")/.."
make --no-print-directory build/libghit.a >/dev/null
mkdir -p build/bench
# shellcheck disable=SC2046 # pkg-config prints several flags, one word each
cc -std=c11 -D_GNU_SOURCE -O2 -Isrc -o build/bench/badge_micro bench/badge_micro.c build/libghit.a \
    $(pkg-config --libs libmicrohttpd sqlite3 2>/dev/null) -lpthread -lm
exec build/bench/badge_micro "$@"
