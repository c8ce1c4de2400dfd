#!/usr/bin/env python3
"""Proves check_abi.py, first on the real thing: Debian's libevent 2.1.12 libraries must show full
API coverage (239/239 core, 1/1 pthreads, 208/208 extra, 7/7 openssl) and must FAIL the check, because
they export libevent's internal names and libevent-2.1.so.7 is a full copy rather than a
code-less shim. A checker that passed them would be blind to leaks."""
import os
import subprocess
import sys
import tempfile

SYS = os.environ.get("SYSTEM_LIBDIR", "/usr/lib/x86_64-linux-gnu")
here = os.path.dirname(os.path.abspath(__file__))
with tempfile.TemporaryDirectory() as d:
    for b in ("libevent_core", "libevent_extra", "libevent_pthreads", "libevent_openssl",
              "libevent"):
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
          "libevent_extra-2.1.so.7: 208/208", "libevent_openssl-2.1.so.7: 7/7",
          # 180 internal names, less the five event_mm_*_ helpers, the two evdns hook
          # setters and the two log entries core may export for its add-on libraries
          # (check_abi.CORE_HELPERS_FOR_ADDONS) and the 42 helpers, log, loop, callback and
          # thread-table entries it may export for programs
          # (check_abi.CORE_INTERNALS_FOR_PROGRAMS)
          "libevent_core exports 129 name(s) that must not be there (internal name",
          # 17 internal names, less the four undeclared evtag exports and the six
          # internal evhttp entry points (check_abi.EXTRA_UNDECLARED_API)
          "libevent_extra exports 7 name(s) that must not be there (internal name",
          "libevent_openssl exports 1 name(s) that must not be there (internal name",
          "libevent-2.1.so.7 must be a code-less shim but exports",
          "libevent-2.1.so.7 does not NEED libevent_core-2.1.so.7",
          "memcached:memcached (12 imports)", "tmux:tmux (33 imports)"]
bad = [e for e in expect if e not in out]
if r.returncode != 1 or bad:
    print("selftest FAILED: rc=%d (want 1), missing lines: %s" % (r.returncode, bad))
    sys.exit(1)
print("selftest passed: the checker sees full coverage and the leaks of Debian's libevent")

# Second proof, on five small libraries built here, each breaking one rule: core exports a
# C++ name and an internal libevent name and NEEDs libstdc++; extra and openssl export a core
# function (wrong library); the shim has a function of its own and does not NEED extra.
CC = os.environ.get("CC", "cc")
SOURCES = {
    "libevent_core": ("int event_base_new(void) { return 0; }\n"
                      "int cxx(void) __asm__(\"_ZN7reevent4core3fooEv\");\n"
                      "int cxx(void) { return 1; }\n"
                      "int event_changelist_init_(void) { return 2; }\n", ["-Wl,--no-as-needed",
                                                                     "-lstdc++"]),
    "libevent_extra": ("int event_add(void) { return 0; }\n", []),
    "libevent_pthreads": ("int evthread_use_pthreads(void) { return 0; }\n", []),
    "libevent_openssl": ("int bufferevent_openssl_get_ssl(void) { return 0; }\n"
                         "int bufferevent_free(void) { return 0; }\n", []),
    "libevent": ("static int own(void) { return 3; }\nint (*keep)(void) = own;\n", []),
}
with tempfile.TemporaryDirectory() as d:
    for base, (src, libs) in SOURCES.items():
        c = os.path.join(d, base + ".c")
        with open(c, "w") as f:
            f.write(src)
        so = base + "-2.1.so.7"
        cmd = [CC, "-shared", "-fPIC", "-o", os.path.join(d, so), c, "-Wl,-soname," + so]
        if base == "libevent":
            cmd += ["-L" + d, "-l:libevent_core-2.1.so.7", "-Wl,--no-as-needed"]
        rr = subprocess.run(cmd + libs, capture_output=True, text=True)
        if rr.returncode != 0:
            print("cannot build the fake %s: %s" % (so, rr.stderr))
            sys.exit(1)
    r = subprocess.run([sys.executable, os.path.join(here, "check_abi.py"), d],
                       capture_output=True, text=True)
print(r.stdout)
expect = ["libevent_core exports 1 name(s) that must not be there (C++ symbol)",
          "_ZN7reevent4core3fooEv",
          "libevent_core exports 1 name(s) that must not be there (internal name of libevent",
          "libevent_extra exports 1 name(s) that must not be there (API of libevent_core "
          "(event.h), wrong library)",
          "libevent-2.1.so.7 must be a code-less shim but exports",
          "libevent-2.1.so.7 contains code of its own",
          "libevent-2.1.so.7 does not NEED libevent_extra-2.1.so.7",
          "libevent_core NEEDs libstdc++.so.6",
          "libevent_openssl exports 1 name(s) that must not be there (API of libevent_core "
          "(bufferevent.h), wrong library)",
          "event.h                   1/69", "libevent_pthreads-2.1.so.7: 1/1",
          "libevent_openssl-2.1.so.7: 1/7"]
bad = [e for e in expect if e not in r.stdout]
if r.returncode != 1 or bad:
    print("selftest FAILED on the fake libraries: rc=%d (want 1), missing lines: %s"
          % (r.returncode, bad))
    sys.exit(1)
print("selftest passed: the checker catches each broken rule in the fake libraries")
