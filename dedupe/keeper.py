"""The keeper rule as an ordering: a document's node key sorts before another's exactly when it is
the better one to keep. Highest Reddit score first, then the earliest submission, then the smallest id.

    node key = 16 hex digits of (2^62 - score) + 16 hex digits of created_utc + id

So "the keeper of a group" is simply its smallest node key, and connected components labelled by
their minimum node (see components.py) are labelled by their keeper. Keys are plain strings, which
every Beam runner can group by deterministically.
"""

from __future__ import annotations

_SCORE_SPAN = 1 << 62
_NO_TIME = (1 << 63) - 1  # a document without a submission time sorts after every dated one


def _as_int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def node_key(doc: dict) -> str:
    source = doc.get("source") or {}
    score = min(max(_as_int(source.get("score"), 0), -_SCORE_SPAN + 1), _SCORE_SPAN - 1)
    created = min(max(_as_int(source.get("created_utc"), _NO_TIME), 0), _NO_TIME)
    return f"{_SCORE_SPAN - score:016x}{created:016x}{doc['id']}"


def node_id(key: str) -> str:
    return key[32:]


def node_rank(key: str) -> tuple[int, int]:
    """(score, created_utc or None) encoded in a node key, for reports."""
    created = int(key[16:32], 16)
    return _SCORE_SPAN - int(key[:16], 16), (None if created == _NO_TIME else created)
