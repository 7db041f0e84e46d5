#!/bin/sh
# `make test` installs what the stages need instead of skipping them
# (scripts/test.sh, scripts/install-deps.sh):
#  1. without root, a missing package makes it print the command to run as
#     root and fail before any stage runs (run as nobody when we are root);
#  2. with every package present it goes on to run the stages;
#  3. a stage whose tool is missing fails and names the install command
#     instead of skipping (PATH emptied, so no tool is found).
set -eu

top=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

# A copy of the entry scripts with one stage that only leaves a mark, so that
# "did any stage run" is visible and nothing real runs.
mkdir -p "$work/tree/scripts/stages"
cp scripts/test.sh scripts/run-tests.sh scripts/install-deps.sh \
    scripts/fetch-freebsd-headers.sh "$work/tree/scripts/"
cat >"$work/tree/scripts/stages/10-mark.sh" <<'SH'
#!/bin/sh
touch "$(dirname "$0")/../../stage-ran"
SH
chmod -R a+rX "$work/tree"
chmod 755 "$work/tree/scripts/"*.sh "$work/tree/scripts/stages/10-mark.sh"
chmod 777 "$work/tree"

as_user() { # run a command as a non-root user
    if [ "$(id -u)" -eq 0 ]; then
        setpriv --reuid=65534 --regid=65534 --clear-groups --reset-env "$@"
    else
        "$@"
    fi
}

fail=0
# 1. Non-root, a package missing.
rc=0
as_user env PFSYNC_DEPS_PRETEND_MISSING=shellcheck PFSYNC_TOOLCHAIN_DIR="$top/.toolchain" \
    sh "$work/tree/scripts/test.sh" >"$work/nonroot.out" 2>&1 || rc=$?
sed 's/^/   nonroot| /' "$work/nonroot.out"
if [ "$rc" -eq 0 ]; then
    echo "FAIL non-root make test with a missing package exited 0"
    fail=1
elif ! grep -q 'sudo scripts/install-deps.sh test' "$work/nonroot.out"; then
    echo "FAIL non-root make test did not print the command to run as root"
    fail=1
elif ! grep -q 'missing Debian packages: *shellcheck' "$work/nonroot.out"; then
    echo "FAIL non-root make test did not name the missing package"
    fail=1
elif [ -e "$work/tree/stage-ran" ]; then
    echo "FAIL non-root make test ran a stage although a package is missing"
    fail=1
else
    echo "ok   non-root, shellcheck missing: prints the root command, exit $rc, no stage run"
fi

# 2. Nothing missing: the stages run (here the marker stage).
rc=0
PFSYNC_TOOLCHAIN_DIR="$top/.toolchain" sh "$work/tree/scripts/test.sh" >"$work/complete.out" 2>&1 || rc=$?
if [ "$rc" -eq 0 ] && [ -e "$work/tree/stage-ran" ] && grep -q '^1 passed, 0 failed, 0 skipped$' "$work/complete.out"; then
    echo "ok   every package present: the stages run"
else
    sed 's/^/   complete| /' "$work/complete.out"
    echo "FAIL with every package present make test did not run the stages (exit $rc)"
    fail=1
fi

# 3. A missing tool fails the stage that needs it; it never skips.
for stage in 13-shellcheck 35-wireshark 60-man-lint 61-vm-tests-dry; do
    rc=0
    env PATH="$work/no-tools" /bin/sh "scripts/stages/$stage.sh" >"$work/$stage.out" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && grep -q 'install-deps.sh test' "$work/$stage.out"; then
        echo "ok   $stage without its tool: exit $rc, $(tail -n 1 "$work/$stage.out")"
    else
        cat "$work/$stage.out"
        echo "FAIL $stage without its tool exited $rc instead of failing with the install command"
        fail=1
    fi
done
rc=0
as_user /bin/sh "$top/scripts/stages/50-netns.sh" >"$work/netns.out" 2>&1 || rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && grep -q 'sudo make test' "$work/netns.out"; then
    echo "ok   50-netns without root: exit $rc, $(tail -n 1 "$work/netns.out")"
else
    cat "$work/netns.out"
    echo "FAIL 50-netns without root exited $rc instead of failing with the command"
    fail=1
fi
exit $fail
