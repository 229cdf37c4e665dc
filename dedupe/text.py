"""Text normalisation, tokens and n-gram hashes: what "the same text" means for this stage.

Three views of a document's text, each a plain function:

- `exact_key(text)`: the exact-duplicate key, a 128-bit hash of the text lower-cased with its
  whitespace collapsed (so re-flowed or re-cased copies of a page count as the same page).
- `shingle_hashes(text, n)`: the word n-gram shingles MinHash signs. A word is a run of letters and
  digits; in scripts written without spaces (CJK, Thai, Lao, Khmer, Myanmar, Tibetan, Japanese kana)
  each character is a word, so those documents get shingles too. A document with fewer than n words
  has one shingle (all its words); an empty one has none.
- `decontam_tokens(text)`: GPT-3 / lm-evaluation-harness normalisation for benchmark matching:
  split on whitespace, lower-case, remove punctuation; tokens that were only punctuation vanish.
  Each token keeps its character span in the original text, so colliding n-grams can be cut out.

Tokens hash to 64 bits (blake2b) and n-grams to 64 bits by a polynomial over their tokens' hashes
with a final avalanche mix, vectorised with numpy (a 50 MB document is ~9M tokens).
"""

from __future__ import annotations

import hashlib
import re
import string
import sys
import unicodedata
from functools import lru_cache

import numpy as np

# Scripts written without spaces between words: one character, one token.
_UNSPACED = (
    "\u0e00-\u0e7f"  # Thai
    "\u0e80-\u0eff"  # Lao
    "\u0f00-\u0fff"  # Tibetan
    "\u1000-\u109f"  # Myanmar
    "\u1780-\u17ff"  # Khmer
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3100-\u312f"  # Bopomofo
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\U00020000-\U0002ffff"  # CJK extensions B-F
)
_WORD_RE = re.compile(f"[{_UNSPACED}]|[^\\W_{_UNSPACED}]+")
_SPACE_RE = re.compile(r"\S+")

_MULT = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit constant (golden ratio)


def exact_key(text: str) -> str:
    """The exact-duplicate key: blake2b-128 of the lower-cased text with whitespace collapsed."""
    norm = " ".join(text.lower().split())
    return hashlib.blake2b(norm.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def token_hash(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def hash_tokens(tokens) -> np.ndarray:
    """64-bit hashes of tokens (each distinct token hashed once)."""
    cache: dict = {}
    get = cache.get
    out = []
    append = out.append
    for tok in tokens:
        h = get(tok)
        if h is None:
            h = cache[tok] = token_hash(tok)
        append(h)
    return np.array(out, dtype=np.uint64)


def _avalanche(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit affects every output bit."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def ngram_hashes(token_hashes: np.ndarray, n: int, *, whole_if_shorter: bool = False) -> np.ndarray:
    """64-bit hash of every n-gram (window of n consecutive tokens), in order.

    With fewer than n tokens there is no n-gram, unless `whole_if_shorter`, in which case the whole
    (non-empty) token sequence is one shingle.
    """
    t = len(token_hashes)
    if t < n:
        if not whole_if_shorter or t == 0:
            return np.empty(0, dtype=np.uint64)
        n = t
    count = t - n + 1
    acc = np.zeros(count, dtype=np.uint64)
    for k in range(n):
        acc = acc * _MULT + token_hashes[k:k + count]
    return _avalanche(acc ^ np.uint64(n))


def shingle_tokens(text: str) -> list[str]:
    return _WORD_RE.findall(text.lower())


def shingle_hashes(text: str, n: int) -> np.ndarray:
    """The 64-bit hashes of a document's word n-gram shingles, in text order (with repeats)."""
    return ngram_hashes(hash_tokens(shingle_tokens(text)), n, whole_if_shorter=True)


def shingle_set(text: str, n: int) -> np.ndarray:
    """The document's shingle set: sorted unique 64-bit shingle hashes."""
    return np.unique(shingle_hashes(text, n))


def jaccard_of_sets(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard of two sorted unique arrays (two empty sets: 1.0)."""
    if len(a) == 0 and len(b) == 0:
        return 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


# ---------------------------------------------------------------------------------------------
# GPT-3 / lm-evaluation-harness normalisation, for benchmark n-grams


@lru_cache(maxsize=1)
def _punctuation_table() -> dict:
    """Every Unicode punctuation character (categories P*) and ASCII punctuation, mapped to nothing."""
    table = {ord(c): None for c in string.punctuation}
    for cp in range(sys.maxunicode + 1):
        if cp not in table and unicodedata.category(chr(cp)).startswith("P"):
            table[cp] = None
    return table


def normalize_token(token: str) -> str:
    return token.lower().translate(_punctuation_table())


def decontam_tokens(text: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Normalised tokens of `text` and each one's [start, end) character span in `text`."""
    table = _punctuation_table()
    cache: dict = {}
    tokens: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for m in _SPACE_RE.finditer(text):
        raw = m.group()
        norm = cache.get(raw)
        if norm is None:
            norm = cache[raw] = raw.lower().translate(table)
        if norm:
            tokens.append(norm)
            starts.append(m.start())
            ends.append(m.end())
    return tokens, np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)


def decontam_ngram_hashes(text: str, n: int) -> np.ndarray:
    """64-bit hashes of the normalised n-grams of `text` (no spans: for benchmark passages)."""
    tokens = [t for t in (normalize_token(w) for w in text.split()) if t]
    return ngram_hashes(hash_tokens(tokens), n)
