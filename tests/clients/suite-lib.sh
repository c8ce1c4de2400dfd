# shellcheck shell=bash disable=SC2034
# Shared by the scripts that build a real program's own test suite from Debian's source and
# run it on reevent and on the system libevent (tests/libevent-regress/run.sh,
# tests/clients/tor_suite.sh, tmux_suite.sh, unbound_suite.sh, memcached-suite/run.sh).
# Sourced, not run.

# suite_dirs NAME: log/die with NAME as prefix; BUILD (the reevent build tree, default
# REPO/build/release) made absolute, REEVENT_LIB its lib/, WORK (default BUILD/NAME) made
# and absolute. Needs REPO, BUILD and WORK set (BUILD and WORK may be empty).
suite_dirs() {
    SUITE_NAME=$1
    BUILD=${BUILD:-$REPO/build/release}
    BUILD=$(cd "$BUILD" && pwd) || { echo "no build dir $BUILD" >&2; exit 2; }
    REEVENT_LIB=$BUILD/lib
    WORK=${WORK:-$BUILD/$SUITE_NAME}
    mkdir -p "$WORK"
    WORK=$(cd "$WORK" && pwd)
}
log() { echo "[$SUITE_NAME] $*" >&2; }
die() { log "error: $*"; exit 2; }

# suite_fetch NAME SHA256: WORK/dl/NAME with that checksum, from POOL (e.g. t/tor) on the
# Debian mirrors (MIRRORS, default the main archive and the security archive) unless cached.
suite_fetch() {
    local name=$1 sum=$2 dest=$WORK/dl/$1 m
    local mirrors=${MIRRORS:-"http://deb.debian.org/debian/pool/main http://security.debian.org/debian-security/pool/updates/main"}
    mkdir -p "$WORK/dl"
    if [ -e "$dest" ] && echo "$sum  $dest" | sha256sum -c --status; then return 0; fi
    for m in $mirrors; do
        log "fetching $m/$POOL/$name"
        if curl -fsSL --max-time 600 -o "$dest.part" "$m/$POOL/$name" 2>/dev/null &&
           echo "$sum  $dest.part" | sha256sum -c --status; then
            mv "$dest.part" "$dest"; return 0
        fi
        rm -f "$dest.part"
    done
    die "could not fetch $name with sha256 $sum (to run offline, put it in $WORK/dl/)"
}

# suite_install_missing PKG...: as root with apt-get, installs those of the Debian packages
# that are not installed (a build's dependencies); otherwise does nothing (the build then
# says what is missing).
suite_install_missing() {
    [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null || return 0
    local p missing=
    for p in "$@"; do
        dpkg -s "$p" > /dev/null 2>&1 || missing="$missing $p"
    done
    # shellcheck disable=SC2086 # one word per package
    [ -z "$missing" ] || { log "installing$missing"; apt-get install -y -q $missing > /dev/null; }
}

# backend_env BACKEND: the environment (VAR=value words) that makes libevent and reevent
# pick that backend: epoll, changelist (or epoll-changelist), poll, select.
backend_env() {
    case $1 in
        epoll) echo "" ;;
        changelist|epoll-changelist) echo "EVENT_EPOLL_USE_CHANGELIST=1" ;;
        poll) echo "EVENT_NOEPOLL=1" ;;
        select) echo "EVENT_NOEPOLL=1 EVENT_NOPOLL=1" ;;
        *) die "unknown backend $1" ;;
    esac
}
