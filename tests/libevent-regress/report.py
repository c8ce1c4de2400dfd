#!/usr/bin/env python3
"""Summarise a run of tests/libevent-regress/run.sh.

RESULTS_DIR/results: one line per case run, "side binary backend case attempt exit-status";
each run's output is in RESULTS_DIR/log/SIDE/BACKEND/CASE[.ATTEMPT].log (CASE with _ for /).
The verdict of a case on a backend is that of its last attempt (run.sh runs a failure that
is not expected again, up to twice); "report.py --rerun N ..." prints the runs to repeat.  A run
passed when tinytest's summary says "N tests ok" (a case tinytest retried and then passed
counts as passed); it failed on tinytest's "TESTS FAILED" or "[case FAILED]" lines without
that summary, on the timeout (TIMEOUT), or when it died without a summary (CRASH).  A run
whose log holds a sanitizer report (run.sh --sanitize: ASan, LSan, UBSan's "runtime error:",
TSan) failed (SANITIZER) whatever tinytest said; the report lists each such run with its
SUMMARY lines, marked "reevent" when a frame of the report is in REEVENT_SRC (run.sh sets it
to the build's src/), else "test" (the regress program's own code or libc).
expected-failures.txt: "case side kind reason...", side reevent|libevent|both,
kind fail (fails every time), flaky (timing; may fail, may pass) or pristine (fails every
time, but only with libevent's upstream tests: run.sh --pristine sets
LIBEVENT_REGRESS_FLAVOUR=pristine) or asan (fails every time, but only on a side that runs
with ASan's runtime preloaded: run.sh --sanitize address sets LIBEVENT_REGRESS_SANITIZE and
LIBEVENT_REGRESS_SAN_SIDES) or lsan (as asan, but only with run.sh --detect-leaks, which sets
LIBEVENT_REGRESS_LEAKS=1: LeakSanitizer's report at the case's exit).
"report.py --repeat RESULTS_DIR" summarises a run.sh --repeat N run instead: per case, side
and backend, how many of the N runs passed.
Prints a pass-count table per binary, side and backend, then every failing case,
marked as expected, flaky or NEW; exits 1 when a failure is not expected.
"""
import collections
import os
import re
import sys

GROUPS = {"regress": "main groups", "regress-x": "http+dns+ssl", "regress-r": "rpc"}
BACKENDS = ["epoll", "epoll-changelist", "poll", "select"]


def backends_of(seen):
    """The table's columns: the usual four, then any other backend run (e.g. epoll-debug)."""
    return BACKENDS + sorted(b for b in set(seen) if b not in BACKENDS)


def load_expected(path):
    exp = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 3)
            if len(parts) < 4 or parts[1] not in ("reevent", "libevent", "both") \
                    or parts[2] not in ("fail", "flaky", "pristine", "asan", "lsan"):
                sys.exit("%s:%d: want 'case side kind reason'" % (path, n))
            case, side, kind, reason = parts
            if kind == "pristine":
                # Fails with libevent's upstream tests only (run.sh --pristine).
                if os.environ.get("LIBEVENT_REGRESS_FLAVOUR") != "pristine":
                    continue
                kind = "fail"
            sides = ("reevent", "libevent") if side == "both" else (side,)
            if kind in ("asan", "lsan"):
                # Fails only where ASan's runtime is preloaded (run.sh --sanitize), lsan only
                # with LeakSanitizer on (run.sh --detect-leaks).
                if "address" not in os.environ.get("LIBEVENT_REGRESS_SANITIZE", ""):
                    continue
                if kind == "lsan" and os.environ.get("LIBEVENT_REGRESS_LEAKS") != "1":
                    continue
                preloaded = os.environ.get("LIBEVENT_REGRESS_SAN_SIDES", "reevent").split()
                sides = tuple(s for s in sides if s in preloaded)
                kind = "fail"
            for s in sides:
                exp[(case, s)] = (kind, reason)
    return exp


