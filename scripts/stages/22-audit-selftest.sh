#!/bin/sh
# Shows that the .ko audit catches what it claims to: each small object below
# breaks exactly one rule and must fail with that rule's tag; a clean one
# must pass. Uses the 14.x build's flags and declarations (stages 20, 21).
# The assembly below is AT&T syntax, where $ marks an immediate:
# shellcheck disable=SC2016
set -eu

if [ "$(uname)" != Linux ]; then
    echo "the cross toolchain (clang-14, ld.lld-14) is a Linux setup"
    exit 77
fi

top=$(pwd)
out=$top/build/audit-selftest
decls=$top/build/freebsd14/kernel-decls
cflags=$top/build/freebsd14/cflags
if [ ! -f "$decls" ] || [ ! -f "$cflags" ]; then
    echo "build/freebsd14/{cflags,kernel-decls} missing: stages 20 and 21 must run first"
    exit 1
fi
rm -rf "$out"
mkdir -p "$out"
cd "$out"

failures=0

# asm NAME TRIPLE [CLANG FLAG...]: assembles NAME.s and, like kmod-build.sh,
# links it with ld -r into NAME.ko (which also sets the FreeBSD OSABI).
asm() {
    name=$1 triple=$2
    shift 2
    clang-14 -target "$triple" "$@" -c "$name.s" -o "$name.o"
    set -- "$name"
    ld.lld-14 -m elf_x86_64_fbsd -r -o "$1.ko" "$1.o"
}

audit() { # OBJECT [extra decls file]
    python3 "$top/scripts/audit-ko.py" check --decls "${2:-$decls}" \
        --keep "$top/kmod/export_syms" --max-frame 4096 "$1"
}

expect_fail() { # OBJECT TAG [decls]
    if audit "$1" "${3:-}" >"$1.log" 2>&1; then
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

expect_pass() { # OBJECT
    if audit "$1" >"$1.log" 2>&1; then
        echo "passes: $1"
    else
        echo "FALSE ALARM: $1 should pass:"
        cat "$1.log"
        failures=$((failures + 1))
    fi
}

fbsd=x86_64-unknown-freebsd14.0
func() { # NAME BODY...: a local function with a frame, as the kernel builds them
    name=$1
    shift
    printf '.text\n%s:\n pushq %%rbp\n movq %%rsp, %%rbp\n' "$name"
    printf ' %s\n' "$@"
    printf ' popq %%rbp\n ret\n'
}

# What DECLARE_MODULE leaves behind: a pointer in the module metadata set.
metadata='.section set_modmetadata_set,"a"
.p2align 3
 .quad 0'

{
    func clean 'xorl %edi, %edi' 'callq printf'
    echo "$metadata"
} >clean.s
asm clean $fbsd
expect_pass clean.ko

func nomodule 'xorl %edi, %edi' 'callq printf' >nomodule.s
asm nomodule $fbsd
expect_fail nomodule.ko module

func sse 'movaps %xmm0, %xmm1' >sse.s
asm sse $fbsd
expect_fail sse.ko fpu

func x87 'fldz' 'fstp %st(0)' >x87.s
asm x87 $fbsd
expect_fail x87.ko fpu

func mmx 'movq %rax, %mm0' >mmx.s
asm mmx $fbsd
expect_fail mmx.ko fpu

# Unrelaxed, so that the object carries plain R_X86_64_GOTPCREL, as -fPIC code does.
func gotpcrel 'movq printf@GOTPCREL(%rip), %rax' >gotpcrel.s
asm gotpcrel $fbsd -Wa,-mrelax-relocations=no
expect_fail gotpcrel.ko relocs

# What a non-kernel code model makes of an address: R_X86_64_32.
func abs32 'movl $printf, %eax' >abs32.s
asm abs32 $fbsd
expect_fail abs32.ko relocs

func redzone 'movq %rax, -8(%rsp)' >redzone.s
asm redzone $fbsd
expect_fail redzone.ko redzone

{
    func tls 'nop'
    printf '.section .tbss,"awT",@nobits\n.p2align 3\ncounter:\n .zero 8\n'
} >tls.s
asm tls $fbsd
expect_fail tls.ko tls

func undeclared 'callq pfsync_made_up_kpi' >undeclared.s
asm undeclared $fbsd
expect_fail undeclared.ko undefined

{
    printf '.globl leaked\n'
    func leaked 'nop'
} >exported.s
asm exported $fbsd
expect_fail exported.ko exports

func bigframe 'subq $8192, %rsp' 'addq $8192, %rsp' >bigframe.s
asm bigframe $fbsd
expect_fail bigframe.ko stack

# The same frame made the way rustc's inline stack probes make it: page by page.
func probed 'subq $4096, %rsp' 'movq $0, (%rsp)' 'subq $4096, %rsp' 'movq $0, (%rsp)' \
    'subq $816, %rsp' 'addq $9008, %rsp' >probed.s
asm probed $fbsd
expect_fail probed.ko stack

# ... and in a probe loop down to a bound computed in %r11.
func probeloop 'movq %rsp, %r11' 'subq $36864, %r11' '1: subq $4096, %rsp' \
    'movq $0, (%rsp)' 'cmpq %r11, %rsp' 'jne 1b' 'subq $3152, %rsp' \
    'addq $40016, %rsp' >probeloop.s
asm probeloop $fbsd
expect_fail probeloop.ko stack

# A Linux object: not relinked, so the OSABI stays System V.
func linux 'nop' >linux.s
clang-14 -target x86_64-linux-gnu -c linux.s -o linux.ko
expect_fail linux.ko header

# A C source that declares a kernel function itself: its own prototype does
# not count, only the FreeBSD headers do.
cat >selfdecl.c <<'C'
#include <sys/param.h>
#include <sys/systm.h>

void pfsync_made_up_kpi(void);
int pfsync_selfdecl(void);

int
pfsync_selfdecl(void)
{
	pfsync_made_up_kpi();
	printf("%d\n", 1);
	return (0);
}
C
# shellcheck disable=SC2046 # one flag per line, none with spaces
clang-14 $(cat "$cflags") -c selfdecl.c -o selfdecl.o
ld.lld-14 -m elf_x86_64_fbsd -r -o selfdecl.ko selfdecl.o
python3 "$top/scripts/audit-ko.py" decls --cflags "$cflags" \
    --header-dir "$top/.toolchain/freebsd14" -o selfdecl.decls selfdecl.c >/dev/null
if grep -qx printf selfdecl.decls && ! grep -qx pfsync_made_up_kpi selfdecl.decls; then
    echo "declarations: printf from sys/systm.h counted, the source's own prototype not"
else
    echo "DECLS WRONG: selfdecl.decls should hold printf and not pfsync_made_up_kpi"
    failures=$((failures + 1))
fi
expect_fail selfdecl.ko undefined "$out/selfdecl.decls"

if [ "$failures" -ne 0 ]; then
    echo "$failures audit self-test(s) failed"
    exit 1
fi
echo "audit self-test: every bad object caught, clean objects pass"
