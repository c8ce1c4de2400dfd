#!/usr/bin/env python3
"""redsocks 0.5 (Debian's transparent TCP-to-proxy redirector) as an end-to-end client of the
library.

redsocks (libevent_core) accepts connections that iptables REDIRECTs to it, reads their
original destination (getsockopt SO_ORIGINAL_DST), connects to a SOCKS5 or HTTP-CONNECT proxy
and, after the handshake (bufferevents, evbuffer_readln/pullup/drain/add_printf), relays the
two sockets: either with bufferevents whose read side it disables while the other side's
output is above its 4 KiB high watermark ("splice = false"), or with plain events around
splice(2) that it adds and deletes for backpressure ("splice = true", the default on Linux).
Signals (SIGTERM, SIGINT, SIGUSR1) are EV_SIGNAL events.

The whole test runs in a private network namespace (the test process unshares its own, so
it disappears with the last process in it): lo up, the destinations 10.1.2.1-4/32 on lo, an
echo server on port 7000 (it echoes until the client half-closes, then appends
"EOF after N bytes\\n" and closes), a SOCKS5 proxy and an HTTP-CONNECT proxy written here (they
record each requested destination and connect to it with SO_MARK 1, which the NAT rules skip),
and one `iptables -t nat -A OUTPUT -d 10.1.2.X -p tcp -m mark ! --mark 1 -j REDIRECT` rule per
redsocks instance:
  10.1.2.1 -> socks5, splice = false (bufferevent pump)
  10.1.2.2 -> socks5, splice = true (event + splice pump)
  10.1.2.3 -> http-connect, splice = false
  10.1.2.4 -> socks5 whose proxy port has no listener
Checks:
  1. 50 concurrent connections through each of the first three instances, each sending its
     own random bytes and half-closing once they are echoed: every echo is exact (payload +
     the trailer the server sends after the half-close), every connection then sees EOF,
     redsocks logged each one closed in order (none dropped), and the proxies were asked
     for exactly the original destinations (10.1.2.X:7000 once per connection);
  2. 4 MiB both ways on one connection per instance while the client does not read for the
     first 0.6 s (TCP buffers in the namespace are at most 64 KiB, so the kernel cannot absorb
     it): the echo is exact and redsocks logged its backpressure (bufferevent read side
     disabled and enabled again; for splice, the read event deleted and added again);
  3. the proxy refuses (SOCKS5 reply 5 / HTTP 502 for a destination port with no server):
     redsocks closes the client without sending it anything; the same when the proxy itself
     is down;
  4. SIGUSR1 with a connection open: redsocks logs it; SIGTERM with the connection open:
     redsocks logs that it disconnects the client, the client sees the connection closed,
     redsocks exits 0;
  5. a second redsocks on the poll backend (EVENT_NOEPOLL=1): 20 concurrent connections and
     2 MiB with backpressure, exact; it exits 0 on SIGINT. No error lines in either log.
Needs root, network namespaces and iptables NAT (REDIRECT); without them it exits 77.
"""

import ctypes
import hashlib
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
from clientlib import (recv_exact, Env, check, log, main_wrapper, parse_args, skip_unless_importable,  # noqa
                       verify_ldd, verify_mapped, show_on_failure, serve, TestFailure, SKIP)

REDSOCKS = "/usr/sbin/redsocks"
IPTABLES = "/usr/sbin/iptables"
CLONE_NEWNET = 0x40000000
SO_MARK = 36
DPORT = 7000          # the echo server's port on every destination address
REFUSED_PORT = 7001   # nothing listens there: the proxies refuse
SOCKS_PORT, HTTP_PORT, DEAD_PROXY_PORT = 1080, 3128, 1081
INSTANCES = [  # (destination, redsocks port, type, splice, proxy port)
    ("10.1.2.1", 12341, "socks5", False, SOCKS_PORT),
    ("10.1.2.2", 12342, "socks5", True, SOCKS_PORT),
    ("10.1.2.3", 12343, "http-connect", False, HTTP_PORT),
    ("10.1.2.4", 12344, "socks5", False, DEAD_PROXY_PORT),
]
TIMEOUT = 20  # per socket operation


