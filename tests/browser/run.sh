#!/bin/sh
# Browser tests: ghit's badges as a person sees them, in Debian's headless Chromium.
#
#   GHIT_BIN=/abs/path/to/ghit tests/browser/run.sh     (make browser)
#
# Installs the pinned npm packages of package.json into tests/browser/node_modules
# when one is missing: playwright-core (it drives the installed Chromium, or $CHROMIUM,
# and downloads no browser of its own) and axe-core (the accessibility check,
# injected into the page from the local file). Then runs badge.test.mjs,
# dashboard.test.mjs and builder-defaults.test.mjs, each of which starts its own
# ghit on a free port and stops it. Each ends with "browser (...): N passed, N failed".
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${GHIT_BIN:?set GHIT_BIN to the ghit binary}"
command -v node >/dev/null 2>&1 || { echo "browser: node is required (apt-get install nodejs npm)" >&2; exit 1; }
# Debian installs it as chromium, Ubuntu as chromium-browser (a wrapper of its snap).
if [ -z "${CHROMIUM:-}" ]; then
    for CHROMIUM in /usr/bin/chromium /usr/bin/chromium-browser /snap/bin/chromium; do
        [ -x "$CHROMIUM" ] && break
    done
fi
[ -x "$CHROMIUM" ] || { echo "browser: no Chromium at $CHROMIUM (apt-get install chromium, or set CHROMIUM)" >&2; exit 1; }
missing=$(cd "$here" && node -e '
const fs = require("fs");
const deps = require("./package.json").dependencies;
console.log(Object.entries(deps).filter(([n, v]) => {
  try { return JSON.parse(fs.readFileSync(`node_modules/${n}/package.json`)).version !== v; }
  catch { return true; }
}).map(([n, v]) => `${n}@${v}`).join(" "));')
if [ -n "$missing" ]; then
    echo "browser: installing $missing from npm into $here/node_modules"
    # shellcheck disable=SC2086 # the list is words
    (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-save --no-audit --no-fund \
        --no-package-lock --prefix "$here" $missing) >&2
fi
export CHROMIUM
status=0
node "$here/badge.test.mjs" "$GHIT_BIN" || status=1
node "$here/dashboard.test.mjs" "$GHIT_BIN" || status=1
node "$here/builder-defaults.test.mjs" "$GHIT_BIN" || status=1
exit $status
