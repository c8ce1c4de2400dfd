#!/usr/bin/env python3
"""unbound-host 1.17 (libunbound8) as an end-to-end client of the library.

libunbound is built on libevent in Debian (`libunbound.so.8` NEEDs `libevent-2.1.so.7`, 10
imports): every resolve builds a base with `event_base_new`, registers its UDP and TCP
sockets and its retransmit and TCP timeouts with the pre-2.0 `event_set` +
`event_base_set` on its own embedded `struct event`s, `event_add`/`event_del` them, runs
`event_base_dispatch` until `event_base_loopexit` from inside a callback, then
`event_base_free`. `unbound-host -C conf` resolves through a private config that forwards
every name to the test's own DNS server on 127.0.0.1 (UDP and TCP, authoritative for
test.example, never the Internet), which records what it is asked:
  1. A, AAAA, MX and TXT answers printed exactly; NXDOMAIN ("not found");
  2. the server drops the first UDP query for one name: libunbound's retransmit timer sends
     it again and the answer arrives;
  3. the server answers one name over UDP with TC set and nothing in it: libunbound asks
     again over TCP and prints the 40 addresses from the TCP answer;
  4. `tcp-upstream: yes`: every query goes over TCP (one connection each);
  5. a forwarder that never answers (`infra-cache-max-rtt: 800`): libunbound retransmits
     on its backed-off timer and gives up on its own, unbound-host prints SERVFAIL (exit 0,
     as on libevent) in < 10 s; while it waits, /proc/PID/maps shows which libevent it runs on;
  6. 6 unbound-host at once: all right.
"""

import os
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (check, log, main_wrapper, start, udp_tcp_pair,  # noqa
                       verify_mapped, serve, recv_exact, wait_for, TestFailure)

HOST = "/usr/bin/unbound-host"
LIBUNBOUND = "/usr/lib/x86_64-linux-gnu/libunbound.so.8"
T_A, T_NS, T_MX, T_TXT, T_AAAA, T_OPT = 1, 2, 15, 16, 28, 41
ZONE = {
    ("a.test.example", T_A): ["192.0.2.1"],
    ("a.test.example", T_AAAA): ["2001:db8::1"],
    ("a.test.example", T_MX): [(10, "mx.test.example")],
    ("t.test.example", T_TXT): ["hello reevent"],
    ("retry.test.example", T_A): ["192.0.2.7"],
    ("big.test.example", T_A): ["192.0.2.%d" % i for i in range(100, 140)],
}


def enc_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def parse_question(msg):
    qid, flags, qd = struct.unpack(">HHH", msg[:6])
    i, labels = 12, []
    while msg[i]:
        labels.append(msg[i + 1:i + 1 + msg[i]].decode().lower())
        i += 1 + msg[i]
    qtype, qclass = struct.unpack(">HH", msg[i + 1:i + 5])
    return qid, flags, ".".join(labels), qtype, msg[12:i + 5]


def rdata(qtype, v):
    if qtype == T_A:
        return socket.inet_aton(v)
    if qtype == T_AAAA:
        return socket.inet_pton(socket.AF_INET6, v)
    if qtype == T_MX:
        return struct.pack(">H", v[0]) + enc_name(v[1])
    if qtype == T_TXT:
        return bytes([len(v)]) + v.encode()
    raise ValueError(qtype)


