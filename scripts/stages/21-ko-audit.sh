#!/bin/sh
# Audits each built pfsync.ko (scripts/audit-ko.py): ELF kind, no FPU/SIMD, no
# red zone, no TLS, only relocations FreeBSD's amd64 linker handles, every
# undefined symbol declared by that build's FreeBSD headers, exports only from
# kmod/export_syms. Needs the output of stage 20.
set -eu
if [ "$(uname)" != Linux ]; then
    echo "audits the Linux cross-build (stage 20)"
    exit 77
fi
status=0
for rel in 14 15; do
    out=build/freebsd$rel
    if [ ! -f "$out/pfsync.ko" ] || [ ! -f "$out/cflags" ]; then
        echo "$out/pfsync.ko missing: stage 20-kmod-build did not produce it"
        exit 1
    fi
    # shellcheck disable=SC2046 # kmod/*.c names have no spaces
    python3 scripts/audit-ko.py decls --cflags "$out/cflags" \
        --header-dir ".toolchain/freebsd$rel" -o "$out/kernel-decls" $(find kmod -maxdepth 1 -name '*.c' | LC_ALL=C sort)
    python3 scripts/audit-ko.py check --verbose --decls "$out/kernel-decls" \
        --keep kmod/export_syms "$out/pfsync.ko" || status=1
done
exit $status
