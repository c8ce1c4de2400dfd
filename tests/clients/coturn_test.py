#!/usr/bin/env python3
"""coturn's client tools (turnutils_uclient, turnutils_peer, turnutils_stunclient) as
end-to-end clients of libevent_core *and* libevent_extra (they parse their server address
with evhttp_uri_parse and its getters, and run their traffic on event_base_dispatch,
timers and UDP read events).

turnserver itself also needs libevent_openssl, which reevent does not provide, so it always
runs on the system libevent; the tools run on the side under test:
  1. turnutils_peer: a UDP echo peer on 127.0.0.1;
  2. turnutils_stunclient: a STUN binding request to turnserver must come back with our
     reflexive address (127.0.0.1);
  3. turnutils_uclient: 4 clients allocate relays (long-term credentials) and send 30
     messages each through turnserver to the peer and back: every message must return,
     none lost (the tool counts), the tool exits 0 by itself.
"""

import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (Env, check, log, main_wrapper, parse_args, skip_unless_importable,  # noqa
                       verify_ldd, verify_mapped, show_on_failure, TestFailure)

TURNSERVER = "/usr/bin/turnserver"
UCLIENT = "/usr/bin/turnutils_uclient"
PEER = "/usr/bin/turnutils_peer"
STUN = "/usr/bin/turnutils_stunclient"


def wait_udp_listener(port, timeout=10):
    """Waits until something is bound to 127.0.0.1:port over UDP (ss -lun)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = subprocess.run(["ss", "-Hlun", "sport = :%d" % port], capture_output=True, text=True)
        if r.stdout.strip():
            return True
        time.sleep(0.1)
    return False


def body():
    args = parse_args()
    e = Env(args, "coturn")
    for prog in (UCLIENT, PEER, STUN):
        verify_ldd(e, prog)
        skip_unless_importable(e, prog)

    turn_port, peer_port = e.free_port(), e.free_port()
    ts_log = show_on_failure(os.path.join(e.tmp, "turnserver.log"))
    ts = e.spawn([TURNSERVER, "-n", "--no-tls", "--no-dtls", "--no-cli",
                  "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
                  "-p", str(turn_port), "--min-port=49200", "--max-port=49400",
                  "--lt-cred-mech", "--user=alice:secret", "--realm=reevent.test",
                  "--allow-loopback-peers", "--log-file=stdout", "--simple-log",
                  "--pidfile=%s" % os.path.join(e.tmp, "turnserver.pid")],
                 on_reevent=False, stdout=open(ts_log, "w"), stderr=subprocess.STDOUT)
    check(wait_udp_listener(turn_port), "turnserver is not listening on UDP %d" % turn_port)
    check(ts.poll() is None, "turnserver exited at start")

    # 1. the echo peer, on the side under test
    peer_log = show_on_failure(os.path.join(e.tmp, "peer.log"))
    peer = e.spawn([PEER, "-L", "127.0.0.1", "-p", str(peer_port)],
                   stdout=open(peer_log, "w"), stderr=subprocess.STDOUT)
    check(wait_udp_listener(peer_port), "turnutils_peer is not listening on UDP %d" % peer_port)
    verify_mapped(e, peer.pid, "turnutils_peer")

    # 2. STUN binding request
    r = e.run([STUN, "-p", str(turn_port), "127.0.0.1"], timeout=20)
    out = r.stdout + r.stderr
    check(re.search(r"UDP reflexive addr: 127\.0\.0\.1:\d+", out),
          "turnutils_stunclient got no reflexive address: %s" % out[-800:])
    log("STUN: binding response with reflexive address 127.0.0.1")

    # 3. relayed traffic: 4 clients x 30 messages of 120 bytes
    t0 = time.monotonic()
    r = e.run([UCLIENT, "-u", "alice", "-w", "secret", "-p", str(turn_port),
               "-e", "127.0.0.1", "-r", str(peer_port), "-y", "-m", "4", "-n", "30",
               "-l", "120", "127.0.0.1"], timeout=60)
    dt = time.monotonic() - t0
    out = r.stdout + r.stderr
    sent = re.findall(r"tot_send_msgs=(\d+), tot_recv_msgs=(\d+)", out)
    check(sent, "turnutils_uclient printed no totals: %s" % out[-1200:])
    s, rcv = map(int, sent[-1])
    check(s == 4 * 30 and rcv == s, "sent %d, received %d messages (want %d both): %s"
          % (s, rcv, 4 * 30, out[-1200:]))
    lost = re.search(r"Total lost packets (\d+)", out)
    check(lost and lost.group(1) == "0", "lost packets: %s" % out[-800:])
    rtt = re.search(r"Average round trip delay ([\d.]+) ms", out)
    log("relay: %d messages sent and %d received through turnserver in %.1f s, none lost "
        "(average round trip %s ms)" % (s, rcv, dt, rtt.group(1) if rtt else "?"))
    e.record("coturn tools on %s: %d relayed messages, 0 lost, %.1f s" % (e.side, rcv, dt))
    check(peer.poll() is None, "turnutils_peer died during the run")


if __name__ == "__main__":
    main_wrapper(body)
