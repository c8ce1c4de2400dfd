#!/usr/bin/env bash
# libevent 2.1.12's own regress suite (test/regress*.c, tinytest) against reevent and
# against the system libevent.  Not part of CI: it downloads Debian's libevent source
# package at run time and takes a while.  See "libevent's own regress suite" in
# docs/design-clients.md for what it does and why.
#
#   tests/libevent-regress/run.sh [options] [BUILD_DIR]
#
# BUILD_DIR is a reevent build tree (default build/release); its lib/ holds the sonames.
# Options:
#   -j N                 cases run at once (default 2)
#   --work DIR           work directory (default BUILD_DIR/libevent-regress); downloads are
#                        cached in DIR/dl, so later runs need no network
#   --sides "S..."       reevent and/or libevent (default both)
#   --backends "B..."    backends of the main groups (default: epoll epoll-changelist poll select;
#                        also epoll-timerfd and epoll-timerfd-changelist, EVENT_PRECISE_TIMER=1
#                        as libevent's test/test.sh runs them; a name ending in -debug, e.g.
#                        epoll-debug, is that backend with EVENT_DEBUG_MODE=1, which makes
#                        regress_main.c call event_enable_debug_mode() first)
#   --x-backends "B..."  backends of regress-x (http, dns, ssl) and regress-r (rpc)
#                        (default: epoll)
#   --cases REGEX        only cases whose name matches (grep -E)
#   --pristine           libevent's upstream tests without Debian's patches (the system
#                        libevent is Debian's patched build; see docs/design-clients.md)
#   --timeout SEC        per case (default 60)
#   --repeat N           run every selected case N times on each side and backend (no reruns)
#                        and print how many of the N runs passed, per case, side and backend
#                        (tells a flaky case from a bug: use with --cases); exit 0
#   --sanitize LIST      the sanitizers BUILD_DIR's libraries are built with: address,undefined
#                        or thread, "none", or "auto" (the default: REEVENT_SANITIZE from
#                        BUILD_DIR/CMakeCache.txt).  The regress binaries are not instrumented,
#                        so on the reevent side every run gets gcc's runtimes in LD_PRELOAD
#                        (libasan.so + libubsan.so, or libtsan.so; gcc -print-file-name) and
#                        ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=0,
#                        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1, or
#                        TSAN_OPTIONS=halt_on_error=0 (options already in the environment are
#                        appended, so they win).  A run whose log holds a sanitizer report
#                        (AddressSanitizer, LeakSanitizer, "runtime error:", ThreadSanitizer)
#                        counts as failed (SANITIZER), and the report lists every such report
#                        with its SUMMARY line, marked "reevent" when a frame is in src/.
#   --detect-leaks       with address: detect_leaks=1 (LeakSanitizer at each case's exit)
#   --sanitize-libevent  preload the same runtimes on the libevent side too (the system
#                        libevent is not instrumented, so only the runtime's interceptors and,
#                        with --detect-leaks, LeakSanitizer see anything there): tells whether
#                        a report in the regress program's own code shows on libevent as well
# Exit status: 0 when every failing case is listed in expected-failures.txt for that side,
# 1 on a failure that is not (a regression, or on the libevent side a broken setup),
# 2 on a setup error (download, build).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

JOBS=2
WORK=
SIDES="reevent libevent"
BACKENDS="epoll epoll-changelist poll select"
XBACKENDS="epoll"
CASES=
PRISTINE=0
TIMEOUT=60
BUILD=
SANITIZE=auto
LEAKS=0
SAN_SIDES=reevent
REPEAT=1

while [ $# -gt 0 ]; do
    case "$1" in
        -j) JOBS=$2; shift 2 ;;
        -j*) JOBS=${1#-j}; shift ;;
        --work) WORK=$2; shift 2 ;;
        --sides) SIDES=$2; shift 2 ;;
        --backends) BACKENDS=$2; shift 2 ;;
        --x-backends) XBACKENDS=$2; shift 2 ;;
        --cases) CASES=$2; shift 2 ;;
        --pristine) PRISTINE=1; shift ;;
        --timeout) TIMEOUT=$2; shift 2 ;;
        --repeat) REPEAT=$2; shift 2 ;;
        --sanitize) SANITIZE=$2; shift 2 ;;
        --detect-leaks) LEAKS=1; shift ;;
        --sanitize-libevent) SAN_SIDES="reevent libevent"; shift ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        -*) echo "unknown option $1" >&2; exit 2 ;;
        *) BUILD=$1; shift ;;
    esac