def skip(msg):
    print("SKIP: %s" % msg, flush=True)
    sys.exit(SKIP)


def pump(src, dst):
    """Copy src to dst until EOF, then half-close dst."""
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            dst.sendall(b)
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def listener(addr, port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(256)
    return s


def echo_handler(c):
    n = 0
    with c:
        try:
            c.settimeout(60)
            while True:
                b = c.recv(65536)
                if not b:
                    break
                n += len(b)
                c.sendall(b)
            c.sendall(b"EOF after %d bytes\n" % n)
        except OSError:
            pass


class Proxy:
    """SOCKS5 (no authentication, CONNECT to IPv4) or HTTP CONNECT proxy that records what it
    was asked for and connects with SO_MARK 1 (the NAT rules skip marked packets)."""

    def __init__(self, kind, port):
        self.kind = kind
        self.lock = threading.Lock()
        self.requests = []   # (ip, port) asked for
        self.refused = []    # (ip, port) it could not connect to
        self.headers = []    # HTTP request heads
        self.sock = listener("127.0.0.1", port)
        serve(self.sock, self.handle)

    def upstream(self, ip, port):
        u = socket.socket()
        u.setsockopt(socket.SOL_SOCKET, SO_MARK, 1)
        u.settimeout(10)
        try:
            u.connect((ip, port))
        except OSError:
            u.close()
            with self.lock:
                self.refused.append((ip, port))
            return None
        u.settimeout(None)
        return u

    def handle(self, c):
        c.settimeout(30)
        try:
            u = self.socks5(c) if self.kind == "socks5" else self.http(c)
        except OSError:
            u = None
        if u is None:
            c.close()
            return
        c.settimeout(None)
        t = threading.Thread(target=pump, args=(u, c), daemon=True)
        t.start()
        pump(c, u)
        t.join()
        c.close()
        u.close()

    def socks5(self, c):
        ver, nmeth = recv_exact(c, 2)
        methods = recv_exact(c, nmeth)
        if ver != 5 or 0 not in methods:
            c.sendall(b"\x05\xff")
            return None
        c.sendall(b"\x05\x00")
        ver, cmd, _, atyp = recv_exact(c, 4)
        if ver != 5 or cmd != 1 or atyp != 1:
            c.sendall(b"\x05\x07\x00\x01" + bytes(6))
            return None
        ip = socket.inet_ntoa(recv_exact(c, 4))
        port = int.from_bytes(recv_exact(c, 2), "big")
        with self.lock:
            self.requests.append((ip, port))
        u = self.upstream(ip, port)
        if u is None:
            c.sendall(b"\x05\x05\x00\x01" + bytes(6))  # connection refused
            return None
        bound = u.getsockname()
        c.sendall(b"\x05\x00\x00\x01" + socket.inet_aton(bound[0]) + bound[1].to_bytes(2, "big"))
        return u

    def http(self, c):
        head = b""
        while b"\r\n\r\n" not in head:
            b = c.recv(1)  # byte by byte: nothing after the head may be consumed
            if not b:
                return None
            head += b
        with self.lock:
            self.headers.append(head)
        m = re.match(rb"CONNECT (\d+\.\d+\.\d+\.\d+):(\d+) HTTP/1\.[01]\r\n", head)
        if not m:
            c.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")
            return None
        ip, port = m.group(1).decode(), int(m.group(2))
        with self.lock:
            self.requests.append((ip, port))
        u = self.upstream(ip, port)
        if u is None:
            c.sendall(b"HTTP/1.0 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return None
        c.sendall(b"HTTP/1.0 200 Connection established\r\n\r\n")
        return u


def exchange(ip, payload, read_delay=0.0, port_out=None):
    """Connect to ip:DPORT (redirected to redsocks), send payload while reading the echo; once
    all of it came back, half-close and read on until EOF. Returns the bytes received.
    (Half-closing right after sending is not done: redsocks's http-connect relay can then
    lose the client's bytes when the EOF arrives before the proxy's answer -- the echo server
    got EOF and 0 bytes, on the system libevent too.)"""
    s = socket.create_connection((ip, DPORT), timeout=TIMEOUT)
    if port_out is not None:
        port_out.append(s.getsockname()[1])
    err = []

    def send():
        try:
            s.sendall(payload)
        except OSError as ex:
            err.append(ex)
    t = threading.Thread(target=send, daemon=True)
    t.start()
    if read_delay:
        time.sleep(read_delay)
    chunks, n, closed = [], 0, False
    try:
        while True:
            if not closed and n >= len(payload):
                t.join(TIMEOUT)
                s.shutdown(socket.SHUT_WR)
                closed = True
            b = s.recv(262144)
            if not b:
                break
            chunks.append(b)
            n += len(b)
    finally:
        t.join(TIMEOUT)
        s.close()
    if err:
        raise err[0]
    return b"".join(chunks)


def expected(payload):
    return payload + b"EOF after %d bytes\n" % len(payload)


def enter_namespace():
    if os.geteuid() != 0:
        skip("redsocks needs root for its network namespace and iptables NAT")
    if not os.path.exists(IPTABLES):
        skip("%s is not installed (package iptables, see tests/ci-packages.txt)" % IPTABLES)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        skip("no network namespaces here: unshare(CLONE_NEWNET): %s"
             % os.strerror(ctypes.get_errno()))
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    # Small socket buffers (per namespace): the kernel cannot soak up a 4 MiB echo whose
    # reader pauses, so redsocks's own backpressure must act (part 2).
    for name in ("tcp_rmem", "tcp_wmem"):
        with open("/proc/sys/net/ipv4/" + name, "w") as f:
            f.write("4096 16384 65536")
    for ip, rport, _, _, _ in INSTANCES:
        subprocess.run(["ip", "addr", "add", ip + "/32", "dev", "lo"], check=True)
        r = subprocess.run([IPTABLES, "-t", "nat", "-A", "OUTPUT", "-d", ip, "-p", "tcp",
                            "-m", "mark", "!", "--mark", "1", "-j", "REDIRECT", "--to-ports",
                            str(rport)], capture_output=True, text=True)
        if r.returncode != 0:
            skip("iptables NAT REDIRECT is not available in a network namespace here: %s"
                 % (r.stderr.strip() or r.stdout.strip()))


def write_config(path, instances, debug=True):
    with open(path, "w") as f:
        f.write("base {\n log_debug = %s;\n log_info = on;\n log = stderr;\n daemon = off;\n"
                " redirector = iptables;\n}\n" % ("on" if debug else "off"))
        for _, rport, typ, splice, pport in instances:
            f.write("redsocks {\n local_ip = 127.0.0.1;\n local_port = %d;\n ip = 127.0.0.1;\n"
                    " port = %d;\n type = %s;\n splice = %s;\n}\n"
                    % (rport, pport, typ, "true" if splice else "false"))


def listening_ports():
    """TCP ports listening in this network namespace (/proc/net/tcp; no connection made:
    a probe connection to redsocks would be relayed to the proxy)."""
    ports = set()
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":
                ports.add(int(fields[1].split(":")[1], 16))
    return ports


def wait_listening(ports, proc, what, timeout=10):
    deadline = time.monotonic() + timeout
    while not set(ports) <= listening_ports():
        check(proc.poll() is None, "%s exited with %s at start" % (what, proc.returncode))
        check(time.monotonic() < deadline, "%s not listening on %s within %d s"
              % (what, sorted(ports), timeout))
        time.sleep(0.05)


def body():
    args = parse_args()
    e = Env(args, "redsocks")
    verify_ldd(e, REDSOCKS)
    skip_unless_importable(e, REDSOCKS)
    enter_namespace()
    log("private network namespace: lo up, 10.1.2.1-4 on lo, NAT REDIRECT rules per instance, "
        "TCP buffers at most 64 KiB")

    echo = listener("0.0.0.0", DPORT)
    serve(echo, echo_handler)
    socks, http = Proxy("socks5", SOCKS_PORT), Proxy("http-connect", HTTP_PORT)
    proxies = {"socks5": socks, "http-connect": http}

    r = e.run([REDSOCKS, "-v"], timeout=10)
    check(r.stdout.splitlines()[1:] == ["Built with libevent-2.1.12-stable",
                                        "Runs  with libevent-2.1.12-stable"],
          "redsocks -v: %r" % r.stdout)
    conf = os.path.join(e.tmp, "redsocks.conf")
    write_config(conf, INSTANCES)
    r = e.run([REDSOCKS, "-t", "-c", conf], timeout=10, check_rc=False)
    check(r.returncode == 0, "redsocks -t rejects the configuration: %s%s" % (r.stdout, r.stderr))
    logpath = show_on_failure(os.path.join(e.tmp, "redsocks.log"))
    rs = e.spawn([REDSOCKS, "-c", conf], stdout=open(logpath, "w"), stderr=subprocess.STDOUT)
    wait_listening([i[1] for i in INSTANCES], rs, "redsocks")
    verify_mapped(e, rs.pid, "redsocks")

    def logtext():
        with open(logpath, errors="replace") as f:
            return f.read()
    check("redsocks started" in logtext(), "redsocks did not log its start: %s" % logtext())

    def wait_log(pattern, what, timeout=10, start=0):
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(pattern, logtext()[start:], re.M)
            if m:
                return m
            check(time.monotonic() < deadline, "redsocks did not log %s within %d s"
                  % (what, timeout))
            time.sleep(0.05)

    def run_threads(fns):
        results = [None] * len(fns)

        def run(i):
            try:
                results[i] = fns[i]()
            except Exception as ex:  # noqa: BLE001 - reported below
                results[i] = ex
        ts = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(fns))]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        check(not any(t.is_alive() for t in ts), "connections still running after 60 s")
        return results

    # 1. 50 concurrent connections per instance, distinct data each, half-close
    rng = random.Random(1234)
    t0 = time.monotonic()
    total = 0
    for ip, rport, typ, splice, _ in INSTANCES[:3]:
        p = proxies[typ]
        with p.lock:
            before = len(p.requests)
        payloads = [rng.randbytes(rng.randint(1, 65536)) for _ in range(50)]
        ports = [[] for _ in payloads]
        res = run_threads([lambda pl=pl, po=po: exchange(ip, pl, port_out=po)
                           for pl, po in zip(payloads, ports)])
        for i, (pl, got) in enumerate(zip(payloads, res)):
            if isinstance(got, Exception):
                raise TestFailure("%s (%s, splice %s) connection %d: %s: %s"
                                  % (ip, typ, splice, i, type(got).__name__, got))
            if got != expected(pl):
                mine = [l for l in logtext().splitlines()
                        if ports[i] and "%s:%d->" % (ip, ports[i][0]) in l][:60]
                raise TestFailure("%s (%s, splice %s) connection %d: sent %d bytes, got back "
                                  "%d bytes: %r%s; redsocks's log of it:\n%s"
                                  % (ip, typ, splice, i, len(pl), len(got), got[:40],
                                     "..." if len(got) > 40 else "", "\n".join(mine)))
        with p.lock:
            asked = p.requests[before:]
        check(asked == [(ip, DPORT)] * 50, "%s proxy was asked for %s, want %s:%d x 50"
              % (typ, sorted(set(asked)), ip, DPORT))
        total += sum(len(pl) for pl in payloads)
    log("50 concurrent connections through each of socks5 (bufferevents), socks5 (splice), "
        "http-connect: all %d echoes exact with the half-close trailer, proxies asked for "
        "the original destinations (%.2f s, %d bytes each way)"
        % (150, time.monotonic() - t0, total))
    for ip, *_ in INSTANCES[:3]:
        # Every connection ended with both directions shut down in order, none was dropped.
        closed = r"->%s:%d\]: connection closed$" % (re.escape(ip), DPORT)
        deadline = time.monotonic() + 10
        while len(re.findall(closed, logtext(), re.M)) < 50 and time.monotonic() < deadline:
            time.sleep(0.05)
        n = len(re.findall(closed, logtext(), re.M))
        check(n == 50, "redsocks logged %d 'connection closed' for %s, want 50" % (n, ip))
        check(not re.search(r"->%s:%d\]: dropping client" % (re.escape(ip), DPORT), logtext()),
              "redsocks dropped a connection to %s:%d" % (ip, DPORT))
    check(all(h.startswith(b"CONNECT 10.1.2.3:%d HTTP/1." % DPORT) for h in http.headers),
          "http-connect request heads: %s" % http.headers[:2])
    check(re.search(r"\[10\.1\.2\.1:\d+->10\.1\.2\.1:%d\]: accepted" % DPORT, logtext()),
          "no 'accepted' line with the original destination in the log")

    # 2. large transfers with a reader that starts late: backpressure
    big = random.Random(99).randbytes(4 << 20)
    rates = []
    for ip, rport, typ, splice, _ in INSTANCES[:3]:
        start = len(logtext())
        t0 = time.monotonic()
        got = exchange(ip, big, read_delay=0.6)
        dt = time.monotonic() - t0
        check(len(got) == len(expected(big)) and hashlib.sha256(got).digest()
              == hashlib.sha256(expected(big)).digest(),
              "%s (%s, splice %s): 4 MiB echo differs: got %d bytes" % (ip, typ, splice, len(got)))
        text = logtext()[start:]
        # The echo stalls while the client does not read: redsocks stops reading the proxy
        # side and starts again (which side it logs more depends on timing: not checked).
        if splice:
            want = ["backpressure: event_del(", "backpressure: event_add("]
        else:
            want = ["backpressure: bufferevent_disable(", "backpressure: bufferevent_enable("]
        for w in want:
            if w not in text:
                seen = {}
                for m in re.finditer(r"\]: (backpressure: [^\n]*|shutdown[^\n]*)", text):
                    seen[m.group(1)] = seen.get(m.group(1), 0) + 1
                raise TestFailure("%s (%s, splice %s): redsocks never logged %r during 4 MiB; "
                                  "it logged: %s" % (ip, typ, splice, w, seen))
        rates.append(2 * len(big) / dt / 1e6)
        log("4 MiB each way via %s (%s, splice %s) exact in %.2f s; redsocks logged %s"
            % (ip, typ, splice, dt, ", ".join(w.split(": ")[1] for w in want)))

    # 3. refusals: the proxy cannot reach the destination, or the proxy is down
    for ip, typ, said in (("10.1.2.1", "socks5", "Socks5 server status: connection refused (5)"),
                          ("10.1.2.2", "socks5", "Socks5 server status: connection refused (5)"),
                          ("10.1.2.3", "http-connect", "HTTP Proxy error: HTTP/1.0 502 Bad Gateway")):
        p = proxies[typ]
        with p.lock:
            nref = len(p.refused)
        s = socket.create_connection((ip, REFUSED_PORT), timeout=TIMEOUT)
        s.sendall(b"hello")
        try:
            got = s.recv(100)
        except ConnectionResetError:
            got = b""
        s.close()
        check(got == b"", "%s:%d refused by the %s proxy: client got %r instead of the "
              "connection closed" % (ip, REFUSED_PORT, typ, got))
        with p.lock:
            check(p.refused[nref:] == [(ip, REFUSED_PORT)], "%s proxy refusals: %s"
                  % (typ, p.refused[nref:]))
        wait_log(r"->%s:%d\]: %s$" % (re.escape(ip), REFUSED_PORT, re.escape(said)),
                 "%r for %s" % (said, ip))
        wait_log(r"->%s:%d\]: dropping client" % (re.escape(ip), REFUSED_PORT),
                 "dropping the client of %s" % ip)
    s = socket.create_connection(("10.1.2.4", DPORT), timeout=TIMEOUT)
    try:
        got = s.recv(100)
    except ConnectionResetError:
        got = b""
    s.close()
    check(got == b"", "proxy down: client got %r instead of the connection closed" % got)
    wait_log(r"->10\.1\.2\.4:%d\]: red_is_socket_connected_ok: Connection refused$" % DPORT,
             "the failed connect to the proxy")
    log("proxy refusing (SOCKS5 reply 5, HTTP 502) and proxy down: redsocks closed the "
        "client without data")

    # 4. signals with a connection open
    s = socket.create_connection(("10.1.2.1", DPORT), timeout=TIMEOUT)
    s.sendall(b"still here")
    check(recv_exact(s, 10) == b"still here", "open connection does not echo")
    mark = len(logtext())
    rs.send_signal(signal.SIGUSR1)
    wait_log(r"\[10\.1\.2\.1:%d->10\.1\.2\.1:%d\]: client: " % (s.getsockname()[1], DPORT),
             "the open connection on SIGUSR1", start=mark)
    rs.send_signal(signal.SIGTERM)
    try:
        rc = rs.wait(timeout=10)
    except subprocess.TimeoutExpired:
        raise TestFailure("redsocks did not exit within 10 s of SIGTERM")
    text = logtext()[mark:]
    check(rc == 0, "redsocks exited %d after SIGTERM: %s" % (rc, text[-1500:]))
    check("There are connected clients during shutdown! Disconnecting them." in text,
          "redsocks did not log disconnecting the open client: %s" % text[-1500:])
    try:
        got = s.recv(100)
    except ConnectionResetError:
        got = b""
    s.close()
    check(got == b"", "after SIGTERM the client got %r instead of the connection closed" % got)
    log("SIGUSR1 listed the open connection; SIGTERM: disconnected it and exited 0")

    # 5. a second redsocks (socks5, bufferevents) on the poll backend (EVENT_NOEPOLL)
    conf2 = os.path.join(e.tmp, "redsocks2.conf")
    write_config(conf2, INSTANCES[:1])
    log2 = show_on_failure(os.path.join(e.tmp, "redsocks2.log"))
    rs2 = e.spawn(["env", "-u", "EVENT_NOPOLL", "-u", "EVENT_NOSELECT", "EVENT_NOEPOLL=1",
                   REDSOCKS, "-c", conf2], stdout=open(log2, "w"), stderr=subprocess.STDOUT)
    wait_listening([INSTANCES[0][1]], rs2, "second redsocks")
    verify_mapped(e, rs2.pid, "second redsocks")
    payloads = [rng.randbytes(rng.randint(1, 65536)) for _ in range(20)]
    res = run_threads([lambda pl=pl: exchange("10.1.2.1", pl) for pl in payloads])
    for i, (pl, got) in enumerate(zip(payloads, res)):
        check(not isinstance(got, Exception) and got == expected(pl),
              "second redsocks (poll), connection %d: %s" % (
                  i, got if isinstance(got, Exception) else "%d of %d bytes back"
                  % (len(got), len(expected(pl)))))
    big2 = big[:2 << 20]
    got = exchange("10.1.2.1", big2, read_delay=0.6)
    check(got == expected(big2), "second redsocks (poll): 2 MiB echo differs (%d bytes)"
          % len(got))
    with open(log2, errors="replace") as f:
        text2 = f.read()
    for w in ("backpressure: bufferevent_disable(", "backpressure: bufferevent_enable("):
        check(w in text2, "second redsocks (poll) never logged %r during 2 MiB" % w)
    log("second redsocks on poll (EVENT_NOEPOLL): 20 concurrent connections and 2 MiB with "
        "backpressure exact")
    rs2.send_signal(signal.SIGINT)
    try:
        rc = rs2.wait(timeout=10)
    except subprocess.TimeoutExpired:
        raise TestFailure("redsocks did not exit within 10 s of SIGINT")
    check(rc == 0, "redsocks exited %d after SIGINT" % rc)
    check(not e.tagged_pids(), "processes left: %s" % e.tagged_pids())
    bad = [l for l in (logtext() + open(log2, errors="replace").read()).splitlines()
           if re.match(r"\d+\.\d+ (?:err|warning|crit|alert|emerg) ", l)
           and not l.endswith("There are connected clients during shutdown! Disconnecting them.")]
    check(not bad, "redsocks logged errors: %s" % "\n".join(bad[:10]))
    log("second redsocks exited 0 on SIGINT")
    e.record("redsocks on %s: 4 MiB echo %.0f / %.0f / %.0f MB/s (socks5 bufferevents / "
             "socks5 splice / http-connect; client reads after 0.6 s)" % (e.side, *rates))


if __name__ == "__main__":
    main_wrapper(body)
