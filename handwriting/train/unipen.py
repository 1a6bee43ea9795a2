"""UNIPEN reader: the label files under data/<category>/<contributor>/ and the
pen data they pull in with .INCLUDE from include/.

A UNIPEN file is a flat list of keyword lines (".KEYWORD args") and the
coordinate lines that follow .PEN_DOWN / .PEN_UP. Each .PEN_DOWN or .PEN_UP
block that holds at least one point is a *component*; components are numbered
from 0 in the order they appear across the whole label file, includes
expanded in place (the `abm` files number their pen-up blocks, the `art`
files have empty pen-up blocks that are not counted; both agree with this
rule). A `.SEGMENT LEVEL delineation quality "label"` names components as
`a-b`, `a`, or with point offsets `a:p-b:q` (inclusive), several ranges
separated by commas. Only pen-down components become strokes.

Orientation: tablets differ, so y points up for some contributors and down
for others. Samples are returned in *screen* orientation (y grows downwards,
as on a phone or tablet screen and in nib's ink format); see `orient()` for
how the raw orientation is decided.

Usage as a script (statistics, and the sample cache used by train.py):
  python -m handwriting.train.unipen --root .cache/handwriting/unipen --stats
"""

from __future__ import annotations

import argparse
import pickle
import re
import sys
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Category -> the segment level that carries its samples.
LEVEL = {"1a": "CHARACTER", "1b": "CHARACTER", "1c": "CHARACTER", "1d": "CHARACTER",
         "2": "CHARACTER", "3": "CHARACTER", "6": "WORD", "7": "WORD", "8": "TEXT"}
CATEGORIES = list(LEVEL)


@dataclass
class Sample:
    contributor: str
    category: str
    label: str
    quality: str
    strokes: list  # list of float64 arrays [n, 3]: x, y (screen orientation, raw units), t (s)
    source: str  # label file, relative to the root, and the delineation
    style: str = ""


@dataclass
class _Doc:
    """Pen data of one label file with its includes expanded."""
    components: list = field(default_factory=list)  # (pen_down: bool, array [n, 3])
    coord: list = field(default_factory=lambda: ["X", "Y"])
    points_per_second: float = 0.0
    x_res: float = 0.0
    y_res: float = 0.0
    style: str = ""
    segments: list = field(default_factory=list)  # (level, delineation, quality, label)
    missing: list = field(default_factory=list)
    includes: list = field(default_factory=list)


_SEGMENT = re.compile(r'^\.SEGMENT\s+(\S+)\s+(\S+)(?:\s+(\S+))?(?:\s+"(.*)")?\s*$')


def _read_text(path: Path) -> list[str]:
    return path.read_bytes().decode("latin-1").splitlines()


def _parse(path: Path, root: Path, doc: _Doc, depth: int = 0) -> None:
    if depth > 8:
        raise ValueError(f"{path}: .INCLUDE nested too deeply")
    block: list | None = None
    pen_down = False
    t0 = 0.0  # running clock for data without a T column

    def close():
        nonlocal block, t0
        if block:
            doc.components.append((pen_down, _points(block, doc, t0)))
            t0 = doc.components[-1][1][-1, 2] + 1.0 / max(doc.points_per_second, 1.0)
        block = None

    for line in _read_text(path):
        if line.startswith("."):
            parts = line.split(None, 1)
            key = parts[0]
            arg = parts[1].strip() if len(parts) > 1 else ""
            if key in (".PEN_DOWN", ".PEN_UP"):
                close()
                block, pen_down = [], key == ".PEN_DOWN"
                continue
            close()
            if key == ".INCLUDE":
                inc = _resolve(arg, path, root)
                if inc is None:
                    doc.missing.append(arg)
                else:
                    doc.includes.append(str(inc.relative_to(root)))
                    _parse(inc, root, doc, depth + 1)
            elif key == ".COORD":
                doc.coord = arg.split()
            elif key == ".POINTS_PER_SECOND":
                doc.points_per_second = _num(arg)
            elif key in (".X_POINTS_PER_INCH", ".X_POINTS_PER_MM"):
                doc.x_res = _num(arg) * (1.0 if key.endswith("INCH") else 25.4)
            elif key in (".Y_POINTS_PER_INCH", ".Y_POINTS_PER_MM"):
                doc.y_res = _num(arg) * (1.0 if key.endswith("INCH") else 25.4)
            elif key == ".DT":
                t0 += _num(arg) / 1000.0
            elif key == ".STYLE":
                doc.style = arg.split()[0].upper() if arg else ""
            elif key == ".SEGMENT":
                m = _SEGMENT.match(line.strip())
                if m:
                    label = (m.group(4) or "").replace('\\"', '"')
                    doc.segments.append((m.group(1), m.group(2), m.group(3) or "?", label))
        elif block is not None:
            fields = line.split()
            if len(fields) >= 2:
                block.append(fields)
    close()