done
. "$REPO/tests/clients/suite-lib.sh"
suite_dirs libevent-regress
SYSTEM_LIB=$(dirname "$(gcc -print-file-name=libevent_core.so)")
[ -e "$SYSTEM_LIB/libevent_core.so" ] || SYSTEM_LIB=/usr/lib/x86_64-linux-gnu


# Sanitizer runtimes for the reevent side (uninstrumented binaries, instrumented libraries).
if [ "$SANITIZE" = auto ]; then
    SANITIZE=$(sed -n 's/^REEVENT_SANITIZE:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null || true)
fi
[ "$SANITIZE" != none ] || SANITIZE=
SAN_PRELOAD=
SAN_ENV=
sanlib() { # libX.so
    local p
    p=$(gcc -print-file-name="$1")
    case $p in /*) [ -e "$p" ] || die "gcc has no $1 ($p)" ;; *) die "gcc has no $1" ;; esac
    SAN_PRELOAD="${SAN_PRELOAD:+$SAN_PRELOAD:}$(readlink -f "$p")"
}
case ",$SANITIZE," in *,address,*)
    sanlib libasan.so
    SAN_ENV="$SAN_ENV ASAN_OPTIONS=detect_leaks=$LEAKS:halt_on_error=1:abort_on_error=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" ;;
esac
case ",$SANITIZE," in *,undefined,*)
    sanlib libubsan.so
    SAN_ENV="$SAN_ENV UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" ;;
esac
case ",$SANITIZE," in *,thread,*)
    sanlib libtsan.so
    SAN_ENV="$SAN_ENV TSAN_OPTIONS=halt_on_error=0${TSAN_OPTIONS:+:$TSAN_OPTIONS}" ;;
esac
[ -z "$SANITIZE" ] || [ -n "$SAN_PRELOAD" ] || die "--sanitize $SANITIZE: no runtime to preload"
[ -z "$SAN_PRELOAD" ] || log "$SAN_SIDES side(s): LD_PRELOAD=$SAN_PRELOAD$SAN_ENV"
export LIBEVENT_REGRESS_SANITIZE=$SANITIZE LIBEVENT_REGRESS_SAN_SIDES=$SAN_SIDES LIBEVENT_REGRESS_LEAKS=$LEAKS
# The environment a side's binaries run in (for env(1)).
side_env() { # side
    case " $SAN_SIDES " in *" $1 "*)
        [ -z "$SAN_PRELOAD" ] || echo "LD_PRELOAD=$SAN_PRELOAD$SAN_ENV" ;;
    esac
}

for side in $SIDES; do
    case $side in
        reevent)
            for so in libevent_core libevent_extra libevent_pthreads libevent_openssl; do
                [ -e "$REEVENT_LIB/$so-2.1.so.7" ] || die "$REEVENT_LIB/$so-2.1.so.7 missing (build the libraries: ninja -C $BUILD event_core event_extra event_pthreads event_openssl event)"
            done ;;
        libevent)
            [ -e /usr/include/event2/event.h ] || die "the system libevent (libevent-dev) is not installed" ;;
        *) die "unknown side $side" ;;
    esac
done

# ---------------------------------------------------------------------------------------
# 1. Debian's libevent 2.1.12-stable-8+deb12u1 source package (the version of the system
#    libevent on Debian 12), checksums from its .dsc.
ORIG=libevent_2.1.12-stable.orig.tar.gz
ORIG_SHA256=92e6de1be9ec176428fd2367677e61ceffc2ee1cb119035037a27d346b0403bb
DEBIAN=libevent_2.1.12-stable-8+deb12u1.debian.tar.xz
DEBIAN_SHA256=0c721f8a55e6a9e225f62f151f477675ed901400b56003bb424ef2eea74f370d
POOL=libe/libevent

suite_fetch "$ORIG" "$ORIG_SHA256"
[ $PRISTINE = 1 ] || suite_fetch "$DEBIAN" "$DEBIAN_SHA256"

# 2. Unpack, apply Debian's patches (series order), configure (for event-config.h and
#    config.h, which the tests and libevent's private headers include).  Cached.
FLAVOUR=$([ $PRISTINE = 1 ] && echo pristine || echo debian)
export LIBEVENT_REGRESS_FLAVOUR=$FLAVOUR
SRC=$WORK/src-$FLAVOUR/libevent-2.1.12-stable
STAMP="$ORIG_SHA256 $([ $PRISTINE = 1 ] || echo $DEBIAN_SHA256)"
if [ "$(cat "$SRC/.reevent-stamp" 2>/dev/null)" != "$STAMP" ]; then
    rm -rf "$WORK/src-$FLAVOUR"; mkdir -p "$WORK/src-$FLAVOUR"
    tar -xzf "$WORK/dl/$ORIG" -C "$WORK/src-$FLAVOUR"
    if [ $PRISTINE = 0 ]; then
        tar -xJf "$WORK/dl/$DEBIAN" -C "$SRC"
        while read -r p; do
            case "$p" in ''|'#'*) continue ;; esac
            patch -d "$SRC" -p1 -s < "$SRC/debian/patches/$p" || die "patch $p did not apply"
        done < "$SRC/debian/patches/series"
    fi
    log "configuring libevent's source (for its config headers; nothing of it is built)"
    (cd "$SRC" && ./configure --disable-samples --disable-libevent-install > configure.log 2>&1 &&
        sed -f make-event-config.sed < config.h > include/event2/event-config.h) ||
        die "configure failed, see $SRC/configure.log"
    echo "$STAMP" > "$SRC/.reevent-stamp"
fi

# 3. The tests, adapted (a copy next to test/, so their "../x-internal.h" includes resolve).
T=$SRC/test-adapted
rm -rf "$T"; cp -r "$SRC/test" "$T"
# (a) evbuffer_validate_ walks libevent's private chain list: it answers 1.
sed -i '/^evbuffer_validate_(struct evbuffer \*buf)$/{n;s/^{$/{ if (buf) return 1;/}' "$T/regress_buffer.c"
grep -q '^{ if (buf) return 1;' "$T/regress_buffer.c" || die "adaptation (a) did not apply"
# (b) evbuffer/prepend reads the first chain's bytes: it looks through evbuffer_pullup.
sed -i 's/tt_assert(!memcmp(buf1->first->buffer+buf1->first->misalign,/tt_assert(!memcmp(evbuffer_pullup(buf1, 6),/' "$T/regress_buffer.c"
grep -q 'memcmp(evbuffer_pullup(buf1, 6),' "$T/regress_buffer.c" || die "adaptation (b) did not apply"
# (c) main/fork uses libevent's private global base: it uses the base its setup made
#     with event_init() (the same base on libevent).
sed -i 's/^#define current_base event_global_current_base_$/#define current_base global_base/' "$T/regress.c"
grep -q '^#define current_base global_base$' "$T/regress.c" || die "adaptation (c) did not apply"
# The group tables of the three binaries (regress_main.c's table, filtered).
mkgroups() { # out regex-of-groups-kept
    awk -v keep="$2" '
        /^struct testgroup_t testgroups\[\] = \{/ { intable = 1; print; next }
        intable && /^\t\{ "[a-z\/]*\/", / {
            g = $0; sub(/^\t\{ "/, "", g); sub(/\/".*/, "", g)
            if (g ~ ("^(" keep ")$")) print
            next }
        intable && /^#/ { next }
        intable && /END_OF_GROUPS/ { intable = 0 }
        { print }' "$T/regress_main.c" > "$1"
}
mkgroups "$T/main-regress.c" 'main|et|finalize|evbuffer|signal|util|bufferevent|evtag|thread|listener'
mkgroups "$T/main-regress-x.c" 'http|dns|ssl'
mkgroups "$T/main-regress-r.c" 'rpc'
python3 "$SRC/event_rpcgen.py" --quiet "$T/regress.rpc" "$T/regress.gen.h" "$T/regress.gen.c" ||
    die "event_rpcgen.py failed"

