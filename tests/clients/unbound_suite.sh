#!/usr/bin/env bash
# unbound 1.17.1's own tests (Debian bookworm's source with Debian's patches, configured the
# way Debian's daemon build is, --with-libevent) built once against the system libevent, then
# run unchanged on the system libevent and on reevent (LD_LIBRARY_PATH=BUILD_DIR/lib),
# compared test by test.  Two parts:
#   unit  what `make test` runs: ./unittest, ./testbound -s and ./testbound -p on every
#         testdata/*.rpl (testbound replays its scripts through its own fake event layer,
#         so this part is run once per side, not per backend)
#   tdir  testdata/*.tdir run one by one with unbound's testcode/mini_tdir.sh, as `make
#         longtest` does: each starts real daemons (unbound, unbound-control, ldns-testns,
#         petal, dnstap collectors, ...) on random local ports with the libevent loop
# Not part of CI: it downloads the source (once, sha256 pinned, cached), the build takes
# ~8 minutes on two busy cores, a tdir pass over both sides 20-30 minutes per backend.
# See "unbound's own tests" in docs/design-clients.md.
#
#   tests/clients/unbound_suite.sh [options] [BUILD_DIR]
#
# BUILD_DIR is a reevent build tree (default build/release); its lib/ holds the sonames
# (unbound links libevent-2.1.so.7 only).
# Options:
#   --work DIR        cache and build directory (default BUILD_DIR/unbound-suite): DIR/dl
#                     holds the downloads (put them there to run offline)
#   --parts "P..."    unit and/or tdir (default both)
#   --backends "B..." for the tdir part: epoll (default choice), changelist
#                     (EVENT_EPOLL_USE_CHANGELIST=1), poll (EVENT_NOEPOLL=1), select
#                     (EVENT_NOEPOLL=1 EVENT_NOPOLL=1); default all four.  The same variables
#                     are set on both sides, and each backend is compared side against side.
#   --tests "T..."    only these tdir tests (names without .tdir); default every
#                     testdata/*.tdir except SKIPPED below
#   --reruns N        a test that fails is run again N times on that side (default 2)
#   --timeout SEC     per tdir test run (default 300)
# A test counts as failing on a side when it fails in the run and in at least one rerun, as
# flaky when every rerun passes.  A tdir test whose .pre exits 3 (a feature not compiled in,
# a tool missing) is "skip" and never a failure.
# Exit status: 0 when every failing test is listed for its side in
# unbound-suite-expected-failures.txt, 1 otherwise (a reevent-only failure is a reevent bug),
# 2 on a setup error.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

WORK='' BUILD='' PARTS="unit tdir" BACKENDS="epoll changelist poll select" TESTS='' RERUNS=2 TIMEOUT=300
while [ $# -gt 0 ]; do
    case "$1" in
        --work) WORK=$2; shift 2 ;;
        --parts) PARTS=$2; shift 2 ;;
        --backends) BACKENDS=$2; shift 2 ;;
        --tests) TESTS=$2; shift 2 ;;
        --reruns) RERUNS=$2; shift 2 ;;
        --timeout) TIMEOUT=$2; shift 2 ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        -*) echo "unknown option $1" >&2; exit 2 ;;
        *) BUILD=$1; shift ;;
    esac
done
. "$REPO/tests/clients/suite-lib.sh"
suite_dirs unbound-suite
EXPECTED=$HERE/unbound-suite-expected-failures.txt

[ -e "$BUILD/lib/libevent-2.1.so.7" ] ||
    die "$BUILD/lib/libevent-2.1.so.7 missing (ninja -C $BUILD event)"

# tdir tests not run: they need tools or access this suite does not give them.
#   00-lint 01-doc clang-analysis: splint, doxygen, clang's analyzer (no event loop)
#   02-unittest 03-testbound: the unit part runs the same programs
#   06-ianaports root_anchor root_hints: the internet (downloads; root_hints asks the real
#   root servers and compares their addresses with the compiled-in hints)
#   acl_interface proxy_protocol ipset: network namespaces / ipset, root, kernel modules
#   nss_compile: compiles unbound's sources against NSS (no event loop)
SKIPPED="00-lint 01-doc clang-analysis 02-unittest 03-testbound 06-ianaports root_anchor
root_hints acl_interface proxy_protocol ipset nss_compile"

