#!/usr/bin/env python3
"""Per-file table of memcached's own test suite on each side (tests/clients/memcached-suite).

results/<side>/<run>/<file>.tap holds a test file's TAP output (with stderr), and
results/<side>/<run>/summary one "file exit-status seconds" line per file. A file passes a run
when it exited 0, printed a plan, ran every planned subtest and none was "not ok" (skips
count as passed, as prove counts them). Exit 1 when a file failed on a side in a run and
expected-failures.txt does not list it for that side (a "both" line covers every side).
"""

import argparse
import os
import re
import sys

OK = re.compile(rb"^(not )?ok (\d+)\b(.*)$")
PLAN = re.compile(rb"^1\.\.(\d+)")
SANITIZER = re.compile(rb"AddressSanitizer|LeakSanitizer|ThreadSanitizer|runtime error:")


def parse_tap(path):
    """(plan or None, {number: (ok, description)}, sanitizer report line or None)"""
    plan, subtests, san = None, {}, None
    with open(path, "rb") as f:
        for line in f:
            line = line.rstrip(b"\r\n")
            if san is None and SANITIZER.search(line):
                san = line.decode("utf-8", "replace")[:200]
            m = PLAN.match(line)
            if m and plan is None:
                plan = int(m.group(1))
                continue
            m = OK.match(line)
            if m:
                n = int(m.group(2))
                ok = m.group(1) is None or b"# TODO" in m.group(3)
                subtests[n] = (ok, m.group(3).decode("utf-8", "replace").strip(" -"))
    return plan, subtests, san


def load_expected(path):
    exp = {}
    if not os.path.exists(path):
        return exp
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split(None, 3)
            if len(parts) < 3:
                continue
            exp.setdefault(parts[0], {})[parts[1]] = parts[2]   # file -> side -> kind
    return exp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--expected", required=True)
    ap.add_argument("--sides", required=True)
    args = ap.parse_args()
    sides = args.sides.split()
    expected = load_expected(args.expected)

    # side -> file -> list of run outcomes (passed?, ok count, plan, failed subtests, rc, secs)
    table, order = {}, []
    for side in sides:
        sdir = os.path.join(args.results, side)
        runs = sorted(os.listdir(sdir), key=int) if os.path.isdir(sdir) else []
        for run in runs:
            rdir = os.path.join(sdir, run)
            with open(os.path.join(rdir, "summary")) as f:
                for line in f:
                    name, rc, secs = line.split()
                    if name not in order:
                        order.append(name)
                    plan, subs, san = parse_tap(os.path.join(rdir, name + ".tap"))
                    oks = sum(1 for ok, _ in subs.values() if ok)
                    failed = sorted(n for n, (ok, _) in subs.items() if not ok)
                    if plan is not None:
                        failed += [n for n in range(1, plan + 1) if n not in subs]
                    passed = (int(rc) == 0 and plan is not None and not failed
                              and len(subs) == plan and san is None)
                    names = [f"{n} {subs[n][1]}" if n in subs else f"{n} (not run)"
                             for n in sorted(set(failed))]
                    if san is not None:
                        names.insert(0, f"SANITIZER: {san}")
                    table.setdefault(side, {}).setdefault(name, []).append(
                        (passed, oks, plan, names, int(rc), float(secs)))

    width = max([len(n) for n in order] + [10])
    head = f"{'file':<{width}}" + "".join(f"  {s:>26}" for s in sides) + "  verdict"
    print(head)
    print("-" * len(head))
    unexpected, stale, totals = [], [], {s: [0, 0, 0, 0, 0] for s in sides}
    details = []
    for name in order:
        cells, failing = [], {}
        for side in sides:
            outs = table.get(side, {}).get(name)
            if not outs:
                cells.append(f"  {'-':>26}")
                continue
            nfail = sum(1 for o in outs if not o[0])
            last = outs[-1]
            best = min(outs, key=lambda o: (o[0], o[1]))   # a failing run first
            plan = "?" if best[2] is None else best[2]
            secs = sum(o[5] for o in outs) / len(outs)
            mark = "ok" if nfail == 0 else f"FAIL {nfail}/{len(outs)}"
            text = f"{best[1]}/{plan} {mark} {secs:.0f}s"
            if nfail == 0 and best[2] == 0:
                text = f"skipped {secs:.0f}s"   # 1..0 # SKIP (not built in, or off upstream)
            cells.append(f"  {text:>26}")
            t = totals[side]
            t[0] += 1
            t[1] += nfail == 0
            t[4] += nfail == 0 and best[2] == 0
            t[2] += last[1]
            t[3] += last[2] or 0
            if nfail:
                failing[side] = outs
                for i, o in enumerate(outs):
                    if not o[0]:
                        details.append(f"{side} {name} run {i + 1}: exit {o[4]}, "
                                       f"{o[1]}/{o[2]} ok; failed: "
                                       + ("; ".join(o[3][:6]) or "(no subtest failed)")
                                       + (" ..." if len(o[3]) > 6 else ""))
        exp = expected.get(name, {})
        verdicts = []
        for side in failing:
            base, _, backend = side.partition(":")
            kind = next((exp[k] for k in (side, base, f"both:{backend or 'epoll'}", "both")
                         if k in exp), None)
            if kind is None:
                unexpected.append(f"{side} {name}")
                verdicts.append(f"UNEXPECTED on {side}")
            else:
                verdicts.append(f"expected ({kind}) on {side}")
        for side, kind in exp.items():
            if kind != "fail":
                continue
            for s in sides:
                base, _, backend = s.partition(":")
                if side in (s, base, f"both:{backend or 'epoll'}", "both") and \
                        s in table and name in table[s] and s not in failing:
                    stale.append(f"{s} {name}")
        print(f"{name:<{width}}" + "".join(cells) + "  " + ("; ".join(verdicts) or "pass"))
    print()
    for side in sides:
        t = totals[side]
        print(f"{side}: {t[1]}/{t[0]} files pass ({t[4]} of them skip all), "
              f"{t[2]}/{t[3]} subtests ok (last run)")
    if details:
        print("\nfailures:")
        for d in details:
            print("  " + d)
    if stale:
        print("\nlisted as failing but passed (trim expected-failures.txt?): " + ", ".join(stale))
    if unexpected:
        print("\nUNEXPECTED failures: " + ", ".join(unexpected))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
