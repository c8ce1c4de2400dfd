#!/usr/bin/env python3
"""openbsd-inetd (Debian's OpenBSD inetd) as an end-to-end client of the library.

inetd uses the pre-2.0 API (event_init, event_set, event_add, event_del, event_dispatch):
one read event per listening socket, and EV_SIGNAL events for SIGHUP (reload the config),
SIGCHLD (reap the servers it spawned) and SIGTERM. Run in the foreground (-d) on a private
config with two loopback services, it must:
  1. serve `/bin/cat` on a TCP port: 20 connections, several at once, each echoing a unique
     line (each connection = fork + exec + SIGCHLD + reap, checked in inetd's debug log);
  2. on SIGHUP re-read its config and serve a newly added service (`/bin/echo`);
  3. on SIGTERM exit 0, leaving no process behind.
"""

import os
import pwd
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (recv_all, Env, check, log, main_wrapper, parse_args, skip_unless_importable,  # noqa
                       verify_ldd, verify_mapped, show_on_failure, TestFailure)

INETD = "/usr/sbin/inetd"
USER = pwd.getpwuid(os.getuid()).pw_name  # services run as whoever runs the test


def connect(port, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=timeout)
        except OSError:
            if time.monotonic() > deadline:
                raise TestFailure("nothing listens on 127.0.0.1:%d" % port)
            time.sleep(0.05)


def wait_log(path, needle, count, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path) as f:
            n = f.read().count(needle)
        if n >= count:
            return n
        time.sleep(0.05)
    with open(path) as f:
        tail = f.read()[-1500:]
    raise TestFailure("inetd log has fewer than %d '%s' lines:\n%s" % (count, needle, tail))


def body():
    args = parse_args()
    e = Env(args, "inetd")
    verify_ldd(e, INETD)
    skip_unless_importable(e, INETD)
    cat_port, echo_port = e.free_port(), e.free_port()
    conf = os.path.join(e.tmp, "inetd.conf")
    with open(conf, "w") as f:
        f.write("127.0.0.1:%d stream tcp nowait %s /bin/cat cat\n" % (cat_port, USER))
    logf = show_on_failure(os.path.join(e.tmp, "inetd.log"))
    p = e.spawn([INETD, "-d", conf], stdout=open(logf, "w"), stderr=subprocess.STDOUT)
    first = connect(cat_port)
    verify_mapped(e, p.pid, "inetd")

    # 1. /bin/cat per connection; several open at once
    socks = [first] + [connect(cat_port) for _ in range(4)]
    for rnd in range(4):
        if rnd:
            socks = [connect(cat_port) for _ in range(5)]
        for i, s in enumerate(socks):
            s.sendall(b"line %d-%d\n" % (rnd, i))
        for i, s in enumerate(socks):
            s.shutdown(socket.SHUT_WR)
            got = recv_all(s)
            check(got == b"line %d-%d\n" % (rnd, i), "cat service returned %r" % got)
            s.close()
    reaped = wait_log(logf, "reaped, status 0", 20)
    log("20 connections to /bin/cat (5 at a time) echoed; inetd reaped %d children "
        "(SIGCHLD)" % reaped)

    # 2. SIGHUP: reload with one more service
    with open(conf, "a") as f:
        f.write("127.0.0.1:%d stream tcp nowait %s /bin/echo echo reloaded-%d\n"
                % (echo_port, USER, echo_port))
    p.send_signal(signal.SIGHUP)
    s = connect(echo_port)
    got = recv_all(s)
    s.close()
    check(got == b"reloaded-%d\n" % echo_port, "new service after SIGHUP returned %r" % got)
    s = connect(cat_port)
    s.sendall(b"still here\n")
    s.shutdown(socket.SHUT_WR)
    check(recv_all(s) == b"still here\n", "old service lost after SIGHUP")
    s.close()
    log("SIGHUP: config re-read, new service answers, old one still does")

    # 3. SIGTERM
    wait_log(logf, "reaped, status 0", 22)
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        raise TestFailure("inetd did not exit within 10 s of SIGTERM")
    check(rc == 0, "inetd exited %d after SIGTERM" % rc)
    deadline = time.monotonic() + 5
    while e.tagged_pids() and time.monotonic() < deadline:
        time.sleep(0.05)
    check(not e.tagged_pids(), "processes left: %s" % e.tagged_pids())
    log("SIGTERM: inetd exited 0, no process left")


if __name__ == "__main__":
    main_wrapper(body)
