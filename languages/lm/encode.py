#!/usr/bin/env python3
"""Stage `tokenize`: encode the corpus once into flat token files.

Input: a corpus folder with train.<lang>.txt and valid.<lang>.txt (or their
.txt.xz twins) and a tokenizer.json. Output (`--out`, default
.cache/lm/data/): train.bin, valid.bin (raw little-endian uint16, or uint32
for vocabularies above 65536: one stream per split) and meta.json.

Each stream is the languages one after another; within a language every
sentence is preceded by <s>:  <s> t t t <s> t t <s> ...  meta.json gives
each language's [offset, length, sentences] in the stream, the dtype, the
vocabulary size and the SHA-256 of the tokenizer. A second run with the same
inputs does nothing (`--force` redoes it).

Name: not tokenize.py, which would shadow the standard library's module.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BOS_ID, CACHE, LANGS, log, read_lines, sha256_file, text_path, write_json  # noqa: E402


def encode_lines(tok, lines: list[str], dtype, chunk: int = 20000) -> np.ndarray:
    parts = []
    for start in range(0, len(lines), chunk):
        encs = tok.encode_batch(lines[start : start + chunk], add_special_tokens=False)
        lengths = np.fromiter((len(e.ids) + 1 for e in encs), dtype=np.int64, count=len(encs))
        flat = np.empty(int(lengths.sum()), dtype=dtype)
        pos = 0
        for e, n in zip(encs, lengths):
            flat[pos] = BOS_ID
            flat[pos + 1 : pos + n] = e.ids
            pos += n
        parts.append(flat)
    return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=str(CACHE / "corpus"))
    ap.add_argument("--tokenizer", default=str(CACHE / "tokenizer" / "tokenizer.json"))
    ap.add_argument("--out", default=str(CACHE / "data"))
    ap.add_argument("--langs", nargs="+", default=list(LANGS))
    ap.add_argument("--max-sentences", type=int, default=None, help="per language and split (smoke runs)")
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args(argv)
    from tokenizers import Tokenizer

    corpus, out = Path(args.corpus), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    inputs = {
        f"{split}.{lang}": text_path(corpus, split, lang) for split in ("train", "valid") for lang in args.langs
    }
    for name, path in inputs.items():
        if not path.exists():
            sys.exit(f"missing {path}")
    key = {
        "tokenizer_sha256": sha256_file(Path(args.tokenizer)),
        "inputs": {k: [str(p.resolve()), p.stat().st_size] for k, p in inputs.items()},
        "max_sentences": args.max_sentences,
    }
    meta_path = out / "meta.json"
    if meta_path.exists() and not args.force:
        import json

        old = json.loads(meta_path.read_text())
        if old.get("key") == key and all((out / f"{s}.bin").exists() for s in ("train", "valid")):
            log(f"tokenize: {out} is up to date")
            return
    tok = Tokenizer.from_file(args.tokenizer)
    vocab = tok.get_vocab_size()
    dtype = np.uint16 if vocab <= 65536 else np.uint32
    meta = {"key": key, "dtype": np.dtype(dtype).name, "vocab_size": vocab, "splits": {}}
    for split in ("train", "valid"):
        offset = 0
        layout = {}
        tmp = out / f"{split}.bin.tmp"
        with open(tmp, "wb") as f:
            for lang in args.langs:
                lines = read_lines(inputs[f"{split}.{lang}"])
                if args.max_sentences:
                    lines = lines[: args.max_sentences]
                arr = encode_lines(tok, lines, dtype)
                arr.astype(np.dtype(dtype).newbyteorder("<"), copy=False).tofile(f)
                layout[lang] = [offset, int(arr.size), len(lines)]
                offset += int(arr.size)
                log(f"tokenize {split}.{lang}: {len(lines)} sentences, {arr.size} tokens "
                    f"({(arr.size - len(lines)) / max(1, sum(len(l.split()) for l in lines)):.3f} tokens/word)")
        os.replace(tmp, out / f"{split}.bin")
        meta["splits"][split] = {"tokens": offset, "languages": layout}
    write_json(meta_path, meta)
    log(f"tokenize: wrote {out} (train {meta['splits']['train']['tokens']:,} tokens, "
        f"valid {meta['splits']['valid']['tokens']:,})")


def load_split(data_dir: Path, split: str):
    """(memmap of the whole stream, meta dict)."""
    import json

    meta = json.loads((Path(data_dir) / "meta.json").read_text())
    arr = np.memmap(Path(data_dir) / f"{split}.bin", dtype=np.dtype(meta["dtype"]).newbyteorder("<"), mode="r")
    return arr, meta


def sentences_of(stream: np.ndarray, limit: int | None = None) -> list[np.ndarray]:
    """Split a <s>-separated stream back into its sentences (without <s>)."""
    starts = np.flatnonzero(stream == BOS_ID)
    if limit is not None:
        starts = starts[: limit + 1]
    ends = list(starts[1:]) + [len(stream)]
    out = [np.asarray(stream[s + 1 : e], dtype=np.int64) for s, e in zip(starts, ends)]
    return out[:limit] if limit is not None else out


if __name__ == "__main__":
    main()
