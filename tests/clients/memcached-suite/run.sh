#!/usr/bin/env bash
# memcached 1.6.18's own test suite (t/*.t, perl, and testapp) against reevent and against
# the system libevent.  Not part of CI: it downloads Debian bookworm's memcached source
# package at run time, builds it once and runs 82 test files per side (7-9 minutes per
# side on two busy cores).  See "memcached's own test suite" in docs/design-clients.md.
#
#   tests/clients/memcached-suite/run.sh [options] [BUILD_DIR]
#
# BUILD_DIR is a reevent build tree (default build/release); its lib/ holds the sonames.
# The same memcached-debug and testapp binaries, built once against the system libevent, run
# on both sides: the libevent side as built, the reevent side with LD_LIBRARY_PATH=BUILD_DIR/lib
# (ldd must resolve libevent-2.1.so.7 into it).
# Options:
#   --work DIR        work directory (default BUILD_DIR/memcached-suite); the downloads are
#                     cached in DIR/dl, so later runs need no network
#   --sides "S..."    which sides, run one after the other (default "libevent reevent"):
#                     libevent, reevent, and the sides that --source-build and --tls-proxy add
#                     (reevent-built, libevent-tls, reevent-tls) can be named here too
#   --backends "B..." epoll (the default), epoll-changelist, poll and/or select: each side
#                     runs on each of them (EVENT_NOEPOLL / EVENT_NOPOLL /
#                     EVENT_EPOLL_USE_CHANGELIST in memcached's environment; memcached does not
#                     ignore it); a side on a backend other than epoll is named side:backend
#   --tests REGEX     only test files whose name (e.g. idle-timeout, testapp) matches (grep -E)
#   --repeat N        run every selected file N times per side (default 1): a file counts
#                     as failing on a side when any run failed; the table gives failed/runs
#   --timeout SEC     per test file (default 300)
#   --sanitize LIST   the sanitizers BUILD_DIR's libraries are built with: address,undefined,
#                     "none", or "auto" (the default: REEVENT_SANITIZE from
#                     BUILD_DIR/CMakeCache.txt). memcached is not instrumented, so the reevent
#                     sides get gcc's libasan.so + libubsan.so in LD_PRELOAD (perl too: it
#                     starts memcached) with ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 and
#                     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1; memcached's stderr is
#                     in the test's output, and a file whose output holds a sanitizer report
#                     counts as failed (SANITIZER in the table)
#   --source-build    also build a second memcached against reevent's headers and libraries
#                     (`cmake --install BUILD_DIR --prefix WORK/prefix`; memcached's configure
#                     takes --with-libevent=WORK/prefix, not pkg-config) and run the suite with
#                     it as side "reevent-built" (source compatibility); BUILD_DIR needs its
#                     static libraries too (cmake --install installs them)
#   --tls-proxy       also build memcached with --enable-tls --enable-proxy (against the
#                     system libevent; needs libssl-dev and, for the tests, IO::Socket::SSL:
#                     Debian's libio-socket-ssl-perl) and run the whole suite over TLS
#                     (SSL_TEST=1, as memcached's `make test_tls`), proxy.t included, as sides
#                     "libevent-tls" and "reevent-tls"
# Exit status: 0 when every failing file is listed in expected-failures.txt for that side,
# 1 on a failure that is not (a regression, or on the libevent side a broken setup),
# 2 on a setup error (download, build).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)

WORK=
SIDES="libevent reevent"
BACKENDS=epoll
TESTS=
REPEAT=1
TIMEOUT=300
BUILD=
SOURCE_BUILD=0
SANITIZE=auto
TLS_PROXY=0

while [ $# -gt 0 ]; do
    case "$1" in
        --work) WORK=$2; shift 2 ;;
        --sides) SIDES=$2; shift 2 ;;
        --backends) BACKENDS=$2; shift 2 ;;
        --tests) TESTS=$2; shift 2 ;;
        --repeat) REPEAT=$2; shift 2 ;;
        --timeout) TIMEOUT=$2; shift 2 ;;
        --source-build) SOURCE_BUILD=1; shift ;;
        --sanitize) SANITIZE=$2; shift 2 ;;
        --tls-proxy) TLS_PROXY=1; shift ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        -*) echo "unknown option $1" >&2; exit 2 ;;
        *) BUILD=$1; shift ;;
    esac
done
. "$REPO/tests/clients/suite-lib.sh"
suite_dirs memcached-suite


