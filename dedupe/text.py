"""Text normalisation, tokens and n-gram hashes: what "the same text" means for this stage.

Three views of a document's text, each a plain function:

- `exact_key(text)`: the exact-duplicate key, a 128-bit hash of the text lower-cased with its
  whitespace collapsed (so re-flowed or re-cased copies of a page count as the same page).
- `shingle_hashes(text, n)`: the word n-gram shingles MinHash signs. A word is a run of letters,
  digits and combining marks, lower-cased; in scripts written without spaces (CJK, Thai, Lao,
  Khmer, Myanmar, Tibetan, Japanese kana) each character is a word, so those documents get shingles
  too. A document with fewer than n words has one shingle (all its words); an empty one has none.
- `decontam_tokens(text)`: GPT-3 / lm-evaluation-harness normalisation for benchmark matching:
  lower-case, remove punctuation (Unicode P* and ASCII punctuation), split on whitespace; a token
  that was only punctuation vanishes. Each token keeps its character span in the original text, so
  colliding n-grams can be cut out.

Everything is vectorised with numpy over the text's code points (a 50 MB document is ~9M words):
a per-code-point table gives the lower case (the simple, one-to-one Unicode mapping, so positions
never move) and the class; token boundaries come from the class array; a token hashes to 64 bits by
a polynomial over its code points (prefix sums, so every token costs O(1)) and an avalanche mix; an
n-gram hashes by a polynomial over its tokens' hashes. Long texts are processed in ~1M-character
pieces cut at whitespace, which bounds the temporary arrays.
"""

from __future__ import annotations

import hashlib
import re
import string
import unicodedata
from functools import lru_cache

import numpy as np

# Scripts written without spaces between words: one character, one token.
_UNSPACED_RANGES = [
    (0x0E00, 0x0E7F),  # Thai
    (0x0E80, 0x0EFF),  # Lao
    (0x0F00, 0x0FFF),  # Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3100, 0x312F),  # Bopomofo
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x2FFFF),  # CJK extensions B-F
]
_UNSPACED_CLASS = "".join(f"{chr(a)}-{chr(b)}" for a, b in _UNSPACED_RANGES)

# Shingle classes: separator, word character, a character that is a word by itself.
SEP, WORD, SINGLE = 0, 1, 2
# Decontamination classes: whitespace, token character, punctuation (removed).
SPACE, TOKEN, PUNCT = 0, 1, 2

_MULT = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit constants
_CHAR_MULT = 0xD6E8FEB86659FD93
_LEN_MULT = np.uint64(0xA0761D6478BD642F)
_MASK64 = (1 << 64) - 1

# Long texts are tokenised in pieces of about this many characters, cut before whitespace (or, for
# shingles, before an unspaced-script character), where no token can straddle the cut.
CHUNK_CHARS = 1 << 20
_WORD_CUT = re.compile(f"[\\s{_UNSPACED_CLASS}]")
_SPACE_CUT = re.compile(r"\s")


