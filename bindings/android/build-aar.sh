#!/usr/bin/env bash
# Builds the Android library (AAR) of nib: the native library for each ABI
# plus the generated Kotlin sources, as a minimal Gradle library module.
#
# NOT RUN IN CI, AND NOT RUNNABLE ON THE CI MACHINE: it needs the Android NDK
# ($ANDROID_NDK_HOME), cargo-ndk, the Rust Android targets, and Gradle with
# the Android SDK ($ANDROID_HOME) for the last step; none of them is
# installed there. Everything up to the module layout is standard
# cargo-ndk; the Gradle step is the stock `com.android.library` build.
#
#   bash bindings/android/build-aar.sh [OUT]      # default: target/android
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-target/android}
module=$out/nib
: "${ANDROID_NDK_HOME:?set ANDROID_NDK_HOME to the Android NDK}"

rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android
command -v cargo-ndk >/dev/null || cargo install --locked cargo-ndk

# The native library per ABI, stripped (apps ship it; the bindings below are
# generated from the host's unstripped build, and work with this one).
rm -rf "$module"
CARGO_PROFILE_RELEASE_STRIP=symbols CARGO_PROFILE_RELEASE_DEBUG=false \
  cargo ndk -t arm64-v8a -t armeabi-v7a -t x86_64 --platform 24 \
  -o "$module/src/main/jniLibs" build --release --locked -p nib-ffi

# The Kotlin sources, generated on this (host) machine.
NIB_BINDINGS=$out/bindings bash bindings/generate.sh
mkdir -p "$module/src/main/java"
cp -R "$out/bindings/kotlin/." "$module/src/main/java/"

cat >"$module/src/main/AndroidManifest.xml" <<'XML'
<manifest xmlns:android="http://schemas.android.com/apk/res/android" />
XML
cat >"$module/build.gradle.kts" <<'KTS'
plugins {
    id("com.android.library") version "8.7.3"
    id("org.jetbrains.kotlin.android") version "2.1.0"
}

android {
    namespace = "nib"
    compileSdk = 35
    defaultConfig { minSdk = 24 }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
}

kotlin { jvmToolchain(17) }

dependencies {
    // The generated code calls the library through JNA; the AAR flavour
    // carries JNA's own native part for each ABI.
    implementation("net.java.dev.jna:jna:5.13.0@aar")
}
KTS
cat >"$out/settings.gradle.kts" <<'KTS'
pluginManagement { repositories { google(); mavenCentral(); gradlePluginPortal() } }
dependencyResolutionManagement { repositories { google(); mavenCentral() } }
rootProject.name = "nib-android"
include(":nib")
KTS

if command -v gradle >/dev/null; then
  gradle -p "$out" :nib:assembleRelease
  echo "AAR: $module/build/outputs/aar/nib-release.aar"
else
  echo "Gradle not found: the module is ready in $module (gradle -p $out :nib:assembleRelease)" >&2
fi
