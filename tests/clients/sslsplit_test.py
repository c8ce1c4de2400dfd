#!/usr/bin/env python3
"""sslsplit 0.5.5 (a TLS man-in-the-middle proxy) as an end-to-end client of
libevent_openssl: TLS socket bufferevents on both sides of each connection
(bufferevent_openssl_socket_new, get_ssl, set_allow_dirty_shutdown,
bufferevent_get_openssl_error), TLS filter bufferevents over plain ones for connections
that turn into TLS midway (autossl: bufferevent_openssl_filter_new, get_underlying,
getfd/setfd), listeners, pthreads (a base per worker thread).

sslsplit also imports evdns_base_new/free, evdns_base_resolv_conf_parse and
evdns_getaddrinfo (used only for host names, which this test never gives it). When the
reevent build under test does not export them, the reevent side preloads a stub library of
the test defining exactly those: evdns_base_new/free and resolv_conf_parse as fakes (sslsplit
makes a DNS base per thread at start), the others abort.

Setup: a CA (openssl CLI); a target `openssl s_server -WWW` with a certificate for
CN=localhost; sslsplit with static forwarding (no NAT): `ssl` from port P to the target,
`autossl` from port A to a small Python STARTTLS echo server.
  1. curl through P, verifying the certificate sslsplit forges with our CA
     (--cacert ca.crt, host name localhost): a small file and a 1 MiB file, byte for byte;
  2. 6 curls at once, each the 1 MiB file;
  3. autossl: a client sends "STARTTLS" in clear, gets "OK", then speaks TLS (verified with
     ca.crt) through the same connection: 256 KiB echoed back byte for byte;
  4. SIGTERM: sslsplit exits 0.
"""

import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (check, log, main_wrapper, parse_args, recv_exact, serve,  # noqa
                       show_on_failure, skip_unless_installed, stub_missing_evdns, verify_ldd,
                       verify_mapped, Env)

SSLSPLIT = "/usr/bin/sslsplit"
OPENSSL = "/usr/bin/openssl"
CURL = "/usr/bin/curl"
FAKE_STUBS = {"evdns_base_new": "stub_handle", "evdns_base_free": None,
              "evdns_base_resolv_conf_parse": "0"}