# 1. The source: Debian bookworm's unbound 1.17.1-2+deb12u4 (checksums from its .dsc).
VERSION=1.17.1
DEBREV=1.17.1-2+deb12u4
ORIG=unbound_$VERSION.orig.tar.gz
ORIG_SHA256=ee4085cecce12584e600f3d814a28fa822dfaacec1f94c84bfd67f8a5571a5f4
DEB=unbound_$DEBREV.debian.tar.xz
DEB_SHA256=b756330de8dd715ac8305bf36be0b0cc93a11703d2c542b4a320dcf1e71b229a
POOL=u/unbound
suite_fetch "$ORIG" "$ORIG_SHA256"
suite_fetch "$DEB" "$DEB_SHA256"

# 2. Build once against the system libevent: Debian's patches (debian/patches/series:
#    security fixes, some touching testdata/), Debian's configure arguments for the daemon
#    build minus the python module and the pidfile/chroot paths.
SRC=$WORK/unbound-$VERSION
CONFIGURE="./configure --disable-rpath --with-libevent --enable-tfo-client --enable-tfo-server
 --enable-subnet --enable-dnstap --enable-systemd --with-libnghttp2 --with-chroot-dir=
 --with-pidfile=unbound.pid"
STAMP=$(echo "$ORIG_SHA256 $DEB_SHA256 $CONFIGURE" | tr '\n' ' ')
if [ "$(cat "$SRC/.reevent-configured" 2>/dev/null)" != "$STAMP" ]; then
    suite_install_missing libevent-dev libssl-dev libexpat1-dev libnghttp2-dev libfstrm-dev \
        libprotobuf-c-dev protobuf-c-compiler libsystemd-dev flex bison pkg-config make gcc \
        dnsutils ldnsutils netcat-openbsd xxd
    rm -rf "$SRC"
    tar -xzf "$WORK/dl/$ORIG" -C "$WORK"
    tar -xJf "$WORK/dl/$DEB" -C "$SRC"
    while read -r p; do
        case $p in ''|'#'*) continue ;; esac
        patch -d "$SRC" -p1 -s < "$SRC/debian/patches/$p" || die "patch $p does not apply"
    done < "$SRC/debian/patches/series"
    log "configuring"
    # shellcheck disable=SC2086 # one word per argument
    (cd "$SRC" && $CONFIGURE > "$WORK/configure.log" 2>&1) || die "configure failed, see $WORK/configure.log"
    grep -q '^#define USE_LIBEVENT 1' "$SRC/config.h" || die "configure did not take libevent"
    echo "$STAMP" > "$SRC/.reevent-configured"
fi
log "make tests (nice -j2; the first build is long)"
(cd "$SRC" && nice make -j2 tests > "$WORK/build.log" 2>&1) || die "build failed, see $WORK/build.log"
# the tools the tdir tests use (unbound's do-tests.sh skips tests when one is missing; here
# that would hide tests, so they must be there)
for t in dig ldns-testns nc xxd; do
    command -v $t > /dev/null || die "$t missing (packages dnsutils, ldnsutils, netcat-openbsd, xxd)"
done
ev_of() { ldd "$SRC/unbound" | awk '/libevent-2\.1\.so\.7/ { print $3 }'; }
sys_ev=$(ev_of)
reev_ev=$(LD_LIBRARY_PATH=$BUILD/lib ev_of)
[ -n "$sys_ev" ] || die "$SRC/unbound does not link libevent-2.1.so.7"
[ "$(readlink -f "$reev_ev")" = "$(readlink -f "$BUILD/lib/libevent-2.1.so.7")" ] ||
    die "with LD_LIBRARY_PATH=$BUILD/lib, libevent resolves to $reev_ev"
