#!/usr/bin/env bash
# Kotlin (JVM) binding tests. Installs what it needs, once, into ignored
# caches: the Kotlin compiler from npm (kotlin-compiler, which also ships
# kotlinx-coroutines) into .cache/npm, JNA from Debian (libjna-java). Then
# compiles the generated Kotlin ($NIB_BINDINGS/kotlin, from
# bindings/generate.sh) with NibTest.kt, reusing the jar while the sources
# are unchanged, and runs it against target/release/libnib_ffi.so.
set -euo pipefail
cd "$(dirname "$0")/../.."
bindings=${NIB_BINDINGS:-.cache/bindings}
packs=${NIB_PACKS:-.cache/packs}
kotlin_version=2.4.20
npm_dir=.cache/npm
kotlin_home=$npm_dir/node_modules/kotlin-compiler
jna=/usr/share/java/jna.jar
build=.cache/kotlin-test

if [ "$(node -p "require('./$kotlin_home/package.json').version" 2>/dev/null)" != "$kotlin_version" ]; then
  echo "kotlin: installing kotlin-compiler@$kotlin_version from npm" >&2
  mkdir -p "$npm_dir"
  npm install --prefix "$npm_dir" --no-audit --no-fund --loglevel=error \
    "kotlin-compiler@$kotlin_version" >&2
fi
if [ ! -f "$jna" ]; then
  echo "kotlin: installing libjna-java" >&2
  apt-get install -y -qq libjna-java >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq libjna-java >/dev/null; }
fi
command -v java >/dev/null || { apt-get install -y -qq default-jre-headless >/dev/null; }

# kotlinx-coroutines: only generated async code needs it; on the class path
# in case a later binding has some.
classpath=$jna:$kotlin_home/lib/kotlinx-coroutines-core-jvm.jar
sources=("$bindings"/kotlin/nib/*.kt bindings/kotlin/NibTest.kt)
mkdir -p "$build"
stamp=$(cat "${sources[@]}" | sha256sum | cut -c1-16)
jar=$build/nibtest-$stamp.jar
if [ ! -f "$jar" ]; then
  rm -f "$build"/nibtest-*.jar
  echo "kotlin: compiling ${#sources[@]} files" >&2
  "$kotlin_home/bin/kotlinc" -nowarn -include-runtime -cp "$classpath" \
    -d "$jar.tmp.jar" "${sources[@]}" 2>&1 | grep -v '^warning:' >&2 || true
  [ -f "$jar.tmp.jar" ] || { echo "kotlin: compilation failed" >&2; exit 1; }
  mv "$jar.tmp.jar" "$jar"
fi
exec java -Djna.library.path=target/release -cp "$jar:$classpath" NibTestKt "$packs"
