#!/usr/bin/env python3
"""unbound 1.17 (Debian's validating resolver) as an end-to-end client of the library.

unbound embeds struct event in its own comm points (event_set / event_assign, or calloc of
sizeof(struct event)) and *writes* ev_events and ev_fd between event_del and event_add, so it
proves that our struct event layout is the live state the library reads. No upstream is
contacted: the only answers come from local-data. The test:
  1. starts `unbound -d` (2 threads) on 127.0.0.1 with a private config and control socket;
  2. UDP and TCP queries with exact answers (A, TXT, NXDOMAIN inside a static zone, REFUSED
     for a name outside it since recursion to the Internet is cut off: see the config);
  3. 400 UDP queries from 16 concurrent sockets + 40 TCP connections, every answer checked;
  4. `unbound-control status` and `reload` (its own libevent client, on the same side),
     answers still right after the reload; SIGHUP reload too;
  5. SIGTERM: exit 0, no process left.
"""

import os
import random
import signal
import socket
import struct
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (Env, check, log, main_wrapper, parse_args, skip_unless_importable,  # noqa
                       verify_ldd, verify_mapped, show_on_failure, TestFailure)

UNBOUND = "/usr/sbin/unbound"
CONTROL = "/usr/sbin/unbound-control"
QTYPE = {"A": 1, "TXT": 16}


def query_packet(qid, name, qtype):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)   # RD set, one question
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack(">HH", QTYPE[qtype], 1)


def skip_name(msg, i):
    while True:
        n = msg[i]
        if n == 0:
            return i + 1
        if n & 0xC0 == 0xC0:
            return i + 2
        i += n + 1


def parse_answer(msg, qid):
    """(rcode, [rdata as text]) of a reply."""
    rid, flags, qd, an, _ns, _ar = struct.unpack(">HHHHHH", msg[:12])
    check(rid == qid, "reply id %d for query %d" % (rid, qid))
    check(flags & 0x8000, "not a reply")
    i = 12
    for _ in range(qd):
        i = skip_name(msg, i) + 4
    out = []
    for _ in range(an):
        i = skip_name(msg, i)
        typ, _cls, _ttl, rdlen = struct.unpack(">HHIH", msg[i:i + 10])
        rd = msg[i + 10:i + 10 + rdlen]
        i += 10 + rdlen
        if typ == 1:
            out.append(socket.inet_ntoa(rd))
        elif typ == 16:
            out.append(rd[1:1 + rd[0]].decode())
    return flags & 0xF, out


def udp_query(port, name, qtype, sock=None, timeout=5, attempts=3):
    qid = random.randrange(65536)
    s = sock or socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        for _attempt in range(attempts):
            s.sendto(query_packet(qid, name, qtype), ("127.0.0.1", port))
            try:
                while True:
                    msg, _ = s.recvfrom(4096)
                    if msg[:2] == struct.pack(">H", qid):
                        return parse_answer(msg, qid)
            except socket.timeout:
                continue
        raise TestFailure("no UDP answer for %s %s in %d s" % (name, qtype, timeout * attempts))
    finally:
        if sock is None:
            s.close()


def tcp_query(port, name, qtype):
    qid = random.randrange(65536)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        q = query_packet(qid, name, qtype)
        s.sendall(struct.pack(">H", len(q)) + q)
        buf = b""
        while len(buf) < 2 or len(buf) < 2 + struct.unpack(">H", buf[:2])[0]:
            d = s.recv(4096)
            check(d, "TCP connection closed before the answer")
            buf += d
        return parse_answer(buf[2:], qid)


EXPECT = [("a.test.example", "A", (0, ["192.0.2.1"])),
          ("b.test.example", "A", (0, ["192.0.2.2"])),
          ("t.test.example", "TXT", (0, ["hello reevent"])),
          ("missing.test.example", "A", (3, []))]


