#!/bin/sh
# Unpacks the real FreeBSD 14.x and 15.x kernel headers from PyPI's ziglang
# wheels into .toolchain/ (git-ignored), plus a private copy of the
# ConcurrencyKit headers, so that no glibc header can stand in for a FreeBSD one.
#
# Result:
#   .toolchain/freebsd14/{x86_64-freebsd-none,generic-freebsd}   ziglang 0.15.1
#   .toolchain/freebsd15/{x86_64-freebsd-none,generic-freebsd,generic-openbsd,x86_64-openbsd-none}   ziglang 0.17.1
#   .toolchain/ck/                                               libck-dev headers
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
tc=${PFSYNC_TOOLCHAIN_DIR:-$top/.toolchain}
wheels=${PFSYNC_WHEEL_DIR:-$tc/wheels}
mkdir -p "$tc" "$wheels"

find_wheel() { # ziglang-version: prints the first cached wheel of that version
    for w in "$wheels"/ziglang-"$1"-*.whl; do
        [ -f "$w" ] && { echo "$w"; return 0; }
    done
    return 0
}

unpack() { # release ziglang-version [extra-tree]
    rel=$1 ver=$2 extra=${3:-}
    dest=$tc/freebsd$rel
    [ -f "$dest/.done-$ver" ] && return 0
    whl=$(find_wheel "$ver")
    if [ -z "$whl" ]; then
        python3 -m pip download --quiet "ziglang==$ver" --no-deps --only-binary=:all: -d "$wheels"
        whl=$(find_wheel "$ver")
        [ -n "$whl" ] || { echo "fetch-freebsd-headers: no ziglang $ver wheel" >&2; exit 1; }
    fi
    rm -rf "$dest" "$tc/unpack-$rel"
    mkdir -p "$tc/unpack-$rel"
    unzip -q "$whl" 'ziglang/lib/libc/include/generic-freebsd/*' \
        'ziglang/lib/libc/include/x86_64-freebsd-none/*' \
        ${extra:+"ziglang/lib/libc/include/$extra/*"} -d "$tc/unpack-$rel"
    mv "$tc/unpack-$rel/ziglang/lib/libc/include" "$dest"
    rm -rf "$tc/unpack-$rel"
    touch "$dest/.done-$ver"
}

add_tree() { # release ziglang-version tree: one more include tree from a cached wheel
    rel=$1 ver=$2 tree=$3
    dest=$tc/freebsd$rel
    [ -d "$dest/$tree" ] && return 0
    whl=$(find_wheel "$ver")
    [ -n "$whl" ] || { echo "fetch-freebsd-headers: no ziglang $ver wheel" >&2; exit 1; }
    rm -rf "$tc/unpack-$rel-$tree"
    mkdir -p "$tc/unpack-$rel-$tree"
    unzip -q "$whl" "ziglang/lib/libc/include/$tree/*" -d "$tc/unpack-$rel-$tree"
    mv "$tc/unpack-$rel-$tree/ziglang/lib/libc/include/$tree" "$dest/$tree"
    rm -rf "$tc/unpack-$rel-$tree"
}

unpack 14 0.15.1
# 0.17.1 also carries OpenBSD's headers, the authority for OpenBSD layouts.
unpack 15 0.17.1 generic-openbsd
# amd64 machine/ headers, without which OpenBSD's sys/types.h does not compile.
add_tree 15 0.17.1 x86_64-openbsd-none

if [ ! -f "$tc/ck/ck_queue.h" ]; then
    if [ ! -f /usr/include/ck_queue.h ]; then
        echo "fetch-freebsd-headers: /usr/include/ck_queue.h missing: install libck-dev" >&2
        exit 1
    fi
    rm -rf "$tc/ck"
    mkdir -p "$tc/ck"
    cp /usr/include/ck_*.h "$tc/ck/"
    cp -r /usr/include/gcc /usr/include/spinlock "$tc/ck/"
fi
