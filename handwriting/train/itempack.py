"""A compact file of the UNIPEN training and validation items, for training
on another machine (a GPU lent for minutes) without the raw tree or the
650 MB sample cache:

  python -m handwriting.train.itempack --out .cache/handwriting/items.npz.xz [--chars 30000]

Stroke points are stored as integer deltas: exactly, in tablet units, for the
items whose coordinates are integers (almost all), else on a grid of 1/2000
of the item's height (well under the augmentation's jitter; the features
normalise position and size); labels and metadata as arrays; `load()` returns the
same `Item` lists as `data.unipen_items`. `--chars` keeps a random subset of
the isolated characters (5 % of the training mix).
"""

from __future__ import annotations

import argparse
import io
import lzma
from pathlib import Path

import numpy as np

from .data import Item, unipen_items

REPO = Path(__file__).resolve().parents[2]
GRID_PER_HEIGHT = 2000.0


def save(path: Path, train: list, valid: list) -> None:
    items = [(it, 0) for it in train] + [(it, 1) for it in valid]
    stroke_lengths, starts, deltas = [], [], []
    for it, _ in items:
        allpts = np.concatenate(it.strokes)
        origin = np.floor(allpts.min(axis=0))
        if np.array_equal(allpts, np.rint(allpts)):
            grid = 1.0
        else:  # a dash or a dot has no height: its width (or a floor) sets the grid
            extent = max(float(np.ptp(allpts[:, 1])), float(np.ptp(allpts[:, 0])) / 40, 1e-3)
            grid = extent / GRID_PER_HEIGHT
        for s in it.strokes:
            pts = np.rint((s - origin) / grid).astype(np.int64)
            stroke_lengths.append(len(pts))
            starts.append(pts[0])
            deltas.append(np.diff(pts, axis=0))
    d = np.concatenate(deltas)
    buf = io.BytesIO()
    np.savez(
        buf,
        stroke_starts=np.array(starts, np.int32),
        deltas=d.astype(np.int16 if np.abs(d).max() < 2**15 else np.int32),
        stroke_lengths=np.array(stroke_lengths, np.int32),
        strokes_per_item=np.array([len(it.strokes) for it, _ in items], np.int32),
        split=np.array([s for _, s in items], np.int8),
        labels=np.array([it.label for it, _ in items]),
        groups=np.array([it.group for it, _ in items]),
        styles=np.array([it.style for it, _ in items]),
        contributors=np.array([it.contributor for it, _ in items]),
        ids=np.array([np.array(it.ids, np.int16) for it, _ in items], dtype=object),
    )
    path.write_bytes(lzma.compress(buf.getvalue(), preset=6))


def load(path: Path, log=print) -> tuple[list, list]:
    z = dict(np.load(io.BytesIO(lzma.decompress(path.read_bytes())), allow_pickle=True))  # read each array once
    lengths, deltas = z["stroke_lengths"], z["deltas"].astype(np.float64)
    ends = np.cumsum(lengths - 1)
    strokes = [np.concatenate([p0[None, :], p0 + np.cumsum(deltas[b - (n - 1):b], axis=0)])
               for p0, n, b in zip(z["stroke_starts"].astype(np.float64), lengths, ends)]
    train, valid = [], []
    k = 0
    for i, n in enumerate(z["strokes_per_item"]):
        item = Item([int(c) for c in z["ids"][i]], str(z["labels"][i]), str(z["groups"][i]),
                    strokes[k:k + n], style=str(z["styles"][i]), contributor=str(z["contributors"][i]))
        k += n
        (valid if z["split"][i] else train).append(item)
    log(f"item pack {path}: {len(train)} train, {len(valid)} valid samples")
    return train, valid


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--unipen", default=str(REPO / ".cache/handwriting/unipen"))
    ap.add_argument("--unipen-cache", default=str(REPO / ".cache/handwriting/unipen_samples.pkl"))
    ap.add_argument("--out", default=str(REPO / ".cache/handwriting/items.npz.xz"))
    ap.add_argument("--chars", type=int, default=30000, help="isolated characters kept for training")
    args = ap.parse_args()
    train, valid, _ = unipen_items(Path(args.unipen), Path(args.unipen_cache))
    rng = np.random.default_rng(7)
    chars = [it for it in train if it.group == "unipen-chars"]
    keep = set(rng.choice(len(chars), min(args.chars, len(chars)), replace=False).tolist())
    chars = [c for i, c in enumerate(chars) if i in keep]
    train = [it for it in train if it.group != "unipen-chars"] + chars
    save(Path(args.out), train, valid)
    print(f"{args.out}: {Path(args.out).stat().st_size / 1e6:.1f} MB, {len(train)} train, {len(valid)} valid")


if __name__ == "__main__":
    main()
