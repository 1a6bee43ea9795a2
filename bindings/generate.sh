#!/usr/bin/env bash
# Builds the nib-ffi library (release, unstripped: uniffi reads its metadata
# from the symbols) and generates the Kotlin, Swift and Python bindings from
# it into $NIB_BINDINGS (default .cache/bindings/{kotlin,swift,python}).
# Generated sources are not committed; this script is.
#
# The bindings work with a stripped copy of the same library too (that is
# what apps ship); only generation needs the symbols.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${NIB_BINDINGS:-.cache/bindings}

cargo build --release --locked -p nib-ffi
# The generator is its own workspace (bindings/uniffi-bindgen) so that its
# `cli` feature never reaches the library; it shares the target folder.
cargo build --locked --manifest-path bindings/uniffi-bindgen/Cargo.toml --target-dir target
case "$(uname -s)" in
  Darwin) lib=target/release/libnib_ffi.dylib ;; # bindings/ios/build-xcframework.sh
  *) lib=target/release/libnib_ffi.so ;;
esac
bindgen=target/debug/uniffi-bindgen

for language in kotlin swift python; do
  rm -rf "${out:?}/$language"
  mkdir -p "$out/$language"
  "$bindgen" generate --library "$lib" --language "$language" --no-format \
    --out-dir "$out/$language" >/dev/null
done
# Python's module loads the library from its own folder. It gets a stripped
# copy, as apps ship it, so that the Python suite checks that the bindings
# work without the symbols they were generated from.
if command -v strip >/dev/null; then
  strip -o "$out/python/$(basename "$lib")" "$lib"
else
  cp "$lib" "$out/python/"
fi
echo "library: $(wc -c <"$lib") bytes, $(wc -c <"$out/python/$(basename "$lib")") stripped ($lib)"
echo "bindings: $(cd "$out" && find . -type f | sort | tr '\n' ' ')"
