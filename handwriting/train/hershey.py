"""Synthetic ink from the Hershey vector fonts (Debian hershey-fonts-data).

The fonts give clean polylines; handwriting is not clean, so every rendered
word gets its own slant, width, letter spacing, baseline wobble, per-glyph
displacement, per-point jitter and smoothing, and the pen stays down between
glyphs of the script fonts where one glyph ends close to where the next
begins (cursive joins). Characters the fonts lack are composed: accented
Latin letters from the base letter and an accent drawn above it (acute,
grave, circumflex, diaeresis, tilde) or a cedilla below, Ё from Е and a
diaeresis. æ and œ are drawn from two overlapping glyphs, ß as the Greek
beta of a Hershey Greek font (a handwritten ß looks like it; "ss" would teach
a wrong shape), ¡ and ¿ as ! and ? turned over, « and » as two small < or >,
° as a small circle and € as C with two bars. A word with any other
character the fonts cannot draw is skipped (`render` returns None).

Font file format (.jhf): one glyph per line for ASCII 32..127: a 5-column
id, a 3-column count N, then N pairs of characters, each coordinate being
ord(c) - ord('R'); the first pair is the left and right bearing, " R" lifts
the pen. y grows downwards; the baseline is at y = 9, capitals reach y = -12.
"""

from __future__ import annotations

import math
import unicodedata
from pathlib import Path

import numpy as np

FONT_DIR = Path(__file__).resolve().parents[2] / ".cache/sources/hershey-fonts-data/usr/share/hershey-fonts"

# Cyrillic in cyrillic.jhf (roman style), by ASCII position.
CYRILLIC_JHF = dict(zip(
    "$%&@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~",
    "ЫцыЁАБЭДЙФГЖИЧКЛМНОПШРСТЮВЩХУЗЕЪЯЬЦабэдйфгжичклмнопшрстювщхузеъяь"))
CYRILLIC_JHF.pop("@")  # '@' is '@'; Ё is composed
# cyrilc_1.jhf (complex roman): A..Z / a..z are the first 26 letters in alphabetical order.
CYRILC_1 = dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                    "АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩабвгдежзийклмнопрстуфхцчшщ"))

LATIN_FONTS = {"scripts": True, "cursive": True, "futural": False, "rowmans": False,
               "timesi": False, "futuram": False}  # name -> joins letters
CYRILLIC_FONTS = {"cyrillic": CYRILLIC_JHF, "cyrilc_1": CYRILC_1}

_ACCENTS = {"\u0301": "acute", "\u0300": "grave", "\u0302": "circ", "\u0308": "diaer",
            "\u0303": "tilde", "\u0327": "cedilla"}
_LIGATURES = {"æ": "ae", "œ": "oe", "Æ": "AE", "Œ": "OE"}


def _rotated(g):
    """A glyph turned by 180 degrees about its centre (¡ from !, ¿ from ?)."""
    left, right, strokes = g
    pts = np.concatenate(strokes)
    c = (pts.min(axis=0) + pts.max(axis=0)) / 2
    # keep the baseline: the rotated glyph stands where the original stood, shifted down
    shift = np.array([0.0, 4.0])
    return left, right, [(2 * c - s)[::-1] + shift for s in strokes]


def _scaled_pair(g, scale: float):
    """Two small copies side by side (« from <<, » from >>)."""
    left, right, strokes = g
    pts = np.concatenate(strokes)
    cy = (pts[:, 1].min() + pts[:, 1].max()) / 2
    w = (right - left) * scale
    out = []
    for k in range(2):
        out += [np.column_stack([(s[:, 0] - left) * scale + left + k * w * 0.8,
                                 (s[:, 1] - cy) * scale + cy + 1.0]) for s in strokes]
    return left, left + w * 1.8, out


def _special(font: "Font", ch: str, fallback):
    """Punctuation and ß the fonts lack, built from other glyphs."""
    if ch in "¡¿":
        g = font.glyph("!" if ch == "¡" else "?", fallback)
        return _rotated(g) if g else None
    if ch in "«»":
        g = font.glyph("<" if ch == "«" else ">", fallback)
        return _scaled_pair(g, 0.6) if g else None
    if ch == "°":
        t = np.linspace(0, 2 * np.pi, 13)
        return -4, 4, [np.column_stack([2.0 * np.cos(t), -9.0 + 2.0 * np.sin(t)])]
    if ch == "€":
        g = font.glyph("C", fallback)
        if g is None:
            return None
        left, right, strokes = g
        return left, right, list(strokes) + [np.array([[-8.0, -2.0], [3.0, -2.0]]),
                                             np.array([[-8.0, 2.0], [3.0, 2.0]])]
    if ch == "ß":  # the Greek beta of the matching Hershey style
        return _BETA.get(font.name)
    return None