SANITIZER_RE = re.compile(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|"
                          r"WARNING: ThreadSanitizer")


def sanitizer_reports(log_path):
    """[(summary, ours)] of the sanitizer reports in a run's log."""
    try:
        with open(log_path, errors="replace") as f:
            out = f.read()
    except OSError:
        return []
    if not SANITIZER_RE.search(out):
        return []
    src = os.environ.get("REEVENT_SRC", "")
    ours = bool(src) and (src + "/") in out
    sums = re.findall(r"^SUMMARY: (.*)$", out, re.M)
    # An interceptor's summary names the runtime's file: name the first frame outside it.
    starts = [m.end() for m in re.finditer(r"ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer", out)]
    for i, pos in enumerate(starts[:len(sums)]):
        if "libsanitizer" not in sums[i]:
            continue
        for fr in re.finditer(r"^\s*#\d+ 0x[0-9a-f]+ in (.+) (\S+)$", out[pos:], re.M):
            if "libsanitizer" not in fr.group(2):
                sums[i] = "%s (first frame outside the runtime: %s %s)" % (
                    re.sub(r" \S*libsanitizer\S*", "", sums[i]), fr.group(1), fr.group(2))
                break
    if not sums:  # a UBSan "runtime error:" line without a summary
        sums = [m.strip() for m in re.findall(r"^(.*runtime error:.*)$", out, re.M)[:1]]
    if src:
        sums = [x.replace(src + "/", "src/") for x in sums]
    return [(x, ours) for x in sums] or [("(no SUMMARY line)", ours)]


def classify(log_path, rc):
    try:
        with open(log_path, errors="replace") as f:
            out = f.read()
    except OSError:
        return "CRASH"
    if SANITIZER_RE.search(out):
        return "SANITIZER"
    if rc in (124, 137):
        return "TIMEOUT"
    if re.search(r"TESTS FAILED", out):
        return "FAIL"
    if re.search(r"^[0-9]+ tests ok\.", out, re.M) and rc == 0:
        return "OK"
    if re.search(r"^  \[\S+ FAILED\]$", out, re.M):
        return "FAIL"
    return "CRASH"


def repeat_summary(results_dir):
    """run.sh --repeat N: per case, side and backend, how many of the N runs passed."""
    runs = collections.defaultdict(list)   # (case, side, backend) -> [verdict]
    with open(os.path.join(results_dir, "results")) as f:
        for line in f:
            side, _binary, backend, case, attempt, rc = line.split()
            log = os.path.join(results_dir, "log", side, backend,
                               case.replace("/", "_") + "." + attempt + ".log")
            runs[(case, side, backend)].append(classify(log, int(rc)))
    print()
    print("| case | side | backend | passed | other verdicts |")
    print("|---|---|---|---|---|")
    for (case, side, backend), vs in sorted(runs.items()):
        other = collections.Counter(v for v in vs if v != "OK")
        print("| %s | %s | %s | %d/%d | %s |" % (
            case, side, backend, vs.count("OK"), len(vs),
            ", ".join("%s x%d" % kv for kv in sorted(other.items())) or "-"))
    return 0


