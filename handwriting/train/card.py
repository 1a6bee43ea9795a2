"""Writes MODEL_CARD.md from metrics.json (called by export.py; also standalone).

  python -m handwriting.train.card handwriting/models/nib-hw-1/metrics.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

LANG_NAMES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
              "pt": "Portuguese", "ru": "Russian"}

ROWS = [
    ("unipen-words", "UNIPEN words, all (categories 6 and 7)"),
    ("unipen-6", "UNIPEN cursive or mixed words (category 6)"),
    ("unipen-7", "UNIPEN words, any style (category 7)"),
    ("unipen-words-cursive", "UNIPEN words, writer-declared style CURSIVE"),
    ("unipen-words-mixed", "UNIPEN words, style MIXED"),
    ("unipen-words-printed", "UNIPEN words, style PRINTED"),
    ("unipen-words-unknown", "UNIPEN words, style not declared"),
    ("unipen-8", "UNIPEN single text lines (category 8, at most 60 characters)"),
    ("unipen-chars", "UNIPEN isolated characters (1a-1d; a fixed subset)"),
    ("synth-latin", "synthetic Latin (Hershey), en de fr es it pt"),
    ("synth-cyrillic", "synthetic Cyrillic (Hershey), ru"),
] + [(f"synth-{l}", f"synthetic {n}") for l, n in LANG_NAMES.items()]

SOURCES = """\
| source | what | licence |
| --- | --- | --- |
| UNIPEN train_r01_v07 (International Unipen Foundation, 1999; Zenodo doi:10.5281/zenodo.1195803, with the parsability patches of the public `train_r01_v07` mirror) | real on-line handwriting: isolated characters, words, text lines of many writers (English, a few other Latin-script languages) | CC BY 4.0. Attribution: I. Guyon, L. Schomaker, R. Plamondon, M. Liberman and S. Janet, "UNIPEN project of on-line data exchange and recognizer benchmarks", ICPR 1994. |
| Hershey vector fonts, Debian `hershey-fonts-data` 0.1-1.1 (scripts, cursive, futural, futuram, rowmans, timesi; cyrillic, cyrilc_1) | glyph outlines rendered as synthetic ink with random slant, width, spacing, wobble, jitter and smoothing; accents composed | Hershey font licence: any use, provided that this acknowledgement is distributed with the font data: *The Hershey Fonts were originally created by Dr. A. V. Hershey while working at the U. S. National Bureau of Standards. The format of the Font data in this distribution was originally created by James Hurt, Cognition, Inc., 900 Technology Park Drive, Billerica, MA 01821.* (Debian packaging GPL-2+; none of it is in the model.) |
| words for the synthetic ink: the first 3 MB (training) and 400 kB (validation) of nib's LM corpus per language (`.cache/lm/corpus`, Tatoeba CC BY 2.0 FR, Common Voice CC0, SGD CC BY-SA 4.0, Taskmaster-4 CC BY 4.0) | which words are drawn; no text is in the model | as listed |"""


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def train_commands(t: dict) -> list:
    """The training commands that produced the checkpoint: the first run, then
    the run that continued from its best weights, if any."""
    py = ".cache/lm/venv/bin/python -m handwriting.train.train"
    init, a = t.get("continued_from"), t["args"]
    lines = []
    if init:
        b = init["args"]
        lines.append(f"{py} --work {init['run']} --lr {b['lr']:g} --warmup-steps {b['warmup_steps']} "
                     f"--time-budget-min {b['time_budget_min']:g} --eval-every {b['eval_every']}")
        a_init = f" --init {init['run']}/ckpt/{Path(init['checkpoint']).name}"
    else:
        a_init = ""
    lines.append(f"{py} --work {t['run']}{a_init} --lr {a['lr']:g} --warmup-steps {a['warmup_steps']} "
                 f"--time-budget-min {a['time_budget_min']:g} --eval-every {a['eval_every']}")
    return lines


