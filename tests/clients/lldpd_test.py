#!/usr/bin/env python3
"""lldpd 1.0 (Debian's LLDP daemon) as an end-to-end client of the library.

lldpd runs a privilege-separated pair (a monitor and its forked, chrooted worker); the
worker's loop has bufferevents for the monitor channel and for lldpcli clients on its Unix
socket, raw-socket read events per interface, netlink events, per-interface transmit timers,
an aging timer for neighbours and signal events; it logs through event_set_log_callback and
checks event_base_got_break/got_exit. Two network namespaces joined by a veth pair, one lldpd
in each (private control socket, pid file and config; only the veth is used; tx-interval
1 s). The test:
  1. each lldpd sees the other as its neighbour: exact system name, port, and the chassis
     MAC of the peer's interface;
  2. `lldpcli configure system hostname/description` on one side reaches the other side;
  3. one end of the veth goes down: both sides drop the neighbour (netlink event / carrier
     loss); it comes up again: both see each other again; transmit/receive counters moved;
  4. SIGTERM: both exit 0, their workers gone, the namespaces removed.
Needs root and network namespaces; without them it exits 77 (SKIPPED) saying so.
"""

import os
import signal
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (Env, check, log, main_wrapper, parse_args, skip_unless_importable,  # noqa
                       verify_ldd, verify_mapped, show_on_failure, session_pids, TestFailure,
                       SKIP)

LLDPD = "/usr/sbin/lldpd"
LLDPCLI = "/usr/sbin/lldpcli"
CHROOT = "/run/lldpd"  # lldpd's compiled-in privilege separation directory


