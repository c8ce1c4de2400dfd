#!/usr/bin/env python3
"""ABI check of reevent's shared libraries against libevent 2.1.12 (Debian bookworm).

Fails (exit 1) when the binary promise is broken in a way a Debian program would notice:
  - a library is missing or its SONAME is not libevent_<x>-2.1.so.7;
  - a library exports a name that is not public API of the same libevent library (an
    internal libevent name, a C++ runtime or reevent-internal symbol, or an API function of
    another library: the wrong library);
  - an API function is exported as data instead of a function;
  - libevent-2.1.so.7 has code or exports of its own, or does not NEED core and extra;
  - a library NEEDs libstdc++ (or a libevent library that is not ours);
  - a library imports a libevent name none of its NEEDED libraries exports.
A public function that is simply not exported yet is reported, never failed: coverage per
header and overall is printed instead.

usage: check_abi.py LIB_DIR [--symbols abi-symbols.txt] [--clients client-imports.txt]
"""

import argparse
import os
import sys
import textwrap

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import elfsyms  # noqa: E402

# Runtime libraries our libraries may NEED (libc family; sanitizer runtimes in sanitizer
# builds). Anything else is reported; libstdc++ is a failure.
ALLOWED_SYSTEM_NEEDED = ("libc.so", "libpthread.so", "libm.so", "libdl.so", "librt.so",
                         "libssl.so", "libcrypto.so",  # libevent_openssl's, as Debian's
                         "ld-linux", "libasan.so", "libubsan.so", "libtsan.so",
                         "liblsan.so", "libgcc_s.so")
# libevent's own names for core's allocation helpers: its core exports them so that extra,
# openssl and pthreads allocate through event_set_mem_functions, and reevent's core exports
# them for its libevent_extra for the same reason (src/core/mm_abi.h). Likewise the two
# setters through which libevent_extra's evdns gives core an asynchronous getaddrinfo for
# bufferevent_socket_connect_hostname, and the two general-log entries evdns logs through
# (src/core/addon_abi.h). Only these.
CORE_HELPERS_FOR_ADDONS = {"event_mm_malloc_", "event_mm_calloc_", "event_mm_realloc_",
                           "event_mm_strdup_", "event_mm_free_",
                           "evutil_set_evdns_getaddrinfo_fn_",
                           "evutil_set_evdns_getaddrinfo_cancel_fn_",
                           "event_warnx", "event_msgx"}
# libevent-internal names libevent's core exports that programs and test suites written
# against libevent call directly (its regress suite does): small pure helpers, the log
# entries of log-internal.h and three small loop entries (active-later, virtual events),
# exported by reevent's core with libevent's behaviour for binary compatibility
# (src/util/internal_abi.cpp, src/core/log_abi.cpp, src/core/internal_abi.cpp). Only these.
CORE_INTERNALS_FOR_PROGRAMS = {
    "EVUTIL_ISALPHA_", "EVUTIL_ISALNUM_", "EVUTIL_ISSPACE_", "EVUTIL_ISDIGIT_",
    "EVUTIL_ISXDIGIT_", "EVUTIL_ISPRINT_", "EVUTIL_ISLOWER_", "EVUTIL_ISUPPER_",
    "EVUTIL_TOUPPER_", "EVUTIL_TOLOWER_", "evutil_rtrim_lws_", "evutil_v4addr_is_local_",
    "evutil_v6addr_is_local_", "evutil_sockaddr_is_loopback_", "evutil_format_sockaddr_port_",
    "evutil_configure_monotonic_time_", "evutil_gettime_monotonic_",
    "event_logv_", "event_warn", "event_sock_warn", "event_debugx_", "event_err", "event_errx",
    "event_sock_err", "event_active_later_", "event_base_add_virtual_",
    "event_base_del_virtual_"}
CRT_FUNCTIONS = {"_init", "_fini", "deregister_tm_clones", "register_tm_clones",
                 "__do_global_dtors_aux", "frame_dummy", "_start"}


