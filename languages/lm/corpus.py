#!/usr/bin/env python3
"""Assemble the LM training corpus from ../shared/data/text/text.tar.xz.

Stdlib only. Deterministic: the same tarball and options give byte-identical
output.

Steps
1. Unpack the tarball into `.cache/lm/text/` (skipped when a complete unpack
   is already there; never into a git-tracked place).
2. Read, per language, its sources:
     tatoeba      text/tatoeba/<iso639-3>.txt           CC BY 2.0 FR
     commonvoice  text/commonvoice/<lang>.txt            CC0
     theatre      text/commonvoice/fr-libretheatre.txt   CC0 (French only)
     dialogue     text/dialogue/sgd_*.txt, tm4.txt       CC BY-SA 4.0 / CC BY 4.0 (English only)
3. Clean each line: NFC; typographic apostrophes to '; a leading dialogue
   dash dropped; whitespace collapsed and stripped. Dropped: fewer than 2
   words, more than 300 characters, URLs or e-mail addresses, markup or
   wiki/programming symbols, mostly digits, control/private-use/emoji
   characters, and text whose letters are not of the language's script.
4. Tatoeba's "Tom"/"Mary" problem: in Tatoeba sentences, Tom and Mary (and
   their inflected forms: German Toms/Marias, Russian Том/Тома/Тому/Томом/
   Томе, Мэри) are replaced with a first name drawn from a per-language list
   of ten common names (the original included), chosen by a hash of the
   sentence, so the names no longer dominate. Russian male names are
   consonant-final so they decline like Том; the female list is indeclinable
   like Мэри; French names start with a consonant so elision stays right;
   German names do not end in s so the genitive -s stays right.
5. Exact de-duplication per language after normalisation (the first source
   in the order above keeps a sentence found in several).
6. Budget: per language at most N sentences (`--max-per-lang`). Each
   (language, source) is capped at `--max-source-share` x N where the
   language has another source, English dialogue at `--dialogue-share` x N;
   within the caps N is shared max-min fairly (water-filling), so a small
   source is taken whole and the large ones split the rest evenly. Within a
   source, sentences are taken in order of a salted SHA-1 of their text
   (a content-blind random sample; Common Voice files are sorted
   alphabetically, so taking the head would not be).
7. Split: a sentence is validation iff SHA-1(sentence) % 100 < `--valid-percent`.
   De-duplication happens before, so a sentence can never be on both sides.

Output (`--out`, default .cache/lm/corpus/): train.<lang>.txt,
valid.<lang>.txt (one sentence per line, in hash order) and
corpus_stats.json. `--pack DIR` also writes the .txt.xz copies that the GPU
machine gets (see README.md).

Usage: python3 languages/lm/corpus.py [--max-per-lang 250000] [--out DIR]
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import lzma
import re
import shutil
import sys
import tarfile
import unicodedata
from collections import Counter, OrderedDict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CACHE, DEFAULT_TARBALL, LANGS, log, write_json  # noqa: E402

ISO3 = {"en": "eng", "de": "deu", "fr": "fra", "es": "spa", "it": "ita", "pt": "por", "ru": "rus"}

LICENCES = {
    "tatoeba": "CC BY 2.0 FR (Tatoeba, tatoeba.org)",
    "commonvoice": "CC0 (Mozilla Common Voice sentence collection)",
    "theatre": "CC0 (Common Voice fr-libretheatre, public-domain plays)",
    "dialogue": "CC BY-SA 4.0 (Schema-Guided Dialogue) / CC BY 4.0 (Taskmaster-4)",
}


def sources_of(lang: str) -> list[tuple[str, list[str]]]:
    """(source name, file patterns relative to the text dir), in priority order."""
    out = [("tatoeba", [f"tatoeba/{ISO3[lang]}.txt"]), ("commonvoice", [f"commonvoice/{lang}.txt"])]
    if lang == "fr":
        out.append(("theatre", ["commonvoice/fr-libretheatre.txt"]))
    if lang == "en":
        out.append(("dialogue", ["dialogue/sgd_train.txt", "dialogue/sgd_dev.txt", "dialogue/sgd_test.txt", "dialogue/tm4.txt"]))
    return out


# --- unpacking ---------------------------------------------------------------


def unpack(tarball: Path, text_dir: Path) -> None:
    marker = text_dir / ".unpacked"
    if marker.exists() and marker.read_text().strip() == str(tarball.stat().st_size):
        return
    if not tarball.exists():
        sys.exit(f"{tarball} not found and {text_dir} holds no complete unpack")
    log(f"unpacking {tarball} into {text_dir}")
    if text_dir.exists():
        shutil.rmtree(text_dir)
    staging = text_dir.with_name(text_dir.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with tarfile.open(tarball, "r:xz") as tar:
        members = [m for m in tar.getmembers() if m.name == "text" or m.name.startswith("text/")]
        tar.extractall(staging, members=members, filter="data")
    (staging / "text").rename(text_dir)
    staging.rmdir()
    marker.write_text(str(tarball.stat().st_size))


# --- cleaning ----------------------------------------------------------------

APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "`": "'"})
LEADING_DASH = re.compile(r"^[-\u2010\u2011\u2012\u2013\u2014\u2015]\s*")
URL = re.compile(r"https?://|www\.|\w@\w|\.(com|org|net|edu|gov|de|fr|es|it|pt|ru|uk|io)\b", re.I)
MARKUP = re.compile(r"[<>{}\[\]\\|_^~*#@=]|&[a-zA-Z]+;|&#\d+;")
SPACE = re.compile(r"\s+")


def is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u052f"


def is_latin(ch: str) -> bool:
    return ch < "\u0250" or "\u1e00" <= ch <= "\u1eff"


def clean(line: str, lang: str) -> tuple[str | None, str]:
    """(cleaned sentence, "") or (None, reason it was dropped)."""
    s = unicodedata.normalize("NFC", line).translate(APOSTROPHES)
    s = SPACE.sub(" ", s).strip()
    s = LEADING_DASH.sub("", s).strip()
    if not s:
        return None, "empty"
    if len(s) > 300:
        return None, "too_long"
    if len(s.split(" ")) < 2:
        return None, "too_short"
    if URL.search(s):
        return None, "url"
    if MARKUP.search(s):
        return None, "markup"
    letters = digits = 0
    in_script = 0
    for ch in s:
        cat = unicodedata.category(ch)
        if cat[0] == "L":
            letters += 1
            if (is_cyrillic(ch) if lang == "ru" else is_latin(ch)):
                in_script += 1
        elif cat == "Nd":
            digits += 1
        elif cat in ("Cc", "Cf", "Co", "Cn", "Cs") or (cat == "So" and ch != "\u00b0"):
            return None, "odd_char"
    if letters == 0 or digits > 0.5 * (letters + digits):
        return None, "digits"
    if in_script < (0.8 if lang == "ru" else 0.95) * letters:
        return None, "script"
    return s, ""


# --- Tom and Mary ---------------------------------------------------------------

# Ten names each, the original first; see the module docstring for the
# grammatical constraints behind each list.
MALE = {
    "en": ["Tom", "James", "John", "David", "Michael", "Peter", "Mark", "Paul", "Daniel", "Chris"],
    "de": ["Tom", "Paul", "Jan", "Leon", "Tim", "Ben", "Finn", "Daniel", "Michael", "Peter"],
    "fr": ["Tom", "Pierre", "Paul", "Louis", "Nicolas", "Julien", "Thomas", "Marc", "Lucas", "Simon"],
    "es": ["Tom", "Juan", "Carlos", "Pablo", "Luis", "Javier", "Pedro", "Miguel", "Diego", "Jorge"],
    "it": ["Tom", "Marco", "Luca", "Giovanni", "Paolo", "Andrea", "Matteo", "Francesco", "Giorgio", "Davide"],
    "pt": ["Tom", "João", "Pedro", "Lucas", "Carlos", "Paulo", "Miguel", "Rafael", "Tiago", "Bruno"],
    "ru": ["Том", "Иван", "Антон", "Максим", "Олег", "Денис", "Роман", "Борис", "Кирилл", "Глеб"],
}
FEMALE = {
    "en": ["Mary", "Anna", "Emma", "Sarah", "Lisa", "Kate", "Laura", "Emily", "Jane", "Lucy"],
    "de": ["Maria", "Anna", "Laura", "Julia", "Sarah", "Lena", "Lisa", "Sophie", "Hannah", "Emma"],
    "fr": ["Marie", "Julie", "Sophie", "Camille", "Claire", "Léa", "Chloé", "Sarah", "Laura", "Nathalie"],
    "es": ["Mary", "Ana", "Lucía", "Laura", "Carmen", "Sofía", "Elena", "Marta", "Isabel", "Paula"],
    "it": ["Mary", "Anna", "Giulia", "Sara", "Chiara", "Francesca", "Laura", "Elena", "Marta", "Silvia"],
    "pt": ["Mary", "Ana", "Beatriz", "Carla", "Sofia", "Juliana", "Mariana", "Joana", "Rita", "Paula"],
    "ru": ["Мэри", "Нелли", "Элли", "Софи", "Натали", "Кэти", "Мари", "Николь", "Кармен", "Ирэн"],
}
# regex -> (list, suffix group): the matched stem is replaced, the suffix kept.
NAME_PATTERNS = {
    "en": [(re.compile(r"\bTom\b"), "m"), (re.compile(r"\bMary\b"), "f")],
    "de": [(re.compile(r"\bTom(s?)\b"), "m"), (re.compile(r"\b(?:Maria|Mary)(s?)\b"), "f")],
    "fr": [(re.compile(r"\bTom\b"), "m"), (re.compile(r"\b(?:Marie|Mary)\b"), "f")],
    "es": [(re.compile(r"\bTom\b"), "m"), (re.compile(r"\bMary\b"), "f")],
    "it": [(re.compile(r"\bTom\b"), "m"), (re.compile(r"\bMary\b"), "f")],
    "pt": [(re.compile(r"\bTom\b"), "m"), (re.compile(r"\bMary\b"), "f")],
    "ru": [(re.compile(r"\bТом(а|у|ом|е)?\b"), "m"), (re.compile(r"\bМэри\b"), "f")],
}


def vary_names(s: str, lang: str) -> str:
    for pattern, gender in NAME_PATTERNS[lang]:
        if not pattern.search(s):
            continue
        names = MALE[lang] if gender == "m" else FEMALE[lang]
        name = names[int(hashlib.sha1(f"{gender}\0{s}".encode()).hexdigest(), 16) % len(names)]

        def repl(m, name=name):
            return name + ((m.group(1) or "") if m.re.groups else "")

        s = pattern.sub(repl, s)
    return s


# --- budget ---------------------------------------------------------------------


def water_fill(available: dict[str, int], caps: dict[str, int], total: int) -> dict[str, int]:
    """Max-min fair shares of `total` under per-source caps."""
    limits = {k: min(available[k], caps[k]) for k in available}
    if sum(limits.values()) <= total:
        return limits
    lo, hi = 0, max(limits.values())
    while lo < hi:  # largest level whose filled sum is <= total
        mid = (lo + hi + 1) // 2
        if sum(min(v, mid) for v in limits.values()) <= total:
            lo = mid
        else:
            hi = mid - 1
    shares = {k: min(v, lo) for k, v in limits.items()}
    rest = total - sum(shares.values())
    for k in sorted(limits, key=lambda k: (-limits[k], k)):  # hand out the remainder deterministically
        if rest and shares[k] < limits[k]:
            shares[k] += 1
            rest -= 1
    return shares


# --- main -------------------------------------------------------------------------


def build(args) -> dict:
    text_dir = Path(args.text_dir)
    unpack(Path(args.tarball), text_dir)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stats: dict = OrderedDict(
        options=OrderedDict(
            max_per_lang=args.max_per_lang,
            max_source_share=args.max_source_share,
            dialogue_share=args.dialogue_share,
            valid_percent=args.valid_percent,
        ),
        licences=LICENCES,
        languages=OrderedDict(),
    )
    total_bytes = {"train": 0, "valid": 0}
    for lang in args.langs:
        seen: set[str] = set()
        pools: dict[str, list[str]] = OrderedDict()
        lang_stats = OrderedDict(sources=OrderedDict())
        for source, patterns in sources_of(lang):
            files = sorted(f for p in patterns for f in glob.glob(str(text_dir / p)))
            if not files:
                sys.exit(f"{lang}/{source}: no files {patterns} under {text_dir}")
            drops: Counter = Counter()
            raw = renamed = dups = 0
            pool = []
            for name in files:
                with open(name, encoding="utf-8") as f:
                    for line in f:
                        if not line.strip():
                            continue  # dialogue separators
                        raw += 1
                        s, why = clean(line, lang)
                        if s is None:
                            drops[why] += 1
                            continue
                        if source == "tatoeba":
                            varied = vary_names(s, lang)
                            renamed += varied != s
                            s = varied
                        if s in seen:
                            dups += 1
                            continue
                        seen.add(s)
                        pool.append(s)
            pool.sort(key=lambda s: hashlib.sha1(("select\0" + s).encode()).digest())
            pools[source] = pool
            lang_stats["sources"][source] = OrderedDict(
                files=[str(Path(f).relative_to(text_dir)) for f in files],
                licence=LICENCES[source],
                lines=raw,
                dropped=dict(sorted(drops.items())),
                names_varied=renamed,
                duplicates=dups,
                available=len(pool),
            )
        n = args.max_per_lang
        caps = {}
        for source in pools:
            if source == "dialogue":
                caps[source] = int(args.dialogue_share * n)
            elif len(pools) > 1:
                caps[source] = int(args.max_source_share * n)
            else:
                caps[source] = n
        shares = water_fill({k: len(v) for k, v in pools.items()}, caps, n)
        selected = []
        for source, pool in pools.items():
            take = pool[: shares[source]]
            selected.extend((s, source) for s in take)
        # The written order is a hash order over the whole language: sources interleave.
        selected.sort(key=lambda item: hashlib.sha1(("order\0" + item[0]).encode()).digest())
        split_counts = {src: Counter() for src in pools}
        chars = Counter()
        with open(out / f"train.{lang}.txt", "w", encoding="utf-8") as train_f, open(
            out / f"valid.{lang}.txt", "w", encoding="utf-8"
        ) as valid_f:
            for s, source in selected:
                h = int(hashlib.sha1(s.encode()).hexdigest(), 16)
                split = "valid" if h % 100 < args.valid_percent else "train"
                (valid_f if split == "valid" else train_f).write(s + "\n")
                split_counts[source][split] += 1
                chars[split] += len(s.encode()) + 1
        for source in pools:
            lang_stats["sources"][source].update(
                cap=caps[source],
                selected=shares[source],
                train=split_counts[source]["train"],
                valid=split_counts[source]["valid"],
            )
        lang_stats["train_sentences"] = sum(c["train"] for c in split_counts.values())
        lang_stats["valid_sentences"] = sum(c["valid"] for c in split_counts.values())
        lang_stats["train_bytes"] = chars["train"]
        lang_stats["valid_bytes"] = chars["valid"]
        lang_stats["share_by_source"] = {
            k: round(shares[k] / max(1, sum(shares.values())), 3) for k in pools
        }
        total_bytes["train"] += chars["train"]
        total_bytes["valid"] += chars["valid"]
        stats["languages"][lang] = lang_stats
        log(
            f"{lang}: {lang_stats['train_sentences']} train / {lang_stats['valid_sentences']} valid sentences, "
            f"{chars['train'] / 1e6:.1f} MB; shares {lang_stats['share_by_source']}"
        )
    stats["train_bytes"] = total_bytes["train"]
    stats["valid_bytes"] = total_bytes["valid"]
    stats["train_sentences"] = sum(v["train_sentences"] for v in stats["languages"].values())
    stats["valid_sentences"] = sum(v["valid_sentences"] for v in stats["languages"].values())
    write_json(out / "corpus_stats.json", stats)
    log(f"total: {stats['train_sentences']} train sentences ({total_bytes['train'] / 1e6:.1f} MB), "
        f"{stats['valid_sentences']} valid ({total_bytes['valid'] / 1e6:.1f} MB) -> {out}")
    return stats


def pack(corpus: Path, dest: Path, langs, extra: list[Path] = ()) -> None:
    """Write the GPU data folder: <split>.<lang>.txt.xz + corpus_stats.json (+ extras)."""
    dest.mkdir(parents=True, exist_ok=True)
    for lang in langs:
        for split in ("train", "valid"):
            src = corpus / f"{split}.{lang}.txt"
            with open(src, "rb") as f, lzma.open(dest / (src.name + ".xz"), "wb", preset=9) as g:
                shutil.copyfileobj(f, g, 1 << 20)
    for path in [corpus / "corpus_stats.json", *extra]:
        shutil.copy2(path, dest / Path(path).name)
    size = sum(p.stat().st_size for p in dest.iterdir() if p.is_file())
    log(f"packed {dest}: {size / 1e6:.1f} MB")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tarball", default=str(DEFAULT_TARBALL))
    ap.add_argument("--text-dir", default=str(CACHE / "text"), help="where the tarball is unpacked")
    ap.add_argument("--out", default=str(CACHE / "corpus"))
    ap.add_argument("--langs", nargs="+", default=list(LANGS))
    ap.add_argument("--max-per-lang", type=int, default=250_000, help="sentence cap per language (N)")
    ap.add_argument("--max-source-share", type=float, default=0.5, help="cap of one source, x N, where a language has others")
    ap.add_argument("--dialogue-share", type=float, default=0.3, help="cap of English dialogue, x N")
    ap.add_argument("--valid-percent", type=int, default=2)
    ap.add_argument("--pack", default=None, help="also write .txt.xz copies here (GPU data folder)")
    args = ap.parse_args(argv)
    build(args)
    if args.pack:
        pack(Path(args.out), Path(args.pack), args.langs)


if __name__ == "__main__":
    main()
