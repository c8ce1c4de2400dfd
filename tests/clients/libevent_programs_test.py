#!/usr/bin/env python3
"""libevent 2.1.12's own test and sample programs, built from its source, as clients of the
library.

Nothing of libevent is kept in this repository: the test downloads Debian's libevent
2.1.12-stable source tarball (once; cached in the build tree, so later runs need no network;
its sha256 is pinned below), takes from it the programs of test/ and sample/ that use only
the public API, and builds them with util-internal.h from tests/clients/libevent_programs/
(our stand-in for the three private helpers some of them use: a weak random generator and a
non-blocking pipe; each is a static function there, so the binaries import only public
names). Not built: the evhttp/evdns/openssl samples and benchmarks, and the regress suite.

Sides, as for every client test:
  libevent  each program built on the system headers (/usr/include) and libraries, run on the
            system libevent: this proves the checks below;
  reevent   each program built twice and run on reevent:
              src  on our headers (include/) and libraries (-L, rpath): source compatibility
                   (the compiler's dependency list must show no /usr/include/event2 header);
              bin  the system-headers binary above, run on our libevent-2.1.so.7 through
                   LD_LIBRARY_PATH: binary compatibility (ldd must resolve into our build);
            and the output of every run is compared, after normalising timing numbers,
            pointers and run-dependent counts, with what the same binary prints on the
            system libevent in the same test (for the programs whose output is not all
            timing; the timing ones get checks of their own, proven by the libevent side).

Every run happens on each backend: epoll, epoll with EVENT_EPOLL_USE_CHANGELIST, poll
(EVENT_NOEPOLL), select (EVENT_NOEPOLL + EVENT_NOPOLL), with EVENT_SHOW_METHOD=1: every
"libevent using:" line must name that backend. Runs go in parallel (most of them sleep),
each bounded by a timeout and killed with its process group; hello-world binds the fixed
port 9995, so each of its runs gets a network namespace of its own (unshare --net, lo up;
the test's connections are made in it through setns); without namespaces (not root) they
use the host's port one at a time, under a lock file.

The programs and what is checked (exit status always):
  test-init          event_init() and nothing else: exit 0, no output.
  test-eof           a socketpair's read end with data then EOF (event_set/event_dispatch):
                     "read 12", then "read 0 - means EOF".
  test-weof          writing into a socketpair whose peer closes: "write 12", then "write -1".
  test-closed        EV_CLOSED with EV_FEATURE_EARLY_CLOSE required: detected on epoll and
                     poll (POLLRDHUP); with select no base can be made (the program then
                     exits 0 silently).
  test-time          20000 timers re-added and deleted at random from their callbacks (a
                     fixed seed): dispatch returns 1 with every timer gone, called >= 20000.
  test-changelist    a persistent write event deleted, re-added and deleted again from its
                     own callback: called once; the 1.5 s loop uses < 25% CPU (no busy loop).
  test-dumpevents    event_base_dump_events: the inserted (non-internal) and active events
                     it lists are the ones the program made, with timeouts T+1 and T+2.5
                     in wall-clock time (common-timeout queues included).
  test-fdleak        2000 bufferevent echo round trips through an evconnlistener under an
                     fd limit of 20: no fd may leak.
  test-ratelim       30 connections through bufferevent rate limits for 4 s, as libevent
                     checks them: group limit, per-connection limit, both, both with a group
                     drain; the program's own bandwidth and stddev tolerances must hold.
  bench -l           the version and the list of methods.
  bench, bench_cascade  small runs: 25 timings each; bench's loop-iteration and byte counts
                     (Xcount/Rcount on stderr) as on libevent.
  hello-world        three connections each get "Hello, World!" then EOF; SIGINT makes it
                     exit 2 s later (a loopexit with a delay), printing "done".
  signal-test        three SIGINTs, each answered before the next is sent; the third
                     callback deletes the event and the loop ends.
  time-test [-p]     a 2 s timer, re-added from its callback or persistent: two callbacks,
                     each about 2 s after the last.
  event-read-fifo    a FIFO: a line written and the writer closed gives "Read: <line>" then
                     "Connection closed" and exit 0; SIGINT alone ends the loop and the FIFO
                     is removed.
"""

import concurrent.futures
import ctypes
import fcntl
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (recv_all, Env, check, log, main_wrapper, parse_args, libevent_resolution,  # noqa
                       TestFailure)

HERE = os.path.dirname(os.path.abspath(__file__))
TARBALL = "libevent_2.1.12-stable.orig.tar.gz"
URL = "http://deb.debian.org/debian/pool/main/libe/libevent/" + TARBALL
SHA256 = "92e6de1be9ec176428fd2367677e61ceffc2ee1cb119035037a27d346b0403bb"
TOPDIR = "libevent-2.1.12-stable"
SHIM = os.path.join(HERE, "libevent_programs", "util-internal.h")

