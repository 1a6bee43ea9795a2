#!/usr/bin/env bash
# Presage, the open n-gram predictive-text engine, trained on the same text as
# nib's language model and measured with its own simulator on the same
# validation slices that `eval.sh` writes (.cache/eval_valid/<lang>.txt) and
# the same held-out texts (.cache/heldout/<lang>.txt, `heldout.py`).
# Debian packages presage + libpresage-dev (installed here if missing).
# Usage: bash languages/lm/presage.sh [LANG...]   (from the repository root; all seven by default)
#
# Two figures per text. "nib protocol": Presage types the text by exactly
# the protocol `nib ksr` uses (engine/src/eval.rs), through
# `nib ksr --presage` and the prediction server presage_predict.cpp; these
# are the figures to compare with nib's. "own simulator": presage_simulator,
# which counts differently: it drops punctuation from the text (its
# separators . , ' - and the rest are neither typed nor counted, so "c'est"
# is two words), and it counts UTF-8 bytes, not characters (a Cyrillic or
# accented letter is two keystrokes, which raises its KSR in Russian).
# Both run case-sensitively with 3 suggestions.
# Needs target/release/nib (cargo build --release).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v presage_simulator >/dev/null || apt-get install -y -qq presage libpresage-dev >/dev/null
out=.cache/presage
mkdir -p "$out"
g++ -O2 -Wall -o "$out/presage_predict" languages/lm/presage_predict.cpp -lpresage
languages=("$@"); [ ${#languages[@]} -eq 0 ] && languages=(en de fr es it pt ru)
for l in "${languages[@]}"; do
  db="$out/$l.db"
  if [ ! -s "$db" ]; then
    for n in 1 2 3; do
      append=(); [ "$n" -gt 1 ] && append=(-a)
      text2ngram -n "$n" -f sqlite -o "$db" "${append[@]}" ".cache/lm/corpus/train.$l.txt" >/dev/null
    done
  fi
  sed -e "s|<PREDICTORS>.*</PREDICTORS>|<PREDICTORS>DefaultSmoothedNgramPredictor</PREDICTORS>|" \
      -e "s|<ONLINE_LEARNING>.*</ONLINE_LEARNING>|<ONLINE_LEARNING>no</ONLINE_LEARNING>|" \
      -e "s|<SUGGESTIONS>.*</SUGGESTIONS>|<SUGGESTIONS>3</SUGGESTIONS>|" \
      -e "0,/<DBFILENAME>.*<\/DBFILENAME>/s||<DBFILENAME>$PWD/$db</DBFILENAME>|" \
      /etc/presage.xml > "$out/$l.xml"
  for text in valid heldout; do
    file=".cache/eval_valid/$l.txt"; [ "$text" = heldout ] && file=".cache/heldout/$l.txt"
    own=$(presage_simulator -q -c "$out/$l.xml" "$file" | awk '/^KSR:/ { print $2 }')
    echo "$text $l presage own simulator KSR $own"
    printf '%s %s presage nib protocol ' "$text" "$l"
    ./target/release/nib ksr --json --lang "$l" --presage "$out/$l.xml" \
      --presage-driver "$out/presage_predict" "$file"
  done
done
