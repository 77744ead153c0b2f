#!/bin/sh
# Browser tests: ghit's badges as a person sees them, in Debian's headless Chromium.
#
#   GHIT_BIN=/abs/path/to/ghit tests/browser/run.sh     (make browser)
#
# Installs the pinned playwright-core (package.json; it drives the installed
# /usr/bin/chromium and downloads no browser of its own) into
# tests/browser/node_modules when missing, then runs badge.test.mjs, which
# starts its own ghit on a free port and stops it. Ends with
# "browser: N passed, N failed".
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${GHIT_BIN:?set GHIT_BIN to the ghit binary}"
command -v node >/dev/null 2>&1 || { echo "browser: node is required (apt-get install nodejs npm)" >&2; exit 1; }
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "browser: $CHROMIUM is missing (apt-get install chromium)" >&2; exit 1; }
if [ ! -f "$here/node_modules/playwright-core/package.json" ]; then
    echo "browser: installing playwright-core from npm into $here/node_modules"
    (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-save --no-audit --no-fund \
        --no-package-lock --prefix "$here" \
        "playwright-core@$(node -p 'require("./package.json").dependencies["playwright-core"]')") >&2
fi
export CHROMIUM
exec node "$here/badge.test.mjs" "$GHIT_BIN"
