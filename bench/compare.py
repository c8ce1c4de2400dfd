#!/usr/bin/env python3
"""Runs the reevent-vs-libevent comparison and writes docs/benchmarks.md and the plots.

Method (docs/parts/design-bench.md): the two (or three, with the raw-epoll ceiling) sides of
a workload run in the same session, interleaved A,B | B,A | A,B ... in short slices, every
slice pinned to the same CPU with taskset. Each slice is one run of a Google Benchmark
binary over a group of benchmarks with a short --benchmark_min_time. For every benchmark
the per-slice ratio reevent/libevent is taken between neighbouring slices and the report
gives the median ratio with its spread (min..max). Times are CPU time per operation.
Instruction counts come from callgrind with collection toggled around the measured loop.
An A-vs-A run (libevent against itself) shows what the noise alone does to a ratio.

Only the Python standard library is used; the plots are drawn by gnuplot if present.
"""
import argparse
import datetime
import json
import os
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Workload groups: binary stem, the sides it has, the benchmark filter (full / smoke).
GROUPS = [
    # name, stem, sides, filter, smoke filter, min_time, rounds
    ("dispatch", "dispatch", ["reevent", "libevent", "raw"], "^dispatch/", "^dispatch/(epoll|poll)/fds:100/active:(1|100)$", 0.02, 6),
    ("dispatch_timeout", "dispatch", ["reevent", "libevent"], "^dispatch_timeout", "^dispatch_timeout/epoll/fds:100/active:1$", 0.02, 6),
    ("churn", "dispatch", ["reevent", "libevent"], "^churn", "^churn/epoll/fds:100$", 0.02, 6),
    ("overhead", "dispatch", ["reevent", "libevent"], "^overhead", "^overhead/epoll/event_active:100$", 0.02, 6),
    ("timers", "timers", ["reevent", "libevent"], "^timers", "^timers/epoll/(readd|del)/", 0.03, 6),
    ("evbuffer", "evbuffer", ["reevent", "libevent"], "^evbuffer", "^evbuffer/none/(small_appends/n:1000/size:16|readln_short)", 0.02, 6),
    ("bufferevent", "bufferevent", ["reevent", "libevent"], "^bufferevent", "^bufferevent/epoll/pair/size:64$", 0.02, 6),
    ("lock", "lock", ["reevent", "libevent"], "^lock", "^lock/epoll/(locked|nolock)/fds:100/active:1$", 0.02, 6),
]

# Benchmarks measured under callgrind (instructions per op); smoke runs only the first.
CALLGRIND = [
    "dispatch/epoll/fds:1000/active:1",
    "dispatch/epoll/fds:1000/active:100",
    "dispatch_timeout/epoll/fds:1000/active:100",
    "churn/epoll/fds:1000",
    "overhead/epoll/event_active:100",
    "overhead/epoll/timer_add_del",
    "timers/epoll/add/n:100000",
    "timers/epoll/readd/n:100000",
    "timers/epoll/del/n:100000",
    "timers/epoll/fire/n:100000",
    "timers/epoll/common_readd/n:100000",
    "evbuffer/none/small_appends/n:1000/size:16",
    "evbuffer/none/chunk_add_remove/size:4096",
    "evbuffer/none/chunk_add_remove/size:65536",
    "evbuffer/none/readln_short/lines:1000/len:16",
    "evbuffer/none/readln_long/lines:100/len:1024",
    "evbuffer/none/readln_split/lines:4000/len:61",
    "evbuffer/none/search/size:65536",
    "evbuffer/none/add_buffer_move/size:65536",
    "evbuffer/none/reserve_commit/size:4096",
    "evbuffer/none/socket_read_write/size:16384",
    "evbuffer/none/readln_bytewise_lf/lines:200/len:61",
    "evbuffer/none/readln_split_lf/lines:4000/len:61",
    "evbuffer/none/add_reference_drain/size:65536",
    "evbuffer/none/peek/segments:64",
    "bufferevent/epoll/pair/size:64",
    "bufferevent/epoll/socket/size:64",
    "bufferevent/epoll/socket/size:16384",
]

# A-vs-A: the same library against itself, interleaved exactly like A-vs-B.
AVA = [
    ("dispatch", "^(dispatch/epoll/fds:1000/active:(1|100)|churn/epoll/fds:1000|overhead/epoll/event_active:100)$",
     "^dispatch/epoll/fds:100/active:1$"),
    ("evbuffer", "^evbuffer/none/(small_appends/n:1000/size:16|readln_short.*|chunk_add_remove/size:4096)$",
     "^evbuffer/none/small_appends/n:1000/size:16$"),
    ("timers", "^timers/epoll/(readd|common_readd)/", "^timers/epoll/readd/"),
]

ECHO_CONFIGS = [(1, 64), (50, 64), (500, 64), (1, 16384), (50, 16384), (500, 16384)]
ECHO_DEPTH = {64: 8, 16384: 4}
# TLS echo (libevent_openssl) and HTTP (evhttp): (mode, connections, message/body bytes).
TLS_CONFIGS = [("socket", 1, 64), ("socket", 50, 64), ("socket", 1, 16384), ("socket", 50, 16384),
               ("filter", 50, 64), ("filter", 50, 16384)]
# HTTP: (connections, body bytes, nodelay|nagle); nagle = TCP_NODELAY left off on the server.
HTTP_CONFIGS = [(1, 100, "nodelay"), (50, 100, "nodelay"), (1, 65536, "nodelay"), (50, 65536, "nodelay"),
                (50, 100, "nagle"), (1, 65536, "nagle")]
# Instruction counts of the servers: (kind, mode, conns, size, warm-up units, counted units);
# units are echoed messages (tls) or answered requests (http).
SERVER_CALLGRIND = [("tls", "socket", 1, 64, 1000, 3000), ("tls", "socket", 50, 64, 2000, 5000),
                    ("tls", "socket", 50, 16384, 200, 500), ("tls", "filter", 50, 64, 2000, 5000),
                    ("http", "", 1, 100, 500, 2000), ("http", "", 50, 100, 1000, 3000),
                    ("http", "", 50, 65536, 200, 500)]


def log(*a):
    print("[bench]", *a, file=sys.stderr, flush=True)


