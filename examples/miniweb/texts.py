"""The public-domain prose the mini-web's articles are made of, handed out without reuse.

texts/public_domain.txt.xz holds paragraphs of seven Project Gutenberg novels and three translations
of the Universal Declaration of Human Rights (sources and format: make_corpus.py). Each article takes a
run of consecutive paragraphs from one book, and no paragraph is used twice: any text two pages share
is shared on purpose (a duplicate the manifest records), never by accident.
"""

from __future__ import annotations

import lzma
import os
import random
import re
from collections import Counter
from dataclasses import dataclass, field

TEXTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "texts", "public_domain.txt.xz")


@dataclass
class Book:
    key: str
    title: str
    author: str
    year: int
    lang: str
    paragraphs: list[str] = field(default_factory=list)


def load_books(path: str = TEXTS) -> dict[str, Book]:
    books: dict[str, Book] = {}
    current = None
    with lzma.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            if line.startswith("@book "):
                key, title, author, year, lang = line[len("@book "):].split("\t")
                current = books[key] = Book(key, title, author, int(year), lang)
            elif current is None:
                raise ValueError(f"{path}: paragraph before the first @book line")
            else:
                current.paragraphs.append(line)
    return books


def word_count(text: str) -> int:
    return len(text.split())


class ProseSource:
    """Runs of consecutive English paragraphs, each paragraph handed out at most once."""

    def __init__(self, books: dict[str, Book], rng: random.Random):
        self.books = [b for b in books.values() if b.lang == "en"]
        self.rng = rng
        self.cursor = {b.key: 0 for b in self.books}

    def take(self, min_words: int, max_paragraphs: int = 12) -> tuple[Book, list[str]]:
        """The next run of paragraphs from a randomly chosen book, at least `min_words` long."""
        order = self.books[:]
        self.rng.shuffle(order)
        for book in order:
            start = self.cursor[book.key]
            paras, words = [], 0
            for p in book.paragraphs[start:start + max_paragraphs]:
                paras.append(p)
                words += word_count(p)
                if words >= min_words:
                    self.cursor[book.key] = start + len(paras)
                    return book, paras
        raise RuntimeError(f"the prose source ran out: no book has {min_words} more words left "
                           f"(texts/public_domain.txt.xz is too small for this many pages)")


_NOT_NAMES = {
    "I", "The", "A", "An", "And", "But", "He", "She", "It", "They", "We", "You", "His", "Her", "Their", "This",
    "That", "There", "Then", "When", "What", "Which", "Who", "If", "In", "On", "At", "As", "Of", "To", "For",
    "With", "Not", "No", "Yes", "Oh", "O", "Mr", "Mrs", "Miss", "Dr", "Sir", "Lady", "Lord", "God", "My",
    "Our", "Your", "One", "All", "So", "Now", "Well", "Why", "How", "Is", "Was", "Be", "Do", "Let", "Nay",
    "Ay", "Aye", "Christian", "English", "French", "Indian", "Monday", "Sunday", "Captain", "Colonel", "By",
    "From", "Upon", "After", "Before", "Here", "These", "Those", "Some", "Such", "Very", "Only", "Even",
    "Good", "Yet", "Or", "Nor", "Still", "Perhaps", "Come", "Ah", "Thou", "Thee", "Thy", "Ye", "Every",
    "New", "Old", "Great", "Little", "Saint", "North", "South", "East", "West",
}


def names_in(paragraphs: list[str], limit: int = 4) -> list[str]:
    """The most frequent proper names in a text: capitalised words that do not start a sentence and never
    occur in lower case in the same text (which rules out "Daily" and the like)."""
    text = " ".join(paragraphs)
    lower = set(re.findall(r"\b[a-z][a-z]+\b", text))
    counts: Counter[str] = Counter()
    for sentence in re.split(r"(?<=[.!?;:\"“”—])\s+", text):
        words = re.findall(r"[A-Za-z][A-Za-z'’\-]*", sentence)
        for i, w in enumerate(words):
            w = re.sub(r"['’]s$", "", w)
            if (i and w[:1].isupper() and w.isalpha() and len(w) > 2 and not w.isupper()
                    and w not in _NOT_NAMES and w.lower() not in lower):
                counts[w] += 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [w for w, _ in ranked[:limit]]
