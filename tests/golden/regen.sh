#!/bin/sh
# Regenerates the golden badges that tests/unit/test_badge.c compares byte for byte.
#   STYLE.svg        badge-maker@6's output (the reference ghit must equal) for
#                    label "hits", message "1,234", color "#4c1" (ghit's defaults)
#   error-flat.svg   badge-maker's output for an error badge (color "red")
#   auto-STYLE.svg   ghit's own theme=auto output (no reference exists: review
#                    a change by eye, then regenerate), from GHIT_BIN
# Usage: tests/golden/regen.sh [GHIT_BIN]  (needs tests/conformance/node_modules)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
ghit=${1:-$here/../../build/ghit}
cd "$here/../conformance"
node --input-type=module -e '
import { makeBadge } from "badge-maker"
import fs from "node:fs"
const dir = process.argv[1]
for (const style of ["flat", "flat-square", "plastic", "for-the-badge", "social"])
  fs.writeFileSync(`${dir}/${style}.svg`, makeBadge({ label: "hits", message: "1,234", color: "#4c1", style }) + "\n")
fs.writeFileSync(`${dir}/error-flat.svg`, makeBadge({ label: "hits", message: "repo must be OWNER/NAME", color: "red" }) + "\n")
' "$here"
for style in flat flat-square plastic for-the-badge social; do
    "$ghit" badge --style "$style" --theme auto --message 1,234 > "$here/auto-$style.svg"
done
