#!/usr/bin/env python3
"""coturn's turnserver and its client tools (turnutils_uclient, turnutils_peer,
turnutils_stunclient), all on the side under test. The tools use libevent_core *and*
libevent_extra (they parse their server address with evhttp_uri_parse and its getters, and
run their traffic on event_base_dispatch, timers and UDP read events); turnserver also
libevent_openssl (bufferevent_openssl_socket_new and bufferevent_openssl_get_ssl for its
TLS listener, with a key and certificate made here with the openssl CLI) and
libevent_pthreads (a base per relay thread):
  1. turnutils_peer: a UDP echo peer on 127.0.0.1;
  2. turnutils_stunclient: a STUN binding request to turnserver must come back with our
     reflexive address (127.0.0.1);
  3. turnutils_uclient: 4 clients allocate relays (long-term credentials) and send 30
     messages each through turnserver to the peer and back: every message must return,
     none lost (the tool counts), the tool exits 0 by itself;
  4. the same over TCP + TLS to turnserver's TLS port (a TLS bufferevent per client);
     there up to half may be lost, on both libraries (see below).
"""

import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (Env, check, log, main_wrapper, parse_args, skip_unless_importable,  # noqa
                       skip_unless_installed, verify_ldd, verify_mapped, show_on_failure,
                       TestFailure)

TURNSERVER = "/usr/bin/turnserver"
OPENSSL = "/usr/bin/openssl"
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
    skip_unless_installed((OPENSSL, "openssl"))
    for prog in (TURNSERVER, UCLIENT, PEER, STUN):
        verify_ldd(e, prog)
        skip_unless_importable(e, prog)

    key, cert = os.path.join(e.tmp, "key.pem"), os.path.join(e.tmp, "cert.pem")
    e.run([OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
           "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost"],
          on_reevent=False)
    turn_port, tls_port, peer_port = e.free_port(), e.free_port(), e.free_port()
    ts_log = show_on_failure(os.path.join(e.tmp, "turnserver.log"))
    ts = e.spawn([TURNSERVER, "-n", "--no-dtls", "--no-cli",
                  "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
                  "-p", str(turn_port), "--tls-listening-port=%d" % tls_port,
                  "--cert=%s" % cert, "--pkey=%s" % key,
                  "--min-port=49200", "--max-port=49400",
                  "--lt-cred-mech", "--user=alice:secret", "--realm=reevent.test",
                  "--allow-loopback-peers", "--log-file=stdout", "--simple-log",
                  "--pidfile=%s" % os.path.join(e.tmp, "turnserver.pid")],
                 stdout=open(ts_log, "w"), stderr=subprocess.STDOUT)
    check(wait_udp_listener(turn_port), "turnserver is not listening on UDP %d" % turn_port)
    check(ts.poll() is None, "turnserver exited at start")
    verify_mapped(e, ts.pid, "turnserver")

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

    # 3. relayed traffic: 4 clients x 30 messages of 120 bytes, over UDP, then 4. over TLS
    total = 0
    for how, port, extra in (("UDP", turn_port, []), ("TLS", tls_port, ["-t", "-S"])):
        t0 = time.monotonic()
        r = e.run([UCLIENT] + extra + ["-u", "alice", "-w", "secret", "-p", str(port),
                   "-e", "127.0.0.1", "-r", str(peer_port), "-y", "-m", "4", "-n", "30",
                   "-l", "120", "127.0.0.1"], timeout=60)
        dt = time.monotonic() - t0
        out = r.stdout + r.stderr
        sent = re.findall(r"tot_send_msgs=(\d+), tot_recv_msgs=(\d+)", out)
        check(sent, "turnutils_uclient (%s) printed no totals: %s" % (how, out[-1200:]))
        s, rcv = map(int, sent[-1])
        # The TLS relay loses messages on both libraries (4 or 5 of 120 per idle run, more
        # under load; the UDP relay loses none): a TLS socket bufferevent encrypts its
        # output from the loop, so two replies turnserver queues in one loop pass share a
        # TLS record (libevent's SSL_write calls of 248 bytes, two 124-byte messages), and
        # turnutils_uclient takes one message per SSL_read and drops the rest of the record.
        # reevent used to encrypt each bufferevent_write at once (one record each, none
        # lost) but ran the write callback inside bufferevent_write; it now writes from the
        # loop as libevent does. The test asks for half.
        slack = s // 2 if how == "TLS" else 0
        check(s == 4 * 30 and s - slack <= rcv <= s,
              "%s: sent %d, received %d messages (want %d both): %s"
              % (how, s, rcv, 4 * 30, out[-1200:]))
        lost = re.search(r"Total lost packets (\d+)", out)
        check(lost and int(lost.group(1)) == s - rcv, "%s: lost packets: %s" % (how, out[-800:]))
        if rcv < s:
            log("%s: %d message(s) lost on %s (allowed there, see above)" % (how, s - rcv, e.side))
        rtt = re.search(r"Average round trip delay ([\d.]+) ms", out)
        log("relay over %s: %d messages sent and %d received through turnserver in %.1f s "
            "(average round trip %s ms)" % (how, s, rcv, dt, rtt.group(1) if rtt else "?"))
        total += rcv
    e.record("coturn on %s: %d of 240 relayed messages arrived (UDP and TLS)" % (e.side, total))
    check(peer.poll() is None, "turnutils_peer died during the run")
    check(ts.poll() is None, "turnserver died during the run")

if __name__ == "__main__":
    main_wrapper(body)
