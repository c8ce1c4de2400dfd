#!/usr/bin/env python3
"""µStreamer 4.9 (Debian's ustreamer: an MJPEG-over-HTTP streamer) as an end-to-end client.

ustreamer serves its HTTP API with evhttp on its own event base (`evthread_use_pthreads`: a
capture thread and JPEG workers hand frames over; a 16 ms persistent timer exposes them) and
takes over the connection of every `/stream` request: it sets its own callbacks on the
connection's bufferevent, writes the multipart reply itself (`bufferevent_write_buffer`, one
part per write callback) and frees the connection from its event callback when the client
goes away. No camera is needed: with a V4L2 device that does not exist and `--persistent`, it
keeps serving its blank "NO SIGNAL" JPEG (or the one given with `--blank`), repeated about
once a second. Two instances on 127.0.0.1, private ports:
  A: the internal blank, `--allow-origin`, `--server-timeout 2`;
  B: a 1.5 MiB blank (A's JPEG padded with COM segments), `--user`/`--passwd` basic auth.
Checks:
  1. one keep-alive connection: `/` (HTML index), `/state` (JSON), `/snapshot` (JPEG: SOI,
     SOF 640x480, EOI; CORS, no-cache and X-UStreamer-* headers), `/?action=snapshot`,
     HEAD (200, no body), `/state` again on the same socket, then 404 (and close);
  2. a malformed request line -> 400 and close; POST (not allowed) -> 501;
  3. an idle keep-alive connection is closed by the server after --server-timeout (2 s);
  4. `/stream`: 4 concurrent clients read parts for 3 s (at least 4 each) over one connection
     (longer than the server timeout), every part the snapshot's JPEG; `/state` counts them
     and their keys; `extra_headers=1`, `zero_data=1` and the `/?action=stream` alias; one
     client closes mid-part and one resets right after its request: the server drops exactly
     those and the others carry on; a half-close ends a stream; 60 streams at once;
  5. B (`--tcp-nodelay`: `bufferevent_getfd`): 401 + WWW-Authenticate without or with wrong
     credentials, 200 with them, all on one connection; a slow reader (small receive buffer,
     reads nothing for 2.5 s; MiBs queued in the server's socket) beside a fast one: both get
     byte-exact 1.5 MiB parts, the fast one at its usual pace; a third stalled reader resets
     with the server's output backed up: dropped, the others carry on;
  6. SIGTERM (A) and SIGINT (B): exit status 0 within 5 s; no process left.
"""

import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (Env, check, log, main_wrapper, parse_args, skip_unless_importable,  # noqa
                       verify_ldd, verify_mapped, show_on_failure, wait_for, read_text,
                       ShortRead, TestFailure)

USTREAMER = "/usr/bin/ustreamer"
BOUNDARY = b"--boundarydonotcross\r\n"
AUTH_OK = "Basic cmVldmVudDpzM2NyZXQ="          # reevent:s3cret
AUTH_BAD = "Basic cmVldmVudDp3cm9uZw=="         # reevent:wrong


