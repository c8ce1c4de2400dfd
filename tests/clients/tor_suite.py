#!/usr/bin/env python3
"""Runs tor's unit-test programs (built by tor_suite.sh) on the system libevent and on
reevent and compares them per test.  See tor_suite.sh for the options and the exit status.

src/test/test and src/test/test-slow are tinytest programs: run whole (every test forks),
they print "group/name: OK" (or SKIPPED / DISABLED) per test, and "[name FAILED]" after a
failing one.  A test that --list-tests names but the whole run does not report OK, SKIPPED
or DISABLED (it failed, or its output was interleaved with the test's own) is rerun alone
(`test group/name`, tinytest's exact-name selection) --reruns times; it fails on that side
when a rerun fails too, and is flaky when every rerun passes.  test_workqueue (with the
arguments of tor's six test_workqueue_*.sh scripts) and test-timers are one test each.
"""

import argparse
import os
import re
import subprocess
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--src", required=True)
ap.add_argument("--lib", required=True)
ap.add_argument("--work", required=True)
ap.add_argument("--expected", required=True)
ap.add_argument("--sides", default="libevent reevent")
ap.add_argument("--backends", default="epoll")
ap.add_argument("--programs", default="test slow workqueue timers")
ap.add_argument("--cases", default="")
ap.add_argument("--reruns", type=int, default=3)
ap.add_argument("--timeout", type=int, default=3600)
ap.add_argument("--sanitize", default="auto")
ap.add_argument("--stall", type=int, default=180)
args = ap.parse_args()

SRC = os.path.abspath(args.src)
LIB = os.path.abspath(args.lib)
OUT = os.path.join(args.work, "results")
os.makedirs(OUT, exist_ok=True)

WORKQUEUE_VARIANTS = {  # tor's src/test/test_workqueue_*.sh
    "cancel": ["-C", "1"],
    "efd": ["--no-eventfd2", "--no-pipe2", "--no-pipe", "--no-socketpair"],
    "efd2": ["--no-eventfd", "--no-pipe2", "--no-pipe", "--no-socketpair"],
    "pipe": ["--no-eventfd2", "--no-eventfd", "--no-pipe2", "--no-socketpair"],
    "pipe2": ["--no-eventfd2", "--no-eventfd", "--no-pipe", "--no-socketpair"],
    "socketpair": ["--no-eventfd2", "--no-eventfd", "--no-pipe2", "--no-pipe"],
}


def sanitizer_env():
    """The reevent side's LD_PRELOAD and options when --lib is a sanitizer build: tor's test
    programs are not instrumented, so gcc's runtimes must be loaded first."""
    san = args.sanitize
    if san == "auto":
        san = ""
        cache = os.path.join(os.path.dirname(LIB), "CMakeCache.txt")
        if os.path.exists(cache):
            for line in open(cache):
                m = re.match(r"REEVENT_SANITIZE:\w+=(.*)", line.strip())
                if m:
                    san = m.group(1)
    san = "" if san == "none" else san
    env, pre = {}, []
    parts = san.split(",") if san else []
    for part, rt in (("address", "libasan.so"), ("undefined", "libubsan.so"),
                     ("thread", "libtsan.so")):
        if part in parts:
            path = subprocess.run(["gcc", "-print-file-name=" + rt], capture_output=True,
                                  text=True).stdout.strip()
            if not os.path.isabs(path) or not os.path.exists(path):
                sys.exit("[tor-suite] error: gcc has no %s" % rt)
            pre.append(os.path.realpath(path))
    if "address" in parts:  # tor's own exit-time leaks are not ours
        env["ASAN_OPTIONS"] = "detect_leaks=0:halt_on_error=1:abort_on_error=0"
    if "undefined" in parts:
        env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    if "thread" in parts:
        env["TSAN_OPTIONS"] = "halt_on_error=0"
    if pre:
        env["LD_PRELOAD"] = ":".join(pre)
    return env


SAN_ENV = sanitizer_env()
SAN_HITS = []
SAN_REPORT = re.compile(r"AddressSanitizer|LeakSanitizer|ThreadSanitizer|runtime error:")


def log(msg):
    print("[tor-suite] " + msg, file=sys.stderr, flush=True)


BACKEND_ENV = {  # tor's only base honours the environment (no EVENT_BASE_FLAG_IGNORE_ENV)
    "epoll": {},  # with the changelist: tor sets EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST
    "epoll-precise": {"EVENT_PRECISE_TIMER": "1"},  # timerfd
    "poll": {"EVENT_NOEPOLL": "1"},
    "select": {"EVENT_NOEPOLL": "1", "EVENT_NOPOLL": "1"},
}


def side_env(cfg):
    """cfg is SIDE or SIDE/BACKEND."""
    side, _, backend = cfg.partition("/")
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    for k in ("EVENT_NOEPOLL", "EVENT_NOPOLL", "EVENT_NOSELECT", "EVENT_PRECISE_TIMER",
              "EVENT_EPOLL_USE_CHANGELIST", "EVENT_SHOW_METHOD"):
        env.pop(k, None)
    env.update(BACKEND_ENV[backend or "epoll"])
    if side == "reevent":
        env["LD_LIBRARY_PATH"] = LIB
        env.update(SAN_ENV)
    else:
        env.pop("LD_LIBRARY_PATH", None)
    return env


