#!/bin/sh
# Installs the Debian packages ghit needs and the machine lacks.
#
#   scripts/deps.sh build    what `make` and `make run` need
#   scripts/deps.sh test     that, plus what `make test` needs (the 2015 pipeline for
#                            the import-2015 tests: nginx with set-misc, syslog-ng)
#   scripts/deps.sh ci       that, plus clang-format and scan-build (clang-tools) for CI's checks
#   scripts/deps.sh bench    that, plus the benchmark's baselines (nginx, syslog-ng, redis, wrk)
#
# On Debian or Ubuntu it installs the missing packages with apt-get, as root or
# through sudo. Elsewhere, or without the rights, it prints the exact packages
# to install and fails, so that make stops before a confusing compiler error.
set -eu

what=${1:-build}
build_pkgs="build-essential pkg-config libmicrohttpd-dev libsqlite3-dev libhiredis-dev"
test_pkgs="python3 python3-pytest python3-prometheus-client libxml2-dev sqlite3 curl chromium fonts-dejavu-core nginx wrk redis-server redis-tools python3-redis libnginx-mod-http-set-misc libnginx-mod-http-ndk syslog-ng-core syslog-ng-mod-redis faketime strace"
bench_pkgs="wrk nginx libnginx-mod-http-set-misc libnginx-mod-http-ndk syslog-ng-core syslog-ng-mod-redis redis-server redis-tools sqlite3"

case "$what" in
build) want="$build_pkgs" ;;
test) want="$build_pkgs $test_pkgs" ;;
ci) want="$build_pkgs $test_pkgs clang-format clang-tools" ;;
bench) want="$build_pkgs $bench_pkgs" ;;
*) echo "usage: $0 build|test|ci|bench" >&2; exit 2 ;;
esac

missing=""
if command -v dpkg-query >/dev/null 2>&1; then
    installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
    for p in $want; do
        # Ubuntu's chromium-browser (see below) does for Debian's chromium.
        if ! installed "$p" && ! { [ "$p" = chromium ] && installed chromium-browser; }; then
            missing="$missing $p"
        fi
    done
    # The badge conformance test runs shields.io's badge-maker under Node.js.
    # A node and npm from elsewhere (nvm, NodeSource) serve as well as Debian's.
    if [ "$what" = test ] || [ "$what" = ci ]; then need_node=1; else need_node=0; fi
    if [ "$need_node" = 1 ] && ! { command -v node >/dev/null && command -v npm >/dev/null; }; then
        missing="$missing nodejs npm"
    fi
else
    echo "ghit: this is not a Debian or Ubuntu system; install the equivalents of:" >&2
    echo "  $want nodejs npm" >&2
    exit 1
fi

[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo"
else
    echo "ghit: missing Debian packages:$missing" >&2
    echo "ghit: install them with:  sudo apt-get install$missing" >&2
    exit 1
fi

echo "ghit: installing missing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # word splitting of the list is wanted
apt_install() { $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null; }
# A fresh machine has empty or stale package lists: update once, then try again.
if ! apt_install; then
    $sudo apt-get update -qq
    # Ubuntu has no package chromium: its Chromium is chromium-browser, a snap's wrapper.
    if ! apt-cache policy chromium 2>/dev/null | grep -q 'Candidate: [^(]' &&
        apt-cache policy chromium-browser 2>/dev/null | grep -q 'Candidate: [^(]'; then
        missing=$(echo "$missing" | sed 's/ chromium\b/ chromium-browser/')
    fi
    apt_install
fi
echo "ghit: installed:$missing"
