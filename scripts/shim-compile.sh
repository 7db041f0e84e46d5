#!/bin/sh
# Compile every kmod/*.c against the FreeBSD 14.x and 15.x kernel headers with
# module flags and -Werror (freebsd-kpi.md section 1).  Objects land in
# build/shim-check/freebsd1{4,5}/.  Usage: scripts/shim-compile.sh [14|15 ...]
set -eu
cd "$(dirname "$0")/.."
TC=.toolchain
if [ ! -d "$TC/freebsd14" ] || [ ! -d "$TC/freebsd15" ] || [ ! -d "$TC/ck" ]; then
	echo "shim-compile: FreeBSD headers missing; run scripts/fetch-freebsd-headers.sh" >&2
	exit 77
fi
releases=${*:-14 15}
. scripts/freebsd-release.sh
for r in $releases; do
	out=build/shim-check/freebsd$r
	opt=$out/opt
	mkdir -p "$opt"
	# shellcheck disable=SC2046 # kmod/*.c names have no spaces
	scripts/kmod-gen-headers.sh "$opt" $(find kmod -maxdepth 1 -name '*.c')
	fail=0
	n=0
	for c in kmod/*.c; do
		n=$((n + 1))
		clang-14 -target "x86_64-unknown-freebsd$r.0" -D__FreeBSD_version="$(freebsd_osrel "$r")" \
			-nostdinc -isystem "$TC/freebsd$r/x86_64-freebsd-none" \
			-isystem "$TC/freebsd$r/generic-freebsd" -isystem "$TC/ck" \
			-I "$opt" -I bindings -I kmod -include opt_global.h \
			-D_KERNEL -DKLD_MODULE -std=gnu99 -ffreestanding -fno-common -fno-pic \
			-fno-strict-aliasing -mcmodel=kernel -mno-red-zone -mno-mmx -mno-sse \
			-msoft-float -fno-asynchronous-unwind-tables -O2 -Wall -Werror \
			-Wmissing-prototypes -Wstrict-prototypes -Wpointer-arith -Wno-pointer-sign \
			-Wextra -Wno-unused-parameter -Wno-sign-compare -Wno-missing-field-initializers \
			-c "$c" -o "$out/$(basename "$c" .c).o" || fail=1
	done
	[ "$fail" = 0 ] || { echo "shim-compile: freebsd$r FAILED" >&2; exit 1; }
	echo "shim-compile: freebsd$r ok ($n files)"
done
