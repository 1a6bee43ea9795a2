#!/usr/bin/env bash
# Creates, once, the Debian trixie chroot that holds the Swift toolchain
# (Debian 12 has no Swift; trixie's `swiftlang` 6.0.3 runs a library built on
# Debian 12). Needs root. Idempotent: a complete chroot is reused; a partial
# one (an interrupted run) is built again in a temporary folder and only
# renamed into place when swiftc works, so the cache is never half-made.
#
#   bash bindings/swift/chroot.sh [DIR]      # default: .cache/swift-chroot
set -euo pipefail
cd "$(dirname "$0")/../.."
root=${1:-.cache/swift-chroot}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

ready=.nib-swift-ready
if [ -f "$root/$ready" ]; then
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "swift chroot: needs root (debootstrap, chroot)" >&2; exit 1; }
command -v debootstrap >/dev/null || {
  apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null
}

tmp="$root.partial"
# Nothing is ever mounted under $tmp outside this function, but be sure
# before deleting it.
if [ -d "$tmp" ]; then
  grep -q " $(realpath "$tmp")/" /proc/mounts && { echo "swift chroot: $tmp has mounts" >&2; exit 1; }
  rm -rf "$tmp"
fi
mkdir -p "$(dirname "$tmp")"
start=$SECONDS
echo "swift chroot: debootstrap trixie into $tmp" >&2
debootstrap --variant=minbase trixie "$tmp" "$mirror" >"$tmp.log" 2>&1 \
  || { tail -20 "$tmp.log" >&2; exit 1; }
echo "swift chroot: debootstrap took $((SECONDS - start)) s" >&2
step=$SECONDS
mount -t proc proc "$tmp/proc"
trap 'umount "$tmp/proc" 2>/dev/null || true' EXIT
chroot "$tmp" /usr/bin/env DEBIAN_FRONTEND=noninteractive \
  bash -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends swiftlang libc6-dev >/dev/null && apt-get clean' \
  >>"$tmp.log" 2>&1 || { tail -20 "$tmp.log" >&2; exit 1; }
# The check that the cache is usable: compile and run a program.
mkdir -p "$tmp/tmp/hello"
echo 'print("swift works")' >"$tmp/tmp/hello/main.swift"
chroot "$tmp" bash -c 'cd /tmp/hello && swiftc main.swift -o hello && ./hello' >&2
rm -rf "$tmp/tmp/hello"
chroot "$tmp" swiftc --version 2>&1 | head -1 >&2
touch "$tmp/$ready"
umount "$tmp/proc"
trap - EXIT
echo "swift chroot: swiftlang took $((SECONDS - step)) s" >&2
rm -f "$tmp.log"
mv "$tmp" "$root"
echo "swift chroot: ready in $((SECONDS - start)) s" >&2