log "libevent side: $sys_ev; reevent side: $reev_ev"

side_env() {  # side_env SIDE BACKEND
    local envs
    envs=$(backend_env "$2")
    [ "$1" = reevent ] && envs="$envs LD_LIBRARY_PATH=$BUILD/lib"
    echo "$envs"
}

RUNS=$WORK/runs
rm -rf "$RUNS"
mkdir -p "$RUNS"
n=0
declare -A RESULT
ROWS=()

# 3. The unit part.
unit_one() {  # unit_one SIDE TEST -> exit status; TEST is unittest, testbound-s or an .rpl
    local side=$1 t=$2 envs rc=0 out
    n=$((n + 1))
    out=$RUNS/$n-$side-unit-$t.out
    envs=$(side_env "$side" epoll)
    # shellcheck disable=SC2086 # envs is a list of assignments
    case $t in
        unittest) (cd "$SRC" && env $envs timeout -k 5 600 ./unittest > "$out" 2>&1) || rc=$? ;;
        testbound-s) (cd "$SRC" && env $envs timeout -k 5 300 ./testbound -s > "$out" 2>&1) || rc=$? ;;
        *) (cd "$SRC" && env $envs timeout -k 5 300 ./testbound -p "testdata/$t" -o -vvvvv > "$out" 2>&1) || rc=$? ;;
    esac
    [ $rc = 0 ] && rm -f "$out"
    return $rc
}
run_with_reruns() {  # run_with_reruns FUNC SIDE ARGS... -> prints pass, flaky or FAIL(k/n)
    local f=$1 fails passes
    shift
    if "$f" "$@"; then echo pass; return; fi
    fails=1 passes=0
    for _ in $(seq "$RERUNS"); do
        if "$f" "$@"; then passes=$((passes + 1)); else fails=$((fails + 1)); fi
    done
    if [ $passes = "$RERUNS" ]; then echo flaky; else echo "FAIL($fails/$((RERUNS + 1)))"; fi
}
case " $PARTS " in *" unit "*)
    UNITS="unittest testbound-s $(cd "$SRC/testdata" && ls -- *.rpl)"
    for side in libevent reevent; do
        pass=0 other=0
        for t in $UNITS; do
            r=$(run_with_reruns unit_one "$side" "$t")
            RESULT[$side/unit/$t]=$r
            if [ "$r" = pass ]; then pass=$((pass + 1)); else other=$((other + 1)); log "unit $t on $side: $r"; fi
        done
        log "unit part on $side: $pass pass, $other not"
    done
    for t in $UNITS; do ROWS+=("unit $t"); done ;;
esac

