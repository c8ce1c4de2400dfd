#!/usr/bin/env bash
# One command for the reevent-vs-libevent comparison:
#   bench/run.sh            build (bench preset, Release), run everything (~20 min), write
#                           docs/benchmarks.md and docs/plots/*.png
#   bench/run.sh --smoke    bounded (< 60 s): build, run a few benchmarks of every kind once,
#                           write build/bench/smoke/benchmarks.md (proves the suite works)
# Options: --no-build, --build-dir DIR, --cpu N (CPU the measured side is pinned to),
#          --only groups,ava,memory,echo,tls,http,callgrind
# Also reachable as `cmake --build --preset bench --target bench-report` (or bench-smoke).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build_dir="$root/build/bench"
smoke=0
build=1
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        --smoke) smoke=1 ;;
        --no-build) build=0 ;;
        --build-dir) build_dir="$2"; shift ;;
        --cpu|--only) extra+=("$1" "$2"); shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

need_pkgs=()
command -v valgrind >/dev/null || need_pkgs+=(valgrind)
[ -f /usr/include/valgrind/callgrind.h ] || need_pkgs+=(valgrind)
command -v taskset >/dev/null || need_pkgs+=(util-linux)
[ "$smoke" = 1 ] || command -v gnuplot >/dev/null || need_pkgs+=(gnuplot-nox)
if [ ${#need_pkgs[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "[bench] installing ${need_pkgs[*]}" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >&2
    else
        echo "[bench] missing ${need_pkgs[*]} (not root: continuing without)" >&2
    fi
fi

if [ "$build" = 1 ]; then
    if [ "$build_dir" = "$root/build/bench" ]; then
        (cd "$root" && cmake --preset bench >/dev/null)
    else
        cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DREEVENT_BUILD_BENCH=ON \
            -DREEVENT_BUILD_TESTS=OFF >/dev/null
    fi
    # The libevent sides and the raw ceilings always build; a reevent side that fails to
    # build (an area half-written) is skipped and reported, not fatal.
    targets=$(cd "$build_dir" && ninja -t targets all | sed -n 's/^\(bench_[a-z_]*\|echo_[a-z_]*\|http_[a-z_]*\): .*/\1/p' | sort -u)
    for t in $targets; do
        if ! ninja -C "$build_dir" -j2 "$t" >"$build_dir/build-$t.log" 2>&1; then
            echo "[bench] $t failed to build (see $build_dir/build-$t.log); skipped" >&2
            rm -f "$build_dir/bench/$t"
        fi
    done
fi

if [ "$smoke" = 1 ]; then
    mkdir -p "$build_dir/smoke"
    exec timeout 120 python3 "$root/bench/compare.py" --smoke --build-dir "$build_dir" \
        --out "$build_dir/smoke/benchmarks.md" --plots "$build_dir/smoke/plots" "${extra[@]}"
fi
exec python3 "$root/bench/compare.py" --build-dir "$build_dir" --out "$root/docs/benchmarks.md" \
    --plots "$root/docs/plots" "${extra[@]}"
