#!/usr/bin/env python3
"""apt-cacher-ng 3.7 (Debian's caching proxy for package downloads) as an end-to-end client.

apt-cacher-ng's core lives in libsupacng.so, which NEEDs libevent-2.1.so.7 and
libevent_pthreads: it turns on pthread locking, runs one event_base_loop in its main thread
and hands work to it from download and connection threads with event_base_once, walks its
events with event_base_foreach_event/event_get_assignment at shutdown and calls
libevent_global_shutdown. Everything stays on 127.0.0.1: the "mirror" is a small HTTP server
inside this test (no request ever leaves the machine; the config has no Debian remaps). The
test:
  1. the report page (acng-report.html);
  2. proxy downloads: a miss is fetched from the origin once and served byte-exact, repeats
     are served from the cache without touching the origin; an origin 404 is passed on;
  3. 24 concurrent downloads of 24 new files (all started together): every byte checked,
     one origin request each; then 48 concurrent downloads served from the cache;
  4. SIGTERM: exit 0, no process left.
apt-cacher-ng keeps ports in a signed 16-bit number, so both ports are taken below 32768.
"""

import http.client
import http.server
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (Env, check, log, main_wrapper, parse_args, skip_unless_importable,  # noqa
                       verify_ldd, verify_mapped, show_on_failure, stacks, TestFailure)

ACNG = "/usr/sbin/apt-cacher-ng"


def low_port():
    """A free 127.0.0.1 TCP port below 32768 (apt-cacher-ng cannot take higher ones)."""
    for _ in range(200):
        port = random.randint(20000, 32000)
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise TestFailure("no free port below 32768")


class Origin:
    """The package mirror: serves files from memory and counts the requests per path."""

    def __init__(self, port):
        self.files, self.hits, self.lock = {}, {}, threading.Lock()
        self.busy, self.last = 0, time.monotonic()
        origin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                with origin.lock:
                    origin.hits[self.path] = origin.hits.get(self.path, 0) + 1
                    origin.busy += 1
                try:
                    self.serve()
                finally:
                    with origin.lock:
                        origin.busy -= 1
                        origin.last = time.monotonic()

            def serve(self):
                data = origin.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.debian.binary-package")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT")
                self.end_headers()
                # Slowly enough that concurrent clients overlap with the download.
                # apt-cacher-ng may drop a download it no longer needs.
                try:
                    for off in range(0, len(data), 65536):
                        self.wfile.write(data[off:off + 65536])
                        time.sleep(0.005)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_idle(self, quiet=0.5, timeout=15):
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if self.busy == 0 and time.monotonic() - self.last >= quiet:
                    return
            check(time.monotonic() < deadline, "origin still busy after %d s" % timeout)
            time.sleep(0.05)

    def count(self, path):
        with self.lock:
            return self.hits.get(path, 0)


