#!/usr/bin/env python3
"""trickled 1.07 (Debian's bandwidth-shaping daemon of trickle) as an end-to-end client of the
library.

trickled uses only the pre-2.0 API: event_init, event_set (a one-shot read event on its Unix
socket that it re-adds after each accept, one-shot read events per client re-added after each
message, SIGTERM and SIGINT as EV_SIGNAL|EV_PERSIST events, a 5 s "force" timer and the -N
notify timer, both re-added from their callbacks), event_add/event_del, event_initialized,
event_dispatch. Programs started by `trickle -n <socket>` (LD_PRELOAD trickle-overload.so,
not run standalone) register with it over the socket and ask it, before each socket read,
how long to wait so that all of them together stay under its rates. The test runs trickled
on the side under test; the shaped programs (Python, on nothing of ours) download from a
TCP server in the test:
  1. trickled -d/-u 512 KB/s (-t 1 s smoothing, -N 1 notify): two 1 MiB downloads at once
     under `trickle -n`, whose own limits are far higher (so only the daemon shapes): both
     arrive intact, and together take >= 2 s (4 s at the limit; trickle lets a first burst
     through unshaped); trickled logs both clients with their exact pids in and out; its
     notify timer keeps firing; `tricklectl getrates` (a spectator on the same socket) gets
     an answer while the downloads run;
  2. a second trickled with -d/-u 100000 serves the same download intact and logs its
     client in and out (its duration is recorded, not asserted: see part 2 below);
  3. SIGTERM to the first, SIGINT to the second: each logs "Received SIG...; quitting",
     exits 0 and removes its socket.
The shaped client reads with readv(2) into a 64 KiB buffer: trickled's answer to "may I read
n bytes" can grant more than n (trickle's smoothing: lim x smoothing time), and
trickle-overload then passes the larger length to read()/recv() -- with curl's 100 KiB
buffer that overflows the heap now and then on either library; its readv() keeps the
caller's iovec. Its socket is made with socket(AF_INET, SOCK_STREAM, 0) through ctypes:
trickle 1.07 shapes only sockets created with exactly that type (Python adds SOCK_CLOEXEC).
"""

import hashlib
import os
import pwd
import random
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (Env, check, log, main_wrapper, parse_args, skip_unless_importable,  # noqa
                       verify_ldd, verify_mapped, show_on_failure, serve, TestFailure,
                       skip_unless_installed)

TRICKLED = "/usr/bin/trickled"
TRICKLE = "/usr/bin/trickle"
TRICKLECTL = "/usr/bin/tricklectl"
SIZE = 1 << 20
LIMIT = 512  # KB/s, trickled's rates in part 1

# The shaped program: downloads `size` bytes from 127.0.0.1:port, prints "<bytes> <sha256>".
CLIENT = r"""
import ctypes, hashlib, os, socket, sys
port, size = int(sys.argv[1]), int(sys.argv[2])
fd = ctypes.CDLL(None, use_errno=True).socket(socket.AF_INET, socket.SOCK_STREAM, 0)
if fd < 0:
    sys.exit("socket: %s" % os.strerror(ctypes.get_errno()))
s = socket.socket(fileno=fd)
s.connect(("127.0.0.1", port))
os.writev(fd, [b"%d\n" % size])
h, total, buf = hashlib.sha256(), 0, bytearray(65536)
while True:
    n = os.readv(fd, [buf])
    if not n:
        break
    h.update(memoryview(buf)[:n])
    total += n
print(total, h.hexdigest())
"""


