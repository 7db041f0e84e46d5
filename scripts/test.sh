#!/bin/sh
# `make test`: first installs whatever a stage needs and is missing, as
# `make` does for the build (scripts/install-deps.sh test: as root it
# installs, otherwise it prints the command to run as root and fails), then
# runs every stage (scripts/run-tests.sh). No stage skips for a missing tool;
# the only skips left are for reasons no install fixes (a kernel that forbids
# network namespaces, the FreeBSD VM boot tree absent), and they say so.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)

# The package install is Debian's; elsewhere (FreeBSD) the stages say what
# they need themselves.
if [ "$(uname)" = Linux ] && command -v dpkg-query >/dev/null 2>&1; then
    if ! "$top/scripts/install-deps.sh" test; then
        echo "make test: the test tools are not all installed (see above); no stage was run" >&2
        exit 1
    fi
fi

exec sh "$top/scripts/run-tests.sh" "$@"
