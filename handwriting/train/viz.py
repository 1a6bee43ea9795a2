"""Preprocessing sanity check: draws normalised, resampled inks to look at.

Writes <out>/samples.svg and <out>/samples.png (a grid; PNG without any
imaging library): UNIPEN samples of several contributors and categories, and
synthetic Hershey words in all seven languages, each after `normalise` and
`resample` (the points the features are computed from), with the label under
it. Check that words are upright, not mirrored, and of similar size.

  python -m handwriting.train.viz --out .cache/handwriting/viz
"""

from __future__ import annotations

import argparse
import html
import struct
import zlib
from pathlib import Path

import numpy as np

from . import preprocess
from .hershey import Renderer
from .unipen import load_cached

CELL_W, CELL_H, SCALE = 320, 110, 40.0


def _png(path: Path, img: np.ndarray) -> None:
    h, w = img.shape
    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _line(img, x0, y0, x1, y1, v=0):
    n = int(max(abs(x1 - x0), abs(y1 - y0)) * 2) + 1
    for t in np.linspace(0, 1, n):
        x, y = int(round(x0 + (x1 - x0) * t)), int(round(y0 + (y1 - y0) * t))
        if 0 <= y < img.shape[0] and 0 <= x < img.shape[1]:
            img[y, x] = v


def draw(items, out: Path, cols: int = 4) -> None:
    rows = (len(items) + cols - 1) // cols
    img = np.full((rows * CELL_H, cols * CELL_W), 255, np.uint8)
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{cols * CELL_W}" height="{rows * CELL_H}">',
           '<rect width="100%" height="100%" fill="white"/>']
    for i, (label, strokes) in enumerate(items):
        ox, oy = (i % cols) * CELL_W + 10, (i // cols) * CELL_H + 50
        norm = [preprocess.resample(s) for s in preprocess.normalise(preprocess.clean(strokes))]
        # baseline marks: y = 0 is the mean height
        _line(img, ox, oy, ox + 8, oy, 160)
        for s in norm:
            pts = [(ox + x * SCALE, oy + y * SCALE) for x, y in s]
            svg.append('<polyline fill="none" stroke="black" stroke-width="1.5" points="'
                       + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) + '"/>')
            for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
                _line(img, x0, y0, x1, y1)
            if len(pts) == 1:
                _line(img, pts[0][0], pts[0][1], pts[0][0], pts[0][1])
        svg.append(f'<text x="{ox}" y="{oy + 55}" font-size="11" fill="red">{html.escape(label[:45])}</text>')
    svg.append("</svg>")
    out.mkdir(parents=True, exist_ok=True)
    (out / "samples.svg").write_text("\n".join(svg), encoding="utf-8")
    _png(out / "samples.png", img)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=".cache/handwriting/unipen")
    ap.add_argument("--cache", default=".cache/handwriting/unipen_samples.pkl")
    ap.add_argument("--out", default=".cache/handwriting/viz")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    samples, _, _ = load_cached(Path(args.root), Path(args.cache))
    items = []
    by_cat = {}
    for s in samples:
        by_cat.setdefault(s.category, []).append(s)
    for cat, n in (("6", 10), ("7", 4), ("8", 4), ("1c", 2)):
        for k in rng.choice(len(by_cat[cat]), n, replace=False):
            s = by_cat[cat][k]
            items.append((f"{s.contributor}/{cat}: {s.label}", [st[:, :2] for st in s.strokes]))
    r = Renderer()
    for text in ("Straße", "façade", "niño", "pão", "perché", "ёлка", "Щука", "съешь этих", "Hello world", "Ärger"):
        ink = r.render(text, rng)
        if ink is not None:
            items.append((f"synthetic: {text}", [st[:, :2] for st in ink]))
    draw(items, Path(args.out))
    print(f"wrote {args.out}/samples.svg and samples.png ({len(items)} inks)")


if __name__ == "__main__":
    main()
