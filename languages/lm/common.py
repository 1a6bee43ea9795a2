"""Shared paths, constants and small helpers of the LM pipeline (stdlib + numpy only).

Every stage imports this module, so the GPU-side stages (tokenize, train,
export) depend only on what is preinstalled there: torch, tokenizers, onnx,
onnxruntime, numpy and the standard library.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent          # languages/lm
ROOT = HERE.parents[1]                          # repository root
CACHE = ROOT / ".cache" / "lm"                  # ignored by git (/.cache)
DEFAULT_TARBALL = ROOT.parent / "shared" / "data" / "text" / "text.tar.xz"
DEFAULT_RELEASE = HERE / "release"

# Language codes used everywhere in the pipeline (ISO 639-1).
LANGS = ("en", "de", "fr", "es", "it", "pt", "ru")

# Special tokens: fixed ids, trained first so the ids never move.
PAD, BOS, EOS, UNK = "<pad>", "<s>", "</s>", "<unk>"
SPECIAL_TOKENS = (PAD, BOS, EOS, UNK)
PAD_ID, BOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3

# The word-boundary marker of the Metaspace pre-tokenizer.
METASPACE = "\u2581"


def sha1_int(text: str, salt: str = "") -> int:
    return int.from_bytes(hashlib.sha1((salt + text).encode("utf-8")).digest()[:8], "big")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def text_path(folder: Path, split: str, lang: str) -> Path:
    """`<split>.<lang>.txt`, or its `.txt.xz` twin when only that exists."""
    plain = Path(folder) / f"{split}.{lang}.txt"
    packed = plain.with_name(plain.name + ".xz")
    if plain.exists() or not packed.exists():
        return plain
    return packed


def read_lines(path: Path) -> list[str]:
    """Lines of a UTF-8 text file, `.xz` allowed; empty lines dropped."""
    path = Path(path)
    opener = lzma.open if path.suffix == ".xz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def write_json(path: Path, obj) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def log(*parts) -> None:
    print(time.strftime("%H:%M:%S"), *parts, file=sys.stderr, flush=True)


def eval_sentences(lines: list[str], limit: int) -> list[str]:
    """The fixed evaluation subset: the first `limit` lines (files are written
    in hash order, so this is a content-independent sample)."""
    return lines[:limit]


def eval_batches(tokenizer, sentences: list[str], context: int, batch_size: int):
    """Yield (input_ids, targets, n_words) numpy int64 batches for the
    per-sentence evaluation protocol shared by train.py and export.py.

    Each sentence is scored on its own from the sentence start:
    input = <s> t1 .. tn, target = t1 .. tn <s>; the final <s> target is the
    end-of-sentence prediction (the stream separator used in training).
    Sequences are cut to `context` tokens and right-padded with <pad>
    (target -100 = ignored); causal attention keeps padding from affecting
    real positions, so no attention mask is needed.
    """
    encodings = tokenizer.encode_batch(sentences, add_special_tokens=False)
    token_lists = [list(e.ids) for e in encodings]
    words = [len(s.split()) for s in sentences]
    yield from eval_batches_from_ids(token_lists, words, context, batch_size)


def eval_batches_from_ids(token_lists, word_counts, context: int, batch_size: int):
    """As eval_batches, from sentences already tokenized (without <s>)."""
    import numpy as np

    rows = []
    for ids, n_words in zip(token_lists, word_counts):
        full = [BOS_ID] + [int(t) for t in ids] + [BOS_ID]
        rows.append((full[: context + 1], n_words))
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        width = max(len(ids) for ids, _ in chunk) - 1
        inputs = np.full((len(chunk), width), PAD_ID, dtype=np.int64)
        targets = np.full((len(chunk), width), -100, dtype=np.int64)
        words = 0
        for row, (ids, n_words) in enumerate(chunk):
            inputs[row, : len(ids) - 1] = ids[:-1]
            targets[row, : len(ids) - 1] = ids[1:]
            words += n_words
        yield inputs, targets, words
