#!/usr/bin/env python3
"""Generates docs/api-coverage.md: one row per public function of the nine core headers
(event.h, event_compat.h, buffer.h, buffer_compat.h, bufferevent.h, bufferevent_compat.h,
listener.h, util.h, thread.h), of http.h, tag.h, dns.h, dns_compat.h and rpc.h (libevent_extra) and
of bufferevent_ssl.h (libevent_openssl), with its state in the build and the test that covers it.

Sources:
  (a) tests/abi/abi-symbols.txt: the libevent 2.1.12 census (library, header, symbol);
  (b) the exports of our built libraries (readelf), so "implemented" means "exported";
  (c) docs/parts/api-*.md: the area tables (| function | state | test |), for the test names.

usage:
  scripts/api-coverage.py --lib-dir build/<dir>/lib            # rewrite docs/api-coverage.md
  scripts/api-coverage.py --lib-dir build/<dir>/lib --check --out /tmp/x.md
      # write the fresh table to --out and fail (exit 1) only where a function's state
      # contradicts the build: exported but documented absent, or documented implemented but
      # not exported, in docs/api-coverage.md or in an area table.
"""

import argparse
import glob
import os
import re
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "abi"))
import elfsyms  # noqa: E402

HEADERS = ["event.h", "event_compat.h", "buffer.h", "buffer_compat.h", "bufferevent.h",
           "bufferevent_compat.h", "listener.h", "util.h", "thread.h", "http.h", "tag.h",
           "dns.h", "dns_compat.h", "rpc.h", "bufferevent_ssl.h"]
EXTRA_HEADERS = ("http.h", "tag.h", "dns.h", "dns_compat.h", "rpc.h")
OPENSSL_HEADERS = ("bufferevent_ssl.h",)
IMPLEMENTED, ABSENT = "implemented", "absent"
CLIENTS = {}


def normalise_state(s):
    s = s.strip().strip("*`_ ").lower()
    if s.startswith("impl") or s in ("done", "yes", "exported"):
        return IMPLEMENTED
    if s.startswith("absent") or s in ("missing", "no", "todo", "not implemented"):
        return ABSENT
    return s or None


def function_name(cell):
    m = re.search(r"[A-Za-z_][A-Za-z0-9_]*", cell.replace("`", ""))
    return m.group(0) if m else None


def parse_tables(paths, wanted):
    """{function: [(file, state, test)]} for table rows naming a wanted function."""
    rows = {}
    for path in paths:
        with open(path) as f:
            for line in f:
                if not line.lstrip().startswith("|"):
                    continue
                cells = [c.strip() for c in line.strip().strip("|").split("|")]
                if len(cells) < 2:
                    continue
                name = function_name(cells[0])
                if name not in wanted:
                    continue
                state = normalise_state(cells[1])
                test = cells[2] if len(cells) > 2 else ""
                rows.setdefault(name, []).append((os.path.relpath(path, ROOT), state, test))
    return rows


# End-to-end client tests (tests/clients) and the census objects (one, or a tuple of several)
# whose imports each one exercises.
CLIENT_TESTS = {"clients.reevent.memcached": "memcached:memcached",
                "clients.reevent.tmux": "tmux:tmux",
                "clients.reevent.tcpbench": "tcpbench:tcpbench",
                "clients.reevent.inetd": "openbsd-inetd:inetd",
                "clients.reevent.gearmand": "gearman-job-server:gearmand",
                "clients.reevent.unbound": "unbound:unbound",
                "clients.reevent.webdis": "webdis:webdis",
                "clients.reevent.nsd": "nsd:nsd",
                "clients.reevent.pgbouncer": "pgbouncer:pgbouncer",
                "clients.reevent.aptcacherng": ("apt-cacher-ng:apt-cacher-ng",
                                                "apt-cacher-ng:libsupacng.so"),
                "clients.reevent.lldpd": "lldpd:lldpd",
                "clients.reevent.opensmtpd": ("opensmtpd:smtpd", "opensmtpd:smtp",
                                              "opensmtpd:smtpctl"),
                "clients.reevent.coturn": ("coturn:turnserver", "coturn:turnutils_uclient",
                                           "coturn:turnutils_peer",
                                           "coturn:turnutils_stunclient"),
                "clients.reevent.redsocks": "redsocks:redsocks",
                "clients.reevent.trickled": "trickle:trickled",
                "clients.reevent.fstrm": "fstrm-bin:fstrm_capture",
                "clients.reevent.luaevent": "lua-event:liblua5.4-event.so.0.0.0",
                "clients.reevent.sslsplit": "sslsplit:sslsplit",
                "clients.reevent.tor": "tor:tor",
                "clients.reevent.evhtp": "libevhtp0:libevhtp.so.1.2.18",
                "clients.reevent.poolcounter": "poolcounter:poolcounterd",
                "clients.reevent.openmpi": ("libopenmpi3:libopen-pal.so.40.30.2",
                                            "libopenmpi3:libopen-rte.so.40.30.2",
                                            "libopenmpi3:mca-components",
                                            "libpmix2:libpmix.so.2.6.2"),
                "clients.reevent.bitlbee": "bitlbee:bitlbee",
                "clients.reevent.remctl": "remctl-server:remctl-shell",
                "clients.reevent.dnsproxy": "dnsproxy:dnsproxy",
                "clients.reevent.ustreamer": "ustreamer:ustreamer",
                "clients.reevent.tmate": "tmate:tmate",
                "clients.reevent.transmission": "transmission-daemon:transmission-daemon",
                "clients.reevent.links2": "links2:links2",
                "clients.reevent.bgplgd": "openbgpd:bgplgd",
                "clients.reevent.unboundhost": "libunbound8:libunbound.so.8.1.21",
                "clients.reevent.libevent_programs":
                    "libevent-2.1.12-stable:test-and-sample-programs"}


