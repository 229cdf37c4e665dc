"""Real text with planted duplicates, for the benchmarks (bench/dedupe_*.py) and the tests.

- `real_documents(data_dir)`: real documents from ../shared/data/corpus: NLTK's movie reviews (2,000
  natural documents), State of the Union and inaugural addresses, and Project Gutenberg books cut
  into documents at paragraph breaks.
- `plant(words, kind, rate, rnd, filler)`: a copy with a known share of its words changed, by
  substitution, insertion, deletion, one replaced span, or truncation.
- `true_jaccard(a, b, n)`: the Jaccard of the two texts' shingle sets, computed with Python sets of
  word tuples (no hashing), the ground truth the stage is measured against.
- `write_clean_output(work_dir, docs)` and `run_stage(...)`: a finished clean stage to read, and one
  dedupe run through the real stage runner.
"""

from __future__ import annotations

import os
import random
import re
import zipfile
from typing import Optional

from dedupe.text import shingle_tokens

EDIT_KINDS = ("substitute", "insert", "delete", "span", "truncate")


def _zip_texts(path: str, prefix: str, suffix: str = ".txt") -> list[tuple[str, str]]:
    out = []
    with zipfile.ZipFile(path) as z:
        for name in sorted(z.namelist()):
            if name.startswith(prefix) and name.endswith(suffix):
                out.append((name, z.read(name).decode("utf-8", "replace")))
    return out


def _paragraph_docs(name: str, text: str, rnd: random.Random, lo: int, hi: int) -> list[tuple[str, str]]:
    """Cut a book into documents of lo..hi words at paragraph breaks."""
    paras = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    docs, cur, count, target = [], [], 0, rnd.randint(lo, hi)
    for p in paras:
        cur.append(p)
        count += len(p.split())
        if count >= target:
            docs.append((f"{name}#{len(docs)}", "\n\n".join(cur)))
            cur, count, target = [], 0, rnd.randint(lo, hi)
    return docs


def real_documents(data_dir: str, *, seed: int = 0, min_words: int = 100) -> list[tuple[str, str]]:
    """(name, text) of real documents, in a fixed order."""
    rnd = random.Random(seed)
    corpus = os.path.join(data_dir, "corpus")
    docs = _zip_texts(os.path.join(corpus, "nltk", "movie_reviews.zip"), "movie_reviews/")
    docs += _zip_texts(os.path.join(corpus, "nltk", "state_union.zip"), "state_union/")
    docs += _zip_texts(os.path.join(corpus, "nltk", "inaugural.zip"), "inaugural/")
    gutenberg = os.path.join(corpus, "gutenberg_nltk")
    for fname in sorted(os.listdir(gutenberg)):
        if fname.endswith(".txt"):
            with open(os.path.join(gutenberg, fname), encoding="utf-8", errors="replace") as f:
                docs += _paragraph_docs(fname, f.read(), rnd, 200, 900)
    return [(n, t) for n, t in docs if len(t.split()) >= min_words]


def plant(words: list[str], kind: str, rate: float, rnd: random.Random, filler: list[str]) -> list[str]:
    """A copy of `words` with about `rate` of them changed in the given way."""
    n = len(words)
    k = max(1, round(rate * n))
    out = list(words)
    if kind == "substitute":
        for i in rnd.sample(range(n), min(k, n)):
            out[i] = rnd.choice(filler)
    elif kind == "insert":
        for _ in range(k):
            out.insert(rnd.randint(0, len(out)), rnd.choice(filler))
    elif kind == "delete":
        drop = set(rnd.sample(range(n), min(k, n - 1)))
        out = [w for i, w in enumerate(words) if i not in drop]
    elif kind == "span":
        start = rnd.randint(0, max(0, n - k))
        out[start:start + k] = [rnd.choice(filler) for _ in range(k)]
    elif kind == "truncate":
        out = out[:max(1, n - k)]
    else:
        raise ValueError(f"unknown edit kind {kind!r}")
    return out


def shingles(text: str, n: int) -> set:
    words = shingle_tokens(text)
    if not words:
        return set()
    if len(words) < n:
        return {tuple(words)}
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def true_jaccard(a: str, b: str, n: int) -> float:
    sa, sb = shingles(a, n), shingles(b, n)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)


def write_clean_output(work_dir: str, docs: list[dict], files: int = 2) -> str:
    """A finished clean stage under work_dir holding `docs` (spread over `files` files)."""
    from webtext import jsonl

    folder = os.path.join(work_dir, "clean", "docs")
    os.makedirs(folder, exist_ok=True)
    for i in range(files):
        with jsonl.JsonlWriter(os.path.join(folder, f"docs-{i:05d}.jsonl.zst")) as w:
            w.write_many(docs[i::files])
    jsonl.write_json(os.path.join(work_dir, "clean", "_SUCCESS.json"),
                     {"stage": "clean", "fingerprint": "fixture", "run_id": "fixture",
                      "counts": {"in": len(docs), "out": len(docs), "dropped": {}}})
    return folder


def run_stage(work_dir: str, dedupe: Optional[dict] = None, beam: Optional[dict] = None, *, quiet: bool = True,
              force: bool = True) -> dict:
    """Run the dedupe stage on work_dir/clean through the real runner; returns its _SUCCESS record."""
    from webtext.config import config_from_dict
    from webtext.progress import Progress
    from webtext.runner import Runner

    beam = beam if beam is not None else {"direct_running_mode": "in_memory", "workers": 1}
    cfg = config_from_dict({"run": {"work_dir": work_dir}, "beam": beam, "dedupe": dedupe or {}})
    return Runner(cfg, Progress(quiet=quiet)).run_stage("dedupe", force=force)
