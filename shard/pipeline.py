"""The Beam pipeline: documents -> encoded batches -> sorted parts -> fixed-size shards + indexes.

Thin on purpose: reading and repairing is shard.docs, encoding is shard.encode, packing is
shard.pack. The transforms only move data between them:

    input files --Reshuffle--> ReadEncode (per file: read, repair/reject, batch, encode)
        docs    --GroupByKey (split, key bucket)--> WritePart (sorted by key)
                --GroupByKey (one key)--> Plan (shard boundaries from the parts' token counts)
                --Reshuffle--> WriteShard (header + token ranges + index; info JSON per shard)
        rejects --> rejects/rejects-00000-of-00001.jsonl.zst
        stats   --> one merged stats JSON

Nothing is emitted from finish_bundle, there are no side inputs and no multi-output ParDo (Beam
2.77's own DaskRunner, since replaced by webtext/beam_dask.py, handed every output of a multi-output
ParDo to every consumer): ReadEncode emits (kind, value) pairs that three filters split. So the same
pipeline runs on the DirectRunner, the Dask runner and the portable runners, with the same bytes out.
"""

from __future__ import annotations

import json
import os
import time

import apache_beam as beam
from shard.docs import read_docs
from shard.encode import DocEncoder
from shard.pack import bucket_of, plan_shards, write_part, write_shard
from webtext.beam import WriteRecords, WriteStats, write_bytes_atomic
from webtext.stats import log2_bucket

BATCH_CHARS = 16_000_000  # a batch is also cut at this many characters, whatever batch_docs says
DOC, REJECT, STATS = "doc", "reject", "stats"  # what ReadEncode emits, as (kind, value)


class ReadEncode(beam.DoFn):
    """One input file -> (DOC, ((split, bucket), doc)) elements, (REJECT, record)s and one (STATS, dict)."""

    def __init__(self, encoder: DocEncoder, *, root: str, seed: int, val_fraction: float, bucket_bits: int,
                 batch_docs: int):
        self.encoder = encoder
        self.root, self.seed, self.val_fraction = root, seed, val_fraction
        self.bucket_bits, self.batch_docs = bucket_bits, batch_docs

    def process(self, path):
        stats = {"records": 0, "dropped": {}, "documents": {}, "tokens": {}, "chars": 0, "doc_tokens": {},
                 "max_doc_tokens": 0, "repaired_utf8": 0, "repaired_surrogates": 0, "encode_seconds": 0.0}
        batch, chars = [], 0
        for doc, reject in read_docs(path, self.root, seed=self.seed, val_fraction=self.val_fraction):
            stats["records"] += 1
            if reject is not None:
                stats["dropped"][reject["reason"]] = stats["dropped"].get(reject["reason"], 0) + 1
                yield REJECT, reject
                continue
            batch.append(doc)
            chars += len(doc.text)
            if len(batch) >= self.batch_docs or chars >= BATCH_CHARS:
                yield from self._encode(batch, stats)
                batch, chars = [], 0
        if batch:
            yield from self._encode(batch, stats)
        stats["encode_seconds"] = round(stats["encode_seconds"], 3)
        yield STATS, stats

    def _encode(self, batch, stats):
        started = time.perf_counter()
        arrays = self.encoder.encode([d.id for d in batch], [d.text for d in batch])
        stats["encode_seconds"] += time.perf_counter() - started
        for doc, tokens in zip(batch, arrays):
            n = len(tokens)
            stats["documents"][doc.split] = stats["documents"].get(doc.split, 0) + 1
            stats["tokens"][doc.split] = stats["tokens"].get(doc.split, 0) + n
            stats["chars"] += len(doc.text)
            bucket = log2_bucket(n)
            stats["doc_tokens"][bucket] = stats["doc_tokens"].get(bucket, 0) + 1
            stats["max_doc_tokens"] = max(stats["max_doc_tokens"], n)
            stats["repaired_utf8"] += doc.repaired_utf8
            stats["repaired_surrogates"] += doc.repaired_surrogates
            yield DOC, ((doc.split, bucket_of(doc.key, self.bucket_bits)),
                        (doc.key, doc.id, doc.url, doc.file, doc.line, tokens.tobytes()))


def _only(kind: str):
    return lambda element: [element[1]] if element[0] == kind else []


def _reject_key(record: dict) -> str:
    detail = record.get("reject") or {}
    return record.get("id") or f"{detail.get('file')}:{detail.get('line')}"


def _write_shard_and_info(task: dict, out_dir: str, info_dir: str) -> dict:
    info = write_shard(out_dir, task)
    write_bytes_atomic(os.path.join(info_dir, info["name"] + ".json"), json.dumps(info, sort_keys=True).encode())
    return info


def build(p, *, files: list[str], root: str, encoder: DocEncoder, seed: int, val_fraction: float,
          bucket_bits: int, batch_docs: int, shard_tokens: int, out_dir: str, tmp_dir: str) -> None:
    """Add the shard pipeline to `p`. Shards and indexes go to out_dir, rejects to out_dir/rejects,
    parts, per-shard info and the merged stats to tmp_dir (read by the stage, then removed)."""
    parts_dir = os.path.join(tmp_dir, "parts")
    info_dir = os.path.join(tmp_dir, "info")
    read = (p
            | "Files" >> beam.Create(sorted(files))
            | "SpreadFiles" >> beam.Reshuffle()
            | "ReadEncode" >> beam.ParDo(ReadEncode(encoder, root=root, seed=seed, val_fraction=val_fraction,
                                                    bucket_bits=bucket_bits, batch_docs=batch_docs)))
    (read
     | "Docs" >> beam.FlatMap(_only(DOC))
     | "GroupByBucket" >> beam.GroupByKey()
     | "WritePart" >> beam.MapTuple(lambda key, docs: write_part(parts_dir, key[0], key[1], docs))
     | "OneKey" >> beam.Map(lambda part: (0, part))
     | "AllParts" >> beam.GroupByKey()
     | "Plan" >> beam.FlatMap(lambda kv: plan_shards(list(kv[1]), shard_tokens))
     | "SpreadShards" >> beam.Reshuffle()
     | "WriteShard" >> beam.Map(_write_shard_and_info, out_dir, info_dir))
    (read
     | "Rejects" >> beam.FlatMap(_only(REJECT))
     | "WriteRejects" >> WriteRecords(os.path.join(out_dir, "rejects"), "rejects", 1, key=_reject_key))
    (read
     | "StatsDicts" >> beam.FlatMap(_only(STATS))
     | "Stats" >> WriteStats(os.path.join(tmp_dir, "stats.json")))