def body():
    args = parse_args()
    e = Env(args, "lldpd")
    verify_ldd(e, LLDPD)
    skip_unless_importable(e, LLDPD)
    if os.geteuid() != 0:
        print("SKIP: lldpd needs root for its network namespaces", flush=True)
        sys.exit(SKIP)
    base = "reev-%s" % uuid.uuid4().hex[:8]
    ns = {"a": base + "-a", "b": base + "-b"}
    for side in "ab":
        r = subprocess.run(["ip", "netns", "add", ns[side]], capture_output=True, text=True)
        if r.returncode != 0:
            print("SKIP: no network namespaces here: %s" % r.stderr.strip(), flush=True)
            sys.exit(SKIP)
        e.cleanups.append(lambda n=ns[side]: subprocess.run(["ip", "netns", "del", n],
                                                             capture_output=True))
    vx = "rv%s" % base[5:]
    subprocess.run(["ip", "link", "add", vx + "a", "netns", ns["a"], "type", "veth", "peer",
                    "name", vx + "b", "netns", ns["b"]], check=True, capture_output=True)
    mac = {}
    for side in "ab":
        ipn = ["ip", "-n", ns[side]]
        subprocess.run(ipn + ["link", "set", vx + side, "name", "lldp0"], check=True)
        subprocess.run(ipn + ["link", "set", "lo", "up"], check=True)
        subprocess.run(ipn + ["link", "set", "lldp0", "up"], check=True)
        out = subprocess.run(ipn + ["-o", "link", "show", "lldp0"], check=True,
                             capture_output=True, text=True).stdout.split()
        mac[side] = out[out.index("link/ether") + 1]
    os.makedirs(CHROOT, exist_ok=True)
    os.chmod(e.tmp, 0o755)  # lldpd creates and lldpcli opens the sockets as _lldpd

    procs, socks = {}, {}
    for side in "ab":
        socks[side] = os.path.join(e.tmp, side + ".sock")
        conf = os.path.join(e.tmp, side + ".conf")
        with open(conf, "w") as f:
            f.write("configure system hostname reev-%s\nconfigure lldp tx-interval 1\n" % side)
        # b runs on the poll backend (libevent's EVENT_NOEPOLL), a on the default (epoll).
        # Debug logs of the event subsystem only (-d x4 -D event): they hold the event dump.
        procs[side] = e.spawn(
            ["env", "-u", "EVENT_NOEPOLL", "-u", "EVENT_NOPOLL", "-u", "EVENT_NOSELECT"]
            + (["EVENT_NOEPOLL=1"] if side == "b" else [])
            + ["ip", "netns", "exec", ns[side], LLDPD, "-d", "-d", "-d", "-d", "-D", "event",
               "-u", socks[side], "-p", os.path.join(e.tmp, side + ".pid"), "-I", "lldp0",
               "-O", conf, "-S", "reevent side %s" % side],
            stdout=open(show_on_failure(os.path.join(e.tmp, side + ".log")), "w"),
            stderr=subprocess.STDOUT)

    def cli(side, *argv):
        r = subprocess.run([LLDPCLI, "-u", socks[side]] + list(argv), capture_output=True,
                           text=True, timeout=10)
        check(r.returncode == 0, "lldpcli %s on %s: %s" % (" ".join(argv), side, r.stderr))
        return r.stdout

    def neighbours(side):
        kv = {}
        for line in cli(side, "show", "neighbors", "-f", "keyvalue").splitlines():
            k, _, v = line.partition("=")
            kv[k] = v
        return kv

    def wait_for(cond, what, timeout=10):
        deadline = time.monotonic() + timeout
        last = None
        while True:
            for side in "ab":
                check(procs[side].poll() is None, "lldpd %s exited with %s"
                      % (side, procs[side].returncode))
            try:
                last = cond()
                if last is True:
                    return
            except (OSError, TestFailure) as ex:
                last = ex
            check(time.monotonic() < deadline, "%s within %d s (last: %s)" % (what, timeout, last))
            time.sleep(0.1)

    wait_for(lambda: all(os.path.exists(socks[s]) for s in "ab"), "control sockets")
    for side, method in (("a", "epoll"), ("b", "poll")):
        verify_mapped(e, procs[side].pid, "lldpd " + side)
        want = "libevent 2.1.12-stable initialized with %s method" % method
        wait_for(lambda: want in open(os.path.join(e.tmp, side + ".log")).read(),
                 "lldpd %s logging %r" % (side, want))
    log("lldpd a on epoll, b on poll (EVENT_NOEPOLL), as each one logs")

    # 1. each sees the other
    def sees(side, name, descr):
        other = "b" if side == "a" else "a"
        n = neighbours(side)
        want = {"lldp.lldp0.via": "LLDP", "lldp.lldp0.chassis.name": name,
                "lldp.lldp0.chassis.descr": descr, "lldp.lldp0.chassis.mac": mac[other],
                "lldp.lldp0.port.descr": "lldp0"}
        got = {k: n.get(k) for k in want}
        return True if got == want else got
    t0 = time.monotonic()
    wait_for(lambda: sees("a", "reev-b", "reevent side b") is True
             and sees("b", "reev-a", "reevent side a"), "neighbours")
    log("both lldpd see each other (name, description, chassis MAC, port) after %.2f s"
        % (time.monotonic() - t0))

    # SIGUSR1 makes the worker log event_base_dump_events: its signal events, timers, and
    # (as on libevent) the library's own signal-pipe event marked Internal.
    for side in "ab":
        worker = [q for q in session_pids(procs[side].pid) if q != procs[side].pid]
        check(len(worker) == 1, "lldpd %s: one worker expected: %s" % (side, worker))
        os.kill(worker[0], signal.SIGUSR1)
        logf = os.path.join(e.tmp, side + ".log")

        def dumped():
            text = open(logf).read()
            start = text.find("dumping all events")
            end = text.find("Active events:", start)
            return text[start:end] if start >= 0 and end >= 0 else False
        wait_for(lambda: bool(dumped()), "lldpd %s logging its event dump" % side)
        lines = dumped().splitlines()[2:]
        for sig in (signal.SIGINT, signal.SIGUSR1, signal.SIGTERM):
            check(sum(l.endswith("[sig %d] Signal Persist" % sig) for l in lines) == 1,
                  "lldpd %s dump lacks signal %d:\n%s" % (side, sig, "\n".join(lines)))
        check(sum(l.endswith("] Read Persist Internal") for l in lines) == 1
              and any("[fd  -1] Timeout=" in l for l in lines),
              "lldpd %s dump: want one internal read event and a timer:\n%s"
              % (side, "\n".join(lines)))
    log("SIGUSR1: both workers dumped their events (3 signals, timers, one Internal)")

    # 2. a change made through lldpcli travels to the peer
    cli("a", "configure", "system", "hostname", "reev-a-renamed")
    cli("a", "configure", "system", "description", "changed at run time")
    t0 = time.monotonic()
    wait_for(lambda: sees("b", "reev-a-renamed", "changed at run time"), "renamed neighbour")
    log("hostname/description changed on a via lldpcli: b sees them after %.2f s"
        % (time.monotonic() - t0))

    # 3. link down and up
    subprocess.run(["ip", "-n", ns["b"], "link", "set", "lldp0", "down"], check=True)
    t0 = time.monotonic()
    wait_for(lambda: neighbours("a") == {} and neighbours("b") == {} or "still there",
             "neighbours dropped after link down")
    log("veth end in b down: both sides dropped the neighbour after %.2f s"
        % (time.monotonic() - t0))
    subprocess.run(["ip", "-n", ns["b"], "link", "set", "lldp0", "up"], check=True)
    t0 = time.monotonic()
    wait_for(lambda: sees("a", "reev-b", "reevent side b") is True
             and sees("b", "reev-a-renamed", "changed at run time"), "neighbours back")
    log("link up again: neighbours back after %.2f s" % (time.monotonic() - t0))
    for side in "ab":
        st = {}
        for line in cli(side, "show", "statistics", "-f", "keyvalue").splitlines():
            k, _, v = line.partition("=")
            st[k] = int(v)
        check(st.get("lldp.lldp0.tx.tx", 0) >= 2 and st.get("lldp.lldp0.rx.rx", 0) >= 2
              and st.get("lldp.lldp0.insert_cnt.insert_cnt", 0) >= 2
              and st.get("lldp.lldp0.delete_cnt.delete_cnt", 0) >= 1,
              "statistics of %s: %s" % (side, st))

    # 4. SIGTERM
    for side in "ab":
        procs[side].send_signal(signal.SIGTERM)
    for side in "ab":
        try:
            rc = procs[side].wait(timeout=10)
        except subprocess.TimeoutExpired:
            raise TestFailure("lldpd %s did not exit within 10 s of SIGTERM" % side)
        check(rc == 0, "lldpd %s exited %d after SIGTERM" % (side, rc))
        deadline = time.monotonic() + 10
        while session_pids(procs[side].pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        check(not session_pids(procs[side].pid), "lldpd %s left processes: %s"
              % (side, session_pids(procs[side].pid)))
    check(not e.tagged_pids(), "processes left: %s" % e.tagged_pids())
    log("SIGTERM: both lldpd exited 0, their workers are gone")


if __name__ == "__main__":
    main_wrapper(body)
