"""Small synthetic ink fixtures for nib's Rust and binding tests.

Renders a few words and a short line with the Hershey renderer at fixed
seeds and writes them as JSON ink (`{"strokes": [[[x, y, t_ms], ...]],
"label": ...}`, y down, coordinates rounded to 0.1 font units) to
`handwriting/testdata/ink/`. No UNIPEN data is involved: these files may be
committed. For each text the first seed (from 0) whose ink the released
model reads correctly by greedy decoding is kept, so the fixtures test the
Rust pipeline, not the model's weak spots.

  .cache/lm/venv/bin/python -m handwriting.train.fixtures
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from . import charset, preprocess
from .hershey import Renderer

# ONNX Runtime's PyPI build queues usage telemetry with a device id under
# ~/.cache/Microsoft unless this is set before the library loads.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "testdata" / "ink"
MODEL = ROOT / "models" / "nib-hw-1" / "model.int8.onnx"
# name -> text
TEXTS = {"hello": "hello", "world": "world", "line": "see you soon", "name": "Zorvik"}


def greedy(session, strokes) -> str:
    f = preprocess.features([s[:, :2] for s in strokes])
    lp = session.run(None, {"features": f[None]})[0]
    ids = lp.argmax(-1)
    out, last = [], 0
    for i in ids:
        if i != last and i != 0:
            out.append(int(i))
        last = i
    return charset.decode(out)


def main() -> None:
    import onnxruntime as ort

    session = ort.InferenceSession(str(MODEL), providers=["CPUExecutionProvider"])
    renderer = Renderer()
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in TEXTS.items():
        for seed in range(200):
            ink = renderer.render(text, np.random.default_rng(seed))
            if ink is None:
                continue
            ink = [np.round(s * np.array([1.0, 1.0, 1000.0]), 1) for s in ink]
            if greedy(session, ink) == text:
                break
        else:
            raise SystemExit(f"no seed renders {text!r} readably")
        doc = {"label": text, "seed": seed,
               "note": "synthetic (Hershey fonts, handwriting/train/fixtures.py); y down, t in ms",
               "strokes": [[[float(v) for v in p] for p in s] for s in ink]}
        path = OUT / f"{name}.json"
        path.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
        print(f"{path.relative_to(ROOT.parent)}: {text!r} seed {seed}, "
              f"{sum(len(s) for s in ink)} points, {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
