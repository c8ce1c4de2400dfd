#!/usr/bin/env python3
"""libevhtp 1.2.18 (Debian's libevhtp.so, unmodified; no Debian program uses it) under a
small server of our own (evhtp_server.c, built by this test against the system headers),
driven with curl.

libevhtp runs on libevent: its own listening socket under evconnlistener_new, one
bufferevent_socket_new per connection (read/write callbacks, timeouts, enable/disable,
bufferevent_write_buffer, bufferevent_flush), evbuffers (add, add_buffer, add_iovec,
add_reference, prepend, pullup, drain), event_new/event_active, and with threads its evthr
pool (a base per worker thread, commands over an evutil_socketpair). The server adds
timers (evtimer_new for chunked replies), an EV_SIGNAL event for SIGTERM,
evbuffer_add_reference and evthread_use_pthreads.

libevhtp.so NEEDs libevent_openssl-2.1.so.7 (and imports bufferevent_openssl_socket_new,
called only for HTTPS): on the reevent side that is reevent's libevent_openssl, so the
server maps no libevent library but ours.

Each run of the server (main base only, then 2 worker threads):
  1. one curl, one connection (num_connects 1 then 0): GET /hello, POST /echo (64 KiB),
     GET /big and /bigref (1 MiB each), GET /stream (5 chunks from 20 ms timers), a 404;
  2. POST /echo with a 3 MiB body, with and without "Expect: 100-continue";
  3. 8 curls at once, each /hello, /big, /stream and a 256 KiB /echo on one connection;
  4. a raw socket sends a request in 5 pieces 50 ms apart (the parser resumes), then a
     second request once the first is answered (keep-alive), then sees EOF
     (Connection: close). (Pipelined requests in one write are not tested: libevhtp
     1.2.18 answers only the first, on Debian's libevent too.)
  5. SIGTERM: the loop ends, everything freed, exit 0.
Every body is compared byte for byte.
"""

import os
import random
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (Env, check, log, main_wrapper, missing_imports,  # noqa
                       parse_args, show_on_failure, skip_unless_installed, verify_ldd,
                       verify_mapped, TestFailure, SKIP)

HERE = os.path.dirname(os.path.abspath(__file__))
LIBEVHTP = "/usr/lib/x86_64-linux-gnu/libevhtp.so.0"
CURL = "/usr/bin/curl"
ALNUM = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
HELLO = b"hello from evhtp\n"
STREAM = b"".join(b"chunk %d\n" % i for i in range(5))


def big_bytes():
    out = []
    for i in range(16384):
        out.append(b"%07u:" % i + bytes(ALNUM[(i + j) % 62] for j in range(55)) + b"\n")
    return b"".join(out)


def build_server(e):
    exe = os.path.join(e.tmp, "evhtp_server")
    cflags = subprocess.run(["pkg-config", "--cflags", "evhtp"], capture_output=True,
                            text=True).stdout.split()
    argv = [os.environ.get("CC", "cc"), "-Wall", "-Wextra", "-O1", "-o", exe,
            os.path.join(HERE, "evhtp_server.c")] + cflags + ["-levhtp", "-levent",
                                                              "-levent_pthreads"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, "building evhtp_server failed: %s" % r.stderr[-3000:])
    return exe


def curl(e, segments, timeout=40):
    """One curl process; segments: [(path, extra args, output file)] joined with --next,
    so all transfers share one connection. Returns [(num_connects, http_code, size)]."""
    argv = [CURL, "-sS", "--http1.1"]
    for i, (url, extra, out) in enumerate(segments):
        if i:
            argv.append("--next")
        argv += extra + ["-o", out, "-w", "%{num_connects} %{http_code} %{size_download}\\n",
                         url]
    # curl does not link libevent: it runs without our environment (under the sanitizer
    # preload of an ASan build curl hangs, on Debian's libevent server too).
    r = e.run(argv, timeout=timeout, on_reevent=False)
    rows = [tuple(int(x) for x in l.split()) for l in r.stdout.splitlines()]
    check(len(rows) == len(segments), "curl printed %r" % r.stdout)
    return rows


