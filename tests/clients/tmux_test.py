#!/usr/bin/env python3
"""tmux 3.3a (Debian's binary, unmodified) as an end-to-end client of the library.

tmux links libevent_core only, uses the pre-2.0 global base (event_init, event_loop,
event_set, event_once), bufferevent_new and evbuffer_readline, reads struct bufferevent's
input/output fields directly, and its server forks to daemonize, so a working server proves
event_reinit. The test, on a private socket with no config file:
  1. checks ldd, then /proc/PID/maps of the forked server, for the side under test;
  2. a session running /bin/sh: send-keys + capture-pane round trips;
  3. split-window (two panes, each answering), resize-window (the pane's pty size changes:
     the shell's `stty size` agrees with tmux);
  4. SIGWINCH through libevent: a tmux client attached on a pseudo-terminal; the test
     resizes that terminal and the window follows the client's new size;
  5. SIGCHLD: a pane whose command exits 3 is seen dead with status 3, a window whose
     command exits goes away, run-shell waits for its job;
  6. a second window, selected and answering; run-shell -d (a timer);
  7. kill-server: exit 0, and no process started by the test is left (found by an
     environment tag even after daemonizing).
"""

import fcntl
import os
import struct
import subprocess
import sys
import termios
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (Env, check, log, main_wrapper, parse_args, skip_unless_importable,  # noqa
                       verify_ldd, verify_mapped, TestFailure)

TMUX = "/usr/bin/tmux"


class Tmux:
    def __init__(self, e):
        self.e = e
        self.sock = os.path.join(e.tmp, "s")

    def __call__(self, *args, check_rc=True, timeout=15):
        r = self.e.run([TMUX, "-S", self.sock, "-f", "/dev/null"] + list(args),
                       timeout=timeout, check_rc=check_rc, cwd=self.e.tmp)
        return r

    def out(self, *args):
        return self("display-message", "-p", *args).stdout.strip()

    def capture(self, target):
        return self("capture-pane", "-p", "-t", target).stdout

    def wait_for(self, what, fn, timeout=10, show=None):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = fn()
            if last:
                return last
            time.sleep(0.05)
        extra = ""
        if show:
            extra = "; pane %s shows:\n%s" % (show, self.capture(show).rstrip())
        raise TestFailure("timed out after %d s waiting for %s%s" % (timeout, what, extra))

    def round_trip(self, target, expr, expected):
        """Type a shell command whose output (not its echo) contains `expected`. Keys typed
        before the shell prints its prompt are echoed early, so the output may follow the
        prompt on the same line."""
        self("send-keys", "-t", target, "echo rt-%s-rt" % expr, "Enter")
        want = "rt-%s-rt" % expected
        self.wait_for("'%s' in pane %s" % (want, target),
                      lambda: any(l.rstrip().endswith(want) and "echo" not in l
                                  for l in self.capture(target).splitlines()),
                      show=target)


