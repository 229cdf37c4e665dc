"""The document record every stage reads and writes, and the reject record beside it.

    {"id", "url", "text", "title", "fetched_at",
     "source": {"reddit_ids", "subreddits", "score", "created_utc"},
     "meta": {...}}

`id` is stable: a hash of the normalised URL (see webtext.urls), so the same page gets the same id in
every run. A stage may add keys to `meta`; it never renames or drops keys. A dropped document is
written to the stage's rejects/ as the same record plus `reason` (and `stage`), so nothing is lost.
"""

from __future__ import annotations

import hashlib
from typing import Any, Optional

DOC_KEYS = ("id", "url", "text", "title", "fetched_at", "source", "meta")
SOURCE_KEYS = ("reddit_ids", "subreddits", "score", "created_utc")


def doc_id(normalized_url: str) -> str:
    """Stable document id: the first 16 hex digits (64 bits) of sha256 of the normalised URL."""
    return hashlib.sha256(normalized_url.encode("utf-8")).hexdigest()[:16]


def empty_source() -> dict:
    return {"reddit_ids": [], "subreddits": [], "score": 0, "created_utc": None}


def new_document(url: str, text: str, *, id: Optional[str] = None, title: Optional[str] = None,
                 fetched_at: Optional[str] = None, source: Optional[dict] = None,
                 meta: Optional[dict] = None) -> dict:
    """Make a document record. Without `id`, it is derived from the normalised URL."""
    if id is None:
        from webtext.urls import normalize_url

        id = doc_id(normalize_url(url) or url)
    src = empty_source()
    if source:
        src.update(source)
    return {"id": id, "url": url, "text": text, "title": title, "fetched_at": fetched_at,
            "source": src, "meta": dict(meta or {})}


def check_document(doc: Any) -> list[str]:
    """Problems with a record (empty list if it is a valid document)."""
    if not isinstance(doc, dict):
        return [f"expected a JSON object, got {type(doc).__name__}"]
    problems = [f"missing key '{k}'" for k in DOC_KEYS if k not in doc]
    if problems:
        return problems
    if not isinstance(doc["id"], str) or not doc["id"]:
        problems.append("'id' must be a non-empty string")
    if not isinstance(doc["url"], str):
        problems.append("'url' must be a string")
    if not isinstance(doc["text"], str):
        problems.append("'text' must be a string")
    if not isinstance(doc["source"], dict):
        problems.append("'source' must be an object")
    else:
        problems += [f"missing key 'source.{k}'" for k in SOURCE_KEYS if k not in doc["source"]]
    if not isinstance(doc["meta"], dict):
        problems.append("'meta' must be an object")
    return problems


def make_reject(record: dict, reason: str, stage: str, **detail) -> dict:
    """A dropped record, kept whole, with why it was dropped. Extra detail goes under `reject`."""
    out = dict(record)
    out["reason"] = reason
    out["stage"] = stage
    if detail:
        out["reject"] = detail
    return out


def reason_family(reason: str) -> str:
    """The counted name of a reason: 'near_duplicate_of:ab12' -> 'near_duplicate_of'."""
    return reason.split(":", 1)[0]
