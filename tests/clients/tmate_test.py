#!/usr/bin/env python3
"""tmate 2.4.0 (Debian's tmux fork for terminal sharing) as an end-to-end client of the library.

tmate is tmux 2.x plus a session client that connects to a tmate server over SSH (libssh):
`libevent-2.1.so.7`, 43 imports. Beyond tmux's pre-2.0 global base (event_init, event_set,
event_once, event_loop, event_reinit after its daemon fork), bufferevent_new and
evbuffer_readline/readln, it resolves its server's name with `evdns_base_new` +
`evdns_getaddrinfo` (then `evutil_inet_ntop`, `evutil_freeaddrinfo`) and retries the
connection from a timer. No Internet: the test's config points tmate-server-host at the
numeric 127.0.0.1 (so evdns answers without any nameserver) and tmate-server-port at the
test's own TCP listener, which accepts each connection and closes it at once. On a private
socket, HOME and config:
  1. the forked server maps the side's libraries; it shows its connection messages (a view
     mode, left with `q`), then a /bin/sh pane: 10 send-keys/capture-pane round trips;
  2. the session keeps trying: the listener sees >= 2 connections ~2 s apart (lookup by
     evdns_getaddrinfo, connect, "Reconnecting..." timer), and the panes still answer;
  3. split-window and new-window: every pane answers; a window whose command exits closes
     (SIGCHLD);
  4. kill-server: no process started by the test is left.
"""

import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (check, log, main_wrapper, start, verify_mapped, serve, wait_for,  # noqa
                       TestFailure)

TMATE = "/usr/bin/tmate"


class Tmate:
    def __init__(self, e, conf):
        self.e = e
        self.conf = conf
        self.sock = os.path.join(e.tmp, "s")

    def __call__(self, *args, check_rc=True, timeout=15):
        # -f on every call: only new-session starts a server, and it must get our config
        # (never the default tmate server on the Internet).
        return self.e.run([TMATE, "-S", self.sock, "-f", self.conf] + list(args),
                          timeout=timeout, check_rc=check_rc, cwd=self.e.tmp)

    def out(self, *args):
        return self("display-message", "-p", *args).stdout.strip()

    def capture(self, target):
        return self("capture-pane", "-p", "-t", target).stdout

    def round_trip(self, target, expr, expected):
        self("send-keys", "-t", target, "echo rt-%s-rt" % expr, "Enter")
        want = "rt-%s-rt" % expected
        try:
            wait_for(lambda: any(l.rstrip().endswith(want) and "echo" not in l
                                 for l in self.capture(target).splitlines()), 10,
                     "'%s' in pane %s" % (want, target))
        except TestFailure as ex:
            raise TestFailure("%s; pane shows:\n%s" % (ex, self.capture(target).rstrip()))

    def leave_mode(self, target):
        """tmate opens a pane on its message log (a view mode): `q` leaves it."""
        if self.out("-t", target, "#{pane_in_mode}") == "1":
            self("send-keys", "-t", target, "q")
        wait_for(lambda: self.out("-t", target, "#{pane_in_mode}") == "0", 10,
                 "pane %s out of its view mode" % target)


def body():
    e = start("tmate", TMATE)
    os.environ.update({"HOME": e.tmp, "SHELL": "/bin/sh", "TERM": "xterm", "ENV": "",
                       "PS1": "$ "})
    os.environ.pop("TMUX", None)

    # The "tmate server": accepts, records the time, closes.
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    port = lsock.getsockname()[1]
    conns = []
    lock = threading.Lock()

    def handler(c):
        with lock:
            conns.append(time.monotonic())
        c.close()
    serve(lsock, handler)
    conf = os.path.join(e.tmp, "tmate.conf")
    with open(conf, "w") as f:
        f.write("set -g tmate-server-host 127.0.0.1\nset -g tmate-server-port %d\n"
                "set -g tmate-identity ''\n" % port)
    t = Tmate(e, conf)

    # 1.
    t("new-session", "-d", "-s", "main", "-x", "100", "-y", "30", "/bin/sh")
    server = int(t.out("#{pid}"))
    verify_mapped(e, server, "tmate server (forked daemon: event_reinit)")
    t.leave_mode("main:0.0")
    for i in range(10):
        t.round_trip("main:0.0", "$((%d*7))" % i, str(i * 7))
    log("10 send-keys/capture-pane round trips in pane main:0.0")

    # 2. the session client's reconnect loop
    wait_for(lambda: len(conns) >= 2, 15, "two connection attempts to the tmate server")
    with lock:
        gap = conns[1] - conns[0]
    check(1.0 <= gap <= 6, "reconnect %.2f s after the first attempt" % gap)
    t.round_trip("main:0.0", "$((6*7))", "42")
    log("tmate reached the test's server %d times, reconnect after %.2f s (evdns numeric "
        "lookup, connect, timer); panes still answer" % (len(conns), gap))

    # 3. more panes and windows
    t("split-window", "-v", "-t", "main:0", "/bin/sh")
    panes = t("list-panes", "-t", "main:0", "-F", "#{pane_index}").stdout.split()
    check(panes == ["0", "1"], "two panes after split-window, got %s" % panes)
    t.leave_mode("main:0.1")
    t.round_trip("main:0.1", "$((6*8))", "48")
    t("new-window", "-t", "main:1", "/bin/sh")
    t.leave_mode("main:1.0")
    t.round_trip("main:1.0", "$((6*9))", "54")
    t.round_trip("main:0.0", "$((7*9))", "63")
    t("new-window", "-d", "-t", "main:6", "-n", "brief", "sleep 0.2")
    wait_for(lambda: "brief" not in t("list-windows", "-t", "main", "-F",
                                      "#{window_name}").stdout.split(), 10,
             "window of an exited command closed")
    log("split-window and new-window: every pane answers; an exited command's window closed")

    # 4.
    t("kill-server", check_rc=False)
    wait_for(lambda: not e.tagged_pids(), 10, "every tmate process gone after kill-server")
    lsock.close()
    log("kill-server: no process left")


if __name__ == "__main__":
    main_wrapper(body)
