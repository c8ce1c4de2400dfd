#!/usr/bin/env python3
"""dnsproxy 1.17 (Debian's DNS proxy from the OpenBSD world) as an end-to-end client of the
library.

dnsproxy uses only the pre-2.0 API through libevent-2.1.so.7 (event_init, event_set,
event_add, event_del, event_dispatch, event_loopexit): one-shot read events (re-added after
each read) on its client socket and its upstream socket, a timer per query in flight
(event_set on fd -1), a statistics timer re-added from its callback, and
EV_SIGNAL|EV_PERSIST events for SIGHUP, SIGINT and SIGTERM (seen with an LD_PRELOAD tracer
of event_set). The test runs it on a free port of 127.0.0.1 with two upstream servers of
its own (UDP, in this process): an "authoritative" and a "recursive" one that answer every
query with a TXT record naming themselves, except names that start with "drop" (never answered) and "late" (answered
after 1.5 s). Timeouts are 1 s, statistics every 1 s:
  1. a recursive query (RD set, from the internal 127.0.0.1) goes to the recursive server,
     one without RD to the authoritative one; answers come back with the client's id;
  2. a dropped query gets no answer, and the next statistics count it in TimeoutQ; a late
     answer (after dnsproxy's 1 s timeout) counts in LateAnsw and is not forwarded;
  3. 200 queries from 20 sockets at once: every one answered, each with its own id;
  4. the statistics timer prints about once a second, with counts that add up;
  5. SIGTERM: "exiting on signal 15" (dnsproxy then exits 1, on both libraries).
"""

import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (Env, check, log, main_wrapper, parse_args, skip_unless_importable,  # noqa
                       verify_ldd, verify_mapped, show_on_failure, TestFailure)

DNSPROXY = "/usr/sbin/dnsproxy"


