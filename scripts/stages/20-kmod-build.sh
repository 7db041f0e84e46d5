#!/bin/sh
# The FreeBSD kernel module, cross-built against the 14.x and the 15.x headers.
set -eu
if [ "$(uname)" != Linux ]; then
    echo "the cross-build is for Linux; on FreeBSD run make -C kmod"
    exit 77
fi
# Through make's entry script, so that a missing toolchain piece is installed.
sh scripts/build.sh
for rel in 14 15; do
    test -s "build/freebsd$rel/pfsync.ko"
done