def set_winsize(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def body():
    args = parse_args()
    e = Env(args, "tmux")
    STATE["env"] = e
    verify_ldd(e, TMUX)
    skip_unless_importable(e, TMUX)
    os.environ.update({"HOME": e.tmp, "SHELL": "/bin/sh", "TERM": "xterm", "ENV": "",
                       "PS1": "$ "})
    t = Tmux(e)

    t("new-session", "-d", "-s", "main", "-x", "100", "-y", "30", "/bin/sh")
    server = int(t.out("#{pid}"))
    STATE["server"] = server
    verify_mapped(e, server, "tmux server (forked daemon: event_reinit)")
    version = t.out("#{version}")
    check(version.startswith("3."), "tmux version %r (the test needs 3.x)" % version)

    # 2. round trips
    for i in range(10):
        t.round_trip("main:0.0", "$((%d*7))" % i, str(i * 7))
    log("10 send-keys/capture-pane round trips in pane main:0.0")

    # 3. split and resize
    t("split-window", "-v", "-t", "main:0", "/bin/sh")
    panes = t("list-panes", "-t", "main:0", "-F", "#{pane_index}").stdout.split()
    check(panes == ["0", "1"], "two panes after split-window, got %s" % panes)
    t.round_trip("main:0.1", "$((6*7))", "42")
    t.round_trip("main:0.0", "$((6*8))", "48")
    t("resize-window", "-t", "main:0", "-x", "120", "-y", "40")
    t.wait_for("window 120x40", lambda: t.out("-t", "main:0", "#{window_width}x#{window_height}")
               == "120x40")
    h, w = t.out("-t", "main:0.1", "#{pane_height} #{pane_width}").split()
    # tmux resizes the pty from its loop a little later: ask again until the shell agrees.
    want = "size-%sx%s-size" % (h, w)
    asked = [0.0]

    def pty_agrees():
        if want in t.capture("main:0.1").splitlines():
            return True
        if time.monotonic() - asked[0] > 0.5:
            t("send-keys", "-t", "main:0.1", "clear; echo size-$(stty size | tr ' ' x)-size",
              "Enter")
            asked[0] = time.monotonic()
        return False
    t.wait_for("stty size %s in the resized pane" % want, pty_agrees, show="main:0.1")
    t("resize-pane", "-t", "main:0.1", "-y", "8")
    t.wait_for("pane height 8", lambda: t.out("-t", "main:0.1", "#{pane_height}") == "8")
    log("split-window: 2 panes answer; resize-window 120x40 reaches the pane's pty (%sx%s)"
        % (h, w))

    # 4. SIGWINCH: an attached client on a pty, whose terminal we resize.
    master, slave = os.openpty()
    set_winsize(slave, 30, 100)
    t("set-option", "-g", "window-size", "latest")
    t("set-option", "-w", "-t", "main:0", "window-size", "latest")
    client = e.spawn([TMUX, "-S", t.sock, "-f", "/dev/null", "attach-session", "-t", "main"],
                     stdin=slave, stdout=slave, stderr=slave, cwd=e.tmp,
                     preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
    os.close(slave)
    stop_drain = threading.Event()

    def drain():  # the client paints the screen; keep the pty from filling up
        while not stop_drain.is_set():
            try:
                if not os.read(master, 65536):
                    break
            except OSError:
                break
    threading.Thread(target=drain, daemon=True).start()
    t.wait_for("client attached", lambda: t("list-clients", "-F", "#{client_width}x"
                                            "#{client_height}").stdout.strip() == "100x30")
    verify_mapped(e, client.pid, "attached tmux client")
    set_winsize(master, 45, 132)   # the kernel sends SIGWINCH to the client
    t.wait_for("client 132x45 after SIGWINCH",
               lambda: t("list-clients", "-F", "#{client_width}x#{client_height}")
               .stdout.strip() == "132x45")
    t.wait_for("window follows the client (132x44)",
               lambda: t.out("-t", "main:0", "#{window_width}x#{window_height}") == "132x44")
    t("detach-client", "-s", "main")
    try:
        rc = client.wait(timeout=10)
    except subprocess.TimeoutExpired:
        raise TestFailure("attached client did not exit after detach-client")
    stop_drain.set()
    os.close(master)
    check(rc == 0, "detached client exited %d" % rc)
    log("SIGWINCH: attached client saw 100x30 then 132x45, window followed; detach exits 0")

    # 5. SIGCHLD
    t("set-option", "-g", "remain-on-exit", "on")
    t("new-window", "-d", "-t", "main:5", "-n", "dying", "sh -c 'sleep 0.2; exit 3'")
    # (the sleep lets tmux register the pane before its child exits: tmux, not the event
    # library, loses the status of a child that dies before the pane exists)
    last = [None]

    def dead3():
        last[0] = t.out("-t", "main:5", "#{pane_dead} #{pane_dead_status}")
        return last[0] == "1 3"
    # tmux 3.3a on Debian's own libevent sometimes leaves this child unreaped until the next
    # SIGCHLD (seen in about 1 run of 3: the pane is dead, its pid a zombie, no status). So
    # if no status came within 3 s, a second child exit is made and the status must follow.
    try:
        t.wait_for("dead pane with status 3", dead3, timeout=3)
    except TestFailure:
        log("note: no exit status 3 s after the pane died (last seen %r); making a second "
            "child exit (run-shell -b true)" % last[0])
        t("run-shell", "-b", "true")
        try:
            t.wait_for("dead pane with status 3", dead3)
        except TestFailure as ex:
            raise TestFailure("%s (last seen %r)" % (ex, last[0]))
    t("set-option", "-g", "remain-on-exit", "off")
    t("kill-window", "-t", "main:5")
    t("new-window", "-d", "-t", "main:6", "-n", "brief", "sleep 0.2")
    t.wait_for("window of an exited command closed",
               lambda: "brief" not in t("list-windows", "-t", "main", "-F",
                                        "#{window_name}").stdout.split())
    # run-shell (no -b) returns only once the job has exited and been reaped.
    job_out = os.path.join(e.tmp, "job.out")
    t("run-shell", "echo job-$((2+3)) > %s" % job_out)
    with open(job_out) as f:
        got = f.read().strip()
    check(got == "job-5", "run-shell job wrote %r" % got)
    log("SIGCHLD: exit status 3 seen, exited window closed, run-shell waited for its job")

    # 6. second window, timer
    t("new-window", "-t", "main:1", "-n", "second", "/bin/sh")
    t("select-window", "-t", "main:second")
    check(t.out("-t", "main", "#{window_name}") == "second", "second window selected")
    t.round_trip("main:second", "$((100+1))", "101")
    names = t("list-windows", "-t", "main", "-F", "#{window_index}:#{window_name}").stdout.split()
    check(len(names) == 2 and names[1] == "1:second", "windows %s" % names)
    t0 = time.monotonic()
    t("run-shell", "-d", "0.3", "true")
    dt = time.monotonic() - t0
    check(0.25 <= dt < 5, "run-shell -d 0.3 took %.3f s" % dt)
    log("second window answers; run-shell -d 0.3 waited %.3f s" % dt)

    # 7. kill-server, nothing left behind
    pane_pids = [int(p) for p in t("list-panes", "-a", "-F", "#{pane_pid}").stdout.split()]
    check(len(pane_pids) == 3, "3 panes before kill-server, got %s" % pane_pids)
    t("kill-server")
    deadline = time.monotonic() + 10
    while e.tagged_pids() and time.monotonic() < deadline:
        time.sleep(0.05)
    left = e.tagged_pids()
    check(not left, "processes left after kill-server: %s" % left)
    check(not os.path.exists(t.sock) or t("ls", check_rc=False).returncode != 0,
          "server still answers after kill-server")
    log("kill-server: server %d and panes %s gone, no process left" % (server, pane_pids))


def body_with_diagnostics():
    try:
        body()
    except TestFailure:
        e = STATE.get("env")
        if e is not None:
            t = Tmux(e)
            r = t("list-panes", "-a", "-F", "#{session_name}:#{window_index}.#{pane_index} "
                  "pid=#{pane_pid} dead=#{pane_dead} status=#{pane_dead_status} "
                  "cmd=#{pane_current_command}", check_rc=False)
            print("diagnostics: tmux list-panes -a:\n" + r.stdout + r.stderr)
            ps = subprocess.run(["ps", "-o", "pid,ppid,pgid,stat,args", "-p",
                                 ",".join(str(p) for p in e.tagged_pids()) or "1"],
                                capture_output=True, text=True)
            print("diagnostics: processes of this test:\n" + ps.stdout)
            ps = subprocess.run(["ps", "-e", "-o", "pid,ppid,stat,args"], capture_output=True,
                                text=True)
            srv = STATE.get("server")
            print("diagnostics: children of the server %s:\n" % srv + "\n".join(
                l for l in ps.stdout.splitlines() if len(l.split()) > 1 and l.split()[1] == str(srv)))
        raise


STATE = {}

if __name__ == "__main__":
    main_wrapper(body_with_diagnostics)
