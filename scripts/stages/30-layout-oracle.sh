#!/bin/sh
# Layout oracle: every struct size and every member offset/size the wire codec
# uses (pfsync::wire::layout::ALL, the same constants the codec reads through)
# is compiled as _Static_assert against the real FreeBSD 14.x, 15.x and OpenBSD
# headers. Then golden records, laid out by the C compiler from designated
# initializers of the real structs (tests/golden/*.c), are decoded by the codec
# and re-encoded byte for byte. A one-byte drift is injected to prove the check
# bites.
set -eu

. scripts/freebsd-release.sh
tc=.toolchain
out=target/layout-oracle
mkdir -p "$out"

# Idempotent; fills in any tree an older checkout lacks.
scripts/fetch-freebsd-headers.sh

cargo build --quiet --features std --example wire_oracle
oracle=target/debug/examples/wire_oracle

compile() { # set file [clang args...]
    set_=$1 file=$2
    shift 2
    case $set_ in
    freebsd14 | freebsd15)
        rel=${set_#freebsd}
        clang-14 -target "x86_64-unknown-freebsd$rel.0" -D__FreeBSD_version="$(freebsd_osrel "$rel")" \
            -nostdinc -ffreestanding \
            -isystem "$tc/freebsd$rel/x86_64-freebsd-none" \
            -isystem "$tc/freebsd$rel/generic-freebsd" -isystem "$tc/ck" "$@" "$file"
        ;;
    openbsd)
        clang-14 -target x86_64-unknown-openbsd7.8 -nostdinc -ffreestanding \
            -isystem "$tc/freebsd15/x86_64-openbsd-none" \
            -isystem "$tc/freebsd15/generic-openbsd" "$@" "$file"
        ;;
    esac
}

prelude() { # set
    printf '#include <sys/types.h>\n#include <sys/socket.h>\n#include <net/if.h>\n'
    printf '#include <netinet/in.h>\n#include <net/pfvar.h>\n'
    [ "$1" = openbsd ] && printf '#include <netinet/ip_ipsp.h>\n'
    printf '#include <net/if_pfsync.h>\n'
}

total=0
for set in freebsd14 freebsd15 openbsd; do
    c=$out/layout-$set.c
    { prelude "$set"; "$oracle" layout "$set"; } >"$c"
    compile "$set" "$c" -fsyntax-only -Werror
    summary=$(sed -n 's|/\* checked: \(.*\) \*/|\1|p' "$c")
    echo "layout $set: OK, $summary (offset and size of each)"
    echo "flags $set: OK, $(sed -n 's|/\* flags: \(.*\) \*/|\1|p' "$c") (PFSTATE_*, PFSYNC_FLAG_*)"
    n=$(echo "$summary" | sed 's/.*, \([0-9]*\) fields/\1/')
    total=$((total + n))
done
echo "layout: $total field checks passed in total"

# A codec table off by one byte must not compile.
c=$out/layout-drift.c
{ prelude freebsd15; "$oracle" layout freebsd15 --drift; } >"$c"
if compile freebsd15 "$c" -fsyntax-only 2>"$out/drift.err"; then
    echo "layout: a one-byte drift was NOT detected" >&2
    exit 1
fi
grep -q 'rtableid offset' "$out/drift.err" || { cat "$out/drift.err" >&2; exit 1; }
echo "layout: one-byte drift of rtableid detected as expected"

# Golden records.
for set in freebsd14 freebsd15 openbsd; do
    # Records per set: 14.x lacks 1500; OpenBSD's own are state, upd_c, tdb.
    case $set in
    freebsd14) src=tests/golden/freebsd.c count=11 ;;
    freebsd15) src=tests/golden/freebsd.c count=12 ;;
    openbsd) src=tests/golden/openbsd.c count=3 ;;
    esac
    dir=$out/golden-$set
    rm -rf "$dir"
    mkdir -p "$dir"
    compile "$set" "$src" -c -o "$dir/golden.o"
    for sec in $(llvm-readelf-14 -SW "$dir/golden.o" | sed -n 's/.*\] \.golden\.\([a-z0-9_]*\) .*/\1/p'); do
        llvm-objcopy-14 -O binary --only-section=".golden.$sec" "$dir/golden.o" "$dir/$sec.bin"
    done
    echo "golden $set:"
    "$oracle" golden "$dir" "$count"
done

# Golden OpenBSD frames: tests/golden/openbsd/*.bin, which the codec test
# tests/golden_openbsd_frames.rs decodes and rebuilds, must be exactly what
# tests/golden/openbsd_frames.c compiles to against OpenBSD's headers.
dir=$out/golden-openbsd-frames
rm -rf "$dir"
mkdir -p "$dir"
compile openbsd tests/golden/openbsd_frames.c -c -Wall -Werror -o "$dir/frames.o"
frames=$(llvm-readelf-14 -SW "$dir/frames.o" | sed -n 's/.*\] \.golden_frame\.\([a-z0-9_]*\) .*/\1/p')
[ -n "$frames" ] || { echo "golden openbsd frames: no .golden_frame sections" >&2; exit 1; }
committed=$(find tests/golden/openbsd -name '*.bin' | wc -l)
n=0
for f in $frames; do
    llvm-objcopy-14 -O binary --only-section=".golden_frame.$f" "$dir/frames.o" "$dir/$f.bin"
    if ! cmp "$dir/$f.bin" "tests/golden/openbsd/$f.bin"; then
        echo "golden openbsd frame $f: tests/golden/openbsd/$f.bin differs from what the C structs give" >&2
        exit 1
    fi
    n=$((n + 1))
done
[ "$n" -eq "$committed" ] || { echo "golden openbsd frames: $committed committed, $n built" >&2; exit 1; }
cargo test --quiet --test golden_openbsd_frames
echo "golden openbsd frames: $n frames from the C structs equal the committed bytes; codec round trip both ways passed"
