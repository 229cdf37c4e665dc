"""Document quality rules after Gopher (Rae et al. 2021, appendix A), each with its own reject reason.

`check(text, lang, cfg)` returns None for a document worth keeping, or (reason, detail) for the
first rule it fails; rules run cheapest first. Thresholds come from QualityConfig; a threshold of
None turns its rule off. Words are whitespace-separated tokens, so the word-based rules are
calibrated for languages written with spaces (the default run keeps English only).

The repetition rules count what a page repeats: lines and paragraphs seen before in the same
document, the share of characters in the single most frequent word 2-, 3- and 4-gram, and the share
of characters covered by word 5- to 10-grams where they occur again (first occurrences do not
count). They catch spam, templated listings and navigation that survived extraction. N-grams are
hashed and counted with numpy: these rules cost a fraction of a millisecond per page.
"""

from __future__ import annotations

import re
from typing import Optional

import numpy as np

from clean.config import QualityConfig

# Gopher's English stop words; a document must contain at least QualityConfig.min_stop_words of
# them. Other languages have no list here, so the rule does not apply to them.
STOP_WORDS = {"en": frozenset({"the", "be", "to", "of", "and", "that", "have", "with"})}
BULLETS = ("•", "●", "○", "▪", "▫", "‣", "◦", "►", "▶", "➢", "✓", "-", "*", "–", "—")
ELLIPSES = ("...", "…")
_PUNCT = "\"'“”‘’«»()[]{}<>.,;:!?¡¿-–—/\\|*_#@&%$^~`+=…"

Result = Optional[tuple[str, dict]]
_ALPHA_WORD = re.compile(r"(?<!\S)\S*?[^\W\d_]\S*")  # a whitespace-separated token with a letter in it


def _dup_share(items: list[str]) -> tuple[float, float]:
    """(share of items that repeat an earlier one, share of characters in those repeats)."""
    seen: set = set()
    dup = dup_chars = total_chars = 0
    for item in items:
        total_chars += len(item)
        if item in seen:
            dup += 1
            dup_chars += len(item)
        else:
            seen.add(item)
    return (dup / len(items) if items else 0.0), (dup_chars / total_chars if total_chars else 0.0)


# Fixed odd 64-bit multipliers: an n-gram's hash is sum(id[i+j] * _MULT[j]) mod 2**64, so n-grams are
# compared as integers in numpy (collisions among a document's few thousand n-grams: ~1e-13).
_MULT = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
                  0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9,
                  0x2545F4914F6CDD1D, 0x9FB21C651E98DF25], dtype=np.uint64)


def _ngram_hashes(ids: np.ndarray, n: int) -> np.ndarray:
    m = len(ids) - n + 1
    h = ids[:m] * _MULT[0]
    for j in range(1, n):
        h = h + ids[j:j + m] * _MULT[j]
    return h


def _top_ngram_share(ids: np.ndarray, lengths: np.ndarray, n: int, total_chars: int) -> float:
    """Share of word characters in the most frequent word n-gram (0 if no n-gram repeats).
    Among n-grams tied for most frequent, the longest counts."""
    if len(ids) < n or not total_chars:
        return 0.0
    h = _ngram_hashes(ids, n)
    values, counts = np.unique(h, return_counts=True)
    top = counts.max()
    if top < 2:
        return 0.0
    where = np.isin(h, values[counts == top])
    span = np.convolve(lengths, np.ones(n, dtype=np.int64), mode="valid")  # characters of each n-gram
    return float(top * span[where].max()) / total_chars


def _dup_ngram_share(ids: np.ndarray, lengths: np.ndarray, n: int, total_chars: int) -> float:
    """Share of word characters covered by n-grams that occurred earlier in the document."""
    if len(ids) < n or not total_chars:
        return 0.0
    h = _ngram_hashes(ids, n)
    order = np.argsort(h, kind="stable")  # equal n-grams in order of position: the first is the first seen
    ordered = h[order]
    starts = order[1:][ordered[1:] == ordered[:-1]]  # every occurrence after the first
    if not len(starts):
        return 0.0
    cover = np.zeros(len(ids) + 1, dtype=np.int64)
    np.add.at(cover, starts, 1)
    np.add.at(cover, starts + n, -1)
    covered = np.cumsum(cover[:-1]) > 0
    return float(lengths[covered].sum()) / total_chars