def check_ldd(side, prog):
    out = subprocess.run(["ldd", prog], env=side_env(side), capture_output=True,
                         text=True).stdout
    libs = {}
    for line in out.splitlines():
        m = re.match(r"\s*(libevent\S*\.so\.\S+) => (\S+)", line)
        if m:
            libs[m.group(1)] = os.path.realpath(m.group(2))
    if "libevent-2.1.so.7" not in libs:
        sys.exit("[tor-suite] error: %s does not link libevent-2.1.so.7" % prog)
    for name, path in libs.items():
        ours = path.startswith(os.path.realpath(LIB) + os.sep)
        if ours != side.startswith("reevent"):
            sys.exit("[tor-suite] error: on %s, %s of %s resolves to %s" % (side, name, prog, path))
    return libs


def children(pid):
    kids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read()
            except OSError:
                continue
            if int(st.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(d))
    return kids


def run(cmd, side, logname, timeout):
    t0 = time.time()
    path = os.path.join(OUT, logname.replace("/", "-"))
    with open(path, "wb") as f:
        p = subprocess.Popen(cmd, env=side_env(side), stdout=f, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, cwd=SRC)
        size, last = -1, time.time()
        while p.poll() is None:
            time.sleep(0.5)
            now = time.time()
            if now - t0 > timeout:
                p.kill()
                p.wait()
                break
            cur = os.path.getsize(path)
            if cur != size:
                size, last = cur, now
            elif now - last > args.stall:
                # tinytest has no per-test timeout: a test that hangs (its forked child)
                # is killed, tinytest reports it failed ("[Lost connection!]") and goes on.
                kids = children(p.pid)
                log("no output for %d s from %s on %s: killing %s" % (
                    args.stall, logname, side, kids or [p.pid]))
                for k in kids or [p.pid]:
                    try:
                        os.kill(k, 9)
                    except OSError:
                        pass
                last = now
        rc = p.returncode if p.returncode is not None else "timeout"
    with open(path, "rb") as f:
        text = f.read().decode(errors="replace")
    if SAN_REPORT.search(text):
        SAN_HITS.append("%s (%s)" % (logname, side))
        log("sanitizer report in %s" % path)
    return rc, text, time.time() - t0


def tinytest_names(prog):
    out = subprocess.run([prog, "--list-tests"], capture_output=True, text=True,
                         cwd=SRC).stdout
    names = []
    for line in out.splitlines():
        m = re.match(r"    (\S+)(\s+\((Off by default|DISABLED)\))?$", line)
        if m:
            names.append((m.group(1), m.group(3)))
    return names


def selected(name):
    if not args.cases:
        return True
    for c in args.cases.split():
        if c.endswith(".."):
            if name.startswith(c[:-2]):
                return True
        elif name == c:
            return True
    return False


def run_tinytest(side, key, prog):
    """{test name: "ok" | "skip" | "fail" | "flaky"} and timing for one side."""
    names = [n for n, flag in tinytest_names(prog) if flag is None and selected(n)]
    cmd = [prog] + ([c for c in args.cases.split()] if args.cases else [])
    rc, text, secs = run(cmd, side, "%s-%s.log" % (key, side), args.timeout)
    m = re.search(r"(\d+) tests ok\.\s+\((\d+) skipped\)", text) or \
        re.search(r"(\d+)/(\d+) TESTS FAILED\. \((\d+) skipped\)", text)
    log("%s on %s: whole run rc=%s in %.0f s: %s" % (key, side, rc, secs,
                                                   m.group(0) if m else "no summary line"))
    seen = {}
    for line in text.splitlines():
        m = re.match(r"(\S+): (?:\[forking\] )?(OK|SKIPPED|DISABLED)\s*$", line)
        if m:
            seen[m.group(1)] = "ok" if m.group(2) == "OK" else "skip"
    result = {}
    for n in names:
        if n in seen:
            result[n] = seen[n]
            continue
        fails = 0
        safe = n.replace("/", "_")
        for i in range(args.reruns):
            rrc, rtext, _ = run([prog, n], side, "%s-%s-%s-%d.log" % (key, side, safe, i), 300)
            if rrc == 0 and re.search(r"\b0 tests ok\.\s+\(1 skipped\)", rtext):
                break
            if rrc != 0 or not re.search(r"\b1 tests ok\.", rtext):
                fails += 1
        else:
            result[n] = "fail" if fails else "flaky"
            log("  %s on %s: failed in the whole run, %d of %d reruns failed"
                % (n, side, fails, args.reruns))
            continue
        result[n] = "skip"
    return result, secs