# program: (source in the tarball, extra link arguments)
PROGRAMS = {
    "test-init": ("test/test-init.c", []),
    "test-eof": ("test/test-eof.c", []),
    "test-weof": ("test/test-weof.c", []),
    "test-closed": ("test/test-closed.c", []),
    "test-time": ("test/test-time.c", []),
    "test-changelist": ("test/test-changelist.c", []),
    "test-dumpevents": ("test/test-dumpevents.c", []),
    "test-fdleak": ("test/test-fdleak.c", []),
    "test-ratelim": ("test/test-ratelim.c", ["-lm"]),
    "bench": ("test/bench.c", []),
    "bench_cascade": ("test/bench_cascade.c", []),
    "hello-world": ("sample/hello-world.c", []),
    "signal-test": ("sample/signal-test.c", []),
    "time-test": ("sample/time-test.c", []),
    "event-read-fifo": ("sample/event-read-fifo.c", []),
}

# (label, method name the base reports, environment)
BACKENDS = [
    ("epoll", "epoll", {}),
    ("epoll-changelist", "epoll (with changelist)", {"EVENT_EPOLL_USE_CHANGELIST": "1"}),
    ("poll", "poll", {"EVENT_NOEPOLL": "1"}),
    ("select", "select", {"EVENT_NOEPOLL": "1", "EVENT_NOPOLL": "1"}),
]
BACKEND_VARS = ("EVENT_NOEPOLL", "EVENT_NOPOLL", "EVENT_NOSELECT", "EVENT_EPOLL_USE_CHANGELIST",
                "EVENT_PRECISE_TIMER", "EVENT_SHOW_METHOD", "EVENT_DEBUG_MODE",
                "EVENT_DEBUG_LOGGING_ALL")
WORKERS = 8
HELLO_PORT = 9995
SEED = "20261206"


# ---------------------------------------------------------------- fetching and building

def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def fetch_tarball(cache_dir):
    """The pinned tarball: from the cache, else downloaded into it (atomically)."""
    path = os.path.join(cache_dir, TARBALL)
    if os.path.exists(path):
        if sha256_of(path) == SHA256:
            log("source: cached %s" % path)
            return path
        log("source: cached %s has the wrong sha256, fetching it again" % path)
        os.unlink(path)
    os.makedirs(cache_dir, exist_ok=True)
    part = "%s.%d.part" % (path, os.getpid())
    try:
        log("source: downloading %s" % URL)
        with urllib.request.urlopen(URL, timeout=60) as r, open(part, "wb") as f:
            shutil.copyfileobj(r, f)
    except (urllib.error.URLError, OSError) as ex:
        if os.path.exists(part):
            os.unlink(part)
        raise TestFailure("libevent's source is not cached at %s and cannot be downloaded "
                          "from %s (%s); to run offline, put %s (sha256 %s) there"
                          % (path, URL, ex, TARBALL, SHA256))
    got = sha256_of(part)
    if got != SHA256:
        os.unlink(part)
        raise TestFailure("%s has sha256 %s, want %s" % (URL, got, SHA256))
    os.replace(part, path)
    return path


def unpack(tarball, dest):
    """The chosen sources into dest/{test,sample}/ and our util-internal.h into dest/, so
    that both `#include "../util-internal.h"` and `#include "util-internal.h"` (with -I dest)
    find ours, never libevent's."""
    want = {TOPDIR + "/" + src: src for src, _ in PROGRAMS.values()}
    with tarfile.open(tarball) as t:
        for m in t.getmembers():
            if m.name in want and m.isfile():
                out = os.path.join(dest, want.pop(m.name))
                os.makedirs(os.path.dirname(out), exist_ok=True)
                with t.extractfile(m) as r, open(out, "wb") as w:
                    shutil.copyfileobj(r, w)
    check(not want, "not in %s: %s" % (tarball, sorted(want)))
    shutil.copy(SHIM, os.path.join(dest, "util-internal.h"))


