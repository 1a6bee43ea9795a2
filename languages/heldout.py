#!/usr/bin/env python3
"""Build the held-out evaluation texts for the keystroke savings rate.

Reads languages/heldout.toml, downloads each pinned Debian package with
apt-get into <cache>/downloads (kept when its SHA-256 matches), reads the
listed files straight out of the package, turns them into clean passages of
running text and writes <cache>/heldout/<language>.txt: one passage per
line, about N characters per language.

Cleaning: fortunes are split on `%` lines and lose their attribution
("-- Author"); HTML keeps the <p> paragraphs outside tables and code, and
drops those holding inline code. Lines are joined with single spaces. Text
double-encoded in the package is repaired; typographic apostrophes become
"'", as a keyboard types them; Italian "e'"/"perche'" become "è"/"perché".
Dropped: passages under 40 or over 600 characters, with URLs, e-mail
addresses, code or markup characters, IRC logs, aligned columns, mostly
symbols, in another language, or typed without their accents.

Passages are chosen without looking at their content: all passages of a
language that pass the format filters are sorted by the SHA-256 of their
text and taken in that order until N characters are reached. The output
depends only on the pinned packages and N, so a second run writes
byte-identical files.

Usage: python3 languages/heldout.py [--cache DIR] [--chars N]
       (defaults: <repo>/.cache, 20000)
"""

import argparse
import hashlib
import html.parser
import io
import re
import subprocess
import sys
import tarfile
import tomllib
import unicodedata
from fnmatch import fnmatchcase
from pathlib import Path

HERE = Path(__file__).resolve().parent

MIN_CHARS, MAX_CHARS = 40, 600

# --- download --------------------------------------------------------------

# The same pinned, checksummed download as the pack sources.
from fetch import download  # noqa: E402


def matches(name: str, pattern: str) -> bool:
    """Glob match where each `*` stays within one path segment."""
    parts, pats = name.split("/"), pattern.split("/")
    return len(parts) == len(pats) and all(fnmatchcase(a, p) for a, p in zip(parts, pats))


def read_members(source: dict, archive: Path) -> list[tuple[str, bytes]]:
    """The regular files of the package that match `paths`, sorted by name."""
    data = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(archive)],
                          check=True, capture_output=True).stdout
    found, used = [], set()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            name = member.name.removeprefix("./")
            if not member.isfile():
                continue
            hits = [p for p in source["paths"] if matches(name, p)]
            if hits:
                used.update(hits)
                found.append((name, tar.extractfile(member).read()))
    unused = [p for p in source["paths"] if p not in used]
    if unused:
        sys.exit(f"{source['name']}: no file in {archive.name} matches {unused}")
    return sorted(found)


# --- decoding --------------------------------------------------------------

# Legacy encodings tried, in order, when a file is not UTF-8.
LEGACY = {"ru": ["koi8-r", "cp1251"], "default": ["latin-1"]}


def decode(raw: bytes, language: str, name: str) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        for encoding in LEGACY.get(language, LEGACY["default"]):
            try:
                text = raw.decode(encoding)
                print(f"  note: {name} decoded as {encoding}", file=sys.stderr)
                break
            except UnicodeDecodeError:
                continue
        else:
            sys.exit(f"{name}: cannot decode")
    return unicodedata.normalize("NFC", repair(text.replace("\r\n", "\n")))


# UTF-8 read as Latin-1 (once or more: "giÃ\x83Â¹" for "giù") and Windows-1252
# bytes read as Latin-1 ("er\x92s" for "er’s"), as some fortunes have them.
MOJIBAKE = re.compile(r"[\u00c2\u00c3\u00e2][\u0080-\u00bf]+")
C1 = re.compile(r"[\u0080-\u009f]")