_BETA: dict = {}


def parse_jhf(path: Path) -> dict:
    """ASCII character -> (left, right, [stroke as float array [n, 2]])."""
    glyphs = {}
    for i, line in enumerate(path.read_text(encoding="latin-1").splitlines()):
        if len(line) < 10:
            continue
        n = int(line[5:8])
        body = line[8:]
        left, right = ord(body[0]) - 82, ord(body[1]) - 82
        strokes, cur = [], []
        for k in range(1, n):
            a, b = body[2 * k], body[2 * k + 1]
            if a == " " and b == "R":
                if cur:
                    strokes.append(np.array(cur, dtype=np.float64))
                cur = []
            else:
                cur.append((ord(a) - 82, ord(b) - 82))
        if cur:
            strokes.append(np.array(cur, dtype=np.float64))
        glyphs[chr(32 + i)] = (left, right, strokes)
    return glyphs


def _accent(kind: str, cx: float, top: float, bottom: float) -> list[np.ndarray]:
    y = top - 3.0
    if kind == "acute":
        return [np.array([[cx - 1.5, y], [cx + 2.0, y - 3.5]])]
    if kind == "grave":
        return [np.array([[cx + 1.5, y], [cx - 2.0, y - 3.5]])]
    if kind == "circ":
        return [np.array([[cx - 3.0, y], [cx, y - 3.5], [cx + 3.0, y]])]
    if kind == "diaer":
        return [np.array([[cx - 2.5, y - 1.0], [cx - 2.2, y - 1.4]]),
                np.array([[cx + 2.2, y - 1.0], [cx + 2.5, y - 1.4]])]
    if kind == "tilde":
        return [np.array([[cx - 3.5, y - 0.5], [cx - 2.0, y - 2.0], [cx, y - 1.2],
                          [cx + 2.0, y - 0.3], [cx + 3.5, y - 1.8]])]
    if kind == "cedilla":
        b = bottom
        return [np.array([[cx, b], [cx, b + 1.5], [cx + 1.8, b + 2.5], [cx, b + 4.0], [cx - 1.5, b + 3.5]])]
    raise ValueError(kind)


class Font:
    def __init__(self, name: str, joins: bool, cyrillic_map: dict | None = None):
        self.name, self.joins = name, joins
        raw = parse_jhf(FONT_DIR / f"{name}.jhf")
        self.glyphs = {}
        if cyrillic_map is None:
            for c, g in raw.items():
                if c != "\x7f" or name == "scripts":
                    self.glyphs[c] = g
            self.glyphs.pop("\x7f", None)
        else:
            for c, g in raw.items():
                if c in "0123456789.,;:!?-()'\"/ " or (c in "#%&*+=<>" and c not in cyrillic_map):
                    self.glyphs[c] = g
            for a, cyr in cyrillic_map.items():
                if a in raw:
                    self.glyphs[cyr] = raw[a]

    def glyph(self, ch: str, fallback: "Font | None" = None):
        """(left, right, strokes) for one character, composing accents; None if impossible."""
        g = self.glyphs.get(ch) or (fallback.glyphs.get(ch) if fallback else None)
        if g is not None:
            return g
        special = _special(self, ch, fallback) if ch in "¡¿«»°€ß" else None
        if special is not None:
            return special
        if ch in _LIGATURES:
            parts = [self.glyph(c, fallback) for c in _LIGATURES[ch]]
            if any(p is None for p in parts):
                return None
            (l1, r1, s1), (l2, r2, s2) = parts
            shift = (r1 - l1) - l2 + l1 - 1.0
            return (l1, shift + r2, list(s1) + [s + np.array([shift, 0.0]) for s in s2])
        decomposed = unicodedata.normalize("NFD", ch)
        if ch == "Ё":
            decomposed = "Е\u0308"
        elif ch == "ё":
            decomposed = "е\u0308"
        if len(decomposed) != 2 or decomposed[1] not in _ACCENTS:
            return None
        base = self.glyph(decomposed[0], fallback)
        if base is None:
            return None
        left, right, strokes = base
        if decomposed[0] in "iј" and decomposed[1] != "\u0327":
            # drop the dot of i before adding the accent
            strokes = [s for s in strokes if np.ptp(s[:, 1]) > 1.0 or np.ptp(s[:, 0]) > 1.0] or strokes
        pts = np.concatenate(strokes) if strokes else np.zeros((1, 2))
        top, bottom = float(pts[:, 1].min()), float(pts[:, 1].max())
        cx = float(pts[:, 0].mean())
        return left, right, list(strokes) + _accent(_ACCENTS[decomposed[1]], cx, top, bottom)


