"""The output alphabet: handwriting/train/charset.txt, one class per line.

Line 0 is the CTC blank `<blank>`, `<space>` is the space; every other line
is one character (NFC). Labels are mapped with `normalise_label` first:
typographic quotes and dashes have no distinct handwritten shape and become
their ASCII forms; tabs and runs of spaces become one space.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

PATH = Path(__file__).resolve().parent / "charset.txt"
_MAP = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "‚": "'",
                      "–": "-", "—": "-", "−": "-", "\t": " ", "\u00a0": " "})


def load(path: Path = PATH) -> list[str]:
    out = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line == "":
            continue
        out.append(" " if line == "<space>" else line)
    return out


CHARS = load()
INDEX = {c: i for i, c in enumerate(CHARS) if i > 0}


def normalise_label(text: str) -> str:
    text = unicodedata.normalize("NFC", text).translate(_MAP).replace("…", "...")
    return re.sub(" +", " ", text).strip()


def encode(text: str) -> list[int] | None:
    """Class ids of a normalised label, or None if a character is not in the set."""
    ids = [INDEX.get(c) for c in text]
    return None if any(i is None for i in ids) else ids


def decode(ids) -> str:
    return "".join(CHARS[i] for i in ids if i > 0)