def repair(text: str) -> str:
    def utf8(match):
        try:
            return match.group(0).encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            return match.group(0)

    def cp1252(match):
        try:
            return match.group(0).encode("latin-1").decode("cp1252")
        except UnicodeDecodeError:
            return match.group(0)  # undefined: the passage is dropped later

    for _ in range(4):
        fixed = MOJIBAKE.sub(utf8, text)
        if fixed == text:
            break
        text = fixed
    return C1.sub(cp1252, text)


# --- fortune files ---------------------------------------------------------

ATTRIBUTION = ("--", "\u2014", "\u2015")  # "--", em dash, horizontal bar
SEPARATOR = re.compile(r"^%\s*$", re.M)
INLINE_ATTRIBUTION = re.compile(r"\s--+\s+(\S[^-]{0,60}?)\s+--+\s*$")


def indent(line: str) -> int:
    stripped = line.expandtabs(8)
    return len(stripped) - len(stripped.lstrip())


def fortune_passages(text: str) -> list[list[str]]:
    """Fortunes split on `%` lines, as lists of lines without attribution."""
    passages = []
    for block in SEPARATOR.split(text):
        lines = [l.rstrip() for l in block.split("\n")]
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        # The attribution and anything after it ("-- Author", notes), also
        # at the end of a line of text ("... hacerla. -- E. Jardiel Poncela --").
        for i, line in enumerate(lines):
            if line.strip().startswith(ATTRIBUTION):
                lines = lines[:i]
                break
            inline = INLINE_ATTRIBUTION.search(line)
            if inline and len(inline.group(1).split()) <= 6 and inline.group(1)[0].isupper():
                lines = lines[:i] + [line[:inline.start()]]
                break
        # An attribution without dashes: a last line indented far deeper
        # than the text ("         Friedrich Nietzsche, ...").
        if len(lines) > 1 and indent(lines[-1]) > 8 and indent(lines[-1]) > 2 + min(
                indent(l) for l in lines[:-1] if l.strip()):
            lines.pop()
        if lines:
            passages.append(lines)
    return passages


# A table or aligned columns: text, then a tab or 3+ spaces, then text.
COLUMNS = re.compile(r"\S(\t| {3,})\S")


def laid_out(lines: list[str]) -> bool:
    return any(COLUMNS.search(line) for line in lines)


# --- DocBook HTML ----------------------------------------------------------


