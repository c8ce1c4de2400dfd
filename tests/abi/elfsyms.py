"""Small readers for ELF dynamic-symbol facts (binutils readelf) and the libevent 2.1.12
symbol census (abi-symbols.txt), shared by the ABI check, the API-coverage generator and the
client tests. Only the standard library and readelf are needed, so CI needs nothing else."""

import os
import subprocess
from collections import OrderedDict

SOVER = "2.1.so.7"
# The five libraries reevent builds, in the order reports print them.
OUR_LIBS = ["libevent_core", "libevent_extra", "libevent_pthreads", "libevent_openssl",
            "libevent"]
# Names the static linker may define in any shared object; they are not part of an API.
LINKER_NAMES = {"_init", "_fini", "_edata", "_end", "__bss_start"}

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SYMBOLS = os.path.join(HERE, "abi-symbols.txt")


def _readelf(args):
    return subprocess.run(["readelf"] + args, check=True, capture_output=True,
                          text=True).stdout


def dyn_symbols(path):
    """Return (defined, undefined): defined maps name -> (type, bind); undefined is a set.
    Version suffixes (name@VER) are stripped."""
    defined, undefined = {}, set()
    for line in _readelf(["-W", "--dyn-syms", path]).splitlines():
        f = line.split()
        if len(f) < 8 or not f[0].endswith(":") or not f[0][:-1].isdigit():
            continue
        name = f[7].split("@")[0]
        typ, bind, ndx = f[3], f[4], f[6]
        if ndx == "UND":
            if name:
                undefined.add(name)
            continue
        if bind in ("GLOBAL", "WEAK", "GNU_UNIQUE") and name:
            defined[name] = (typ, bind)
    return defined, undefined


def exports(path):
    """Defined global dynamic symbols of one file, minus linker-generated names."""
    d, _ = dyn_symbols(path)
    return {k: v for k, v in d.items() if k not in LINKER_NAMES}


def dynamic_tags(path):
    """(soname, [needed...]) of one shared object or executable."""
    soname, needed = None, []
    for line in _readelf(["-d", path]).splitlines():
        if "(SONAME)" in line:
            soname = line.split("[", 1)[1].rstrip("]")
        elif "(NEEDED)" in line:
            needed.append(line.split("[", 1)[1].rstrip("]"))
    return soname, needed


def symtab_functions(path):
    """Names of FUNC symbols in the static .symtab (empty if the file is stripped)."""
    out = subprocess.run(["readelf", "-W", "--syms", path], capture_output=True,
                         text=True).stdout
    names, in_symtab = set(), False
    for line in out.splitlines():
        if line.startswith("Symbol table"):
            in_symtab = "'.symtab'" in line
            continue
        f = line.split()
        if in_symtab and len(f) >= 8 and f[3] == "FUNC" and f[6] != "UND":
            names.add(f[7].split("@")[0])
    return names


def lib_file(lib_dir, base):
    """Path of our library 'base' (e.g. libevent_core) by its SONAME name, or None."""
    p = os.path.join(lib_dir, "%s-%s" % (base, SOVER))
    return p if os.path.exists(p) else None


def effective_exports(lib_dir, base, _seen=None):
    """Exports of a library plus those of the libevent libraries it NEEDs in lib_dir (what a
    client that NEEDs it can bind to: the shim libevent-2.1.so.7 has none of its own)."""
    seen = _seen if _seen is not None else set()
    path = lib_file(lib_dir, base)
    if path is None or base in seen:
        return {}
    seen.add(base)
    result = dict(exports(path))
    for n in dynamic_tags(path)[1]:
        if n.startswith("libevent") and n.endswith(SOVER):
            result.update(effective_exports(lib_dir, n[: -len(SOVER) - 1], seen))
    return result


def all_our_exports(lib_dir):
    result = {}
    for b in OUR_LIBS:
        path = lib_file(lib_dir, b)
        if path:
            result.update(exports(path))
    return result


class Census:
    """The libevent 2.1.12 census: per library, symbol -> declaring header, where the header
    '(internal)' marks an exported name that no public header declares."""

    def __init__(self, path=DEFAULT_SYMBOLS):
        self.by_lib = OrderedDict()
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) != 3 or line.startswith("#"):
                    continue
                lib, header, sym = parts
                base = lib[: -len(SOVER) - 1] if lib.endswith(SOVER) else lib
                self.by_lib.setdefault(base, OrderedDict())[sym] = header

    def public(self, base):
        """OrderedDict symbol -> header of the public API of one library."""
        return OrderedDict((s, h) for s, h in self.by_lib.get(base, {}).items()
                           if h != "(internal)")

    def home_of(self, sym):
        """The library (core/extra/pthreads/openssl, not the libevent union) declaring sym."""
        for base in ("libevent_core", "libevent_extra", "libevent_pthreads",
                     "libevent_openssl"):
            if sym in self.by_lib.get(base, {}):
                return base, self.by_lib[base][sym]
        return None, None

    def all_names(self):
        names = set()
        for syms in self.by_lib.values():
            names.update(syms)
        return names