def concurrent_load(port, expect):
    """16 UDP sockets sending 25 queries each and 40 TCP connections at once; every answer
    must equal its entry in expect ((name, qtype, answer) triples)."""
    def udp_worker(k):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            for i in range(25):
                name, qtype, want = expect[(k + i) % len(expect)]
                got = udp_query(port, name, qtype, sock=s)
                check(got == want, "concurrent udp %s: %s" % (name, got))
        finally:
            s.close()

    def tcp_worker(k):
        name, qtype, want = expect[k % len(expect)]
        check(tcp_query(port, name, qtype) == want, "concurrent tcp %s" % name)
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=16) as ex:
        list(ex.map(udp_worker, range(16)))
        list(ex.map(tcp_worker, range(40)))
    log("400 UDP queries on 16 sockets and 40 TCP connections, all answers right, %.2f s"
        % (time.monotonic() - t0))


def check_answers(port, how):
    for name, qtype, want in EXPECT:
        got = (udp_query if how == "udp" else tcp_query)(port, name, qtype)
        check(got == want, "%s %s %s: got %s, want %s" % (how, name, qtype, got, want))


def body():
    args = parse_args()
    e = Env(args, "unbound")
    verify_ldd(e, UNBOUND)
    skip_unless_importable(e, UNBOUND)
    port = e.free_port()
    conf = os.path.join(e.tmp, "unbound.conf")
    ctl = os.path.join(e.tmp, "ctl.sock")
    logf = show_on_failure(os.path.join(e.tmp, "unbound.log"))
    with open(conf, "w") as f:
        f.write("""server:
  interface: 127.0.0.1
  port: %d
  do-ip6: no
  username: ""
  chroot: ""
  directory: "%s"
  pidfile: "%s/unbound.pid"
  use-syslog: no
  logfile: "%s"
  verbosity: 1
  num-threads: 2
  so-reuseport: no
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  do-not-query-localhost: yes
  local-zone: "test.example." static
  local-data: "a.test.example. 300 IN A 192.0.2.1"
  local-data: "b.test.example. 300 IN A 192.0.2.2"
  local-data: 't.test.example. 300 IN TXT "hello reevent"'
  # no Internet: every other name is refused instead of recursed
  local-zone: "." refuse
remote-control:
  control-enable: yes
  control-interface: %s
  control-use-cert: no
""" % (port, e.tmp, e.tmp, logf, ctl))
    p = e.spawn([UNBOUND, "-d", "-c", conf],
                stdout=open(show_on_failure(os.path.join(e.tmp, "unbound.stderr")), "w"),
                stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while True:
        check(p.poll() is None, "unbound exited at start with %s" % p.returncode)
        try:
            if udp_query(port, "a.test.example", "A", timeout=0.2, attempts=1)[0] == 0:
                break
        except (OSError, TestFailure):
            pass
        check(time.monotonic() < deadline, "unbound did not answer within 15 s")
        time.sleep(0.1)
    verify_mapped(e, p.pid, "unbound")

    check_answers(port, "udp")
    check_answers(port, "tcp")
    got = udp_query(port, "www.debian.org", "A")
    check(got == (5, []), "name outside the local zones: got %s, want REFUSED" % (got,))
    log("UDP and TCP: exact A/TXT answers, NXDOMAIN in the static zone, REFUSED outside")

    concurrent_load(port, EXPECT)

    r = e.run([CONTROL, "-c", conf, "status"], timeout=20)
    check("is running" in r.stdout, "unbound-control status: %s" % r.stdout)
    e.run([CONTROL, "-c", conf, "reload"], timeout=20)
    check_answers(port, "udp")
    p.send_signal(signal.SIGHUP)
    time.sleep(0.3)
    check(p.poll() is None, "unbound died on SIGHUP")
    check_answers(port, "tcp")
    log("unbound-control status/reload and SIGHUP: still answering correctly")

    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        raise TestFailure("unbound did not exit within 15 s of SIGTERM")
    check(rc == 0, "unbound exited %d after SIGTERM" % rc)
    check(not e.tagged_pids(), "processes left: %s" % e.tagged_pids())
    log("SIGTERM: unbound exited 0")


if __name__ == "__main__":
    main_wrapper(body)
