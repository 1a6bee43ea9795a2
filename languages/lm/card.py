#!/usr/bin/env python3
"""Write MODEL_CARD.md from metrics.json (called by export.py; also standalone).

Usage: python3 languages/lm/card.py METRICS_JSON [OUT_MD]

The engine's figures (KSR, next-word accuracy, latency, memory) are measured
after an export by `languages/lm/eval.sh` and written into the card by hand;
writing a card over an older one keeps that section (re-measure it after a
new export).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

LANG_NAMES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese", "ru": "Russian"}

SOURCES = """\
| source | what | languages | licence |
| --- | --- | --- | --- |
| Tatoeba (tatoeba.org), via the OPUS-MT test-set union | short everyday sentences | all seven | CC BY 2.0 FR, attribution to Tatoeba |
| Mozilla Common Voice sentence collection | read-aloud prompts, mixed register; French also `fr-libretheatre` (dialogue from public-domain plays) | all seven | CC0 |
| Schema-Guided Dialogue (SGD) | English task-oriented chat written by people | en | CC BY-SA 4.0 |
| Taskmaster-4 | English task-oriented chat | en | CC BY 4.0 |"""


def fmt_bytes(n: int) -> str:
    return f"{n / 1e6:.2f} MB ({n:,} bytes)"


ENGINE_SECTION_START = "- Keystroke savings rate (KSR, k = 3)"


def engine_section(card: Path) -> list[str]:
    """The engine's figures in an existing card (up to `## Training`), or the placeholder."""
    if card.exists():
        text = card.read_text(encoding="utf-8")
        start = text.find(ENGINE_SECTION_START)
        end = text.find("\n## Training\n", max(start, 0))  # not "## Training data"
        if start >= 0 and end > start:
            return text[start:end].rstrip("\n").split("\n") + [""]
    return [
        "- Keystroke savings rate (KSR): **to be measured by the engine** (`languages/lm/eval.sh`).",
        "- Next-word accuracy, top-1 and top-3: **to be measured by the engine**.",
        "",
    ]