def read_response(s):
    """(header bytes, body) of one Content-Length response on socket s."""
    data = b""
    while b"\r\n\r\n" not in data:
        c = s.recv(65536)
        check(c, "EOF inside a response header: %r" % data)
        data += c
    hdr, rest = data.split(b"\r\n\r\n", 1)
    n = [int(l.split(b":")[1]) for l in hdr.split(b"\r\n") if l.lower().startswith(
        b"content-length:")]
    check(n, "no Content-Length: %r" % hdr)
    while len(rest) < n[0]:
        c = s.recv(65536)
        check(c, "EOF inside a response body")
        rest += c
    check(len(rest) == n[0], "more bytes than Content-Length: %r" % rest)
    return hdr, rest


def content(path):
    with open(path, "rb") as f:
        return f.read()


def one_run(e, exe, nthreads, big, stub_dirs):
    port = e.free_port()
    url = "http://127.0.0.1:%d" % port
    out = show_on_failure(os.path.join(e.tmp, "server-%d.out" % nthreads))
    p = e.spawn([exe, str(port), str(nthreads)], stdout=open(out, "w"),
                stderr=subprocess.STDOUT)
    end = time.monotonic() + 10
    while "listening" not in open(out).read():
        check(p.poll() is None, "evhtp_server exited %s at start" % p.returncode)
        check(time.monotonic() < end, "evhtp_server did not start listening in 10 s")
        time.sleep(0.05)
    verify_mapped(e, p.pid, "evhtp_server (%d threads)" % nthreads, allow=stub_dirs)
    d = os.path.join(e.tmp, "t%d" % nthreads)
    os.mkdir(d)
    rnd = random.Random(nthreads)
    t0 = time.monotonic()

    # 1. keep-alive
    body64 = bytes(rnd.getrandbits(8) for _ in range(65536))
    with open(os.path.join(d, "b64"), "wb") as f:
        f.write(body64)
    f = lambda n: os.path.join(d, n)  # noqa: E731
    rows = curl(e, [(url + "/hello", [], f("1")),
                    (url + "/echo", ["--data-binary", "@" + f("b64"), "-H", "Expect:"], f("2")),
                    (url + "/big", [], f("3")),
                    (url + "/bigref", [], f("4")),
                    (url + "/stream", [], f("5")),
                    (url + "/nowhere", [], f("6")),
                    (url + "/hello", [], f("7"))])
    check([r[0] for r in rows] == [1, 0, 0, 0, 0, 0, 0],
          "not one connection for all requests: num_connects %s" % [r[0] for r in rows])
    check([r[1] for r in rows] == [200, 200, 200, 200, 200, 404, 200], "codes %s" % rows)
    check(content(f("1")) == HELLO and content(f("7")) == HELLO, "GET /hello body")
    check(content(f("2")) == body64, "POST /echo 64 KiB: body differs")
    check(content(f("3")) == big, "GET /big: %d bytes, differs" % len(content(f("3"))))
    check(content(f("4")) == big, "GET /bigref: %d bytes, differs" % len(content(f("4"))))
    check(content(f("5")) == STREAM, "GET /stream: %r" % content(f("5")))
    log("[%d threads] one connection: /hello, /echo 64 KiB, /big, /bigref (1 MiB), /stream "
        "(5 chunks), 404, /hello: byte-exact" % nthreads)

    # 2. a 3 MiB body, with and without Expect: 100-continue
    body3 = rnd.randbytes(3 << 20)
    with open(f("b3"), "wb") as fh:
        fh.write(body3)
    for i, extra in enumerate(([], ["-H", "Expect:"])):
        rows = curl(e, [(url + "/echo", ["--data-binary", "@" + f("b3")] + extra, f("e%d" % i))])
        check(rows[0][1] == 200 and content(f("e%d" % i)) == body3,
              "POST /echo 3 MiB %s: %s, body %s" % (extra or "with Expect", rows,
                                                   "differs" if rows[0][1] == 200 else "-"))
    log("[%d threads] POST /echo 3 MiB with and without Expect: 100-continue: byte-exact"
        % nthreads)

    # 3. 8 concurrent clients
    body256 = rnd.randbytes(256 << 10)
    with open(f("b256"), "wb") as fh:
        fh.write(body256)
    procs = []
    for k in range(8):
        argv = [CURL, "-sS", "--http1.1"]
        for i, (path, extra) in enumerate([("/hello", []), ("/big", []), ("/stream", []),
                                           ("/echo", ["--data-binary", "@" + f("b256"),
                                                      "-H", "Expect:"])]):
            if i:
                argv.append("--next")
            argv += extra + ["-o", f("c%d-%d" % (k, i)), "-w", "%{num_connects} %{http_code}\\n",
                             url + path]
        procs.append(e.spawn(argv, on_reevent=False, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE))
    for k, cp in enumerate(procs):
        try:
            so, se = cp.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            raise TestFailure("concurrent curl %d did not finish in 30 s" % k)
        check(cp.returncode == 0, "concurrent curl %d exited %d: %s" % (k, cp.returncode, se))
        check(so.decode().split() == ["1", "200", "0", "200", "0", "200", "0", "200"],
              "concurrent curl %d: %r" % (k, so))
        for i, want in enumerate([HELLO, big, STREAM, body256]):
            check(content(f("c%d-%d" % (k, i))) == want, "concurrent curl %d request %d: body "
                  "differs" % (k, i))
    log("[%d threads] 8 concurrent clients x (/hello, /big, /stream, /echo 256 KiB) on one "
        "connection each: byte-exact" % nthreads)

    # 4. a request in pieces (split in the headers and in the body, 50 ms apart), then a
    # second one on the same connection once the first is answered, then EOF
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    req = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789"
    # (Not inside the path: libevhtp 1.2.18 answers "POST /ech" + "o ..." with 404, on
    # Debian's libevent too.)
    for piece in (req[:5], req[5:20], req[20:40], req[40:-4], req[-4:]):
        s.sendall(piece)
        time.sleep(0.05)
    hdr, b1 = read_response(s)
    check(hdr.startswith(b"HTTP/1.1 200") and b1 == b"0123456789",
          "request in pieces: %r %r" % (hdr, b1))
    s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    hdr, b2 = read_response(s)
    check(hdr.startswith(b"HTTP/1.1 200") and b2 == HELLO, "second request: %r %r" % (hdr, b2))
    s.settimeout(5)
    check(s.recv(100) == b"", "no EOF after Connection: close")
    s.close()
    log("[%d threads] a request in 5 pieces 50 ms apart, a second one on the same "
        "connection, then EOF: all right" % nthreads)
    dt = time.monotonic() - t0

    # 5. SIGTERM
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        raise TestFailure("evhtp_server (%d threads) did not exit within 10 s of SIGTERM"
                          % nthreads)
    text = open(out).read()
    check(rc == 0 and "exiting" in text, "evhtp_server (%d threads) exited %d after SIGTERM: "
          "%s" % (nthreads, rc, text[-1000:]))
    log("[%d threads] SIGTERM: exit 0 (%s)" % (nthreads, text.splitlines()[0]))
    return dt


def body():
    args = parse_args()
    e = Env(args, "evhtp")
    skip_unless_installed((LIBEVHTP, "libevhtp-dev"), (CURL, "curl"),
                          ("/usr/include/evhtp.h", "libevhtp-dev"),
                          ("/usr/include/event2/event.h", "libevent-dev"))
    exe = build_server(e)
    stub_dirs = []
    if e.side == "reevent":
        miss = sorted(set(missing_imports(e, LIBEVHTP)[0]) | set(missing_imports(e, exe)[0]))
        if miss:
            print("SKIP: libevhtp/evhtp_server import what reevent does not export: %s"
                  % " ".join(miss), flush=True)
            sys.exit(SKIP)
    verify_ldd(e, exe, allow=stub_dirs)
    big = big_bytes()
    times = []
    for nthreads in (0, 2):
        times.append(one_run(e, exe, nthreads, big, stub_dirs))
    left = e.tagged_pids()
    check(not left, "processes left behind: %s" % left)
    e.record("evhtp on %s: requests took %.2f s (main base) and %.2f s (2 threads)"
             % (e.side, times[0], times[1]))


if __name__ == "__main__":
    main_wrapper(body)
