"""Mergeable statistics: nested dicts of counts that stages fill while they run.

A stage's statistics are plain JSON: numbers are summed, dicts are merged key by key, so partial
results from many workers (Beam combiners) or many crawl processes add up to the same totals.
Keys starting with "max_" or "min_" keep the maximum or minimum instead of summing. The report
reads these statistics from each stage's _SUCCESS.json and never rereads the corpus.
"""

from __future__ import annotations

import math
from typing import Any


def merge_into(acc: dict, other: dict) -> dict:
    """Add `other` into `acc` (in place) and return acc."""
    for key, value in other.items():
        if value is None:
            acc.setdefault(key, None)
            continue
        if key not in acc or acc[key] is None:
            acc[key] = _copy(value)
        elif isinstance(value, dict):
            merge_into(acc[key], value)
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            acc[key] = value  # labels and flags: last writer wins
        elif key.startswith("max_"):
            acc[key] = max(acc[key], value)
        elif key.startswith("min_"):
            acc[key] = min(acc[key], value)
        else:
            acc[key] += value
    return acc


def merge(*parts: dict) -> dict:
    acc: dict = {}
    for p in parts:
        if p:
            merge_into(acc, p)
    return acc


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def log2_bucket(n: float) -> str:
    """Histogram bucket of a non-negative size: '0', '1', '2-3', '4-7', '8-15', ..."""
    n = int(n)
    if n <= 0:
        return "0"
    lo = 1 << int(math.log2(n))
    return str(lo) if lo == 1 else f"{lo}-{2 * lo - 1}"


def bucket_sort_key(bucket: str) -> int:
    return int(bucket.split("-")[0])


def sorted_histogram(hist: dict) -> list[tuple[str, int]]:
    return sorted(hist.items(), key=lambda kv: bucket_sort_key(kv[0]))


def top_k(counts: dict, k: int = 50) -> list[list]:
    """The k largest entries of a {key: count} dict as [key, count] pairs, ties broken by key."""
    return [[key, n] for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:k]]


def funnel_counts(n_in: int, n_out: int, dropped: dict) -> dict:
    """The counts block every stage writes to _SUCCESS.json."""
    return {"in": n_in, "out": n_out, "dropped": dict(sorted(dropped.items()))}