def write_card(m: dict, out: Path, previous: Path | None = None) -> None:
    cfg = m["model"]["config"]
    ppl = m["perplexity"]
    t = m.get("training") or {}
    lines = [
        "# nib neural language model (multilingual, int8 ONNX)",
        "",
        "A small decoder-only transformer that predicts the next subword token of",
        "conversational text in " + ", ".join(LANG_NAMES.get(l, l) for l in ppl) + ".",
        "It is nib's neural LM for rescoring keyboard candidates and next-word prediction;",
        "it runs incrementally with an explicit key/value cache.",
        "",
        "Status: " + ("all export checks passed." if m.get("passed") else "**export checks FAILED: do not ship.**"),
        "",
        "## Files",
        "",
        "| file | size |",
        "| --- | --- |",
        f"| `model.int8.onnx` | {fmt_bytes(m['files']['model.int8.onnx'])} |",
        f"| `tokenizer.json` | {fmt_bytes(m['files']['tokenizer.json'])} |",
        f"| together | {fmt_bytes(m['files']['int8_model_plus_tokenizer'])} |",
        "",
        "`SHA256SUMS` holds the SHA-256 of every file; `metrics.json` all numbers of this card.",
        "",
        "## Model",
        "",
        f"- {m['model']['architecture']}.",
        f"- {cfg['n_layers']} layers, d_model {cfg['d_model']}, {cfg['n_heads']} heads (head size {cfg['d_model'] // cfg['n_heads']}), "
        f"MLP {cfg['d_ff']}, vocabulary {cfg['vocab_size']:,}, context {cfg['context']} tokens.",
        f"- Parameters: {m['model']['params']:,} (tied embedding counted once).",
        "- int8: " + m["checks"]["quantization"]["method"] + ".",
        "",
        "### Interface",
        "",
        "| tensor | shape |",
        "| --- | --- |",
    ]
    for k, v in {**m["interface"]["inputs"], **m["interface"]["outputs"]}.items():
        lines.append(f"| `{k}` | {v} |")
    lines += [
        "",
        f"- Cache: {m['interface']['cache']}.",
        *([f"- Scores: {m['interface']['scores']}."] if "scores" in m["interface"] else []),
        *([f"- Rows: {m['interface']['rows']}."] if "rows" in m["interface"] else []),
        "- Special ids: " + ", ".join(f"`{k}` = {v}" for k, v in m["interface"]["special_ids"].items())
        + f"; {m['interface']['sentence_start']}.",
        f"- Word boundary: {m['interface']['word_boundary']}.",
        "",
        "## Training data",
        "",
        SOURCES,
        "",
        "Cleaned (NFC, apostrophes, length, URL/markup/digit filters), Tatoeba's Tom and Mary",
        "replaced by common first names, de-duplicated, capped per language and source, and",
        "split into train and validation by SHA-1 of each sentence (2%). The text is not",
        "distributed with the model.",
        "",
    ]
    corpus = m.get("corpus")
    if corpus:
        lines += ["| language | train sentences | valid sentences | train MB | share by source |", "| --- | --- | --- | --- | --- |"]
        for lang, v in corpus["per_language"].items():
            shares = ", ".join(f"{k} {100 * s:.0f}%" for k, s in v["share_by_source"].items())
            lines.append(f"| {lang} | {v['train_sentences']:,} | {v['valid_sentences']:,} | {v['train_bytes'] / 1e6:.1f} | {shares} |")
        lines.append("")
    lines += [
        "## Tokenizer",
        "",
        f"BPE, {m['tokenizer']['vocab_size']:,} tokens, NFC, Metaspace (▁ starts every word), punctuation and digits",
        "isolated, no byte fallback. The vocabulary size was chosen by measurement:",
        "",
    ]
    rep = (m["tokenizer"] or {}).get("report") or {}
    if rep.get("table"):
        lines += [rep["table"], "", f"Chosen: {rep.get('reason', '')}.", ""]
    lines += [
        "## Evaluation",
        "",
        m["perplexity_protocol"].capitalize() + ".",
        "",
        "| language | ppl PyTorch fp32 | ppl ONNX fp32 | ppl ONNX int8 | int8 vs fp32 | word ppl fp32 | word ppl int8 |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for lang, r in ppl.items():
        lines.append(
            f"| {lang} | {r['ppl_pytorch_fp32']:.2f} | {r['ppl_onnx_fp32']:.2f} | {r['ppl_onnx_int8']:.2f} | "
            f"{100 * r['int8_increase']:+.2f}% | {r['word_ppl_onnx_fp32']:.1f} | {r['word_ppl_onnx_int8']:.1f} |"
        )
    inc = m["checks"]["incremental_decoding"]
    lat = m.get("latency_ms_one_token_past63", {})
    lines += [
        "",
        f"- Incremental decoding (ONNX fp32 through the cache vs PyTorch full forward): max |log-probability diff| "
        f"{inc['token_by_token_max_abs_diff']:.1e} token by token, {inc['chunked_max_abs_diff']:.1e} in chunks"
        + (f", {inc['shared_context_max_abs_diff']:.1e} for rows sharing one cache" if "shared_context_max_abs_diff" in inc else "")
        + (f", {inc['tree_max_abs_diff']:.1e} for words sharing a tree" if "tree_max_abs_diff" in inc else "")
        + f" (tolerance {inc['tolerance']:g}); int8 top-1 agreement with fp32 {100 * inc['int8_vs_fp32_top1_agreement']:.1f}%.",
        f"- One token with 63 cached: {lat.get('onnx_int8', '?')} ms int8, {lat.get('onnx_fp32', '?')} ms fp32 "
        f"({lat.get('machine', '')}).",
        *engine_section(previous or out),
        "## Training",
        "",
    ]
    if t:
        lines += [
            f"- Hardware: {t.get('hardware', '?')}; wall-clock training time {t.get('train_seconds', 0) / 60:.1f} min.",
            f"- {t.get('steps', 0):,} steps, {t.get('tokens_seen', 0):,} tokens seen; AdamW, cosine schedule, "
            f"batch {t.get('args', {}).get('batch_size', '?')} x {cfg['context']} tokens, "
            f"peak lr {t.get('args', {}).get('lr', '?')}, dropout {t.get('args', {}).get('dropout', '?')}, seed {t.get('args', {}).get('seed', '?')}.",
            f"- Exported checkpoint: `{m['model']['checkpoint']}` (step {m['model']['checkpoint_step']}).",
        ]
    else:
        lines.append("- (no training summary found)")
    v = m["versions"]
    lines += [
        f"- Software: Python {v['python']}, torch {v['torch']}, tokenizers {v['tokenizers']}, onnx {v['onnx']}, "
        f"onnxruntime {v['onnxruntime']}, numpy {v['numpy']}.",
        "",
        "## Reproduce",
        "",
        "```sh",
        m["reproduce"],
        "```",
        "",
        "See `languages/lm/README.md` for the stages and options.",
        "",
        "## Licence and limitations",
        "",
        "The training text carries the licences above; CC BY-SA 4.0 (SGD) and CC BY 2.0 FR (Tatoeba)",
        "require attribution, which this card gives. The model reflects its sources: short,",
        "simple, often translated sentences, read-aloud prompts, 19th-century French theatre and",
        "English booking dialogues; it knows little of slang, names, technical or very recent",
        "vocabulary, and 64 tokens of context.",
        "",
    ]
    Path(out).write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    metrics_path = Path(sys.argv[1])
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else metrics_path.with_name("MODEL_CARD.md")
    write_card(json.loads(metrics_path.read_text()), out, previous=out)
