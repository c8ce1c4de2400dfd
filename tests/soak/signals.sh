#!/bin/sh
# Signal-delivery soak (not part of CI): ROUNDS rounds of start -> ready -> SIGINT -> exit
# within 2 s, per backend (epoll, epoll-changelist, poll, select) and per program shape
# (tests/soak/sigsoak.c: plain, thread, churn, selfrace, racer; and libevent's own event-read-fifo
# sample when the client test's cached source tarball is in the build tree), on reevent from
# BUILD_DIR (its libevent; ASan/UBSan builds are detected and the programs built to match),
# then the same on the system libevent for comparison (skip with SIGSOAK_NO_LIBEVENT=1).
# One busy-looping process runs beside as load. Extra arguments go to signals.py (e.g.
# --ready line, --modes plain,sample, --backends poll, --jobs 4, --stretch-sigaction 100000 to
# hold each program 100 ms after every rt_sigaction under strace, which turns a race between
# the handler's install and the rest of event_add into a deterministic failure).
#
#   tests/soak/signals.sh ROUNDS [BUILD_DIR] [signals.py options]
#
# Exit status 0 only if every round passed. About 1 s per 40 release rounds on 2 cores
# (ASan: 1 s per 15).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
rounds=${1:?usage: signals.sh ROUNDS [BUILD_DIR] [signals.py options]}
shift
build=$top/build/ci
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  build=$1
  shift
fi
lib=$build/lib
if [ ! -e "$lib/libevent.so" ]; then
  echo "signals.sh: no $lib/libevent.so (build the event target of $build first)" >&2
  exit 2
fi
sanitize=$(sed -n 's/^REEVENT_SANITIZE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tarball=$(find "$build" -name 'libevent_2.1.12-stable.orig.tar.gz' 2>/dev/null | head -n 1)
if [ -n "$tarball" ] &&
   tar -xzf "$tarball" -C "$tmp" libevent-2.1.12-stable/sample/event-read-fifo.c 2>/dev/null; then
  set -- --sample-src "$tmp/libevent-2.1.12-stable/sample/event-read-fifo.c" "$@"
else
  echo "signals.sh: no cached libevent source in $build (run clients.*.libevent_programs" \
       "once); event-read-fifo left out" >&2
  set -- --modes plain,thread,churn,selfrace,racer "$@"
fi
status=0
python3 "$here/signals.py" "$rounds" --lib-dir "$lib" --include-dir "$top/include" \
  ${sanitize:+--sanitize "$sanitize"} --label "reevent${sanitize:+ ($sanitize)}" "$@" || status=1
if [ -z "${SIGSOAK_NO_LIBEVENT:-}" ]; then
  python3 "$here/signals.py" "$rounds" --label "libevent (system)" "$@" || status=1
fi
exit $status