class Conn:
    """A raw HTTP/1.1 client connection with its own buffer (no silent reconnects)."""

    def __init__(self, port, timeout=10, rcvbuf=None):
        self.s = socket.socket()
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.settimeout(timeout)
        self.s.connect(("127.0.0.1", port))
        self.buf = b""

    def fill(self):
        d = self.s.recv(1 << 20)
        if not d:
            raise ShortRead("EOF with %d bytes buffered: %r" % (len(self.buf), self.buf[:200]))
        self.buf += d

    def until(self, delim):
        while delim not in self.buf:
            self.fill()
        head, self.buf = self.buf.split(delim, 1)
        return head

    def exact(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def head(self):
        lines = self.until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        version, status, reason = (lines[0].split(" ", 2) + [""])[:3]
        hdrs = {}
        for l in lines[1:]:
            k, v = l.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
        return version, int(status), reason, hdrs

    def request(self, method, path, headers=None):
        req = "%s %s HTTP/1.1\r\nHost: reevent.test\r\n" % (method, path)
        for k, v in (headers or {}).items():
            req += "%s: %s\r\n" % (k, v)
        self.s.sendall((req + "\r\n").encode())
        version, status, reason, hdrs = self.head()
        if method == "HEAD":
            body = b""
        elif "content-length" in hdrs:
            body = self.exact(int(hdrs["content-length"]))
        else:
            body = self.buf + self.rest()
            self.buf = b""
        return status, hdrs, body

    def rest(self):
        out = b""
        while True:
            d = self.s.recv(65536)
            if not d:
                return out
            out += d

    def eof_within(self, timeout):
        """True if the server closes the connection within `timeout` seconds."""
        self.s.settimeout(timeout)
        try:
            return self.s.recv(1) == b""
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True

    def close(self, reset=False):
        if reset:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.s.close()


def jpeg_geometry(data, what):
    """(width, height) of a baseline/progressive JPEG; checks SOI, the segment chain up to
    the frame header, and EOI."""
    check(data[:2] == b"\xff\xd8", "%s: no SOI marker: %r" % (what, data[:4]))
    check(data[-2:] == b"\xff\xd9", "%s: no EOI marker at the end: %r" % (what, data[-4:]))
    i = 2
    while i + 4 <= len(data):
        check(data[i] == 0xFF, "%s: no marker at offset %d" % (what, i))
        m = data[i + 1]
        seglen = struct.unpack(">H", data[i + 2:i + 4])[0]
        if m in (0xC0, 0xC1, 0xC2, 0xC3):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        check(m != 0xDA, "%s: scan before the frame header" % what)
        i += 2 + seglen
    raise TestFailure("%s: no frame header" % what)


def open_stream(port, query="", headers=None, rcvbuf=None, timeout=10, path="/stream"):
    c = Conn(port, timeout=timeout, rcvbuf=rcvbuf)
    req = "GET %s%s HTTP/1.1\r\nHost: reevent.test\r\n" % (path, query)
    for k, v in (headers or {}).items():
        req += "%s: %s\r\n" % (k, v)
    c.s.sendall((req + "\r\n").encode())
    return c


def stream_head(c):
    version, status, _, hdrs = c.head()
    check(version == "HTTP/1.0" and status == 200, "stream: status line %s %d" % (version, status))
    check(hdrs.get("content-type") == "multipart/x-mixed-replace;boundary=boundarydonotcross",
          "stream: content-type %r" % hdrs.get("content-type"))
    first = c.exact(len(BOUNDARY))
    check(first == BOUNDARY, "stream: first boundary %r" % first)
    return hdrs


def stream_part(c):
    lines = c.until(b"\r\n\r\n").decode("latin-1").split("\r\n")
    hdrs = {}
    for l in lines:
        k, v = l.split(":", 1)
        hdrs[k.strip().lower()] = v.strip()
    check(hdrs.get("content-type") == "image/jpeg", "part: content-type %r" % hdrs)
    data = c.exact(int(hdrs["content-length"]))
    tail = c.exact(2 + len(BOUNDARY))
    check(tail == b"\r\n" + BOUNDARY, "part not followed by the boundary: %r" % tail)
    return hdrs, data


def wait_listening(p, port, what):
    deadline = time.monotonic() + 10
    while True:
        check(p.poll() is None, "%s exited at start with %s" % (what, p.returncode))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            check(time.monotonic() < deadline, "%s did not listen within 10 s" % what)
            time.sleep(0.05)


def state(port, headers=None):
    c = Conn(port)
    status, hdrs, body = c.request("GET", "/state", headers)
    c.close()
    check(status == 200 and hdrs.get("content-type") == "application/json",
          "/state: %d %r" % (status, hdrs))
    return json.loads(body)["result"]


def send_queue(server_port, client_port):
    """Bytes the kernel holds unsent/unacknowledged on the server's side of a connection."""
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fl = line.split()
            if (int(fl[1].split(":")[1], 16) == server_port
                    and int(fl[2].split(":")[1], 16) == client_port):
                return int(fl[4].split(":")[0], 16)
    raise TestFailure("no server socket for client port %d in /proc/net/tcp" % client_port)


def stop(p, sig, what):
    t0 = time.monotonic()
    p.send_signal(sig)
    try:
        rc = p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        raise TestFailure("%s did not exit within 5 s of signal %d" % (what, sig))
    check(rc == 0, "%s exited %d after signal %d" % (what, rc, sig))
    return time.monotonic() - t0


def body():
    args = parse_args()
    e = Env(args, "ustreamer")
    verify_ldd(e, USTREAMER)
    skip_unless_importable(e, USTREAMER)
    t_start = time.monotonic()
    nodev = os.path.join(e.tmp, "no-such-video")
    common = ["-d", nodev, "--persistent", "--device-timeout", "1", "--device-error-delay", "1",
              "-s", "127.0.0.1", "--no-log-colors"]
    pa = e.free_port()
    loga = show_on_failure(os.path.join(e.tmp, "a.log"))
    a = e.spawn([USTREAMER] + common + ["-p", str(pa), "--server-timeout", "2",
                                        "--allow-origin", "http://reevent.test"],
                stdout=open(loga, "w"), stderr=subprocess.STDOUT)
    wait_listening(a, pa, "ustreamer A")
    verify_mapped(e, a.pid, "ustreamer A")

    # 1. one keep-alive connection through the API
    c = Conn(pa)
    status, hdrs, page = c.request("GET", "/")
    check(status == 200 and hdrs.get("content-type") == "text/html"
          and b"&micro;Streamer v4.9" in page and b'href="stream"' in page,
          "/: %d %r %r" % (status, hdrs, page[:200]))
    status, hdrs, raw = c.request("GET", "/state")
    st = json.loads(raw)
    check(status == 200 and st["ok"] is True, "/state: %d %r" % (status, raw))
    res = st["result"]
    check(res["source"]["online"] is False and res["source"]["resolution"] ==
          {"width": 640, "height": 480} and res["stream"]["clients"] == 0,
          "/state before any stream: %r" % res)
    status, hdrs, snap = c.request("GET", "/snapshot")
    check(status == 200 and hdrs.get("content-type") == "image/jpeg", "/snapshot: %d %r"
          % (status, hdrs))
    check(int(hdrs["content-length"]) == len(snap) > 1000, "/snapshot: %d bytes" % len(snap))
    check(jpeg_geometry(snap, "/snapshot") == (640, 480), "/snapshot is not 640x480")
    want = {"access-control-allow-origin": "http://reevent.test", "pragma": "no-cache",
            "x-ustreamer-online": "false", "x-ustreamer-width": "640",
            "x-ustreamer-height": "480"}
    for k, v in want.items():
        check(hdrs.get(k) == v, "/snapshot header %s: %r, want %r" % (k, hdrs.get(k), v))
    check("no-store" in hdrs.get("cache-control", ""), "/snapshot: cache-control %r" % hdrs)
    status, hdrs, alias = c.request("GET", "/?action=snapshot")
    check(status == 200 and alias == snap, "/?action=snapshot: %d, %d bytes" % (status, len(alias)))
    status, hdrs, _ = c.request("HEAD", "/snapshot")
    check(status == 200 and "image/jpeg" not in hdrs.get("content-type", ""),
          "HEAD /snapshot: %d %r" % (status, hdrs))
    status, hdrs, raw = c.request("GET", "/state")
    check(status == 200 and json.loads(raw)["ok"], "/state after HEAD: %d" % status)
    # evhttp_send_error answers "Connection: close" and closes.
    status, hdrs, nf = c.request("GET", "/no/such/page")
    check(status == 404 and b"Not Found" in nf and hdrs.get("connection") == "close",
          "404: %d %r %r" % (status, hdrs, nf[:200]))
    check(c.eof_within(3), "404: connection not closed")
    c.close()
    log("one keep-alive connection: / (HTML), /state (JSON), /snapshot (%d-byte 640x480 JPEG, "
        "CORS + X-UStreamer-* headers), /?action=snapshot, HEAD, /state again, 404 and close"
        % len(snap))

    # 2. malformed request, method not allowed
    c = Conn(pa)
    c.s.sendall(b"THIS IS NOT HTTP\r\n\r\n")
    version, status, _, _ = c.head()
    check(status == 400, "malformed request line: %d" % status)
    check(c.eof_within(3), "malformed request: connection not closed")
    c.close()
    c = Conn(pa)
    status, _, _ = c.request("POST", "/state", {"Content-Length": "0"})
    check(status == 501, "POST /state: %d, want 501 (GET|HEAD allowed)" % status)
    c.close()
    log("malformed request line: 400 and close; POST: 501")

    # 3 (started now, checked later). An idle keep-alive connection times out (2 s).
    idle = Conn(pa)
    status, _, _ = idle.request("GET", "/state")
    check(status == 200, "idle connection's request: %d" % status)
    idle_t0 = time.monotonic()
    idle_res = {}

    def watch_idle():
        idle_res["eof"] = idle.eof_within(6)
        idle_res["t"] = time.monotonic() - idle_t0
    idle_thr = threading.Thread(target=watch_idle, daemon=True)
    idle_thr.start()

    # 4. streams
    results, errors = {}, []

    def reader(k, query, secs):
        try:
            if query.startswith("?action=stream&"):     # the mjpg-streamer alias: root handler
                s = open_stream(pa, query, path="/")
            else:
                s = open_stream(pa, query)
            hdrs = stream_head(s)
            check(hdrs.get("access-control-allow-origin") == "http://reevent.test",
                  "stream %d: CORS header %r" % (k, hdrs))
            parts = []
            t0 = time.monotonic()
            while time.monotonic() - t0 < secs or len(parts) < 4:
                parts.append(stream_part(s))
            results[k] = (hdrs, parts, time.monotonic() - t0)
            s.close()
        except (OSError, TestFailure) as ex:
            errors.append("stream %d: %s" % (k, ex))
    queries = ["?key=alpha", "?key=beta", "?key=gamma&extra_headers=1",
               "?action=stream&key=delta&zero_data=1"]
    threads = [threading.Thread(target=reader, args=(k, q, 3), daemon=True)
               for k, q in enumerate(queries)]
    for t in threads:
        t.start()
    # Two that leave: one mid-part, one right after its request (a reset).
    quitter = open_stream(pa, "?key=quitter")
    stream_head(quitter)
    quitter.until(b"\r\n\r\n")
    quitter.exact(100)
    early = open_stream(pa, "?key=early")
    wait_for(lambda: state(pa)["stream"]["clients"] == 6, 5, "6 stream clients in /state")
    st = state(pa)["stream"]
    check(len(st["clients_stat"]) == 6, "clients_stat: %r" % st)
    quitter.close()
    early.close(reset=True)
    wait_for(lambda: state(pa)["stream"]["clients"] == 4, 5,
             "/state to count 4 stream clients after two left")
    for t in threads:
        t.join(15)
    check(not errors, "; ".join(errors))
    check(len(results) == 4, "stream readers finished: %r" % sorted(results))
    for k, (hdrs, parts, secs) in results.items():
        key = re.search(r"key=(\w+)", queries[k]).group(1)
        check(re.match(r"stream_client=%s/[0-9a-f]+;" % key,
                       hdrs.get("set-cookie", "")), "stream %d: cookie %r" % (k, hdrs))
        for ph, data in parts:
            if "zero_data" in queries[k]:
                check(data == b"" and ph["content-length"] == "0", "zero_data part: %r" % ph)
            else:
                check(data == snap, "stream %d: a part differs from the snapshot (%d bytes)"
                      % (k, len(data)))
            check(("x-ustreamer-online" in ph) == ("extra_headers" in queries[k]),
                  "stream %d: part headers %r" % (k, ph))
    fewest = min(len(r[1]) for r in results.values())
    shortest = min(r[2] for r in results.values())
    wait_for(lambda: state(pa)["stream"]["clients"] == 0, 5, "/state to count 0 clients")
    check("Disconnected client" in read_text(loga), "ustreamer logged no disconnect")
    log("/stream: 4 concurrent clients, >= %d parts over one connection each (%.1f s, longer "
        "than the 2 s server timeout), parts = the snapshot, cookies, extra_headers, "
        "zero_data, the /?action=stream alias; /state counted 6, then 4 after a mid-part "
        "close and a reset, then 0"
        % (fewest, shortest))

    # A half-close (EOF from the client) ends the stream: the server drops and closes it.
    half = open_stream(pa, "?key=half")
    stream_head(half)
    stream_part(half)
    half.s.shutdown(socket.SHUT_WR)
    try:
        while True:
            stream_part(half)
    except ShortRead:
        pass
    half.close()
    # 60 at once, each gets its first part; all dropped when they go.
    many = [open_stream(pa, "?key=m%d" % i) for i in range(60)]
    for m in many:
        stream_head(m)
        _, data = stream_part(m)
        check(data == snap, "one of 60 streams: a part differs")
    check(state(pa)["stream"]["clients"] == 60, "/state with 60 streams: %r" % state(pa))
    for m in many:
        m.close()
    wait_for(lambda: state(pa)["stream"]["clients"] == 0, 5, "/state to count 0 of 60")
    log("a half-closed stream is closed by the server; 60 streams at once, then none")

    idle_thr.join(8)
    check(idle_res.get("eof") and 1.5 <= idle_res["t"] <= 5,
          "idle keep-alive connection: %r (want closed after ~2 s)" % idle_res)
    idle.close()
    log("idle keep-alive connection closed by the server after %.2f s (--server-timeout 2)"
        % idle_res["t"])

    # 5. B: basic auth; a big blank, slow and fast readers
    big = snap[:2] + (b"\xff\xfe\xff\xff" + bytes(range(256)) * 255 + b"\x00" * 253) * 24 \
        + snap[2:]
    check(jpeg_geometry(big, "padded blank") == (640, 480), "padded blank")
    blank = os.path.join(e.tmp, "blank.jpg")
    with open(blank, "wb") as f:
        f.write(big)
    pb = e.free_port()
    logb = show_on_failure(os.path.join(e.tmp, "b.log"))
    b = e.spawn([USTREAMER] + common + ["-p", str(pb), "--blank", blank, "--user", "reevent",
                                        "--passwd", "s3cret", "--tcp-nodelay"],
                stdout=open(logb, "w"), stderr=subprocess.STDOUT)
    wait_listening(b, pb, "ustreamer B")
    check("Using external blank placeholder" in read_text(logb), "B did not take the blank")
    c = Conn(pb)
    for auth in (None, AUTH_BAD):
        status, hdrs, _ = c.request("GET", "/state", {"Authorization": auth} if auth else None)
        check(status == 401 and hdrs.get("www-authenticate") == 'Basic realm="Restricted area"',
              "auth %r: %d %r" % (auth, status, hdrs))
    status, hdrs, raw = c.request("GET", "/snapshot", {"Authorization": AUTH_OK})
    check(status == 200 and raw == big, "authorized /snapshot: %d, %d bytes" % (status, len(raw)))
    status, _, _ = c.request("GET", "/stream")
    check(status == 401, "unauthorized /stream: %d" % status)
    c.close()
    log("basic auth: 401 + WWW-Authenticate without and with wrong credentials (also "
        "/stream), the 1.5 MiB blank with them, one connection")

    auth = {"Authorization": AUTH_OK}
    slow = open_stream(pb, "?key=slow", auth, rcvbuf=4096, timeout=20)
    stuck = open_stream(pb, "?key=stuck", auth, rcvbuf=4096)
    fast = open_stream(pb, "?key=fast", auth)
    stream_head(fast)
    t0 = time.monotonic()
    fast_parts = 0
    while time.monotonic() - t0 < 2.5:
        _, data = stream_part(fast)
        check(data == big, "fast reader: a part differs (%d bytes)" % len(data))
        fast_parts += 1
    check(fast_parts >= 2, "fast reader got %d parts in 2.5 s beside a stalled one" % fast_parts)
    queued = send_queue(pb, slow.s.getsockname()[1])
    check(queued > 256 * 1024, "the stalled reader's connection has only %d bytes queued in "
          "the server's socket: it is not stalled" % queued)
    stuck_queued = send_queue(pb, stuck.s.getsockname()[1])
    stuck.close(reset=True)      # goes away with the server's output backed up
    wait_for(lambda: state(pb, auth)["stream"]["clients"] == 2, 5,
             "B's /state to count 2 clients after the stalled third reset")
    stream_head(slow)
    for i in range(3):
        _, data = stream_part(slow)
        check(data == big, "slow reader: part %d differs (%d bytes)" % (i, len(data)))
    check(state(pb, auth)["stream"]["clients"] == 2, "B: /state clients")
    slow.close()
    fast.close()
    log("slow reader (4 KiB receive buffer, stalled 2.5 s, %d KiB queued in the server's "
        "socket) beside a fast one: fast got %d parts meanwhile, then the slow one 3; all "
        "byte-exact 1.5 MiB; a third stalled one (%d KiB queued) reset: dropped"
        % (queued // 1024, fast_parts, stuck_queued // 1024))

    # 6. signals
    ta = stop(a, signal.SIGTERM, "ustreamer A")
    tb = stop(b, signal.SIGINT, "ustreamer B")
    check("Bye-bye" in read_text(loga) and "Bye-bye" in read_text(logb), "no clean shutdown")
    check("TCP_NODELAY" not in read_text(logb), "B could not set TCP_NODELAY on a stream's "
          "socket (bufferevent_getfd)")
    for f in (loga, logb):      # UBSan reports and goes on: its report must fail the test
        check(not re.search(r"runtime error:|Sanitizer", read_text(f)),
              "sanitizer report in %s" % os.path.basename(f))
    wait_for(lambda: not e.tagged_pids(), 5, "no process left")
    log("SIGTERM: exit 0 in %.2f s; SIGINT: exit 0 in %.2f s" % (ta, tb))
    e.record("clients.%s.ustreamer: %.1f s" % (e.side, time.monotonic() - t_start))


if __name__ == "__main__":
    main_wrapper(body)
