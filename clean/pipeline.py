"""The clean stage on Apache Beam: WARC files -> documents and rejects, sharded and deterministic.

    warc paths --Reshuffle--> ProcessWarcFile (one file per work item; extraction in a child
    process per worker) --> (shard, record) --GroupByKey--> WriteShard: docs-SSSSS-of-NNNNN.jsonl.zst
    and rejects-SSSSS-of-NNNNN.jsonl.zst --> stats (merged by a combiner into one JSON file)

A record's shard is a hash of its id, and each shard file is sorted, so the bytes written depend
only on the input, never on the runner or its parallelism. Documents and rejects of one shard are
written by the same step, which is also where a second response for an already-kept id (the same
page stored twice) becomes a `duplicate_id` reject: ids stay unique, and the choice of the copy kept
(the smallest record) does not depend on arrival order. The writer's statistics of what it wrote
are the stage's funnel counts, so the counts are those of the files on disk.
"""

from __future__ import annotations

import json
import os
from typing import Iterable

import apache_beam as beam

from webtext import jsonl
from webtext import stats as statslib
from webtext.beam import WriteStats, shard_of, shard_path, write_bytes_atomic
from webtext.record import make_reject, reason_family
from webtext.urls import url_host

from clean.config import Config

DOCS, REJECTS = "docs", "rejects"
# Pages handed to the extraction child together (see clean/guard.py: fewer process switches). Bodies
# are at most extract.max_html_bytes each; typical pages are 50-500 KB.
PAGES_PER_BATCH = 16


class ProcessWarcFile(beam.DoFn):
    """One WARC file -> ("record", (shard, (kind, record))) for each response record, then
    ("stats", stats dict). One output, split afterwards by two filters: the simplest form for every
    runner (Beam 2.77's own DaskRunner, which webtext no longer uses, mixed up the outputs of a
    multi-output ParDo)."""

    def __init__(self, cfg: Config, num_shards: int):
        self.cfg = cfg
        self.num_shards = num_shards
        self.processor = None
        self.extractor = None

    def setup(self):
        from clean.guard import make_extractor
        from clean.process import PageProcessor

        self.extractor = make_extractor(self.cfg.extract)
        self.processor = PageProcessor(self.cfg, self.extractor)

    def process(self, path: str):
        from clean.warc import read_warc

        stats: dict = {}
        pages = 0
        batch: list = []
        for page in read_warc(path, stats, self.cfg.extract.max_html_bytes):
            pages += 1
            batch.append(page)
            if len(batch) == PAGES_PER_BATCH:
                yield from self._records(batch, stats)
                batch = []
        yield from self._records(batch, stats)
        stats["pages"] = pages
        yield "stats", stats

    def _records(self, batch, stats):
        for kind, record in self.processor.process_many(batch, stats) if batch else ():
            yield "record", (shard_of(record["id"], self.num_shards), (kind, record))

    def teardown(self):
        if self.extractor is not None:
            self.extractor.close()
            self.extractor = None


def _only(item, kind):
    if item[0] == kind:
        yield item[1]


def sort_records(records: list[dict]) -> list[dict]:
    """By id; records sharing an id by their content, so the order never depends on arrival."""
    records.sort(key=lambda r: r["id"])
    out: list[dict] = []
    i = 0
    while i < len(records):
        j = i + 1
        while j < len(records) and records[j]["id"] == records[i]["id"]:
            j += 1
        if j - i == 1:
            out.append(records[i])
        else:
            out.extend(sorted(records[i:j], key=lambda r: json.dumps(r, sort_keys=True, ensure_ascii=False)))
        i = j
    return out


def shard_stats(docs: list[dict], rejects: list[dict]) -> dict:
    """The funnel counts and document statistics of one written shard."""
    dropped: dict = {}
    for r in rejects:
        fam = reason_family(r["reason"])
        dropped[fam] = dropped.get(fam, 0) + 1
    chars: dict = {}
    words: dict = {}
    domains: dict = {}
    chars_out = 0
    for d in docs:
        n_chars = len(d["text"])
        chars_out += n_chars
        b = statslib.log2_bucket(n_chars)
        chars[b] = chars.get(b, 0) + 1
        b = statslib.log2_bucket(len(d["text"].split()))
        words[b] = words.get(b, 0) + 1
        host = url_host(d["meta"].get("final_url") or d["url"]) or "(none)"
        domains[host] = domains.get(host, 0) + 1
    return {"docs": len(docs), "dropped": dropped, "chars": chars, "words": words, "domains": domains,
            "chars_out": chars_out}


class WriteShard(beam.DoFn):
    """(shard, [(kind, record), ...]) -> the shard's docs and rejects files; yields their stats."""

    def __init__(self, out_dir: str, num_shards: int):
        self.out_dir = out_dir
        self.num_shards = num_shards

    def process(self, element):
        index, items = element
        docs, rejects = [], []
        for item in items:
            if item is None:  # the placeholder that makes every shard exist
                continue
            kind, record = item
            (docs if kind == "doc" else rejects).append(record)
        kept: list[dict] = []
        for d in sort_records(docs):
            if kept and kept[-1]["id"] == d["id"]:
                rejects.append(make_reject(d, "duplicate_id", "clean", kept=kept[-1]["meta"].get("warc")))
            else:
                kept.append(d)
        rejects = sort_records(rejects)
        for folder, records in ((DOCS, kept), (REJECTS, rejects)):
            path = shard_path(os.path.join(self.out_dir, folder), folder, index, self.num_shards)
            write_bytes_atomic(path, jsonl.encode_lines(records))
        yield shard_stats(kept, rejects)


class CleanWarcs(beam.PTransform):
    """The whole stage as one transform: WARC paths in, files written under `out_dir`, stats to
    `stats_path`."""

    def __init__(self, cfg: Config, files: list[str], out_dir: str, num_shards: int, stats_path: str):
        super().__init__()
        self.cfg, self.files, self.out_dir = cfg, sorted(files), out_dir
        self.num_shards, self.stats_path = num_shards, stats_path

    def expand(self, pbegin):
        n = self.num_shards
        results = (pbegin
                   | "WarcFiles" >> beam.Create(self.files)
                   | "SpreadFiles" >> beam.Reshuffle()
                   | "ProcessWarc" >> beam.ParDo(ProcessWarcFile(self.cfg, n)))
        records = results | "Records" >> beam.FlatMap(_only, "record")
        file_stats = results | "FileStats" >> beam.FlatMap(_only, "stats")
        every = pbegin.pipeline | "EveryShard" >> beam.Create([(i, None) for i in range(n)])
        written = ((records, every)
                   | "WithEmptyShards" >> beam.Flatten()
                   | "GroupByShard" >> beam.GroupByKey()
                   | "WriteShard" >> beam.ParDo(WriteShard(self.out_dir, n)))
        return ((file_stats, written)
                | "AllStats" >> beam.Flatten()
                | "WriteStats" >> WriteStats(self.stats_path))


def list_warcs(folder: str) -> list[str]:
    """The WARC files of a crawl folder (local or remote), sorted."""
    files: Iterable[str] = []
    for suffix in (".warc.gz", ".warc"):
        files = list(files) + jsonl.list_files(folder, suffix)
    return sorted(set(files))


def total_bytes(files: list[str]) -> int:
    total = 0
    for path in files:
        if jsonl.is_remote(path):
            from apache_beam.io.filesystems import FileSystems

            total += sum(m.size_in_bytes for r in FileSystems.match([path]) for m in r.metadata_list)
        else:
            total += os.path.getsize(path)
    return total