def parse_partial_json(text):
    """Google Benchmark's JSON; if the binary died mid-run, keep the complete entries."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    cut = text.rfind("\n    }")
    if cut < 0:
        return None
    try:
        return json.loads(text[:cut + 6] + "\n  ]\n}")
    except ValueError:
        return None


def strip_name(name):
    return re.sub(r"/(iterations|min_time):[0-9.]+$", "", name)


def callgrind_cmd(outfile):
    """valgrind with collection off until the program toggles it around its measured part."""
    return ["valgrind", "--tool=callgrind", "--collect-atstart=no", "--callgrind-out-file=" + outfile]


def read_cg_total(outfile):
    """Total instructions of a callgrind output file (which it removes), or None."""
    total = None
    with open(outfile) as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                total = int(line.split()[1])
    os.unlink(outfile)
    return total


class Runner:
    def __init__(self, args):
        self.a = args
        self.bindir = os.path.join(args.build_dir, "bench")
        self.cpu = args.cpu
        self.results = {}  # (group, side) -> {name: [per-slice value dicts]}
        self.errors = []
        self.timed_out = False
        self.listed = {}    # (exe, filter) -> benchmark names
        self.crashers = {}  # exe -> names that crash it

    def binary(self, stem, side):
        p = os.path.join(self.bindir, "bench_%s_%s" % (stem, side))
        return p if os.path.exists(p) else None

    def taskset(self, cpu):
        return ["taskset", "-c", str(cpu)] if shutil.which("taskset") else []

    def list_tests(self, exe, flt):
        key = (exe, flt)
        if key not in self.listed:
            p = subprocess.run([exe, "--benchmark_filter=" + flt, "--benchmark_list_tests=true"],
                               capture_output=True, text=True, timeout=60)
            self.listed[key] = [strip_name(x.strip()) for x in p.stdout.splitlines() if x.strip()]
        return self.listed[key]

    def run_slice(self, exe, flt, min_time, timeout=240):
        """One slice. A benchmark that crashes its binary is found (each missing benchmark is
        re-run alone), reported once, and left out of later slices of that binary."""
        bad = self.crashers.setdefault(exe, set())
        run_flt = flt
        if bad:
            keep = [n for n in self.list_tests(exe, flt) if n not in bad]
            if not keep:
                return {}
            run_flt = "^(" + "|".join(keep) + ")(/iterations:[0-9]+)?$"
        res, rc = self.run_once(exe, run_flt, min_time, timeout)
        if rc not in (0, -1):
            for n in self.list_tests(exe, flt):
                if n in res or n in bad:
                    continue
                one, rc1 = self.run_once(exe, "^%s(/iterations:[0-9]+)?$" % n, min_time, timeout)
                if rc1 not in (0, -1):
                    bad.add(n)
                    self.errors.append("%s: `%s` crashes (exit %d); left out" % (os.path.basename(exe), n, rc1))
                res.update(one)
        return res

    def run_once(self, exe, flt, min_time, timeout):
        cmd = self.taskset(self.cpu) + [exe, "--benchmark_filter=" + flt,
                                         "--benchmark_min_time=%g" % min_time,
                                         "--benchmark_format=json"]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
            stdout, rc = out.stdout, out.returncode
        except subprocess.TimeoutExpired as e:
            self.errors.append("timeout (%ds): %s %s" % (timeout, os.path.basename(exe), flt))
            stdout = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
            rc = -1
            self.timed_out = True
        data = parse_partial_json(stdout)
        res = {}
        for b in (data or {}).get("benchmarks", []):
            if b.get("error_occurred"):
                self.errors.append("%s %s: %s" % (os.path.basename(exe), b["name"], b.get("error_message")))
                continue
            if b.get("run_type", "iteration") != "iteration":
                continue
            res[strip_name(b["name"])] = b
        return res, rc

    def interleave(self, key, exes, flt, min_time, rounds):
        """exes: list of (side, exe). Returns {side: {name: [bench dicts per round]}}."""
        out = {side: {} for side, _ in exes}
        dead = set()  # a side that hung once is not run again in this group
        for r in range(rounds):
            order = exes if r % 2 == 0 else list(reversed(exes))
            for side, exe in order:
                if side in dead:
                    continue
                self.timed_out = False
                got = self.run_slice(exe, flt, min_time)
                if self.timed_out:
                    dead.add(side)
                for name, b in got.items():
                    out[side].setdefault(name, []).append(b)
        return out

    # ---- timed groups ------------------------------------------------------------------
    def run_groups(self):
        smoke = self.a.smoke
        for gname, stem, sides, flt, smoke_flt, min_time, rounds in GROUPS:
            if self.a.group and gname not in self.a.group.split(","):
                continue
            exes = []
            for side in sides:
                exe = os.path.join(self.bindir, "bench_dispatch_raw") if side == "raw" else self.binary(stem, side)
                if side == "raw" and not os.path.exists(exe):
                    exe = None
                if exe:
                    exes.append((side, exe))
            if not exes:
                continue
            t0 = time.time()
            if self.a.min_time:
                min_time = self.a.min_time
            if self.a.rounds:
                rounds = self.a.rounds
            res = self.interleave(gname, exes, smoke_flt if smoke else flt,
                                  0.002 if smoke else min_time, 2 if smoke else rounds)
            log("%-16s %5.1fs  sides: %s" % (gname, time.time() - t0, ", ".join(s for s, _ in exes)))
            self.results[gname] = res

    def run_ava(self):
        merged = {"A": {}, "B": {}}
        for stem, flt, smoke_flt in AVA:
            exe = self.binary(stem, "libevent")
            if not exe:
                continue
            res = self.interleave("ava", [("A", exe), ("B", exe)], smoke_flt if self.a.smoke else flt,
                                  0.002 if self.a.smoke else 0.02, 2 if self.a.smoke else 6)
            for side in res:
                merged[side].update(res[side])
        self.results["ava"] = merged

    def run_memory(self):
        res = {}
        for side in ("reevent", "libevent"):
            exe = self.binary("memory", side)
            if exe:
                res[side] = {k: [v] for k, v in self.run_slice(exe, "^memory" if not self.a.smoke else "^memory/epoll/", 0.001).items()}
        self.results["memory"] = res

    # ---- callgrind ---------------------------------------------------------------------
    def cg_outfile(self):
        fd, outfile = tempfile.mkstemp(prefix="cg.", dir=self.a.tmp)
        os.close(fd)
        return outfile

    def callgrind_one(self, exe, name):
        outfile = self.cg_outfile()
        cmd = callgrind_cmd(outfile) + [
               exe, "--benchmark_filter=^%s(/iterations:[0-9]+)?$" % name, "--benchmark_format=json"]
        env = dict(os.environ, BENCH_CALLGRIND="1")
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
        except subprocess.TimeoutExpired:
            self.errors.append("callgrind timeout: " + name)
            return None
        iters = sum(int(m) for m in re.findall(r"^CG_ITERS (\d+)$", p.stderr, re.M))
        total = read_cg_total(outfile)
        if not iters or total is None:
            self.errors.append("callgrind %s %s: no data" % (os.path.basename(exe), name))
            return None
        ops = 1.0
        try:
            for b in json.loads(p.stdout).get("benchmarks", []):
                ops = float(b.get("cb_seen", b.get("ops", 1.0))) or 1.0
        except ValueError:
            pass
        return total / iters / ops

    def run_callgrind(self):
        if not shutil.which("valgrind"):
            self.errors.append("valgrind not installed: no instruction counts")
            return
        names = CALLGRIND[:1] if self.a.smoke else list(CALLGRIND)
        if not self.a.smoke:
            # every epoll row too, so the bar below has a noise-free view of each workload
            for stem in ("dispatch", "timers", "lock", "bufferevent"):
                exe = self.binary(stem, "reevent")
                if exe:
                    names += [n for n in self.list_tests(exe, "/epoll") if n not in names]
        if self.a.group:
            names = [n for n in names if n.split("/")[0] in self.a.group.split(",")]
        res = {}
        t0 = time.time()
        for name in names:
            stem = {"dispatch_timeout": "dispatch", "churn": "dispatch", "overhead": "dispatch"}.get(name.split("/")[0], name.split("/")[0])
            sides = [("reevent", self.binary(stem, "reevent")), ("libevent", self.binary(stem, "libevent"))]
            if name.startswith("dispatch/"):
                raw = os.path.join(self.bindir, "bench_dispatch_raw")
                sides.append(("raw", raw if os.path.exists(raw) else None))
            for side, exe in sides:
                if exe:
                    v = self.callgrind_one(exe, name)
                    if v is not None:
                        res.setdefault(name, {})[side] = v
        log("callgrind        %5.1fs" % (time.time() - t0))
        self.results["callgrind"] = res

    # ---- echo --------------------------------------------------------------------------
    def echo_server_cmd(self, side, backend, port):
        if side == "raw":
            return [os.path.join(self.bindir, "echo_server_raw"), str(port)]
        exe = self.binary("echo_server", side)
        return [exe, str(port), backend] if exe else None

    def free_port(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        return port

    def cpu_seconds(self, pid):
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return None

    def echo_slice(self, side, backend, conns, size, seconds):
        cmd = self.echo_server_cmd(side, backend, 0)
        if not cmd:
            return None
        lg = [os.path.join(self.bindir, "echo_loadgen"), None, str(conns), str(size),
              str(ECHO_DEPTH[size]), "%g" % seconds, "0.2"]
        return self.server_slice(cmd, lg, lambda r: r["bytes"] / size, "server_cpu_us_per_msg",
                                 "%s/%s C=%d S=%d" % (side, backend, conns, size), seconds)

    def server_slice(self, cmd, lg, units, cpu_key, what, seconds):
        """One slice of a server workload: server pinned to the measured CPU, load generator
        (a separate process, other CPU) run once; cmd[1] and lg[1] are the port. Returns the
        load generator's JSON plus the server's CPU µs per unit (units(r): messages, requests)."""
        port = self.free_port()
        cmd = [cmd[0], str(port)] + cmd[2:]
        lg = [lg[0], str(port)] + lg[2:]
        srv = subprocess.Popen(self.taskset(self.cpu) + cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            ready, _, _ = select.select([srv.stdout], [], [], 10)
            line = srv.stdout.readline() if ready else ""
            if not line.startswith("READY"):
                srv.kill()
                self.errors.append("server %s did not start: %s" % (what, srv.stderr.read()[-200:]))
                return None
            cpu0 = self.cpu_seconds(srv.pid)
            other = 0 if self.cpu != 0 else 1
            try:
                p = subprocess.run(self.taskset(other) + lg, capture_output=True, text=True, timeout=seconds + 60)
            except subprocess.TimeoutExpired:
                self.errors.append("loadgen timeout %s" % what)
                return None
            cpu1 = self.cpu_seconds(srv.pid)
            if p.returncode != 0:
                self.errors.append("loadgen %s: %s" % (what, p.stderr.strip()[-200:]))
                return None
            r = json.loads(p.stdout)
            if cpu0 is not None and cpu1 is not None and cpu1 > cpu0 and units(r):
                # server CPU per unit, including connection setup and warm-up (none when the
                # server used less than one clock tick: no number rather than 0)
                r[cpu_key] = (cpu1 - cpu0) * 1e6 / units(r)
            return r
        finally:
            srv.send_signal(signal.SIGKILL)
            srv.wait()

    def run_echo(self):
        if not os.path.exists(os.path.join(self.bindir, "echo_loadgen")):
            return
        smoke = self.a.smoke
        configs = [(50, 64)] if smoke else ECHO_CONFIGS
        if self.a.echo_configs:
            configs = [tuple(int(v) for v in c.split("x")) for c in self.a.echo_configs.split(",")]
        backends = ["epoll"] if smoke else ["epoll", "poll", "select"]  # select: < FD_SETSIZE fds
        if self.a.echo_backends:
            backends = self.a.echo_backends.split(",")
        seconds = 0.3 if smoke else 1.0
        rounds = 1 if smoke else (self.a.rounds or 4)
        res = {}
        t0 = time.time()
        for backend in backends:
            for conns, size in configs:
                if backend != "epoll" and conns == 1:
                    continue
                sides = ["reevent", "libevent"] + (["raw"] if backend == "epoll" else [])
                sides = [s for s in sides if self.echo_server_cmd(s, backend, 0)]
                key = "echo/%s/conns:%d/size:%d" % (backend, conns, size)
                for r in range(rounds):
                    for side in (sides if r % 2 == 0 else list(reversed(sides))):
                        v = self.echo_slice(side, backend, conns, size, seconds)
                        if v:
                            res.setdefault(key, {}).setdefault(side, []).append(v)
        log("echo             %5.1fs" % (time.time() - t0))
        self.results["echo"] = res


    # ---- TLS echo and HTTP ---------------------------------------------------------------
    def interleave_servers(self, configs, key_of, slice_of, seconds, rounds):
        """configs interleaved like echo: per config, rounds of reevent/libevent, order
        reversed every round. Returns {key: {side: [slice dicts]}}."""
        res = {}
        for cfg in configs:
            key = key_of(cfg)
            for r in range(rounds):
                for side in (("reevent", "libevent") if r % 2 == 0 else ("libevent", "reevent")):
                    v = slice_of(side, cfg, seconds)
                    if v:
                        res.setdefault(key, {}).setdefault(side, []).append(v)
        return res

    def tls_slice(self, side, cfg, seconds):
        mode, conns, size = cfg
        exe = self.binary("tls_echo_server", side)
        lgexe = os.path.join(self.bindir, "echo_loadgen_tls")
        if not exe or not os.path.exists(lgexe):
            return None
        lg = [lgexe, None, str(conns), str(size), str(ECHO_DEPTH[size]), "%g" % seconds, "0.2"]
        return self.server_slice([exe, None, "epoll", mode], lg, lambda r: r["bytes"] / size,
                                 "server_cpu_us_per_msg", "tls %s/%s C=%d S=%d" % (side, mode, conns, size), seconds)

    def http_slice(self, side, cfg, seconds):
        conns, body, delay = cfg
        exe = self.binary("http_server", side)
        lgexe = os.path.join(self.bindir, "http_loadgen")
        if not exe or not os.path.exists(lgexe):
            return None
        lg = [lgexe, None, str(conns), str(body), "%g" % seconds, "0.2"]
        return self.server_slice([exe, None, "epoll", delay], lg, lambda r: r["requests"],
                                 "server_cpu_us_per_req", "http %s C=%d B=%d %s" % (side, conns, body, delay), seconds)

    def run_tls(self):
        smoke = self.a.smoke
        configs = [("socket", 50, 64)] if smoke else TLS_CONFIGS
        t0 = time.time()
        self.results["tls"] = self.interleave_servers(
            configs, lambda c: "tls_echo/%s/conns:%d/size:%d" % c, self.tls_slice,
            0.3 if smoke else 1.0, 1 if smoke else (self.a.rounds or 4))
        log("tls echo         %5.1fs" % (time.time() - t0))

    def run_http(self):
        smoke = self.a.smoke
        configs = [(50, 100, "nodelay")] if smoke else HTTP_CONFIGS
        t0 = time.time()
        self.results["http"] = self.interleave_servers(
            configs, lambda c: "http/epoll/conns:%d/body:%d" % c[:2] + ("/nagle" if c[2] == "nagle" else ""),
            self.http_slice,
            0.3 if smoke else 1.0, 1 if smoke else (self.a.rounds or 4))
        log("http             %5.1fs" % (time.time() - t0))

    def callgrind_server(self, kind, side, mode, conns, size, warm, count):
        """Instructions per unit of a server process: the server runs under callgrind with
        collection off, turns it on after `warm` units and exits `count` units later
        (bench/common/server_cg.h); the load generator just keeps it busy."""
        if kind == "tls":
            exe = self.binary("tls_echo_server", side)
            lgexe = os.path.join(self.bindir, "echo_loadgen_tls")
            env_units = (warm * size, count * size)
        else:
            exe = self.binary("http_server", side)
            lgexe = os.path.join(self.bindir, "http_loadgen")
            env_units = (warm, count)
        if not exe or not os.path.exists(lgexe):
            return None
        port = self.free_port()
        outfile = self.cg_outfile()
        cmd = callgrind_cmd(outfile) + [
               exe, str(port), "epoll"] + ([mode] if kind == "tls" else [])
        if kind == "tls":
            lg = [lgexe, str(port), str(conns), str(size), str(ECHO_DEPTH[size]), "600", "0"]
        else:
            lg = [lgexe, str(port), str(conns), str(size), "600", "0"]
        env = dict(os.environ, BENCH_CG_WARM=str(env_units[0]), BENCH_CG_COUNT=str(env_units[1]))
        what = "callgrind %s %s/%s C=%d S=%d" % (kind, side, mode, conns, size)
        srv = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        lgp = None
        try:
            ready, _, _ = select.select([srv.stdout], [], [], 60)
            if not ready or not srv.stdout.readline().startswith("READY"):
                self.errors.append("%s: server did not start" % what)
                return None
            lgp = subprocess.Popen(lg, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                _, err = srv.communicate(timeout=300)
            except subprocess.TimeoutExpired:
                self.errors.append("%s: timeout" % what)
                return None
        finally:
            if lgp:
                lgp.kill()
                lgp.wait()
            if srv.poll() is None:
                srv.kill()
                srv.wait()
        m = re.search(r"^CG_UNITS (\d+)$", err, re.M)
        total = read_cg_total(outfile)
        if not m or total is None:
            self.errors.append("%s: no data" % what)
            return None
        units = int(m.group(1)) / (size if kind == "tls" else 1)
        return total / units if units else None

    def run_callgrind_servers(self):
        if not shutil.which("valgrind"):
            return
        configs = [("http", "", 1, 100, 100, 300)] if self.a.smoke else SERVER_CALLGRIND
        res = {}
        t0 = time.time()
        for kind, mode, conns, size, warm, count in configs:
            if kind == "tls":
                key = "tls_echo/%s/conns:%d/size:%d" % (mode, conns, size)
            else:
                key = "http/epoll/conns:%d/body:%d" % (conns, size)
            for side in ("reevent", "libevent"):
                v = self.callgrind_server(kind, side, mode, conns, size, warm, count)
                if v is not None:
                    res.setdefault(key, {})[side] = v
        log("callgrind srv    %5.1fs" % (time.time() - t0))
        self.results["callgrind_servers"] = res


# ---- analysis ------------------------------------------------------------------------------

def per_op(b):
    """CPU ns per operation (per callback for dispatch)."""
    unit = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
    ops = b.get("cb_seen") or b.get("ops") or 1.0
    return b["cpu_time"] * unit / ops


def per_iter(b):
    unit = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
    return b["cpu_time"] * unit


def ratio_stats(xs, ys):
    """Per-slice ratios x[i]/y[i] of neighbouring slices: (median, min, max) or None."""
    rs = [x / y for x, y in zip(xs, ys) if y > 0]
    if not rs:
        return None
    return statistics.median(rs), min(rs), max(rs)


def fmt_ns(v):
    if v is None:
        return "–"
    if v >= 1e6:
        return "%.2f ms" % (v / 1e6)
    if v >= 1e3:
        return "%.2f µs" % (v / 1e3)
    return "%.1f ns" % v


def fmt_ratio(st):
    if not st:
        return "–"
    m, lo, hi = st
    return "**%.2f** (%.2f–%.2f)" % (m, lo, hi)


def med(vals):
    return statistics.median(vals) if vals else None


class Report:
    def __init__(self, runner, args):
        self.r = runner
        self.a = args
        self.lines = []
        self.targets = []
        self.date = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")

    def w(self, s=""):
        self.lines.append(s)

    def side_values(self, group, side, name, fn=per_op):
        bs = self.r.results.get(group, {}).get(side, {}).get(name, [])
        return [fn(b) for b in bs]

    def names(self, group):
        seen = []
        for side in self.r.results.get(group, {}).values():
            for n in side:
                if n not in seen:
                    seen.append(n)
        return seen

    def group_table(self, group, title, unit_note):
        names = self.names(group)
        if not names:
            return
        res = self.r.results[group]
        has_raw = "raw" in res
        self.w("### %s" % title)
        self.w()
        self.w(unit_note)
        self.w()
        hdr = "| benchmark | reevent | libevent | reevent/libevent (median, min–max) |"
        sep = "|---|---:|---:|---:|"
        if has_raw:
            hdr += " raw epoll | reevent/raw | libevent/raw |"
            sep += "---:|---:|---:|"
        self.w(hdr)
        self.w(sep)
        for n in names:
            re_v = self.side_values(group, "reevent", n)
            le_v = self.side_values(group, "libevent", n)
            row = "| `%s` | %s | %s | %s |" % (n, fmt_ns(med(re_v)), fmt_ns(med(le_v)), fmt_ratio(ratio_stats(re_v, le_v)))
            if has_raw:
                raw_v = self.side_values(group, "raw", n)
                row += " %s | %s | %s |" % (fmt_ns(med(raw_v)), fmt_ratio(ratio_stats(re_v, raw_v)),
                                           fmt_ratio(ratio_stats(le_v, raw_v)))
            self.w(row)
        self.w()
        self.backend_table(group)

    def backend_table(self, group):
        """The same workload across backends, per library (median CPU time per op)."""
        names = self.names(group)
        keyed = {}
        backends = []
        for n in names:
            parts = n.split("/")
            if len(parts) < 3 or parts[1] == "none":
                return
            be = parts[1]
            if be not in backends:
                backends.append(be)
            keyed.setdefault("/".join([parts[0]] + parts[2:]), {})[be] = n
        if len(backends) < 2:
            return
        self.w("Backend comparison (median CPU time per op; reevent / libevent):")
        self.w()
        self.w("| workload | " + " | ".join(backends) + " |")
        self.w("|---|" + "---:|" * len(backends))
        for k, per_be in keyed.items():
            cells = []
            for be in backends:
                n = per_be.get(be)
                if not n:
                    cells.append("–")
                    continue
                cells.append("%s / %s" % (fmt_ns(med(self.side_values(group, "reevent", n))),
                                          fmt_ns(med(self.side_values(group, "libevent", n)))))
            self.w("| `%s` | %s |" % (k, " | ".join(cells)))
        self.w()

    def ratio(self, group, name, a="reevent", b="libevent"):
        return ratio_stats(self.side_values(group, a, name), self.side_values(group, b, name))

    def target(self, what, goal, measured, ok):
        if ok is None and measured == "–":
            return  # not measured in this run (a partial run)
        state = "n/a" if ok is None else ("met" if ok else "**not met**")
        self.targets.append("| %s | %s | %s | %s |" % (what, goal, measured, state))

    def compute_targets(self):
        cg = self.r.results.get("callgrind", {})
        # dispatch vs raw epoll, CPU time and instructions
        for a in (1, 100):
            n = "dispatch/epoll/fds:1000/active:%d" % a
            st = self.ratio("dispatch", n, "reevent", "raw")
            self.target("dispatch CPU time vs raw epoll (`%s`)" % n, "≤ 1.03", fmt_ratio(st),
                        None if not st else st[0] <= 1.03)
            c = cg.get(n, {})
            if "raw" in c:
                for side in ("reevent", "libevent"):
                    if side in c:
                        x = c[side] / c["raw"]
                        if side == "reevent":
                            self.target("dispatch instructions per callback vs raw (`%s`)" % n, "≤ 2×",
                                        "%.2f× (%.0f vs %.0f Ir)" % (x, c[side], c["raw"]), x <= 2.0)
                        else:
                            self.target("(reference) libevent instructions per callback vs raw (`%s`)" % n, "–",
                                        "%.2f× (%.0f vs %.0f Ir)" % (x, c[side], c["raw"]), None)
        st = self.ratio("churn", "churn/epoll/fds:1000")
        self.target("churn del+add vs libevent (`churn/epoll/fds:1000`)", "≤ 0.40", fmt_ratio(st),
                    None if not st else st[0] <= 0.40)
        # What the time stands for: kernel changes per del+add (the benchmark counts them).
        ctl = {side: self.side_values("churn", side, "churn/epoll/fds:1000", lambda b: b.get("epoll_ctl"))
               for side in ("reevent", "libevent")}
        ctl = {side: [v for v in vs if v is not None] for side, vs in ctl.items()}
        if all(ctl.values()):
            self.target("(reference) epoll_ctl calls per del+add (`churn/epoll/fds:1000`)", "–",
                        "reevent %.2f, libevent %.2f" % (statistics.median(ctl["reevent"]),
                                                          statistics.median(ctl["libevent"])), None)
        for op in ("readd", "del", "fire"):
            n = "timers/epoll/%s/n:100000" % op
            st = self.ratio("timers", n)
            self.target("timers %s vs libevent (`%s`)" % (op, n), "≤ 0.50 (≥ 2× faster)", fmt_ratio(st),
                        None if not st else st[0] <= 0.50)
        ev = self.r.results.get("evbuffer", {})
        for n in self.names("evbuffer"):
            st = self.ratio("evbuffer", n)
            goal = "≤ 0.67 (1.5×)" if ("small_appends" in n or "readln" in n) else "≤ 1.00"
            lim = 0.67 if goal.startswith("≤ 0.67") else 1.0
            self.target("evbuffer `%s`" % n, goal, fmt_ratio(st), None if not st else st[0] <= lim)
        echo = self.r.results.get("echo", {})
        for key, sides in echo.items():
            if not key.startswith("echo/epoll/"):
                continue
            rv = [x["msgs_per_s"] for x in sides.get("reevent", [])]
            raw = [x["msgs_per_s"] for x in sides.get("raw", [])]
            st = ratio_stats(rv, raw)
            self.target("echo throughput vs raw epoll (`%s`)" % key, "≥ 0.90", fmt_ratio(st),
                        None if not st else st[0] >= 0.90)
        mem = self.r.results.get("memory", {})
        re_m = mem.get("reevent", {}).get("memory/epoll/per_idle_bufferevent")
        le_m = mem.get("libevent", {}).get("memory/epoll/per_idle_bufferevent")
        if re_m or le_m:
            rv = re_m[0]["bytes_hooked"] if re_m else None
            lv = le_m[0]["bytes_hooked"] if le_m else None
            self.target("heap per idle bufferevent connection (epoll)", "≤ 600 B",
                        "reevent %s, libevent %s" % ("%.0f B" % rv if rv is not None else "–",
                                                     "%.0f B" % lv if lv is not None else "–"),
                        None if rv is None else rv <= 600)
        for what in ("per_idle_fd", "per_timer", "per_event"):
            n = "memory/epoll/%s" % what
            r_ = mem.get("reevent", {}).get(n)
            l_ = mem.get("libevent", {}).get(n)
            if r_ or l_:
                rv = r_[0]["bytes_hooked"] if r_ else None
                lv = l_[0]["bytes_hooked"] if l_ else None
                self.target("heap %s (epoll)" % what, "≤ libevent",
                            "reevent %s, libevent %s" % ("%.0f B" % rv if rv is not None else "–",
                                                         "%.0f B" % lv if lv is not None else "–"),
                            None if rv is None or lv is None else rv <= lv + 0.5)
        # TLS echo and HTTP: the same bar as the rest, in throughput and in server instructions
        for group, rate in (("tls", "msgs_per_s"), ("http", "reqs_per_s")):
            res = self.r.results.get(group, {})
            rows = []
            for key, sides in res.items():
                st = ratio_stats([x[rate] for x in sides.get("reevent", [])],
                                 [x[rate] for x in sides.get("libevent", [])])
                if st:
                    rows.append((st[0], key, st))
            if rows:
                rows.sort()
                below = [r for r in rows if r[0] < 1.0]
                self.target("%s throughput reevent/libevent, every workload" % ("TLS echo" if group == "tls" else "HTTP"),
                            "≥ 1.00", "worst %s (`%s`); %d of %d below 1.0" % (fmt_ratio(rows[0][2]), rows[0][1],
                                                                          len(below), len(rows)), not below)
        srv = sorted(((c["reevent"] / c["libevent"], n) for n, c in self.r.results.get("callgrind_servers", {}).items()
                      if "reevent" in c and "libevent" in c), reverse=True)
        if srv:
            over = ["`%s` %.2f" % (n, x) for x, n in srv if x > 1.0]
            self.target("server instructions reevent/libevent (TLS echo, HTTP)", "≤ 1.00",
                        "%d of %d above 1.0%s" % (len(over), len(srv), (": " + ", ".join(over)) if over else ""),
                        not over)
        # the bar for all: ratio <= 1.0 on epoll (and backend-less evbuffer)
        worst = []
        for g in ("dispatch", "dispatch_timeout", "churn", "overhead", "timers", "evbuffer", "bufferevent", "lock"):
            for n in self.names(g):
                parts = n.split("/")
                if len(parts) > 1 and parts[1] in ("epoll", "none") or (g == "lock" and "/epoll/" in n):
                    st = self.ratio(g, n)
                    if st:
                        worst.append((st[0], n))
        if worst:
            worst.sort(reverse=True)
            bad = [w for w in worst if w[0] > 1.0]
            self.target("bar: every epoll workload reevent/libevent ≤ 1.0", "≤ 1.00",
                        "worst %.2f (`%s`); %d of %d above 1.0" % (worst[0][0], worst[0][1], len(bad), len(worst)),
                        not bad)
        # the same bar in user-space instructions (deterministic; CPU ratios of syscall-bound
        # rows swing +-20 % per slice on a shared VM)
        irs = sorted(((c["reevent"] / c["libevent"], n) for n, c in cg.items()
                      if "reevent" in c and "libevent" in c and "/epoll" in n), reverse=True)
        if irs:
            over = ["`%s` %.2f" % (n, x) for x, n in irs if x > 1.0]
            self.target("bar, noise-free view: user-space instructions reevent/libevent on every epoll "
                        "workload", "≤ 1.00",
                        "%d of %d above 1.0%s; median %.2f" % (len(over), len(irs),
                                                               (": " + ", ".join(over)) if over else "",
                                                               irs[len(irs) // 2][0]), not over)

    def write(self, path):
        a = self.a
        self.compute_targets()
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        sides_file = os.path.join(self.r.bindir, "reevent_sides.txt")
        sides = open(sides_file).read().strip().splitlines() if os.path.exists(sides_file) else []
        self.w("# reevent vs libevent 2.1.12: benchmarks")
        self.w()
        how = "bench/run.sh%s" % (" --smoke" if a.smoke else "")
        if a.only:
            how = "bench/compare.py%s --only %s" % (" --smoke" if a.smoke else "", a.only)
        self.w("Generated by `%s` on %s, commit `%s`, on %s (%d CPUs, %s). "
               "Method: `docs/parts/design-bench.md`." % (how, self.date, commit,
                                                           os.uname().nodename, os.cpu_count(), os.uname().release))
        self.w()
        self.w("How to read: every time is **CPU time per operation** (per callback for the dispatch and lock "
               "workloads), the median over interleaved slices pinned to CPU %d. A ratio is reevent/libevent "
               "(below 1.0 = reevent faster), taken slice by slice between neighbouring slices; the "
               "median is bold and the min–max of the per-slice ratios follows. `raw epoll` is the "
               "hand-written ceiling in `bench/raw/` and `bench/echo/raw_echo_server.cpp`." % self.r.cpu)
        self.w()
        self.w("Reproduce: `bench/run.sh` (full run, about 20 minutes, installs gnuplot-nox and valgrind "
               "if missing) or `cmake --build --preset bench --target bench-report`; `bench/run.sh --smoke` "
               "is a bounded check (< 60 s) that writes `build/bench/smoke/benchmarks.md`. Where a "
               "benchmark's instructions go: `bench/cg_profile.sh <binary> <benchmark name>`.")
        self.w()
        self.w("Targeted before/after re-runs of single groups, with their instruction counts and "
               "explanations, are kept by hand in `docs/benchmarks-history.md` (this file is "
               "regenerated whole).")
        self.w()
        self.w("## Which reevent sides were built")
        self.w()
        for s in sides:
            self.w("- " + s)
        self.w()
        self.w("## Targets (%s)" % self.date)
        self.w()
        self.w("| target | goal | measured | state |")
        self.w("|---|---|---|---|")
        for t in self.targets:
            self.w(t)
        self.w()
        slow = self.slower_rows()
        if slow:
            self.w("## Where reevent is slower than libevent")
            self.w()
            self.w("Every comparison whose median ratio is above 1.00 (all backends), worst first; compare "
                   "with the A-vs-A spread below before reading much into ratios near 1.")
            self.w()
            self.w("| benchmark | reevent/libevent (median, min–max) |")
            self.w("|---|---:|")
            for st, n in slow:
                self.w("| `%s` | %s |" % (n, fmt_ratio(st)))
            self.w()
        ava = self.r.results.get("ava")
        if ava:
            self.w("## Noise: libevent against itself (A-vs-A)")
            self.w()
            self.w("The same binary in both slots, interleaved exactly like the comparisons. A "
                   "ratio's distance from 1.00 here is what noise alone produces on this machine.")
            self.w()
            self.w("| benchmark | A | B | A/B (median, min–max) |")
            self.w("|---|---:|---:|---:|")
            for n in self.names("ava"):
                av = self.side_values("ava", "A", n)
                bv = self.side_values("ava", "B", n)
                self.w("| `%s` | %s | %s | %s |" % (n, fmt_ns(med(av)), fmt_ns(med(bv)), fmt_ratio(ratio_stats(av, bv))))
            self.w()
        self.w("## Workloads")
        self.w()
        self.group_table("dispatch", "Dispatch chain (N fds, A active; per callback)",
                         "One iteration = one `event_base_loop(EVLOOP_ONCE)` round; time per callback.")
        if self.r.results.get("dispatch") and os.path.exists(os.path.join(a.plots, "dispatch_active1.png")):
            self.w("![dispatch, A=1](plots/dispatch_active1.png) ![dispatch, A=100](plots/dispatch_active100.png)")
            self.w()
        self.group_table("dispatch_timeout", "Dispatch chain, each callback re-arms a timeout",
                         "As above; every callback calls `event_add(ev, 10 s)` on itself.")
        self.group_table("churn", "Event churn: del + add of a registered fd", "Time per del+add pair.")
        self.group_table("overhead", "Library overhead without syscalls",
                         "`event_active:100`: 100 `event_active` calls + one non-blocking loop pass, time per "
                         "callback; `timer_add_del`: `event_add` + `event_del` of a timer, time per pair. Each "
                         "library with its default locking (reevent locks by default; libevent without "
                         "`evthread_use_pthreads` does not).")
        self.group_table("timers", "Timers (100 000)",
                         "Time per timer (batch workloads divided by 100 000; `readd` and `common_readd` per call).")
        self.group_table("evbuffer", "evbuffer", "Time per operation (per append, per line, per chunk).")
        self.group_table("bufferevent", "bufferevent throughput", "Time per message (write on one end until read on the other).")
        self.group_table("lock", "Locking cost (evthread_use_pthreads; `locked` vs `EVENT_BASE_FLAG_NOLOCK`)",
                         "Both libraries after `evthread_use_pthreads()`: `locked` is a default base, `nolock` "
                         "a base with `EVENT_BASE_FLAG_NOLOCK`. Time per callback (dispatch chain, "
                         "`event_active:100`) or per add+del pair (`timer_add_del`).")
        self.lock_summary()
        self.echo_section()
        self.server_section("tls", "TLS echo over loopback (libevent_openssl; separate load-generator process)",
                            "Server `bench_tls_echo_server_<lib>`: `evconnlistener`, then per connection "
                            "`bufferevent_openssl_socket_new` on the accepted fd (`socket`) or "
                            "`bufferevent_openssl_filter_new` over a socket bufferevent (`filter`), "
                            "`BUFFEREVENT_SSL_ACCEPTING`, the read callback moves the decrypted input to "
                            "the output. Self-signed P-256 certificate made in memory at start-up; TLS 1.3 "
                            "(OpenSSL %s, the same for both sides). Load generator `echo_loadgen_tls` "
                            "(OpenSSL client, no libevent) on the other CPU, C connections each keeping 8 "
                            "(64 B) or 4 (16 KiB) messages in flight. Server pinned to CPU %d." % (
                                openssl_version(), self.r.cpu),
                            "msgs_per_s", "msg/s", "server_cpu_us_per_msg", "server µs/msg")
        self.server_section("http", "HTTP request/response (evhttp; raw-socket load generator in a separate process)",
                            "Server `bench_http_server_<lib>`: `evhttp_bind_socket_with_handle`, a generic callback "
                            "answering `GET /<n>` with an n-byte body (`evbuffer_add` into a fresh evbuffer, "
                            "`Content-Type` header, `evhttp_send_reply`). Load generator `http_loadgen` "
                            "(raw sockets and epoll, no libevent) on the other CPU: C keep-alive HTTP/1.1 "
                            "connections, one request outstanding on each. TCP_NODELAY is set on the "
                            "listening socket (inherited by accepted sockets) as in the echo servers; the "
                            "`/nagle` rows leave it off, as a bare evhttp program has it. Server pinned to "
                            "CPU %d." % self.r.cpu,
                            "reqs_per_s", "req/s", "server_cpu_us_per_req", "server µs/req")
        self.memory_section()
        self.callgrind_section()
        if self.r.errors:
            self.w("## Problems during this run")
            self.w()
            for e in self.r.errors[:40]:
                self.w("- " + e.replace("\n", " "))
            self.w()
        with open(path, "w") as f:
            f.write("\n".join(self.lines) + "\n")

    def slower_rows(self):
        rows = []
        for g in ("dispatch", "dispatch_timeout", "churn", "overhead", "timers", "evbuffer", "bufferevent", "lock"):
            for n in self.names(g):
                st = self.ratio(g, n)
                if st and st[0] > 1.0:
                    rows.append((st, n))
        rows.sort(key=lambda x: -x[0][0])
        return rows

    def lock_summary(self):
        """Cost of the lock itself: locked/nolock per library, per workload."""
        names = [n for n in self.names("lock") if "/locked/" in n]
        if not names:
            return
        self.w("Lock cost per library (median CPU time, locked − nolock, and locked/nolock):")
        self.w()
        self.w("| workload | reevent locked − nolock | reevent locked/nolock | libevent locked − nolock | libevent locked/nolock |")
        self.w("|---|---:|---:|---:|---:|")
        for n in names:
            u = n.replace("/locked/", "/nolock/")
            cells = []
            for side in ("reevent", "libevent"):
                lv = self.side_values("lock", side, n)
                uv = self.side_values("lock", side, u)
                if lv and uv:
                    cells.append(fmt_ns(med(lv) - med(uv)) if med(lv) >= med(uv) else "−" + fmt_ns(med(uv) - med(lv)))
                    cells.append(fmt_ratio(ratio_stats(lv, uv)))
                else:
                    cells += ["–", "–"]
            self.w("| `%s` | %s |" % (n.replace("/locked", ""), " | ".join(cells)))
        self.w()

    def echo_section(self):
        echo = self.r.results.get("echo")
        if not echo:
            return
        self.w("### Echo server over loopback (separate load-generator process)")
        self.w()
        self.w("Server on `evconnlistener` + socket bufferevents (pinned to CPU %d), load generator "
               "`echo_loadgen` on the other CPU; C connections each keeping 8 (64 B) or 4 (16 KiB) "
               "messages in flight. Median messages/s over interleaved slices, server CPU µs per "
               "message, ratios per slice." % self.r.cpu)
        self.w()
        if os.path.exists(os.path.join(self.a.plots, "echo_throughput.png")):
            self.w("![echo throughput](plots/echo_throughput.png)")
            self.w()
        self.w("| workload | reevent msg/s | libevent msg/s | raw msg/s | reevent/libevent | reevent/raw | libevent/raw | MB/s (re / le / raw) | server µs/msg (re / le / raw) |")
        self.w("|---|---:|---:|---:|---:|---:|---:|---|---|")
        for key, sides in echo.items():
            def vals(s, k="msgs_per_s"):
                return [x[k] for x in sides.get(s, []) if k in x]
            def m(s, k="msgs_per_s", f="%.0f"):
                v = med(vals(s, k))
                return f % v if v is not None else "–"
            self.w("| `%s` | %s | %s | %s | %s | %s | %s | %s / %s / %s | %s / %s / %s |" % (
                key, m("reevent"), m("libevent"), m("raw"),
                fmt_ratio(ratio_stats(vals("reevent"), vals("libevent"))),
                fmt_ratio(ratio_stats(vals("reevent"), vals("raw"))),
                fmt_ratio(ratio_stats(vals("libevent"), vals("raw"))),
                m("reevent", "mb_per_s", "%.1f"), m("libevent", "mb_per_s", "%.1f"), m("raw", "mb_per_s", "%.1f"),
                m("reevent", "server_cpu_us_per_msg", "%.2f"), m("libevent", "server_cpu_us_per_msg", "%.2f"),
                m("raw", "server_cpu_us_per_msg", "%.2f")))
        self.w()

    def server_section(self, group, title, note, rate_key, rate_unit, cpu_key, cpu_unit):
        res = self.r.results.get(group)
        if not res:
            return
        self.w("### %s" % title)
        self.w()
        self.w(note + " Medians over interleaved 1 s slices (reevent, libevent, order reversed "
               "every round); ratios per round, median and min–max; server CPU per unit from "
               "`/proc/<pid>/stat` (user + system, connection setup and warm-up included). Measured %s." % self.date)
        self.w()
        self.w("| workload | reevent %s | libevent %s | reevent/libevent throughput | MB/s (re / le) | "
               "%s (re / le) | reevent/libevent CPU per unit | slices |" % (rate_unit, rate_unit, cpu_unit))
        self.w("|---|---:|---:|---:|---|---|---:|---:|")
        for key, sides in res.items():
            def vals(s, k):
                return [x[k] for x in sides.get(s, []) if x.get(k)]
            def m(s, k, f):
                v = med(vals(s, k))
                return f % v if v is not None else "–"
            self.w("| `%s` | %s | %s | %s | %s / %s | %s / %s | %s | %d / %d |" % (
                key, m("reevent", rate_key, "%.0f"), m("libevent", rate_key, "%.0f"),
                fmt_ratio(ratio_stats(vals("reevent", rate_key), vals("libevent", rate_key))),
                m("reevent", "mb_per_s", "%.1f"), m("libevent", "mb_per_s", "%.1f"),
                m("reevent", cpu_key, "%.2f"), m("libevent", cpu_key, "%.2f"),
                fmt_ratio(ratio_stats(vals("reevent", cpu_key), vals("libevent", cpu_key))),
                len(sides.get("reevent", [])), len(sides.get("libevent", []))))
        self.w()
        cg = self.r.results.get("callgrind_servers", {})
        rows = [(k, v) for k, v in cg.items() if k.split("/")[0] == ("tls_echo" if group == "tls" else "http")]
        if rows:
            self.w("User-space instructions of the server process per %s (callgrind, steady state: "
                   "collection on after a warm-up, off a fixed number of units later; "
                   "`bench/common/server_cg.h`). Includes OpenSSL's own instructions for TLS "
                   "(the same library on both sides)." % ("echoed message" if group == "tls" else "request"))
            self.w()
            self.w("| workload | reevent Ir | libevent Ir | reevent/libevent |")
            self.w("|---|---:|---:|---:|")
            for k, v in rows:
                rl = "%.2f" % (v["reevent"] / v["libevent"]) if "reevent" in v and "libevent" in v else "–"
                self.w("| `%s` | %s | %s | %s |" % (k, "%.0f" % v["reevent"] if "reevent" in v else "–",
                                                    "%.0f" % v["libevent"] if "libevent" in v else "–", rl))
            self.w()

    def memory_section(self):
        mem = self.r.results.get("memory")
        if not mem:
            return
        self.w("### Memory")
        self.w()
        self.w("Bytes per object: heap through `event_set_mem_functions` hooks (block sizes by "
               "`malloc_usable_size`) and, in brackets, the `mallinfo2()` in-use delta (sees "
               "allocations that bypass the hooks). 4 000 objects (800 on select).")
        self.w()
        self.w("| measurement | reevent | libevent |")
        self.w("|---|---:|---:|")
        names = []
        for side in mem.values():
            for n in side:
                if n not in names:
                    names.append(n)
        for n in names:
            cells = []
            for side in ("reevent", "libevent"):
                b = mem.get(side, {}).get(n)
                cells.append("%.0f B (%.0f B)" % (b[0]["bytes_hooked"], b[0]["bytes_heap"]) if b else "–")
            self.w("| `%s` | %s | %s |" % (n, cells[0], cells[1]))
        self.w()

    def callgrind_section(self):
        cg = self.r.results.get("callgrind")
        if not cg:
            return
        self.w("### User-space instructions per operation (callgrind)")
        self.w()
        self.w("`valgrind --tool=callgrind --collect-atstart=no`, collection toggled around the measured "
               "loop (`CALLGRIND_TOGGLE_COLLECT`), fixed iteration counts; instructions per op "
               "(per callback for dispatch). Deterministic: this is the noise-free view.")
        self.w()
        self.w("| benchmark | reevent | libevent | raw epoll | reevent/libevent | reevent/raw |")
        self.w("|---|---:|---:|---:|---:|---:|")
        for n, sides in cg.items():
            def f(s):
                return "%.0f" % sides[s] if s in sides else "–"
            rl = "%.2f" % (sides["reevent"] / sides["libevent"]) if "reevent" in sides and "libevent" in sides else "–"
            rr = "%.2f" % (sides["reevent"] / sides["raw"]) if "reevent" in sides and "raw" in sides else "–"
            self.w("| `%s` | %s | %s | %s | %s | %s |" % (n, f("reevent"), f("libevent"), f("raw"), rl, rr))
        self.w()


# ---- plots ---------------------------------------------------------------------------------

def plots(runner, outdir, tmp):
    if not shutil.which("gnuplot"):
        runner.errors.append("gnuplot not found: no plots")
        return
    os.makedirs(outdir, exist_ok=True)
    disp = runner.results.get("dispatch", {})
    for a in (1, 100):
        series = []
        for side in ("reevent", "libevent", "raw"):
            for be in ("epoll", "poll", "select"):
                pts = []
                for name, bs in disp.get(side, {}).items():
                    m = re.match(r"dispatch/%s/fds:(\d+)/active:%d$" % (be, a), name)
                    if m:
                        pts.append((int(m.group(1)), statistics.median(per_iter(b) for b in bs) / 1e3))
                if pts:
                    pts.sort()
                    dat = os.path.join(tmp, "d_%s_%s_%d.dat" % (side, be, a))
                    with open(dat, "w") as f:
                        for x, y in pts:
                            f.write("%d %g\n" % (x, y))
                    series.append((dat, "%s %s" % (side, be)))
        if not series:
            continue
        gp = ["set terminal pngcairo size 900,560" if gnuplot_has("pngcairo") else "set terminal png size 900,560",
              "set output '%s'" % os.path.join(outdir, "dispatch_active%d.png" % a),
              "set title 'Dispatch round (A=%d active), CPU time per round vs registered fds'" % a,
              "set logscale xy", "set xlabel 'registered fds (N)'", "set ylabel 'µs per round'",
              "set key left top", "set grid"]
        gp.append("plot " + ", ".join("'%s' using 1:2 with linespoints title '%s'" % s for s in series))
        subprocess.run(["gnuplot"], input="\n".join(gp), text=True, capture_output=True)
    echo = runner.results.get("echo", {})
    series = []
    for size in (64, 16384):
        for side in ("reevent", "libevent", "raw"):
            pts = []
            for key, sides in echo.items():
                m = re.match(r"echo/epoll/conns:(\d+)/size:%d$" % size, key)
                if m and sides.get(side):
                    pts.append((int(m.group(1)), statistics.median(x["mb_per_s"] for x in sides[side])))
            if pts:
                pts.sort()
                dat = os.path.join(tmp, "e_%s_%d.dat" % (side, size))
                with open(dat, "w") as f:
                    for x, y in pts:
                        f.write("%d %g\n" % (x, y))
                series.append((dat, "%s %s B" % (side, size)))
    if series:
        gp = ["set terminal pngcairo size 900,560" if gnuplot_has("pngcairo") else "set terminal png size 900,560",
              "set output '%s'" % os.path.join(outdir, "echo_throughput.png"),
              "set title 'Echo over loopback (epoll): throughput vs connections'",
              "set logscale xy", "set xlabel 'connections'", "set ylabel 'MB/s echoed'",
              "set key outside right", "set grid"]
        gp.append("plot " + ", ".join("'%s' using 1:2 with linespoints title '%s'" % s for s in series))
        subprocess.run(["gnuplot"], input="\n".join(gp), text=True, capture_output=True)


def openssl_version():
    try:
        return subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.split()[1]
    except (OSError, IndexError):
        return "?"


def gnuplot_has(term):
    p = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True, text=True)
    return term in (p.stdout + p.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "benchmarks.md"))
    ap.add_argument("--plots", default=os.path.join(ROOT, "docs", "plots"))
    ap.add_argument("--cpu", type=int, default=1)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--only", default="", help="comma list: groups,ava,memory,callgrind,echo,tls,http,cgserver")
    ap.add_argument("--min-time", type=float, default=0, help="override --benchmark_min_time per slice")
    ap.add_argument("--rounds", type=int, default=0, help="override the number of interleaved rounds")
    ap.add_argument("--echo-configs", default="", help="e.g. 50x64,500x16384 (connections x bytes)")
    ap.add_argument("--echo-backends", default="", help="e.g. epoll,poll")
    ap.add_argument("--group", default="", help="comma list of workload groups (default: all)")
    ap.add_argument("--report-only", default="", help="write the report from a saved results.json, run nothing")
    args = ap.parse_args()
    args.tmp = tempfile.mkdtemp(prefix="reevent-bench.")
    r = Runner(args)
    if args.report_only:
        with open(args.report_only) as f:
            r.results = json.load(f)
        rep = Report(r, args)
        rep.date = datetime.datetime.utcfromtimestamp(os.path.getmtime(args.report_only)).strftime("%Y-%m-%d %H:%M UTC")
        rep.write(args.out)
        return 0
    only = set(x for x in args.only.split(",") if x)
    t0 = time.time()
    if not only or "groups" in only:
        r.run_groups()
    if not only or "ava" in only:
        r.run_ava()
    if not only or "memory" in only:
        r.run_memory()
    if not only or "echo" in only:
        r.run_echo()
    if not only or "tls" in only:
        r.run_tls()
    if not only or "http" in only:
        r.run_http()
    if not only or "callgrind" in only:
        r.run_callgrind()
    if not only or "callgrind" in only or "cgserver" in only:
        r.run_callgrind_servers()
    if not args.smoke:
        plots(r, args.plots, args.tmp)
    with open(os.path.join(args.tmp, "results.json"), "w") as f:
        json.dump(r.results, f)
    rep = Report(r, args)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    rep.write(args.out)
    shutil.copy(os.path.join(args.tmp, "results.json"), os.path.join(args.build_dir, "bench", "results.json"))
    log("done in %.0fs: %s (%d problems)" % (time.time() - t0, args.out, len(r.errors)))
    for e in r.errors:
        log("problem: " + e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
