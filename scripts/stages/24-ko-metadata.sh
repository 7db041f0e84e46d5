#!/bin/sh
# Reads the module metadata the kernel linker checks at kldload
# (scripts/ko-metadata.py) from each built pfsync.ko: the kernel dependency
# must be a non-empty range holding the release the build was checked
# against, and pf must be depended on at PF_MODVER.  Then shows the check
# bites on what every build before it shipped: a plain DECLARE_MODULE with
# __FreeBSD_version=1500000, whose kernel range 1500000-1499999 no kernel
# satisfies.  Needs the output of stage 20.
set -eu
if [ "$(uname)" != Linux ]; then
    echo "checks the Linux cross-build (stage 20)"
    exit 77
fi
. scripts/freebsd-release.sh
for rel in 14 15; do
    ko=build/freebsd$rel/pfsync.ko
    if [ ! -f "$ko" ]; then
        echo "$ko missing: stage 20-kmod-build did not produce it"
        exit 1
    fi
    python3 scripts/ko-metadata.py check "$ko" --branch "$rel" --osrel "$(freebsd_osrel "$rel")"
done

out=build/ko-metadata-selftest
mkdir -p "$out"
cat >"$out/empty_range.c" <<'C'
#include <sys/param.h>
#include <sys/kernel.h>
#include <sys/module.h>
static int
ev(module_t m, int t, void *d)
{
	return (0);
}
static moduledata_t mod = { "pfsync", ev, NULL };
DECLARE_MODULE(pfsync, mod, SI_SUB_PROTO_FIREWALL, SI_ORDER_ANY);
MODULE_VERSION(pfsync, 1);
MODULE_DEPEND(pfsync, pf, 1, 1, 1);
C
# shellcheck disable=SC2046 # one flag per line, none with spaces
clang-14 $(grep -v '^-D__FreeBSD_version=\|^-Werror$' build/freebsd15/cflags) \
    -D__FreeBSD_version=1500000 -c "$out/empty_range.c" -o "$out/empty_range.o"
ld.lld-14 -m elf_x86_64_fbsd -r -o "$out/empty_range.ko" "$out/empty_range.o"
if python3 scripts/ko-metadata.py check "$out/empty_range.ko" --branch 15 --osrel 1501000 \
    >"$out/result" 2>&1; then
    cat "$out/result"
    echo "selftest: the empty kernel range was accepted"
    exit 1
fi
cat "$out/result"
grep -q "is empty: no kernel can load it" "$out/result" || {
    echo "selftest: rejected, but not for its empty range"
    exit 1
}
echo "selftest: the empty kernel range of a plain DECLARE_MODULE is refused"
