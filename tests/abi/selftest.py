#!/usr/bin/env python3
"""Proves check_abi.py on the real thing: Debian's libevent 2.1.12 libraries must show full
API coverage (239/239 core, 1/1 pthreads, 208/208 extra) and must FAIL the check, because
they export libevent's internal names and libevent-2.1.so.7 is a full copy rather than a
code-less shim. A checker that passed them would be blind to leaks."""
import os
import subprocess
import sys
import tempfile

SYS = os.environ.get("SYSTEM_LIBDIR", "/usr/lib/x86_64-linux-gnu")
here = os.path.dirname(os.path.abspath(__file__))
with tempfile.TemporaryDirectory() as d:
    for b in ("libevent_core", "libevent_extra", "libevent_pthreads", "libevent"):
        src = os.path.join(SYS, b + "-2.1.so.7")
        if not os.path.exists(src):
            print("system libevent not installed: %s missing" % src)
            sys.exit(1)
        os.symlink(src, os.path.join(d, b + "-2.1.so.7"))
    r = subprocess.run([sys.executable, os.path.join(here, "check_abi.py"), d],
                       capture_output=True, text=True)
out = r.stdout
print(out)
expect = ["libevent_core-2.1.so.7: 239/239", "libevent_pthreads-2.1.so.7: 1/1",
          "libevent_extra-2.1.so.7: 208/208",
          "libevent_core exports 180 name(s) that must not be there (internal name",
          "libevent_extra exports 17 name(s) that must not be there (internal name",
          "libevent-2.1.so.7 must be a code-less shim but exports",
          "libevent-2.1.so.7 does not NEED libevent_core-2.1.so.7",
          "memcached:memcached (12 imports)", "tmux:tmux (33 imports)"]
bad = [e for e in expect if e not in out]
if r.returncode != 1 or bad:
    print("selftest FAILED: rc=%d (want 1), missing lines: %s" % (r.returncode, bad))
    sys.exit(1)
print("selftest passed: the checker sees full coverage and the leaks of Debian's libevent")
