#!/bin/sh
# OpenBSD: `make openbsd` builds build/openbsd/pfsync.o (the object that
# replaces if_pfsync.o in an OpenBSD amd64 kernel) against OpenBSD's
# headers with -Werror; scripts/audit-openbsd.py audits it; the shim's
# import conversion runs on Linux (tests/openbsd_shim/); a self-test shows
# each audit rule failing on a small object that breaks it; vm-tests/openbsd
# is dry-run.
# The assembly below is AT&T syntax, where $ marks an immediate:
# shellcheck disable=SC2016
set -eu
if [ "$(uname)" != Linux ]; then
    echo "the cross-build is for Linux"
    exit 77
fi
top=$(pwd)
make -s openbsd
out=build/openbsd
test -s "$out/pfsync.o"

# shellcheck disable=SC2046 # kmod/openbsd/*.c names have no spaces
python3 scripts/audit-openbsd.py decls --cflags "$out/cflags" \
    --header-dir .toolchain/freebsd15/x86_64-openbsd-none \
    --header-dir .toolchain/freebsd15/generic-openbsd \
    --standin-dir kmod/openbsd/compat \
    -o "$out/kernel-decls" $(find kmod/openbsd -maxdepth 1 -name '*.c' | LC_ALL=C sort)
python3 scripts/audit-openbsd.py check --verbose --decls "$out/kernel-decls" \
    --standin-decls "$out/kernel-decls.standin" --keep kmod/openbsd/export_syms "$out/pfsync.o"

# The final kernel link, as far as it can be had without OpenBSD's other
# objects: pfsync.o with every undefined symbol given a stub, placed at the
# amd64 kernel's base (top 2 GiB, where -mcmodel=kernel code must live),
# after another object carrying the same retpoline COMDAT thunk, with no
# undefined symbol left. Placed below the top 2 GiB the same link must fail
# (R_X86_64_32S out of range), which shows the placement is what is tested.
lc=$out/link-check
mkdir -p "$lc"
{
    echo '.text'
    for s in $(llvm-nm-14 -u --format=just-symbols "$out/pfsync.o"); do
        printf '.globl %s\n.type %s,@function\n%s:\n endbr64\n ret\n' "$s" "$s" "$s"
    done
} >"$lc/stubs.s"
printf '%s\n' '.section .text.__llvm_retpoline_r11,"axG",@progbits,__llvm_retpoline_r11,comdat' \
    '.weak __llvm_retpoline_r11' '.hidden __llvm_retpoline_r11' \
    '.type __llvm_retpoline_r11,@function' '__llvm_retpoline_r11:' ' ud2' >"$lc/other.s"
for f in stubs other; do
    clang-14 -target x86_64-unknown-openbsd7.8 -c "$lc/$f.s" -o "$lc/$f.o"
done
kernel_link() { # BASE OUTPUT
    printf 'SECTIONS {\n . = %s;\n .text : { *(.text .text.*) }\n .rodata : { *(.rodata .rodata.*) }\n .data : { *(.data .data.*) }\n .bss : { *(.bss .bss.*) }\n}\n' "$1" >"$lc/kernel.ld"
    ld.lld-14 -static -no-pie --no-undefined -e pfsyncattach -T "$lc/kernel.ld" \
        -o "$2" "$lc/other.o" "$lc/stubs.o" "$out/pfsync.o"
}
kernel_link 0xffffffff81000000 "$lc/bsd"
echo "link check: pfsync.o links at 0xffffffff81000000 with $(wc -l <"$lc/stubs.s" | awk '{print int(($1 - 1) / 5)}') kernel symbols stubbed"
if kernel_link 0x7f0000000000 "$lc/bsd.low" 2>"$lc/low.err"; then
    echo "link check: a link outside the top 2 GiB did NOT fail"
    exit 1
fi
grep -q 'R_X86_64_32S out of range' "$lc/low.err" || { cat "$lc/low.err"; exit 1; }
echo "link check: outside the top 2 GiB it fails as it must (R_X86_64_32S out of range)"

# The shim's one pure conversion (the core's import record -> OpenBSD's
# struct pfsync_state), compiled against OpenBSD's headers with the kernel
# flags but the default code model, run on Linux as a freestanding static
# program; then once more with the family mapping broken, which must fail.
ic=$out/import-check
mkdir -p "$ic"
grep -v -e '^-mcmodel=kernel$' "$out/cflags" >"$ic/cflags"
host_obj() { # SOURCE OBJECT
    # shellcheck disable=SC2046 # one flag per line, none with spaces
    clang-14 $(cat "$ic/cflags") -fno-stack-protector -I kmod/openbsd -c "$1" -o "$2"
}
host_obj kmod/openbsd/pfsync_obsd_import.c "$ic/import.o"
host_obj tests/openbsd_shim/import_check.c "$ic/check.o"
ld.lld-14 -static -no-pie -e _start -o "$ic/import_check" "$ic/check.o" "$ic/import.o"
"$ic/import_check"
sed 's/sp->af = pfsync_obsd_af(rec->wire_af);/sp->af = rec->wire_af;/' \
    kmod/openbsd/pfsync_obsd_import.c >"$ic/broken.c"
cmp -s "$ic/broken.c" kmod/openbsd/pfsync_obsd_import.c && { echo "import check: mutation did not apply"; exit 1; }
host_obj "$ic/broken.c" "$ic/broken.o"
ld.lld-14 -static -no-pie -e _start -o "$ic/broken" "$ic/check.o" "$ic/broken.o"
if "$ic/broken" >"$ic/broken.log"; then
    echo "import check: a broken family mapping was NOT caught"
    exit 1
