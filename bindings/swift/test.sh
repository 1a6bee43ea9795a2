#!/usr/bin/env bash
# Swift binding tests. Debian 12 has no Swift, so they run in a Debian
# trixie chroot with its `swiftlang` (made once by chroot.sh under
# .cache/swift-chroot and reused). Needs root for chroot and mounts: /proc,
# and read-only bind mounts of the checkout, the generated bindings
# ($NIB_BINDINGS/swift, from bindings/generate.sh) and the packs. Every
# mount is undone on exit, also after a failure or an interrupt; mounts left
# by a killed run are undone first. The library is the one built on Debian
# 12 (target/release/libnib_ffi.so). The test binary is reused while its
# sources are unchanged.
set -euo pipefail
cd "$(dirname "$0")/../.."
bindings=${NIB_BINDINGS:-.cache/bindings}
packs=${NIB_PACKS:-.cache/packs}
root=${NIB_SWIFT_CHROOT:-.cache/swift-chroot}
ort=${NIB_ORT:-.cache/sources/onnxruntime/onnxruntime/capi/libonnxruntime.so.1.31.1}

bash bindings/swift/chroot.sh "$root"
root=$(realpath "$root")
repo=$(pwd -P)

unmount_under() {
  # Deepest first. /proc/mounts escapes spaces as \040; our paths have none.
  awk -v r="$1/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
}
unmount_under "$root"
trap 'unmount_under "$root"' EXIT
trap 'exit 130' INT TERM

bind_ro() {
  mkdir -p "$root$2"
  mount --bind "$1" "$root$2"
  mount -o remount,bind,ro "$root$2"
}
mount -t proc proc "$root/proc"
bind_ro "$repo" /nib
bind_ro "$(realpath "$bindings/swift")" /nib-bindings
bind_ro "$(realpath "$packs")" /nib-packs
# The runtime's directory may lie outside the checkout (.cache/sources can
# be a link to another checkout's cache).
bind_ro "$(dirname "$(realpath "$ort")")" /nib-ort
ort_name=$(basename "$(realpath "$ort")")

chroot "$root" /usr/bin/env ORT_NAME="$ort_name" /bin/bash -c '
set -euo pipefail
out=/var/tmp/nib-swift
mkdir -p "$out"
sources=(/nib-bindings/Nib.swift /nib/bindings/swift/main.swift)
stamp=$(cat "${sources[@]}" /nib-bindings/nibFFI.h | sha256sum | cut -c1-16)
binary=$out/nibtest-$stamp
if [ ! -x "$binary" ]; then
  rm -f "$out"/nibtest-*
  echo "swift: compiling ${#sources[@]} files" >&2
  swiftc -O -module-name NibTest \
    -Xcc -fmodule-map-file=/nib-bindings/nibFFI.modulemap -I /nib-bindings \
    -L /nib/target/release -lnib_ffi \
    "${sources[@]}" -o "$binary.tmp"
  mv "$binary.tmp" "$binary"
fi
LD_LIBRARY_PATH=/nib/target/release "$binary" /nib-packs "/nib-ort/$ORT_NAME" /nib
'