# 4. Build: the test objects once on libevent's headers (as Debian's binaries are), then
#    for each side the shim (our code) and the three binaries linked to that side's
#    sonames, the shim last so that the libraries' own symbols win.
OBJ=$WORK/obj; rm -rf "$OBJ"; mkdir -p "$OBJ"
CFLAGS="-O1 -g -w -pthread -DHAVE_CONFIG_H -DTINYTEST_LOCAL -I$T -I$SRC -I$SRC/include -I$SRC/compat"
SOURCES="regress.c regress.gen.c regress_buffer.c regress_bufferevent.c regress_dns.c regress_et.c
         regress_finalize.c regress_http.c regress_listener.c regress_minheap.c regress_rpc.c
         regress_testutils.c regress_util.c regress_thread.c regress_ssl.c regress_zlib.c tinytest.c
         main-regress.c main-regress-x.c main-regress-r.c"
log "compiling the tests"
printf '%s\n' $SOURCES | xargs -P "$JOBS" -I{} sh -c \
    "gcc $CFLAGS -c '$T/{}' -o '$OBJ/{}.o' 2>> '$OBJ/compile.log' || echo {} >> '$OBJ/failed'"
[ ! -e "$OBJ/failed" ] || die "compiling $(tr '\n' ' ' < "$OBJ/failed")failed, see $OBJ/compile.log"
COMMON=""
for s in $SOURCES; do case $s in main-*) ;; *) COMMON="$COMMON $OBJ/$s.o" ;; esac; done

