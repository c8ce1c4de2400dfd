#!/usr/bin/env python3
"""Signal-delivery soak: many rounds of start -> wait until ready -> SIGINT -> expect exit 0
within a bound, per backend, for small libevent programs built against reevent or the system
libevent. Not part of CI (tests/soak/signals.sh is the command; see docs/parts/design-signals.md).

A round fails when the program does not exit within --timeout after the signal (a lost signal
or a hang: its /proc state, wchan and pending signals are printed), dies of a signal, or exits
non-zero. Readiness, as --ready says:
  sigcgt  spin on /proc/PID/status until SIGINT is caught (what the client test waits for:
          the earliest moment the handler exists, inside event_add);
  line    the program's "ready" line (after its last event_add, before dispatch).
Programs: tests/soak/sigsoak.c in modes plain/thread/churn/selfrace/racer (see its header;
a racer round is one process making 200 probes, and fails if any signal was lost), and
libevent's own sample/event-read-fifo.c when --sample-src gives its source (the client test's
cached tarball holds it)."""

import argparse
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BACKENDS = {
    "epoll": {},
    "epoll-changelist": {"EVENT_EPOLL_USE_CHANGELIST": "1"},
    "poll": {"EVENT_NOEPOLL": "1"},
    "select": {"EVENT_NOEPOLL": "1", "EVENT_NOPOLL": "1"},
}
RACER_N = 200  # probes per racer process
BACKEND_VARS = ("EVENT_NOEPOLL", "EVENT_NOPOLL", "EVENT_NOSELECT", "EVENT_EPOLL_USE_CHANGELIST",
                "EVENT_PRECISE_TIMER", "EVENT_SHOW_METHOD")


def status_field(pid, field):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return line.split(None, 1)[1].strip()
    except OSError:
        pass
    return None


def catches_sigint(pid):
    v = status_field(pid, "SigCgt")
    return v is not None and bool(int(v, 16) & (1 << (signal.SIGINT - 1)))


def diagnose(pid):
    """What a hung program is doing: state, wchan, signal masks of every thread."""
    out = []
    try:
        for tid in sorted(os.listdir("/proc/%d/task" % pid), key=int):
            base = "/proc/%d/task/%s" % (pid, tid)
            with open(base + "/wchan") as f:
                wchan = f.read().strip()
            fields = {}
            with open(base + "/status") as f:
                for line in f:
                    k, _, v = line.partition(":")
                    if k in ("State", "SigPnd", "ShdPnd", "SigBlk", "SigCgt"):
                        fields[k] = v.strip()
            out.append("tid %s wchan=%s %s" % (tid, wchan, " ".join(
                "%s=%s" % kv for kv in sorted(fields.items()))))
    except OSError as ex:
        out.append("(gone: %s)" % ex)
    return "; ".join(out)


def build(args, tmp):
    """The programs: {name: (binary, modes)} for the chosen library."""
    cc = os.environ.get("CC", "cc")
    if args.lib_dir:
        flags = ["-I" + args.include_dir, "-L" + args.lib_dir, "-Wl,-rpath," + args.lib_dir]
    else:
        flags = []
    if args.sanitize:
        flags.append("-fsanitize=" + args.sanitize)
    progs = {}
    exe = os.path.join(tmp, "sigsoak")
    subprocess.run([cc, "-O1", "-g", "-o", exe, os.path.join(HERE, "sigsoak.c")] + flags +
                   ["-levent", "-lpthread"], check=True)
    progs["sigsoak"] = exe
    if args.sample_src:
        exe = os.path.join(tmp, "event-read-fifo")
        subprocess.run([cc, "-O1", "-g", "-w", "-o", exe, args.sample_src] + flags +
                       ["-levent"], check=True)
        progs["event-read-fifo"] = exe
    return progs


