#!/usr/bin/env python3
"""Proves the client-test harness on libraries that export nothing: four empty shared
objects with the right SONAMEs (the shim NEEDing core and extra). A reevent-side client
test must then exit 77 (ctest SKIP) and name every missing import, after ldd has shown the
sonames resolving into that directory; nothing else may make it skip."""

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CC = os.environ.get("CC", "cc")

with tempfile.TemporaryDirectory() as d:
    src = os.path.join(d, "empty.c")
    with open(src, "w") as f:
        f.write("typedef int empty_library;\n")
    for base in ("libevent_core", "libevent_extra", "libevent_pthreads", "libevent"):
        so = base + "-2.1.so.7"
        cmd = [CC, "-shared", "-fPIC", "-o", os.path.join(d, so), src, "-Wl,-soname," + so]
        if base == "libevent":
            cmd += ["-L" + d, "-Wl,--no-as-needed", "-l:libevent_core-2.1.so.7",
                    "-l:libevent_extra-2.1.so.7"]
        subprocess.run(cmd, check=True)
    failures = []
    for name, program, n in (("tmux", "/usr/bin/tmux", 33), ("memcached", "/usr/bin/memcached", 12)):
        if not os.path.exists(program):
            print("%s not installed: not checked" % program)
            continue
        r = subprocess.run([sys.executable, os.path.join(HERE, name + "_test.py"), "--side",
                            "reevent", "--lib-dir", d], capture_output=True, text=True,
                           timeout=60)
        print(r.stdout + r.stderr)
        want = "SKIP: %s imports %d libevent symbol(s); %d of them reevent does not export yet:" \
            % (name, n, n)
        if r.returncode != 77 or want not in r.stdout or "(reevent)" not in r.stdout:
            failures.append("%s: rc=%d, want 77 with %r and ldd lines into %s"
                            % (name, r.returncode, want, d))
if failures:
    print("harness self-test FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("harness self-test passed: missing imports give SKIP (77) with the list")