for side in $SIDES; do
    lib=$([ $side = reevent ] && echo "$REEVENT_LIB" || echo "$SYSTEM_LIB")
    B=$WORK/bin/$side; rm -rf "$B"; mkdir -p "$B"
    gcc -O1 -g -shared -fPIC -pthread -o "$B/libregress_shim.so" "$HERE/shim.c" \
        -I"$SRC/include" -L"$lib" -Wl,-rpath,"$lib" -levent_core ||
        die "shim for $side"
    for bin in regress regress-x regress-r; do
        gcc -pthread -o "$B/$bin" "$OBJ/main-$bin.c.o" $COMMON \
            -L"$lib" -Wl,-rpath,"$lib" -Wl,--no-as-needed \
            -levent_core -levent_extra -levent_pthreads -levent_openssl \
            -L"$B" -Wl,-rpath,"$B" -lregress_shim -lssl -lcrypto -lz \
            2>> "$B/link.log" || die "linking $bin for $side, see $B/link.log"
    done
    # The binaries must resolve their libevent sonames into that side's directory.
    for so in libevent_core libevent_extra libevent_openssl; do
        got=$(env -u LD_LIBRARY_PATH ldd "$B/regress" | awk -v s="$so-2.1.so.7" '$1 == s { print $3 }')
        [ "$(dirname "$got")" -ef "$lib" ] || die "$side: $so resolves to '$got', not into $lib"
    done
done

# 5. Every case in its own process, per backend, JOBS at a time.
R=$WORK/results; rm -rf "$R"; mkdir -p "$R"
JOBLIST=$R/jobs
: > "$JOBLIST"
for side in $SIDES; do
    for bin in regress regress-x regress-r; do
        bes=$([ $bin = regress ] && echo "$BACKENDS" || echo "$XBACKENDS")
        env -u LD_PRELOAD $(side_env $side) "$WORK/bin/$side/$bin" --list-tests | awk '/^    [a-z]/ { print $1 }' > "$R/cases-$side-$bin"
        [ -s "$R/cases-$side-$bin" ] || die "$bin --list-tests listed nothing"
        for be in $bes; do
            { grep -E -- "${CASES:-.}" "$R/cases-$side-$bin" || true; } | while read -r c; do
                if [ "$REPEAT" -gt 1 ]; then
                    for k in $(seq 1 "$REPEAT"); do echo "$side $bin $be $c r$k"; done
                else
                    echo "$side $bin $be $c"
                fi
            done >> "$JOBLIST"
        done
    done