def client_coverage():
    """{function: [client test names]} from tests/abi/client-imports.txt."""
    path = os.path.join(ROOT, "tests", "abi", "client-imports.txt")
    by_obj = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if "\t" in line and not line.startswith("#"):
                    objs, syms = line.rstrip("\n").split("\t")
                    for o in objs.split(", "):
                        by_obj[o] = syms.split()
    cov = {}
    for test, objs in CLIENT_TESTS.items():
        for obj in (objs if isinstance(objs, tuple) else (objs,)):
            for sym in by_obj.get(obj, []):
                if test not in cov.setdefault(sym, []):
                    cov[sym].append(test)
    return cov


def build_rows(census, lib_dir, area_rows):
    core = elfsyms.exports(elfsyms.lib_file(lib_dir, "libevent_core")) \
        if elfsyms.lib_file(lib_dir, "libevent_core") else {}
    pth = elfsyms.exports(elfsyms.lib_file(lib_dir, "libevent_pthreads")) \
        if elfsyms.lib_file(lib_dir, "libevent_pthreads") else {}
    extra = elfsyms.exports(elfsyms.lib_file(lib_dir, "libevent_extra")) \
        if elfsyms.lib_file(lib_dir, "libevent_extra") else {}
    ossl = elfsyms.exports(elfsyms.lib_file(lib_dir, "libevent_openssl")) \
        if elfsyms.lib_file(lib_dir, "libevent_openssl") else {}
    per_header = {h: [] for h in HEADERS}
    for base, exported in (("libevent_core", core), ("libevent_pthreads", pth),
                           ("libevent_extra", extra), ("libevent_openssl", ossl)):
        for sym, header in census.public(base).items():
            if header not in per_header:
                continue
            state = IMPLEMENTED if sym in exported else ABSENT
            tests = [t for (_f, st, t) in area_rows.get(sym, []) if t and t not in ("-", "—")]
            if state == IMPLEMENTED:
                tests += CLIENTS.get(sym, [])
            lib = base[len("libevent_"):]
            per_header[header].append((sym, state, "; ".join(tests), lib))
    for h in per_header:
        per_header[h].sort()
    return per_header


