#!/bin/sh
# `make`: builds pfsync.ko.
#   FreeBSD: with the system's bsd.kmod.mk against /usr/src/sys (kmod/Makefile).
#   Linux:   cross-builds build/freebsd14/pfsync.ko and build/freebsd15/pfsync.ko
#            (scripts/kmod-build.sh), installing the toolchain and headers
#            first if any piece is missing.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)

if [ "$(uname)" = FreeBSD ]; then
    exec make -C "$top/kmod"
fi

tc=${PFSYNC_TOOLCHAIN_DIR:-$top/.toolchain}
missing=""
for tool in clang-14 ld.lld-14 llvm-nm-14 llvm-objdump-14 \
    x86_64-kfreebsd-gnu-objcopy /usr/bin/rustc /usr/bin/cargo python3; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
[ -d /usr/lib/rustlib/src/rust/library/core ] || missing="$missing rust-web-src"
for dir in freebsd14/x86_64-freebsd-none freebsd14/generic-freebsd \
    freebsd15/x86_64-freebsd-none freebsd15/generic-freebsd; do
    [ -d "$tc/$dir" ] || missing="$missing .toolchain/$dir"
done
[ -f "$tc/ck/ck_queue.h" ] || missing="$missing .toolchain/ck"

if [ -n "$missing" ]; then
    echo "build: missing:$missing; running scripts/install-deps.sh build"
    "$top/scripts/install-deps.sh" build
fi

exec "$top/scripts/kmod-build.sh" 14 15
