#!/usr/bin/env python3
"""poolcounterd 1.1.3 (Debian's poolcounter: Wikimedia's network lock/queue daemon) as an
end-to-end client of the library.

poolcounterd uses only the pre-2.0 API through libevent-2.1.so.7: event_init, event_set (its
listening socket, one persistent read event per client, a one-shot timeout event per waiting
client), event_add/event_del, event_dispatch, event_loopbreak and event_base_free. Its port
is fixed (7531), so the test gives it a random address of 127/8 (-l). A text protocol: each
line is "ACQ4ME|ACQ4ANY key workers maxqueue timeout", "RELEASE" or "STATS ...":
  1. a holds key k; b asks for it with a 1 s timeout: TIMEOUT after ~1 s (the per-client
     timer), not before; a third client over maxqueue gets QUEUE_FULL at once;
  2. b waits with ACQ4ME, c with ACQ4ANY; a RELEASEs: b gets LOCKED (the lock is handed
     over) and c gets DONE (someone did the work);
  3. a client that holds a lock disconnects: the next one gets it at once (the read event
     sees EOF and frees the client's state); one that disconnects while waiting leaves no
     waiter behind (STATS waiting_workers 0);
  4. 40 clients compete for one key with workers=4: never more than 4 hold it at once, each
     gets it exactly once, all in the end (release order from many sockets at once);
  5. RELEASE without a lock: NOT_LOCKED; a bad command: ERROR BAD_COMMAND; STATS FULL counts
     what happened;
  6. SIGTERM: it leaves its loop (a sigaction handler; it imports event_loopbreak, not
     EV_SIGNAL) and exits 0.
"""

import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (Env, check, log, main_wrapper, parse_args, skip_unless_importable,  # noqa
                       verify_ldd, verify_mapped, show_on_failure, TestFailure)

POOLCOUNTERD = "/usr/bin/poolcounterd"
PORT = 7531  # compiled in


class Client:
    def __init__(self, addr):
        self.s = socket.create_connection((addr, PORT), timeout=10)
        self.f = self.s.makefile("rb")

    def send(self, line):
        self.s.sendall(line.encode() + b"\n")

    def reply(self):
        line = self.f.readline()
        if not line:
            raise TestFailure("poolcounterd closed the connection")
        return line.decode().rstrip("\n")

    def ask(self, line):
        self.send(line)
        return self.reply()

    def close(self):
        self.f.close()
        self.s.close()


def stats(addr):
    c = Client(addr)
    c.send("STATS FULL")
    out = {}
    while True:
        line = c.reply()
        if not line:
            break
        k, _, v = line.partition(": ")
        out[k] = v
    c.close()
    return out