done
log "running $(wc -l < "$JOBLIST") case runs, $JOBS at a time"

runcase() { # side bin backend case [attempt]
    local side=$1 bin=$2 be=$3 c=$4 attempt=${5:-1} out rc
    out=$R/log/$side/$be/$(echo "$c" | tr / _)$([ "$attempt" = 1 ] || echo ".$attempt").log
    local label=$be
    mkdir -p "$(dirname "$out")"
    local envs=(-u EVENT_NOEPOLL -u EVENT_NOPOLL -u EVENT_NOSELECT -u EVENT_EPOLL_USE_CHANGELIST
                -u EVENT_SHOW_METHOD -u EVENT_PRECISE_TIMER -u EVENT_DEBUG_MODE -u LD_LIBRARY_PATH
                -u LD_PRELOAD)
    case $be in *-debug) envs+=(EVENT_DEBUG_MODE=1); be=${be%-debug} ;; esac
    case $be in
        epoll) ;;
        epoll-changelist) envs+=(EVENT_EPOLL_USE_CHANGELIST=1) ;;
        epoll-timerfd) envs+=(EVENT_PRECISE_TIMER=1) ;;
        epoll-timerfd-changelist) envs+=(EVENT_PRECISE_TIMER=1 EVENT_EPOLL_USE_CHANGELIST=1) ;;
        poll) envs+=(EVENT_NOEPOLL=1) ;;
        select) envs+=(EVENT_NOEPOLL=1 EVENT_NOPOLL=1) ;;
    esac
    case " $SAN_SIDES " in *" $side "*)
        [ -z "$SAN_PRELOAD" ] || envs+=(LD_PRELOAD="$SAN_PRELOAD" $SAN_ENV) ;;
    esac
    set +e
    (cd "$R" && env "${envs[@]}" timeout -k 5 "$TIMEOUT" "$WORK/bin/$side/$bin" --verbose "$c") \
        > "$out" 2>&1 < /dev/null
    rc=$?
    set -e
    echo "$side $bin $label $c $attempt $rc" >> "$R/results.$BASHPID"
}
export -f runcase
export R WORK TIMEOUT SAN_PRELOAD SAN_ENV SAN_SIDES
START=$(date +%s)
xargs -P "$JOBS" -L 1 bash -c 'runcase "$@"' _ < "$JOBLIST"
cat "$R"/results.* > "$R/results"
if [ "$REPEAT" -gt 1 ]; then
    log "ran in $(( $(date +%s) - START )) s"
    python3 "$HERE/report.py" --repeat "$R"
    exit 0
fi
# Runs that failed though expected-failures.txt does not list them as failing run again,
# one at a time, up to twice: many cases of the suite check timings to +-50 ms, which a
# loaded machine misses now and then.  The report names every case that needed this.
for attempt in 2 3; do
    python3 "$HERE/report.py" --rerun "$attempt" "$R" "$HERE/expected-failures.txt" "$SIDES" > "$R/rerun-$attempt"
    [ -s "$R/rerun-$attempt" ] || break
    log "running $(wc -l < "$R/rerun-$attempt") failed run(s) again, one at a time"
    rm -f "$R"/results.*
    xargs -P 1 -L 1 bash -c 'runcase "$@"' _ < "$R/rerun-$attempt"
    cat "$R"/results.* >> "$R/results"
done
log "ran in $(( $(date +%s) - START )) s"

# 6. Report.
SRCDIR=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$BUILD/CMakeCache.txt" 2>/dev/null || true)
REEVENT_SRC=${SRCDIR:-$REPO}/src python3 "$HERE/report.py" "$R" "$HERE/expected-failures.txt" "$SIDES"
