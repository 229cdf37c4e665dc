"""Rebuild texts/public_domain.txt.xz, the prose the mini-web's pages are written from.

Run once by a maintainer (the output is committed; `make demo` never needs the sources):

    python examples/miniweb/make_corpus.py ../shared/data/corpus

Sources, all public domain:
  - seven Project Gutenberg novels as shipped in NLTK's gutenberg corpus (nltk/nltk @ 4dc39fbf):
    Austen's Emma, Persuasion, Sense and Sensibility; Chesterton's The Ball and the Cross, The Wisdom of
    Father Brown, The Man Who Was Thursday; Melville's Moby Dick;
  - the Universal Declaration of Human Rights in French, German and Spanish (NLTK's udhr2 corpus).

Output format (UTF-8, xz): a header of '#' comment lines, then for each source a line
`@book <key>\t<title>\t<author>\t<year>\t<lang>` followed by its paragraphs, one per line, in the
book's order. Paragraphs are unwrapped, `_italics_` markers dropped, `--` made an em dash, and only
prose paragraphs of 40 to 260 words are kept (no headings, verse or editorial notes).
"""

from __future__ import annotations

import lzma
import os
import re
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "texts", "public_domain.txt.xz")

# key, file, title, author, year, first words of the prose (skips front matter), bytes to keep
BOOKS = [
    ("emma", "austen-emma.txt", "Emma", "Jane Austen", 1816, "Emma Woodhouse, handsome", 105_000),
    ("persuasion", "austen-persuasion.txt", "Persuasion", "Jane Austen", 1818, "Sir Walter Elliot", 95_000),
    ("sense", "austen-sense.txt", "Sense and Sensibility", "Jane Austen", 1811, "The family of Dashwood", 95_000),
    ("ball", "chesterton-ball.txt", "The Ball and the Cross", "G. K. Chesterton", 1909, "The flying ship", 100_000),
    ("brown", "chesterton-brown.txt", "The Wisdom of Father Brown", "G. K. Chesterton", 1914,
     "THE consulting-rooms", 105_000),
    ("thursday", "chesterton-thursday.txt", "The Man Who Was Thursday", "G. K. Chesterton", 1908,
     "THE suburb of Saffron Park", 100_000),
    ("mobydick", "melville-moby_dick.txt", "Moby Dick", "Herman Melville", 1851, "Call me Ishmael", 130_000),
]
UDHR = [("udhr-fra", "fra.txt", "Déclaration universelle des droits de l'homme", "Nations Unies", 1948, "fr"),
        ("udhr-deu", "deu.txt", "Allgemeine Erklärung der Menschenrechte", "Vereinte Nationen", 1948, "de"),
        ("udhr-spa", "spa.txt", "Declaración Universal de Derechos Humanos", "Naciones Unidas", 1948, "es")]


def clean_paragraph(block: str) -> str:
    text = " ".join(line.strip() for line in block.splitlines())
    text = text.replace("_", "").replace("--", "\u2014")
    return re.sub(r"\s+", " ", text).strip()


def is_prose(p: str) -> bool:
    words = p.split()
    if not 40 <= len(words) <= 260:
        return False
    if "[" in p or "Gutenberg" in p or "CHAPTER" in p.upper()[:12]:
        return False
    letters = [c for c in p if c.isalpha()]
    return sum(c.isupper() for c in letters) < 0.15 * len(letters)  # no shouted headings


def book_paragraphs(text: str, start: str, budget: int) -> list[str]:
    text = text[text.index(start):]
    out, size = [], 0
    for block in re.split(r"\n\s*\n", text):
        p = clean_paragraph(block)
        if is_prose(p):
            out.append(p)
            size += len(p)
            if size >= budget:
                break
    return out


def main(corpus_dir: str) -> None:
    lines = [
        "# Public-domain prose for the webtext mini-web (examples/miniweb). Rebuilt by make_corpus.py.",
        "# Project Gutenberg novels (public domain) from NLTK's gutenberg corpus, nltk/nltk @ 4dc39fbf;",
        "# the Universal Declaration of Human Rights (public domain) from NLTK's udhr2 corpus,",
        "# nltk/nltk_data @ 5db857e6. One paragraph per line after each @book line.",
    ]
    for key, name, title, author, year, start, budget in BOOKS:
        with open(os.path.join(corpus_dir, "gutenberg_nltk", name), encoding="latin-1") as f:  # NLTK ships them in Latin-1
            paras = book_paragraphs(f.read(), start, budget)
        lines.append(f"@book {key}\t{title}\t{author}\t{year}\ten")
        lines.extend(paras)
    with zipfile.ZipFile(os.path.join(corpus_dir, "nltk", "udhr2.zip")) as z:
        for key, name, title, author, year, lang in UDHR:
            text = z.read(f"udhr2/{name}").decode("utf-8")
            paras = [re.sub(r"\s+", " ", ln).strip() for ln in text.splitlines()[1:]]
            lines.append(f"@book {key}\t{title}\t{author}\t{year}\t{lang}")
            lines.extend(p for p in paras if p)
    data = ("\n".join(lines) + "\n").encode("utf-8")
    with open(OUT, "wb") as f:
        f.write(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))
    print(f"{OUT}: {len(data):,} bytes of text, {os.path.getsize(OUT):,} compressed")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "shared", "data", "corpus"))
