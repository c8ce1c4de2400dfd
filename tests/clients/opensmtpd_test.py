#!/usr/bin/env python3
"""OpenSMTPD 6.8 (Debian's opensmtpd) as an end-to-end client of the library.

smtpd is a privilege-separated family of seven processes (parent, control, lookup, queue,
scheduler, pony express, klondike), each re-executed and running the pre-2.0 API
(event_init, event_set, event_add/del, event_pending, event_initialized, event_dispatch)
over imsg channels, listeners, SMTP sessions, timers and signal events. Its own `smtp`
client (event_init/event_loop/event_loopexit) and `smtpctl` (event_dispatch) are libevent
programs too and run on the same side. smtpd's spool (/var/spool/smtpd) and control socket
(/run/smtpd.sock) are compiled in, so smtpd runs in a private mount namespace with fresh
tmpfs over both (and a resolv.conf saying `lookup file`: /etc/hosts only); it listens on 127.0.0.1 only and delivers into a maildir in the temp dir as
`nobody` (virtual users, no relaying anywhere). The test:
  1. `smtp` sends a message: it lands in the maildir with exact headers and body; an unknown
     recipient is refused;
  2. 16 concurrent SMTP sessions x 4 messages (Python's smtplib; at most 4 being set up at
     once, as smtpd's listen backlog is 5): all 64 delivered, each body exactly once;
  3. `smtpctl pause smtp` holds a new connection's greeting back; `resume smtp` lets it out
     on that same connection; `smtpctl show stats` counts the deliveries;
  4. SIGTERM: smtpd exits 0 with all of its processes.
Needs root and mount namespaces; without them it exits 77 (SKIPPED) saying so.
"""

import os
import pwd
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (Env, check, log, main_wrapper, parse_args, skip_unless_importable,  # noqa
                       verify_ldd, verify_mapped, show_on_failure, session_pids, TestFailure,
                       SKIP)

SMTPD = "/usr/sbin/smtpd"
SMTP = "/usr/bin/smtp"
SMTPCTL = "/usr/sbin/smtpctl"
SPOOL = "/var/spool/smtpd"