def wait_tcp(port, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def make_pki(e):
    d = e.tmp
    ossl = lambda *a: e.run([OPENSSL] + list(a), timeout=60, on_reevent=False)  # noqa: E731
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", os.path.join(d, "ca.key"),
         "-out", os.path.join(d, "ca.crt"), "-days", "2", "-subj", "/CN=reevent test CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", os.path.join(d, "srv.key"),
         "-out", os.path.join(d, "srv.crt"), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost")


def starttls_echo(conn, ctx):
    """The autossl target: "STARTTLS" in clear, "OK", then TLS, echoing until EOF."""
    try:
        f = b""
        while b"\r\n" not in f:
            c = conn.recv(100)
            if not c:
                return
            f += c
        conn.sendall(b"OK\r\n")
        t = ctx.wrap_socket(conn, server_side=True)
        while True:
            c = t.recv(65536)
            if not c:
                break
            t.sendall(c)
        t.close()
    except OSError:
        conn.close()


def curl(e, port, path, out):
    r = e.run([CURL, "-sS", "--cacert", os.path.join(e.tmp, "ca.crt"),
               "--resolve", "localhost:%d:127.0.0.1" % port, "-o", out,
               "-w", "%{http_code} %{size_download}",
               "https://localhost:%d/%s" % (port, path)], timeout=60, on_reevent=False)
    return r.stdout


def body():
    args = parse_args()
    e = Env(args, "sslsplit")
    skip_unless_installed((SSLSPLIT, "sslsplit"), (OPENSSL, "openssl"), (CURL, "curl"))
    verify_ldd(e, SSLSPLIT)
    stub_missing_evdns(e, SSLSPLIT, FAKE_STUBS)

    make_pki(e)
    www = os.path.join(e.tmp, "www")
    os.mkdir(www)
    small = b"hello through sslsplit\n"
    big = os.urandom(1 << 20)
    with open(os.path.join(www, "small.txt"), "wb") as f:
        f.write(small)
    with open(os.path.join(www, "big.bin"), "wb") as f:
        f.write(big)

    target, proxy, auto = e.free_port(), e.free_port(), e.free_port()
    tlog = show_on_failure(os.path.join(e.tmp, "s_server.log"))
    e.spawn([OPENSSL, "s_server", "-accept", "127.0.0.1:%d" % target, "-WWW", "-quiet",
             "-cert", os.path.join(e.tmp, "srv.crt"), "-key", os.path.join(e.tmp, "srv.key")],
            on_reevent=False, cwd=www, stdout=open(tlog, "w"), stderr=subprocess.STDOUT)
    check(wait_tcp(target), "openssl s_server is not listening")

    ectx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ectx.load_cert_chain(os.path.join(e.tmp, "srv.crt"), os.path.join(e.tmp, "srv.key"))
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    echo_port = lsock.getsockname()[1]
    serve(lsock, lambda c: starttls_echo(c, ectx))

    slog = show_on_failure(os.path.join(e.tmp, "sslsplit.log"))
    conlog = os.path.join(e.tmp, "connect.log")
    argv = [SSLSPLIT, "-k", os.path.join(e.tmp, "ca.key"), "-c", os.path.join(e.tmp, "ca.crt"),
            "-l", conlog]
    if os.getuid() == 0:
        argv += ["-u", "root"]  # keep the test's files readable (default: drop to nobody)
    argv += ["ssl", "127.0.0.1", str(proxy), "127.0.0.1", str(target),
             "autossl", "127.0.0.1", str(auto), "127.0.0.1", str(echo_port)]
    sp = e.spawn(argv, stdout=open(slog, "w"), stderr=subprocess.STDOUT)
    check(wait_tcp(proxy) and wait_tcp(auto), "sslsplit is not listening")
    check(sp.poll() is None, "sslsplit exited at start")
    verify_mapped(e, sp.pid, "sslsplit")

    # 1. one file at a time, verifying the forged certificate
    for name, data in (("small.txt", small), ("big.bin", big)):
        out = os.path.join(e.tmp, "got-" + name)
        w = curl(e, proxy, name, out)
        with open(out, "rb") as f:
            got = f.read()
        check(w == "200 %d" % len(data) and got == data,
              "GET %s through sslsplit: %s, %d bytes%s" % (name, w, len(got),
                                                          "" if got == data else " (differ)"))
    log("curl through sslsplit: small.txt and big.bin (1 MiB) identical, certificate forged "
        "by our CA verified")

    # 2. six at once
    results = {}

    def one(i):
        out = os.path.join(e.tmp, "par-%d" % i)
        results[i] = (curl(e, proxy, "big.bin", out), out)

    ts = [threading.Thread(target=one, args=(i,)) for i in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for i, (w, out) in sorted(results.items()):
        with open(out, "rb") as f:
            check(w == "200 %d" % len(big) and f.read() == big, "parallel curl %d: %s" % (i, w))
    log("6 parallel curls of 1 MiB through sslsplit: all identical")

    # 3. autossl: clear text, then TLS on the same connection
    payload = os.urandom(256 * 1024)
    c = socket.create_connection(("127.0.0.1", auto), timeout=20)
    c.sendall(b"STARTTLS\r\n")
    check(recv_exact(c, 4) == b"OK\r\n", "autossl: no OK in clear")
    cctx = ssl.create_default_context(cafile=os.path.join(e.tmp, "ca.crt"))
    t = cctx.wrap_socket(c, server_hostname="localhost")
    issuer = dict(x[0] for x in t.getpeercert()["issuer"])
    check(issuer.get("commonName") == "reevent test CA", "autossl: issuer %r" % issuer)

    # One thread (an SSL object must not be read and written from two at once): at most
    # 64 KiB in flight.
    got = b""
    for i in range(0, len(payload), 16384):
        t.sendall(payload[i:i + 16384])
        while len(got) < i + 16384 - 65536 or (i + 16384 >= len(payload) and
                                                len(got) < len(payload)):
            chunk = t.recv(65536)
            check(chunk, "autossl: EOF after %d bytes" % len(got))
            got += chunk
    check(got == payload, "autossl: echo differs")
    t.close()
    log("autossl: STARTTLS in clear, then 256 KiB echoed over TLS (filter bufferevents)")

    # 4. clean exit
    time.sleep(0.3)
    check(sp.poll() is None, "sslsplit died during the run")
    os.kill(sp.pid, signal.SIGTERM)
    try:
        rc = sp.wait(timeout=15)
    except subprocess.TimeoutExpired:
        rc = None
    check(rc == 0, "sslsplit exit status after SIGTERM: %r" % rc)
    with open(conlog) as f:
        lines = f.read().splitlines()
    check(len(lines) >= 9, "connect log has %d lines" % len(lines))
    with open(slog) as f:
        check("not provided by reevent" not in f.read(), "sslsplit called an aborting stub")
    e.record("sslsplit on %s: 8 HTTPS fetches (7 MiB) and an autossl upgrade, %d connections "
             "logged" % (e.side, len(lines)))


if __name__ == "__main__":
    main_wrapper(body)
