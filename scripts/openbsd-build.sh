#!/bin/sh
# `make openbsd`: builds build/openbsd/pfsync.o, the object that takes the
# place of if_pfsync.o when an OpenBSD amd64 kernel (`pseudo-device pfsync`)
# is linked. OpenBSD has no loadable modules; see vm-tests/openbsd/.
#   1. the Rust core as a kernel-target static library
#      (targets/x86_64-unknown-openbsd-kernel.json: kernel code model, no red
#      zone, soft-float, no SSE, retpolines) with IBT landing pads
#      (-Zcf-protection=branch), core/alloc rebuilt the same way;
#   2. every kmod/openbsd/*.c against OpenBSD's headers (the ziglang wheel's
#      x86_64-openbsd-none + generic-openbsd, in .toolchain/freebsd15) with
#      the flags sys/arch/amd64/conf/Makefile.amd64 gives kernel sources,
#      -Werror, plus what OpenBSD's clang turns on by default for the kernel
#      and Debian's does not (-mretpoline, -fcf-protection=branch);
#   3. ld -r into one relocatable object;
#   4. objcopy: drop debug info and LLVM's bitcode/address-significance
#      sections, make every defined global local except what OpenBSD's kernel
#      calls (kmod/openbsd/export_syms: if_pfsync.h's kernel API and
#      pfsyncattach) and the retpoline thunks' COMDAT signatures.
# Output: build/openbsd/pfsync.o and build/openbsd/cflags (one flag per
# line, reused by the audit).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tc=${PFSYNC_TOOLCHAIN_DIR:-$top/.toolchain}
hdr=$tc/freebsd15
CC=${CC_KERNEL:-clang-14}
LD=${LD_KERNEL:-ld.lld-14}
OBJCOPY=${OBJCOPY_OPENBSD:-llvm-objcopy-14}
NM=${NM_KERNEL:-llvm-nm-14}
out=$top/build/openbsd
rel_out=build/openbsd

missing=""
for tool in "$CC" "$LD" "$OBJCOPY" "$NM" /usr/bin/rustc /usr/bin/cargo; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
[ -d /usr/lib/rustlib/src/rust/library/core ] || missing="$missing rust-web-src"
for dir in x86_64-openbsd-none generic-openbsd; do
    [ -d "$hdr/$dir" ] || missing="$missing .toolchain/freebsd15/$dir"
done
if [ -n "$missing" ]; then
    echo "openbsd-build: missing:$missing; running scripts/install-deps.sh build"
    "$top/scripts/install-deps.sh" build
fi
sources=$(find kmod/openbsd -maxdepth 1 -name '*.c' | LC_ALL=C sort)
[ -n "$sources" ] || { echo "openbsd-build: no kmod/openbsd/*.c" >&2; exit 1; }

# 1. The core. RUSTFLAGS reach core/alloc/compiler_builtins too (build-std).
: "${RUSTC:=/usr/bin/rustc}" "${CARGO:=/usr/bin/cargo}"
export RUSTC RUSTC_BOOTSTRAP=1
RUSTFLAGS="-Zcf-protection=branch" "$CARGO" rustc --release --lib --crate-type staticlib \
    --features kernel -Zbuild-std=core,alloc,compiler_builtins -Zjson-target-spec \
    --config 'profile.release.package.compiler_builtins.codegen-units=10000' \
    --target targets/x86_64-unknown-openbsd-kernel.json \
    --target-dir "$top/target/kernel-openbsd" >&2
rustlib=$top/target/kernel-openbsd/x86_64-unknown-openbsd-kernel/release/libpfsync.a

# 2. Headers config(8) writes into a kernel build directory, for the
#    pseudo-devices GENERIC configures that the shim tests for.
mkdir -p "$out/gen" "$out/obj"
printf '#define NBPFILTER 1\n' >"$out/gen/bpfilter.h"

# -D: the GENERIC.MP options that change a header the shim includes.
cat >"$out/cflags" <<FLAGS
-target
x86_64-unknown-openbsd7.8
-nostdinc
-I$out/gen
-I$top/bindings
-I$top/kmod/openbsd
-isystem
$top/kmod/openbsd/compat
-isystem
$hdr/x86_64-openbsd-none
-isystem
$hdr/generic-openbsd
-D_KERNEL
-DMULTIPROCESSOR
-DDIAGNOSTIC
-DINET6
-DIPSEC
-DDDB
-std=gnu99
-ffreestanding
-fno-common
-fno-pie
-fno-asynchronous-unwind-tables
-mcmodel=kernel
-mno-red-zone
-mno-sse2
-mno-sse
-mno-3dnow
-mno-mmx
-msoft-float
-fno-omit-frame-pointer
-mretpoline
-fcf-protection=branch
-O2
-Werror
-Wall
-Wimplicit-function-declaration
-Wno-uninitialized
-Wno-pointer-sign
-Wframe-larger-than=2047
-Wno-address-of-packed-member
-Wno-constant-conversion
-Wno-unknown-attributes
-Wmissing-prototypes
-Wstrict-prototypes
FLAGS

objs=""
for src in $sources; do
    obj=$out/obj/$(basename "$src" .c).o
    echo "  CC  $rel_out/obj/$(basename "$obj")"
    # shellcheck disable=SC2046 # one flag per line, none with spaces
    "$CC" $(cat "$out/cflags") -c "$src" -o "$obj"
    objs="$objs $obj"
done

# 3. One relocatable object, as the kernel link takes if_pfsync.o.
echo "  LD  $rel_out/pfsync.kld"
# shellcheck disable=SC2086 # object paths without spaces
"$LD" -r --warn-common -o "$out/pfsync.kld" $objs "$rustlib"

# 4. Everything local but the kernel's entry points.
grep -v -e '^#' -e '^[[:space:]]*$' kmod/openbsd/export_syms | LC_ALL=C sort -u >"$out/export_syms"
# Retpoline thunks stay as the compiler writes them, weak and hidden, each
# the signature of a COMDAT group that every retpolined kernel object
# carries; the kernel link keeps one copy. A local group signature is
# outside the ELF gABI's model (a group is known by its signature's name),
# and what a linker makes of it is its own choice.
"$NM" --no-llvm-bc -g --defined-only --format=just-symbols "$out/pfsync.kld" | LC_ALL=C sort -u |
    LC_ALL=C comm -23 - "$out/export_syms" | grep -v '^__llvm_retpoline_' >"$out/localize_syms"
absent=$("$NM" --no-llvm-bc -g --defined-only --format=just-symbols "$out/pfsync.kld" | LC_ALL=C sort -u |
    LC_ALL=C comm -13 - "$out/export_syms" | tr '\n' ' ')
if [ -n "$absent" ]; then
    echo "openbsd-build: kmod/openbsd/export_syms names what pfsync.o does not define: $absent" >&2
    exit 1
fi
echo "  OBJCOPY $rel_out/pfsync.o"
"$OBJCOPY" --strip-debug -R .llvmbc -R .llvmcmd -R .llvm_addrsig \
    --localize-symbols="$out/localize_syms" "$out/pfsync.kld" "$out/pfsync.o"
echo "  $rel_out/pfsync.o: $(wc -c <"$out/pfsync.o") bytes"
