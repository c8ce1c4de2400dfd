#!/usr/bin/env bash
# tmux's own regress scripts (regress/*.sh of tmux 3.3a) driving one tmux 3.3a binary, built
# once from Debian bookworm's source against the system libevent, run unchanged on the system
# libevent and on reevent (LD_LIBRARY_PATH=BUILD_DIR/lib), compared per script and backend.
# Not part of CI: it downloads the source (once, sha256 pinned, cached) and each pass sleeps
# through the scripts' own `sleep 1`s.  See "tmux's own regress scripts" in
# docs/design-clients.md.
#
#   tests/clients/tmux_suite.sh [options] [BUILD_DIR]
#
# BUILD_DIR is a reevent build tree (default build/release); its lib/ holds the sonames
# (only libevent_core-2.1.so.7 is needed: tmux links nothing else of libevent).
# Options:
#   --work DIR        cache and build directory (default BUILD_DIR/tmux-suite): DIR/dl holds
#                     the download (put it there to run offline), DIR/tmux-3.3a the build
#   --regress DIR     the regress/ directory of tmux's git tag 3.3a.  Neither upstream's
#                     release tarball nor Debian's orig tarball ships regress/, so it comes
#                     from git: by default DIR/regress, else a `git clone --depth 1 --branch
#                     3.3a https://github.com/tmux/tmux` into DIR/tmux-git (needs network)
#   --backends "B..." epoll (default choice, no changelist), changelist
#                     (EVENT_EPOLL_USE_CHANGELIST=1), poll (EVENT_NOEPOLL=1), select
#                     (EVENT_NOEPOLL=1 EVENT_NOPOLL=1); default all four.  The same variables
#                     are set on both sides, and each backend is compared side against side.
#   --scripts "S..."  only these scripts (names without .sh); default every regress/*.sh
#   --reruns N        a script that fails is run again N times on that side (default 3)
#   --timeout SEC     per script run (default 120)
# Each run gets its own TMUX_TMPDIR, HOME and socket name (the scripts' -Ltest... names are
# rewritten to a per-run name in a copy of the script), so runs never share a server; runs
# are serial.  A script counts as failing on a side when it fails in the run and in at least
# one rerun, as flaky when every rerun passes.
# Exit status: 0 when every failing script is listed for its side in
# tmux-suite-expected-failures.txt, 1 otherwise (a reevent-only failure is a reevent bug),
# 2 on a setup error.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

WORK='' BUILD='' REGRESS='' BACKENDS="epoll changelist poll select" SCRIPTS='' RERUNS=3 TIMEOUT=120
while [ $# -gt 0 ]; do
    case "$1" in
        --work) WORK=$2; shift 2 ;;
        --regress) REGRESS=$2; shift 2 ;;
        --backends) BACKENDS=$2; shift 2 ;;
        --scripts) SCRIPTS=$2; shift 2 ;;
        --reruns) RERUNS=$2; shift 2 ;;
        --timeout) TIMEOUT=$2; shift 2 ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        -*) echo "unknown option $1" >&2; exit 2 ;;
        *) BUILD=$1; shift ;;
    esac
done
. "$REPO/tests/clients/suite-lib.sh"
suite_dirs tmux-suite
EXPECTED=$HERE/tmux-suite-expected-failures.txt


[ -e "$BUILD/lib/libevent_core-2.1.so.7" ] ||
    die "$BUILD/lib/libevent_core-2.1.so.7 missing (ninja -C $BUILD lib/libevent_core-2.1.so.7)"

# 1. The source: Debian bookworm's tmux 3.3a-3 orig tarball (checksum from its .dsc).
#    Debian's patches (debian.tar.xz) change packaging and defaults, nothing in the event loop.
VERSION=3.3a
ORIG=tmux_$VERSION.orig.tar.gz
ORIG_SHA256=e4fd347843bd0772c4f48d6dde625b0b109b7a380ff15db21e97c11a4dcdf93f
POOL=t/tmux
suite_fetch "$ORIG" "$ORIG_SHA256"

# 2. Build once against the system libevent (build deps: libevent-dev libncurses-dev, a
#    compiler, make, bison/yacc are not needed: cmd-parse.c is in the tarball).
SRC=$WORK/tmux-$VERSION
STAMP="$ORIG_SHA256 ./configure"
if [ "$(cat "$SRC/.reevent-configured" 2>/dev/null)" != "$STAMP" ]; then
    suite_install_missing libevent-dev libncurses-dev pkg-config make gcc
    rm -rf "$SRC"
    tar -xzf "$WORK/dl/$ORIG" -C "$WORK"
    log "configuring"
    (cd "$SRC" && ./configure > "$WORK/configure.log" 2>&1) || die "configure failed, see $WORK/configure.log"
    echo "$STAMP" > "$SRC/.reevent-configured"
