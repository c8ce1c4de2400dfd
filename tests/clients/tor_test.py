#!/usr/bin/env python3
"""tor 0.4.9 (Debian's binary, unmodified) as an end-to-end client of the library, without
network: DisableNetwork 1, no SOCKS port, only a control port on 127.0.0.1.

tor links libevent-2.1.so.7 and runs its whole main loop on it: event_base_new_with_config,
event_new for its sockets (the control listener and connections), its timers (periodic
events, the once-per-second housekeeping) and its signals (EV_SIGNAL|EV_PERSIST for SIGHUP,
SIGINT, SIGUSR1, ...), event_active for the control port's queued signals, and
event_base_loop / loopexit / loopbreak.

It also imports 23 evdns_* names (BIND_NOW): a client tor's dns_reset() makes an
evdns_base (evdns_base_new, evdns_base_clear_nameservers_and_suspend, evdns_base_search_clear,
evdns_set_log_fn) at every options change, and evdns_shutdown runs at exit. reevent's
libevent_extra exports all of them, so tor runs on reevent's own evdns. Should the build
under test lack some evdns name (computed at test time from its exports), the reevent side
preloads a stub library of the test's own defining exactly those: the ones a network-less
tor calls as no-ops or an opaque handle, every other one prints its name and aborts, so a
call to an aborting stub fails the test and the transcript shows which stubs ran.

Steps:
  1. `tor --verify-config`: "Configuration was valid", exit 0;
  2. start tor in the foreground; the control port accepts; AUTHENTICATE "";
     GETINFO version / config-file / process/pid; SETCONF + GETCONF a harmless option;
     a second control connection with SETEVENTS NOTICE receives the asynchronous 650 events;
  3. SIGNAL RELOAD, then a real SIGHUP (kill): both reload ("Received reload signal (hup)"
     in the log and as a 650 NOTICE event), the SETCONF value is reset to the file's;
  4. SIGNAL DUMP and a real SIGUSR1: stats dumped; SIGNAL HEARTBEAT: heartbeat logged;
  5. 6 more control connections at once, each a large reply (GETINFO config/names) and 20
     pipelined commands; GETINFO uptime reaches 2 (tor's once-a-second timer);
  6. a real SIGINT: "Interrupt: exiting cleanly", exit 0 within 10 s;
  7. the log has no [warn]/[err] line but the two expected ones (control port without
     authentication, running as root) and nothing about libevent but its version line.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (check, log, main_wrapper, parse_args, read_text, show_on_failure,  # noqa
                       skip_unless_installed, stub_missing_evdns, verify_ldd, verify_mapped,
                       wait_for, Env, TestFailure)

TOR = "/usr/bin/tor"
# Used only when the build under test lacks evdns names (see the docstring). What a client
# tor with DisableNetwork calls of evdns: dns_reset() (at every options change: start,
# SETCONF, reload) makes an evdns_base with no nameservers and clears it; at exit
# evdns_shutdown. An evdns_base without nameservers or requests has no events on the loop,
# so an opaque handle and no-ops stand in for it. Everything else aborts.
FAKE_STUBS = {"evdns_base_new": "stub_handle",
              "evdns_base_clear_nameservers_and_suspend": "0",
              "evdns_base_search_clear": None,
              "evdns_set_log_fn": None,
              "evdns_shutdown": None}
EXPECTED_WARNINGS = ("ControlPort is open, but no authentication method",
                     "You are running Tor as root")


class Control:
    """One control-port connection (the line protocol of tor's control-spec)."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            c = self.s.recv(65536)
            if not c:
                raise TestFailure("control connection closed by tor; so far: %r" % self.buf)
            self.buf += c
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l.decode(errors="replace")

    def reply(self):
        """All lines of one reply (up to "NNN " ), data blocks ("NNN+") included."""
        out = []
        while True:
            l = self.line()
            out.append(l)
            if re.match(r"^\d{3}\+", l):
                while True:
                    d = self.line()
                    out.append(d)
                    if d == ".":
                        break
            elif re.match(r"^\d{3} ", l):
                return out

    def cmd(self, text, want="250"):
        self.s.sendall(text.encode() + b"\r\n")
        r = self.reply()
        check(r[-1].startswith(want), "control %r answered %r" % (text, r))
        return r

    def event(self, pattern, timeout=10):
        """The next asynchronous 650 line matching pattern (others are skipped)."""
        self.s.settimeout(timeout)
        end = time.monotonic() + timeout
        seen = []
        while time.monotonic() < end:
            try:
                l = self.line()
            except socket.timeout:
                break
            seen.append(l)
            if l.startswith("650") and re.search(pattern, l):
                return l
        raise TestFailure("no 650 event matching %r within %d s; got %r" % (pattern, timeout,
                                                                              seen[-10:]))

    def close(self):
        self.s.close()




def body():
    args = parse_args()
    e = Env(args, "tor")
    skip_unless_installed((TOR, "tor"))
    verify_ldd(e, TOR)
    stub_missing_evdns(e, TOR, FAKE_STUBS)

    data = os.path.join(e.tmp, "data")
    os.mkdir(data, 0o700)
    notice = show_on_failure(os.path.join(e.tmp, "notice.log"))
    cport = e.free_port()
    torrc = os.path.join(e.tmp, "torrc")
    with open(torrc, "w") as f:
        f.write("DataDirectory %s\nDisableNetwork 1\nSocksPort 0\n"
                "ControlPort 127.0.0.1:%d\nCookieAuthentication 0\n"
                "Log notice file %s\nRunAsDaemon 0\nMaxCircuitDirtiness 600\n"
                % (data, cport, notice))
    base = [TOR, "-f", torrc, "--defaults-torrc", "/dev/null"]

    # 1. --verify-config
    r = e.run(base + ["--verify-config"], timeout=30)
    check("Configuration was valid" in r.stdout, "--verify-config: %s" % r.stdout[-1500:])
    check("not provided by reevent" not in r.stderr, "--verify-config called a stub: %s"
          % r.stderr[-1500:])
    log("--verify-config: valid, exit 0")

    # 2. start, control port
    t0 = time.monotonic()
    out = show_on_failure(os.path.join(e.tmp, "tor.out"))
    p = e.spawn(base, stdout=open(out, "w"), stderr=subprocess.STDOUT)

    def control_up():
        check(p.poll() is None, "tor exited %s at start" % p.returncode)
        try:
            return Control(cport)
        except OSError:
            return None
    c = wait_for(control_up, 30, "the control port")
    t_up = time.monotonic() - t0
    log("control port up after %.2f s" % t_up)
    verify_mapped(e, p.pid, "tor")
    c.cmd('AUTHENTICATE ""')
    v = c.cmd("GETINFO version")[0]
    check(re.match(r"^250-version=0\.4\.", v), "GETINFO version: %r" % v)
    cf = c.cmd("GETINFO config-file")[0]
    check(cf == "250-config-file=%s" % torrc, "GETINFO config-file: %r" % cf)
    pid = c.cmd("GETINFO process/pid")[0]
    check(pid == "250-process/pid=%d" % p.pid, "GETINFO process/pid: %r (pid %d)" % (pid, p.pid))
    net = c.cmd("GETCONF DisableNetwork")[0]
    check(net == "250 DisableNetwork=1", "GETCONF DisableNetwork: %r" % net)
    c.cmd("SETCONF MaxCircuitDirtiness=777")
    mcd = c.cmd("GETCONF MaxCircuitDirtiness")[0]
    check(mcd == "250 MaxCircuitDirtiness=777", "GETCONF after SETCONF: %r" % mcd)
    ev = Control(cport)
    ev.cmd('AUTHENTICATE ""')
    ev.cmd("SETEVENTS NOTICE")
    log("AUTHENTICATE, GETINFO version/config-file/process/pid, SETCONF/GETCONF, "
        "SETEVENTS on a second connection: all 250 (%s)" % v.split("=", 1)[1])

    # 3. reload: through the control port, then a real SIGHUP
    c.cmd("SIGNAL RELOAD")
    ev.event(r"Received reload signal \(hup\)")
    mcd = c.cmd("GETCONF MaxCircuitDirtiness")[0]
    check(mcd == "250 MaxCircuitDirtiness=600", "after RELOAD the file's value is back: %r"
          % mcd)
    c.cmd("SETCONF MaxCircuitDirtiness=778")
    os.kill(p.pid, signal.SIGHUP)
    ev.event(r"Received reload signal \(hup\)")
    mcd = c.cmd("GETCONF MaxCircuitDirtiness")[0]
    check(mcd == "250 MaxCircuitDirtiness=600", "after SIGHUP the file's value is back: %r"
          % mcd)
    wait_for(lambda: read_text(notice).count("Received reload signal (hup)") >= 2, 10,
             "two reloads in the log")
    log("SIGNAL RELOAD and kill -HUP: both reloaded (650 NOTICE event, log, config reset)")

    # 4. dump (control and SIGUSR1), heartbeat
    c.cmd("SIGNAL DUMP")
    ev.event(r"Dumping stats")
    os.kill(p.pid, signal.SIGUSR1)
    ev.event(r"Dumping stats")
    c.cmd("SIGNAL HEARTBEAT")
    ev.event(r"Heartbeat: ")
    log("SIGNAL DUMP, kill -USR1, SIGNAL HEARTBEAT: logged")

    # 5. the once-a-second timer counts uptime; meanwhile 6 control connections at once,
    # each with a large reply (config/names: one line per option) and pipelined commands
    others = [Control(cport) for _ in range(6)]
    for o in others:
        o.s.sendall(b'AUTHENTICATE ""\r\nGETINFO config/names\r\n' +
                    b"GETINFO version\r\n" * 20)
    sizes = set()
    for o in others:
        check(o.reply() == ["250 OK"], "AUTHENTICATE on a parallel connection")
        names = o.reply()
        check(names[0] == "250+config/names=" and names[-1] == "250 OK" and len(names) > 300,
              "GETINFO config/names: %d lines %r" % (len(names), names[:3]))
        sizes.add(len(names))
        for _ in range(20):
            check(o.reply() == [v, "250 OK"], "pipelined GETINFO version")
        o.close()
    check(len(sizes) == 1, "config/names differs between connections: %s" % sizes)

    def uptime():
        u = c.cmd("GETINFO uptime")[0]
        check(re.match(r"^250-uptime=\d+$", u), "GETINFO uptime: %r" % u)
        return int(u.split("=")[1]) >= 2 and u
    up = wait_for(uptime, 8, "GETINFO uptime >= 2")
    log("6 connections x (config/names, %d lines, + 20 pipelined GETINFO): all answered; "
        "%s" % (sizes.pop(), up[4:]))
    c.close()
    ev.close()

    # 6. SIGINT
    os.kill(p.pid, signal.SIGINT)
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        raise TestFailure("tor did not exit within 10 s of SIGINT")
    check(rc == 0, "tor exited %d after SIGINT" % rc)
    text = read_text(notice)
    check("Interrupt: exiting cleanly" in text, "no clean exit in the log")
    log("kill -INT: exit 0 (%.2f s after start)" % (time.monotonic() - t0))

    # 7. the log
    bad = [l for l in text.splitlines()
           if re.search(r"\[(warn|err)\]", l) and not any(w in l for w in EXPECTED_WARNINGS)]
    check(not bad, "unexpected warnings/errors in tor's log: %s" % bad)
    lev = [l for l in text.splitlines() if re.search(r"libevent|event loop|event_base", l, re.I)
           and "running on Linux with Libevent" not in l]
    check(all("Initialized libevent version" in l for l in lev),
          "tor's log mentions libevent: %s" % lev)
    stub_calls = sorted(set(re.findall(r"reevent-test-stub: (\S+)", read_text(out))))
    for s in stub_calls:
        check(s in FAKE_STUBS, "tor called the evdns stub %s" % s)
    log("log: no unexpected [warn]/[err], %d libevent line(s) (%s); stubs called: %s"
        % (len(lev), "; ".join(l.split("] ", 1)[-1] for l in lev) or "-",
           ", ".join(stub_calls) or "none"))
    left = e.tagged_pids()
    check(not left, "processes left behind: %s" % left)
    e.record("tor on %s: control port up %.2f s, whole run %.2f s"
             % (e.side, t_up, time.monotonic() - t0))


if __name__ == "__main__":
    main_wrapper(body)
