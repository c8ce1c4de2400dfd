#!/usr/bin/env python3
"""bgplgd (OpenBGPD 7.7's looking glass, a FastCGI server) as an end-to-end client of the library.

In Debian's openbgpd only bgplgd links libevent (`libevent-2.1.so.7`, 7 imports, the pre-2.0
API: `event_init`, `event_set` with EV_SIGNAL for its signals and EV_READ/EV_WRITE for its
listener, every FastCGI connection and the pipe of every bgpctl child, `event_add`,
`event_del`, `event_initialized`, `event_get_fd`, `event_dispatch`); bgpd and bgpctl do not.
The test brings up two real bgpd (on the system, no libevent) that peer over TCP on
127.0.0.1 and 127.0.0.2 with private ports, AS numbers, control sockets and each announcing
one prefix, then starts bgplgd on the side under test on a private Unix socket. Every HTTP
query is a FastCGI request the test writes itself; bgplgd forks bgpctl (as user _bgplgd)
and relays its JSON:
  1. /neighbors: the peer "bee" is Established; /rib?neighbor=bee holds the prefix the
     other bgpd announced, with its AS path; /rib?af=ipv4&best=1 both prefixes; /memory;
  2. errors: an unknown path is 404, an unknown parameter is 400, a bad method is 405
     (answered by bgplgd itself, no child);
  3. 20 FastCGI requests in a row, each on its own connection: every answer complete and
     right (overlapping requests are unreliable on the system libevent too: not tested);
  4. SIGTERM: bgplgd exits.
"""

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (Env, check, log, main_wrapper, parse_args, skip_unless_importable,  # noqa
                       verify_ldd, verify_mapped, show_on_failure, wait_for, TestFailure)

BGPLGD = "/usr/sbin/bgplgd"
BGPD = "/usr/sbin/bgpd"
BGPCTL = "/usr/sbin/bgpctl"
CHROOT = "/run/openbgpd"       # bgpd's session and route engines chroot here (_openbgpd's home)


def fcgi_nv(k, v):
    k, v = k.encode(), v.encode()

    def ln(n):
        return bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)
    return ln(len(k)) + ln(len(v)) + k + v


def fcgi_record(rtype, content, rid=1):
    return struct.pack(">BBHHBB", 1, rtype, rid, len(content), 0, 0) + content


def fcgi_get(sock_path, path, query="", method="GET", timeout=15):
    """One FastCGI responder request; returns (status, headers dict, body bytes)."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock_path)        # blocking: waits while bgplgd's backlog is full
    s.settimeout(timeout)
    params = b"".join(fcgi_nv(k, v) for k, v in (
        ("REQUEST_METHOD", method), ("PATH_INFO", path), ("QUERY_STRING", query),
        ("SCRIPT_NAME", "/bgplgd"), ("SERVER_PROTOCOL", "HTTP/1.1")))
    s.sendall(fcgi_record(1, struct.pack(">HB5x", 1, 0)) + fcgi_record(4, params)
              + fcgi_record(4, b"") + fcgi_record(5, b""))
    out, buf, ended = b"", b"", False
    try:
        while not ended:
            d = s.recv(65536)
            if not d:
                break
            buf += d
            while len(buf) >= 8:
                _v, rtype, _rid, clen, plen, _r = struct.unpack(">BBHHBB", buf[:8])
                if len(buf) < 8 + clen + plen:
                    break
                content, buf = buf[8:8 + clen], buf[8 + clen + plen:]
                if rtype == 6:
                    out += content
                elif rtype == 3:
                    ended = True
    finally:
        s.close()
    check(ended, "FastCGI %s %s: no END_REQUEST record (got %r)" % (path, query, out[:300]))
    head, _, body = out.partition(b"\r\n\r\n")
    if not _:
        head, _, body = out.partition(b"\n\n")
    headers = {}
    for line in head.decode(errors="replace").splitlines():
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    status = int(headers.get("status", "200").split()[0])
    return status, headers, body


def unix_listening(path):
    with open("/proc/net/unix") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if len(fields) >= 8 and fields[7] == path and int(fields[3], 16) & 0x10000:
                return True
    return False


def write_bgpd_conf(e, name, me, my_as, my_port, peer, peer_as, peer_port, prefix, descr):
    path = os.path.join(e.tmp, name + ".conf")
    with open(path, "w") as f:
        f.write("""socket "%(d)s/%(name)s.sock"