# 4. The tdir part.
tdir_one() {  # tdir_one SIDE BACKEND TEST -> 0 pass, 1 fail, 3 skip
    local side=$1 backend=$2 t=$3 envs rc=0 dir
    n=$((n + 1))
    dir=$RUNS/$n-$side-$backend-$t
    mkdir -p "$dir"
    envs=$(side_env "$side" "$backend")
    (cd "$SRC/testdata" && rm -rf ".done-$t" ".skip-$t" "result.$t" "$t".[0-9]*)
    # shellcheck disable=SC2086 # envs is a list of assignments
    (cd "$SRC/testdata" && env -u NOTIFY_SOCKET $envs timeout -k 10 "$TIMEOUT" \
        sh ../testcode/mini_tdir.sh -a ../.. exe "$t.tdir" > "$dir/out" 2>&1) || rc=$?
    cp "$SRC/testdata/result.$t" "$dir/" 2>/dev/null || true
    if [ -e "$SRC/testdata/.skip-$t" ]; then rc=3
    elif [ -e "$SRC/testdata/.done-$t" ]; then rc=0
    else
        # a failed or timed-out test can leave its scratch copy (with daemon logs) behind
        for d in "$SRC/testdata/$t".[0-9]*; do [ -d "$d" ] && cp -r "$d" "$dir/" && rm -rf "$d"; done
        [ $rc = 0 ] && rc=1
    fi
    (cd "$SRC/testdata" && rm -rf ".done-$t" ".skip-$t" "result.$t")
    [ $rc = 0 ] || [ $rc = 3 ] || echo "$rc" > "$dir/rc"
    case $rc in 0) return 0 ;; 3) return 3 ;; *) return 1 ;; esac
}
tdir_result() {  # tdir_result SIDE BACKEND TEST -> prints pass, skip, flaky or FAIL(k/n)
    local rc=0
    tdir_one "$@" || rc=$?
    case $rc in 0) echo pass; return ;; 3) echo skip; return ;; esac
    local fails=1 passes=0
    for _ in $(seq "$RERUNS"); do
        rc=0; tdir_one "$@" || rc=$?
        if [ $rc = 0 ]; then passes=$((passes + 1)); else fails=$((fails + 1)); fi
    done
    if [ $passes = "$RERUNS" ]; then echo flaky; else echo "FAIL($fails/$((RERUNS + 1)))"; fi
}
case " $PARTS " in *" tdir "*)
    if [ -z "$TESTS" ]; then
        TESTS=$(cd "$SRC/testdata" && for d in *.tdir; do
            t=${d%.tdir}
            case " $(echo $SKIPPED) " in *" $t "*) ;; *) echo "$t" ;; esac
        done)
    fi
    for backend in $BACKENDS; do
        for t in $TESTS; do
            for side in libevent reevent; do
                RESULT[$side/$backend/$t]=$(tdir_result "$side" "$backend" "$t")
            done
            log "$backend $t: libevent ${RESULT[libevent/$backend/$t]}, reevent ${RESULT[reevent/$backend/$t]}"
        done
    done
    for t in $TESTS; do ROWS+=("tdir $t"); done ;;
esac

# 5. The table, the counts and the verdict.
expected() {  # expected SIDE BACKEND TEST: listed in the expected-failures file?
    grep -v '^#' "$EXPECTED" 2>/dev/null | awk -v a="$1" -v b="$1/$2" -v s="$3" \
        '($1 == a || $1 == b || $1 == "both") && $2 == s { f = 1 } END { exit !f }'
}
status=0
declare -A COUNT
for row in "${ROWS[@]}"; do
    part=${row%% *} t=${row#* }
    if [ "$part" = unit ]; then bks=unit; else bks=$BACKENDS; fi
    line=$(printf '%-40s' "$t")
    for backend in $bks; do
        l=${RESULT[libevent/$backend/$t]} r=${RESULT[reevent/$backend/$t]}
        line="$line $(printf '%-24s' "$backend $l/$r")"
        for side in libevent reevent; do
            v=${RESULT[$side/$backend/$t]}
            k=$side/$backend/${v%%(*}
            COUNT[$k]=$(( ${COUNT[$k]:-0} + 1 ))
            case $v in FAIL*)
                if ! expected "$side" "$backend" "$t"; then
                    status=1
                    if [ "$side" = reevent ] && [ "$l" = pass ]; then
                        log "REEVENT-ONLY FAILURE: $t on $backend (logs: $RUNS/*-reevent-$backend-$t*)"
                    else
                        log "unexpected failure on $side: $t on $backend"
                    fi
                fi ;;
            esac
        done
    done
    # print only the rows that are not a plain pass (or skip) everywhere
    case $line in *FAIL*|*flaky*) echo "$line" ;; esac
done
for backend in $(case " $PARTS " in *" unit "*) echo unit ;; esac) $(case " $PARTS " in *" tdir "*) echo "$BACKENDS" ;; esac); do
    for side in libevent reevent; do
        echo "$backend $side: pass ${COUNT[$side/$backend/pass]:-0}, skip ${COUNT[$side/$backend/skip]:-0}, flaky ${COUNT[$side/$backend/flaky]:-0}, FAIL ${COUNT[$side/$backend/FAIL]:-0}"
    done
done
exit $status
