#!/usr/bin/env bash
# Tor's own unit-test programs (Debian bookworm's tor 0.4.9.11 source) built once against the
# system libevent, then run unchanged on the system libevent and on reevent
# (LD_LIBRARY_PATH=BUILD_DIR/lib), compared per test.  Not part of CI: it downloads the source
# (once, sha256 pinned, cached) and the build takes 15-60 minutes on two busy cores.  See
# "Tor's own unit tests" in docs/design-clients.md.
#
#   tests/clients/tor_suite.sh [options] [BUILD_DIR]
#
# BUILD_DIR is a reevent build tree (default build/release); its lib/ holds the sonames.
# Options:
#   --work DIR        cache and build directory (default BUILD_DIR/tor-suite): DIR/dl holds the
#                     download (put it there to run offline), DIR/tor-0.4.9.11 the build
#   --sides "S..."    reevent and/or libevent (default both)
#   --backends "B..." epoll (tor's own choice: epoll with the changelist), epoll-precise
#                     (EVENT_PRECISE_TIMER=1: timerfd), poll (EVENT_NOEPOLL=1), select
#                     (EVENT_NOEPOLL=1 EVENT_NOPOLL=1); default epoll.  Each backend runs on
#                     both sides and is compared side against side.
#   --programs "P..." test (src/test/test), slow (src/test/test-slow), workqueue (the six
#                     src/test/test_workqueue variants of tor's own test scripts), timers
#                     (src/test/test-timers); default all four (test-slow's process tests
#                     start src/test/test-process, built too)
#   --cases "T..."    only these tests of src/test/test and test-slow (tinytest names or
#                     prefixes ending in "..", e.g. "compat/libevent/.. mainloop/..")
#   --reruns N        a test that fails is run again alone N times (default 3)
#   --timeout SEC     per whole-program run (default 3600; a rerun of one test gets 300)
#   --stall SEC       a program that prints nothing for SEC s (default 180) has its running
#                     test (tinytest's forked child) killed: that test fails, the rest go on
#   --sanitize LIST   the sanitizers BUILD_DIR's libraries are built with (address,undefined,
#                     thread, none; default auto: REEVENT_SANITIZE from its CMakeCache.txt): the
#                     reevent side then runs with gcc's runtimes in LD_PRELOAD (tor's programs
#                     are not instrumented), detect_leaks=0, and a log with a sanitizer report
#                     fails the run
# Every test that fails once is rerun alone; it counts as failing on a side when it fails in
# the whole run and in at least one rerun, as flaky when every rerun passes.
# Exit status: 0 when every failing test is listed for that side in
# tor-suite-expected-failures.txt, 1 on a failure that is not (on reevent: a reevent bug or a
# regression; on libevent: a broken setup) or on a sanitizer report, 2 on a setup error.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

WORK=
BUILD=
ARGS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --work) WORK=$2; shift 2 ;;
        --sides|--backends|--programs|--cases|--reruns|--timeout|--sanitize|--stall) ARGS+=("$1" "$2"); shift 2 ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        -*) echo "unknown option $1" >&2; exit 2 ;;
        *) BUILD=$1; shift ;;
    esac
done
. "$REPO/tests/clients/suite-lib.sh"
suite_dirs tor-suite


for so in libevent_core libevent_extra libevent_pthreads libevent; do
    [ -e "$BUILD/lib/$so-2.1.so.7" ] || die "$BUILD/lib/$so-2.1.so.7 missing (build the libraries: ninja -C $BUILD event_core event_extra event_pthreads event)"
done

# 1. The source: Debian's tor_0.4.9.11.orig.tar.gz (bookworm's tor is 0.4.9.11-0+deb12u1;
#    the checksum is the one its .dsc lists).  Debian's .diff.gz is not needed: it only adds
#    debian/ (packaging), no patch to tor's source.
VERSION=0.4.9.11
ORIG=tor_$VERSION.orig.tar.gz
ORIG_SHA256=2e6c1720118c812acf0079fd47cf91b6bfaba5d766c321c4d3d2a28d6a11a8ed
POOL=t/tor
suite_fetch "$ORIG" "$ORIG_SHA256"

# 2. Build once (cached: a stamp records the checksum and the configure line; a build
#    that failed or was interrupted is resumed by make).  Against the
#    system libevent, linked to the shared libevent-2.1.so.7 (tor's default; configure
#    never takes libevent.a unless --enable-static-libevent).  Build dependencies beyond a
#    compiler: libevent-dev libssl-dev zlib1g-dev (liblzma-dev, libzstd-dev, libcap-dev,
#    libseccomp-dev, libsystemd-dev are optional and change nothing here).
SRC=$WORK/tor-$VERSION
CONFIGURE="./configure --disable-asciidoc"
STAMP="$ORIG_SHA256 $CONFIGURE"
PROGS="src/test/test src/test/test-slow src/test/test_workqueue src/test/test-timers src/test/test-process"
if [ "$(cat "$SRC/.reevent-configured" 2>/dev/null)" != "$STAMP" ]; then  # unpack, configure
    suite_install_missing libevent-dev libssl-dev zlib1g-dev pkg-config make gcc
    rm -rf "$SRC"
    tar -xzf "$WORK/dl/$ORIG" -C "$WORK"
    log "configuring ($CONFIGURE)"
    (cd "$SRC" && $CONFIGURE > "$WORK/configure.log" 2>&1) || die "configure failed, see $WORK/configure.log"
    echo "$STAMP" > "$SRC/.reevent-configured"
fi
# make again every time: quick when everything is built.
log "make $PROGS (nice -j2; the first build is long)"
# micro-revision.i first: tor's Makefile orders it before the tor binary's version.o only,
# not before the testing library's copy that the test programs link.
# shellcheck disable=SC2086 # one word per program
(cd "$SRC" && make micro-revision.i > "$WORK/build.log" 2>&1 &&
    nice make -j2 $PROGS >> "$WORK/build.log" 2>&1) || die "build failed, see $WORK/build.log"
for p in ${PROGS% *}; do  # test-process: the child that test-slow's process tests start
    case $(ldd "$SRC/$p") in *libevent-2.1.so.7*) ;; *) false ;; esac || die "$p does not link the shared libevent-2.1.so.7"
done

# 3. Run both sides and compare (tor_suite.py).
exec python3 "$HERE/tor_suite.py" --src "$SRC" --lib "$BUILD/lib" --work "$WORK" \
    --expected "$HERE/tor-suite-expected-failures.txt" "${ARGS[@]}"
