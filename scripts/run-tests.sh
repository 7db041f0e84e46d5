#!/bin/sh
# Runs every executable scripts/stages/NN-name.sh in name order and sums up.
# A stage passes with exit 0, is skipped with exit 77 (its last output line is
# taken as the reason) and fails with anything else. Each stage's output goes
# to build/test-logs/<stage>.log and is shown in full when the stage fails,
# or always with PFSYNC_TEST_VERBOSE=1 (CI sets it).
#   scripts/run-tests.sh [PATTERN]   run only stages whose file name contains PATTERN
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
filter=${1:-}
logs=build/test-logs
mkdir -p "$logs"

passed=0 failed=0 skipped=0
failed_names=""

for stage in scripts/stages/[0-9]*; do
    if [ ! -f "$stage" ] || [ ! -x "$stage" ]; then
        continue
    fi
    name=$(basename "$stage")
    name=${name%.sh}
    case "$name" in *"$filter"*) ;; *) continue ;; esac
    log=$logs/$name.log
    printf '== %s\n' "$name"
    start=$(date +%s)
    "$stage" >"$log" 2>&1 </dev/null
    rc=$?
    secs=$(($(date +%s) - start))
    case $rc in
    0)
        passed=$((passed + 1))
        if [ "${PFSYNC_TEST_VERBOSE:-0}" = 1 ]; then
            sed 's/^/   | /' "$log"
        fi
        printf '   %s: PASS (%ss)\n' "$name" "$secs"
        ;;
    77)
        skipped=$((skipped + 1))
        if [ "${PFSYNC_TEST_VERBOSE:-0}" = 1 ]; then
            sed 's/^/   | /' "$log"
        fi
        reason=$(grep -v '^[[:space:]]*$' "$log" | tail -n 1)
        printf '   %s: SKIP (%s)\n' "$name" "${reason:-no reason given}"
        ;;
    *)
        failed=$((failed + 1))
        failed_names="$failed_names $name"
        sed 's/^/   | /' "$log"
        printf '   %s: FAIL (exit %s, %ss)\n' "$name" "$rc" "$secs"
        ;;
    esac
done

if [ $((passed + failed + skipped)) -eq 0 ]; then
    echo "run-tests: no stage matched '${filter}'" >&2
    exit 2
fi
[ -n "$failed_names" ] && printf 'failed stages:%s\n' "$failed_names"
printf '%d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
[ "$failed" -eq 0 ]
