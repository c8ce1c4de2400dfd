#!/usr/bin/env python3
"""nsd 4.6 (Debian's authoritative DNS server) as an end-to-end client of the library.

nsd sets its events up with event_set + event_base_set and reads struct event's ev_fd,
ev_events and ev_base directly (dozens of places), so it checks that those public fields are
the library's live state; it also forks its server processes and a zone-transfer process,
each running its own loop. On a private zone, port and control socket:
  1. exact answers over UDP and TCP (A, TXT, NXDOMAIN, REFUSED outside the zone);
  2. 400 UDP queries from 16 concurrent sockets and 40 TCP connections;
  3. the zone file changes and `nsd-control reload` makes the new record visible (the
     control channel runs through nsd's libevent loop);
  4. SIGTERM: exit 0, every forked nsd process gone.
"""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (Env, check, log, main_wrapper, parse_args, skip_unless_importable,  # noqa
                       verify_ldd, verify_mapped, show_on_failure, TestFailure)
from unbound_test import concurrent_load, tcp_query, udp_query  # noqa: E402

NSD = "/usr/sbin/nsd"
CONTROL = "/usr/sbin/nsd-control"
ZONE = """$ORIGIN test.example.
$TTL 300
@   IN SOA ns.test.example. admin.test.example. %d 3600 900 604800 300
@   IN NS  ns.test.example.
ns  IN A   192.0.2.53
a   IN A   192.0.2.1
t   IN TXT "hello reevent"
%s"""
EXPECT = [("a.test.example", "A", (0, ["192.0.2.1"])),
          ("t.test.example", "TXT", (0, ["hello reevent"])),
          ("missing.test.example", "A", (3, []))]


def body():
    args = parse_args()
    e = Env(args, "nsd")
    verify_ldd(e, NSD)
    skip_unless_importable(e, NSD)
    port = e.free_port()
    zone = os.path.join(e.tmp, "zone")
    with open(zone, "w") as f:
        f.write(ZONE % (1, ""))
    conf = os.path.join(e.tmp, "nsd.conf")
    logf = show_on_failure(os.path.join(e.tmp, "nsd.log"))
    with open(conf, "w") as f:
        f.write("""server:
  ip-address: 127.0.0.1
  port: %(port)d
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "%(d)s"
  pidfile: "%(d)s/nsd.pid"
  database: ""
  zonelistfile: "%(d)s/zone.list"
  xfrdfile: "%(d)s/xfrd.state"
  xfrdir: "%(d)s"
  logfile: "%(log)s"
  server-count: 2
  verbosity: 2
remote-control:
  control-enable: yes
  control-interface: %(d)s/ctl.sock
zone:
  name: "test.example"
  zonefile: "zone"
""" % {"port": port, "d": e.tmp, "log": logf})
    p = e.spawn([NSD, "-d", "-c", conf],
                stdout=open(show_on_failure(os.path.join(e.tmp, "nsd.stderr")), "w"),
                stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while True:
        check(p.poll() is None, "nsd exited at start with %s" % p.returncode)
        try:
            if udp_query(port, "a.test.example", "A", timeout=0.2, attempts=1)[0] == 0:
                break
        except (OSError, TestFailure):
            pass
        check(time.monotonic() < deadline, "nsd did not answer within 15 s")
        time.sleep(0.1)
    verify_mapped(e, p.pid, "nsd")

    for query in (udp_query, tcp_query):
        for name, qtype, want in EXPECT:
            got = query(port, name, qtype)
            check(got == want, "%s %s: got %s, want %s" % (name, qtype, got, want))
    got = udp_query(port, "www.debian.org", "A")
    check(got[0] == 5, "name outside the zone: got %s, want REFUSED" % (got,))
    log("UDP and TCP: exact A/TXT answers, NXDOMAIN in the zone, REFUSED outside")

    concurrent_load(port, EXPECT)

    with open(zone, "w") as f:
        f.write(ZONE % (2, "b   IN A   192.0.2.2\n"))
    e.run([CONTROL, "-c", conf, "reload", "test.example"], timeout=20)
    deadline = time.monotonic() + 10
    while udp_query(port, "b.test.example", "A") != (0, ["192.0.2.2"]):
        check(time.monotonic() < deadline, "new record not served 10 s after nsd-control reload")
        time.sleep(0.1)
    check(udp_query(port, "a.test.example", "A") == EXPECT[0][2], "old record lost on reload")
    log("zone changed + nsd-control reload: the new record is served")

    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        raise TestFailure("nsd did not exit within 15 s of SIGTERM")
    check(rc == 0, "nsd exited %d after SIGTERM" % rc)
    deadline = time.monotonic() + 10
    while e.tagged_pids() and time.monotonic() < deadline:
        time.sleep(0.05)
    check(not e.tagged_pids(), "nsd processes left: %s" % e.tagged_pids())
    log("SIGTERM: nsd exited 0, its server and xfrd processes are gone")


if __name__ == "__main__":
    main_wrapper(body)
