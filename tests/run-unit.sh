#!/bin/sh
# Runs every unit-test binary given, prints each one's line and a total in the
# form "unit: N passed, N failed"; fails if any test failed or a binary crashed.
passed=0
failed=0
for t in "$@"; do
    out=$("$t") || status=$?
    status=${status:-0}
    printf '%s\n' "$out"
    line=$(printf '%s\n' "$out" | tail -n 1)
    p=$(printf '%s' "$line" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
    f=$(printf '%s' "$line" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
    if [ -z "$p" ]; then
        echo "$t: crashed or printed no summary (exit $status)" >&2
        failed=$((failed + 1))
    else
        passed=$((passed + p))
        failed=$((failed + f))
        [ "$status" -ne 0 ] && [ "$f" -eq 0 ] && failed=$((failed + 1))
    fi
    unset status
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
