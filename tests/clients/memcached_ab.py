#!/usr/bin/env python3
"""A/B tool for memcached throughput (not a ctest test): the simultaneous rounds of
memcached_test.py, with the start order of the two servers crossed so that a position
effect cancels, and an A/A control in the same session.

A configuration is two letters, server A (started first) and server B:
  R  memcached on --lib (a reevent build),   S  on --lib-b (a second build),
  L  on the system libevent.
Every block runs each configuration once, in random order: two fresh servers, --rounds
rounds of --seconds in which both are loaded at once by their own memcaslap (the one that
starts first alternates). One JSON line per round goes to --out: ops/s of A and B, server
CPU per request, and per request the threads' run time, runqueue wait (schedstat),
timeslices and voluntary/involuntary context switches.

  memcached_ab.py --lib build/x/lib --configs RL,LR,LL --blocks 6 --out ab.jsonl
  memcached_ab.py --analyze ab.jsonl

The analysis prints per configuration the median and geometric mean of the per-round A/B
ratios, and for crossed pairs (RL+LR, RS+SR, SL+LS) the effect of the library with the
position cancelled, sqrt(XY/YX), with its standard error.
"""

import argparse
import json
import math
import os
import random
import statistics as st
import sys
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import memcached_test as mt  # noqa: E402
from clientlib import Env  # noqa: E402


def sched(pid):
    """Sum over the threads of pid: run ns, runqueue wait ns, timeslices, voluntary and
    involuntary context switches."""
    t = [0] * 5
    d = "/proc/%d/task" % pid
    for tid in os.listdir(d):
        try:
            with open("%s/%s/schedstat" % (d, tid)) as f:
                vals = list(map(int, f.read().split()))
            with open("%s/%s/status" % (d, tid)) as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches"):
                        vals.append(int(line.split()[1]))
                    elif line.startswith("nonvoluntary_ctxt_switches"):
                        vals.append(int(line.split()[1]))
        except OSError:
            continue
        for k, v in enumerate(vals[:5]):
            t[k] += v
    return t


def measure(a):
    lib = os.path.realpath(a.lib)
    e = Env(types.SimpleNamespace(side="libevent", lib_dir=lib, sanitize="", results=""),
            "memcached")

    def start(side):
        if side == "L":
            return mt.start_memcached(e, on_reevent=False)
        e.lib_dir = os.path.realpath(a.lib_b) if side == "S" else lib
        try:
            return mt.start_memcached(e, on_reevent=True)
        finally:
            e.lib_dir = lib

    for _ in range(a.hog):  # CPU hogs, each in its own session (autogroup)
        e.spawn([sys.executable, "-c", "while 1: pass"], on_reevent=False)
    with open(a.out, "a") as out:
        for blk in range(a.blocks):
            cfgs = a.configs.split(",")
            random.shuffle(cfgs)
            for cfg in cfgs:
                pa, port_a = start(cfg[0])
                pb, port_b = start(cfg[1])
                for i in range(a.rounds):
                    c0 = mt.cpu_seconds(pa.pid), mt.cpu_seconds(pb.pid)
                    s0 = sched(pa.pid), sched(pb.pid)
                    first, second = (port_a, port_b) if i % 2 == 0 else (port_b, port_a)
                    runs = {first: mt.memcaslap_start(e, first, a.seconds)}
                    runs[second] = mt.memcaslap_start(e, second, a.seconds)
                    (ta, oa), (tb, ob) = (mt.memcaslap_result(runs[port_a], a.seconds),
                                          mt.memcaslap_result(runs[port_b], a.seconds))
                    c1 = mt.cpu_seconds(pa.pid), mt.cpu_seconds(pb.pid)
                    s1 = sched(pa.pid), sched(pb.pid)
                    rec = dict(cfg=cfg, blk=blk, i=i, ta=ta, tb=tb,
                               cpa=(c1[0] - c0[0]) / max(1, oa), cpb=(c1[1] - c0[1]) / max(1, ob),
                               sa=[(x - y) / max(1, oa) for x, y in zip(s1[0], s0[0])],
                               sb=[(x - y) / max(1, ob) for x, y in zip(s1[1], s0[1])],
                               load=os.getloadavg()[0], t=time.time())
                    out.write(json.dumps(rec) + "\n")
                    out.flush()
                    print("%s block %d round %d: %d / %d ops/s = %.3f" % (cfg, blk, i, ta, tb, ta / tb),
                          flush=True)
                mt.stop(pa, "A")
                mt.stop(pb, "B")
    e.cleanup()


def analyze(files):
    recs = [json.loads(line) for f in files for line in open(f)]
    by = {}
    for r in recs:
        by.setdefault(r["cfg"], []).append(r)
    logs = {c: [math.log(r["ta"] / r["tb"]) for r in rs] for c, rs in by.items()}
    for cfg, rs in sorted(by.items()):
        lg = logs[cfg]
        se = st.stdev(lg) / math.sqrt(len(lg)) if len(lg) > 1 else float("nan")
        q = st.quantiles([r["ta"] / r["tb"] for r in rs], n=4) if len(rs) > 1 else [0, 0, 0]
        print("%s: %3d rounds, A/B median %.3f, geomean %.4f +- %.4f (SE), quartiles %.3f-%.3f, "
              "CPU/request A/B %.3f" % (cfg, len(rs), st.median(r["ta"] / r["tb"] for r in rs),
                                        math.exp(st.mean(lg)), se, q[0], q[2],
                                        st.median(r["cpa"] / r["cpb"] for r in rs)))
        f = lambda key, k: st.median(r[key][k] for r in rs)  # noqa: E731
        print("    per request A: run %.0f ns, wait %.0f ns, slices %.3f, cs %.3f+%.3f | "
              "B: run %.0f ns, wait %.0f ns, slices %.3f, cs %.3f+%.3f"
              % (tuple(f("sa", k) for k in range(5)) + tuple(f("sb", k) for k in range(5))))
    for x, y in (("RL", "LR"), ("RS", "SR"), ("SL", "LS")):
        if len(logs.get(x, ())) > 1 and len(logs.get(y, ())) > 1:
            a, b = logs[x], logs[y]
            eff = (st.mean(a) - st.mean(b)) / 2
            se = math.sqrt(st.variance(a) / len(a) + st.variance(b) / len(b)) / 2
            print("%s/%s with the position cancelled, sqrt(%s/%s): %.4f +- %.4f; position effect "
                  "sqrt(%s*%s): %.4f" % (x[0], x[1], x, y, math.exp(eff), se, x, y,
                                         math.exp((st.mean(a) + st.mean(b)) / 2)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lib", help="directory of a reevent build's libraries (R)")
    ap.add_argument("--lib-b", default="", help="a second build (S)")
    ap.add_argument("--configs", default="RL,LR,LL")
    ap.add_argument("--blocks", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--seconds", type=int, default=2)
    ap.add_argument("--hog", type=int, default=0, help="busy-loop processes during the run")
    ap.add_argument("--out", help="JSON lines file to append to")
    ap.add_argument("--analyze", nargs="+", metavar="FILE")
    a = ap.parse_args()
    if a.analyze:
        analyze(a.analyze)
        return
    if not a.lib or not a.out or ("S" in a.configs and not a.lib_b):
        ap.error("--lib and --out are needed (and --lib-b for S)")
    measure(a)
    analyze([a.out])


if __name__ == "__main__":
    main()