def _num(text: str) -> float:
    try:
        return float(text.split()[0])
    except (ValueError, IndexError):
        return 0.0


def _resolve(arg: str, here: Path, root: Path) -> Path | None:
    name = arg.split()[0] if arg else ""
    for base in (root / "include", here.parent, root):
        p = base / name
        if p.is_file():
            return p
    return None


def _points(block: list, doc: _Doc, t0: float) -> np.ndarray:
    cols = [c.upper() for c in doc.coord]
    ix, iy = cols.index("X") if "X" in cols else 0, cols.index("Y") if "Y" in cols else 1
    it = cols.index("T") if "T" in cols else -1
    out = np.zeros((len(block), 3), dtype=np.float64)
    rate = doc.points_per_second if doc.points_per_second > 0 else 100.0
    n = 0
    for fields in block:
        try:
            x, y = float(fields[ix]), float(fields[iy])
            t = float(fields[it]) / 1000.0 if 0 <= it < len(fields) else t0 + n / rate
        except (ValueError, IndexError):
            continue
        out[n] = (x, y, t)
        n += 1
    out = out[:n]
    if doc.x_res > 0 and doc.y_res > 0 and abs(doc.x_res - doc.y_res) > 1e-6 * doc.x_res:
        out[:, 1] *= doc.x_res / doc.y_res  # square units
    return out if n else np.zeros((0, 3))


def _delineate(spec: str, components: list) -> list | None:
    """Strokes (pen-down point arrays) named by a delineation, or None if out of range."""
    strokes = []
    for part in spec.split(","):
        if not part:
            continue
        a, _, b = part.partition("-")
        ca, _, pa = a.partition(":")
        cb, _, pb = (b or a).partition(":")
        try:
            ca, cb = int(ca), int(cb)
            pa = int(pa) if pa else None
            pb = int(pb) if pb else None
        except ValueError:
            return None
        if ca < 0 or cb >= len(components) or ca > cb:
            return None
        for c in range(ca, cb + 1):
            down, pts = components[c]
            lo = pa if (c == ca and pa is not None) else 0
            hi = pb + 1 if (c == cb and pb is not None) else len(pts)
            if down and hi > lo:
                strokes.append(pts[lo:hi])
    return strokes


def _orientation_votes(label: str, strokes: list) -> list:
    """Votes on the raw y direction from one labelled sample: +1 for y down, -1 for y up.

    Two cues that hold for nearly every writer: a character drawn as one
    vertical stroke ("1", "l", "I") is drawn from top to bottom, and the dot
    of an "i" or "j" (a stroke smaller than 5% of the ink height) lies above
    the median height of the ink. (Ascender/descender skew was tried and is
    too weak: some contributors split almost evenly.)"""
    votes = []
    if label in ("1", "l", "I") and len(strokes) == 1 and len(strokes[0]) > 3:
        d = strokes[0][-1, 1] - strokes[0][0, 1]
        if d != 0:
            votes.append(1.0 if d > 0 else -1.0)
    if len(label) > 1 and ("i" in label or "j" in label) and len(strokes) >= 2:
        y = np.concatenate([s[:, 1] for s in strokes])
        height = np.ptp(y)
        if height > 0:
            med = np.median(y)
            for s in strokes:
                if max(np.ptp(s[:, 0]), np.ptp(s[:, 1])) < 0.05 * height:
                    c = s[:, 1].mean()
                    if c != med:
                        votes.append(1.0 if c < med else -1.0)
    return votes


def orient(votes: dict) -> dict:
    """Contributor -> True if raw y points down (screen orientation).

    The majority of a contributor's votes (`_orientation_votes`) decides for
    all of its files. In train_r01_v07 every contributor with votes comes out
    y up (margins of 60-100% for most), so contributors without any (rim,
    atu: capitals and lines without dots) default to y up."""
    return {c: (sum(v) > 0) for c, v in votes.items()}


