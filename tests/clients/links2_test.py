#!/usr/bin/env python3
"""links2 2.28 (Debian's text/graphics web browser) as an end-to-end client of the library.

links2 runs its whole select loop on libevent when it is there (`libevent-2.1.so.7`, 14
imports): `event_base_new_with_config` (an `event_config` with a flag), the pre-2.0
`event_set` + `event_base_set` on its own `struct event`s (sized with
`event_get_struct_event_size`), `event_add`/`event_del` for every socket and every timer
(connection and receive timeouts, its keep-alive expiry), `event_base_loop` with
`EVLOOP_ONCE`, and `event_reinit` in the child it forks to resolve names. Each step is one
`links2 -dump` or `links2 -source` (it exits when the page is done) against the test's own
HTTP/1.1 server on 127.0.0.1, which records every connection and request:
  1. a 302 -> 301 -> 200 redirect chain: the page at the end is rendered, every hop was
     requested in order over ONE kept-alive connection;
  2. a 256 KiB body sent in 1 KiB pieces with pauses (`-source`): byte-exact;
  3. a chunked reply (`Transfer-Encoding: chunked`, 40 chunks over 0.4 s): rendered whole;
  4. a server that closes the kept-alive connection after each reply: links2 reconnects;
  5. a server that accepts and never answers, with `-receive-timeout 1 -retries 1`:
     links2 gives up on its own timer (~1-2 s), with an error and a non-zero exit;
  6. 4 links2 at once, each following the redirect chain: all right.
"""

import hashlib
import os
import random
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (Env, check, log, main_wrapper, parse_args, skip_unless_importable,  # noqa
                       verify_ldd, verify_mapped, serve, wait_for, TestFailure)

LINKS = "/usr/bin/links2"
BIG = random.Random(7).randbytes(256 * 1024)
PAGE = ("<html><head><title>reevent</title></head><body><h1>Arrived</h1>"
        + "".join("<p>line %d of the final page</p>" % i for i in range(200))
        + "</body></html>").encode()


