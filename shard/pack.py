"""Packing encoded documents into fixed-size shards in one deterministic order (no Beam here).

The order of a split is the documents' order keys (a hash of seed and id), which no runner,
parallelism or input order can change. Getting every document's place in that order without one
machine sorting the whole corpus takes three steps:

1. `write_part`: the documents of one key range ("bucket": the top bits of the key) are sorted and
   written as one part: raw uint16 tokens plus a JSON-lines list of (id, url, file, line, tokens).
   Buckets are key ranges, so the parts in bucket order are the whole split in key order.
2. `plan_shards`: from the parts' token counts alone, cut each split into shards of `shard_tokens`
   (the last one shorter) and list which byte range of which part goes into each shard.
3. `write_shard`: copy those ranges behind llm.c's header, hash the file, and write its index.

A document runs on across a shard end, so every shard but the last is exactly `shard_tokens` long;
the index records where each piece sits in its document.

Index (`<shard>.idx`): JSON lines, one per document piece, in token order:
    {"offset": first token in this shard, "tokens": tokens of the piece in this shard,
     "doc_offset": position of the piece's first token in the document (0: the document starts here,
     with <|endoftext|>), "doc_tokens": the document's length (<|endoftext|> included),
     "id", "url", "file": the upstream file, "line": its line in that file}
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Iterable, Iterator

from shard.reader import HEADER_BYTES, TOKEN_DTYPE, make_header

SPLITS = ("train", "val")
COPY_CHUNK = 8 << 20  # bytes per read when copying part ranges into a shard


def shard_name(split: str, index: int) -> str:
    return f"{split}_{index:06d}.bin"


def index_name(shard: str) -> str:
    return shard[:-4] + ".idx" if shard.endswith(".bin") else shard + ".idx"


def part_stem(folder: str, split: str, bucket: int) -> str:
    return os.path.join(folder, f"{split}-{bucket:06d}")


def bucket_of(key: int, bits: int) -> int:
    return key >> (64 - bits) if bits else 0


def _atomic_write(path: str, chunks: Iterable[bytes]) -> str:
    """Write chunks to path atomically; returns the sha256 of what was written."""
    h = hashlib.sha256()
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "wb") as f:
        for chunk in chunks:
            f.write(chunk)
            h.update(chunk)
    os.replace(tmp, path)
    return h.hexdigest()


def write_part(folder: str, split: str, bucket: int, docs: Iterable[tuple]) -> dict:
    """Write one bucket's documents, sorted by (key, id, tokens). Each doc is
    (key, id, url, file, line, tokens: bytes of uint16). Returns the part's summary."""
    docs = sorted(docs, key=lambda d: (d[0], d[1], d[5]))
    stem = part_stem(folder, split, bucket)
    os.makedirs(folder, exist_ok=True)
    _atomic_write(stem + ".u16", (d[5] for d in docs))
    entries = (json.dumps([d[1], d[2], d[3], d[4], len(d[5]) // TOKEN_DTYPE.itemsize], ensure_ascii=False).encode("utf-8") + b"\n"
               for d in docs)
    _atomic_write(stem + ".jsonl", entries)
    return {"split": split, "bucket": bucket, "stem": stem, "docs": len(docs),
            "tokens": sum(len(d[5]) for d in docs) // TOKEN_DTYPE.itemsize}


def plan_shards(parts: Iterable[dict], shard_tokens: int) -> list[dict]:
    """The shards to write: for each, its name, split, token count and the part ranges it is made of."""
    tasks = []
    for split in SPLITS:
        chosen = sorted((p for p in parts if p["split"] == split and p["tokens"] > 0), key=lambda p: p["bucket"])
        total = sum(p["tokens"] for p in chosen)
        n_shards = -(-total // shard_tokens)
        starts = []
        pos = 0
        for p in chosen:
            starts.append(pos)
            pos += p["tokens"]
        j = 0  # first part that may overlap the current shard
        for i in range(n_shards):
            lo, hi = i * shard_tokens, min((i + 1) * shard_tokens, total)
            segments = []
            while j < len(chosen) and starts[j] + chosen[j]["tokens"] <= lo:
                j += 1
            k = j
            while k < len(chosen) and starts[k] < hi:
                a = max(lo, starts[k])
                b = min(hi, starts[k] + chosen[k]["tokens"])
                segments.append({"stem": chosen[k]["stem"], "start": a - starts[k], "tokens": b - a,
                                 "shard_offset": a - lo})
                k += 1
            tasks.append({"name": shard_name(split, i), "split": split, "index": i, "start": lo,
                          "tokens": hi - lo, "segments": segments})
    return tasks


def _copy_range(path: str, start: int, count: int) -> Iterator[bytes]:
    """Bytes of tokens [start, start + count) of a raw uint16 file."""
    size = TOKEN_DTYPE.itemsize
    with open(path, "rb") as f:
        f.seek(start * size)
        left = count * size
        while left > 0:
            chunk = f.read(min(COPY_CHUNK, left))
            if not chunk:
                raise IOError(f"{path}: ended {left} bytes short of tokens {start}..{start + count}")
            left -= len(chunk)
            yield chunk


def _pieces(segment: dict) -> Iterator[dict]:
    """The index lines for one segment (a token range of one part)."""
    lo, hi = segment["start"], segment["start"] + segment["tokens"]
    pos = 0
    with open(segment["stem"] + ".jsonl", encoding="utf-8") as f:
        for line in f:
            doc_id, url, file, lineno, n = json.loads(line)
            end = pos + n
            if end > lo and pos < hi:
                a, b = max(pos, lo), min(end, hi)
                yield {"offset": segment["shard_offset"] + a - lo, "tokens": b - a, "doc_offset": a - pos,
                       "doc_tokens": n, "id": doc_id, "url": url, "file": file, "line": lineno}
            if end >= hi:
                break
            pos = end


def write_shard(out_dir: str, task: dict) -> dict:
    """Write one shard (llm.c header + tokens) and its index; returns what the manifest lists."""
    path = os.path.join(out_dir, task["name"])

    def body():
        yield make_header(task["tokens"])
        for seg in task["segments"]:
            yield from _copy_range(seg["stem"] + ".u16", seg["start"], seg["tokens"])

    sha = _atomic_write(path, body())
    size = os.path.getsize(path)
    if size != HEADER_BYTES + task["tokens"] * TOKEN_DTYPE.itemsize:
        raise IOError(f"{path}: wrote {size} bytes, expected {HEADER_BYTES + task['tokens'] * TOKEN_DTYPE.itemsize}")
    counts = {"documents": 0, "pieces": 0}

    def index_lines():
        for seg in task["segments"]:
            for piece in _pieces(seg):
                counts["pieces"] += 1
                counts["documents"] += piece["doc_offset"] == 0
                yield json.dumps(piece, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"

    idx = index_name(task["name"])
    idx_sha = _atomic_write(os.path.join(out_dir, idx), index_lines())
    return {"name": task["name"], "split": task["split"], "index": task["index"], "tokens": task["tokens"],
            "documents": counts["documents"], "pieces": counts["pieces"], "sha256": sha,
            "idx": idx, "idx_sha256": idx_sha}
