"""Reading the documents to tokenize: one record at a time, repaired or rejected with a reason.

- A line that is not valid UTF-8 is decoded with U+FFFD in place of the bad bytes (counted as
  `repaired_utf8`); a text with lone surrogates gets U+FFFD for them (`repaired_surrogates`).
- A line that is not JSON is rejected as `bad_json`; a record without a string `id` and `text` as
  `bad_record`; a text with nothing but whitespace as `empty`. Each goes to rejects/ with its reason.
- Every kept document gets its split (`val` when a hash of its id falls below val_fraction, so the
  split is stable across runs, seeds and tokenizers) and its order key (a hash of seed and id: the
  shards hold documents in this order, which is a shuffle that no runner or file order can change).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from typing import Iterator, Optional

from shard.encode import hash_fraction, repair_text
from webtext import jsonl
from webtext.record import make_reject

STAGE = "shard"
_ID_PREFIX = re.compile(rb'^\{"id":"([^"\\]*)"')


@dataclass
class Doc:
    """A document ready to encode."""

    id: str
    url: Optional[str]
    text: str
    file: str  # the input file's name (relative to the upstream folder)
    line: int
    split: str
    key: int  # 64-bit order key
    repaired_utf8: bool = False
    repaired_surrogates: bool = False


def order_key(seed: int, doc_id: str) -> int:
    """The 64-bit key that fixes a document's place in the shards."""
    digest = hashlib.blake2b(f"order:{seed}:{doc_id}".encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def sample_key(seed: int, doc_id: str) -> int:
    """The 64-bit key that chooses the tokenizer's training sample (the smallest keys are taken)."""
    digest = hashlib.blake2b(f"sample:{seed}:{doc_id}".encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def split_of(doc_id: str, val_fraction: float) -> str:
    return "val" if val_fraction > 0 and hash_fraction("split", doc_id) < val_fraction else "train"


def decode_line(raw: bytes) -> tuple[object, bool]:
    """(JSON value, whether invalid UTF-8 had to be replaced). Raises ValueError if not JSON."""
    try:
        return json.loads(raw), False
    except UnicodeDecodeError:
        return json.loads(raw.decode("utf-8", "replace")), True


def bad_line_reject(file: str, line: int, raw: bytes, error: str) -> dict:
    return {"id": None, "url": None, "reason": "bad_json", "stage": STAGE,
            "reject": {"file": file, "line": line, "error": error,
                       "raw": raw[:2000].decode("utf-8", "replace")}}


def prepare(record, *, file: str, line: int, seed: int, val_fraction: float,
            repaired_utf8: bool = False) -> tuple[Optional[Doc], Optional[dict]]:
    """(Doc, None) for a usable record, (None, reject record) otherwise."""
    if not isinstance(record, dict) or not isinstance(record.get("id"), str) or not record["id"] \
            or not isinstance(record.get("text"), str):
        base = record if isinstance(record, dict) else {"value": record}
        return None, make_reject(base, "bad_record", STAGE, file=file, line=line,
                                 error="a document needs a non-empty string 'id' and a string 'text'")
    text = record["text"]
    if not text.strip():
        return None, make_reject(record, "empty", STAGE, file=file, line=line)
    text, repaired_surrogates = repair_text(text)
    doc_id = repair_text(record["id"])[0]
    url = repair_text(record["url"])[0] if isinstance(record.get("url"), str) else None
    return Doc(id=doc_id, url=url, text=text, file=file, line=line, split=split_of(doc_id, val_fraction),
               key=order_key(seed, doc_id), repaired_utf8=repaired_utf8,
               repaired_surrogates=repaired_surrogates), None


def read_docs(path: str, root: str, *, seed: int, val_fraction: float) -> Iterator[tuple[Optional[Doc], Optional[dict]]]:
    """(Doc, None) or (None, reject) for every non-empty line of one input file."""
    name = os.path.relpath(path, root) if root else os.path.basename(path)
    for lineno, raw in jsonl.iter_lines(path):
        try:
            record, repaired = decode_line(raw)
        except ValueError as e:
            yield None, bad_line_reject(name, lineno, raw, str(e))
            continue
        yield prepare(record, file=name, line=lineno, seed=seed, val_fraction=val_fraction, repaired_utf8=repaired)


def fast_id(raw: bytes) -> Optional[str]:
    """A record's id without parsing the whole line (records start with "id"); None if not found so."""
    m = _ID_PREFIX.match(raw)
    return m.group(1).decode("utf-8", "replace") if m else None