fi
log "make (nice -j2)"
(cd "$SRC" && nice make -j2 > "$WORK/build.log" 2>&1) || die "build failed, see $WORK/build.log"
TMUXBIN=$SRC/tmux
core_of() { ldd "$TMUXBIN" | awk '/libevent_core-2\.1\.so\.7/ { print $3 }'; }
sys_core=$(core_of)
reev_core=$(LD_LIBRARY_PATH=$BUILD/lib core_of)
[ -n "$sys_core" ] || die "$TMUXBIN does not link libevent_core-2.1.so.7"
[ "$(readlink -f "$reev_core")" = "$(readlink -f "$BUILD/lib/libevent_core-2.1.so.7")" ] ||
    die "with LD_LIBRARY_PATH=$BUILD/lib, libevent_core resolves to $reev_core"
log "libevent side: $sys_core; reevent side: $reev_core"

# 3. The regress scripts.
if [ -z "$REGRESS" ]; then
    if [ -d "$WORK/regress" ]; then
        REGRESS=$WORK/regress
    else
        [ -d "$WORK/tmux-git/regress" ] ||
            git clone -q --depth 1 --branch "$VERSION" https://github.com/tmux/tmux "$WORK/tmux-git" ||
            die "no regress scripts: give --regress DIR (tmux's git tag $VERSION, regress/)"
        REGRESS=$WORK/tmux-git/regress
    fi
fi
REGRESS=$(cd "$REGRESS" && pwd) || die "no directory $REGRESS"
if [ -z "$SCRIPTS" ]; then
    SCRIPTS=$(cd "$REGRESS" && for f in *.sh; do echo "${f%.sh}"; done)
fi


RUNS=$WORK/runs
rm -rf "$RUNS"
mkdir -p "$RUNS"
n=0
# run_one SIDE BACKEND SCRIPT -> exit status of the script (124: timed out)
run_one() {
    local side=$1 backend=$2 script=$3 dir sock rc envs
    n=$((n + 1))
    dir=$RUNS/$n-$side-$backend-$script
    sock=reev$$x$n
    mkdir -p "$dir/tmp" "$dir/home"
    # the scripts' socket names (-Ltest, -Ltest2, -LtestA$$...) become per-run names
    sed "s/-Ltest/-L$sock/g" "$REGRESS/$script.sh" > "$dir/$script.sh"
    envs=$(backend_env "$backend")
    [ "$side" = reevent ] && envs="$envs LD_LIBRARY_PATH=$BUILD/lib"
    rc=0
    # shellcheck disable=SC2086 # envs is a list of assignments
    (cd "$REGRESS" && env -u TMUX $envs TMUX_TMPDIR="$dir/tmp" HOME="$dir/home" \
        TEST_TMUX="$TMUXBIN" timeout -k 5 "$TIMEOUT" sh "$dir/$script.sh" \
        > "$dir/out" 2>&1) || rc=$?
    # a server the script left behind (a failed script exits before its kill-server)
    for s in "$dir"/tmp/tmux-*/*; do
        # shellcheck disable=SC2086
        [ -S "$s" ] && env $envs TMUX_TMPDIR="$dir/tmp" "$TMUXBIN" -S "$s" kill-server 2>/dev/null
    done
    echo "$rc" > "$dir/rc"
    return "$rc"
}

declare -A RESULT
for backend in $BACKENDS; do
    for script in $SCRIPTS; do
        for side in libevent reevent; do
            res=pass
            if ! run_one "$side" "$backend" "$script"; then
                fails=1 passes=0
                for _ in $(seq "$RERUNS"); do
                    if run_one "$side" "$backend" "$script"; then passes=$((passes + 1)); else fails=$((fails + 1)); fi
                done
                if [ $passes = "$RERUNS" ]; then res=flaky; else res="FAIL($fails/$((RERUNS + 1)))"; fi
            fi
            RESULT[$side/$backend/$script]=$res
        done
        log "$backend $script: libevent ${RESULT[libevent/$backend/$script]}, reevent ${RESULT[reevent/$backend/$script]}"
    done
done

# 4. The table and the verdict.
expected() {  # expected SIDE BACKEND SCRIPT: listed in the expected-failures file?
    grep -v '^#' "$EXPECTED" 2>/dev/null | awk -v a="$1" -v b="$1/$2" -v s="$3" \
        '($1 == a || $1 == b || $1 == "both") && $2 == s { f = 1 } END { exit !f }'
}
status=0
printf '%-32s' "script"
for backend in $BACKENDS; do printf ' %-27s' "$backend (libevent/reevent)"; done
echo
for script in $SCRIPTS; do
    printf '%-32s' "$script"
    for backend in $BACKENDS; do
        l=${RESULT[libevent/$backend/$script]} r=${RESULT[reevent/$backend/$script]}
        printf ' %-27s' "$l/$r"
        for side in libevent reevent; do
            v=${RESULT[$side/$backend/$script]}
            case $v in FAIL*)
                if ! expected "$side" "$backend" "$script"; then
                    status=1
                    if [ "$side" = reevent ] && [ "$l" = pass ]; then
                        log "REEVENT-ONLY FAILURE: $script on $backend (logs: $RUNS/*-reevent-$backend-$script/out)"
                    else
                        log "unexpected failure on $side: $script on $backend"
                    fi
                fi ;;
            esac
        done
    done
    echo
done
exit $status