def wrap(names, indent="      "):
    return textwrap.fill(" ".join(sorted(names)), width=100, initial_indent=indent,
                         subsequent_indent=indent)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("lib_dir")
    ap.add_argument("--symbols", default=os.path.join(here, "abi-symbols.txt"))
    ap.add_argument("--clients", default=os.path.join(here, "client-imports.txt"))
    ap.add_argument("--list-missing", action="store_true",
                    help="print every missing public function, not only per-header counts")
    args = ap.parse_args()

    census = elfsyms.Census(args.symbols)
    failures = []

    def fail(msg):
        failures.append(msg)
        print("FAIL: " + msg)

    print("reevent ABI check: %s against libevent 2.1.12 (%s)" % (args.lib_dir, args.symbols))
    paths = {}
    for base in elfsyms.OUR_LIBS:
        p = elfsyms.lib_file(args.lib_dir, base)
        if p is None:
            fail("%s-%s not found in %s" % (base, elfsyms.SOVER, args.lib_dir))
            continue
        paths[base] = p
        soname, _ = elfsyms.dynamic_tags(p)
        want = "%s-%s" % (base, elfsyms.SOVER)
        if soname != want:
            fail("%s has SONAME %r, Debian programs NEED %r" % (p, soname, want))
    if failures:
        return 1

    own = {b: elfsyms.exports(p) for b, p in paths.items()}
    needed = {b: elfsyms.dynamic_tags(p)[1] for b, p in paths.items()}

    # 1. Nothing exported that is not public API of that same library.
    for base in ("libevent_core", "libevent_extra", "libevent_pthreads", "libevent_openssl"):
        api = census.public(base)
        bad = {}
        for name, (typ, _bind) in sorted(own[base].items()):
            if (base == "libevent_core" and typ == "FUNC" and
                    (name in CORE_HELPERS_FOR_ADDONS or name in CORE_INTERNALS_FOR_PROGRAMS)):
                continue
            if name in api:
                if typ != "FUNC":
                    fail("%s exports API function %s as %s" % (base, name, typ))
                continue
            home, header = census.home_of(name)
            if home is None:
                why = "C++ symbol" if name.startswith("_Z") else "not libevent API"
            elif header == "(internal)":
                why = "internal name of libevent (not API)"
            else:
                why = "API of %s (%s), wrong library" % (home, header)
            bad.setdefault(why, []).append(name)
        for why, names in bad.items():
            fail("%s exports %d name(s) that must not be there (%s):\n%s"
                 % (base, len(names), why, wrap(names)))

    # 2. The shim: no exports, no code of its own, NEEDs core and extra.
    shim = "libevent"
    if own[shim]:
        fail("libevent-2.1.so.7 must be a code-less shim but exports:\n%s" % wrap(own[shim]))
    # (sanitizer builds add module constructors such as _sub_I_00099_0: compiler-made)
    funcs = {f for f in elfsyms.symtab_functions(paths[shim]) - CRT_FUNCTIONS
             if not f.startswith(("_sub_I_", "_sub_D_")) and "module_ctor" not in f
             and "module_dtor" not in f}
    if funcs:
        fail("libevent-2.1.so.7 contains code of its own:\n%s" % wrap(funcs))
    for n in ("libevent_core-2.1.so.7", "libevent_extra-2.1.so.7"):
        if n not in needed[shim]:
            fail("libevent-2.1.so.7 does not NEED %s" % n)

    # 3. NEEDED entries: ours only for libevent, never the C++ runtime.
    for base, ns in needed.items():
        for n in ns:
            if n.startswith("libstdc++"):
                fail("%s NEEDs %s: the libraries must not depend on the C++ runtime" % (base, n))
            elif n.startswith("libevent"):
                if not os.path.exists(os.path.join(args.lib_dir, n)) or \
                        n not in ("libevent_core-2.1.so.7", "libevent_extra-2.1.so.7"):
                    fail("%s NEEDs %s, which is not one of our core/extra libraries" % (base, n))
            elif not n.startswith(ALLOWED_SYSTEM_NEEDED):
                print("note: %s NEEDs %s" % (base, n))

    # 4. Imports of libevent names must be satisfied by what the library NEEDs.
    all_names = census.all_names()
    for base, p in paths.items():
        _, undef = elfsyms.dyn_symbols(p)
        wanted = {u for u in undef if u in all_names}
        if not wanted:
            continue
        avail = {}
        for n in needed[base]:
            if n.startswith("libevent"):
                avail.update(elfsyms.effective_exports(args.lib_dir, n[: -len(elfsyms.SOVER) - 1]))
        unresolved = wanted - set(avail)
        if unresolved:
            fail("%s imports libevent names its NEEDED libraries do not export:\n%s"
                 % (base, wrap(unresolved)))

    # Report: coverage per header, per library and overall (never a failure).
    print()
    print("Coverage of the public API (exported/total), per header:")
    totals = {}
    missing_by_header = {}
    for base in ("libevent_core", "libevent_pthreads", "libevent_extra", "libevent_openssl"):
        per_header = {}
        for sym, header in census.public(base).items():
            have, tot = per_header.get(header, (0, 0))
            present = sym in own[base]
            per_header[header] = (have + present, tot + 1)
            if not present:
                missing_by_header.setdefault((base, header), []).append(sym)
        h_all = sum(v[0] for v in per_header.values())
        t_all = sum(v[1] for v in per_header.values())
        totals[base] = (h_all, t_all)
        print("  %s-%s: %d/%d" % (base, elfsyms.SOVER, h_all, t_all))
        for header in sorted(per_header):
            h, t = per_header[header]
            print("    %-22s %4d/%-4d (%5.1f%%)" % (header, h, t, 100.0 * h / t))
            if args.list_missing and (base, header) in missing_by_header and h:
                print("      missing:")
                print(wrap(missing_by_header[(base, header)], "        "))
    # The shim counts through its NEEDED libraries.
    shim_eff = elfsyms.effective_exports(args.lib_dir, shim)
    shim_api = census.public(shim)
    shim_have = sum(1 for s in shim_api if s in shim_eff)
    print("  libevent-2.1.so.7 (through NEEDED core+extra): %d/%d" % (shim_have, len(shim_api)))

    ch, ct = totals["libevent_core"]
    ph, pt = totals["libevent_pthreads"]
    eh, et = totals["libevent_extra"]
    print()
    print("api-coverage core+pthreads (event, event_compat, buffer, buffer_compat, bufferevent,"
          " bufferevent_compat, listener, util, thread): %d/%d (%.1f%%)"
          % (ch + ph, ct + pt, 100.0 * (ch + ph) / (ct + pt)))
    print("api-coverage core+extra+pthreads: %d/%d (%.1f%%)"
          % (ch + ph + eh, ct + pt + et, 100.0 * (ch + ph + eh) / (ct + pt + et)))
    oh, ot = totals["libevent_openssl"]
    print("api-coverage openssl (bufferevent_ssl): %d/%d (%.1f%%)" % (oh, ot, 100.0 * oh / ot))

    # Which Debian programs could start (BIND_NOW) on these libraries today.
    if os.path.exists(args.clients):
        union = elfsyms.all_our_exports(args.lib_dir)
        ready, waiting = [], []
        with open(args.clients) as f:
            for line in f:
                if line.startswith("#") or "\t" not in line:
                    continue
                objs, syms = line.rstrip("\n").split("\t")
                miss = [s for s in syms.split() if s not in union]
                (waiting if miss else ready).append((objs, len(syms.split()), miss))
        print()
        print("Debian client objects whose every libevent import is exported: %d of %d"
              % (len(ready), len(ready) + len(waiting)))
        for objs, n, _ in ready:
            print("  ready:   %s (%d imports)" % (objs, n))
        for objs, n, miss in waiting:
            print("  waiting: %s (%d of %d imports missing)" % (objs, len(miss), n))

    print()
    if failures:
        print("ABI check FAILED: %d problem(s)" % len(failures))
        return 1
    print("ABI check passed (missing API functions are reported above, not failed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
