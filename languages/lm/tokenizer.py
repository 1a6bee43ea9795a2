#!/usr/bin/env python3
"""Train the one multilingual subword tokenizer of the LM (`tokenizer.json`).

Design (no byte-level BPE):

* Normalizer: NFC only. Case and diacritics are kept: the keyboard needs them.
* Pre-tokenization, in order:
  1. `Metaspace(replacement="▁", prepend_scheme="always", split=True)`:
     every space becomes "▁" and starts a new piece, and the first word of a
     text gets one too, so *every word-initial token starts with ▁*, at the
     start of a sentence as well as in the middle.
  2. `Split(r"▁?[^\\p{L}\\p{M}▁']", "isolated")`: every character that is not
     a letter, combining mark or apostrophe (punctuation, symbols, each digit
     separately) becomes its own piece, together with the ▁ of a space
     before it ("▁?", "▁«", "▁1"). So no token ever spans a word end and a
     following punctuation mark, and French spaced punctuation costs one
     token. The apostrophe stays inside words (don't, l'homme, c'est).
* Model: BPE with `<unk>` (no byte fallback); the alphabet is the 320 most
  frequent characters of the training sample (ties by code point, so training
  is deterministic), rarer ones become <unk>.
* Special tokens, fixed ids: <pad>=0, <s>=1, </s>=2, <unk>=3. The
  post-processor puts <s> in front when `add_special_tokens` is true. In the
  training stream sentences are separated by <s>; </s> is reserved (unused
  in training, so the model gives it ~0 probability).

End of word is a token property. A token *continues* the current word iff it
is not special, does not start with ▁, and starts with a letter, mark, digit
or apostrophe (`continues_word()` below; export.py writes the rule into
metrics.json). Everything else (a ▁-token, punctuation, <s> = end of
sentence) ends the word before it. The engine scores a candidate word w
after context c as

    log P(w | c) = sum_i log p(t_i | c, t_<i) + log(1 - sum_{t in CONT} p(t | c, t_1..t_n))

where t_1..t_n is the tokenization of "▁w" (of " w" through the tokenizer;
the first word of a text gets its ▁ from prepend_scheme) and CONT is the set
of continuation tokens: the last factor is the probability that the word
ends there, whatever comes next (a space and a new word, punctuation, or the
end of the sentence).

Vocabulary size is chosen by measurement (`--vocab-sizes 8000 16000 24000`):
each size is trained on a balanced sample (the same number of characters of
every language), tokens per word are measured per language on validation
text, and the model size is computed for each (embedding = V x d_model,
tied). The smallest size whose successor gains less than `--min-gain` (5%)
fewer tokens per word, or would break the size budget (<= 10M parameters,
int8 model + tokenizer <= 10 MB), wins. `--vocab N` skips the measurement.

Usage: python3 languages/lm/tokenizer.py [--corpus DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    CACHE,
    LANGS,
    METASPACE,
    SPECIAL_TOKENS,
    BOS,
    BOS_ID,
    log,
    read_lines,
    text_path,
    write_json,
)

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers  # noqa: E402

SPLIT_PATTERN = r"▁?[^\p{L}\p{M}▁']"
SIZE_BUDGET_BYTES = 10_000_000
PARAM_BUDGET = 10_000_000


def build_tokenizer() -> Tokenizer:
    tok = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True, byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True),
            pre_tokenizers.Split(Regex(SPLIT_PATTERN), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B", special_tokens=[(BOS, BOS_ID)]
    )
    return tok


def alphabet_of(sample: list[str], size: int) -> list[str]:
    """The `size` most frequent characters (spaces count as ▁), ties broken by
    code point. Choosing the alphabet here, not with the trainer's
    limit_alphabet (whose ties fall in hash-map order), makes training
    deterministic: the same sample always gives the same tokenizer.json."""
    counts = Counter()
    for line in sample:
        counts.update(unicodedata.normalize("NFC", line))
    counts[METASPACE] += counts.pop(" ", 0)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [ch for ch, _ in ranked[:size]]


def train(sample: list[str], vocab_size: int, alphabet_size: int = 320) -> Tokenizer:
    tok = build_tokenizer()
    alphabet = alphabet_of(sample, alphabet_size)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=alphabet,
        limit_alphabet=len(alphabet),
        max_token_length=16,
        show_progress=False,
    )
    tok.train_from_iterator(sample, trainer=trainer, length=len(sample))
    return tok


def continues_word(token: str) -> bool:
    """True if the token continues the word before it (see module docstring)."""
    if token in SPECIAL_TOKENS or not token or token[0] == METASPACE:
        return False
    ch = token[0]
    return ch == "'" or unicodedata.category(ch)[0] in ("L", "M", "N")


def balanced_sample(corpus: Path, langs, chars_per_lang: int) -> list[str]:
    """The first sentences of each language's train file up to `chars_per_lang`
    characters (files are in hash order, so this is a random sample)."""
    out = []
    for lang in langs:
        n = 0
        for line in read_lines(text_path(corpus, "train", lang)):
            if n >= chars_per_lang:
                break
            out.append(line)
            n += len(line)
    return out


def measure(tok: Tokenizer, valid: dict[str, list[str]]) -> dict:
    res = {}
    unk = tok.token_to_id("<unk>")
    for lang, lines in valid.items():
        encs = tok.encode_batch(lines, add_special_tokens=False)
        n_tok = sum(len(e.ids) for e in encs)
        n_words = sum(len(s.split()) for s in lines)
        n_chars = sum(len(s) for s in lines)
        n_unk = sum(e.ids.count(unk) for e in encs)
        res[lang] = {
            "tokens_per_word": round(n_tok / n_words, 4),
            "chars_per_token": round(n_chars / n_tok, 3),
            "unk_per_10k_tokens": round(1e4 * n_unk / n_tok, 2),
        }
    return res


def size_estimate(vocab: int, tokenizer_bytes: int, model_cfg: dict) -> dict:
    from model import LMConfig  # torch is only needed for this estimate

    cfg = LMConfig(vocab_size=vocab, **model_cfg)
    params = cfg.param_count()
    # int8: one byte per weight (the tied embedding stored once), fp32 LayerNorms,
    # fp32 per-row scales of the embedding, ~60 kB of graph and other scales.
    int8_bytes = params + 3 * 4 * cfg.d_model * (2 * cfg.n_layers + 1) + 4 * vocab + 60_000
    return {
        "params": params,
        "embedding_params": vocab * cfg.d_model,
        "int8_model_bytes_est": int8_bytes,
        "tokenizer_bytes": tokenizer_bytes,
        "total_bytes_est": int8_bytes + tokenizer_bytes,
        "fits": params <= PARAM_BUDGET and int8_bytes + tokenizer_bytes <= SIZE_BUDGET_BYTES,
    }


def choose(rows: list[dict], min_gain: float) -> tuple[int, str]:
    rows = sorted(rows, key=lambda r: r["vocab_size"])
    feasible = [r for r in rows if r["size"]["fits"]]
    if not feasible:
        raise SystemExit("no vocabulary size fits the size budget")
    best = feasible[0]
    why = f"{best['vocab_size']} is the smallest size that fits"
    for nxt in feasible[1:]:
        gain = 1 - nxt["mean_tokens_per_word"] / best["mean_tokens_per_word"]
        if gain < min_gain:
            why = (
                f"{nxt['vocab_size']} would cut tokens/word by only {100 * gain:.1f}% "
                f"(< {100 * min_gain:.0f}%) for {nxt['size']['params'] - best['size']['params']:,} more parameters"
            )
            break
        best = nxt
        why = f"{best['vocab_size']} cut tokens/word by {100 * gain:.1f}% over the previous size"
    if best is feasible[-1] and len(feasible) < len(rows):
        why += "; larger sizes break the size budget"
    return best["vocab_size"], why


def table(rows: list[dict], langs) -> str:
    head = "| vocab | " + " | ".join(langs) + " | mean tok/word | params | int8 model + tokenizer (est.) |"
    sep = "|" + "---|" * (len(langs) + 4)
    lines = [head, sep]
    for r in sorted(rows, key=lambda r: r["vocab_size"]):
        s = r["size"]
        lines.append(
            f"| {r['vocab_size']} | "
            + " | ".join(f"{r['per_lang'][l]['tokens_per_word']:.3f}" for l in langs)
            + f" | {r['mean_tokens_per_word']:.3f} | {s['params'] / 1e6:.2f}M | {s['total_bytes_est'] / 1e6:.2f} MB |"
        )
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=str(CACHE / "corpus"), help="train/valid.<lang>.txt[.xz]")
    ap.add_argument("--out", default=str(CACHE / "tokenizer" / "tokenizer.json"))
    ap.add_argument("--langs", nargs="+", default=list(LANGS))
    ap.add_argument("--vocab", type=int, default=None, help="use this size, skip the measurement")
    ap.add_argument("--vocab-sizes", type=int, nargs="+", default=[8000, 16000, 24000])
    ap.add_argument("--measure-chars", type=int, default=2_500_000, help="characters per language for the size trials")
    ap.add_argument("--final-chars", type=int, default=6_000_000, help="characters per language for the final tokenizer")
    ap.add_argument("--valid-lines", type=int, default=2000, help="validation sentences per language measured")
    ap.add_argument("--min-gain", type=float, default=0.05)
    ap.add_argument("--d-model", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--d-ff", type=int, default=1024)
    args = ap.parse_args(argv)
    corpus, out = Path(args.corpus), Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    model_cfg = dict(d_model=args.d_model, n_layers=args.layers, n_heads=args.heads, d_ff=args.d_ff)
    valid = {l: read_lines(text_path(corpus, "valid", l))[: args.valid_lines] for l in args.langs}
    report = {"split_pattern": SPLIT_PATTERN, "model_config": model_cfg}

    if args.vocab is None:
        sample = balanced_sample(corpus, args.langs, args.measure_chars)
        rows = []
        for v in args.vocab_sizes:
            t0 = time.time()
            tok = train(sample, v)
            with tempfile.TemporaryDirectory() as tmp:
                tok.save(str(Path(tmp) / "t.json"), pretty=False)
                tok_bytes = (Path(tmp) / "t.json").stat().st_size
            per_lang = measure(tok, valid)
            mean = sum(r["tokens_per_word"] for r in per_lang.values()) / len(per_lang)
            rows.append(
                {
                    "vocab_size": v,
                    "per_lang": per_lang,
                    "mean_tokens_per_word": round(mean, 4),
                    "size": size_estimate(v, tok_bytes, model_cfg),
                    "train_seconds": round(time.time() - t0, 1),
                }
            )
            log(f"vocab {v}: mean tokens/word {mean:.3f} ({time.time() - t0:.0f} s)")
        vocab, why = choose(rows, args.min_gain)
        report.update(measure_sample_chars_per_lang=args.measure_chars, trials=rows, table=table(rows, args.langs))
        print(table(rows, args.langs))
    else:
        vocab, why = args.vocab, "given with --vocab"
    log(f"chosen vocabulary: {vocab} ({why})")

    sample = balanced_sample(corpus, args.langs, args.final_chars)
    tok = train(sample, vocab)
    tok.save(str(out), pretty=False)
    final = measure(tok, valid)
    report.update(
        chosen_vocab_size=vocab,
        reason=why,
        final_sample_chars_per_lang=args.final_chars,
        final_vocab_size=tok.get_vocab_size(),
        final_per_lang=final,
        final_mean_tokens_per_word=round(sum(r["tokens_per_word"] for r in final.values()) / len(final), 4),
        tokenizer_bytes=out.stat().st_size,
    )
    write_json(out.with_name("tokenizer_report.json"), report)
    enc = tok.encode("Hello, I'm fine? C'est l'heure ! 12 ans")
    log(f"example: {enc.tokens}")
    log(f"wrote {out} ({out.stat().st_size / 1e3:.0f} kB, {tok.get_vocab_size()} tokens)")


if __name__ == "__main__":
    main()
