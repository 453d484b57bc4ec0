#!/usr/bin/env bash
# Builds two CPython interpreters from one release tarball, with the same flags: the default
# build (with the GIL) and the free-threaded one (--disable-gil, PEP 703). Same source, same
# flags, GIL on or off: gilbench measures the single-thread cost of free-threading cleanly.
#
# The tarball is CPython's own release, taken from Debian's package registry, where it is the
# `.orig` file of the python3.13 source package (pool/main/p/python3.13/); the mirror comes from
# this machine's apt configuration. Its sha256 (from Debian's signed Sources index) is checked
# before anything is unpacked.
#
#   bash scripts/build-python.sh            # both builds; prints their paths
#   GILBENCH_PYTHON_VERSION=3.13.5 bash scripts/build-python.sh
#
# Result: $ROOT/<version>/bin/python3 and $ROOT/<version>t/bin/python3 (also python3.13t), where
# ROOT = $GILBENCH_PYTHONS_DIR, else $CACHE/pythons (CACHE = $GILBENCH_CACHE_DIR, else
# ${XDG_CACHE_HOME:-~/.cache}/gilbench); `gilbench list --pythons` finds them there (the same
# two variables, engine/environment.py pythons_dir). Idempotent (a build with its stamp is kept)
# and safe to run concurrently (flock). Exit 0 with both paths printed on stdout, the default
# build's first; exit 1 with the reason on stderr.
set -euo pipefail

declare -A SHA256=(
  [3.13.15]=1e66a7945a48390ee4c2a4268a0e4185884059a13c4aab6d148aa208deea4a76
  [3.13.5]=93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640
)
VERSIONS=("${GILBENCH_PYTHON_VERSION:-3.13.15}" 3.13.5)  # the second: Debian 13's, the fallback
CACHE=${GILBENCH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gilbench}
ROOT=${GILBENCH_PYTHONS_DIR:-$CACHE/pythons}
mkdir -p "$ROOT"

say() { echo "build-python: $*" >&2; }
die() { say "$*"; exit 1; }

missing_deps() {
  local out=()
  for tool in gcc make xz tar sha256sum curl; do
    command -v "$tool" >/dev/null || out+=("$tool")
  done
  # Headers for the standard library's extension modules (ssl, ctypes, zlib, sqlite3, bz2, lzma,
  # readline, curses, uuid); without them the build "succeeds" with modules missing.
  for pkg in libssl-dev libffi-dev zlib1g-dev libsqlite3-dev libbz2-dev liblzma-dev \
             libreadline-dev libncurses-dev uuid-dev; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || out+=("$pkg")
  done
  echo "${out[*]}"
}

debian_mirror() {
  # The first Debian archive (not -security) in apt's deb822 or one-line sources.
  local uri
  uri=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | awk '{print $2}' | grep -v -- '-security' | head -1 || true)
  if [ -z "$uri" ]; then
    uri=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
          | awk '{print $2}' | grep -v -- '-security' | head -1 || true)
  fi
  [ -n "$uri" ] || return 1
  echo "${uri%/}"
}

built() { [ -f "$1/.gilbench-built" ] && [ -x "$(interp "$1")" ]; }

interp() {  # prefix -> its interpreter (a free-threaded install names it python3.13t)
  local name
  for name in python3 python3.13t python3.13; do
    [ -x "$1/bin/$name" ] && { echo "$1/bin/$name"; return 0; }
  done
  echo "$1/bin/python3"
}

fetch_source() {  # version -> path of a verified tarball (cached)
  local version=$1 tarball="$ROOT/src/python3.13_$1.orig.tar.xz" mirror
  mkdir -p "$ROOT/src"
  if [ -f "$tarball" ] && echo "${SHA256[$version]}  $tarball" | sha256sum -c --quiet - 2>/dev/null; then
    echo "$tarball"; return 0
  fi
  mirror=$(debian_mirror) || { say "no Debian mirror in /etc/apt/sources.list*"; return 1; }
  say "downloading CPython $version from $mirror (Debian's python3.13 source package)"
  curl -fsSL --retry 2 -o "$tarball.part" \
    "$mirror/pool/main/p/python3.13/python3.13_$version.orig.tar.xz" || { rm -f "$tarball.part"; return 1; }
  if ! echo "${SHA256[$version]}  $tarball.part" | sha256sum -c --quiet - 2>/dev/null; then
    rm -f "$tarball.part"; say "checksum mismatch for CPython $version: not using it"; return 1
  fi
  mv "$tarball.part" "$tarball"
  echo "$tarball"
}

build_one() {  # version flavour(""|t) tarball
  local version=$1 flavour=$2 tarball=$3 prefix="$ROOT/$1$2" work flags=()
  built "$prefix" && return 0
  [ "$flavour" = t ] && flags+=(--disable-gil)
  work=$(mktemp -d "$ROOT/build-XXXXXX")
  trap 'rm -rf "$work"' RETURN
  say "building CPython $version$flavour into $prefix (configure, make -j$(nproc), install; a few minutes)"
  tar -xJf "$tarball" -C "$work" --strip-components=1
  rm -rf "$prefix"
  local start=$SECONDS log="$work/build.log"
  if ! (cd "$work" && ./configure --prefix="$prefix" "${flags[@]}" --with-ensurepip=install \
          >"$log" 2>&1 && make -j"$(nproc)" >>"$log" 2>&1 && make install >>"$log" 2>&1); then
    tail -20 "$log" >&2
    die "building CPython $version$flavour failed (log above)"
  fi
  "$(interp "$prefix")" -c "import ssl, ctypes, zlib, sqlite3, bz2, lzma, uuid" \
    || die "CPython $version$flavour built without some standard modules (missing headers?)"
  touch "$prefix/.gilbench-built"
  say "CPython $version$flavour built in $((SECONDS - start)) s"
}

exec 9>"$ROOT/.lock"
flock 9  # another build-python.sh finishes first; its builds are then reused

for version in "${VERSIONS[@]}"; do
  if built "$ROOT/$version" && built "$ROOT/${version}t"; then
    interp "$ROOT/$version"; interp "$ROOT/${version}t"; exit 0
  fi
done
deps=$(missing_deps)
[ -z "$deps" ] || die "missing build dependencies: $deps (Debian: apt-get install $deps)"
for version in "${VERSIONS[@]}"; do
  tarball=$(fetch_source "$version") || { say "CPython $version unavailable; trying the next"; continue; }
  build_one "$version" "" "$tarball"
  build_one "$version" t "$tarball"
  gil=$("$(interp "$ROOT/${version}t")" -c "import sys; print(sys._is_gil_enabled())")
  [ "$gil" = False ] || die "$ROOT/${version}t is not free-threaded (sys._is_gil_enabled() = $gil)"
  interp "$ROOT/$version"; interp "$ROOT/${version}t"
  exit 0
done
die "no CPython source could be fetched (tried ${VERSIONS[*]})"