def check(text: str, lang: Optional[str], cfg: QualityConfig) -> Result:
    """None if the document passes every rule, else (reason, {"value", "limit"}) of the first it fails."""
    words = text.split()
    n = len(words)
    if cfg.min_words is not None and n < cfg.min_words:
        return "too_short", {"value": n, "limit": cfg.min_words}
    if cfg.max_words is not None and n > cfg.max_words:
        return "too_long", {"value": n, "limit": cfg.max_words}
    if n == 0:
        return "too_short", {"value": 0, "limit": cfg.min_words or 1}

    low = [w.strip(_PUNCT) for w in text.lower().split()]  # words without surrounding punctuation
    lengths = np.fromiter(map(len, low), dtype=np.int64, count=len(low))
    total = int(lengths.sum())
    n_content = int(np.count_nonzero(lengths))
    mean_len = total / n_content if n_content else 0.0
    if cfg.min_mean_word_length is not None and mean_len < cfg.min_mean_word_length:
        return "mean_word_length", {"value": round(mean_len, 3), "limit": cfg.min_mean_word_length}
    if cfg.max_mean_word_length is not None and mean_len > cfg.max_mean_word_length:
        return "mean_word_length", {"value": round(mean_len, 3), "limit": cfg.max_mean_word_length}

    if cfg.max_symbol_ratio is not None:
        symbols = text.count("#") + text.count("...") + text.count("…")
        if symbols / n > cfg.max_symbol_ratio:
            return "symbol_ratio", {"value": round(symbols / n, 4), "limit": cfg.max_symbol_ratio}

    lines = [ln.strip() for ln in text.split("\n")]
    lines = [ln for ln in lines if ln]
    if lines:
        if cfg.max_bullet_lines is not None:
            share = sum(1 for ln in lines if ln.startswith(BULLETS)) / len(lines)
            if share > cfg.max_bullet_lines:
                return "bullet_lines", {"value": round(share, 4), "limit": cfg.max_bullet_lines}
        if cfg.max_ellipsis_lines is not None:
            share = sum(1 for ln in lines if ln.endswith(ELLIPSES)) / len(lines)
            if share > cfg.max_ellipsis_lines:
                return "ellipsis_lines", {"value": round(share, 4), "limit": cfg.max_ellipsis_lines}

    if cfg.min_alpha_words is not None:
        share = len(_ALPHA_WORD.findall(text)) / n
        if share < cfg.min_alpha_words:
            return "alpha_words", {"value": round(share, 4), "limit": cfg.min_alpha_words}

    stop = STOP_WORDS.get(lang or "")
    if cfg.min_stop_words is not None and stop is not None:
        found = stop.intersection(low)
        if len(found) < cfg.min_stop_words:
            return "stop_words", {"value": len(found), "limit": cfg.min_stop_words}

    dup_l, dup_lc = _dup_share(lines)
    if cfg.max_dup_lines is not None and dup_l > cfg.max_dup_lines:
        return "dup_lines", {"value": round(dup_l, 4), "limit": cfg.max_dup_lines}
    if cfg.max_dup_line_chars is not None and dup_lc > cfg.max_dup_line_chars:
        return "dup_line_chars", {"value": round(dup_lc, 4), "limit": cfg.max_dup_line_chars}
    if "\n\n" in text:
        paragraphs = [p.strip() for p in text.split("\n\n")]
        dup_p, dup_pc = _dup_share([p for p in paragraphs if p])
    else:  # one paragraph per line
        dup_p, dup_pc = dup_l, dup_lc
    if cfg.max_dup_paragraphs is not None and dup_p > cfg.max_dup_paragraphs:
        return "dup_paragraphs", {"value": round(dup_p, 4), "limit": cfg.max_dup_paragraphs}
    if cfg.max_dup_paragraph_chars is not None and dup_pc > cfg.max_dup_paragraph_chars:
        return "dup_paragraph_chars", {"value": round(dup_pc, 4), "limit": cfg.max_dup_paragraph_chars}

    if cfg.max_top_ngram_chars is None and cfg.max_dup_ngram_chars is None:
        return None
    index = {w: i for i, w in enumerate(dict.fromkeys(low))}  # word -> id, in order of first use
    ids = np.fromiter(map(index.__getitem__, low), dtype=np.uint64, count=len(low))
    if cfg.max_top_ngram_chars is not None:
        for n_, limit in zip((2, 3, 4), cfg.max_top_ngram_chars):
            share = _top_ngram_share(ids, lengths, n_, total)
            if share > limit:
                return "top_ngram", {"n": n_, "value": round(share, 4), "limit": limit}
    if cfg.max_dup_ngram_chars is not None:
        limits = cfg.max_dup_ngram_chars
        share5 = _dup_ngram_share(ids, lengths, 5, total)
        if share5 > limits[0]:
            return "dup_ngrams", {"n": 5, "value": round(share5, 4), "limit": limits[0]}
        # Characters in repeated longer n-grams are a subset of those in repeated 5-grams:
        # below the smallest remaining limit, no longer n-gram can exceed its own.
        if share5 > min(limits[1:]):
            for n_, limit in zip(range(6, 11), limits[1:]):
                share = _dup_ngram_share(ids, lengths, n_, total)
                if share > limit:
                    return "dup_ngrams", {"n": n_, "value": round(share, 4), "limit": limit}
    return None
