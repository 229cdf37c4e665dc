"""The tokenizer's training sample: the `k` documents with the smallest hash of (seed, id).

A bottom-k sample by hash is the same whatever order the files are read in, and the same documents
stay in it when the corpus grows only by documents whose keys are larger. Two streaming passes, in
constant memory apart from the k keys: the first reads only the ids (from the start of each line, without
parsing the text) to find the k-th smallest key, the second yields the texts of the documents at or
below it, repaired like the documents that get tokenized.
"""

from __future__ import annotations

import heapq
import os
from typing import Iterator, Optional

from shard.docs import decode_line, fast_id, prepare, sample_key
from shard.encode import repair_text
from webtext import jsonl


def _ids(path: str) -> Iterator[str]:
    for _, raw in jsonl.iter_lines(path):
        doc_id = fast_id(raw)
        if doc_id is None:
            try:
                record, _ = decode_line(raw)
            except ValueError:
                continue
            doc_id = record.get("id") if isinstance(record, dict) else None
            if not isinstance(doc_id, str) or not doc_id:
                continue
            doc_id = repair_text(doc_id)[0]
        yield doc_id


def threshold(files: list[str], seed: int, k: int) -> Optional[int]:
    """The largest key in the sample, or None when every document is in it (k = 0 or k >= documents)."""
    if k <= 0:
        return None
    heap: list[int] = []  # the k smallest keys, negated (heapq is a min-heap)
    for path in files:
        for doc_id in _ids(path):
            key = -sample_key(seed, doc_id)
            if len(heap) < k:
                heapq.heappush(heap, key)
            elif key > heap[0]:
                heapq.heapreplace(heap, key)
    if len(heap) < k:
        return None
    return -heap[0]


class Sample:
    """Iterate the sample's texts (one pass per iteration); counts what it yielded."""

    def __init__(self, files: list[str], root: str, seed: int, k: int):
        self.files, self.root, self.seed = files, root, seed
        self.limit = threshold(files, seed, k)
        self.docs = 0
        self.chars = 0

    def __iter__(self) -> Iterator[str]:
        self.docs = self.chars = 0
        for path in self.files:
            name = os.path.relpath(path, self.root)
            for lineno, raw in jsonl.iter_lines(path):
                doc_id = fast_id(raw)
                if doc_id is not None and self.limit is not None and sample_key(self.seed, doc_id) > self.limit:
                    continue  # most lines are skipped without parsing their text
                try:
                    record, repaired = decode_line(raw)
                except ValueError:
                    continue
                doc, _ = prepare(record, file=name, line=lineno, seed=self.seed, val_fraction=0.0, repaired_utf8=repaired)
                if doc is None or (self.limit is not None and sample_key(self.seed, doc.id) > self.limit):
                    continue
                self.docs += 1
                self.chars += len(doc.text)
                yield doc.text

    def describe(self) -> dict:
        return {"documents": self.docs, "chars": self.chars,
                "max_key": None if self.limit is None else f"{self.limit:016x}"}


def texts_for_check(files: list[str], max_docs: int = 2000, max_chars: int = 2_000_000,
                    max_doc_chars: int = 200_000) -> list[str]:
    """The first documents of the input (in file order), repaired: the tiktoken equivalence check.
    A long document contributes its first max_doc_chars characters."""
    out: list[str] = []
    chars = 0
    for path in files:
        for _, raw in jsonl.iter_lines(path):
            try:
                record, _ = decode_line(raw)
            except ValueError:
                continue
            doc, _ = prepare(record, file="", line=0, seed=0, val_fraction=0.0)
            if doc is None:
                continue
            text = doc.text[:max_doc_chars]  # any string is a fair test: both engines encode the same one
            out.append(text)
            chars += len(text)
            if len(out) >= max_docs or chars >= max_chars:
                return out
    return out