fi
echo "import check: a broken family mapping is caught ($(grep -c '^FAIL' "$ic/broken.log") checks failed)"

# Self-test.
st=$top/build/openbsd-audit-selftest
rm -rf "$st"
mkdir -p "$st"
cd "$st"
printf 'pfsyncattach\n' >keep
failures=0

obj() { # NAME [ld.lld -m EMULATION]: NAME.s -> NAME.o, linked -r as the build does
    clang-14 -target x86_64-unknown-openbsd7.8 -c "$1.s" -o "$1.in.o"
    if [ -n "${2:-}" ]; then
        ld.lld-14 -m "$2" -r -o "$1.o" "$1.in.o"
    else
        ld.lld-14 -r -o "$1.o" "$1.in.o"
    fi
}
audit() {
    python3 "$top/scripts/audit-openbsd.py" check --decls "$top/$out/kernel-decls" \
        --standin-decls "$top/$out/kernel-decls.standin" --keep keep "$1.o"
}
expect_fail() { # NAME TAG
    if audit "$1" >"$1.log" 2>&1; then
        echo "NOT CAUGHT: $1 passed the audit, expected [$2]"
        failures=$((failures + 1))
    elif grep -q "FAIL \[$2\]" "$1.log"; then
        echo "caught: $1 [$2]: $(grep "FAIL \[$2\]" "$1.log" | head -n 1 | sed 's/^ *FAIL //')"
    else
        echo "WRONG REASON: $1 failed, but not with [$2]:"
        cat "$1.log"
        failures=$((failures + 1))
    fi
}
# entry BODY...: the global pfsyncattach, IBT landing pad first.
entry() {
    printf '.text\n.globl pfsyncattach\n.type pfsyncattach,@function\npfsyncattach:\n endbr64\n pushq %%rbp\n movq %%rsp, %%rbp\n'
    printf ' %s\n' "$@"
    printf ' popq %%rbp\n ret\n'
}

entry 'callq printf' 'callq memcmp' >clean.s
obj clean
if audit clean >clean.log 2>&1 && grep -q 'stand-in: memcmp' clean.log; then
    echo "passes: clean (memcmp listed as declared by the stand-in only)"
else
    echo "FALSE ALARM or missing note: clean"
    cat clean.log
    failures=$((failures + 1))
fi

entry 'nop' >freebsd_osabi.s
obj freebsd_osabi elf_x86_64_fbsd
expect_fail freebsd_osabi header

printf '.text\n.globl other\n.type other,@function\nother:\n endbr64\n ret\n' >no_entry.s
obj no_entry
expect_fail no_entry entry

entry 'movss %xmm0, %xmm1' >fpu.s
obj fpu
expect_fail fpu fpu

entry 'movq %rax, -8(%rsp)' >redzone.s
obj redzone
expect_fail redzone redzone

entry 'movl $printf, %eax' >reloc32.s
obj reloc32
expect_fail reloc32 relocs

entry 'callq not_a_kernel_function' >undeclared.s
obj undeclared
expect_fail undeclared undefined

{ entry 'nop'; printf '.globl extra\n.type extra,@function\nextra:\n endbr64\n ret\n'; } >export.s
obj export
expect_fail export exports

entry 'movq $printf, %rax' 'callq *%rax' >indirect.s
obj indirect
expect_fail indirect retpoline

printf '.text\n.globl pfsyncattach\n.type pfsyncattach,@function\npfsyncattach:\n ret\n' >no_endbr.s
obj no_endbr
expect_fail no_endbr ibt

{ entry 'nop'; printf '.type hook,@function\nhook:\n ret\n.data\n.quad hook\n'; } >taken.s
obj taken
expect_fail taken ibt

entry 'subq $8192, %rsp' 'addq $8192, %rsp' >stack.s
obj stack
expect_fail stack stack

# A retpoline-style thunk in a COMDAT group: fine while its signature stays
# weak and hidden, refused once made local (the kernel link could drop it).
{ entry 'callq thunk'
  printf '.section .text.thunk,"axG",@progbits,thunk,comdat\n.weak thunk\n.hidden thunk\n'
  printf '.type thunk,@function\nthunk:\n endbr64\n ret\n'; } >comdat.s
obj comdat
if audit comdat >comdat.log 2>&1; then
    echo "passes: comdat (weak hidden group signature)"
else
    echo "FALSE ALARM: comdat"
    cat comdat.log
    failures=$((failures + 1))
fi
llvm-objcopy-14 --localize-symbol=thunk comdat.o comdat_local.o
expect_fail comdat_local comdat

if [ "$failures" -ne 0 ]; then
    echo "openbsd audit self-test: $failures case(s) wrong"
    exit 1
fi
echo "openbsd audit self-test: every rule caught its case, the clean object passed"

# vm-tests/openbsd cannot run here (no OpenBSD kernel or image): walk its
# steps in --dry-run mode.
cd "$top"
dry=$(sh vm-tests/openbsd/build-kernel.sh --dry-run --install build/openbsd/pfsync.o)
for want in "make -C /usr/src/sys/arch/amd64/compile/GENERIC.MP config" \
    "obj/if_pfsync.o" "core initialisation failed" "install"; do
    echo "$dry" | grep -q -- "$want" || { echo "build-kernel dry run lacks: $want"; exit 1; }
done
dry=$(sh vm-tests/openbsd/scenario.sh --dry-run A vio1 10.0.0.1 10.0.0.2)
for case_ in config bad_maxupd sync_out sync_in bulk stats; do
    echo "$dry" | grep -q "VMTEST PASS A $case_" || { echo "scenario dry run lacks $case_"; exit 1; }
done
echo "vm-tests/openbsd dry runs ok"