def write_card(m: dict, out: Path) -> None:
    cfg = m["model"]["config"]
    t = m["training"]
    r32, r8 = m["valid_fp32"], m["valid_int8"]
    lat = m["latency_int8_one_thread_ms"]
    a = t["args"]
    seen = t.get("samples_seen", {})
    lines = [
        f"# {m['name']}: nib handwriting recognizer (stroke model, int8 ONNX)",
        "",
        "Recognises on-line handwriting (pen or finger strokes) of words and short lines",
        "in the Latin and Cyrillic scripts of en, de, fr, es, it, pt and ru. It outputs",
        "per-frame character log-probabilities for CTC decoding; nib decodes them with",
        "the language pack's lexicon and language model.",
        "",
        "Status: " + ("export checks passed." if m["passed"] else "**export checks FAILED: do not ship.**"),
        "",
        "## Interface",
        "",
        f"- `model.int8.onnx`: input `features` float32 `[1, T, {len(m['features']['names'])}]`, output",
        "  `log_probs` float32 `[T', C]`, `T' = ceil(ceil(T / 2) / 2)`, log-softmax.",
        f"- Features version {m['features']['version']} ({', '.join(m['features']['names'])}), specified in",
        "  `handwriting/FEATURES.md` with a shared test vector in `handwriting/testdata/features.json`.",
        f"- `charset.txt`: {m['model']['classes']} classes, one per line; line 0 is the CTC blank, `<space>` is",
        "  a space. Latin letters with the accents of de/fr/es/it/pt, Cyrillic, digits, ASCII punctuation,",
        "  « » ¡ ¿ € ° §.",
        "",
        "## Model",
        "",
        f"- 1-D convolutions ({cfg['conv'] // 2} and 2 x {cfg['conv']} channels, kernel 5, two of them",
        f"  stride 2), LayerNorm, 2-layer bidirectional LSTM ({cfg['hidden']} per direction), linear to {cfg['num_classes']} classes.",
        f"- {m['model']['params']:,} parameters; `model.int8.onnx` {m['model']['int8_bytes'] / 1e6:.2f} MB"
        f" (fp32 {m['model']['fp32_bytes'] / 1e6:.2f} MB). int8: onnxruntime dynamic quantization (LSTM and",
        "  linear weights int8 per output channel, symmetric; convolutions fp32).",
        f"- ONNX fp32 vs PyTorch: max |difference| of log-probabilities {m['model']['onnx_fp32_vs_torch_max_abs']:.1e}.",
        f"- Latency (onnxruntime, one thread, {lat['host']}): one word p50 {lat['words_p50']} ms,",
        f"  p99 {lat['words_p99']} ms ({lat.get('method', 'model only')}; features excluded).",
        "",
        "## Validation",
        "",
        "Greedy CTC decoding, **no lexicon, no language model** (the engine's decoder adds both).",
        "CER = edit distance / reference characters; word accuracy = exact match of the whole label.",
        f"UNIPEN validation writers (never seen in training): {', '.join(m['data']['valid_contributors'])}.",
        "The writers kept back by the data set's README (cec, kar, pap, not, bba, bbb, bbc, hpp) are",
        "not in the training archive at all. Synthetic samples are rendered from held-out corpus",
        "sentences with a fixed seed; they measure script coverage (Cyrillic, accents), not",
        "real-writer accuracy.",
        "",
        "| set | n | CER fp32 | CER int8 | word acc fp32 | word acc int8 |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key, name in ROWS:
        if key in r32:
            lines.append(f"| {name} | {r32[key]['n']} | {_pct(r32[key]['cer'])} | {_pct(r8[key]['cer'])} | "
                         f"{_pct(r32[key]['word_acc'])} | {_pct(r8[key]['word_acc'])} |")
    lines += [
        "",
        f"int8 minus fp32 CER on UNIPEN words: {m['int8_minus_fp32_words_cer']:+.4f}.",
        "",
        "## Training",
        "",
        f"- {t['steps']:,} steps in {t['minutes']} min on {t['hardware']}; checkpoint `{t['checkpoint']}`",
        "  (best CER on a fixed validation subset of UNIPEN words, checked every "
        f"{a['eval_every']} steps).",
    ]
    init = t.get("continued_from")
    if init:
        lines += [
            f"- This run continued from the weights of an earlier run's best checkpoint ({init['steps']:,} steps,",
            f"  {init['elapsed'] / 60:.1f} min, the same data and configuration) with a fresh optimizer and a new",
            f"  warmup and cosine schedule: {init['steps'] + t['steps']:,} steps and "
            f"{init['elapsed'] / 60 + t['minutes']:.1f} min of training in all.",
        ]
    lines += [
        f"- CTC loss, AdamW (lr {a['lr']}, weight decay {a['weight_decay']}), warmup {a['warmup_steps']} steps then",
        "  cosine over the wall-clock budget, gradient clipping 1.0, dropout 0.15. Batches of at most",
        f"  {a['batch_points']} padded points ({a['max_batch']} samples), built from length-sorted pools.",
        "- Batch mix: 55 % UNIPEN words (categories 6, 7), 10 % UNIPEN single lines (category 8, at",
        "  most 60 characters; blocks of several lines under one label are dropped), 5 % UNIPEN",
        "  characters (1a-1d), 30 % synthetic Hershey words and 2-4 word",
        "  phrases (ru 37 %, de fr es it pt 11 % each, en 8 % of the synthetic share).",
    ] + ([
        "- Augmentation of the raw ink (`--augment strong`, data.augment_strong): letter widths varying",
        "  along the word (piecewise horizontal stretch), letter heights varying along the word, a bent",
        "  baseline, a smooth low-frequency elastic displacement, rotation +-7 degrees, shear +-0.45,",
        "  horizontal stretch 0.7-1.4, vertical 0.9-1.1, per-stroke offsets (larger for dots and bars),",
        "  point jitter up to 1.2 % of the height, point-density changes (every 2nd/3rd point, random",
        "  drops, smoothing).",
    ] if a.get("augment") == "strong" else [
        "- Augmentation of the raw ink: rotation +-4 degrees, shear +-0.25, horizontal stretch",
        "  0.85-1.15, point jitter up to 1 % of the height, sometimes every other point dropped.",
    ]) + [
        "- UNIPEN y axis: every contributor's tablet has y pointing up; the reader flips it (decided",
        "  per contributor from the drawing direction of 1/l/I and the position of i/j dots).",
        "",
        "## Data and licences",
        "",
        SOURCES,
        "",
        "UNIPEN samples by category (segments of the category's level, BAD quality and",
        "segments repeated from another category removed; before the length filters):",
        "",
        "| category | train samples | train writers | valid samples | valid writers |",
        "| --- | ---: | ---: | ---: | ---: |",
    ] + [f"| {k} | {c['train']} | {c['train_contributors']} | {c['valid']} | {c['valid_contributors']} |"
         for k, c in m["data"]["unipen_stats"].get("by_category", {}).items()] + [
        "",
        "Parsed: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in m["data"]["unipen_stats"].items()
                               if isinstance(v, int)) + "; validation samples dropped by the length filters: "
        + ", ".join(f"{k} {v}" for k, v in m["data"]["unipen_stats"].get("dropped", {}).items()) + ".",
        "",
        "Samples drawn in training" + ("" if seen.get("counted") else " (estimated from the logged batch sizes)")
        + ": " + ", ".join(f"{k} {v:,}" for k, v in seen.items() if k != "counted") + ".",
        "",
        "## Reproduce",
        "",
        "```sh",
        "python3 languages/fetch.py                     # hershey-fonts-data into .cache/sources",
        "mkdir -p .cache/handwriting/unipen && tar -xJf ../shared/data/unipen/unipen-train_r01_v07-train.tar.xz -C .cache/handwriting/unipen",
        ".cache/lm/venv/bin/python languages/lm/pipeline.py corpus   # word lists for the synthetic ink",
        *train_commands(t),
        f".cache/lm/venv/bin/python -m handwriting.train.export --ckpt {t['run']}/ckpt/{t['checkpoint']}",
        "```",
        "",
        "Training is not bit-reproducible across machines (thread timing decides the step count",
        "within the budget); the data, the split and the validation sets are fixed.",
        "",
        "## Limitations",
        "",
        "- Real training ink is English-dominated UNIPEN; accented letters, ß (never drawn) and all",
        "  Cyrillic come only from synthetic Hershey ink, printed-style for Cyrillic. Expect much",
        "  weaker accuracy on real accented and Cyrillic handwriting than on English.",
        "- Greedy figures; the lexicon-constrained decoder in the engine is what users see.",
    ]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    src = Path(sys.argv[1])
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else src.with_name("MODEL_CARD.md")
    write_card(json.loads(src.read_text()), out)


if __name__ == "__main__":
    main()
