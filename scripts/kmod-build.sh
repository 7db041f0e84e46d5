#!/bin/sh
# Cross-builds pfsync.ko for FreeBSD amd64 on Linux, once per FreeBSD header
# set (.toolchain/freebsd14, .toolchain/freebsd15, see fetch-freebsd-headers.sh):
#   1. the Rust core as a kernel-target static library (kmod-rust.sh);
#   2. every kmod/*.c, with the flags FreeBSD's kmod.mk/kern.mk use for amd64;
#   3. ld -r into one relocatable object, as kmod.mk does on amd64;
#   4. objcopy: drop debug info and LLVM's bitcode/address-significance
#      sections, make every defined global local except kmod/export_syms
#      (what kmod.mk does with EXPORT_SYMS and kmod_syms.awk).
# Output: build/freebsdNN/pfsync.ko, plus build/freebsdNN/cflags (the compile
# flags, one per line, reused by the audit).
# Usage: scripts/kmod-build.sh [RELEASE...]   (default: 14 15)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tc=${PFSYNC_TOOLCHAIN_DIR:-$top/.toolchain}
CC=${CC_KERNEL:-clang-14}
LD=${LD_KERNEL:-ld.lld-14}
OBJCOPY=${OBJCOPY_KERNEL:-x86_64-kfreebsd-gnu-objcopy}
NM=${NM_KERNEL:-llvm-nm-14}

releases=${*:-14 15}

rustlib=$(scripts/kmod-rust.sh)
. "$top/scripts/freebsd-release.sh"

sources=$(find kmod -maxdepth 1 -name '*.c' | LC_ALL=C sort)
if [ -z "$sources" ]; then
    echo "kmod-build: no kmod/*.c" >&2
    exit 1
fi

for rel in $releases; do
    hdr=$tc/freebsd$rel
    out=$top/build/freebsd$rel
    if [ ! -d "$hdr/x86_64-freebsd-none" ] || [ ! -d "$hdr/generic-freebsd" ]; then
        echo "kmod-build: $hdr missing: run scripts/fetch-freebsd-headers.sh" >&2
        exit 1
    fi
    rel_out=build/freebsd$rel
    osrel=$(freebsd_osrel "$rel")
    osrel_max=$(freebsd_osrel_max "$rel")
    mkdir -p "$out/gen" "$out/obj"
    # shellcheck disable=SC2086 # $sources is a list of kmod/*.c names without spaces
    scripts/kmod-gen-headers.sh "$out/gen" $sources

    # The amd64 tree must come before generic-freebsd, whose machine/ is not amd64's.
    cat >"$out/cflags" <<FLAGS
-target
x86_64-unknown-freebsd$rel.0
-D__FreeBSD_version=$osrel
-DPFSYNC_RS_OSREL_MAX=$osrel_max
-nostdinc
-I$out/gen
-I$top/bindings
-I$top/kmod
-isystem
$hdr/x86_64-freebsd-none
-isystem
$hdr/generic-freebsd
-isystem
$tc/ck
-include
opt_global.h
-D_KERNEL
-DKLD_MODULE
-std=gnu99
-ffreestanding
-fno-common
-fno-pic
-fno-strict-aliasing
-fno-omit-frame-pointer
-mno-omit-leaf-frame-pointer
-mcmodel=kernel
-mno-red-zone
-mno-mmx
-mno-sse
-msoft-float
-fno-asynchronous-unwind-tables
-O2
$(cat "$top/kmod/cwarnings")
FLAGS

    objs=""
    for src in $sources; do
        obj=$out/obj/$(basename "$src" .c).o
        echo "  CC  $rel_out/obj/$(basename "$obj")"
        # shellcheck disable=SC2046 # one flag per line, none with spaces
        "$CC" $(cat "$out/cflags") -c "$src" -o "$obj"
        objs="$objs $obj"
    done

    echo "  LD  $rel_out/pfsync.kld"
    # No -d (lld-14 deprecates it): with -fno-common there are no common
    # symbols to allocate, and the audit refuses any that appear.
    # shellcheck disable=SC2086 # $objs: object paths without spaces
    "$LD" -m elf_x86_64_fbsd -r --warn-common -o "$out/pfsync.kld" $objs "$rustlib"

    # Every defined global not on the keep list becomes local (kmod_syms.awk).
    grep -v -e '^#' -e '^[[:space:]]*$' kmod/export_syms | LC_ALL=C sort -u >"$out/export_syms" || true
    "$NM" --no-llvm-bc -g --defined-only --format=just-symbols "$out/pfsync.kld" | LC_ALL=C sort -u |
        LC_ALL=C comm -23 - "$out/export_syms" >"$out/localize_syms"

    echo "  OBJCOPY $rel_out/pfsync.ko"
    "$OBJCOPY" --strip-debug -R .llvmbc -R .llvmcmd -R .llvm_addrsig \
        --localize-symbols="$out/localize_syms" "$out/pfsync.kld" "$out/pfsync.ko"
    echo "  $rel_out/pfsync.ko: $(wc -c <"$out/pfsync.ko") bytes"
done
