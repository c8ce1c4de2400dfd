#!/usr/bin/env python3
"""tcpbench 1.01 (Debian's OpenBSD TCP/UDP benchmark) as an end-to-end client of the library.

tcpbench uses only the pre-2.0 API: event_init, event_set (sockets, a report timer, SIGINT
and SIGTERM as EV_SIGNAL events), event_add/event_del/event_pending, event_dispatch. Server
and client both run on the side under test:
  1. TCP: `tcpbench -s -4 -r 250` and `tcpbench -4 -t 2 -n 4 -r 250 127.0.0.1`: the client
     stops by itself after 2 s (timer) with exit 0 and its 4 connections all moved data;
     the server's per-interval report shows the 4 connections with a non-zero rate;
  2. UDP: `tcpbench -u -s` and a 1 s UDP client: the server reports datagrams received;
  3. SIGTERM: each server exits 0 through its EV_SIGNAL handler ("Terminated by signal 15").
"""

import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (Env, check, log, main_wrapper, parse_args, skip_unless_importable,  # noqa
                       verify_ldd, verify_mapped, show_on_failure, TestFailure)

TCPBENCH = "/usr/bin/tcpbench"


def start_server(e, port, udp):
    argv = [TCPBENCH, "-s", "-4", "-p", str(port), "-r", "250"] + (["-u"] if udp else [])
    out = open(show_on_failure(os.path.join(e.tmp, "server-%s.out" % ("udp" if udp else "tcp"))),
               "w+")
    p = e.spawn(argv, stdout=out, stderr=subprocess.STDOUT, text=True)
    time.sleep(0.3)
    check(p.poll() is None, "tcpbench server exited at start: %s" % read(out))
    verify_mapped(e, p.pid, "tcpbench server")
    return p, out


def read(f):
    f.flush()
    f.seek(0)
    return f.read()


def stop_server(p, out, what):
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        raise TestFailure("%s did not exit within 10 s of SIGTERM" % what)
    text = read(out)
    check(rc == 0, "%s exited %d after SIGTERM: %s" % (what, rc, text[-800:]))
    check("Terminated by signal 15" in text, "%s did not report SIGTERM: %s" % (what, text[-800:]))
    return text


def body():
    args = parse_args()
    e = Env(args, "tcpbench")
    verify_ldd(e, TCPBENCH)
    skip_unless_importable(e, TCPBENCH)

    # 1. TCP
    port = e.free_port()
    srv, srv_out = start_server(e, port, udp=False)
    t0 = time.monotonic()
    r = e.run([TCPBENCH, "-4", "-t", "2", "-n", "4", "-p", str(port), "-r", "250", "127.0.0.1"],
              timeout=20)
    dt = time.monotonic() - t0
    check(1.8 <= dt < 10, "tcpbench -t 2 ran %.2f s" % dt)
    rows = [l.split() for l in r.stdout.splitlines() if re.match(r"^\s*\d+\s+\d+\s+[\d.]+", l)]
    check(len(rows) >= 4 * 4, "client printed %d report rows: %s" % (len(rows), r.stdout[-800:]))
    last = rows[-4:]
    check(all(int(row[1]) > 0 for row in last), "a client connection moved no data: %s" % last)
    mbps = sum(float(row[2]) for row in last)
    text = stop_server(srv, srv_out, "tcpbench TCP server")
    conns = [int(m) for m in re.findall(r"Conn:\s+(\d+) Mbps:\s+[1-9]", text)]
    check(4 in conns, "server never reported 4 connections with data: %s" % text[-800:])
    log("TCP: 4 connections for %.2f s, client ended by its timer, last interval %.0f Mbps "
        "in total; server saw 4 connections and exited 0 on SIGTERM" % (dt, mbps))

    # 2. UDP
    port = e.free_port()
    srv, srv_out = start_server(e, port, udp=True)
    r = e.run([TCPBENCH, "-4", "-u", "-t", "1", "-p", str(port), "-r", "250", "127.0.0.1"],
              timeout=20)
    time.sleep(0.3)
    text = stop_server(srv, srv_out, "tcpbench UDP server")
    pps = [int(x) for x in re.findall(r"Rx PPS:\s+(\d+)", text)]
    check(any(p > 0 for p in pps), "UDP server reported no datagrams: %s" % text[-800:])
    log("UDP: server received datagrams (%d report rows) and exited 0 on SIGTERM" % len(pps))
    e.record("tcpbench on %s: TCP 4 connections %.0f Mbps (last interval)" % (e.side, mbps))


if __name__ == "__main__":
    main_wrapper(body)
