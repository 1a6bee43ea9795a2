#!/usr/bin/env python3
"""Text of a user with a personal vocabulary, for measuring personalisation.

Takes a text (held-out sentences) and inserts, between its words, words of
a small personal vocabulary: made-up names (capitalised) and slang (lower
case) that no language pack knows, drawn from a Zipf distribution so that a
few come back often and most rarely, like the names of a user's friends.
Deterministic for a seed. Replaying a simulated typist on the result with
and without learning gives the KSR gain of the personal dictionary:

    python3 languages/personal_text.py --lang en .cache/heldout/en.txt > user.txt
    nib simulate --lang en --sigma 0 user.txt > user.jsonl
    nib --no-lm replay user.jsonl; nib --no-lm --no-personal replay user.jsonl
"""

import argparse
import random
import sys

SYLLABLES = {
    "latin": ["ka", "ro", "vel", "tis", "mar", "qui", "zo", "len", "dra", "bex", "ny", "sol", "ur", "fen"],
    "cyrillic": ["ка", "ро", "вел", "тис", "мар", "зо", "лен", "дра", "бекс", "ны", "сол", "ур", "фен", "жу"],
}


def vocabulary(language, size, rng):
    """`size` distinct made-up words: two thirds names, one third slang."""
    syllables = SYLLABLES["cyrillic" if language == "ru" else "latin"]
    words = []
    seen = set()
    while len(words) < size:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 3)))
        if word in seen:
            continue
        seen.add(word)
        words.append(word.capitalize() if len(words) % 3 != 2 else word)
    return words


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", required=True, help="language tag (Cyrillic names for ru)")
    parser.add_argument("--words", type=int, default=30, help="size of the personal vocabulary")
    parser.add_argument("--rate", type=float, default=0.08, help="personal words per word of text")
    parser.add_argument("--zipf", type=float, default=1.0, help="Zipf exponent of their use")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("text")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    words = vocabulary(args.lang, args.words, rng)
    weights = [1.0 / (rank + 1) ** args.zipf for rank in range(len(words))]
    out = []
    with open(args.text, encoding="utf-8") as f:
        for line in f:
            tokens = line.split()
            mixed = []
            for token in tokens:
                mixed.append(token)
                if rng.random() < args.rate:
                    mixed.append(rng.choices(words, weights)[0])
            out.append(" ".join(mixed))
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
