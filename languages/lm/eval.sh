#!/usr/bin/env bash
# Measures nib with and without the neural model: KSR and next-word accuracy
# (k = 3) on the first ~10,000 characters of each language's validation split
# (needs `pipeline.py corpus`) and on the held-out texts of heldout.py.
# Usage: bash languages/lm/eval.sh [CHARS]       (run from the repository root)
set -euo pipefail
cd "$(dirname "$0")/../.."
chars=${1:-10000}
nib=./target/release/nib
out=.cache/eval_valid
mkdir -p "$out"
python3 languages/heldout.py >/dev/null
for l in en de fr es it pt ru; do
  # Whole sentences until the budget; the split is in hash order already.
  python3 - "$chars" ".cache/lm/corpus/valid.$l.txt" "$out/$l.txt" <<'PY'
import sys
budget, source, target = int(sys.argv[1]), sys.argv[2], sys.argv[3]
lines, n = [], 0
for line in open(source, encoding="utf-8"):
    line = line.strip()
    if line:
        lines.append(line)
        n += len(line) + 1
        if n >= budget:
            break
open(target, "w", encoding="utf-8").write("\n".join(lines) + "\n")
PY
done
for text in valid heldout; do
  for l in en de fr es it pt ru; do
    file="$out/$l.txt"; [ "$text" = heldout ] && file=".cache/heldout/$l.txt"
    for mode in lm no-lm; do
      flag=""; [ "$mode" = no-lm ] && flag="--no-lm"
      printf '%s %s %s ' "$text" "$l" "$mode"
      # Quality without the deadline, so that the figures do not depend on
      # the machine's load; the latency is reported beside them.
      taskset -c 1 "$nib" $flag --lm-budget-ms 1000 ksr --json --lang "$l" "$file"
    done
  done
done