class Paragraphs(html.parser.HTMLParser):
    """Text of the <p> elements outside code, tables and navigation.

    A paragraph holding inline code, a file name, a command or a key is
    dropped whole rather than typed with a hole in it.
    """

    SKIP_DIV = {"table", "informaltable", "toc", "navheader", "navfooter", "titlepage",
                "list-of-tables", "footnotes", "screenshot", "mediaobject"}
    CODE = {"code", "pre", "kbd", "samp", "tt", "var"}
    CODE_CLASS = {"command", "literal", "filename", "systemitem", "userinput",
                  "computeroutput", "replaceable", "option", "keycap", "guimenu"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []  # (tag, skipping) of open elements
        self.paragraphs = []
        self.current = None  # list of text pieces, or None outside <p>
        self.tainted = False

    def skipping(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag, attrs):
        if tag in {"br", "img", "col", "hr", "meta", "link", "input"}:
            return
        classes = set((dict(attrs).get("class") or "").split())
        skip = self.skipping() or tag in {"pre", "table", "script", "style"} and (
            tag != "table" or "table" in classes or "informaltable" in classes
            or "simplelist" in classes) or (tag == "div" and classes & self.SKIP_DIV)
        self.stack.append((tag, skip))
        if tag == "p" and not skip and "title" not in classes:
            self.current, self.tainted = [], False
        elif self.current is not None and (tag in self.CODE or classes & self.CODE_CLASS):
            self.tainted = True

    def handle_endtag(self, tag):
        while self.stack:
            open_tag, _ = self.stack.pop()
            if open_tag == tag:
                break
        if tag == "p" and self.current is not None:
            if not self.tainted:
                self.paragraphs.append("".join(self.current))
            self.current = None

    def handle_data(self, data):
        if self.current is not None and not self.skipping():
            self.current.append(data)


def html_passages(text: str) -> list[list[str]]:
    parser = Paragraphs()
    parser.feed(text)
    parser.close()
    return [[p] for p in parser.paragraphs]


# --- cleaning and filters --------------------------------------------------

URL = re.compile(r"(?i)(https?://|ftp://|www\.|\w@\w|\.(com|org|net|edu|gov|de|it|fr|es|ru|br)\b)")
# Markup, code, IRC logs, ASCII art. `$`, `%`, `&`, `[]` occur in prose.
CODE_CHARS = set("{}<>|\\=#~^`_@*")
# A path or file name: "/etc", "~/x", "a/b/c", "file.conf".
PATH = re.compile(r"(^|\s)[~.]?/\w|\w/\w+/\w|\b[a-z]+\.[a-z]{2,4}\b")
TYPOGRAPHIC_APOSTROPHE = re.compile(r"(?<=\w)[\u2019\u02bc](?=\w|\s|$)")

# Function words, to drop passages in another language (English quotes in
# the other collections, untranslated paragraphs of the French manual).
STOPWORDS = {
    "en": "the and of to is you that it with for are this have not be what your if "
          "they his she but when can there one would",
    "de": "der die das und ist nicht ich sie es ein eine zu den mit sich auf dem du "
          "wir auch wenn man aber wie noch nur von dass daß war hat im für",
    "fr": "le la les de des du un une et est vous pour dans que qui sur pas ne avec "
          "ce cette il sont peut au aux par plus nous se sa son ou",
    "es": "el la los las de que y en un una es no por con para se lo del al su como "
          "más pero si le mi ya porque muy",
    "it": "il la di che e è un una non per in del della lo gli le si con ma come mi "
          "ti più sono ha se anche da al dei nel alla",
    "pt": "o a os as de que e do da em um uma é não para com no na se por mais ao "
          "dos das mas como eu você ele",
}
STOPWORDS = {k: set(v.split()) for k, v in STOPWORDS.items()}
WORD = re.compile(r"\w+(?:'\w+)?")


def in_language(text: str, language: str) -> bool:
    if language == "ru":
        letters = [c for c in text if c.isalpha()]
        cyrillic = sum("\u0400" <= c <= "\u04ff" for c in letters)
        return bool(letters) and cyrillic >= 0.9 * len(letters)
    words = [w.lower() for w in WORD.findall(text)]
    own = sum(w in STOPWORDS[language] for w in words)
    if language == "en":
        return own >= 1
    english = sum(w in STOPWORDS["en"] for w in words)
    return own >= 1 and own > english


# Italian written in ASCII: "perche'" for "perché", "e'" for "è". A word
# ending in vowel + apostrophe gets its final vowel accented, except the
# truncations that keep the apostrophe in standard spelling.
KEEP_APOSTROPHE = {"po", "mo", "to", "di", "fa", "va", "sta", "be", "de", "ca"}
GRAVE = {"a": "à", "e": "è", "i": "ì", "o": "ò", "u": "ù"}
ASCII_ACCENT = re.compile(r"\b([A-Za-z]*[AEIOUaeiou])'(?![A-Za-z])")
OPENING_QUOTE = re.compile(r"(^|[\s(\"])['`][A-Za-z]")


def restore_accent(match: re.Match) -> str:
    word = match.group(1)
    lower = word.lower()
    if lower in KEEP_APOSTROPHE or (len(word) == 1 and lower != "e"):
        return match.group(0)
    last = lower[-1]
    if last == "e" and (lower.endswith("che") or lower.endswith("tre") or lower in {"ne", "se"}):
        accented = "é"
    else:
        accented = GRAVE[last]
    if word[-1].isupper():
        accented = accented.upper()
    return word[:-1] + accented


# Text typed without diacritics ("nao", "voce", "despues"): words that do not
# exist without their accent. Portuguese passages with no accent at all are
# dropped too (in fortunes-br nearly all of them are such text).
STRIPPED_ACCENTS = {
    "pt": re.compile(r"(?i)\b(\w+ao|\w+coes|voces?|tambem|alem|ninguem|alguem|porem|ate|ja|so|"
                     r"tres|facil|dificil|unico|ultimo|proprio|numeros?)\b"),
    "es": re.compile(r"(?i)\b(\w+cion|tambien|despues|asi|aqui|alli|ademas|jamas|quizas|"
                     r"facil|dificil|ultimo|unico|demas|dia|dias|todavia|razon|corazon)\b"),
}


def unaccented(text: str, language: str) -> bool:
    pattern = STRIPPED_ACCENTS.get(language)
    if pattern is None:
        return False
    if language == "pt" and text.isascii():
        return True
    return bool(pattern.search(text))


def clean(lines: list[str], source: dict) -> str | None:
    """One passage as a line of running text, or None if it is filtered out."""
    if laid_out(lines):
        return None
    text = " ".join(line.strip() for line in lines)
    text = re.sub(r"\s+", " ", text).strip()
    text = TYPOGRAPHIC_APOSTROPHE.sub("'", text)
    if source.get("ascii_accents"):
        if OPENING_QUOTE.search(text):
            return None  # single quotes would read as accents
        text = ASCII_ACCENT.sub(restore_accent, text)
    if not MIN_CHARS <= len(text) <= MAX_CHARS:
        return None
    if URL.search(text) or CODE_CHARS & set(text) or C1.search(text) or MOJIBAKE.search(text):
        return None
    if source["format"] == "docbook-html" and PATH.search(text):
        return None
    visible = [c for c in text if not c.isspace()]
    symbols = sum(not c.isalnum() for c in visible)
    if symbols > 0.2 * len(visible):
        return None
    if not in_language(text, source["language"]) or unaccented(text, source["language"]):
        return None
    return text


# --- main ------------------------------------------------------------------


def passages_of(source: dict, archive: Path) -> list[str]:
    out = []
    for name, raw in read_members(source, archive):
        text = decode(raw, source["language"], name)
        if source["format"] == "fortune":
            blocks = fortune_passages(text)
        elif source["format"] == "docbook-html":
            blocks = html_passages(text)
        else:
            sys.exit(f"{source['name']}: unknown format {source['format']!r}")
        for block in blocks:
            passage = clean(block, source)
            if passage is not None:
                out.append(passage)
    return out


def select(passages: set[str], chars: int) -> list[str]:
    ordered = sorted(passages, key=lambda p: hashlib.sha256(p.encode("utf-8")).hexdigest())
    chosen, total = [], 0
    for passage in ordered:
        if total >= chars:
            break
        chosen.append(passage)
        total += len(passage)
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default=str(HERE.parent / ".cache"))
    parser.add_argument("--chars", type=int, default=20000,
                        help="characters of text per language (default 20000)")
    args = parser.parse_args()
    cache = Path(args.cache)
    downloads, out_dir = cache / "downloads", cache / "heldout"
    downloads.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)

    sources = tomllib.loads((HERE / "heldout.toml").read_text())["source"]
    by_language: dict[str, set[str]] = {}
    for source in sources:
        archive = download(source, downloads)
        by_language.setdefault(source["language"], set()).update(passages_of(source, archive))

    for language in sorted(by_language):
        pool = by_language[language]
        chosen = select(pool, args.chars)
        path = out_dir / f"{language}.txt"
        text = "".join(p + "\n" for p in chosen)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        total = sum(len(p) for p in chosen)
        print(f"{language}: {len(chosen)} passages, {total} characters "
              f"(of {len(pool)} passages available) -> {path}")
        if total < args.chars:
            print(f"  warning: only {total} characters available for {language}", file=sys.stderr)


if __name__ == "__main__":
    main()