def body():
    args = parse_args()
    e = Env(args, "opensmtpd")
    for prog in (SMTPD, SMTP, SMTPCTL):
        verify_ldd(e, prog)
        skip_unless_importable(e, prog)
    if os.geteuid() != 0:
        print("SKIP: smtpd needs root (and a private mount namespace here)", flush=True)
        sys.exit(SKIP)
    r = subprocess.run(["unshare", "-m", "true"], capture_output=True, text=True)
    if r.returncode != 0:
        print("SKIP: no mount namespaces here: %s" % r.stderr.strip(), flush=True)
        sys.exit(SKIP)
    os.makedirs(SPOOL, exist_ok=True)  # the mount point; the package normally creates it
    os.chmod(e.tmp, 0o755)
    nobody = pwd.getpwnam("nobody")
    md = os.path.join(e.tmp, "maildir")
    os.mkdir(md)
    os.chown(md, nobody.pw_uid, nobody.pw_gid)
    port = e.free_port()
    users = ["u%d@reev.test" % i for i in range(17)]
    conf = os.path.join(e.tmp, "smtpd.conf")
    with open(conf, "w") as f:
        f.write("table vusers { %s }\n" % ", ".join('"%s" = "nobody"' % u for u in users))
        f.write("listen on 127.0.0.1 port %d\n" % port)
        f.write('action "deliver" maildir "%s" virtual <vusers>\n' % md)
        f.write('match from any for domain "reev.test" action "deliver"\n')
    e.run([SMTPD, "-n", "-f", conf])
    # A private mount namespace with fresh tmpfs on the compiled-in spool and socket dirs.
    # smtpd resolves its peers' names with its own resolver, which by default asks the
    # nameservers of /etc/resolv.conf before /etc/hosts: in its namespace resolv.conf says
    # `lookup file` (and names only 127.0.0.1), so no query leaves the machine or waits.
    resolv = os.path.join(e.tmp, "resolv.conf")
    with open(resolv, "w") as f:
        f.write("nameserver 127.0.0.1\nlookup file\n")
    wrap = os.path.join(e.tmp, "ns.sh")
    with open(wrap, "w") as f:
        f.write("mount -t tmpfs -o mode=711 tmpfs %s && mount -t tmpfs tmpfs /run && "
                'mount --bind %s /etc/resolv.conf && exec "$@"\n' % (SPOOL, resolv))
    p = e.spawn(["unshare", "-m", "--propagation", "private", "sh", wrap, SMTPD, "-d", "-f",
                 conf],
                stdout=open(show_on_failure(os.path.join(e.tmp, "smtpd.log")), "w"),
                stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while True:
        check(p.poll() is None, "smtpd exited at start with %s" % p.returncode)
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
            greeting = s.recv(512)
            s.close()
            if greeting.startswith(b"220 "):
                break
        except OSError:
            pass
        check(time.monotonic() < deadline, "smtpd did not greet within 15 s")
        time.sleep(0.05)
    procs = session_pids(p.pid)
    check(len(procs) >= 7, "smtpd runs %d processes, want 7: %s" % (len(procs), procs))
    for pid in procs:
        verify_mapped(e, pid, "smtpd process")

    def ctl(*argv):
        return e.run(["nsenter", "-t", str(p.pid), "-m", SMTPCTL] + list(argv),
                     timeout=15).stdout

    def delivered():
        out, new = [], os.path.join(md, "new")  # made by the first delivery
        for name in sorted(os.listdir(new)) if os.path.isdir(new) else []:
            with open(os.path.join(md, "new", name), errors="replace") as f:
                out.append(f.read())
        return out

    def wait_delivered(n, timeout=20):
        deadline = time.monotonic() + timeout
        while len(delivered()) < n:
            check(time.monotonic() < deadline, "%d of %d messages delivered after %d s"
                  % (len(delivered()), n, timeout))
            time.sleep(0.05)
        return delivered()

    # 1. smtp (the libevent client) sends one message; unknown recipient refused
    msg = "Subject: first\nX-Test: reevent\n\nline one\nline two\n"
    r = e.run([SMTP, "-s", "smtp://127.0.0.1:%d" % port, "-F", "sender@reev.test", users[16]],
              input=msg, timeout=20)
    check("250 2.0.0" in r.stdout + r.stderr, "smtp did not get the message accepted: %s%s"
          % (r.stdout, r.stderr))
    got = wait_delivered(1)
    check(len(got) == 1, "deliveries: %d" % len(got))
    head, _, text = got[0].partition("\n\n")
    check(text == "line one\nline two\n", "delivered body %r" % text)
    for h in ("Return-Path: <sender@reev.test>", "Delivered-To: %s" % users[16],
              "Subject: first", "X-Test: reevent", "by "):
        check(h in head, "delivered headers lack %r:\n%s" % (h, head))
    r = e.run([SMTP, "-s", "smtp://127.0.0.1:%d" % port, "-F", "sender@reev.test",
               "nobody-here@reev.test"], input=msg, timeout=20, check_rc=False)
    check(" 5" in r.stdout + r.stderr and "250 2.0.0" not in r.stdout + r.stderr,
          "unknown recipient was not refused: %s%s" % (r.stdout, r.stderr))
    log("smtp delivered a message (exact body and headers); unknown recipient refused: %s"
        % (r.stdout + r.stderr).strip().splitlines()[-1])

    # 2. concurrency
    # smtpd listens with a backlog of 5: more connects at once than that overflow it (the
    # kernel drops SYNs, clients retry after 1 s, 3 s, ...), on libevent as well. So at most
    # 4 sessions are being set up at a time; then all 16 run concurrently.
    setup = threading.Semaphore(4)

    def session(k):
        with setup:
            c = smtplib.SMTP("127.0.0.1", port, timeout=30)
        try:
            for i in range(4):
                c.sendmail("s%d@reev.test" % k, [users[k]],
                           "Subject: c%d-%d\n\nbody %d %d %s\n" % (k, i, k, i, "x" * (k * 97 + i)))
        finally:
            c.quit()
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=16) as ex:
        list(ex.map(session, range(16)))
    got = wait_delivered(65)
    bodies = sorted(m.partition("\n\n")[2] for m in got if "Subject: c" in m)
    want = sorted("body %d %d %s\n" % (k, i, "x" * (k * 97 + i)) for k in range(16)
                  for i in range(4))
    check(len(got) == 65 and bodies == want, "concurrent deliveries: %d messages; bodies "
          "missing: %s; unexpected: %s" % (len(got), [b[:60] for b in want if b not in bodies],
                                           [b[:60] for b in bodies if b not in want]))
    log("16 concurrent SMTP sessions x 4 messages: all 64 delivered once, %.2f s"
        % (time.monotonic() - t0))

    # 3. pause/resume through the control socket
    check("command succeeded" in ctl("pause", "smtp"), "smtpctl pause smtp failed")
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.settimeout(0.5)
    try:
        d = s.recv(512)
        raise TestFailure("paused smtpd greeted a new connection: %r" % d)
    except socket.timeout:
        pass
    check("command succeeded" in ctl("resume", "smtp"), "smtpctl resume smtp failed")
    s.settimeout(10)
    greeting = s.recv(512)
    check(greeting.startswith(b"220 "), "greeting after resume: %r" % greeting)
    s.sendall(b"QUIT\r\n")
    s.close()
    stats = dict(l.split("=", 1) for l in ctl("show", "stats").splitlines() if "=" in l)
    check(int(stats.get("scheduler.delivery.ok", 0)) == 65, "show stats: %s" % stats)
    log("smtpctl pause smtp held a greeting back until resume; show stats: 65 deliveries ok")

    # 4. SIGTERM
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        raise TestFailure("smtpd did not exit within 15 s of SIGTERM")
    check(rc == 0, "smtpd exited %d after SIGTERM" % rc)
    deadline = time.monotonic() + 10
    while session_pids(p.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    check(not session_pids(p.pid), "smtpd processes left: %s" % session_pids(p.pid))
    check(not e.tagged_pids(), "processes left: %s" % e.tagged_pids())
    log("SIGTERM: smtpd exited 0 with all of its processes")


if __name__ == "__main__":
    main_wrapper(body)