def build(e, src_dir, out_dir, flavour, include_dir, sanitize):
    """Compiles every program; flavour "sys" on the system headers and libraries, "ours" on
    our include/ and -L lib_dir (with an rpath). Returns {program: binary}."""
    cc = os.environ.get("CC") or "cc"
    os.makedirs(out_dir, exist_ok=True)

    def one(name):
        src, libs = PROGRAMS[name]
        exe = os.path.join(out_dir, name)
        deps = exe + ".d"
        cmd = [cc, "-O1", "-g", "-w", "-MD", "-MF", deps, "-I" + src_dir]
        if flavour == "ours":
            cmd += ["-I" + include_dir]
            if sanitize:
                cmd += ["-fsanitize=" + sanitize]
        cmd += ["-o", exe, os.path.join(src_dir, src)]
        if flavour == "ours":
            cmd += ["-L" + e.lib_dir, "-Wl,-rpath," + e.lib_dir]
        cmd += ["-levent"] + libs
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise TestFailure("building %s (%s) failed:\n%s\n%s" % (name, flavour, " ".join(cmd),
                                                                    r.stderr[-3000:]))
        with open(deps) as f:
            headers = f.read().replace("\\\n", " ").split()
        libevent_headers = [h for h in headers if "/event2/" in h or h.endswith(
            ("/event.h", "/evutil.h"))]
        if flavour == "ours":
            foreign = [h for h in libevent_headers
                       if not os.path.realpath(h).startswith(os.path.realpath(include_dir) + "/")]
        else:
            foreign = [h for h in libevent_headers if not os.path.realpath(h).startswith("/usr/")]
        check(libevent_headers and not foreign,
              "%s (%s) was compiled with libevent headers from the wrong place: %s"
              % (name, flavour, foreign or "none at all"))
        return name, exe

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        return dict(pool.map(one, sorted(PROGRAMS)))


# ---------------------------------------------------------------- running

class Proc:
    """A program started in its own session; its stdout and stderr are collected by
    threads, so a test can wait for a line while it runs."""

    def __init__(self, e, argv, env, cwd):
        self.argv = argv
        self.p = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  start_new_session=True)
        e.procs.append(self.p)
        self.cv = threading.Condition()
        self.chunks = {"out": [], "err": []}
        self.readers = [threading.Thread(target=self._read, args=(s, k), daemon=True)
                        for s, k in ((self.p.stdout, "out"), (self.p.stderr, "err"))]
        for t in self.readers:
            t.start()

    def _read(self, stream, key):
        while True:
            b = stream.read1(65536)
            with self.cv:
                if b:
                    self.chunks[key].append(b)
                self.cv.notify_all()
            if not b:
                return

    def text(self, key):
        with self.cv:
            return b"".join(self.chunks[key]).decode(errors="replace")

    def wait_for(self, what, pred, timeout=15):
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                if pred():
                    return
                left = deadline - time.monotonic()
                if left <= 0 or self.p.poll() is not None:
                    break
                self.cv.wait(min(left, 0.05))
        if pred():
            return
        raise TestFailure("%s: %s (exit status %s); stdout %r, stderr %r"
                          % (" ".join(self.argv[-3:]), what if self.p.poll() is not None
                             else "timed out waiting for " + what, self.p.poll(),
                             self.text("out")[-800:], self.text("err")[-800:]))

    def kill(self):
        try:
            os.killpg(self.p.pid, signal.SIGKILL)
        except OSError:
            pass

    def finish(self, timeout):
        try:
            self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.p.wait(timeout=10)
            raise TestFailure("%s did not exit within %d s; stdout %r, stderr %r"
                              % (" ".join(self.argv), timeout, self.text("out")[-800:],
                                 self.text("err")[-800:]))
        for t in self.readers:
            t.join(10)
        return self.p.returncode, self.text("out"), self.text("err")