def main():
    args = sys.argv[1:]
    if args[0] == "--repeat":
        return repeat_summary(args[1])
    rerun = None
    if args[0] == "--rerun":
        rerun = int(args[1])
        args = args[2:]
    results_dir, expected_path, sides = args[0], args[1], args[2].split()
    expected = load_expected(expected_path)
    last = {}        # (side, binary, backend, case) -> (attempt, verdict)
    sanitized = []   # (side, case, backend, attempt, summary, ours)
    retried = set()  # (side, case, backend) that failed first, passed later
    with open(os.path.join(results_dir, "results")) as f:
        for line in f:
            side, binary, backend, case, attempt, rc = line.split()
            attempt = int(attempt)
            log = os.path.join(results_dir, "log", side, backend, case.replace("/", "_")
                               + ("" if attempt == 1 else ".%d" % attempt) + ".log")
            verdict = classify(log, int(rc))
            if verdict == "SANITIZER" and rerun is None:
                for summary, ours in sanitizer_reports(log):
                    sanitized.append((side, case, backend, attempt, summary, ours))
            key = (side, binary, backend, case)
            if key not in last or last[key][0] < attempt:
                last[key] = (attempt, verdict)
    for key, (attempt, verdict) in last.items():
        if attempt > 1 and verdict == "OK":
            retried.add((key[0], key[3], key[2]))
    if rerun is not None:
        for (side, binary, backend, case), (attempt, verdict) in sorted(last.items()):
            kind = expected.get((case, side), (None, ""))[0]
            if verdict != "OK" and kind != "fail" and attempt == rerun - 1:
                print(side, binary, backend, case, rerun)
        return 0
    runs = [k + (v,) for k, (_a, v) in last.items()]
    total = collections.Counter()
    passed = collections.Counter()
    fails = collections.defaultdict(list)      # (side, case) -> [(backend, verdict)]
    binary_of = {}
    for side, binary, backend, case, verdict in runs:
        total[(binary, side, backend)] += 1
        binary_of[case] = binary
        if verdict == "OK":
            passed[(binary, side, backend)] += 1
        else:
            fails[(side, case)].append((backend, verdict))

    columns = backends_of(k[2] for k in total)
    print()
    print("| binary (groups) | side | " + " | ".join(columns) + " |")
    print("|---|---|" + "---|" * len(columns))
    for binary in GROUPS:
        for side in sides:
            cells = []
            for be in columns:
                t = total.get((binary, side, be))
                cells.append("%d/%d" % (passed[(binary, side, be)], t) if t else "-")
            if any(c != "-" for c in cells):
                print("| %s (%s) | %s | %s |" % (binary, GROUPS[binary], side, " | ".join(cells)))

    unexpected = 0
    print()
    print("Failing cases (backends where the case did not pass):")
    if not fails:
        print("  none")
    for (side, case) in sorted(fails, key=lambda k: (k[0], binary_of[k[1]], k[1])):
        where = ", ".join("%s%s" % (be, "" if v == "FAIL" else " " + v) for be, v in fails[(side, case)])
        kind, reason = expected.get((case, side), (None, ""))
        if kind is None:
            mark = "NEW"
            unexpected += 1
        else:
            mark = "expected" if kind == "fail" else "flaky"
        print("  %-8s %-9s %-45s %s" % (side, mark, case, where))
    if retried:
        print()
        print("Failed, then passed when run again (timing on a loaded machine, or flaky):")
        for side, case, be in sorted(retried):
            print("  %-8s %-45s %s" % (side, case, be))
    if sanitized:
        print()
        print("Sanitizer reports (reevent: a frame of the report is in reevent's src/; "
              "else test), with the backends and how many runs showed each:")
        where = collections.defaultdict(collections.Counter)
        for side, case, be, _attempt, summary, ours in sanitized:
            summary = re.sub(r"\S*/test-adapted/", "test/", summary)
            where[(side, case, "reevent" if ours else "test", summary)][be] += 1
        for (side, case, whose, summary), bes in sorted(where.items()):
            print("  %-8s %-7s %s (%s)\n      %s" % (
                side, whose, case,
                ", ".join("%s%s" % (be, "" if n == 1 else " x%d" % n) for be, n in bes.items()),
                summary))
    seen = {(case, side) for side, _b, _be, case, _v in runs}
    stale = sorted(k for k, (kind, _r) in expected.items()
                   if kind == "fail" and k in seen and (k[1], k[0]) not in fails)
    if stale:
        print()
        print("Listed as failing but passed on every backend run (update expected-failures.txt):")
        for case, side in stale:
            print("  %-8s %s" % (side, case))
    print()
    if unexpected:
        print("%d failing case(s) not in expected-failures.txt" % unexpected)
        return 1
    print("no failure outside expected-failures.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
