#!/usr/bin/env python3
"""gearmand 1.1.20 (Debian's gearman-job-server) as an end-to-end client of the library.

gearmand NEEDs libevent-2.1.so.7 *and* libevent_pthreads-2.1.so.7 (which NEEDs
libevent_core): with Debian's libraries that loads two copies of the core, with ours the shim
and pthreads resolve to one libevent_core. It calls evthread_use_pthreads, runs one
event_base per I/O thread (-t 4) plus the main one, embeds struct event (event_set +
event_base_set, event_initialized) and wakes threads through pipes. The job server runs on the
side under test; workers and clients are gearman-tools' programs (they do not use libevent):
  1. ldd and /proc/PID/maps: only our libraries (one libevent_core) on reevent;
  2. three `rev` workers register (gearadmin --status shows them);
  3. 40 foreground jobs from 8 concurrent clients, every reversed payload checked;
  4. SIGTERM: exit 0 and "Shutdown complete" in its log; no process left.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (Env, check, log, main_wrapper, parse_args, skip_unless_importable,  # noqa
                       verify_ldd, verify_mapped, stacks, show_on_failure, TestFailure)

GEARMAND = "/usr/sbin/gearmand"
GEARMAN = "/usr/bin/gearman"
GEARADMIN = "/usr/bin/gearadmin"


def body():
    args = parse_args()
    e = Env(args, "gearmand")
    verify_ldd(e, GEARMAND)
    skip_unless_importable(e, GEARMAND)
    port = e.free_port()
    logf = show_on_failure(os.path.join(e.tmp, "gearmand.log"))
    p = e.spawn([GEARMAND, "-L", "127.0.0.1", "-p", str(port), "-t", "4", "-l", logf,
                 "--verbose", "INFO"],
                stdout=open(show_on_failure(os.path.join(e.tmp, "gearmand.stderr")), "w"),
                stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while True:
        check(p.poll() is None, "gearmand exited at start with %s" % p.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            check(time.monotonic() < deadline, "gearmand did not listen within 10 s")
            time.sleep(0.05)
    verify_mapped(e, p.pid, "gearmand")
    with open("/proc/%d/maps" % p.pid) as f:
        cores = {l.split()[-1] for l in f if "libevent_core" in l}
    if e.side == "reevent":
        check(len(cores) == 1, "gearmand maps %d copies of libevent_core: %s" % (len(cores), cores))
        log("one libevent_core mapped although gearmand NEEDs libevent and libevent_pthreads")

    hp = ["-h", "127.0.0.1", "-p", str(port)]
    for _ in range(3):
        e.spawn([GEARMAN] + hp + ["-w", "-f", "rev", "--", "rev"], on_reevent=False,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def workers():
        r = e.run([GEARADMIN] + hp + ["--status"], on_reevent=False, check_rc=False)
        for line in r.stdout.splitlines():
            f = line.split()
            if f and f[0] == "rev":
                return int(f[3])
        return 0
    deadline = time.monotonic() + 10
    while workers() < 3:
        check(time.monotonic() < deadline, "3 rev workers did not register within 10 s")
        time.sleep(0.05)
    log("3 workers registered for 'rev' (gearadmin --status)")

    def job(i):
        payload = "job-%03d-%s" % (i, "abcdefghij"[: i % 10 + 1])
        r = e.run([GEARMAN] + hp + ["-f", "rev"], on_reevent=False, input=payload + "\n",
                  timeout=20)
        return payload, r.stdout
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as ex:
        results = list(ex.map(job, range(40)))
    dt = time.monotonic() - t0
    for payload, out in results:
        check(out.strip() == payload[::-1], "job %r came back as %r" % (payload, out))
    log("40 jobs from 8 concurrent clients, every result checked, in %.2f s" % dt)

    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with open(logf) as f:
            tail = f.read()[-1500:]
        raise TestFailure("gearmand did not exit within 15 s of SIGTERM; log:\n%s\nstacks:\n%s"
                          % (tail, stacks(p.pid)))
    check(rc == 0, "gearmand exited %d after SIGTERM" % rc)
    with open(logf) as f:
        text = f.read()
    check("Shutdown complete" in text, "no 'Shutdown complete' in the log: %s" % text[-800:])
    log("SIGTERM: gearmand exited 0, shutdown complete")


if __name__ == "__main__":
    main_wrapper(body)
