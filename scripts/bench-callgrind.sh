#!/bin/sh
# Instructions per engine operation, counted by callgrind in the
# examples/engine_callgrind workloads, printed per call and as a ratio against
# a baseline (a minimal slot read-modify-write) measured in the same run.
#   update hook     one on_state_updated in steady state (with the slot copy a
#                   kernel shim makes around it)
#   flush share     handle_timeout work (frame building) per update, amortised
#   UPD_C received  one UPD_C record of a 17-record frame, receive path
#   UPD received    one full UPD record (formats 1500, 1400, 1301, as many as
#                   fit a 1500-byte MTU) for a state the host already has
#   UPD OpenBSD     the same for OpenBSD's 264-byte UPD, OpenBSD dialect
set -eu
n=${BENCH_N:-200000}
cargo build --profile sim --example engine_callgrind >&2
bin=target/sim/examples/engine_callgrind
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# measure MODE FUNCTION COUNT [ARG]: instructions executed inside FUNCTION.
measure() {
    valgrind --tool=callgrind --callgrind-out-file="$out/$1-$2-${4:-}" \
        --toggle-collect="*$2*" "$bin" "$1" "$3" ${4:+"$4"} >"$out/$1-$2-${4:-}.stdout" 2>/dev/null
    awk '/^(summary|totals):/ { print $2; exit }' "$out/$1-$2-${4:-}"
}

frames=$((n / 100))
base=$(measure baseline baseline_call "$n")
hook=$(measure update hook_call "$n")
flush=$(measure update timeout_call "$n")
fold=$(measure update hook_call "$n" 16)
foldflush=$(measure update timeout_call "$n" 16)
rx=$(measure updc rx_call "$frames")
# records_of VERSION: full UPD records the upd run received (its stdout).
records_of() {
    sed -n 's/^records \([0-9]*\).*/\1/p' "$out/upd-rx_call-$1.stdout"
}
upd1500=$(measure upd rx_call "$frames" 1500)
upd1400=$(measure upd rx_call "$frames" 1400)
upd1301=$(measure upd rx_call "$frames" 1301)
r1500=$(records_of 1500)
r1400=$(records_of 1400)
r1301=$(records_of 1301)
updobsd=$(measure upd-openbsd rx_call "$frames")
robsd=$(sed -n 's/^records \([0-9]*\).*/\1/p' "$out/upd-openbsd-rx_call-.stdout")
allocs=$(sed -n 's/.*allocations-in-hook \([0-9]*\).*/\1/p' "$out/update-hook_call-.stdout")

awk -v n="$n" -v f="$frames" -v base="$base" -v hook="$hook" -v flush="$flush" \
    -v rx="$rx" -v allocs="$allocs" -v fold="$fold" -v foldflush="$foldflush" \
    -v u1500="$upd1500" -v u1400="$upd1400" -v u1301="$upd1301" \
    -v r1500="$r1500" -v r1400="$r1400" -v r1301="$r1301" \
    -v uobsd="$updobsd" -v robsd="$robsd" 'BEGIN {
    b = base / n; h = hook / n; fl = flush / n; r = rx / (f * 17)
    printf "baseline          %8.1f instructions/call\n", b
    printf "update hook       %8.1f instructions/call  (%.1fx baseline), each queues a new UPD_C; %d allocations in %d calls\n", h, h / b, allocs, n
    printf "flush share       %8.1f instructions/update (%.1fx baseline), frame building amortised\n", fl, fl / b
    printf "update hook, fold %8.1f instructions/call  (%.1fx baseline), 16 hot states, updates fold\n", fold / n, fold / n / b
    printf "flush share, fold %8.1f instructions/update (%.1fx baseline)\n", foldflush / n, foldflush / n / b
    printf "UPD_C received    %8.1f instructions/record (%.1fx baseline)\n", r, r / b
    printf "UPD 1500 received %8.1f instructions/record (%.1fx baseline), existing state\n", u1500 / r1500, u1500 / r1500 / b
    printf "UPD 1400 received %8.1f instructions/record (%.1fx baseline), existing state\n", u1400 / r1400, u1400 / r1400 / b
    printf "UPD 1301 received %8.1f instructions/record (%.1fx baseline), existing state\n", u1301 / r1301, u1301 / r1301 / b
    printf "UPD OpenBSD recvd %8.1f instructions/record (%.1fx baseline), existing state\n", uobsd / robsd, uobsd / robsd / b
}'