# Sanitizer runtimes for the reevent sides (uninstrumented memcached, instrumented libraries).
if [ "$SANITIZE" = auto ]; then
    SANITIZE=$(sed -n 's/^REEVENT_SANITIZE:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null || true)
fi
[ "$SANITIZE" != none ] || SANITIZE=
SAN_ENV=
if [ -n "$SANITIZE" ]; then
    pre=
    for rt in $(case ",$SANITIZE," in *,address,*) echo libasan.so ;; esac) \
              $(case ",$SANITIZE," in *,undefined,*) echo libubsan.so ;; esac); do
        p=$(gcc -print-file-name=$rt)
        case $p in /*) [ -e "$p" ] || die "gcc has no $rt" ;; *) die "gcc has no $rt" ;; esac
        pre="${pre:+$pre:}$(readlink -f "$p")"
    done
    [ -n "$pre" ] || die "--sanitize $SANITIZE: only address and undefined are supported"
    SAN_ENV="LD_PRELOAD=$pre ASAN_OPTIONS=detect_leaks=0:halt_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS} UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
    log "reevent sides: $SAN_ENV"
fi
[ $SOURCE_BUILD = 0 ] || SIDES="$SIDES reevent-built"
if [ $TLS_PROXY = 1 ]; then
    for side in $SIDES; do
        case $side in libevent|reevent) SIDES="$SIDES $side-tls" ;; esac
    done
fi
NEED_SOURCE_BUILD=0 NEED_TLS_PROXY=0
for side in $SIDES; do
    case $side in
        reevent|reevent-tls)
            for so in libevent_core libevent_extra libevent_pthreads libevent; do
                [ -e "$REEVENT_LIB/$so-2.1.so.7" ] || die "$REEVENT_LIB/$so-2.1.so.7 missing (build the libraries: ninja -C $BUILD event_core event_extra event_pthreads event)"
            done ;;
        libevent|libevent-tls)
            [ -e /usr/include/event2/event.h ] || die "the system libevent (libevent-dev) is not installed" ;;
        reevent-built) NEED_SOURCE_BUILD=1 ;;
        *) die "unknown side $side" ;;
    esac
    case $side in *-tls) NEED_TLS_PROXY=1 ;; esac
done
command -v prove >/dev/null && perl -MTest::More -e 1 2>/dev/null ||
    die "perl with Test::More is needed (Debian: perl)"

# ---------------------------------------------------------------------------------------
# Debian bookworm's memcached 1.6.18-1+deb12u1 (the sha256 sums of its .dsc).
ORIG=memcached_1.6.18.orig.tar.xz
ORIG_SHA256=35872bd25f8d29d7cc2072d23e74344530891bfd0aa4f4f64184a8ae7291164b
DEBIAN=memcached_1.6.18-1+deb12u1.debian.tar.xz
DEBIAN_SHA256=7a4aa3c89fa1e3476a7503696f38a8103b6b4d6c66b5bb9958ea4fa0596f5c04
POOL=m/memcached
MIRRORS="http://deb.debian.org/debian/pool/main http://security.debian.org/debian-security/pool/updates/main http://deb.debian.org/debian-security/pool/updates/main"
suite_fetch "$ORIG" "$ORIG_SHA256"
suite_fetch "$DEBIAN" "$DEBIAN_SHA256"

# Unpack, apply Debian's patches, configure and build once per (sources, flavour).
# flavour "system": against the system libevent; "reevent": against WORK/prefix's pkg-config.
build_memcached() { # flavour dir
    local flavour=$1 dir=$2 stamp="$ORIG_SHA256 $DEBIAN_SHA256 $1"
    if [ -e "$dir/.built" ] && [ "$(cat "$dir/.built")" = "$stamp" ]; then return 0; fi
    log "building memcached-debug and testapp ($flavour) in $dir"
    rm -rf "$dir"; mkdir -p "$dir"
    tar -xJf "$WORK/dl/$ORIG" -C "$dir" --strip-components=1
    tar -xJf "$WORK/dl/$DEBIAN" -C "$dir"
    local p
    while read -r p; do
        case $p in ''|'#'*) continue ;; esac
        patch -d "$dir" -p1 -s < "$dir/debian/patches/$p" || die "Debian patch $p does not apply"
    done < "$dir/debian/patches/series"
    local cfg=(--disable-coverage)
    case $flavour in
        # configure finds libevent with its own probe (-levent, --with-libevent=DIR).
        reevent) cfg+=(--with-libevent="$WORK/prefix") ;;
        tls-proxy) cfg+=(--enable-tls --enable-proxy) ;;
    esac
    (cd "$dir" && nice ./configure "${cfg[@]}" > configure.log 2>&1) ||
        die "configure ($flavour) failed: $dir/configure.log"
    if [ "$flavour" = tls-proxy ]; then   # the proxy's bundled lua and mcmc (not a make dependency)
        (cd "$dir" && nice make -C vendor all > vendor.log 2>&1) ||
            die "make -C vendor failed: $dir/vendor.log"
    fi
    (cd "$dir" && nice make -j2 memcached-debug sizes testapp timedrun > make.log 2>&1) ||
        die "make ($flavour) failed: $dir/make.log"
    echo "$stamp" > "$dir/.built"
}
case " $SIDES " in *" libevent "*|*" reevent "*) build_memcached system "$WORK/memcached" ;; esac
if [ $NEED_SOURCE_BUILD = 1 ]; then
    log "installing $BUILD into $WORK/prefix"
    rm -rf "$WORK/prefix"
    cmake --install "$BUILD" --prefix "$WORK/prefix" > "$WORK/install.log" 2>&1 ||
        die "cmake --install $BUILD failed (static libraries built?): $WORK/install.log"
    rm -f "$WORK/memcached-reevent/.built"
    build_memcached reevent "$WORK/memcached-reevent"
fi
if [ $NEED_TLS_PROXY = 1 ]; then
    perl -MIO::Socket::SSL -e 1 2>/dev/null ||
        die "--tls-proxy: perl's IO::Socket::SSL is missing (Debian: libio-socket-ssl-perl)"
    build_memcached tls-proxy "$WORK/memcached-tls-proxy"
fi

# The environment and tree of a side.
side_dir() {
    case $1 in
        reevent-built) echo "$WORK/memcached-reevent" ;;
        *-tls) echo "$WORK/memcached-tls-proxy" ;;
        *) echo "$WORK/memcached" ;;
    esac
}
side_env() {
    case $1 in
        reevent) echo "LD_LIBRARY_PATH=$REEVENT_LIB $SAN_ENV" ;;
        reevent-tls) echo "LD_LIBRARY_PATH=$REEVENT_LIB SSL_TEST=1 $SAN_ENV" ;;
        reevent-built) echo "LD_LIBRARY_PATH=$WORK/prefix/lib $SAN_ENV" ;;
        libevent) echo "REEVENT_MEMCACHED_SUITE_SIDE=libevent" ;;
        libevent-tls) echo "SSL_TEST=1" ;;
    esac
}
check_ldd() { # side
    local dir want got
    dir=$(side_dir "$1")
    got=$(env $(side_env "$1") ldd "$dir/memcached-debug" | awk '$1 == "libevent-2.1.so.7" || $1 == "libevent_core-2.1.so.7" { print $3 }')
    case $1 in
        reevent|reevent-tls) want=$REEVENT_LIB ;;
        reevent-built) want=$WORK/prefix/lib ;;
        libevent|libevent-tls) want= ;;
    esac
    [ -n "$got" ] || die "$1: memcached-debug does not link libevent?"
    local f
    for f in $got; do
        if [ -n "$want" ]; then
            [ "$(dirname "$f")" = "$want" ] || die "$1: ldd resolves libevent to $f, not into $want"
        else
            case $f in "$REEVENT_LIB"/*|"$WORK"/*) die "libevent side resolves to $f" ;; esac
        fi
    done
    log "$1: memcached-debug uses $(echo $got)"
}

# ---------------------------------------------------------------------------------------
for b in $BACKENDS; do backend_env "$b" > /dev/null; done
RESULTS=$WORK/results
rm -rf "$RESULTS"; mkdir -p "$RESULTS"
first=$(echo $SIDES | cut -d' ' -f1)
files=$(cd "$(side_dir "$first")" && { echo testapp; ls t/*.t | sed 's|^t/||; s|\.t$||'; } |
        grep -v -x whitespace)   # whitespace.t checks the source tree itself (Debian skips it)
[ -z "$TESTS" ] || files=$(echo "$files" | grep -E -- "$TESTS" || true)
[ -n "$files" ] || die "no test file matches $TESTS"

COLUMNS_=
for side in $SIDES; do
    check_ldd "$side"
    dir=$(side_dir "$side")
    for backend in $BACKENDS; do
        col=$side; [ "$backend" = epoll ] || col=$side:$backend
        COLUMNS_="$COLUMNS_ $col"
        for r in $(seq 1 "$REPEAT"); do
            out=$RESULTS/$col/$r
            mkdir -p "$out"
            log "$col run $r/$REPEAT: $(echo $files | wc -w) files"
            for f in $files; do
                start=$(date +%s.%N)
                if [ "$f" = testapp ]; then cmd=(./testapp); else cmd=(perl "t/$f.t"); fi
                rc=0
                (cd "$dir" && env $(side_env "$side") $(backend_env "$backend") \
                     timeout -k 10 "$TIMEOUT" nice "${cmd[@]}") > "$out/$f.tap" 2>&1 < /dev/null || rc=$?
                end=$(date +%s.%N)
                printf '%s %d %.1f\n' "$f" "$rc" "$(echo "$end - $start" | bc)" >> "$out/summary"
            done
        done
    done
done

python3 "$HERE/report.py" --results "$RESULTS" --expected "$HERE/expected-failures.txt" \
    --sides "$COLUMNS_"
