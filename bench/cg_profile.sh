#!/usr/bin/env bash
# Where do the instructions of one benchmark go? Runs it under callgrind with collection
# toggled around the measured loop and prints the top functions (inclusive of nothing:
# self cost), instructions per iteration in the header.
#   bench/cg_profile.sh <binary> <benchmark name> [lines]
# e.g. bench/cg_profile.sh build/bench/bench/bench_dispatch_reevent dispatch/epoll/fds:1000/active:100
# The servers (separate processes driven by a load generator) the same way, per echoed
# message or per request, steady state (bench/common/server_cg.h):
#   bench/cg_profile.sh --tls <tls_echo_server binary> <socket|filter> <conns> <msg bytes> [lines]
#   bench/cg_profile.sh --http <http_server binary> <conns> <body bytes> [lines]
set -euo pipefail
if [ "${1:-}" = --tls ] || [ "${1:-}" = --http ]; then
    kind="$1"; exe="$2"; bindir="$(dirname "$exe")"
    if [ "$kind" = --tls ]; then
        mode="$3"; conns="$4"; size="$5"; lines="${6:-25}"
        depth=$([ "$size" -ge 4096 ] && echo 4 || echo 8)
        warm=$((2000 * size)); count=$((5000 * size)); per="$size"
        srv_args=(epoll "$mode"); lg=("$bindir/echo_loadgen_tls" PORT "$conns" "$size" "$depth" 600 0)
    else
        conns="$3"; size="$4"; lines="${5:-25}"
        warm=1000; count=3000; per=1
        srv_args=(epoll); lg=("$bindir/http_loadgen" PORT "$conns" "$size" 600 0)
    fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    lg[1]="$port"
    out="$(mktemp /tmp/cgprof.XXXXXX)"; log="$(mktemp /tmp/cgprof.XXXXXX)"; so="$(mktemp /tmp/cgprof.XXXXXX)"
    BENCH_CG_WARM=$warm BENCH_CG_COUNT=$count valgrind --tool=callgrind --collect-atstart=no \
        --callgrind-out-file="$out" "$exe" "$port" "${srv_args[@]}" >"$so" 2>"$log" &
    srv=$!
    for _ in $(seq 600); do grep -q READY "$so" && break; sleep 0.1; done
    "${lg[@]}" >/dev/null 2>&1 &
    lgpid=$!
    wait "$srv" || true
    kill "$lgpid" 2>/dev/null || true
    wait "$lgpid" 2>/dev/null || true
    units=$(sed -n 's/^CG_UNITS //p' "$log")
    total=$(sed -n 's/^\(totals\|summary\): \([0-9]*\).*/\2/p' "$out" | head -1)
    n=$((units / per))
    echo "$(basename "$exe") ${srv_args[*]} C=$conns S=$size: $total Ir over $n units = $((total / (n > 0 ? n : 1))) Ir/unit"
    callgrind_annotate --threshold=99 "$out" 2>/dev/null | sed -n '/^ *Ir/,$p' | head -n "$lines"
    rm -f "$out" "$log" "$so"
    exit 0
fi
exe="$1"; name="$2"; lines="${3:-25}"
out="$(mktemp /tmp/cgprof.XXXXXX)"
iters=$(BENCH_CALLGRIND=1 valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$out" \
    "$exe" "--benchmark_filter=^${name}(/iterations:[0-9]+)?\$" 2>&1 >/dev/null | sed -n 's/^CG_ITERS //p' |
    awk '{s+=$1} END {print s}')
total=$(sed -n 's/^\(totals\|summary\): \([0-9]*\).*/\2/p' "$out" | head -1)
echo "$name on $(basename "$exe"): $total Ir over $iters iterations = $((total / (iters > 0 ? iters : 1))) Ir/iteration"
callgrind_annotate --threshold=99 "$out" 2>/dev/null | sed -n '/^ *Ir/,$p' | head -n "$lines"
rm -f "$out"