AS %(my_as)d
router-id %(me)s
listen on %(me)s port %(my_port)d
network %(prefix)s
neighbor %(peer)s {
  remote-as %(peer_as)d
  port %(peer_port)d
  local-address %(me)s
  descr "%(descr)s"
}
allow from any
allow to any
""" % dict(d=e.tmp, name=name, me=me, my_as=my_as, my_port=my_port, prefix=prefix,
           peer=peer, peer_as=peer_as, peer_port=peer_port, descr=descr))
    os.chmod(path, 0o600)
    return path


def bgpctl_json(e, sock, *args):
    r = e.run([BGPCTL, "-j", "-s", sock] + list(args), on_reevent=False)
    return json.loads(r.stdout)


def body():
    args = parse_args()
    e = Env(args, "bgplgd")
    verify_ldd(e, BGPLGD)
    skip_unless_importable(e, BGPLGD)
    os.makedirs(CHROOT, exist_ok=True)
    os.chmod(e.tmp, 0o755)      # bgpctl runs as _bgplgd and must reach the control socket

    pa, pb = e.free_port(), e.free_port()
    conf_a = write_bgpd_conf(e, "a", "127.0.0.1", 64512, pa, "127.0.0.2", 64513, pb,
                             "192.0.2.0/24", "bee")
    conf_b = write_bgpd_conf(e, "b", "127.0.0.2", 64513, pb, "127.0.0.1", 64512, pa,
                             "198.51.100.0/24", "ay")
    for name, conf in (("a", conf_a), ("b", conf_b)):
        e.spawn([BGPD, "-d", "-f", conf], on_reevent=False,
                stdout=open(show_on_failure(os.path.join(e.tmp, "bgpd-%s.log" % name)), "w"),
                stderr=subprocess.STDOUT)
    sock_a = os.path.join(e.tmp, "a.sock")
    wait_for(lambda: os.path.exists(sock_a) and os.path.exists(os.path.join(e.tmp, "b.sock")),
             15, "the two bgpd control sockets")
    os.chmod(sock_a, 0o666)

    def learned():
        try:
            rib = bgpctl_json(e, sock_a, "show", "rib").get("rib", [])
        except (TestFailure, ValueError):
            return False
        return any(r["prefix"] == "198.51.100.0/24" for r in rib)
    t0 = time.monotonic()
    wait_for(learned, 30, "bgpd a to learn 198.51.100.0/24 from bgpd b")
    log("two bgpd peered over 127.0.0.1/127.0.0.2, a learned b's prefix in %.1f s"
        % (time.monotonic() - t0))

    lg = os.path.join(e.tmp, "lg.sock")
    p = e.spawn([BGPLGD, "-d", "-s", lg, "-S", sock_a, "-U", "root"],
                stdout=open(show_on_failure(os.path.join(e.tmp, "bgplgd.log")), "w"),
                stderr=subprocess.STDOUT)
    # The socket file appears at bind(), a moment before listen(): wait for the listening
    # socket itself (/proc/net/unix flag __SO_ACCEPTCON), not for the file.
    wait_for(lambda: unix_listening(lg), 10, "bgplgd listening on its socket")
    verify_mapped(e, p.pid, "bgplgd")

    # 1. queries relayed from bgpctl
    st, hd, bd = fcgi_get(lg, "/neighbors")
    check(st == 200 and "json" in hd.get("content-type", ""), "/neighbors: %d %s" % (st, hd))
    nb = json.loads(bd)["neighbors"]
    check(len(nb) == 1 and nb[0]["description"] == "bee" and nb[0]["state"] == "Established",
          "/neighbors: %s" % [(n.get("description"), n.get("state")) for n in nb])
    st, hd, bd = fcgi_get(lg, "/rib", "neighbor=bee")
    rib = json.loads(bd)["rib"]
    check(st == 200 and [r["prefix"] for r in rib] == ["198.51.100.0/24"],
          "/rib?neighbor=bee: %d %s" % (st, bd[:300]))
    check(rib[0]["aspath"] == "64513", "AS path of the learned prefix: %r" % rib[0]["aspath"])
    st, hd, bd = fcgi_get(lg, "/rib", "af=ipv4&best=1")
    got = sorted(r["prefix"] for r in json.loads(bd)["rib"])
    check(got == ["192.0.2.0/24", "198.51.100.0/24"], "/rib?af=ipv4&best=1: %s" % got)
    st, hd, bd = fcgi_get(lg, "/memory")
    check(st == 200 and "memory" in json.loads(bd), "/memory: %d %r" % (st, bd[:200]))
    log("/neighbors (bee Established), /rib?neighbor=bee (198.51.100.0/24, AS path 64513), "
        "/rib?af=ipv4&best=1 (both prefixes), /memory: right JSON through bgplgd")

    # 2. errors
    for path, query, method, want in (("/nonexistent", "", "GET", 404),
                                      ("/rib", "color=blue", "GET", 400),
                                      ("/rib", "", "DELETE", 405)):
        st, hd, bd = fcgi_get(lg, path, query, method)
        check(st == want, "%s %s?%s: status %d, want %d" % (method, path, query, st, want))
    log("errors: unknown path 404, unknown parameter 400, DELETE 405")

    # 3. many requests in a row (bgplgd answers requests that overlap unreliably on the
    # system libevent too: children killed by SIGPIPE, lost answers; so one at a time)
    t0 = time.monotonic()
    for i in range(20):
        if i % 2:
            st, _, bd = fcgi_get(lg, "/rib", "neighbor=bee")
            ok = st == 200 and [r["prefix"] for r in json.loads(bd)["rib"]] == \
                ["198.51.100.0/24"]
        else:
            st, _, bd = fcgi_get(lg, "/neighbors")
            ok = st == 200 and json.loads(bd)["neighbors"][0]["state"] == "Established"
        check(ok, "request %d of 20: %d %r" % (i, st, bd[:200]))
    log("20 FastCGI requests in a row (20 bgpctl children forked and reaped): all right, "
        "%.2f s" % (time.monotonic() - t0))

    # 4.
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        raise TestFailure("bgplgd did not exit within 10 s of SIGTERM")
    check(rc in (0, -signal.SIGTERM), "bgplgd exited %d after SIGTERM" % rc)
    log("SIGTERM: bgplgd exited (%d)" % rc)


if __name__ == "__main__":
    main_wrapper(body)
