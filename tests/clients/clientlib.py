"""Shared machinery of the end-to-end client tests: which libevent a real Debian program runs
on (ldd and /proc/PID/maps), whether it can start at all on reevent (BIND_NOW: every import
must be exported, else the test is SKIPPED with the list), private ports and temp dirs, and
process cleanup that survives daemonizing programs (every process we start carries a unique
environment tag, so /proc finds them even after they fork and setsid)."""

import argparse
import atexit
import errno
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "abi"))
import elfsyms  # noqa: E402

SKIP = 77  # ctest SKIP_RETURN_CODE
TAG_VAR = "REEVENT_CLIENT_TEST_TAG"


def log(msg):
    print("[%7.3f] %s" % (time.monotonic() - _T0, msg), flush=True)


_T0 = time.monotonic()


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def parse_args(extra=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--side", choices=["libevent", "reevent"], required=True)
    ap.add_argument("--lib-dir", required=True, help="directory of our libevent_core")
    ap.add_argument("--sanitize", default="", help="REEVENT_SANITIZE of the build")
    ap.add_argument("--results", default="", help="file to append measured numbers to")
    if extra:
        extra(ap)
    return ap.parse_args()


class Env:
    """Environment for running a Debian program on one side, plus its bookkeeping."""

    def __init__(self, args, name):
        self.side = args.side
        self.name = name
        self.lib_dir = os.path.realpath(args.lib_dir)
        self.tag = "%s-%s-%s" % (name, args.side, uuid.uuid4().hex[:12])
        self.tmp = tempfile.mkdtemp(prefix="reev-%s-" % name[:8], dir="/tmp")
        self.procs = []
        self.cleanups = []  # extra undo steps (e.g. network namespaces), run after the kills
        self.sanitize = args.sanitize
        self.results = args.results
        # Test-built stand-ins for libraries reevent does not provide (see build_stub_library):
        # preloaded, or searched after our lib dir, on the reevent side only.
        self.preload = []
        self.extra_lib_dirs = []
        atexit.register(self.cleanup)
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(s, self._on_signal)

    def _on_signal(self, signum, frame):
        log("got signal %d, cleaning up" % signum)
        self.cleanup()
        os._exit(128 + signum)

    def env(self, on_reevent=None):
        """Environment for a program; on_reevent defaults to this test's side."""
        if on_reevent is None:
            on_reevent = self.side == "reevent"
        e = dict(os.environ)
        for k in ("LD_LIBRARY_PATH", "LD_PRELOAD", "TMUX"):
            e.pop(k, None)
        e[TAG_VAR] = self.tag
        if on_reevent:
            e["LD_LIBRARY_PATH"] = ":".join([self.lib_dir] + self.extra_lib_dirs)
            pre = sanitizer_preload(self.sanitize)
            if pre:
                # An uninstrumented program loading instrumented libraries needs the
                # sanitizer runtime first in the initial library list.
                e["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=1:verify_asan_link_order=0"
            if pre or self.preload:
                e["LD_PRELOAD"] = " ".join(pre + self.preload)
        return e

    def free_port(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        return port

    def spawn(self, argv, on_reevent=None, **kw):
        """Start a program in its own session (so its whole group can be killed)."""
        p = subprocess.Popen(argv, env=self.env(on_reevent), start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def run(self, argv, timeout=20, on_reevent=None, check_rc=True, **kw):
        r = subprocess.run(argv, env=self.env(on_reevent), capture_output=True, text=True,
                           timeout=timeout, **kw)
        if check_rc and r.returncode != 0:
            raise TestFailure("%s exited %d: %s%s" % (" ".join(argv), r.returncode,
                                                      r.stdout[-2000:], r.stderr[-2000:]))
        return r

    def tagged_pids(self):
        """Pids of live processes carrying this test's tag (ours and their descendants)."""
        want = ("%s=%s" % (TAG_VAR, self.tag)).encode()
        pids = []
        for d in os.listdir("/proc"):
            if not d.isdigit() or int(d) == os.getpid():
                continue
            try:
                with open("/proc/%s/environ" % d, "rb") as f:
                    if want in f.read().split(b"\0"):
                        with open("/proc/%s/stat" % d) as st:
                            if st.read().rsplit(")", 1)[1].split()[0] == "Z":
                                continue  # a zombie is already dead
                        pids.append(int(d))
            except OSError:
                pass
        return pids

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        for pid in self.tagged_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        while self.cleanups:
            try:
                self.cleanups.pop()()
            except Exception as ex:  # noqa: BLE001 - cleanup must go on
                print("cleanup step failed: %s" % ex, flush=True)
        subprocess.run(["rm", "-rf", self.tmp])
        self.procs = []

    def record(self, line):
        print(line, flush=True)
        if self.results:
            with open(self.results, "a") as f:
                f.write(line + "\n")


def session_pids(sid):
    """Live, non-zombie processes of session `sid`: for programs that rename themselves
    with setproctitle, which overwrites their environment and so the tag."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) == sid:
            pids.append(int(d))
    return pids


def stacks(pid):
    """Thread backtraces of a hung process (gdb, when installed), for the failure message."""
    if not os.path.exists("/usr/bin/gdb"):
        return "(gdb not installed: no backtrace)"
    try:
        r = subprocess.run(["gdb", "-p", str(pid), "-batch", "-ex", "thread apply all bt 15"],
                           capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "(gdb timed out)"
    lines = [l for l in r.stdout.splitlines() if l.startswith(("#", "Thread"))]
    return "\n".join(lines[:80])


def sanitizer_preload(sanitize):
    libs = []
    for s, lib in (("address", "libasan.so"), ("undefined", "libubsan.so"),
                   ("thread", "libtsan.so")):
        if s in (sanitize or ""):
            p = subprocess.run(["gcc", "-print-file-name=" + lib], capture_output=True,
                               text=True).stdout.strip()
            if os.path.isabs(p) and os.path.exists(p):
                libs.append(os.path.realpath(p))
    return libs


def libevent_resolution(env, program):
    """{soname: resolved path} of the libevent libraries `ldd program` reports."""
    r = subprocess.run(["ldd", program], env=env, capture_output=True, text=True, timeout=20)
    res = {}
    for line in r.stdout.splitlines():
        f = line.split()
        if f and f[0].startswith("libevent") and len(f) >= 3 and f[1] == "=>":
            res[f[0]] = f[2]
    return res


def verify_ldd(e, program, allow=()):
    """The libevent sonames of `program` must resolve to our build (reevent side) or to the
    system (libevent side). `allow`: directories of test-built stubs that also count as ours."""
    res = libevent_resolution(e.env(), program)
    check(res, "ldd %s shows no libevent library" % program)
    for soname, path in sorted(res.items()):
        real = os.path.realpath(path) if path != "not" else "not found"
        ours = os.path.dirname(real) in (e.lib_dir,) + tuple(os.path.realpath(a) for a in allow)
        log("ldd: %s => %s (%s)" % (soname, real, "reevent" if ours else "system"))
        if e.side == "reevent":
            check(ours, "%s resolves to %s, not to our build %s" % (soname, real, e.lib_dir))
        else:
            check(not ours and os.path.exists(real), "%s does not resolve to the system "
                  "libevent: %s" % (soname, real))


def verify_mapped(e, pid, what, allow=()):
    """The running process must have our (or the system) libevent_core mapped. `allow`:
    directories of test-built stub libraries (reevent side) that may be mapped too."""
    with open("/proc/%d/maps" % pid) as f:
        maps = [l.split()[-1] for l in f if "libevent" in l]
    allowed = tuple(os.path.realpath(a) for a in allow)
    maps = [m for m in maps if os.path.dirname(os.path.realpath(m)) not in allowed]
    ours = [m for m in maps if os.path.dirname(os.path.realpath(m)) == e.lib_dir]
    if e.side == "reevent":
        check(ours, "%s (pid %d) does not map reevent's libraries: %s" % (what, pid, sorted(set(maps))))
        others = [m for m in maps if m not in ours]
        check(not others, "%s (pid %d) also maps another libevent: %s" % (what, pid, others))
    else:
        check(maps and not ours, "%s (pid %d) does not run on the system libevent: %s"
              % (what, pid, sorted(set(maps))))
    log("%s (pid %d) runs on %s" % (what, pid, sorted(set(os.path.realpath(m) for m in maps))))


def missing_imports(e, program):
    """libevent names `program` imports that our libraries do not export."""
    _, undef = elfsyms.dyn_symbols(program)
    census = elfsyms.Census()
    wanted = undef & census.all_names()
    have = elfsyms.all_our_exports(e.lib_dir)
    return sorted(wanted - set(have)), len(wanted)


def skip_unless_installed(*paths_and_packages):
    """Skips the test (exit 77) unless every file is there; each is given as (path, Debian
    package that installs it)."""
    for path, package in paths_and_packages:
        if not os.path.exists(path):
            print("SKIP: %s is not installed (package %s, see tests/ci-packages.txt)"
                  % (path, package), flush=True)
            sys.exit(SKIP)


def skip_unless_importable(e, program):
    """On reevent, a BIND_NOW program whose imports are not all exported cannot start: the
    test is skipped (exit 77) and says what is missing. On libevent never skipped."""
    if e.side != "reevent":
        return
    miss, n = missing_imports(e, program)
    if miss:
        print("SKIP: %s imports %d libevent symbol(s); %d of them reevent does not export "
              "yet: %s" % (os.path.basename(program), n, len(miss), " ".join(miss)), flush=True)
        sys.exit(SKIP)
    log("%s: all %d libevent imports are exported by reevent" % (os.path.basename(program), n))


def start(name, program, importable=None):
    """The usual start of a test: parses the command line, makes its Env and checks that
    `program` links libevent-2.1.so.7 from the side's directory and that `importable`
    (default: `program`) finds all its imports there (else skips the test)."""
    e = Env(parse_args(), name)
    verify_ldd(e, program)
    skip_unless_importable(e, importable or program)
    return e


def build_stub_library(e, path, names, soname=None, fake=None):
    """Builds a shared library at `path` defining each of `names` as a function that prints
    "reevent-test-stub: NAME called, not provided by reevent" to stderr and aborts, except
    the `fake` ones ({name: C expression returned as a long, or None for void}), which print
    "reevent-test-stub: NAME called (fake)" and return; `stub_handle` in an expression is the
    address of a zeroed static buffer (an opaque non-NULL handle). For a program that imports
    (BIND_NOW) or NEEDs something reevent does not provide (evdns, libevent_openssl) but that
    the test does not exercise: the stub lets it start on our libraries, and a call of an
    aborting stub fails the test loudly. Contains no libevent code."""
    fake = fake or {}
    src = ["#include <stdio.h>", "#include <stdlib.h>", "static char stub_handle[4096];"]
    for n in names:
        if n in fake and fake[n] is None:
            src.append('void %s(void) { fputs("reevent-test-stub: %s called (fake)\\n", '
                       'stderr); }' % (n, n))
        elif n in fake:
            src.append('long %s(void) { fputs("reevent-test-stub: %s called (fake)\\n", '
                       'stderr); return (long)(%s); }' % (n, n, fake[n]))
        else:
            src.append('void %s(void) { fputs("reevent-test-stub: %s called, not provided '
                       'by reevent\\n", stderr); abort(); }' % (n, n))
    c = path + ".c"
    with open(c, "w") as f:
        f.write("\n".join(src) + "\n")
    argv = [os.environ.get("CC", "cc"), "-shared", "-fPIC", "-O1", "-o", path, c]
    if soname:
        argv.insert(1, "-Wl,-soname," + soname)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "building stub %s failed: %s" % (path, r.stderr[-2000:]))
    return path


def stub_missing_evdns(e, program, fake):
    """On reevent, lets `program` start on a build without evdns: the evdns_* names it
    imports that the build does not export come from a stub library (build_stub_library;
    the `fake` ones that exist in the program's imports return, the others abort), preloaded.
    Any other missing import skips the test (exit 77). On libevent, or when the build
    exports everything, does nothing."""
    if e.side != "reevent":
        return
    name = os.path.basename(program)
    miss, n = missing_imports(e, program)
    other = [m for m in miss if not m.startswith("evdns_")]
    if other:
        print("SKIP: %s imports %d libevent symbols; reevent does not export %s"
              % (name, n, " ".join(other)), flush=True)
        sys.exit(SKIP)
    if not miss:
        log("%s imports %d libevent names, all exported by reevent: no stub" % (name, n))
        return
    stub = build_stub_library(e, os.path.join(e.tmp, "stub-evdns.so"), miss,
                              fake={k: v for k, v in fake.items() if k in miss})
    e.preload.append(stub)
    log("%s imports %d libevent names; the %d evdns_* ones this build lacks come from the "
        "test's stub (%s)" % (name, n, len(miss), " ".join(miss)))


def wait_for(pred, timeout, what):
    """Polls pred() every 50 ms until it returns something true (returned) or `timeout`
    seconds pass (TestFailure naming `what`)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise TestFailure("timed out (%g s) waiting for %s" % (timeout, what))


def read_text(path):
    """The file's text ("" when it cannot be read yet)."""
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


FAILURE_LOGS = []  # files whose tail is printed when a test fails (program stderr, logs)


def serve(lsock, handler):
    """Accepts on the listening socket lsock in a daemon thread until it is closed, and runs
    handler(conn) for each connection in a daemon thread of its own."""
    def loop():
        while True:
            try:
                c, _ = lsock.accept()
            except OSError:
                return
            threading.Thread(target=handler, args=(c,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()


class ShortRead(EOFError, OSError):
    """The peer closed before the bytes a protocol step needs had arrived (both an EOFError
    and an OSError, so either kind of handler sees it)."""


def udp_tcp_pair(host="127.0.0.1", backlog=32, attempts=5):
    """A UDP socket and a listening TCP socket on the same port of `host` (as a DNS server
    has): (udp, tcp, port). The kernel chooses the UDP port; when that port is taken for TCP
    (EADDRINUSE), both are closed and another pair is tried, `attempts` times at most."""
    for attempt in range(attempts):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind((host, 0))
        port = udp.getsockname()[1]
        tcp = socket.socket()
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind((host, port))
        except OSError as ex:
            udp.close()
            tcp.close()
            if ex.errno != errno.EADDRINUSE or attempt == attempts - 1:
                raise
            log("TCP port %d is taken, another UDP+TCP pair (attempt %d)" % (port, attempt + 2))
            continue
        tcp.listen(backlog)
        return udp, tcp, port


def recv_exact(s, n):
    """Exactly n bytes from socket s; ShortRead if it reaches EOF first."""
    out = b""
    while len(out) < n:
        c = s.recv(n - len(out))
        if not c:
            raise ShortRead("EOF after %d of %d bytes" % (len(out), n))
        out += c
    return out


def recv_all(s):
    """Everything socket s sends, up to its EOF."""
    out = b""
    while True:
        c = s.recv(4096)
        if not c:
            return out
        out += c


def show_on_failure(path):
    FAILURE_LOGS.append(path)
    return path


def _print_failure_logs():
    for path in FAILURE_LOGS:
        try:
            with open(path, errors="replace") as f:
                text = f.read()
        except OSError:
            continue
        lines = text.splitlines()
        # A sanitizer report matters more than the end of the file: show it from its start.
        first = next((i for i, l in enumerate(lines)
                      if "ERROR: AddressSanitizer" in l or "runtime error:" in l
                      or "ERROR: LeakSanitizer" in l), None)
        if first is not None:
            print("---- sanitizer report in %s ----\n%s" % (os.path.basename(path),
                                                          "\n".join(lines[first:first + 60])))
        elif text.strip():
            print("---- last lines of %s ----\n%s" % (os.path.basename(path),
                                                     "\n".join(lines[-40:])))


def main_wrapper(fn):
    """Run a test body; TestFailure -> exit 1 with the message; always clean up."""
    try:
        fn()
    except TestFailure as ex:
        _print_failure_logs()
        print("FAIL: %s" % ex, flush=True)
        sys.exit(1)
    except subprocess.TimeoutExpired as ex:
        _print_failure_logs()
        print("FAIL: timed out: %s" % ex, flush=True)
        sys.exit(1)
    except (OSError, ValueError, struct_error_types()) as ex:
        import traceback
        traceback.print_exc()
        _print_failure_logs()
        print("FAIL: %s: %s" % (type(ex).__name__, ex), flush=True)
        sys.exit(1)
    print("PASS", flush=True)


def struct_error_types():
    import struct
    return struct.error
