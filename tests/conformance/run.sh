#!/bin/sh
# Conformance: ghit's badges against shields.io's own renderer, badge-maker@6.
#
#   GHIT_BIN=/abs/path/to/ghit tests/conformance/run.sh     (make conformance)
#
# Installs the pinned badge-maker (package.json) into tests/conformance/node_modules
# when missing, then conformance.mjs renders every case with both and compares
# the whole SVGs byte for byte. Ends with "conformance: N passed, N failed".
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${GHIT_BIN:?set GHIT_BIN to the ghit binary}"
command -v node >/dev/null 2>&1 || { echo "conformance: node is required (apt-get install nodejs npm)" >&2; exit 1; }
if [ ! -f "$here/node_modules/badge-maker/package.json" ]; then
    echo "conformance: installing badge-maker from npm into $here/node_modules"
    (cd "$here" && npm install --no-save --no-audit --no-fund --no-package-lock --prefix "$here" \
        "badge-maker@$(node -p 'require("./package.json").dependencies["badge-maker"]')") >&2
fi
exec node "$here/conformance.mjs" "$GHIT_BIN"
