#!/bin/sh
# Installs what building and testing pfsync-rs needs on Debian/Ubuntu, skipping
# what is already present. Safe to run repeatedly. Installing needs root (or
# password-less sudo); otherwise it names the missing packages, prints the
# command to run as root and fails.
#   scripts/install-deps.sh build   cross toolchain + FreeBSD headers (for `make`)
#   scripts/install-deps.sh test    build deps + every test stage's tools (`make test`
#                                   runs this first)
set -eu

what=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)

build_pkgs="rustc-web cargo-web rust-web-src clang-14 lld-14 llvm-14 \
binutils-x86-64-kfreebsd-gnu libclang-14-dev libck-dev unzip python3 python3-pip make"
test_pkgs="mandoc shellcheck tshark iproute2 nftables valgrind libpcap-dev \
qemu-system-x86 xorriso xz-utils"

case "$what" in
build) pkgs=$build_pkgs ;;
test) pkgs="$build_pkgs $test_pkgs" ;;
*) echo "usage: $0 build|test" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done

# A test hook: names listed here count as missing even when installed, so
# that the non-root path below can be exercised on a complete machine.
for p in ${PFSYNC_DEPS_PRETEND_MISSING:-}; do
    case " $missing " in *" $p "*) ;; *) missing="$missing $p" ;; esac
done

if [ -n "$missing" ]; then
    if [ "$(id -u)" -eq 0 ]; then
        SUDO=
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=sudo
    else
        # Never a silent skip: say what is missing and what to run, then fail.
        echo "install-deps: missing Debian packages:$missing" >&2
        echo "install-deps: installing them needs root; run as root:" >&2
        echo "    sudo scripts/install-deps.sh $what" >&2
        exit 1
    fi
    echo "install-deps: installing:$missing"
    $SUDO apt-get update -qq
    # tshark asks whether non-root users may capture; the default answer is fine.
    # $missing is a space-separated package list: splitting it is intended.
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

"$here/fetch-freebsd-headers.sh"
