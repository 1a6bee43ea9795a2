"""Ink -> model features. The engine reimplements this exactly; the
specification is handwriting/FEATURES.md and the shared test vector is
handwriting/testdata/features.json (`python -m handwriting.train.preprocess
--write-testdata`). Change one, change all three, and bump FEATURES_VERSION.

All arithmetic is float64, in the order written here; the result is cast to
float32 at the end. No randomness. Time stamps are not used.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path

import numpy as np

FEATURES_VERSION = 1
STEP = 0.05        # resampling step, in units of the ink height h
SLANT_LIMIT = 1.0  # |shear| at most 45 degrees
NUM_FEATURES = 8
FEATURE_NAMES = ["dx", "dy", "y", "stroke_start", "cos_dir", "sin_dir", "cos_turn", "sin_turn"]


def clean(strokes) -> list[np.ndarray]:
    """Step 1: float64 (x, y) arrays; non-finite points dropped, then
    consecutive duplicate points within a stroke, then empty strokes."""
    out = []
    for s in strokes:
        a = np.asarray(s, dtype=np.float64).reshape(-1, np.shape(s)[-1] if np.ndim(s) == 2 else 2)[:, :2]
        a = a[np.isfinite(a).all(axis=1)]
        if len(a) == 0:
            continue
        keep = np.ones(len(a), dtype=bool)
        keep[1:] = (a[1:] != a[:-1]).any(axis=1)
        out.append(a[keep])
    return out


def height_stats(strokes: list[np.ndarray]) -> tuple[float, float]:
    """Step 2: mean and standard deviation of y along the ink's arc length.

    The ink is taken as the union of its segments (consecutive points of a
    stroke), y varying linearly along each: a segment of length l from y_a
    to y_b adds l to the total weight, l * (y_a + y_b) / 2 to the first
    moment and l * (y_a^2 + y_a * y_b + y_b^2) / 3 to the second. Then
    mean = M1 / W, var = max(M2 / W - mean^2, 0). Without any segment of
    positive length (dots only) the points count with weight 1 each."""
    w = m1 = m2 = 0.0
    for s in strokes:
        if len(s) > 1:
            ya, yb = s[:-1, 1], s[1:, 1]
            d = np.diff(s, axis=0)
            l = np.sqrt(d[:, 0] ** 2 + d[:, 1] ** 2)
            w += float(l.sum())
            m1 += float((l * (ya + yb) * 0.5).sum())
            m2 += float((l * (ya * ya + ya * yb + yb * yb) / 3.0).sum())
    if not w > 0:
        y = np.concatenate([s[:, 1] for s in strokes])
        w, m1, m2 = float(len(y)), float(y.sum()), float((y * y).sum())
    mean = m1 / w
    return mean, math.sqrt(max(m2 / w - mean * mean, 0.0))


def normalise(strokes: list[np.ndarray]) -> list[np.ndarray]:
    """Steps 2-4: position, size and slant.

    h = max(4 * std_y, (W + H) / 50), where W, H are the bounding-box width
    and height; h = 1 if that is 0. Then x' = (x - min_x) / h,
    y' = (y - mean_y) / h. Slant: over segments with |dy| > |dx| (closer to
    vertical than horizontal), s = sum(dx * sign(dy)) / sum(|dy|), clamped to
    [-1, 1]; x'' = x' - s * y'. y points down, so upright strokes end up
    vertical whether the writing leant right or left."""
    if not strokes:
        return []
    pts = np.concatenate(strokes)
    mean_y, std_y = height_stats(strokes)
    w = float(pts[:, 0].max() - pts[:, 0].min())
    hgt = float(pts[:, 1].max() - pts[:, 1].min())
    h = max(4.0 * std_y, (w + hgt) / 50.0)
    if not h > 0:
        h = 1.0
    min_x = float(pts[:, 0].min())
    out = [np.stack([(s[:, 0] - min_x) / h, (s[:, 1] - mean_y) / h], axis=1) for s in strokes]
    num, den = 0.0, 0.0
    for s in out:
        if len(s) > 1:
            d = np.diff(s, axis=0)
            m = np.abs(d[:, 1]) > np.abs(d[:, 0])
            num += float((d[m, 0] * np.sign(d[m, 1])).sum())
            den += float(np.abs(d[m, 1]).sum())
    slant = min(max(num / den, -SLANT_LIMIT), SLANT_LIMIT) if den > 0 else 0.0
    return [np.stack([s[:, 0] - slant * s[:, 1], s[:, 1]], axis=1) for s in out]


def resample(stroke: np.ndarray, step: float = STEP) -> np.ndarray:
    """Step 5: n + 1 points evenly spaced along the arc length L of the
    stroke, n = max(1, floor(L / step + 0.5)), both ends kept; a stroke of
    length 0 becomes its single first point. Linear interpolation: the
    target arc length k * L / n falls in the first segment whose cumulative
    end length is >= it."""
    if len(stroke) == 1:
        return stroke[:1].copy()
    d = np.diff(stroke, axis=0)
    seg = np.sqrt(d[:, 0] ** 2 + d[:, 1] ** 2)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    length = float(cum[-1])
    if length <= 0:
        return stroke[:1].copy()
    n = max(1, int(math.floor(length / step + 0.5)))
    target = length * np.arange(n + 1) / n
    j = np.minimum(np.searchsorted(cum[1:], target, side="left"), len(seg) - 1)
    frac = np.clip((target - cum[j]) / np.where(seg[j] > 0, seg[j], 1.0), 0.0, 1.0)
    out = stroke[j] + frac[:, None] * d[j]
    out[0], out[-1] = stroke[0], stroke[-1]
    return out


def _units(v: np.ndarray) -> np.ndarray:
    """Rows of v scaled to unit length; zero rows stay zero."""
    n = np.sqrt(v[:, 0] ** 2 + v[:, 1] ** 2)
    return v / np.where(n > 0, n, 1.0)[:, None]


def features(strokes) -> np.ndarray:
    """Ink (list of strokes of (x, y[, t]) points, y down) -> float32 [T, 8].

    Per resampled point i of the strokes concatenated in order:
      0 dx, 1 dy: offset from the previous point (across a pen lift too; 0 for
        the first point of the ink)
      2 y: normalised height
      3 stroke_start: 1 for the first point of every stroke, else 0
      4 cos_dir, 5 sin_dir: unit vector from the previous to the next point
        of the same stroke (at stroke ends the one existing neighbour and the
        point itself; 0, 0 for a one-point stroke)
      6 cos_turn, 7 sin_turn: turning angle at the point, from the unit
        vectors u = p_i - p_(i-1) and v = p_(i+1) - p_i of the same stroke:
        cos = u.v, sin = u_x v_y - u_y v_x; 1, 0 at stroke ends."""
    strokes = [resample(s) for s in normalise(clean(strokes))]
    parts = []
    prev = None
    for s in strokes:
        n = len(s)
        f = np.zeros((n, NUM_FEATURES))
        f[1:, 0:2] = s[1:] - s[:-1]
        if prev is not None:
            f[0, 0:2] = s[0] - prev
        f[:, 2] = s[:, 1]
        f[0, 3] = 1.0
        f[:, 6] = 1.0
        if n > 1:
            nxt = np.concatenate([s[1:], s[-1:]])
            prv = np.concatenate([s[:1], s[:-1]])
            f[:, 4:6] = _units(nxt - prv)
            seg = _units(s[1:] - s[:-1])
            u, v = seg[:-1], seg[1:]
            f[1:-1, 6] = u[:, 0] * v[:, 0] + u[:, 1] * v[:, 1]
            f[1:-1, 7] = u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]
        parts.append(f)
        prev = s[-1]
    out = np.concatenate(parts) if parts else np.zeros((0, NUM_FEATURES))
    return out.astype(np.float32)


# Small inks for the shared test vector: names, strokes (x, y, t), y down.
TEST_INKS = {
    "empty": [],
    "single_point": [[[10.0, 20.0, 0.0]]],
    "duplicate_points": [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.01], [3.0, 4.0, 0.02], [3.0, 4.0, 0.03], [6.0, 0.0, 0.04]]],
    "nan_point": [[[0.0, 0.0, 0.0], [float("nan"), 1.0, 0.01], [1.0, 2.0, 0.02], [2.0, 0.5, 0.03]]],
    "horizontal_dash": [[[0.0, 5.0, 0.0], [10.0, 5.0, 0.1], [20.0, 5.0, 0.2]]],
    "slanted_l": [[[40.0, 0.0, 0.0], [30.0, 50.0, 0.1], [20.0, 100.0, 0.2]]],
    "two_strokes_t": [[[50.0, 0.0, 0.0], [50.0, 60.0, 0.1], [60.0, 80.0, 0.2]],
                      [[35.0, 20.0, 0.5], [70.0, 22.0, 0.6]]],
    "i_with_dot": [[[0.0, 20.0, 0.0], [1.0, 40.0, 0.1], [2.0, 60.0, 0.2]], [[1.5, 5.0, 0.4]]],
    "curve": [[[100 + 30 * math.cos(a / 8), 100 + 20 * math.sin(a / 8), a / 100.0] for a in range(40)]],
}


def write_testdata(path: Path) -> None:
    cases = []
    for name, ink in TEST_INKS.items():
        f = features(ink)
        cases.append({
            "name": name,
            "strokes": [[[None if not math.isfinite(v) else v for v in p] for p in s] for s in ink],
            "features": [[float(f"{v:.7g}") + 0.0 for v in row] for row in f],
        })
    doc = {
        "features_version": FEATURES_VERSION,
        "feature_names": FEATURE_NAMES,
        "tolerance": 1e-4,
        "note": "strokes are lists of [x, y, t], y down; null is NaN. Generated by "
                "`python -m handwriting.train.preprocess --write-testdata`.",
        "cases": cases,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # one point or feature row per line: readable diffs, modest size
    text = json.dumps(doc, indent=1)
    text = re.sub(r"\[\s+([^\[\]]*?)\s+\]", lambda m: "[" + re.sub(r"\s+", " ", m.group(1)) + "]", text)
    path.write_text(text + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write-testdata", action="store_true")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "testdata" / "features.json"))
    args = ap.parse_args()
    if args.write_testdata:
        write_testdata(Path(args.out))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
