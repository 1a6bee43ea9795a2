#!/usr/bin/env bash
# Presage, the open n-gram predictive-text engine, trained on the same text as
# nib's language model and measured with its own simulator on the same
# validation slices that `eval.sh` writes (.cache/eval_valid/<lang>.txt) and
# the same held-out texts (.cache/heldout/<lang>.txt, `heldout.py`).
# Debian packages presage + libpresage-dev (installed here if missing).
# Usage: bash languages/lm/presage.sh        (from the repository root)
#
# Presage counts KSR its own way (presage_simulator: 1 - (ki + ks) / kn, with
# kn the keystrokes of the text without prediction); nib's `ksr` counts
# characters with one space per token. The figures are close in definition,
# not identical. Both run case-sensitively with 3 suggestions.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v presage_simulator >/dev/null || apt-get install -y -qq presage libpresage-dev >/dev/null
out=.cache/presage
mkdir -p "$out"
for l in en de fr es it pt ru; do
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
    ksr=$(presage_simulator -q -c "$out/$l.xml" "$file" | awk '/^KSR:/ { print $2 }')
    echo "$text $l presage KSR $ksr"
  done
done
