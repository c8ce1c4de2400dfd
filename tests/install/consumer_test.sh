#!/usr/bin/env bash
# Installs the build into a scratch prefix, then builds and runs a C consumer against the
# installed files: pkg-config shared, pkg-config static, find_package shared and static.
# Usage: consumer_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(dirname "$(find "$prefix" -name libevent_core.pc | head -1)")/..
libdir=$(cd "$libdir" && pwd)
export PKG_CONFIG_PATH=$libdir/pkgconfig PKG_CONFIG_LIBDIR=$libdir/pkgconfig
cc=${CC:-cc}
fail=0
check() {  # name, binary
    local out
    if out=$("$2" 2>&1) && grep -q "consumer: read timer" <<<"$out"; then
        echo "ok   $1: $out"
    else
        echo "FAIL $1: $out"; fail=1
    fi
}

# 1. pkg-config, shared: must load the installed libevent-2.1.so.7 and, through it, the
# installed halves too, not the system's (checked with ldd; its output is kept in a variable:
# `ldd | grep -q` under pipefail fails whenever grep exits before ldd has written it all).
$cc -o "$work/c_shared" "$src/tests/install/consumer.c" $(pkg-config --cflags --libs libevent) \
    -Wl,-rpath,"$libdir"
deps=$(ldd "$work/c_shared")
for lib in libevent-2.1.so.7 libevent_core-2.1.so.7 libevent_extra-2.1.so.7; do
    if ! grep -q "$lib => $libdir/" <<<"$deps"; then
        echo "FAIL pkg-config shared: $lib does not resolve to $libdir"; echo "$deps"; fail=1
    fi
done
check "pkg-config shared" "$work/c_shared"

# 2. pkg-config --static: every libevent library linked in, no libevent*.so needed.
$cc -o "$work/c_static" "$src/tests/install/consumer.c" $(pkg-config --cflags libevent) \
    -Wl,-Bstatic $(pkg-config --static --libs-only-L --libs-only-l libevent | sed 's/-lpthread//') \
    -Wl,-Bdynamic $(pkg-config --static --libs-only-l libevent | grep -o -- '-lpthread' || true)
if grep -q libevent <<<"$(ldd "$work/c_static")"; then
    echo "FAIL pkg-config static: still needs a shared libevent"; fail=1
fi
check "pkg-config static" "$work/c_static"

# 3. find_package(Libevent), shared and static.
for flavour in shared static; do
    cmake -S "$src/tests/install/cmake_consumer" -B "$work/cm_$flavour" -DFLAVOUR=$flavour \
        -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" >/dev/null
    cmake --build "$work/cm_$flavour" >/dev/null
    check "find_package $flavour" "$work/cm_$flavour/consumer"
done
# 5 (here, before the README). libevent_openssl through pkg-config, shared and static: the
# installed library and, through its RUNPATH, the installed core; nothing of the system's.
$cc -o "$work/ssl_shared" "$src/tests/install/ssl_consumer.c" \
    $(pkg-config --cflags --libs libevent_openssl) -lssl -lcrypto -Wl,-rpath,"$libdir"
deps=$(ldd "$work/ssl_shared")
for lib in libevent_openssl-2.1.so.7 libevent_core-2.1.so.7; do
    if ! grep -q "$lib => $libdir/" <<<"$deps"; then
        echo "FAIL pkg-config ssl shared: $lib does not resolve to $libdir"; echo "$deps"; fail=1
    fi
done
if out=$("$work/ssl_shared" 2>&1) && grep -q "consumer: ssl ok" <<<"$out"; then
    echo "ok   pkg-config ssl shared: $out"
else
    echo "FAIL pkg-config ssl shared: $out"; fail=1
fi
$cc -o "$work/ssl_static" "$src/tests/install/ssl_consumer.c" $(pkg-config --cflags libevent_openssl) \
    -Wl,-Bstatic $(pkg-config --static --libs-only-L --libs-only-l libevent_openssl |
                   sed 's/-lpthread//; s/-lssl//; s/-lcrypto//') \
    -Wl,-Bdynamic -lssl -lcrypto -lpthread
if grep -q libevent <<<"$(ldd "$work/ssl_static")"; then
    echo "FAIL pkg-config ssl static: still needs a shared libevent"; fail=1
fi
if out=$("$work/ssl_static" 2>&1) && grep -q "consumer: ssl ok" <<<"$out"; then
    echo "ok   pkg-config ssl static: $out"
else
    echo "FAIL pkg-config ssl static: $out"; fail=1
fi
# find_package(Libevent COMPONENTS openssl), shared and static.
for flavour in shared static; do
    cmake -S "$src/tests/install/cmake_consumer" -B "$work/cmssl_$flavour" -DFLAVOUR=$flavour \
        -DWITH_OPENSSL=ON -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" >/dev/null
    cmake --build "$work/cmssl_$flavour" >/dev/null
    if out=$("$work/cmssl_$flavour/ssl_consumer" 2>&1) && grep -q "consumer: ssl ok" <<<"$out"; then
        echo "ok   find_package openssl $flavour: $out"
    else
        echo "FAIL find_package openssl $flavour: $out"; fail=1
    fi
done
# 4. The README's example, exactly as printed there.
sed -n '/^```c$/,/^```$/p' "$src/README.md" | sed '1d;$d' > "$work/readme.c"
$cc -o "$work/readme" "$work/readme.c" $(pkg-config --cflags --libs libevent) -Wl,-rpath,"$libdir"
if out=$(timeout 20 "$work/readme") && grep -q "tick, 0 to go" <<<"$out" && grep -q "backend: epoll" <<<"$out"; then
    echo "ok   README example"
else
    echo "FAIL README example: $out"; fail=1
fi
exit $fail
