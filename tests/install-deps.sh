#!/usr/bin/env bash
# Installs the Debian packages the test suite needs (the system libevent for the reference
# side, GoogleTest, Google Benchmark, clang for fuzzing, and the programs the client tests
# run, listed in tests/ci-packages.txt). Does nothing when all are present.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=(cmake ninja-build g++ clang pkg-config libevent-dev googletest libgtest-dev libgmock-dev
      libbenchmark-dev python3 binutils)
if [ -f tests/ci-packages.txt ]; then
  while read -r p; do
    p=${p%%#*}; p=${p//[[:space:]]/}
    [ -n "$p" ] && pkgs+=("$p")
  done < tests/ci-packages.txt
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "tests need: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