class Renderer:
    """Renders text as ink with natural variation, from a numpy Generator."""

    def __init__(self):
        if not _BETA:
            greek = parse_jhf(FONT_DIR / "greek.jhf").get("b")
            script_beta = parse_jhf(FONT_DIR / "greeks.jhf").get("b") if (FONT_DIR / "greeks.jhf").exists() else None
            for name in LATIN_FONTS:
                _BETA[name] = greek
            for name in ("scripts", "cursive", "timesi"):
                _BETA[name] = script_beta or greek
        self.latin = [Font(n, j) for n, j in LATIN_FONTS.items() if (FONT_DIR / f"{n}.jhf").exists()]
        self.cyrillic = [Font(n, False, m) for n, m in CYRILLIC_FONTS.items()]
        self.cyr_fallback = self.cyrillic[0]

    def can_render(self, text: str, cyrillic: bool) -> bool:
        fonts = self.cyrillic if cyrillic else self.latin
        return all(c == " " or fonts[0].glyph(c, self.cyr_fallback if cyrillic else None) is not None
                   for c in text)

    def render(self, text: str, rng: np.random.Generator, cyrillic: bool | None = None):
        """List of strokes [n, 3] (x, y, t; y down) or None if a character cannot be drawn."""
        if cyrillic is None:
            cyrillic = any("\u0400" <= c <= "\u04ff" for c in text)
        fonts = self.cyrillic if cyrillic else self.latin
        font = fonts[rng.integers(len(fonts))]
        fallback = self.cyr_fallback if cyrillic else None
        # style of this sample
        slant = rng.normal(0.15, 0.15)
        xscale = rng.uniform(0.8, 1.25)
        spacing = rng.uniform(-1.0, 2.0)
        word_gap = rng.uniform(6.0, 14.0)
        jitter = rng.uniform(0.05, 0.45)
        wobble_amp, wobble_freq, wobble_phase = rng.uniform(0, 1.2), rng.uniform(0.01, 0.05), rng.uniform(0, 6.3)
        glyph_jitter = rng.uniform(0.0, 0.8)
        join = font.joins and rng.random() < 0.8
        strokes: list[np.ndarray] = []
        x = 0.0
        for ch in text:
            if ch == " ":
                x += word_gap
                continue
            g = font.glyph(ch, fallback)
            if g is None:
                return None
            left, right, gstrokes = g
            dx = x - left + rng.normal(0, glyph_jitter)
            dy = rng.normal(0, glyph_jitter)
            gscale = 1.0 + rng.normal(0, 0.04)
            for s in gstrokes:
                p = s * gscale + np.array([dx, dy])
                if join and strokes and ch.isalpha() and len(strokes[-1]) and \
                        np.hypot(*(strokes[-1][-1] - p[0])) < 2.5:
                    strokes[-1] = np.concatenate([strokes[-1], p[1:] if len(p) > 1 else p])
                else:
                    strokes.append(p.copy())
            x += (right - left) * gscale + spacing
        if not strokes:
            return None
        out = []
        t = 0.0
        speed = rng.uniform(80.0, 200.0)  # font units per second
        for s in strokes:
            s = _densify(s, 1.0)
            if len(s) > 3 and rng.random() < 0.9:
                s = _smooth(s, rng.integers(1, 3))
            s = s + rng.normal(0, jitter, s.shape)
            s[:, 1] += wobble_amp * np.sin(wobble_freq * s[:, 0] + wobble_phase)
            s[:, 0] = xscale * s[:, 0] - slant * (s[:, 1] - 9.0)
            seglen = np.r_[0.0, np.hypot(*np.diff(s, axis=0).T)]
            ts = t + np.cumsum(seglen) / speed
            out.append(np.column_stack([s, ts]))
            t = ts[-1] + rng.uniform(0.05, 0.25)
        return out


def _densify(s: np.ndarray, step: float) -> np.ndarray:
    if len(s) < 2:
        return s.astype(np.float64)
    pts = [s[:1]]
    for a, b in zip(s[:-1], s[1:]):
        n = max(1, int(math.ceil(np.hypot(*(b - a)) / step)))
        f = np.arange(1, n + 1)[:, None] / n
        pts.append(a + f * (b - a))
    return np.concatenate(pts)


def _smooth(s: np.ndarray, k: int) -> np.ndarray:
    out = s.copy()
    for _ in range(k):
        out[1:-1] = 0.25 * out[:-2] + 0.5 * out[1:-1] + 0.25 * out[2:]
    return out
