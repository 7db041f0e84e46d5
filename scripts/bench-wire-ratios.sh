#!/bin/sh
# Wire codec cost per record as a ratio to a memcpy of the same bytes, both
# measured in the same run.
#   scripts/bench-wire-ratios.sh              criterion (benches/wire.rs): ns/record
#   scripts/bench-wire-ratios.sh --report     print the last criterion run only
#   scripts/bench-wire-ratios.sh --callgrind  instructions/record under callgrind
#                                             (examples/wire_cost.rs), immune to load
set -eu

batch=64   # records per criterion iteration, as in benches/wire.rs
mode=${1:-run}

if [ "$mode" = --callgrind ]; then
    iters=20000
    cargo build --quiet --release --features std --example wire_cost
    bin=target/release/examples/wire_cost
    count() { # kind op
        valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" "$iters" 2>&1 |
            sed -n 's/.*refs: *//p' | tr -d ,
    }
    fmt='%-7s %7s %9s %6s %7s %6s %7s %6s %7s %6s %7s %6s %7s %6s\n'
    # shellcheck disable=SC2059 # the format is a constant kept in a variable
    printf "$fmt" record memcpy validate ratio decode ratio parse ratio encode ratio \
        reader ratio views ratio
    for kind in 1301 1400 1500 upd_c; do
        base=$(count "$kind" none)
        line=$kind
        m=0
        for op in memcpy validate decode parse encode reader views; do
            n=$((($(count "$kind" "$op") - base) / iters))
            if [ "$op" = reader ] || [ "$op" = views ]; then
                per_frame=$("$bin" "$kind" "$op" 0 | sed -n 's/records per frame: //p')
                n=$((n / per_frame))
            fi
            if [ "$op" = memcpy ]; then
                m=$n
                line="$line $n"
            else
                line="$line $n $(awk -v a="$n" -v b="$m" 'BEGIN { printf "%.2f", a / b }')"
            fi
        done
        # shellcheck disable=SC2059,SC2086 # constant format; splitting $line is the point
        printf "$fmt" $line
    done
    echo "(instructions per record; upd_c validate/decode/parse are all UpdC::parse;"
    echo " reader/views = FrameReader Events/ViewEvents over a full 1460-byte frame, per record)"
    exit 0
fi

if [ "$mode" != --report ]; then
    cargo bench --quiet --features std --bench wire -- --warm-up-time 1 --measurement-time 3 \
        >/dev/null 2>&1
fi

python3 - "$batch" <<'PY'
import json, sys, pathlib
batch = int(sys.argv[1])
root = pathlib.Path("target/criterion")
def ns(group, fn):
    p = root / group / fn / "new" / "estimates.json"
    if not p.exists():
        return None
    return json.loads(p.read_text())["mean"]["point_estimate"] / batch
ops = ["validate", "decode", "parse", "encode"]
print(f"{'record':<11} {'memcpy':>7}" + "".join(f" {op:>8} {'ratio':>6}" for op in ops))
for group in ["state_1301", "state_1400", "state_1500", "upd_c"]:
    m = ns(group, "memcpy")
    row = f"{group:<11} {m:7.1f}"
    for op in ops:
        v = ns(group, op if group != "upd_c" or op == "encode" else "parse")
        row += f" {v:8.1f} {v / m:6.2f}"
    print(row)
print("(ns per record; upd_c validate/decode/parse are all UpdC::parse)")
PY