def run_single(side, key, cmd, timeout):
    rc, text, secs = run(cmd, side, "%s-%s.log" % (key, side), timeout)
    if rc == 0:
        return "ok", secs
    fails = 1
    for i in range(args.reruns):
        rrc, _, _ = run(cmd, side, "%s-%s-%d.log" % (key, side, i), timeout)
        fails += rrc != 0
    log("  %s on %s: rc=%s, %d of %d runs failed" % (key, side, rc, fails, args.reruns + 1))
    return ("fail" if fails > 1 else "flaky"), secs


def expected_failures():
    """{side or side/backend: set of tests}; "both" means libevent and reevent."""
    exp = {"libevent": set(), "reevent": set()}
    with open(args.expected) as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if len(line) >= 2:
                sides = ["libevent", "reevent"] if line[0] == "both" else [line[0]]
                for s in sides:
                    exp.setdefault(s, set()).add(line[1])
    return exp


def main():
    backends = args.backends.split()
    for b in backends:
        if b not in BACKEND_ENV:
            sys.exit("[tor-suite] error: unknown backend %s" % b)
    # One configuration per side and backend: "libevent", "reevent" (epoll) or
    # "libevent/poll", ...; each is compared with the other side's of the same backend.
    sides = [s + ("" if b == "epoll" else "/" + b) for b in backends for s in args.sides.split()]
    results = {s: {} for s in sides}
    timing = {s: {} for s in sides}
    progs = args.programs.split()
    for side in sides:
        for key in progs:
            if key in ("test", "slow"):
                prog = os.path.join(SRC, "src/test/test" if key == "test" else "src/test/test-slow")
                check_ldd(side, prog)
                res, secs = run_tinytest(side, key, prog)
                results[side].update(res)
                timing[side][key] = secs
            elif key == "workqueue":
                prog = os.path.join(SRC, "src/test/test_workqueue")
                check_ldd(side, prog)
                for v, vargs in WORKQUEUE_VARIANTS.items():
                    r, secs = run_single(side, "workqueue-" + v, [prog] + vargs, 300)
                    results[side]["test_workqueue/" + v] = r
                    timing[side]["workqueue-" + v] = secs
            elif key == "timers":
                prog = os.path.join(SRC, "src/test/test-timers")
                check_ldd(side, prog)
                r, secs = run_single(side, "timers", [prog], 300)
                results[side]["test-timers"] = r
                timing[side]["timers"] = secs
            else:
                sys.exit("[tor-suite] error: unknown program %s" % key)

    exp = expected_failures()
    bad = []
    lines = []
    for side in sides:
        r = results[side]
        counts = {k: sum(1 for v in r.values() if v == k) for k in ("ok", "skip", "fail", "flaky")}
        lines.append("%s: %d ok, %d failed, %d flaky, %d skipped (%s)" % (
            side, counts["ok"], counts["fail"], counts["flaky"], counts["skip"],
            ", ".join("%s %.0f s" % (k, v) for k, v in timing[side].items()
                      if not k.startswith("workqueue-")) or "-"))
        for name in sorted(r):
            if r[name] == "fail":
                listed = exp[side.partition("/")[0]] | exp.get(side, set())
                tag = "expected" if name in listed else "UNEXPECTED"
                other = [s for s in sides if s != side and s.partition("/")[2] == side.partition("/")[2]]
                also = " (%s: %s)" % (other[0], results[other[0]].get(name, "-")) if other else ""
                lines.append("  %s failure on %s: %s%s" % (tag, side, name, also))
                if tag == "UNEXPECTED":
                    bad.append((side, name))
            elif r[name] == "flaky":
                lines.append("  flaky on %s: %s (failed once, passed when rerun)" % (side, name))
        for name in sorted(exp[side.partition("/")[0]] | exp.get(side, set())):
            if name in r and r[name] in ("ok", "flaky"):
                lines.append("  listed as failing on %s but passes now: %s" % (side, name))
    for b in backends:
        re_, le = [s + ("" if b == "epoll" else "/" + b) for s in ("reevent", "libevent")]
        if re_ not in results or le not in results:
            continue
        diff = [n for n in sorted(results[re_])
                if results[re_][n] != results[le].get(n)
                and {results[re_][n], results[le].get(n)} != {"ok", "flaky"}]
        lines.append("%s: tests whose outcome differs between the sides: %d" % (b, len(diff)))
        for n in diff:
            lines.append("  %s: libevent %s, reevent %s" % (n, results[le].get(n, "-"),
                                                           results[re_][n]))
    if SAN_ENV:
        lines.append("reevent side under %s: %d log(s) with a sanitizer report%s" % (
            SAN_ENV.get("LD_PRELOAD"), len(SAN_HITS), "".join("\n  " + h for h in SAN_HITS)))
    report = "\n".join(lines)
    print(report)
    with open(os.path.join(args.work, "report.txt"), "w") as f:
        f.write(report + "\n")
    print("%d passed, %d failed" % (
        sum(1 for s in sides for v in results[s].values() if v in ("ok", "flaky")),
        sum(1 for s in sides for v in results[s].values() if v == "fail")))
    return 1 if bad or SAN_HITS else 0


sys.exit(main())