class DnsServer:
    """Authoritative for test.example on UDP and TCP of one port; `silent` answers nothing.
    Logs (transport, name, type) per query."""

    def __init__(self, silent=False):
        self.silent = silent
        self.udp, self.tcp, self.port = udp_tcp_pair("127.0.0.1", backlog=32)
        self.lock = threading.Lock()
        self.log = []
        self.dropped = set()
        self.tcp_conns = 0
        threading.Thread(target=self.udp_loop, daemon=True).start()
        serve(self.tcp, self.tcp_conn)

    def answer(self, msg, transport):
        qid, flags, name, qtype, question = parse_question(msg)
        with self.lock:
            self.log.append((transport, name, qtype))
            if self.silent:
                return None
            if transport == "udp" and name == "retry.test.example" and name not in self.dropped:
                self.dropped.add(name)
                return None
        rd = flags & 0x0100
        hdr = lambda rcode, an, tc=0: struct.pack(  # noqa: E731
            ">HHHHHH", qid, 0x8400 | rd | (0x0200 if tc else 0) | rcode, 1, an, 0, 0)
        if transport == "udp" and name == "big.test.example":
            return hdr(0, 0, tc=1) + question
        if not name.endswith("test.example"):
            return hdr(5, 0) + question                          # REFUSED
        records = ZONE.get((name, qtype))
        if records is None:
            known = any(n == name for n, _ in ZONE)
            return hdr(0 if known else 3, 0) + question          # NODATA / NXDOMAIN
        out = hdr(0, len(records)) + question
        for v in records:
            rd_ = rdata(qtype, v)
            out += b"\xc0\x0c" + struct.pack(">HHIH", qtype, 1, 300, len(rd_)) + rd_
        return out

    def udp_loop(self):
        while True:
            try:
                msg, peer = self.udp.recvfrom(4096)
            except OSError:
                return
            try:
                r = self.answer(msg, "udp")
            except (ValueError, IndexError, struct.error):
                continue
            if r is not None:
                self.udp.sendto(r, peer)

    def tcp_conn(self, c):
        with self.lock:
            self.tcp_conns += 1
        try:
            while True:
                n = struct.unpack(">H", recv_exact(c, 2))[0]
                r = self.answer(recv_exact(c, n), "tcp")
                if r is None:
                    time.sleep(30)
                    return
                c.sendall(struct.pack(">H", len(r)) + r)
        except (OSError, EOFError, ValueError, IndexError, struct.error):
            pass
        finally:
            c.close()

    def close(self):
        self.udp.close()
        self.tcp.close()


def write_conf(e, name, port, extra=""):
    path = os.path.join(e.tmp, name)
    with open(path, "w") as f:
        f.write("""server:
  do-ip6: no
  do-not-query-localhost: no
  use-syslog: no
  logfile: ""
  verbosity: 0
  chroot: ""
  username: ""
  directory: "%s"
  module-config: "iterator"
%s
forward-zone:
  name: "."
  forward-addr: 127.0.0.1@%d
""" % (e.tmp, extra, port))
    return path


def host(e, conf, qtype, name, check_rc=True, timeout=20):
    return e.run([HOST, "-C", conf, "-t", qtype, name], timeout=timeout, check_rc=check_rc)


