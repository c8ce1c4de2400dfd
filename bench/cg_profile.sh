#!/usr/bin/env bash
# Where do the instructions of one benchmark go? Runs it under callgrind with collection
# toggled around the measured loop and prints the top functions (inclusive of nothing:
# self cost), instructions per iteration in the header.
#   bench/cg_profile.sh <binary> <benchmark name> [lines]
# e.g. bench/cg_profile.sh build/bench/bench/bench_dispatch_reevent dispatch/epoll/fds:1000/active:100
set -euo pipefail
exe="$1"; name="$2"; lines="${3:-25}"
out="$(mktemp /tmp/cgprof.XXXXXX)"
iters=$(BENCH_CALLGRIND=1 valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$out" \
    "$exe" "--benchmark_filter=^${name}(/iterations:[0-9]+)?\$" 2>&1 >/dev/null | sed -n 's/^CG_ITERS //p' |
    awk '{s+=$1} END {print s}')
total=$(sed -n 's/^\(totals\|summary\): \([0-9]*\).*/\2/p' "$out" | head -1)
echo "$name on $(basename "$exe"): $total Ir over $iters iterations = $((total / (iters > 0 ? iters : 1))) Ir/iteration"
callgrind_annotate --threshold=99 "$out" 2>/dev/null | sed -n '/^ *Ir/,$p' | head -n "$lines"
rm -f "$out"