def render(per_header):
    out = []
    have = sum(1 for rows in per_header.values() for r in rows if r[1] == IMPLEMENTED)
    total = sum(len(rows) for rows in per_header.values())
    out.append("# reevent API coverage")
    out.append("")
    out.append("Generated by `scripts/api-coverage.py` from the libevent 2.1.12 census "
               "(`tests/abi/abi-symbols.txt`), the exports of the built libraries and the area "
               "tables in `docs/parts/api-*.md` (plus the end-to-end client tests whose program "
               "imports the function). *implemented* means exported by the build "
               "(reevent exports only what works and is tested); *absent* means not exported. "
               "The ctest test `abi.api_coverage_doc` fails when this file says a function is "
               "absent that the build exports, or the other way round: rerun the script after "
               "adding a function.")
    out.append("")
    core_rows = [r for h in HEADERS if h not in EXTRA_HEADERS + OPENSSL_HEADERS
                 for r in per_header[h]]
    ssl_rows = [r for h in OPENSSL_HEADERS for r in per_header[h]]
    ssl_have = sum(1 for r in ssl_rows if r[1] == IMPLEMENTED)
    core_have = sum(1 for r in core_rows if r[1] == IMPLEMENTED)
    out.append("**Overall: %d/%d public functions (%.1f%%)** of the core headers and "
               "libevent_pthreads; with http.h, tag.h, dns.h, dns_compat.h and rpc.h (libevent_extra: "
               "tag.h, rpc.h, the dns headers and http.h whole) and "
               "bufferevent_ssl.h "
               "(libevent_openssl: %d/%d) %d/%d."
               % (core_have, len(core_rows), 100.0 * core_have / len(core_rows) if core_rows else 0,
                  ssl_have, len(ssl_rows), have, total))
    out.append("")
    out.append("| header | implemented | total | coverage |")
    out.append("|---|---|---|---|")
    for h in HEADERS:
        rows = per_header[h]
        n = sum(1 for r in rows if r[1] == IMPLEMENTED)
        out.append("| %s | %d | %d | %.1f%% |" % (h, n, len(rows),
                                                   100.0 * n / len(rows) if rows else 0))
    out.append("")
    for h in HEADERS:
        rows = per_header[h]
        n = sum(1 for r in rows if r[1] == IMPLEMENTED)
        out.append("## %s (%d/%d)" % (h, n, len(rows)))
        out.append("")
        out.append("| function | state | test |")
        out.append("|---|---|---|")
        for sym, state, test, lib in rows:
            name = "`%s`" % sym + {"pthreads": " (libevent_pthreads)",
                                   "openssl": " (libevent_openssl)"}.get(lib, "")
            out.append("| %s | %s | %s |" % (name, state, test or "—"))
        out.append("")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib-dir", required=True)
    ap.add_argument("--symbols", default=os.path.join(ROOT, "tests", "abi", "abi-symbols.txt"))
    ap.add_argument("--doc", default=os.path.join(ROOT, "docs", "api-coverage.md"))
    ap.add_argument("--out", help="where to write (default: --doc)")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()

    census = elfsyms.Census(args.symbols)
    CLIENTS.update(client_coverage())
    wanted = set(census.public("libevent_core")) | set(census.public("libevent_pthreads")) | \
        set(census.public("libevent_extra")) | set(census.public("libevent_openssl"))
    area_files = sorted(glob.glob(os.path.join(ROOT, "docs", "parts", "api-*.md")))
    area_rows = parse_tables(area_files, wanted)
    per_header = build_rows(census, args.lib_dir, area_rows)
    text = render(per_header)
    # --check never rewrites the committed file it is checking.
    out = args.out or (os.path.join(tempfile.gettempdir(), "api-coverage.check.md")
                       if args.check else args.doc)
    with open(out, "w") as f:
        f.write(text + "\n")
    have = sum(1 for rows in per_header.values() for r in rows if r[1] == IMPLEMENTED)
    total = sum(len(rows) for rows in per_header.values())
    print("api-coverage: %d/%d public functions (%.1f%%), written to %s"
          % (have, total, 100.0 * have / total, out))
    for h in HEADERS:
        rows = per_header[h]
        n = sum(1 for r in rows if r[1] == IMPLEMENTED)
        print("  %-22s %3d/%-3d" % (h, n, len(rows)))

    state = {r[0]: r[1] for rows in per_header.values() for r in rows}
    untested = sorted(s for s, st in state.items()
                      if st == IMPLEMENTED and not any(t for (_f, _s, t) in area_rows.get(s, [])
                                                       if t and t not in ("-", "—")))
    if untested:
        print("note: exported but no test named in docs/parts/api-*.md: " + " ".join(untested))
    if not args.check:
        return 0

    problems = []
    # Area tables: a row's state must agree with the build.
    for sym, entries in sorted(area_rows.items()):
        for fname, st, _t in entries:
            if st in (IMPLEMENTED, ABSENT) and st != state[sym]:
                problems.append("%s: %s says %s, the build has it %s"
                                % (sym, fname, st, state[sym]))
    # The committed docs/api-coverage.md must agree with the build.
    if not os.path.exists(args.doc):
        problems.append("%s does not exist: run scripts/api-coverage.py" % args.doc)
    else:
        documented = parse_tables([args.doc], wanted)
        for sym in sorted(wanted):
            sts = [st for (_f, st, _t) in documented.get(sym, [])]
            if not sts:
                continue  # a row that is missing is not a contradiction
            if sts[0] != state[sym]:
                problems.append("%s: docs/api-coverage.md says %s, the build has it %s"
                                % (sym, sts[0], state[sym]))
    if problems:
        print("api-coverage check FAILED (%d contradiction(s)); fix the tables or rerun "
              "scripts/api-coverage.py --lib-dir <build>/lib:" % len(problems))
        for p in problems:
            print("  " + p)
        return 1
    print("api-coverage check passed: documented states agree with the build")
    return 0


if __name__ == "__main__":
    sys.exit(main())
