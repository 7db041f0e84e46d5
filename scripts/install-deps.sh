#!/bin/sh
# Installs what building and testing pfsync-rs needs on Debian/Ubuntu, skipping
# what is already present. Safe to run repeatedly; run as root (or via sudo).
#   scripts/install-deps.sh build   cross toolchain + FreeBSD headers (for `make`)
#   scripts/install-deps.sh test    build deps + test tools (for `make test`)
set -eu

what=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)

build_pkgs="rustc-web cargo-web rust-web-src clang-14 lld-14 llvm-14 \
binutils-x86-64-kfreebsd-gnu libclang-14-dev bindgen libck-dev unzip python3 python3-pip make"
test_pkgs="mandoc shellcheck tshark iproute2 nftables valgrind libpcap-dev \
qemu-system-x86 xorriso"

case "$what" in
build) pkgs=$build_pkgs ;;
test) pkgs="$build_pkgs $test_pkgs" ;;
*) echo "usage: $0 build|test" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done

if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        SUDO=sudo
    else
        SUDO=
    fi
    echo "install-deps: installing:$missing"
    $SUDO apt-get update -qq
    # tshark asks whether non-root users may capture; the default answer is fine.
    # $missing is a space-separated package list: splitting it is intended.
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

"$here/fetch-freebsd-headers.sh"