def exact_key(text: str) -> str:
    """The exact-duplicate key: blake2b-128 of the lower-cased text with whitespace collapsed."""
    norm = " ".join(text.lower().split())
    return hashlib.blake2b(norm.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def stable_hash64(s: str) -> int:
    """A 64-bit hash of a string that is the same in every process (unlike hash())."""
    return int.from_bytes(hashlib.blake2b(s.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


# ---------------------------------------------------------------------------------------------
# Per-code-point tables


_ASCII_PUNCT = frozenset(string.punctuation)


def _classes_of(cp: int, unspaced: bool) -> tuple[int, int, int]:
    """(lower-case code point, shingle class, decontamination class) of one code point."""
    ch = chr(cp)
    low = ch.lower()
    lower = ord(low[0]) if low else cp  # simple mapping: U+0130 -> "i" (not "i" + U+0307)
    cat = unicodedata.category(ch)[0]
    wcls = SINGLE if unspaced else (WORD if cat in "LNM" else SEP)
    if ch.isspace():
        dcls = SPACE
    elif cat == "P" or ch in _ASCII_PUNCT:
        dcls = PUNCT
    else:
        dcls = TOKEN
    return lower, wcls, dcls


def _unspaced_mask(cps: np.ndarray) -> np.ndarray:
    mask = np.zeros(len(cps), dtype=bool)
    for a, b in _UNSPACED_RANGES:
        mask |= (cps >= a) & (cps <= b)
    return mask


@lru_cache(maxsize=1)
def _bmp_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    unspaced = _unspaced_mask(np.arange(0x10000)).tolist()
    rows = np.array([_classes_of(cp, unspaced[cp]) for cp in range(0x10000)], dtype=np.uint32)
    return rows[:, 0].copy(), rows[:, 1].astype(np.uint8), rows[:, 2].astype(np.uint8)


def _classify(cps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lower_t, wcls_t, dcls_t = _bmp_tables()
    if len(cps) == 0 or int(cps.max()) < 0x10000:
        return lower_t[cps], wcls_t[cps], dcls_t[cps]
    bmp = cps < 0x10000
    safe = np.where(bmp, cps, 0)
    lower, wcls, dcls = lower_t[safe], wcls_t[safe], dcls_t[safe]
    astral = np.flatnonzero(~bmp)
    uniq, inverse = np.unique(cps[astral], return_inverse=True)
    unspaced = _unspaced_mask(uniq).tolist()
    rows = np.array([_classes_of(int(cp), u) for cp, u in zip(uniq, unspaced)], dtype=np.int64).reshape(-1, 3)
    lower[astral] = rows[inverse, 0]
    wcls[astral] = rows[inverse, 1]
    dcls[astral] = rows[inverse, 2]
    return lower, wcls, dcls


def _codepoints(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


# ---------------------------------------------------------------------------------------------
# Token spans and hashes


_POWERS: list = [np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.uint64)]


def _powers(length: int) -> tuple[np.ndarray, np.ndarray]:
    """M^i and M^-i (mod 2^64) for i < length, grown on demand and kept."""
    if len(_POWERS[0]) < length:
        size = max(length, 2 * len(_POWERS[0]), 1 << 16)
        inv = pow(_CHAR_MULT, -1, 1 << 64)
        pw = np.cumprod(np.full(size, _CHAR_MULT, dtype=np.uint64))
        ipw = np.cumprod(np.full(size, inv, dtype=np.uint64))
        _POWERS[0] = np.concatenate(([np.uint64(1)], pw[:-1]))
        _POWERS[1] = np.concatenate(([np.uint64(1)], ipw[:-1]))
    return _POWERS[0][:length], _POWERS[1][:length]


def _avalanche(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit affects every output bit."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _spans(in_token: np.ndarray, single=None) -> tuple[np.ndarray, np.ndarray]:
    """[start, end) of each maximal run of in_token, and of each `single` position on its own."""
    prev = np.concatenate(([False], in_token[:-1]))
    nxt = np.concatenate((in_token[1:], [False]))
    start, end = in_token & ~prev, in_token & ~nxt
    if single is not None:
        start, end = start | single, end | single
    return np.flatnonzero(start), np.flatnonzero(end) + 1


def _hash_spans(chars: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """64-bit hash of each token chars[start:end], independent of where it stands."""
    if len(starts) == 0:
        return np.zeros(0, dtype=np.uint64)
    pw, ipw = _powers(len(chars))
    prefix = np.zeros(len(chars) + 1, dtype=np.uint64)
    np.cumsum(chars.astype(np.uint64) * pw, out=prefix[1:])
    h = (prefix[ends] - prefix[starts]) * ipw[starts]
    return _avalanche(h + (ends - starts).astype(np.uint64) * _LEN_MULT)


def text_chunks(text: str, cut=_WORD_CUT, size: int = 0):
    """(offset, piece) covering the text, each piece about `size` characters, cut where `cut` matches."""
    size = size or CHUNK_CHARS
    start = 0
    while len(text) - start > size:
        m = cut.search(text, start + size)
        if m is None:
            break
        yield start, text[start:m.start()]
        start = m.start()
    yield start, text[start:]


def _shingle_piece(piece: str):
    cps = _codepoints(piece)
    lower, wcls, _ = _classify(cps)
    starts, ends = _spans(wcls == WORD, wcls == SINGLE)
    return lower, starts, ends


def _decontam_piece(piece: str):
    cps = _codepoints(piece)
    lower, _, dcls = _classify(cps)
    kept = np.flatnonzero(dcls != PUNCT)  # punctuation is removed before splitting on whitespace
    starts, ends = _spans(dcls[kept] == TOKEN)
    return lower[kept], starts, ends, kept


def _concat(parts: list, dtype) -> np.ndarray:
    if not parts:
        return np.zeros(0, dtype=dtype)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def shingle_token_hashes(text: str) -> np.ndarray:
    """The 64-bit hash of every word of the text, in order."""
    out = []
    for _, piece in text_chunks(text, _WORD_CUT):
        lower, starts, ends = _shingle_piece(piece)
        out.append(_hash_spans(lower, starts, ends))
    return _concat(out, np.uint64)


def shingle_tokens(text: str) -> list[str]:
    """The words themselves (lower-cased), for tests and for ground truth without hashing."""
    out = []
    for _, piece in text_chunks(text, _WORD_CUT):
        lower, starts, ends = _shingle_piece(piece)
        low = lower.astype("<u4").tobytes().decode("utf-32-le", "surrogatepass")
        out.extend(low[s:e] for s, e in zip(starts.tolist(), ends.tolist()))
    return out


def decontam_tokens(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normalised token hashes of `text` with each token's [start, end) span in `text`."""
    hashes, starts, ends = [], [], []
    for offset, piece in text_chunks(text, _SPACE_CUT):
        chars, s, e, kept = _decontam_piece(piece)
        hashes.append(_hash_spans(chars, s, e))
        starts.append(kept[s] + offset)
        ends.append(kept[e - 1] + 1 + offset)
    return _concat(hashes, np.uint64), _concat(starts, np.int64), _concat(ends, np.int64)


def decontam_token_hashes(text: str) -> np.ndarray:
    return decontam_tokens(text)[0]


def decontam_words(text: str) -> list[str]:
    """The normalised tokens themselves, for tests: lower-cased, punctuation removed, whitespace split."""
    out = []
    for _, piece in text_chunks(text, _SPACE_CUT):
        chars, s, e, _ = _decontam_piece(piece)
        low = chars.astype("<u4").tobytes().decode("utf-32-le", "surrogatepass")
        out.extend(low[a:b] for a, b in zip(s.tolist(), e.tolist()))
    return out


# ---------------------------------------------------------------------------------------------
# n-grams


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


def shingle_hashes(text: str, n: int) -> np.ndarray:
    """The 64-bit hashes of a document's word n-gram shingles, in text order (with repeats)."""
    return ngram_hashes(shingle_token_hashes(text), n, whole_if_shorter=True)


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique's hash-based path is several times slower on uint64)."""
    if len(values) < 2:
        return np.array(values, dtype=values.dtype)
    v = np.sort(values)
    return v[np.concatenate(([True], v[1:] != v[:-1]))]


def shingle_set(text: str, n: int) -> np.ndarray:
    """The document's shingle set: sorted unique 64-bit shingle hashes."""
    return sorted_unique(shingle_hashes(text, n))


def decontam_ngram_hashes(text: str, n: int) -> np.ndarray:
    """64-bit hashes of the normalised n-grams of a text, in order."""
    return ngram_hashes(decontam_token_hashes(text), n)


def jaccard_of_sets(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard of two sorted unique arrays (two empty sets: 1.0)."""
    if len(a) == 0 and len(b) == 0:
        return 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


def warm_up() -> None:
    """Build the code-point tables now (about 0.2 s, once per process)."""
    _bmp_tables()

