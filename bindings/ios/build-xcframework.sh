#!/usr/bin/env bash
# Builds nib for iOS: a static library per platform (device; simulator for
# Apple silicon and Intel Macs), bundled as nibFFI.xcframework, and a Swift
# package (Package.swift) with the generated Swift sources on top.
#
# NOT RUN IN CI, AND NOT RUNNABLE ON THE CI MACHINE: it needs macOS with
# Xcode (xcodebuild, lipo) and the Rust iOS targets. The steps are the
# standard UniFFI ones: cargo build per target, lipo for the simulator
# slices, xcodebuild -create-xcframework, a binary target in Package.swift.
#
#   bash bindings/ios/build-xcframework.sh [OUT]   # default: target/ios
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-target/ios}
[ "$(uname -s)" = Darwin ] || { echo "needs macOS with Xcode" >&2; exit 1; }

targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios)
rustup target add "${targets[@]}"
for target in "${targets[@]}"; do
  CARGO_PROFILE_RELEASE_STRIP=symbols CARGO_PROFILE_RELEASE_DEBUG=false \
    cargo build --release --locked -p nib-ffi --target "$target"
done

# Swift sources and the C header, generated from the host's (macOS) build.
NIB_BINDINGS=$out/bindings bash bindings/generate.sh
package=$out/Nib
rm -rf "$package" "$out/headers" "$out/sim"
mkdir -p "$package/Sources/Nib" "$out/headers" "$out/sim"
cp "$out/bindings/swift/Nib.swift" "$package/Sources/Nib/"
cp "$out/bindings/swift/nibFFI.h" "$out/headers/"
cp "$out/bindings/swift/nibFFI.modulemap" "$out/headers/module.modulemap"

lipo -create \
  target/aarch64-apple-ios-sim/release/libnib_ffi.a \
  target/x86_64-apple-ios/release/libnib_ffi.a \
  -output "$out/sim/libnib_ffi.a"
xcodebuild -create-xcframework \
  -library target/aarch64-apple-ios/release/libnib_ffi.a -headers "$out/headers" \
  -library "$out/sim/libnib_ffi.a" -headers "$out/headers" \
  -output "$package/nibFFI.xcframework"

cat >"$package/Package.swift" <<'SWIFT'
// swift-tools-version:5.9
import PackageDescription

let package = Package(
    name: "Nib",
    platforms: [.iOS(.v15)],
    products: [.library(name: "Nib", targets: ["Nib"])],
    targets: [
        // The Rust library; the module name matches nibFFI.modulemap.
        .binaryTarget(name: "nibFFI", path: "nibFFI.xcframework"),
        .target(name: "Nib", dependencies: ["nibFFI"], path: "Sources/Nib"),
    ]
)
SWIFT
echo "Swift package: $package (add it to the keyboard extension target)"
