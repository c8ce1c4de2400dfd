#!/usr/bin/env python3
"""memcaslap (Debian's libmemcached-tools load generator) as a libevent client.

memcaslap runs one event_base per thread, each holding many connections, and re-arms every
connection with event_del / event_set / event_base_set / event_add as it switches between
writing a request and reading the reply. Here the server is memcached on the system libevent
(fixed), and memcaslap runs on the side under test: 2 threads x 32 connections for 2 s with
20% of the gets verified, then 1 thread x 64 connections (one base with 64 fds). Every run
must finish in time with no get misses and no verify failures.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (Env, check, log, main_wrapper, parse_args, skip_unless_importable,  # noqa
                       verify_ldd, verify_mapped)
from memcached_test import MEMCASLAP, start_memcached, stop  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402


def run_load(e, port, threads, conns, seconds):
    p = e.spawn([MEMCASLAP, "-s", "127.0.0.1:%d" % port, "-T", str(threads), "-c", str(conns),
                 "-t", "%ds" % seconds, "-X", "100", "-v", "0.2"],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(0.3)
    if p.poll() is None:
        verify_mapped(e, p.pid, "memcaslap")
    try:
        out, _ = p.communicate(timeout=seconds + 15)
    except subprocess.TimeoutExpired:
        raise_msg = "memcaslap -T %d -c %d did not finish within %d s" % (threads, conns,
                                                                          seconds + 15)
        check(False, raise_msg)
    check(p.returncode == 0, "memcaslap exited %d: %s" % (p.returncode, out[-1500:]))
    m = re.search(r"TPS:\s*(\d+)", out)
    check(m, "memcaslap printed no TPS: %s" % out[-1500:])
    for field in ("get_misses", "verify_failed"):
        fm = re.search(r"%s:\s*(\d+)" % field, out)
        check(fm and int(fm.group(1)) == 0, "memcaslap %s: %s" % (field, out[-1500:]))
    tps = int(m.group(1))
    check(tps > 1000, "memcaslap -T %d -c %d managed only %d ops/s" % (threads, conns, tps))
    log("memcaslap -T %d -c %d, %d s: %d ops/s, no misses, no verify failures"
        % (threads, conns, seconds, tps))
    return tps


def body():
    args = parse_args()
    e = Env(args, "memcaslap")
    verify_ldd(e, MEMCASLAP)
    skip_unless_importable(e, MEMCASLAP)
    server, port = start_memcached(e, on_reevent=False)
    tps = run_load(e, port, 2, 32, 2)
    run_load(e, port, 1, 64, 1)
    e.record("memcaslap as the client on %s (server on libevent, -T 2 -c 32, 2 s): %d ops/s"
             % (e.side, tps))
    stop(server, "memcached on the system libevent")


if __name__ == "__main__":
    main_wrapper(body)
