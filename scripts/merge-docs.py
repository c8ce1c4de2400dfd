#!/usr/bin/env python3
"""Builds docs/design.md and docs/semantics.md from the per-area parts in docs/parts/.

Each area keeps its own design-<area>.md and semantics-<area>.md (so engineers working in
parallel never edit the same file); this script puts them in a fixed order behind a short
introduction. Run it after editing a part; a test checks the outputs are up to date."""
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PARTS = ROOT / "docs" / "parts"
ORDER = ["core", "signals", "buffer", "bufferevent", "ssl", "netutil", "extra", "clients",
         "bench"]

INTRO = {
    "design": """# reevent design

How reevent is built, area by area. The C API (`include/`) is a thin layer of `extern "C"`
shims (`src/capi/`, one file per public header) over a C++20 core that never sees a C
handle it has to cast: the opaque handles (`event_base`, `evbuffer`, ...) are the C++ types
themselves. The libraries use no C++ runtime (no exceptions, no RTTI, no operator new; all
memory through `event_set_mem_functions`), so a C program links them with `-levent` alone.
`libevent-2.1.so.7` is a shim without code that NEEDs `libevent_core` and `libevent_extra`,
so a process never holds two copies of reevent's global state.
""",
    "semantics": """# reevent semantics

The behaviour reevent promises, rule by rule, each next to the test that proves it. Unless
a rule says otherwise it is libevent 2.1.12's documented behaviour, and its conformance test
passes against the system libevent too (ctest `libevent.<Suite>.<Test>`) as well as against
reevent (`reevent.<Suite>.<Test>`), on every backend. Deliberate differences are listed in
`tests/conformance/support/differences.h` and marked here.
""",
}


def demote(text):
    """Shifts a part's headings so its top level becomes '##' under the document title."""
    lines = text.splitlines()
    in_code = False
    levels = []
    for line in lines:
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            levels.append(len(line) - len(line.lstrip("#")))
    if not levels:
        return text
    shift = 2 - min(levels)
    out, in_code = [], False
    for line in lines:
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#") and shift:
            n = len(line) - len(line.lstrip("#"))
            line = "#" * max(1, n + shift) + line[n:]
        out.append(line)
    return "\n".join(out)


def build(kind):
    out = [INTRO[kind]]
    names = sorted(p.stem[len(kind) + 1:] for p in PARTS.glob(f"{kind}-*.md"))
    names.sort(key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
    for name in names:
        text = demote((PARTS / f"{kind}-{name}.md").read_text().strip())
        out.append(text)
    return "\n\n".join(out) + "\n"


def main():
    check = "--check" in sys.argv
    stale = []
    for kind in ("design", "semantics"):
        target = ROOT / "docs" / f"{kind}.md"
        text = build(kind)
        if check:
            if not target.exists() or target.read_text() != text:
                stale.append(str(target))
        else:
            target.write_text(text)
    if stale:
        print("out of date (run scripts/merge-docs.py):", *stale)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