class Server:
    """A tiny HTTP/1.1 server: keep-alive unless `close_after_reply`; logs (conn id, path)."""

    def __init__(self):
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(64)
        self.port = self.lsock.getsockname()[1]
        self.lock = threading.Lock()
        self.conns = 0
        self.requests = []          # (connection number, method, path)
        self.close_after_reply = False
        serve(self.lsock, self.handle)

    def handle(self, c):
        with self.lock:
            self.conns += 1
            cid = self.conns
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                head, buf = buf.split(b"\r\n\r\n", 1)
                method, path = head.split(b"\r\n")[0].decode().split()[:2]
                with self.lock:
                    self.requests.append((cid, method, path))
                if not self.reply(c, path):
                    return
                if self.close_after_reply:
                    return
        except OSError:
            pass
        finally:
            c.close()

    def send(self, c, status, body, ctype="text/html", extra=""):
        conn = "close" if self.close_after_reply else "keep-alive"
        c.sendall(("HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: %s\r\n"
                   "%s\r\n" % (status, ctype, len(body), conn, extra)).encode() + body)

    def reply(self, c, path):
        base = "http://127.0.0.1:%d" % self.port
        if path.startswith("/start"):
            self.send(c, "302 Found", b"moved", extra="Location: %s/hop%s\r\n" % (base, path[6:]))
        elif path.startswith("/hop"):
            self.send(c, "301 Moved Permanently", b"moved",
                      extra="Location: /final%s\r\n" % path[4:])
        elif path.startswith("/final"):
            self.send(c, "200 OK", PAGE.replace(b"Arrived", b"Arrived" + path[6:].encode()))
        elif path == "/big":
            conn = "close" if self.close_after_reply else "keep-alive"
            c.sendall(("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                       "Content-Length: %d\r\nConnection: %s\r\n\r\n" % (len(BIG), conn)).encode())
            for i in range(0, len(BIG), 1024):
                c.sendall(BIG[i:i + 1024])
                if i % (64 * 1024) == 0:
                    time.sleep(0.05)
        elif path == "/chunked":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n")
            for i in range(40):
                part = ("<p>chunk %02d here</p>\n" % i).encode()
                c.sendall(b"%x\r\n%s\r\n" % (len(part), part))
                time.sleep(0.01)
            c.sendall(b"0\r\n\r\n")
        elif path == "/silent":
            time.sleep(8)       # accepts, reads the request, never answers in time
            return False
        else:
            self.send(c, "404 Not Found", b"no")
        return True

    def close(self):
        self.lsock.close()


def links(e, args, timeout=20, check_rc=True):
    return e.run([LINKS, "-width", "100"] + args, timeout=timeout, check_rc=check_rc,
                 cwd=e.tmp)


def body():
    args = parse_args()
    e = Env(args, "links2")
    verify_ldd(e, LINKS)
    skip_unless_importable(e, LINKS)
    os.environ["HOME"] = e.tmp          # links2 keeps its ~/.links2 there, not in ours
    srv = Server()
    base = "http://127.0.0.1:%d" % srv.port

    # The running process maps our libraries (links2 -dump ends too fast for /proc; a
    # silent server keeps it waiting).
    p = e.spawn([LINKS, "-dump", base + "/silent"], stdout=open(os.devnull, "w"),
                stderr=open(os.devnull, "w"), cwd=e.tmp)
    wait_for(lambda: any(r[2] == "/silent" for r in srv.requests), 10, "links2's request")
    verify_mapped(e, p.pid, "links2")
    p.kill()
    p.wait()
    srv.requests.clear()

    # 1. redirect chain over one kept-alive connection
    c0 = srv.conns
    r = links(e, ["-dump", base + "/start-1"])
    check("Arrived-1" in r.stdout and "line 199 of the final page" in r.stdout,
          "redirect chain: final page not rendered: %r" % r.stdout[-500:])
    got = [(m, pth) for _, m, pth in srv.requests]
    check(got == [("GET", "/start-1"), ("GET", "/hop-1"), ("GET", "/final-1")],
          "redirect chain requests: %s" % got)
    conns = {cid for cid, _, _ in srv.requests}
    check(srv.conns - c0 == 1 and len(conns) == 1,
          "the 3 requests used %d connections (keep-alive expected): %s" % (srv.conns - c0,
                                                                             srv.requests))
    log("302 -> 301 -> 200: final page rendered, 3 requests on one kept-alive connection")

    # 2. big body, byte-exact
    srv.requests.clear()
    t0 = time.monotonic()
    rb = subprocess.run([LINKS, "-source", base + "/big"], env=e.env(), capture_output=True,
                        timeout=20, cwd=e.tmp)
    check(rb.returncode == 0, "links2 -source /big exited %d: %s" % (rb.returncode, rb.stderr))
    check(hashlib.sha256(rb.stdout).digest() == hashlib.sha256(BIG).digest(),
          "256 KiB body: got %d bytes, not the body sent" % len(rb.stdout))
    log("-source of a 256 KiB body sent in 1 KiB pieces: byte-exact (%.2f s)"
        % (time.monotonic() - t0))

    # 3. chunked
    r = links(e, ["-dump", base + "/chunked"])
    got = [l.strip() for l in r.stdout.splitlines() if "chunk" in l]
    check(got == ["chunk %02d here" % i for i in range(40)],
          "chunked reply rendered as %r" % r.stdout[-800:])
    log("chunked reply of 40 chunks: rendered whole, in order")

    # 4. the server closes after every reply: links2 reconnects for each hop
    srv.close_after_reply = True
    srv.requests.clear()
    c0 = srv.conns
    r = links(e, ["-dump", base + "/start-2"])
    check("Arrived-2" in r.stdout, "redirects over closing connections: %r" % r.stdout[-500:])
    check(srv.conns - c0 == 3, "3 hops with Connection: close used %d connections"
          % (srv.conns - c0))
    srv.close_after_reply = False
    log("Connection: close after every reply: 3 connections, final page rendered")

    # 5. receive timeout
    t0 = time.monotonic()
    r = links(e, ["-receive-timeout", "1", "-retries", "1", "-dump", base + "/silent"],
              check_rc=False)
    dt = time.monotonic() - t0
    check(r.returncode != 0, "links2 on a silent server exited 0: %r" % r.stdout[-300:])
    check(0.8 <= dt < 6, "receive timeout of 1 s took %.2f s" % dt)
    log("silent server, -receive-timeout 1: links2 gave up after %.2f s, exit %d (%s)"
        % (dt, r.returncode, (r.stderr or r.stdout).strip()[:80]))

    # 6. four at once
    srv.requests.clear()
    procs = [e.spawn([LINKS, "-dump", base + "/start-p%d" % i], stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, cwd=e.tmp) for i in range(4)]
    for i, p in enumerate(procs):
        try:
            out, err = p.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            raise TestFailure("parallel links2 #%d hung" % i)
        check(p.returncode == 0 and b"Arrived-p%d" % i in out,
              "parallel links2 #%d: exit %d %r" % (i, p.returncode, out[-300:] + err[-300:]))
    check(len(srv.requests) == 12, "4 parallel chains made %d requests" % len(srv.requests))
    log("4 links2 at once: each followed its redirect chain to its own page")
    srv.close()


if __name__ == "__main__":
    main_wrapper(body)