def proxy_get(port, url, timeout=30):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", url)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def body():
    args = parse_args()
    e = Env(args, "apt-cacher-ng")
    verify_ldd(e, ACNG)
    skip_unless_importable(e, ACNG)
    lib = "/usr/lib/x86_64-linux-gnu/libsupacng.so"
    if os.path.exists(lib):
        skip_unless_importable(e, lib)
    oport, aport = low_port(), low_port()
    origin = Origin(oport)
    base = "http://127.0.0.1:%d" % oport
    conf = os.path.join(e.tmp, "conf")
    for d in ("conf", "cache", "log"):
        os.mkdir(os.path.join(e.tmp, d))
    sock = os.path.join(e.tmp, "acng.socket")
    with open(os.path.join(conf, "acng.conf"), "w") as f:
        f.write("""CacheDir: %(d)s/cache
LogDir: %(d)s/log
SupportDir: /usr/lib/apt-cacher-ng
Port: %(p)d
BindAddress: 127.0.0.1
SocketPath: %(s)s
PidFile: %(d)s/acng.pid
ReportPage: acng-report.html
ForeGround: 1
VerboseLog: 1
AllowUserPorts: 80 %(o)d
""" % {"d": e.tmp, "p": aport, "s": sock, "o": oport})
    for f in ("apt-cacher.log", "apt-cacher.err"):
        show_on_failure(os.path.join(e.tmp, "log", f))
    p = e.spawn([ACNG, "-c", conf],
                stdout=open(show_on_failure(os.path.join(e.tmp, "acng.stderr")), "w"),
                stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while True:
        check(p.poll() is None, "apt-cacher-ng exited at start with %s" % p.returncode)
        try:
            socket.create_connection(("127.0.0.1", aport), timeout=1).close()
            break
        except OSError:
            check(time.monotonic() < deadline, "apt-cacher-ng did not listen within 15 s")
            time.sleep(0.05)
    verify_mapped(e, p.pid, "apt-cacher-ng")

    # 1. report page (AllowUserPorts must not list apt-cacher-ng's own port: a request
    # naming it would be taken for a proxy loop and refused)
    c = http.client.HTTPConnection("127.0.0.1", aport, timeout=10)
    c.request("GET", "/acng-report.html")
    r = c.getresponse()
    page = r.read().decode(errors="replace")
    c.close()
    check(r.status == 200 and "<title>Apt-Cacher NG" in page and "Transfer statistics" in page,
          "report page: HTTP %d %r" % (r.status, page[:300]))
    log("report page served")

    # 2. miss then hits
    rnd = random.Random(1)
    sizes = {"/debian/pool/main/a/alpha/alpha_1.0_all.deb": 1,
             "/debian/pool/main/b/beta/beta_2.3_amd64.deb": 70000,
             "/debian/pool/main/g/gamma/gamma_0.9_all.deb": 900000}
    for path, n in sizes.items():
        origin.files[path] = rnd.randbytes(n)
    for path in sizes:
        for i in range(3):
            st, data = proxy_get(aport, base + path)
            check(st == 200 and data == origin.files[path], "%s (fetch %d): HTTP %d, %d bytes "
                  "(want %d)" % (path, i + 1, st, len(data), len(origin.files[path])))
            check(origin.count(path) == 1, "%s fetched from the origin %d times after %d "
                  "downloads" % (path, origin.count(path), i + 1))
    missing = "/debian/pool/main/m/missing/missing_1_all.deb"
    st, _ = proxy_get(aport, base + missing)
    check(st == 404, "origin 404 came back as HTTP %d" % st)
    log("3 files (1 B, 70 kB, 900 kB): one origin fetch each, then cache hits, byte-exact; "
        "origin 404 passed on")

    # 3. concurrency: 24 misses at once (distinct files, so each must reach the origin
    # exactly once), then 48 hits at once
    new = ["/debian/pool/main/c/c%d/c%d_1.%d_all.deb" % (i, i, i) for i in range(24)]
    for i, path in enumerate(new):
        origin.files[path] = rnd.randbytes(100000 + 30000 * i)
    start = threading.Barrier(24)

    def fetch(k, barrier=None):
        path = new[k % 24]
        if barrier:
            barrier.wait(timeout=20)
        st, data = proxy_get(aport, base + path, timeout=60)
        check(st == 200 and data == origin.files[path], "concurrent client %d, %s: HTTP %d, "
              "%d bytes (want %d)" % (k, path, st, len(data), len(origin.files[path])))
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=24) as ex:
        list(ex.map(lambda k: fetch(k, start), range(24)))
    elapsed = time.monotonic() - t0
    counts = [origin.count(path) for path in new]
    check(counts == [1] * 24, "origin requests per file after 24 concurrent misses: %s" % counts)
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=48) as ex:
        list(ex.map(fetch, range(48)))
    counts = [origin.count(path) for path in new]
    check(counts == [1] * 24, "cached files were fetched from the origin again: %s" % counts)
    log("24 concurrent misses (100-790 kB) byte-exact in %.2f s, one origin request each; "
        "48 concurrent hits in %.2f s" % (elapsed, time.monotonic() - t0))

    # 4. SIGTERM. apt-cacher-ng (on libevent too) can hang forever in its shutdown when
    # several clients missed the same file at once (its extra download jobs then wait for a
    # connection the stopped event thread never makes), which is why the misses above are
    # of distinct files; the origin must also have been idle for a moment.
    origin.wait_idle()
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        raise TestFailure("apt-cacher-ng did not exit within 15 s of SIGTERM:\n%s"
                          % stacks(p.pid))
    check(rc == 0, "apt-cacher-ng exited %d after SIGTERM" % rc)
    origin.server.shutdown()
    deadline = time.monotonic() + 10
    while e.tagged_pids() and time.monotonic() < deadline:
        time.sleep(0.05)
    check(not e.tagged_pids(), "processes left: %s" % e.tagged_pids())
    log("SIGTERM: apt-cacher-ng exited 0")


if __name__ == "__main__":
    main_wrapper(body)