def iter_label_files(root: Path, categories=CATEGORIES):
    for cat in categories:
        base = root / "data" / cat
        if not base.is_dir():
            continue
        for contributor in sorted(p.name for p in base.iterdir() if p.is_dir()):
            for f in sorted((base / contributor).rglob("*")):
                if f.is_file():
                    yield cat, contributor, f


def read(root: Path, categories=CATEGORIES, log=sys.stderr):
    """All usable samples, in screen orientation, with the file statistics.

    Segments of the wrong level for their category, quality BAD, empty
    labels, delineations out of range and segments whose pen data is
    missing are skipped (missing includes with a warning)."""
    root = Path(root)
    raw: list[Sample] = []
    stats = Counter()
    seen = set()
    votes = defaultdict(list)
    for cat, contributor, f in iter_label_files(root, categories):
        doc = _Doc()
        try:
            _parse(f, root, doc)
        except (OSError, ValueError) as e:
            print(f"warning: {f.relative_to(root)}: {e}; skipped", file=log)
            stats["files_broken"] += 1
            continue
        stats["files"] += 1
        data_missing = [m for m in doc.missing if m.split()[0].lower().endswith(".dat")]
        if data_missing:
            print(f"warning: {f.relative_to(root)}: missing include {', '.join(data_missing)}; "
                  f"its {len(doc.segments)} segments skipped", file=log)
            stats["files_missing_include"] += 1
            stats["segments_missing_include"] += len(doc.segments)
            continue
        for level, spec, quality, label in doc.segments:
            if level.upper() != LEVEL[cat]:
                continue
            stats["segments"] += 1
            if quality.upper() == "BAD" or not label.strip():
                stats["skipped_bad_or_unlabelled"] += 1
                continue
            key = (tuple(doc.includes), spec, label)
            if key in seen:
                stats["skipped_duplicate"] += 1
                continue
            strokes = _delineate(spec, doc.components)
            if not strokes:
                stats["skipped_out_of_range"] += 1
                continue
            seen.add(key)
            s = Sample(contributor, cat, label, quality.upper(), strokes,
                       f"{f.relative_to(root)} {spec}", doc.style)
            raw.append(s)
            votes[contributor].extend(_orientation_votes(label, strokes))
    votes.update({s.contributor: votes.get(s.contributor, []) for s in raw})
    down = orient(votes)
    for s in raw:
        if not down.get(s.contributor, False):
            s.strokes = [st * np.array([1.0, -1.0, 1.0]) for st in s.strokes]
    stats["contributors_y_down"] = sum(down.values())
    stats["contributors_y_up"] = len(down) - sum(down.values())
    return raw, stats, {c: ("down" if d else "up", sum(1 for v in votes[c] if v > 0),
                            sum(1 for v in votes[c] if v < 0)) for c, d in down.items()}


def load_cached(root: Path, cache: Path):
    """`read()` once, then from a pickle in the cache."""
    cache = Path(cache)
    if cache.exists():
        with cache.open("rb") as f:
            rows, stats, orientation = pickle.load(f)
        return [Sample(**r) for r in rows], stats, orientation
    samples, stats, orientation = read(root)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    with tmp.open("wb") as f:  # plain dicts: loadable whichever module defines Sample
        pickle.dump(([vars(s) for s in samples], dict(stats), orientation), f,
                    protocol=pickle.HIGHEST_PROTOCOL)
    tmp.rename(cache)
    return samples, stats, orientation


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=".cache/handwriting/unipen")
    ap.add_argument("--cache", default=".cache/handwriting/unipen_samples.pkl")
    args = ap.parse_args()
    samples, stats, orientation = load_cached(Path(args.root), Path(args.cache))
    print(dict(stats))
    per = Counter((s.category) for s in samples)
    print("samples per category:", dict(sorted(per.items())))
    contribs = defaultdict(set)
    for s in samples:
        contribs[s.category].add(s.contributor)
    print("contributors per category:", {k: len(v) for k, v in sorted(contribs.items())})
    for c, (o, plus, minus) in sorted(orientation.items()):
        print(f"  {c}: y {o} (votes down {plus}, up {minus})")


if __name__ == "__main__":
    main()
