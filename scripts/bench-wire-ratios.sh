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
    per_record() { # kind op base
        n=$((($(count "$1" "$2") - $3) / iters))
        case $2 in reader | views)
            n=$((n / $("$bin" "$1" "$2" 0 | sed -n 's/records per frame: //p'))) ;;
        esac
        echo "$n"
    }
    ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
    fmt='%-6s %6s %8s %6s %7s %6s %7s %6s %6s %6s\n'
    # shellcheck disable=SC2059 # the format is a constant kept in a variable
    printf "$fmt" record memcpy validate ratio decode ratio encode ratio views ratio
    for kind in 1301 1400 1500 upd_c; do
        base=$(count "$kind" none)
        cpy=$(per_record "$kind" memcpy "$base")
        val=$(per_record "$kind" validate "$base")
        dec=$(per_record "$kind" decode "$base")
        enc=$(per_record "$kind" encode "$base")
        vws=$(per_record "$kind" views "$base")
        # shellcheck disable=SC2059
        printf "$fmt" "$kind" "$cpy" "$val" "$(ratio "$val" "$cpy")" "$dec" "$(ratio "$dec" "$cpy")" \
            "$enc" "$(ratio "$enc" "$cpy")" "$vws" "$(ratio "$vws" "$cpy")"
    done
    echo "(instructions per record; memcpy = one record per memcpy call. No batch"
    echo " baseline here: glibc copies large blocks with rep movsb, which callgrind"
    echo " counts once per byte. validate = checked view (StateView / UpdCView),"
    echo " decode = owned form (StateRecord::decode_into / UpdC::decode), views ="
    echo " the zero-copy frame walk over a full 1460-byte frame, per record)"
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
        return float("nan")
    # The median: on a shared machine a neighbour's burst skews the mean.
    return json.loads(p.read_text())["median"]["point_estimate"] / batch
print(f"{'record':<11} {'batch':>6} {'copy':>6}" + "".join(
    f" {op:>8} {'/bat':>5} {'/cpy':>5}" for op in ["validate", "decode"]) +
    f" {'parse':>7} {'/cpy':>5} {'encode':>7} {'/cpy':>5}")
for group in ["state_1301", "state_1400", "state_1500", "upd_c"]:
    bat, cpy = ns(group, "memcpy"), ns(group, "memcpy_record")
    row = f"{group:<11} {bat:6.1f} {cpy:6.1f}"
    for op in ["validate", "decode"]:
        v = ns(group, op)
        row += f" {v:8.1f} {v / bat:5.2f} {v / cpy:5.2f}"
    for op in ["parse", "encode"]:
        v = ns(group, op)
        row += f" {v:7.1f} {v / cpy:5.2f}"
    print(row)
print("(median ns per record; batch = the 64-record batch copied in one memcpy, copy = one")
print(" memcpy per record; /bat and /cpy are ratios to each. validate = checked view")
print(" (StateView / UpdCView), decode = owned form (decode_into / UpdC::decode))")
PY