def traced_child(pid, prog):
    """The program strace started (its child running prog; strace forks short-lived helpers
    of its own first), or None while there is none yet."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            kids = f.read().split()
    except OSError:
        return None
    for kid in kids:
        try:
            with open("/proc/%s/cmdline" % kid, "rb") as f:
                if f.read().split(b"\0")[0] == prog.encode():
                    return int(kid)
        except OSError:
            pass
    return None


def one_round(prog, mode, backend, ready, timeout, cwd, stretch=0):
    """None, or why the round failed. stretch: run the program under strace, which holds it
    for that many microseconds right after every rt_sigaction call returns (the moment a
    preemption on a loaded machine would freeze it), so that a signal sent at the first
    sight of the handler lands in whatever the library does next."""
    env = dict(os.environ)
    for k in BACKEND_VARS:
        env.pop(k, None)
    env.update(BACKENDS[backend])
    # libevent's sample never frees its events: LeakSanitizer would make every exit status 1.
    env["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=1"
    fifo = os.path.join(cwd, "event.fifo" if mode == "sample" else "sigsoak.fifo")
    argv = [prog] if mode == "sample" else [prog, mode, fifo]
    if mode == "racer":
        argv.append(str(RACER_N))
    if stretch:
        argv = ["strace", "-qq", "-o", "/dev/null", "-e", "trace=rt_sigaction", "-e",
                "inject=rt_sigaction:delay_exit=%d" % stretch] + argv
    p = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    pid = p.pid
    try:
        deadline = time.monotonic() + 30
        while stretch:
            pid = traced_child(p.pid, prog)
            if pid:
                break
            if p.poll() is not None or time.monotonic() > deadline:
                return "strace started no program (exit %s)" % p.poll()
        if mode in ("selfrace", "racer"):
            pass  # the program signals itself; it must simply exit
        elif ready == "line" and mode != "sample":
            r, _, _ = select.select([p.stdout], [], [], 30)
            line = p.stdout.readline() if r else b""
            if line != b"ready\n":
                return "no ready line (got %r, exit %s)" % (line, p.poll())
        else:
            while not catches_sigint(pid):
                if p.poll() is not None or time.monotonic() > deadline:
                    return "exited (%s) or never caught SIGINT" % p.poll()
        if mode not in ("selfrace", "racer"):
            os.kill(pid, signal.SIGINT)
        t0 = time.monotonic()
        try:
            rc = p.wait(timeout=timeout if mode != "racer" else timeout + RACER_N * 0.5)
        except subprocess.TimeoutExpired:
            why = "no exit %.1f s after %s: %s" % (
                timeout, "starting" if mode in ("selfrace", "racer") else "SIGINT", diagnose(pid))
            # Did it just need longer (an exit-time hang or a slow machine) or is it stuck?
            try:
                p.wait(timeout=10)
                why += "; exited %.1f s after the signal (rc %s)" % (time.monotonic() - t0,
                                                                     p.returncode)
            except subprocess.TimeoutExpired:
                why += "; still running 10 s later"
            return why
        if rc != 0:
            return "exit status %s%s" % (rc, (": " + p.stdout.read().decode(errors="replace")
                                              .strip()) if mode == "racer" else "")
        return None
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        if stretch and pid and pid != p.pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        p.stdout.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("rounds", type=int, help="rounds per (program, mode, backend)")
    ap.add_argument("--lib-dir", help="reevent's lib dir; without it the system libevent")
    ap.add_argument("--include-dir", default=os.path.join(HERE, "..", "..", "include"))
    ap.add_argument("--sanitize", help="e.g. address,undefined (the library's build must match)")
    ap.add_argument("--sample-src", help="libevent's sample/event-read-fifo.c")
    ap.add_argument("--modes", default="plain,thread,churn,selfrace,racer,sample")
    ap.add_argument("--backends", default=",".join(BACKENDS))
    ap.add_argument("--ready", default="sigcgt", choices=("sigcgt", "line"))
    ap.add_argument("--timeout", type=float, default=2.0)
    ap.add_argument("--jobs", type=int, default=2, help="rounds run at once")
    ap.add_argument("--load", type=int, default=1, help="busy-looping processes beside")
    ap.add_argument("--stretch-sigaction", type=int, default=0, metavar="USEC",
                    help="run each program under strace, held USEC after every rt_sigaction "
                         "(makes a signal-at-install race deterministic; try 100000)")
    ap.add_argument("--label", default="")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="sigsoak.")
    loaders = []
    try:
        progs = build(args, tmp)
        modes = [m for m in args.modes.split(",") if m != "sample" or "event-read-fifo" in progs]
        loaders = [subprocess.Popen(["sh", "-c", "while :; do :; done"])
                   for _ in range(args.load)]
        total_fail = 0
        label = args.label or ("reevent " + args.lib_dir if args.lib_dir else "libevent")
        for backend in args.backends.split(","):
            for mode in modes:
                prog = progs["event-read-fifo" if mode == "sample" else "sigsoak"]
                fails = []
                lock = threading.Lock()
                counter = iter(range(args.rounds))
                t0 = time.monotonic()

                def worker(w):
                    cwd = os.path.join(tmp, "w%d" % w)
                    os.makedirs(cwd, exist_ok=True)
                    while True:
                        with lock:
                            i = next(counter, None)
                        if i is None:
                            return
                        why = one_round(prog, mode, backend, args.ready, args.timeout, cwd,
                                        args.stretch_sigaction)
                        if why:
                            with lock:
                                fails.append("round %d: %s" % (i, why))
                threads = [threading.Thread(target=worker, args=(w,)) for w in range(args.jobs)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                total_fail += len(fails)
                print("%-30s %-17s %-9s ready=%-6s%s %6d rounds %4d failed  %6.1f s"
                      % (label, backend, mode, args.ready, " stretch=%dus"
                         % args.stretch_sigaction if args.stretch_sigaction else "",
                         args.rounds, len(fails),
                         time.monotonic() - t0), flush=True)
                for f in fails[:5]:
                    print("    " + f, flush=True)
        return 1 if total_fail else 0
    finally:
        for l in loaders:
            l.kill()
            l.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