def sigmask(pid, field):
    """A signal set of /proc/PID/status (SigCgt, SigPnd, ShdPnd) as an int; 0 if gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1], 16)
    except OSError:
        pass
    return 0


def catches(pid, sig):
    """Whether process pid has a handler installed for sig."""
    return bool(sigmask(pid, "SigCgt") & (1 << (sig - 1)))


def pending(pid, sig):
    bit = 1 << (sig - 1)
    return bool((sigmask(pid, "SigPnd") | sigmask(pid, "ShdPnd")) & bit)


class Result:
    def __init__(self, rc, out, err, **extra):
        self.rc, self.out, self.err = rc, out, err
        self.extra = extra


def run_plain(proc, ctx):
    return Result(*proc.finish(ctx["timeout"]))


CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def netns_available():
    """Whether this process may give a program a network namespace of its own (root)."""
    try:
        return subprocess.run(["unshare", "--net", "true"], capture_output=True,
                              timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def in_private_netns(argv):
    """argv run in a new network namespace with lo up (same pid: unshare and sh exec).
    A sanitizer preload is given to the program only ($NETNS_PRELOAD), not to unshare, sh
    and ip (under libtsan they die at once)."""
    return ["unshare", "--net", "sh", "-c",
            'ip link set lo up || exit 1; '
            'if [ -n "$NETNS_PRELOAD" ]; then export LD_PRELOAD="$NETNS_PRELOAD"; fi; '
            'unset NETNS_PRELOAD; exec "$0" "$@"'] + argv


def netns_socket(pid):
    """A TCP socket in the network namespace of process pid: this thread enters it only to
    create the socket (namespaces are per thread), which stays there."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open("/proc/%d/ns/net" % pid, os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns into the namespace of %d" % pid)
        try:
            return socket.socket()
        finally:
            if _libc.setns(own, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(own)
        os.close(target)


def run_hello(proc, ctx):
    """Three connections, each answered with the greeting and EOF; then SIGINT. With
    ctx["netns"] the program has a network namespace of its own (port 9995 is fixed in it,
    so runs here, or of another test run on the machine, would collide on the host)."""
    pid = proc.p.pid
    if ctx["netns"]:
        host_ns = os.stat("/proc/self/ns/net").st_ino
        proc.wait_for("hello-world in its own network namespace",
                      lambda: os.stat("/proc/%d/ns/net" % pid).st_ino != host_ns)

    def attempt():
        try:
            s = netns_socket(pid) if ctx["netns"] else socket.socket()
            s.settimeout(5)
            with s:
                s.connect(("127.0.0.1", HELLO_PORT))
                return recv_all(s)
        except OSError:
            return None
    deadline = time.monotonic() + 15
    got = attempt()
    while got is None and proc.p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
        got = attempt()
    check(got is not None, "hello-world never accepted a connection on port %d; stderr %r"
          % (HELLO_PORT, proc.text("err")))
    answers = [got] + [attempt() for _ in range(2)]
    check(all(a == b"Hello, World!\n" for a in answers),
          "hello-world answered %r, want 'Hello, World!\\n' then EOF on each" % answers)
    t0 = time.monotonic()
    os.kill(proc.p.pid, signal.SIGINT)
    rc, out, err = proc.finish(ctx["timeout"])
    return Result(rc, out, err, exit_after=time.monotonic() - t0)


def run_signal_test(proc, ctx):
    """Three SIGINTs once the handler is installed (SigCgt: at event_add), each sent after
    the kernel delivered the previous one (no longer pending), so none is merged with the
    next. The loop may run the callback once per signal or once per batch with the count;
    either way three calls, and the third deletes the event (the loop then ends)."""
    pid = proc.p.pid
    proc.wait_for("the SIGINT handler", lambda: catches(pid, signal.SIGINT))
    for n in range(3):
        os.kill(pid, signal.SIGINT)
        proc.wait_for("SIGINT %d delivered" % (n + 1), lambda: not pending(pid, signal.SIGINT))
    return Result(*proc.finish(ctx["timeout"]))


def run_time_test(proc, ctx):
    lines = lambda: [l for l in proc.text("out").splitlines() if l.startswith("timeout_cb")]
    proc.wait_for("two timeout_cb lines", lambda: len(lines()) >= 2, timeout=15)
    proc.kill()
    rc, out, err = proc.finish(10)
    return Result(rc, out, err)


FIFO_LINE = "a line through the fifo"


def run_fifo(proc, ctx):
    # SIGINT goes at the first sight of the handler (SigCgt), which may be inside the
    # program's event_add: a signal the handler has caught must not be lost even then. This
    # is how the signal hub's install-before-publish race showed up (1 run in 224 under ASan;
    # fixed, see design-signals "Order inside watch"; tests/soak/signals.sh soaks it).
    fifo = os.path.join(ctx["cwd"], "event.fifo")
    proc.wait_for("event.fifo and the SIGINT handler",
                  lambda: os.path.exists(fifo) and catches(proc.p.pid, signal.SIGINT))
    if ctx["mode"] == "data":
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.write(fd, (FIFO_LINE + "\n").encode())
        os.close(fd)
    else:
        os.kill(proc.p.pid, signal.SIGINT)
    rc, out, err = proc.finish(ctx["timeout"])
    return Result(rc, out, err, fifo_left=os.path.exists(fifo))


# ---------------------------------------------------------------- checks

NUM = re.compile(r"-?\d+(\.\d+)?")
PTR = re.compile(r"0x[0-9a-fA-F]+|\(nil\)")


def lines_of(s):
    return s.splitlines()


def expect_out(want):
    def chk(r, b):
        check(r.rc == 0, "exit status %s, want 0" % r.rc)
        check(r.out == want, "stdout %r, want %r" % (r.out, want))
    return chk


def chk_closed(r, b):
    check(r.rc == 0, "exit status %s, want 0" % r.rc)
    want = "closed_cb: detected socket close with success\n" if b[0] != "select" else ""
    check(r.out == want, "stdout %r, want %r" % (r.out, want))


def chk_time(r, b):
    m = re.fullmatch(r"event_base_dispatch=(-?\d+), called=(\d+), EVENT=(\d+)\n", r.out)
    check(m, "stdout %r, want 'event_base_dispatch=1, called=N, EVENT=M'" % r.out)
    check(m.group(1) == "1" and int(m.group(2)) >= int(m.group(3)) and r.rc == 0,
          "dispatch returned %s after %s callbacks of %s timers, exit %s (want 1, at least "
          "one call per timer, 0)" % (m.group(1), m.group(2), m.group(3), r.rc))


def chk_changelist(r, b):
    check(r.rc == 0, "exit status %s, want 0" % r.rc)
    ls = lines_of(r.out)
    check(len(ls) == 3 and ls[0] == "write callback. should only see this once"
          and ls[1] == "timeout fired, time to end test",
          "stdout %r: want one write callback, then the timeout" % r.out)
    m = re.fullmatch(r"usec used=(\d+), usec passed=(\d+), cpu usage=([\d.]+)%", ls[2])
    check(m, "stdout line 3 %r" % ls[2])
    check(int(m.group(2)) >= 1400000, "the loop ran %s usec, want >= 1.5 s" % m.group(2))
    check(float(m.group(3)) < 25.0, "the loop used %s%% CPU over 1.5 s (want < 25%%: no busy "
          "loop)" % m.group(3))


def dump_sections(out):
    ls = lines_of(out)
    try:
        i_exp, i_act, i_recv = ls.index("Inserted:"), ls.index("Active:"), ls.index("======received")
        i_gins, i_gact = ls.index("Inserted events:"), ls.index("Active events:")
    except ValueError:
        raise TestFailure("test-dumpevents output lacks a section: %r" % out)
    check(i_exp < i_act < i_recv < i_gins < i_gact, "sections out of order: %r" % out)
    now = float(ls[i_exp - 1].split()[1])
    return (now, ls[i_exp + 1:i_act], ls[i_act + 1:i_recv], ls[i_gins + 1:i_gact],
            ls[i_gact + 1:])


def dump_canonical(out):
    """The dump the base printed, as comparable lines: internal events left out, absolute
    timeouts made relative to the printed Now (T+1, T+2.5), pointers named by their place in
    the program's expected list."""
    now, exp_ins, exp_act, got_ins, got_act = dump_sections(out)
    names = {}
    for l in exp_ins + exp_act:
        p = l.split()[0]
        names.setdefault(p, "ev%d" % len(names))

    def rel(m):
        d = float(m.group(1)) - now
        for want, label in ((1.0, "T+1"), (2.5, "T+2.5")):
            if abs(d - want) < 0.1:
                return "Timeout=" + label
        return "Timeout=T+%.3f?" % d

    def canon(l):
        l = re.sub(r"Timeout=(\d+\.\d+)", rel, l)
        return re.sub(r"0x[0-9a-fA-F]+", lambda m: names.get(m.group(0), "unknown"), l)
    return (sorted(canon(l) for l in exp_ins), sorted(canon(l) for l in exp_act),
            sorted(canon(l) for l in got_ins if "Internal" not in l),
            sorted(canon(l) for l in got_act))


def chk_dumpevents(r, b):
    check(r.rc == 0, "exit status %s, want 0" % r.rc)
    exp_ins, exp_act, got_ins, got_act = dump_canonical(r.out)
    check(got_ins == exp_ins, "inserted events dumped:\n  %s\nwant:\n  %s"
          % ("\n  ".join(got_ins), "\n  ".join(exp_ins)))
    check(got_act == exp_act, "active events dumped:\n  %s\nwant:\n  %s"
          % ("\n  ".join(got_act), "\n  ".join(exp_act)))


def norm_dumpevents(r):
    return repr(dump_canonical(r.out)) + "\n" + r.err


def chk_quiet_ok(r, b):
    check(r.rc == 0 and r.out == "" and r.err == "",
          "exit %s, stdout %r, stderr %r (want 0 and no output)" % (r.rc, r.out, r.err))


def chk_ratelim(r, b):
    check(r.rc == 0, "exit status %s (want 0); stderr %r; stdout tail %r"
          % (r.rc, r.err, r.out[-600:]))
    ls = lines_of(r.out)
    check(sum(1 for l in ls if re.fullmatch(r"\d+: [\d.]+ per second", l)) == 30,
          "not 30 per-connection lines: %r" % r.out[-1500:])
    check(any(l.startswith("   total: ") for l in ls) and any(l.startswith("  stddev: ")
                                                              for l in ls),
          "no total/stddev lines: %r" % r.out[-600:])
    received = float(re.search(r"   total: ([\d.]+)", r.out).group(1))
    check(received > 0, "nothing went through the connections: %r" % r.out[-600:])


def chk_bench_list(r, b):
    check(r.rc == 0, "exit status %s, want 0" % r.rc)
    want = "Using Libevent 2.1.12-stable. Available methods are:\n    epoll\n    poll\n    select\n"
    check(r.out == want, "stdout %r, want %r" % (r.out, want))


def chk_timings(r, b):
    check(r.rc == 0, "exit status %s, want 0; stderr %r" % (r.rc, r.err))
    ls = lines_of(r.out)
    check(len(ls) == 25 and all(re.fullmatch(r"\d+", l) for l in ls),
          "want 25 timings (usec), got %r" % r.out)
    # bench prints "Xcount: loop iterations, Rcount: bytes read" when they differ (they do:
    # one iteration runs every callback that is ready); the counts are compared with
    # libevent's by the reevent side.
    bad = [l for l in lines_of(r.err) if not re.fullmatch(r"Xcount: \d+, Rcount: \d+", l)]
    check(not bad, "stderr %r" % r.err)


def norm_timings(r):
    return "rc=%s\n%s--\n%s" % (r.rc, NUM.sub("N", r.out), r.err)


def chk_hello(r, b):
    check(r.rc == 0, "exit status %s, want 0; stderr %r" % (r.rc, r.err))
    want = "flushed answer\n" * 3 + \
        "Caught an interrupt signal; exiting cleanly in two seconds.\ndone\n"
    check(r.out == want, "stdout %r, want %r" % (r.out, want))
    check(1.8 <= r.extra["exit_after"] <= 6.0, "exited %.2f s after SIGINT, want about 2 s "
          "(event_base_loopexit with a 2 s delay)" % r.extra["exit_after"])


def chk_time_test(r, b):
    ls = [l for l in lines_of(r.out) if l.startswith("timeout_cb")]
    check(len(ls) >= 2, "stdout %r" % r.out)
    for l in ls[:2]:
        m = re.fullmatch(r"timeout_cb called at \d+: ([\d.]+) seconds elapsed\.", l)
        check(m, "line %r" % l)
        check(1.95 <= float(m.group(1)) <= 3.0, "callback %.3f s after the last one, want 2 s"
              % float(m.group(1)))


def chk_fifo_data(r, b):
    check(r.rc == 0, "exit status %s, want 0; stderr %r" % (r.rc, r.err))
    check(r.out == "Read: %s\n\n" % FIFO_LINE, "stdout %r" % r.out)
    ls = lines_of(PTR.sub("PTR", r.err))
    want = ["Write data to event.fifo",
            "fifo_read called with fd: 3, event: 2, arg: PTR",
            "fifo_read called with fd: 3, event: 2, arg: PTR",
            "Connection closed"]
    check(ls == want, "stderr %r, want %r" % (ls, want))
    check(not r.extra["fifo_left"], "event.fifo was not removed")


def chk_fifo_sigint(r, b):
    check(r.rc == 0 and r.out == "" and r.err == "Write data to event.fifo\n",
          "exit %s, stdout %r, stderr %r" % (r.rc, r.out, r.err))
    check(not r.extra["fifo_left"], "event.fifo was not removed")


def norm_generic(r):
    return "rc=%s\n%s--\n%s" % (r.rc, PTR.sub("PTR", r.out), PTR.sub("PTR", r.err))


def norm_time(r):
    return NUM.sub("N", norm_generic(r))


RATELIM = [
    ("group", ["-g", "30000", "-n", "30", "-t", "100", "--check-grouplimit", "1000",
               "--check-stddev", "100"]),
    ("conn", ["-c", "1000", "-n", "30", "-t", "100", "--check-connlimit", "50",
              "--check-stddev", "50"]),
    ("group+conn", ["-c", "1000", "-g", "30000", "-n", "30", "-t", "100", "--check-grouplimit",
                    "1000", "--check-connlimit", "50", "--check-stddev", "50"]),
    ("group+conn+drain", ["-c", "1000", "-g", "35000", "-n", "30", "-t", "100", "-G", "500",
                          "--check-grouplimit", "1000", "--check-connlimit", "50",
                          "--check-stddev", "50"]),
]
# libevent's CMake tests run 5 s. At 2 s the checks are fragile: the first tick's bucket,
# and one more group refill when setting up the 30 connections takes over 5 ms (the loopexit
# counts from after the setup, the group's ticks from before it; seen under ASan), are 5%
# of the run, at or past the 1000 B/s group and 50 B/s connection tolerances. At 4 s, 2.5%.
RATELIM_SECONDS = 4


class Case:
    def __init__(self, label, program, args=(), check=None, norm=norm_generic, compare=True,
                 run=run_plain, timeout=30, lane="pool", may_lack_base=False, mode=None):
        self.label, self.program, self.args = label, program, list(args)
        self.check, self.norm, self.compare, self.run = check, norm, compare, run
        self.timeout, self.lane, self.may_lack_base, self.mode = timeout, lane, may_lack_base, mode


CASES = [
    Case("test-init", "test-init", check=chk_quiet_ok),
    Case("test-eof", "test-eof", check=expect_out("read_cb: read 12\nread_cb: read 0 - means EOF\n")),
    Case("test-weof", "test-weof", check=expect_out("write_cb: write 12\nwrite_cb: write -1\n")),
    Case("test-closed", "test-closed", check=chk_closed, may_lack_base=True),
    Case("test-time", "test-time", check=chk_time, norm=norm_time),
    Case("test-changelist", "test-changelist", check=chk_changelist, norm=norm_time),
    Case("test-dumpevents", "test-dumpevents", check=chk_dumpevents, norm=norm_dumpevents),
    Case("test-fdleak", "test-fdleak", check=chk_quiet_ok, timeout=90),
    Case("bench -l", "bench", ["-l"], check=chk_bench_list, may_lack_base=True),
    Case("bench", "bench", ["-n", "64", "-a", "4", "-w", "256"], check=chk_timings,
         norm=norm_timings),
    Case("bench_cascade", "bench_cascade", ["-n", "64"], check=chk_timings, norm=norm_timings),
    Case("hello-world", "hello-world", check=chk_hello, run=run_hello, lane="port",
         compare=False),
    Case("signal-test", "signal-test", check=expect_out("signal_cb: got signal 2\n" * 3),
         run=run_signal_test),
    Case("time-test", "time-test", check=chk_time_test, run=run_time_test, compare=False),
    Case("time-test -p", "time-test", ["-p"], check=chk_time_test, run=run_time_test,
         compare=False),
    Case("event-read-fifo", "event-read-fifo", check=chk_fifo_data, run=run_fifo, mode="data"),
    Case("event-read-fifo SIGINT", "event-read-fifo", check=chk_fifo_sigint, run=run_fifo,
         mode="sigint"),
] + [Case("test-ratelim " + name, "test-ratelim", args + ["-d", str(RATELIM_SECONDS)],
          check=chk_ratelim, compare=False, timeout=RATELIM_SECONDS + 30)
     for name, args in RATELIM]


def split_method_lines(err, backend, case):
    """Takes the EVENT_SHOW_METHOD lines out of stderr; each must name the backend."""
    methods = re.findall(r"^\[msg\] libevent using: (.*)\n", err, re.M)
    rest = re.sub(r"^\[msg\] libevent using: .*\n", "", err, flags=re.M)
    wrong = [m for m in methods if m != backend[1]]
    check(not wrong, "the base chose %s, want %s" % (wrong, backend[1]))
    if not case.may_lack_base:
        check(methods, "no 'libevent using:' line on stderr (EVENT_SHOW_METHOD): no base? "
              "stderr %r" % err)
    return rest


def run_case(e, case, binaries, on_reevent, backend, tmp, netns):
    env = e.env(on_reevent)
    for k in BACKEND_VARS:
        env.pop(k, None)
    env.update(backend[2])
    env["EVENT_SHOW_METHOD"] = "1"
    env["LIBEVENT_PROGRAMS_SEED"] = SEED
    cwd = tmp
    os.makedirs(cwd, exist_ok=True)
    argv = [binaries[case.program]] + case.args
    if netns and case.lane == "port":
        argv = in_private_netns(argv)
        env["NETNS_PRELOAD"] = env.pop("LD_PRELOAD", "")
    proc = Proc(e, argv, env, cwd)
    try:
        r = case.run(proc, {"timeout": case.timeout, "cwd": cwd, "mode": case.mode,
                            "netns": netns and case.lane == "port"})
    finally:
        proc.kill()
    r.err = split_method_lines(r.err, backend, case)
    shutil.rmtree(tmp, ignore_errors=True)
    return r


def main():
    args = parse_args(lambda ap: (ap.add_argument("--include-dir", required=True),
                                  ap.add_argument("--cache-dir", required=True)))
    e = Env(args, "libevent_programs")
    t_start = time.monotonic()
    tarball = fetch_tarball(args.cache_dir)
    src = os.path.join(e.tmp, "src")
    unpack(tarball, src)
    sys_bins = build(e, src, os.path.join(e.tmp, "sys"), "sys", None, None)
    variants = []   # (label, binaries, on_reevent)
    if e.side == "libevent":
        variants.append(("libevent", sys_bins, False))
    else:
        our_bins = build(e, src, os.path.join(e.tmp, "ours"), "ours", args.include_dir,
                         args.sanitize)
        variants += [("reevent-src", our_bins, True), ("reevent-bin", sys_bins, True)]
    log("built %d programs in %.1f s" % (len(PROGRAMS), time.monotonic() - t_start))

    # ldd: where each binary's libevent comes from on each variant.
    for label, bins, on_reevent in variants:
        ldd_env = e.env(on_reevent)
        ldd_env.pop("LD_PRELOAD", None)  # a TSan binary under ldd with libtsan preloaded: no output
        for name, exe in sorted(bins.items()):
            res = libevent_resolution(ldd_env, exe)
            check(res, "ldd %s shows no libevent library" % exe)
            for soname, path in res.items():
                ours = os.path.dirname(os.path.realpath(path)) == e.lib_dir
                check(ours == on_reevent, "%s: %s (%s) resolves to %s" % (label, name, soname,
                                                                         path))
        log("ldd: the %s binaries resolve libevent to %s" % (label, "our build " + e.lib_dir
                                                             if on_reevent else "the system"))

    # Under TSan a signal is handed to the program's handler only at an intercepted call.
    # reevent's epoll waits in epoll_wait under TSan (libtsan has no epoll_pwait2 interceptor),
    # but a SIGINT to an idle loop was still lost now and then on every backend (seen once
    # on select and epoll-changelist after that change, signal-test: no exit in 30 s), so
    # those runs are left out under TSan; the ci and asan runs keep them.
    def skipped(case, b, on_reevent):
        return (on_reevent and "thread" in (args.sanitize or "")
                and case.label in ("signal-test", "event-read-fifo SIGINT", "hello-world"))

    jobs = []  # (variant label, case, backend, binaries, on_reevent)
    for label, bins, on_reevent in variants:
        for case in CASES:
            for b in BACKENDS:
                if skipped(case, b, on_reevent):
                    log("not run under TSan: %s %s on %s (SIGINT under libtsan)"
                        % (label, case.label, b[0]))
                    continue
                jobs.append((label, case, b, bins, on_reevent))
    if e.side == "reevent":
        for case in CASES:
            if case.compare:
                for b in BACKENDS:
                    jobs.append(("reference", case, b, sys_bins, False))

    netns = netns_available()
    results = {}
    failures = []
    lock = threading.Lock()
    port_lock = threading.Lock()

    def job(i, j):
        label, case, b, bins, on_reevent = j
        tmp = os.path.join(e.tmp, "run%d" % i)
        t0 = time.monotonic()
        try:
            if case.lane == "port" and not netns:
                with port_lock:
                    r = run_case(e, case, bins, on_reevent, b, tmp, netns)
            else:
                r = run_case(e, case, bins, on_reevent, b, tmp, netns)
            results[(label, case.label, b[0])] = r
            case.check(r, b)
            status = "ok"
        except (TestFailure, subprocess.TimeoutExpired, OSError) as ex:
            status = "FAIL"
            with lock:
                failures.append("%s %s on %s: %s" % (label, case.label, b[0], ex))
        with lock:
            log("%-4s %-11s %-30s %-16s %5.2f s" % (status, label, case.label, b[0],
                                                     time.monotonic() - t0))

    if netns:
        log("hello-world runs in network namespaces of its own")
    else:
        # No namespaces (not root): port 9995 on the host, one run at a time, and one test
        # run of the machine at a time (a lock file); it must be free.
        hello_lock = open("/tmp/reevent-libevent-programs-9995.lock", "w")
        fcntl.flock(hello_lock, fcntl.LOCK_EX)
        probe = socket.socket()
        try:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("0.0.0.0", HELLO_PORT))
        except OSError as ex:
            raise TestFailure("port %d, which hello-world binds, is in use here: %s"
                              % (HELLO_PORT, ex))
        finally:
            probe.close()

    t_runs = time.monotonic()
    # The longest first, so that the pool ends together.
    order = sorted(range(len(jobs)), key=lambda i: -(jobs[i][1].timeout
                                                    if jobs[i][1].program == "test-ratelim"
                                                    else 0))
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(lambda i: job(i, jobs[i]), order))
    log("%d runs in %.1f s" % (len(jobs), time.monotonic() - t_runs))

    # The reevent side: each run's output, normalised, against the same binary's on the
    # system libevent.
    if e.side == "reevent":
        for case in CASES:
            if not case.compare:
                continue
            for b in BACKENDS:
                ref = results.get(("reference", case.label, b[0]))
                if ref is None:
                    continue
                for label, _, _ in variants:
                    r = results.get((label, case.label, b[0]))
                    if r is not None and case.norm(r) != case.norm(ref):
                        failures.append("%s %s on %s: output differs from libevent's:\n"
                                        "--- libevent\n%s\n--- %s\n%s"
                                        % (label, case.label, b[0], case.norm(ref), label,
                                           case.norm(r)))
    e.record("libevent_programs (%s side): %d programs, %d runs on %d backends, %.1f s"
             % (e.side, len(PROGRAMS), len(jobs), len(BACKENDS), time.monotonic() - t_start))
    check(not failures, "%d of %d runs failed:\n%s" % (len(failures), len(jobs),
                                                      "\n".join(failures)))


if __name__ == "__main__":
    main_wrapper(main)