def upstream(tag):
    """A UDP server answering each query with a TXT record `tag` (see the module doc)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))

    def answer(d, addr):
        ident, _flags, _qd, _an, _ns, _ar = struct.unpack("!6H", d[:12])
        rr = b"\xc0\x0c" + struct.pack("!HHIH", 16, 1, 60, len(tag) + 1) + bytes([len(tag)]) + tag
        s.sendto(struct.pack("!6H", ident, 0x8180, 1, 1, 0, 0) + d[12:] + rr, addr)

    def loop():
        while True:
            try:
                d, addr = s.recvfrom(4096)
            except OSError:
                return
            if d[12:17] == b"\x04drop":
                continue
            if d[12:17] == b"\x04late":
                threading.Timer(1.5, answer, (d, addr)).start()
                continue
            answer(d, addr)

    threading.Thread(target=loop, daemon=True).start()
    return s.getsockname()[1]


def query(port, name, ident, rd=True, sock=None, timeout=3.0):
    """(TXT of the answer or None, seconds) for one query."""
    s = sock or socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    s.sendto(struct.pack("!6H", ident, 0x0100 if rd else 0, 1, 0, 0, 0) + qname
             + struct.pack("!HH", 16, 1), ("127.0.0.1", port))
    t0 = time.monotonic()
    try:
        d = s.recv(4096)
    except socket.timeout:
        return None, time.monotonic() - t0
    check(struct.unpack("!H", d[:2])[0] == ident, "%s: answer id %d, want %d"
          % (name, struct.unpack("!H", d[:2])[0], ident))
    return d[d.rindex(b"\x00\x10\x00\x01") + 11:].decode(errors="replace"), time.monotonic() - t0


STAT_RE = re.compile(r"ActiveQr AuthorQr RecursQr AllQuery Answered\n\s*(\d+)\s+(\d+)\s+(\d+)\s+"
                     r"(\d+)\s+(\d+)\nTimeoutQ DroppedQ DroppedA LateAnsw HashColl\n\s*(\d+)\s+"
                     r"(\d+)\s+(\d+)\s+(\d+)\s+(\d+)")


def stats(logpath):
    """All statistics blocks so far, each a dict."""
    keys = ["active", "author", "recurs", "all", "answered", "timeout", "droppedq", "droppeda",
            "late", "hashcoll"]
    return [dict(zip(keys, map(int, m.groups()))) for m in STAT_RE.finditer(open(logpath).read())]


def body():
    args = parse_args()
    e = Env(args, "dnsproxy")
    verify_ldd(e, DNSPROXY)
    skip_unless_importable(e, DNSPROXY)

    auth, recur = upstream(b"authoritative"), upstream(b"recursive")
    port = e.free_port()
    conf = os.path.join(e.tmp, "dnsproxy.conf")
    with open(conf, "w") as f:
        f.write("authoritative 127.0.0.1\nauthoritative-port %d\nauthoritative-timeout 1\n"
                "recursive 127.0.0.1\nrecursive-port %d\nrecursive-timeout 1\n"
                "listen 127.0.0.1\nport %d\nstatistics 1\ninternal 127.0.0.1\n"
                % (auth, recur, port))
    logpath = show_on_failure(os.path.join(e.tmp, "dnsproxy.log"))
    p = e.spawn([DNSPROXY, "-c", conf], stdout=open(logpath, "w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while True:  # UDP: ask until it answers
        check(p.poll() is None, "dnsproxy exited at start: %s" % open(logpath).read())
        check(time.monotonic() < deadline, "dnsproxy does not answer on %d" % port)
        if query(port, "up.example", 1, timeout=0.2)[0] == "recursive":
            break
    verify_mapped(e, p.pid, "dnsproxy")

    # 1. routing
    r = query(port, "a.example", 2)
    check(r[0] == "recursive", "a recursive query: %r" % (r,))
    r = query(port, "b.example", 3, rd=False)
    check(r[0] == "authoritative", "a query without RD: %r" % (r,))
    log("RD query answered by the recursive server, non-RD by the authoritative one")

    # 2. timeout and late answer
    t0 = time.monotonic()
    res = {}

    def ask(name, ident):
        # 2 s: the late answer (1.5 s) would have arrived if dnsproxy forwarded it
        res[name] = query(port, name, ident, timeout=2.0)

    asks = [threading.Thread(target=ask, args=a) for a in (("drop.example", 4),
                                                           ("late.example", 5))]
    for t in asks:
        t.start()
    for t in asks:
        t.join(10)
    check(res["drop.example"][0] is None, "a dropped query got an answer: %r" % (res,))
    check(res["late.example"][0] is None, "an answer after dnsproxy's timeout was forwarded: "
          "%r" % (res,))
    deadline = time.monotonic() + 5
    while not (stats(logpath) and stats(logpath)[-1]["timeout"] == 2
               and stats(logpath)[-1]["late"] == 1):
        check(time.monotonic() < deadline, "statistics do not show 2 timeouts and 1 late "
              "answer: %s" % stats(logpath)[-1:])
        time.sleep(0.1)
    log("dropped and late queries: no answer; TimeoutQ 2, LateAnsw 1 (%.1f s)"
        % (time.monotonic() - t0))

    # 3. 200 queries from 20 sockets at once
    errors = []
    ok = [0]
    lock = threading.Lock()

    def burst(k):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            for i in range(10):
                ident = 1000 + k * 10 + i
                r = query(port, "q%d.example" % ident, ident, rd=(i % 2 == 0), sock=s)
                want = "recursive" if i % 2 == 0 else "authoritative"
                if r[0] != want:
                    raise TestFailure("query %d: %r, want %s" % (ident, r, want))
                with lock:
                    ok[0] += 1
        except Exception as ex:  # noqa: BLE001 - reported below
            with lock:
                errors.append(str(ex))
        finally:
            s.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=burst, args=(k,)) for k in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    took = time.monotonic() - t0
    check(not errors, "burst: %s" % errors[:5])
    check(ok[0] == 200, "%d of 200 queries answered" % ok[0])
    log("200 queries from 20 sockets: all answered with their ids in %.2f s" % took)

    # 4. the statistics timer
    n0, t0 = len(stats(logpath)), time.monotonic()
    time.sleep(3.2)
    n = len(stats(logpath)) - n0
    check(2 <= n <= 5, "%d statistics blocks in 3.2 s at 'statistics 1'" % n)
    last = stats(logpath)[-1]
    # up.example (1 answered, more if asked again), a, b, drop, late, 200
    check(last["answered"] == last["all"] - 2 and last["active"] == 0
          and last["author"] + last["recurs"] == last["all"]
          and last["all"] >= 204, "final statistics do not add up: %s" % last)
    log("%d statistics blocks in 3.2 s; last %s" % (n, last))

    # 5. SIGTERM
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        raise TestFailure("dnsproxy did not exit within 10 s of SIGTERM")
    text = open(logpath).read()
    check("exiting on signal 15" in text and rc == 1,
          "after SIGTERM: exit %d, log %s" % (rc, text[-300:]))
    e.record("dnsproxy on %s: 200 queries through it in %.2f s" % (e.side, took))


if __name__ == "__main__":
    main_wrapper(body)
