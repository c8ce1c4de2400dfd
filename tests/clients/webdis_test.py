#!/usr/bin/env python3
"""webdis 0.1.x (Debian's HTTP/JSON interface to Redis) as an end-to-end client.

webdis runs an HTTP server on libevent (event_new/event_set/event_base_set per thread,
2 worker threads here) in front of a private redis-server (which does not use libevent). The
test, all on 127.0.0.1 with private ports and files:
  1. exact replies: SET/GET/INCR/missing key as JSON, `.txt` raw output, PUT with a body;
  2. pub/sub: a long-lived chunked /SUBSCRIBE response receives a message sent by /PUBLISH;
  3. 32 concurrent keep-alive HTTP clients x 25 SET/GET pairs, every value checked;
  4. SIGTERM: webdis exits 0; no process left.
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (Env, check, log, main_wrapper, parse_args, skip_unless_importable,  # noqa
                       verify_ldd, verify_mapped, show_on_failure, TestFailure)

WEBDIS = "/usr/bin/webdis"
REDIS = "/usr/bin/redis-server"


def wait_port(p, port, what):
    deadline = time.monotonic() + 10
    while True:
        check(p.poll() is None, "%s exited at start with %s" % (what, p.returncode))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            check(time.monotonic() < deadline, "%s did not listen within 10 s" % what)
            time.sleep(0.05)


def request(conn, method, path, body=None):
    conn.request(method, path, body=body)
    r = conn.getresponse()
    data = r.read()
    check(r.status == 200, "%s %s: HTTP %d %r" % (method, path, r.status, data))
    return data


def body():
    args = parse_args()
    e = Env(args, "webdis")
    verify_ldd(e, WEBDIS)
    skip_unless_importable(e, WEBDIS)
    rport, hport = e.free_port(), e.free_port()
    redis = e.spawn([REDIS, "--port", str(rport), "--bind", "127.0.0.1", "--save", "",
                     "--appendonly", "no", "--dir", e.tmp], on_reevent=False,
                    stdout=open(show_on_failure(os.path.join(e.tmp, "redis.log")), "w"),
                    stderr=subprocess.STDOUT)
    wait_port(redis, rport, "redis-server")
    conf = os.path.join(e.tmp, "webdis.json")
    logf = show_on_failure(os.path.join(e.tmp, "webdis.log"))
    with open(conf, "w") as f:
        json.dump({"redis_host": "127.0.0.1", "redis_port": rport, "redis_auth": None,
                   "http_host": "127.0.0.1", "http_port": hport, "threads": 2,
                   "daemonize": False, "database": 0, "verbosity": 4, "logfile": logf}, f)
    p = e.spawn([WEBDIS, conf],
                stdout=open(show_on_failure(os.path.join(e.tmp, "webdis.stderr")), "w"),
                stderr=subprocess.STDOUT)
    wait_port(p, hport, "webdis")
    verify_mapped(e, p.pid, "webdis")

    # 1. exact replies
    c = http.client.HTTPConnection("127.0.0.1", hport, timeout=10)
    exp = [("GET", "/SET/hello/world", None, b'{"SET":[true,"OK"]}'),
           ("GET", "/GET/hello", None, b'{"GET":"world"}'),
           ("GET", "/GET/hello.txt", None, b"world"),
           ("GET", "/INCR/counter", None, b'{"INCR":1}'),
           ("GET", "/INCR/counter", None, b'{"INCR":2}'),
           ("PUT", "/SET/k2", b"a put body\r\nwith two lines", b'{"SET":[true,"OK"]}'),
           ("GET", "/GET/k2.txt", None, b"a put body\r\nwith two lines"),
           ("GET", "/GET/missing", None, b'{"GET":null}'),
           ("GET", "/DEL/hello", None, b'{"DEL":1}')]
    for method, path, data, want in exp:
        got = request(c, method, path, data)
        check(got == want, "%s %s: got %r, want %r" % (method, path, got, want))
    log("exact replies for SET/GET/INCR/PUT/DEL, .txt output, missing key (one keep-alive "
        "connection)")

    # 2. pub/sub over a long-lived chunked response
    sub = socket.create_connection(("127.0.0.1", hport), timeout=10)
    sub.sendall(b"GET /SUBSCRIBE/news HTTP/1.1\r\nHost: test\r\n\r\n")
    buf = b""
    while b'"subscribe","news",1' not in buf:
        d = sub.recv(4096)
        check(d, "subscription closed early: %r" % buf)
        buf += d
    got = request(c, "GET", "/PUBLISH/news/extra-extra")
    check(got == b'{"PUBLISH":1}', "PUBLISH reached %r subscribers" % got)
    while b'"message","news","extra-extra"' not in buf:
        d = sub.recv(4096)
        check(d, "subscription closed before the message: %r" % buf)
        buf += d
    sub.close()
    c.close()
    log("pub/sub: the chunked /SUBSCRIBE stream received the published message")

    # 3. concurrency
    def client(k):
        conn = http.client.HTTPConnection("127.0.0.1", hport, timeout=20)
        try:
            for i in range(25):
                val = "v%d-%d-%s" % (k, i, "x" * ((k * 7 + i) % 50))
                got = request(conn, "GET", "/SET/c%d/%s" % (k, val))
                check(got == b'{"SET":[true,"OK"]}', "client %d SET: %r" % (k, got))
                got = request(conn, "GET", "/GET/c%d.txt" % k)
                check(got == val.encode(), "client %d GET: %r, want %r" % (k, got, val))
        finally:
            conn.close()
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=32) as ex:
        list(ex.map(client, range(32)))
    log("32 keep-alive clients x 25 SET/GET pairs, all values right, %.2f s"
        % (time.monotonic() - t0))

    # 4. SIGTERM
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        raise TestFailure("webdis did not exit within 10 s of SIGTERM")
    check(rc == 0, "webdis exited %d after SIGTERM" % rc)
    redis.send_signal(signal.SIGTERM)
    redis.wait(timeout=10)
    check(not e.tagged_pids(), "processes left: %s" % e.tagged_pids())
    log("SIGTERM: webdis exited 0")


if __name__ == "__main__":
    main_wrapper(body)
