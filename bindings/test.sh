#!/usr/bin/env bash
# Binding tests, as CI runs them (.ci/test): generates the bindings, runs the
# Python, Kotlin and Swift suites and the Rust side of the per-call
# benchmark, and prints each step's wall time. Every suite runs even when an
# earlier one failed. The last line is "bindings: N passed, M failed", the
# suites' counts together; the exit status is non-zero if anything failed.
#
#   bash bindings/test.sh [python|kotlin|swift ...]   # default: all three
set -uo pipefail
cd "$(dirname "$0")/.."
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(python kotlin swift)

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
timings=()

step() { # name command...
  local name=$1 start=$SECONDS out
  shift
  echo "== bindings: $name"
  out=$(mktemp)
  "$@" 2>&1 | tee "$out"
  local rc=${PIPESTATUS[0]}
  cat "$out" >>"$log"
  # A step that failed before printing its counts (a compile error, a
  # crash) still counts as a failure in the summary.
  if [ "$rc" != 0 ] && ! grep -Eq '^[a-z]+: [0-9]+ passed, [1-9][0-9]* failed$' "$out"; then
    echo "$name: 0 passed, 1 failed" | tee -a "$log"
  fi
  rm -f "$out"
  timings+=("$(printf '%-10s %4d s%s' "$name" $((SECONDS - start)) "$([ "$rc" = 0 ] || echo "  (failed: exit $rc)")")")
  [ "$rc" = 0 ] || status=1
  return "$rc"
}

if step generate bash bindings/generate.sh; then
  for suite in "${suites[@]}"; do
    step "$suite" bash "bindings/$suite/test.sh"
  done
  step rust-bench cargo run --release --locked --quiet -p nib-ffi --example per_call
else
  echo "bindings: generation failed; no suite ran" >&2
fi

echo "== bindings: wall time per step"
printf '  %s\n' "${timings[@]}"
awk '/^[a-z]+: [0-9]+ passed, [0-9]+ failed$/ { p += $2; f += $4 }
     END { printf "bindings: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