def body():
    e = start("unboundhost", HOST, importable=LIBUNBOUND)
    srv = DnsServer()
    conf = write_conf(e, "udp.conf", srv.port)

    # 1. exact answers
    want = {("A", "a.test.example"): ["a.test.example has address 192.0.2.1"],
            ("AAAA", "a.test.example"): ["a.test.example has IPv6 address 2001:db8::1"],
            ("MX", "a.test.example"): ["a.test.example mail is handled by 10 mx.test.example."],
            ("TXT", "t.test.example"): ['t.test.example has TXT record "hello reevent"']}
    for (qtype, name), lines in want.items():
        r = host(e, conf, qtype, name)
        got = [l.strip() for l in r.stdout.splitlines() if l.strip()]
        check(got == lines, "%s %s: printed %r, want %r" % (qtype, name, got, lines))
    r = host(e, conf, "A", "missing.test.example", check_rc=False)
    check("NXDOMAIN" in r.stdout or "not found" in r.stdout,
          "missing name: %r %r" % (r.stdout, r.stderr))
    check(all(t == "udp" for t, _, _ in srv.log), "plain queries went over TCP: %s" % srv.log)
    log("A, AAAA, MX, TXT printed exactly, NXDOMAIN reported; all over UDP (%d queries)"
        % len(srv.log))

    # 2. retransmission after a dropped UDP query
    t0 = time.monotonic()
    r = host(e, conf, "A", "retry.test.example")
    dt = time.monotonic() - t0
    check(r.stdout.strip() == "retry.test.example has address 192.0.2.7",
          "after a dropped query: %r" % r.stdout)
    n = sum(1 for _, nm, _ in srv.log if nm == "retry.test.example")
    check(n >= 2, "retry.test.example asked %d times" % n)
    log("first UDP query dropped: asked %d times, answered after %.2f s (retransmit timer)"
        % (n, dt))

    # 3. truncated UDP answer -> TCP
    r = host(e, conf, "A", "big.test.example")
    got = sorted(l.split()[-1] for l in r.stdout.splitlines() if "has address" in l)
    check(got == sorted(ZONE[("big.test.example", T_A)]),
          "big answer via TCP: got %d addresses: %r" % (len(got), r.stdout[-300:]))
    tr = [t for t, nm, _ in srv.log if nm == "big.test.example"]
    check("udp" in tr and "tcp" in tr, "big.test.example transports: %s" % tr)
    log("TC over UDP: asked again over TCP, all 40 addresses printed")

    # 4. tcp-upstream
    tconf = write_conf(e, "tcp.conf", srv.port, "  tcp-upstream: yes")
    c0 = srv.tcp_conns
    l0 = len(srv.log)
    for (qtype, name), lines in want.items():
        r = host(e, tconf, qtype, name)
        got = [l.strip() for l in r.stdout.splitlines() if l.strip()]
        check(got == lines, "tcp-upstream %s %s: %r" % (qtype, name, got))
    check(all(t == "tcp" for t, _, _ in srv.log[l0:]), "tcp-upstream used UDP: %s"
          % srv.log[l0:])
    check(srv.tcp_conns - c0 >= 4, "tcp-upstream: %d connections" % (srv.tcp_conns - c0))
    log("tcp-upstream: yes: the 4 answers again, over %d TCP connections"
        % (srv.tcp_conns - c0))

    # 5. a forwarder that never answers
    mute = DnsServer(silent=True)
    # infra-cache-max-rtt caps the backed-off retransmit timeout (default 120 s, with which
    # unbound-host gives up only after ~17 s): with 800 ms, 4 tries in ~2.5 s.
    mconf = write_conf(e, "mute.conf", mute.port, "  infra-cache-max-rtt: 800")
    t0 = time.monotonic()
    p = e.spawn([HOST, "-C", mconf, "-t", "A", "a.test.example"], stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True)
    wait_for(lambda: mute.log, 10, "unbound-host's first query")
    verify_mapped(e, p.pid, "unbound-host")    # while it waits in its loop
    try:
        out, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        raise TestFailure("unbound-host on a silent forwarder still running after 30 s")
    r = subprocess.CompletedProcess(p.args, p.returncode, out, err)
    dt = time.monotonic() - t0
    check("SERVFAIL" in r.stdout,
          "silent forwarder: exit %d %r" % (r.returncode, r.stdout))
    check(dt < 10, "silent forwarder: unbound-host took %.1f s" % dt)
    check(len(mute.log) >= 2, "silent forwarder asked %d times" % len(mute.log))
    log("silent forwarder: asked %d times, unbound-host gave up after %.1f s (exit %d: %s)"
        % (len(mute.log), dt, r.returncode, (r.stdout + r.stderr).strip()[:80]))
    mute.close()

    # 6. six at once
    procs = [e.spawn([HOST, "-C", conf, "-t", "A", "a.test.example"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(6)]
    for i, p in enumerate(procs):
        out, err = p.communicate(timeout=20)
        check(p.returncode == 0 and out.strip() == b"a.test.example has address 192.0.2.1",
              "parallel unbound-host #%d: %d %r %r" % (i, p.returncode, out, err))
    log("6 unbound-host at once: all answered")
    srv.close()


if __name__ == "__main__":
    main_wrapper(body)
