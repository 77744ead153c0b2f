#!/bin/sh
# Fails, listing the files, if any C source differs from what the committed
# .clang-format makes of it (`make format` rewrites them), or calls a banned
# function: sprintf, strcpy, strcat, atoi or strtok, which cannot report
# overflow or failure (snprintf, memcpy, strtoul and strtok_r can).
set -eu
cd "$(dirname "$0")/.."
if ! command -v clang-format >/dev/null 2>&1; then
    echo "format-check: clang-format is not installed (Debian package clang-format)" >&2
    exit 1
fi
bad=""
for f in src/*.c src/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c bench/*.c; do
    [ -e "$f" ] || continue
    if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
        bad="$bad $f"
    fi
done
if [ -n "$bad" ]; then
    echo "format-check: not formatted as .clang-format says:$bad" >&2
    echo "format-check: run 'make format'" >&2
    exit 1
fi
banned=$(grep -nE '(^|[^a-z_])(sprintf|vsprintf|strcpy|strcat|atoi|strtok)[[:space:]]*\(' \
    src/*.c src/*.h tests/unit/*.c tests/fuzz/*.c bench/*.c 2>/dev/null || true)
if [ -n "$banned" ]; then
    echo "format-check: banned functions (use snprintf, memcpy, strtoul, strtok_r):" >&2
    echo "$banned" >&2
    exit 1
fi
echo "format-check: all C sources formatted, no banned functions"