def body():
    args = parse_args()
    e = Env(args, "poolcounter")
    verify_ldd(e, POOLCOUNTERD)
    skip_unless_importable(e, POOLCOUNTERD)

    # A private address of 127/8: the port is fixed and another poolcounterd may be running.
    rnd = random.Random()
    logpath = show_on_failure(os.path.join(e.tmp, "poolcounterd.log"))
    for _ in range(5):
        addr = "127.%d.%d.%d" % (rnd.randint(1, 254), rnd.randint(1, 254), rnd.randint(2, 254))
        p = e.spawn([POOLCOUNTERD, "-l", addr], stdout=open(logpath, "w"),
                    stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        up = False
        while p.poll() is None and time.monotonic() < deadline:
            try:
                socket.create_connection((addr, PORT), timeout=1).close()
                up = True
                break
            except OSError:
                time.sleep(0.05)
        if up:
            break
        p.kill()
        p.wait()
    check(up, "poolcounterd did not listen: %s" % open(logpath).read())
    verify_mapped(e, p.pid, "poolcounterd")
    log("poolcounterd listens on %s:%d" % (addr, PORT))

    # 1. timeout and a full queue
    a, b, c = Client(addr), Client(addr), Client(addr)
    check(a.ask("ACQ4ME k 1 2 5") == "LOCKED", "a did not get the free lock")
    t0 = time.monotonic()
    r = b.ask("ACQ4ME k 1 2 1")
    waited = time.monotonic() - t0
    check(r == "TIMEOUT", "b: %r, want TIMEOUT" % r)
    check(0.95 <= waited < 3.0, "b's 1 s timeout answered after %.3f s" % waited)
    b.send("ACQ4ME k 1 2 5")  # waits: 1 holder + 1 waiter = maxqueue 2
    time.sleep(0.1)
    t0 = time.monotonic()
    r = c.ask("ACQ4ME k 1 2 5")
    check(r == "QUEUE_FULL" and time.monotonic() - t0 < 0.5, "c over maxqueue: %r" % r)
    log("1 s timeout after %.3f s; QUEUE_FULL at once over maxqueue" % waited)

    # 2. hand-over to an ACQ4ME waiter, DONE to an ACQ4ANY waiter
    c.send("ACQ4ANY k 1 3 5")
    time.sleep(0.1)
    check(a.ask("RELEASE") == "RELEASED", "a's RELEASE")
    r1, r2 = b.reply(), c.reply()
    check(r1 == "LOCKED", "b after a's release: %r, want LOCKED" % r1)
    check(r2 == "DONE", "c (ACQ4ANY) after a's release: %r, want DONE" % r2)
    log("RELEASE: the ACQ4ME waiter got LOCKED, the ACQ4ANY waiter DONE")

    # 3. disconnects
    b.close()  # holds k
    t0 = time.monotonic()
    check(c.ask("ACQ4ME k 1 2 5") == "LOCKED" and time.monotonic() - t0 < 1.0,
          "the lock of a disconnected holder was not freed")
    d = Client(addr)
    d.send("ACQ4ME k 1 2 30")
    time.sleep(0.1)
    check(stats(addr).get("waiting_workers") == "1", "d does not wait: %s" % stats(addr))
    d.close()
    deadline = time.monotonic() + 5
    while stats(addr).get("waiting_workers") != "0":
        check(time.monotonic() < deadline, "a waiter that disconnected is still counted: %s"
              % stats(addr))
        time.sleep(0.05)
    check(c.ask("RELEASE") == "RELEASED", "c's RELEASE")
    log("a holder's disconnect frees its lock; a waiter's disconnect leaves no waiter")

    # 4. 40 clients, 4 workers
    lock = threading.Lock()
    state = {"held": 0, "max": 0, "got": 0, "errors": []}

    def worker(i):
        try:
            w = Client(addr)
            r = w.ask("ACQ4ME many 4 100 20")
            if r != "LOCKED":
                raise TestFailure("worker %d: %r" % (i, r))
            with lock:
                state["held"] += 1
                state["got"] += 1
                state["max"] = max(state["max"], state["held"])
            time.sleep(0.03)
            with lock:
                state["held"] -= 1
            if w.ask("RELEASE") != "RELEASED":
                raise TestFailure("worker %d: RELEASE" % i)
            w.close()
        except Exception as ex:  # noqa: BLE001 - reported below
            with lock:
                state["errors"].append(str(ex))

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    took = time.monotonic() - t0
    check(not state["errors"], "workers failed: %s" % state["errors"][:5])
    check(state["got"] == 40, "%d of 40 workers got the lock" % state["got"])
    check(state["max"] <= 4, "%d workers held the lock at once, workers=4" % state["max"])
    log("40 clients on one key, workers=4: all served once, at most %d at once, %.2f s"
        % (state["max"], took))

    # 5. protocol errors and counters
    check(a.ask("RELEASE") == "NOT_LOCKED", "RELEASE without a lock")
    check(a.ask("FROBNICATE x") == "ERROR BAD_COMMAND", "bad command")
    st = stats(addr)
    log("STATS FULL: %s" % ", ".join("%s=%s" % kv for kv in sorted(st.items())
                                     if kv[0].startswith(("total", "processing", "waiting_w",
                                                          "full", "hash"))))
    # a, b (handed over), c and the 40; all released but b's, which disconnected
    check(st.get("total_acquired") == "43" and st.get("total_releases") == "42",
          "total_acquired %s, want 43; total_releases %s, want 42"
          % (st.get("total_acquired"), st.get("total_releases")))
    check(st.get("full_queues") == "1", "full_queues %s, want 1" % st.get("full_queues"))
    check(st.get("processing_workers") == "0" and st.get("waiting_workers") == "0",
          "workers left: %s" % st)
    check(re.match(r"\d+ days, \d+h \d+m \d+s$", st.get("uptime", "")), "uptime: %s" % st)
    a.close()
    c.close()

    # 6. SIGTERM
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        raise TestFailure("poolcounterd did not exit within 10 s of SIGTERM")
    check(rc == 0, "poolcounterd exit status %d after SIGTERM" % rc)
    e.record("poolcounter on %s: 1 s timeout answered after %.3f s; 40 clients x 30 ms on 4 "
             "workers %.2f s" % (e.side, waited, took))


if __name__ == "__main__":
    main_wrapper(body)
