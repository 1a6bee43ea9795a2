"""Training and validation data: UNIPEN samples split by contributor, and
synthetic Hershey ink from the language model corpus's word lists.

Augmentation (training only) acts on the raw ink before the features: a
random rotation (+-4 degrees), shear (+-0.25), horizontal stretch
(0.85-1.15), point jitter (up to 1% of the ink height) and, sometimes,
dropping every other point (slower or sparser digitisers). The feature
pipeline then normalises position, size and slant as at inference.

`AUGMENT = "strong"` (train.py --augment strong) adds writer variety on top
(augment_strong): wider rotation, shear and stretch ranges, letter widths
varying along the word (piecewise horizontal stretch), a bent baseline,
letter heights varying along the word, a smooth low-frequency elastic
displacement, small per-stroke offsets (larger for dots and bars) and
random point-density changes. The features themselves are unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import charset, preprocess
from .hershey import Renderer
from .model import out_length
from .unipen import load_cached

# Validation writers (never trained on): chosen among the contributors of
# words (6, 7) and lines (8) so that cursive, mixed and printed (art) words and
# single text lines (art) are all covered: about 16% of the words.
VALID_CONTRIBUTORS = ("apc", "ape", "int", "lou", "imp", "art")
LANGS = ("en", "de", "fr", "es", "it", "pt", "ru")
MAX_LINE_CHARS = 60
# Category 8 holds single lines but also blocks of several lines or columns
# of words under one label (apb, apc, apd, ape, part of att and scr). Once
# normalised by height those have far fewer points per character (median
# 4-5 against 25-40 for lines; see README): below this they are dropped.
MIN_LINE_POINTS_PER_CHAR = 12
MAX_POINTS = 1600


@dataclass
class Item:
    ids: list
    label: str
    group: str  # unipen-6, unipen-7, unipen-8, unipen-chars, synth-latin, synth-cyrillic
    strokes: list | None = None  # raw strokes [n, 2], y down
    features: np.ndarray | None = None
    style: str = ""
    contributor: str = ""


def _group(cat: str) -> str:
    return f"unipen-{cat}" if cat in ("6", "7", "8") else "unipen-chars"


def _feasible(n_points: int, ids: list) -> bool:
    """CTC needs a frame per label plus one between repeated labels, with slack."""
    repeats = sum(1 for a, b in zip(ids, ids[1:]) if a == b)
    return out_length(n_points) >= 1.5 * (len(ids) + repeats) and n_points <= MAX_POINTS


def unipen_items(root: Path, cache: Path, log=print, with_train: bool = True):
    samples, stats, orientation = load_cached(root, cache)
    train, valid = [], []
    dropped = {}
    by_cat: dict = {}
    for s in samples:
        split = "valid" if s.contributor in VALID_CONTRIBUTORS else "train"
        c = by_cat.setdefault(s.category, {"train": 0, "valid": 0, "train_contributors": set(),
                                           "valid_contributors": set()})
        c[split] += 1
        c[f"{split}_contributors"].add(s.contributor)
    stats = dict(stats)
    stats["by_category"] = {k: {**{n: v for n, v in c.items() if not n.endswith("contributors")},
                                "train_contributors": len(c["train_contributors"]),
                                "valid_contributors": len(c["valid_contributors"])}
                            for k, c in sorted(by_cat.items())}
    for s in samples:
        if not with_train and s.contributor not in VALID_CONTRIBUTORS:
            continue
        label = charset.normalise_label(s.label)
        ids = charset.encode(label)
        reason = None
        if not ids:
            reason = "label outside charset" if label else "empty label"
        elif s.category == "8" and len(label) > MAX_LINE_CHARS:
            reason = "line too long"
        else:
            strokes = [st[:, :2] for st in s.strokes]
            n = len(preprocess.features(strokes))
            if s.category == "8" and n < MIN_LINE_POINTS_PER_CHAR * len(label):
                reason = "text block of several lines"
            elif not _feasible(n, ids):
                reason = "too few or too many points for the label"
        if reason:
            dropped[reason] = dropped.get(reason, 0) + 1
            continue
        item = Item(ids, label, _group(s.category), strokes, style=s.style, contributor=s.contributor)
        (valid if s.contributor in VALID_CONTRIBUTORS else train).append(item)
    stats["dropped"] = dropped
    log(f"unipen: {len(train)} train, {len(valid)} valid samples; dropped {dropped}")
    return train, valid, stats


def corpus_words(corpus_dir: Path, lang: str, split: str, limit_bytes: int, renderer: Renderer):
    """Renderable tokens (words with their punctuation) of a corpus file."""
    path = corpus_dir / f"{split}.{lang}.txt"
    with path.open("rb") as f:
        text = f.read(limit_bytes).decode("utf-8", errors="ignore")
    words = []
    for tok in re.split(r"\s+", text):
        tok = charset.normalise_label(tok)
        if tok and len(tok) <= 20 and charset.encode(tok) and renderer.can_render(tok, lang == "ru"):
            words.append(tok)
    return words


class Synth:
    """Synthetic words and short phrases, Russian weighted up (the only Cyrillic)."""

    LANG_P = {"en": 0.08, "de": 0.11, "fr": 0.11, "es": 0.11, "it": 0.11, "pt": 0.11, "ru": 0.37}

    def __init__(self, corpus_dir: Path, split: str, limit_bytes: int, log=print):
        self.renderer = Renderer()
        self.words = {l: corpus_words(corpus_dir, l, split, limit_bytes, self.renderer) for l in LANGS}
        log("synthetic word lists: " + ", ".join(f"{l} {len(w)}" for l, w in self.words.items()))
        self.langs = list(self.LANG_P)
        self.p = np.array([self.LANG_P[l] for l in self.langs])

    def sample(self, rng: np.random.Generator, lang: str | None = None) -> Item | None:
        lang = lang or self.langs[rng.choice(len(self.langs), p=self.p)]
        words = self.words[lang]
        n = 1 if rng.random() < 0.8 else int(rng.integers(2, 5))
        start = int(rng.integers(len(words)))
        text = " ".join(words[(start + k) % len(words)] for k in range(n))
        if len(text) > MAX_LINE_CHARS:
            text = words[start]
        ink = self.renderer.render(text, rng, cyrillic=(lang == "ru"))
        ids = charset.encode(text)
        if ink is None or not ids:
            return None
        return Item(ids, text, "synth-cyrillic" if lang == "ru" else "synth-latin",
                    [s[:, :2] for s in ink], contributor=f"synth-{lang}")


def augment(strokes: list, rng: np.random.Generator) -> list:
    pts = np.concatenate(strokes)
    c = pts.mean(axis=0)
    h = max(float(np.ptp(pts[:, 1])), 1e-6)
    a = np.deg2rad(rng.uniform(-4, 4))
    shear = rng.uniform(-0.25, 0.25)
    sx = rng.uniform(0.85, 1.15)
    m = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) @ np.array([[sx, shear], [0.0, 1.0]])
    jitter = rng.uniform(0, 0.01) * h
    thin = rng.random() < 0.2
    out = []
    for s in strokes:
        s = (s - c) @ m.T + c
        if jitter > 0:
            s = s + rng.normal(0, jitter, s.shape)
        if thin and len(s) > 4:
            s = np.concatenate([s[:-1:2], s[-1:]])
        out.append(s)
    return out


# Training augmentation: "default" (augment) or "strong" (augment_strong).
AUGMENTS = ("default", "strong")
AUGMENT = "default"


def _smooth_curve(rng: np.random.Generator, u: np.ndarray, span: float, knot: float, sigma: float) -> np.ndarray:
    """A smooth random function of u in [0, span]: N(0, sigma) values at knots
    about `knot` apart (random phase), interpolated with a cosine ease."""
    n = min(max(2, int(np.ceil(span / knot)) + 2), 256)
    xs = (np.arange(n) - rng.uniform(0, 1)) * (span / max(n - 2, 1))
    ys = rng.normal(0, sigma, n)
    k = np.clip(np.searchsorted(xs, u) - 1, 0, n - 2)
    t = np.clip((u - xs[k]) / (xs[k + 1] - xs[k]), 0.0, 1.0)
    t = 0.5 - 0.5 * np.cos(np.pi * t)
    return ys[k] * (1 - t) + ys[k + 1] * t


def augment_strong(strokes: list, rng: np.random.Generator) -> list:
    """Writer variety for new writers; all lengths in units of the ink height h."""
    strokes = [np.asarray(s, dtype=np.float64) for s in strokes if len(s)]
    if not strokes:
        return strokes
    lens = [len(s) for s in strokes]
    pts = np.concatenate(strokes)
    y0 = float(pts[:, 1].min())
    # the height, or a tenth of the width for flat ink (dashes, dots in a row)
    h = max(float(np.ptp(pts[:, 1])), 0.1 * float(np.ptp(pts[:, 0])), 1e-6)
    x0 = float(pts[:, 0].min())
    # work in height units from the top-left corner
    p = np.empty_like(pts)
    p[:, 0] = (pts[:, 0] - x0) / h
    p[:, 1] = (pts[:, 1] - y0) / h
    w = max(float(p[:, 0].max()), 1e-3)

    # letter widths varying along the word: x -> integral of exp(g(x))
    if rng.random() < 0.7:
        grid = np.linspace(0.0, w, 65)
        dens = np.exp(_smooth_curve(rng, grid, w, rng.uniform(0.3, 0.8), rng.uniform(0.1, 0.3)))
        cum = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(grid))])
        cum *= w / cum[-1]
        p[:, 0] = np.interp(p[:, 0], grid, cum)
    u = p[:, 0]
    # letter heights varying along the word (about the ink's middle)
    if rng.random() < 0.4:
        s = np.exp(_smooth_curve(rng, u, w, rng.uniform(0.6, 1.5), 0.1))
        p[:, 1] = 0.5 + (p[:, 1] - 0.5) * s
    # bent baseline: a parabola and a slow wave along the word
    if rng.random() < 0.5:
        c = rng.normal(0, 0.15) / max(w, 1.0) ** 2
        p[:, 1] += c * (u - 0.5 * w) ** 2 + _smooth_curve(rng, u, w, rng.uniform(1.0, 2.5), 0.05)
    # smooth elastic displacement (low frequency in x and y)
    if rng.random() < 0.5:
        amp = rng.uniform(0.01, 0.05)
        for axis in (0, 1):
            fx, fy = rng.uniform(0.5, 2.0), rng.uniform(0.3, 1.5)  # cycles per height
            ph = rng.uniform(0, 2 * np.pi, 2)
            p[:, axis] += amp * np.sin(2 * np.pi * fx * u + ph[0]) * np.cos(2 * np.pi * fy * p[:, 1] + ph[1])

    # global rotation, shear (slant), stretch, a little vertical squash
    a = np.deg2rad(rng.uniform(-7, 7))
    shear = rng.uniform(-0.45, 0.45)
    sx = np.exp(rng.uniform(np.log(0.7), np.log(1.4)))
    sy = rng.uniform(0.9, 1.1)
    m = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) @ np.array([[sx, shear], [0.0, sy]])
    c0 = p.mean(axis=0)
    p = (p - c0) @ m.T + c0

    out = []
    jitter = rng.uniform(0, 0.012)
    offsets = rng.random() < 0.5
    density = rng.random()
    start = 0
    for n in lens:
        s = p[start:start + n]
        start += n
        if offsets:
            ext = float(np.ptp(s, axis=0).max()) if n > 1 else 0.0
            sd = 0.04 if ext < 0.25 else 0.012  # dots, bars and accents move more
            s = s + rng.normal(0, sd, 2)
        if jitter > 0:
            s = s + rng.normal(0, jitter, s.shape)
        if n > 4:
            if density < 0.15:  # every other or every third point
                k = int(rng.integers(2, 4))
                s = np.concatenate([s[:-1:k], s[-1:]])
            elif density < 0.3:  # random point drops (uneven pen speed / sampling)
                keep = rng.random(n) > rng.uniform(0.2, 0.6)
                keep[0] = keep[-1] = True
                s = s[keep]
            elif density < 0.4:  # a smoother, low-pass digitiser
                s = np.concatenate([s[:1], (s[:-2] + 2 * s[1:-1] + s[2:]) / 4, s[-1:]])
        out.append(s * h)
    return out


def item_features(item: Item, rng: np.random.Generator | None) -> np.ndarray:
    if rng is None:
        if item.features is None:
            item.features = preprocess.features(item.strokes)
        return item.features
    aug = augment_strong if AUGMENT == "strong" else augment
    return preprocess.features(aug(item.strokes, rng))