def blob_server(blob):
    """TCP server: reads "<n>\n", sends the first n bytes of blob, closes."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)

    def handle(c):
        with c:
            try:
                n = int(c.makefile("rb").readline())
                c.sendall(blob[:n])
            except (OSError, ValueError):
                pass

    serve(lsock, handle)
    return lsock.getsockname()[1]


def body():
    args = parse_args()
    e = Env(args, "trickled")
    verify_ldd(e, TRICKLED)
    skip_unless_importable(e, TRICKLED)
    skip_unless_installed((TRICKLE, "trickle"), (TRICKLECTL, "trickle"))

    blob = random.Random(7).randbytes(SIZE)
    want = "%d %s" % (SIZE, hashlib.sha256(blob).hexdigest())
    port = blob_server(blob)
    client = os.path.join(e.tmp, "client.py")
    with open(client, "w") as f:
        f.write(CLIENT)
    python = os.path.realpath(sys.executable)
    conf = os.path.join(e.tmp, "trickled.conf")
    open(conf, "w").close()
    user = pwd.getpwuid(os.geteuid()).pw_name

    def start_trickled(name, rate):
        sock = os.path.join(e.tmp, name + ".sock")
        logpath = show_on_failure(os.path.join(e.tmp, name + ".log"))
        p = e.spawn([TRICKLED, "-f", "-v", "-N", "1", "-t", "1", "-c", conf, "-n", sock,
                     "-d", str(rate), "-u", str(rate)],
                    stdout=open(logpath, "w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while not os.path.exists(sock):
            check(p.poll() is None, "trickled %s exited %s at start: %s"
                  % (name, p.returncode, open(logpath).read()))
            check(time.monotonic() < deadline, "trickled %s: no socket %s within 10 s"
                  % (name, sock))
            time.sleep(0.05)
        verify_mapped(e, p.pid, "trickled " + name)
        check("trickled: Using socket name: %s" % sock in open(logpath).read(),
              "trickled %s did not log its socket name: %s" % (name, open(logpath).read()))
        return p, sock, logpath

    def download(sock):
        # The shaped program runs on nothing of ours (Python does not use libevent).
        return e.spawn([TRICKLE, "-n", sock, "-d", "100000", "-u", "100000", python, client,
                        str(port), str(SIZE)], on_reevent=False, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)

    def finish(p, what, timeout=60):
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure("%s still running after %d s" % (what, timeout))
        check(p.returncode == 0, "%s exited %d: %s" % (what, p.returncode, err[-1000:]))
        check(out.strip() == want, "%s received %r, want %r" % (what, out.strip(), want))

    def wait_log(logpath, pattern, what, timeout=10):
        deadline = time.monotonic() + timeout
        while not re.search(pattern, open(logpath).read(), re.M):
            check(time.monotonic() < deadline, "trickled did not log %s within %d s: %s"
                  % (what, timeout, open(logpath).read()[-1500:]))
            time.sleep(0.05)

    def stop(p, sock, logpath, sig, name):
        p.send_signal(sig)
        try:
            rc = p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            raise TestFailure("trickled %s did not exit within 10 s of %s" % (name, sig.name))
        text = open(logpath).read()
        check(rc == 0, "trickled %s exited %d after %s: %s" % (name, rc, sig.name, text[-800:]))
        check("trickled: Received %s; quitting" % sig.name in text,
              "trickled %s did not log quitting on %s: %s" % (name, sig.name, text[-800:]))
        check(not os.path.exists(sock), "trickled %s left its socket %s" % (name, sock))

    # 1. two shaped downloads at once
    ta, sock_a, log_a = start_trickled("a", LIMIT)
    t0 = time.monotonic()
    downs = [download(sock_a) for _ in range(2)]
    time.sleep(1.0)
    r = e.run([TRICKLECTL, "-s", sock_a, "getrates"], timeout=10, on_reevent=False,
              check_rc=False)
    rates = r.stderr.strip().splitlines()
    check(r.returncode == 0 and len(rates) == 2
          and re.match(r"tricklectl: DOWNLOAD: \d+\.\d+ KB/s \(utilization: [\d.]+%\)$", rates[0])
          and re.match(r"tricklectl: UPLOAD: \d+\.\d+ KB/s \(utilization: [\d.]+%\)$", rates[1]),
          "tricklectl getrates exited %d: %s%s" % (r.returncode, r.stdout, r.stderr))
    for i, p in enumerate(downs):
        finish(p, "shaped download %d" % i)
    shaped = time.monotonic() - t0
    floor = 2.0
    check(shaped >= floor, "2 x 1 MiB at %d KB/s took %.2f s, under %.1f s: trickled did not "
          "shape them" % (LIMIT, shaped, floor))
    log("2 x 1 MiB at once through trickled -d %d: both exact, %.2f s (%.0f KB/s in all); "
        "tricklectl getrates while they ran: %s" % (LIMIT, shaped, 2 * SIZE / 1024 / shaped,
                                                     " / ".join(rates)))
    for p in downs:
        for what in ("New", "Removed"):
            wait_log(log_a, r"^trickled: %s client: %d \(%s/%s\)$"
                     % (what, p.pid, re.escape(python), re.escape(user)),
                     "%s client %d" % (what.lower(), p.pid))
    wait_log(log_a, r"^trickled: Removed spectator$", "the removal of the tricklectl spectator")
    notes = re.findall(r"^trickled: DOWNLOAD total:\n\tavg: (\d+)\.\d+ KB/s",
                       open(log_a).read(), re.M)
    check(len(notes) >= max(2, int(shaped) - 2),
          "the -N 1 notify timer fired %d times in %.1f s" % (len(notes), shaped))
    check(any(int(n) > 0 for n in notes), "notify lines never showed download traffic")
    log("trickled logged both clients (exact pids) in and out, the spectator, and %d notify "
        "lines" % len(notes))

    # 2. the same download under a daemon with a far higher rate
    tb, sock_b, log_b = start_trickled("b", 100000)
    t1 = time.monotonic()
    fast = download(sock_b)
    finish(fast, "download under the fast trickled")
    t_fast = time.monotonic() - t1
    wait_log(log_b, r"^trickled: Removed client: %d \(" % fast.pid, "the fast client")
    # Recorded, not compared with part 1: trickle's smoothing delays an unshaped download by
    # seconds now and then on either library (0.1-5 s seen), and under a sanitizer build.
    log("1 MiB under trickled -d 100000: %.2f s (part 1: %.2f s)" % (t_fast, shaped))

    # 3. signals
    stop(ta, sock_a, log_a, signal.SIGTERM, "a")
    stop(tb, sock_b, log_b, signal.SIGINT, "b")
    check(not e.tagged_pids(), "processes left: %s" % e.tagged_pids())
    log("SIGTERM and SIGINT: both trickled logged quitting, exited 0, removed their sockets")
    e.record("trickled on %s: 2 x 1 MiB at a %d KB/s limit %.2f s; 1 MiB at 100000 KB/s "
             "%.2f s" % (e.side, LIMIT, shaped, t_fast))


if __name__ == "__main__":
    main_wrapper(body)
