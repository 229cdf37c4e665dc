"""The link list: kept submissions -> one record per normalised URL, deduplicated on disk.

Memory does not grow with Reddit. Each kept submission is appended to one of `buckets` files,
chosen by a range of its link id (a hash of the normalised URL), through a fixed-size buffer that is
flushed as zstd frames. Then each bucket alone is loaded, grouped by id and written out sorted, so
the links folder is sorted by id and memory holds one bucket: for 45M links and 256 buckets,
~180k links at a time. Disk holds every kept submission once (compressed) until the list is written.

    {"id", "url", "source": {"reddit_ids", "subreddits", "score", "created_utc", "submissions", "nsfw"}}

`score` is the link's karma under the rule: the best kept submission's score ("submission"), or the
sum over all its submissions ("sum", OpenWebText2's rule; the threshold is applied to the sum).
`created_utc` is its earliest submission.

With `--part I/N` every part reads every submission (so the submission counts are the same in each
part) but writes only the links of its own hosts (so the parts' link lists are disjoint and their
union is the unsplit list).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

from webtext import jsonl
from webtext.record import doc_id
from webtext.stats import log2_bucket, top_k

from crawl.filters import SubmissionFilter
from crawl.sources import MAX_REPORTED_BAD_LINES
from crawl.parts import WHOLE, Part

LINKS_FILE_BYTES = 256 << 20  # uncompressed bytes per links file
TOP_DOMAINS = 1000
TOP_SUBREDDITS = 200


def _id_sort_key(reddit_id: str):
    return (len(reddit_id), reddit_id)  # base-36 ids: shorter is older


def _month(ts: Optional[int]) -> Optional[str]:
    if ts is None:
        return None
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m")


@dataclass
class SubmissionCounts:
    read: int = 0
    bad_lines: int = 0
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    files: int = 0

    def as_dict(self) -> dict:
        return {"files": self.files, "read": self.read, "bad_lines": self.bad_lines, "kept": self.kept,
                "dropped": dict(sorted(self.dropped.items()))}


class BucketSpool:
    """Rows appended to `n` on-disk buckets by link id range, buffered in at most `buffer_bytes`."""

    def __init__(self, folder: str, n: int, buffer_bytes: int = 64 << 20):
        import zstandard

        self.folder, self.n, self.buffer_bytes = folder, n, buffer_bytes
        os.makedirs(folder, exist_ok=True)
        self.buffers: list[list[bytes]] = [[] for _ in range(n)]
        self.buffered = 0
        self.cctx = zstandard.ZstdCompressor(level=1)

    def bucket_of(self, link_id: str) -> int:
        return int(link_id[:4], 16) * self.n >> 16  # a range of ids: buckets in order = ids in order

    def path(self, b: int) -> str:
        return os.path.join(self.folder, f"bucket-{b:04d}.jsonl.zst")

    def add(self, link_id: str, row: list) -> None:
        line = json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass") + b"\n"
        self.buffers[self.bucket_of(link_id)].append(line)
        self.buffered += len(line)
        if self.buffered >= self.buffer_bytes:
            self.flush()

    def flush(self) -> None:
        for b, lines in enumerate(self.buffers):
            if lines:
                with open(self.path(b), "ab") as f:
                    f.write(self.cctx.compress(b"".join(lines)))  # one zstd frame per flush
                self.buffers[b] = []
        self.buffered = 0



def spool_rows(root: str, b: int) -> Iterable[list]:
    """Rows of bucket b from every spool folder under root (one per process that scanned dumps)."""
    for folder in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        path = os.path.join(root, folder, f"bucket-{b:04d}.jsonl.zst")
        if os.path.exists(path):
            for _, line in jsonl.iter_lines(path):
                yield json.loads(line)


@dataclass
class LinkStats:
    links: int = 0
    link_domains: Counter = field(default_factory=Counter)
    scores: Counter = field(default_factory=Counter)
    subreddits: Counter = field(default_factory=Counter)
    created_month: Counter = field(default_factory=Counter)

    def add(self, link: dict, host: str) -> None:
        src = link["source"]
        self.links += 1
        self.link_domains[host[4:] if host.startswith("www.") else host] += 1
        self.scores[log2_bucket(max(src["score"], 0))] += 1
        for s in src["subreddits"]:
            self.subreddits[s] += 1
        month = _month(src["created_utc"])
        if month:
            self.created_month[month] += 1

    def as_dict(self) -> dict:
        return {
            "links": self.links,
            "link_domains": dict(top_k(self.link_domains, TOP_DOMAINS)),
            "scores": dict(sorted(self.scores.items(), key=lambda kv: int(kv[0].split("-")[0]))),
            "subreddits": dict(top_k(self.subreddits, TOP_SUBREDDITS)),
            "created_month": dict(sorted(self.created_month.items())),
        }


class LinkBuilder:
    """Feed submissions (add(), or scan() over dump files, in parallel); finish() writes the
    deduplicated links of this part.

    Scanning is what takes time at scale (JSON decoding: ~20-25k submissions/s per core), so
    scan() gives each of `workers` processes whole dump files; each spools into its own folder
    under the spool root, and finish() groups every bucket across them. The result does not depend
    on the order files were read in (ids and subreddits are sets, scores max/sum, dates min).
    """

    def __init__(self, filt: SubmissionFilter, spool_dir: str, *, buckets: int = 256, part: Part = WHOLE,
                 buffer_bytes: int = 64 << 20):
        self.filt = filt
        self.part = part
        self.buckets = buckets
        self.buffer_bytes = buffer_bytes
        self.counts = SubmissionCounts()
        self.spool_dir = spool_dir
        self._spool: Optional[BucketSpool] = None

    def add(self, obj: dict) -> None:
        if self._spool is None:
            self._spool = BucketSpool(os.path.join(self.spool_dir, f"s{os.getpid()}"), self.buckets, self.buffer_bytes)
        reason, sub = self.filt.decide(obj)
        if reason is not None:
            self.counts.dropped[reason] += 1
            return
        self.counts.kept += 1
        link_id = doc_id(sub.url)
        self._spool.add(link_id, [link_id, sub.url, sub.host, sub.id, sub.subreddit, sub.score, sub.created_utc,
                                  int(sub.nsfw)])

    def scan(self, paths: list[str], stats, *, workers: int = 1, log: Callable[[str], None] = lambda m: None) -> None:
        """Read every dump in `paths` into the spool; `stats` (crawl.sources.SourceStats) gets the
        read and bad-line counts. With workers > 1 and several files, files are read in parallel."""
        from crawl.sources import iter_dump

        if workers <= 1 or len(paths) <= 1:
            for i, path in enumerate(paths, 1):
                for obj in iter_dump(path, stats, _log_first_bad(stats, log)):
                    self.add(obj)
                log(f"links: {i}/{len(paths)} files read, {stats.read:,} submissions, {self.counts.kept:,} kept")
            return
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        job = (self.filt.cfg, self.spool_dir, self.buckets, self.part, max(self.buffer_bytes // workers, 1 << 20))
        with ProcessPoolExecutor(max_workers=min(workers, len(paths)), mp_context=mp.get_context("spawn")) as pool:
            futures = [pool.submit(_scan_file, path, *job) for path in paths]
            try:
                for i, fut in enumerate(as_completed(futures), 1):
                    counts, read, bad_lines, bad, files = fut.result()
                    self.counts.kept += counts.kept
                    self.counts.dropped.update(counts.dropped)
                    stats.read += read
                    stats.files += files
                    for b in bad[:max(0, 10 - stats.bad_lines)]:
                        log(f"bad line {b.path}:{b.line}: {b.error}")
                    stats.bad.extend(bad[:max(0, MAX_REPORTED_BAD_LINES - len(stats.bad))])
                    stats.bad_lines += bad_lines
                    log(f"links: {i}/{len(paths)} files read, {stats.read:,} submissions, {self.counts.kept:,} kept")
            except BaseException:
                for fut in futures:
                    fut.cancel()
                raise

    def finish(self, out_dir: str, prefix: str = "links", log: Optional[Callable[[str], None]] = None) -> LinkStats:
        """Group each bucket by link id and write this part's links, sorted by id, to out_dir."""
        if self._spool is not None:
            self._spool.flush()
        stats = LinkStats()
        min_score = self.filt.cfg.min_score
        summed = self.filt.cfg.score_rule == "sum"
        os.makedirs(out_dir, exist_ok=True)
        with jsonl.RotatingJsonlWriter(out_dir, prefix, max_bytes=LINKS_FILE_BYTES) as out:
            for b in range(self.buckets):
                groups: dict[str, list] = {}
                for link_id, url, host, sid, sub, score, created, nsfw in spool_rows(self.spool_dir, b):
                    g = groups.get(link_id)
                    if g is None:
                        groups[link_id] = [url, host, {sid}, {sub} if sub else set(), score, score, created, nsfw, 1]
                        continue
                    g[2].add(sid)
                    if sub:
                        g[3].add(sub)
                    g[4] = max(g[4], score)
                    g[5] += score
                    if created is not None and (g[6] is None or created < g[6]):
                        g[6] = created
                    g[7] |= nsfw
                    g[8] += 1
                for link_id in sorted(groups):
                    url, host, sids, subs, best, total, created, nsfw, n = groups[link_id]
                    score = total if summed else best
                    if summed and score < min_score:
                        self.counts.kept -= n  # the sum rule drops whole links, counted per submission
                        self.counts.dropped["score"] += n
                        continue
                    if not self.part.holds(host):
                        continue
                    link = {"id": link_id, "url": url, "source": {
                        "reddit_ids": sorted(sids, key=_id_sort_key), "subreddits": sorted(subs), "score": score,
                        "created_utc": created, "submissions": n, "nsfw": bool(nsfw)}}
                    out.write(link)
                    stats.add(link, host)
                if log and b % 16 == 15:
                    log(f"links: {b + 1}/{self.buckets} buckets grouped, {stats.links:,} links")
        shutil.rmtree(self.spool_dir, ignore_errors=True)
        return stats


def _log_first_bad(stats, log, first: int = 10):
    def on_bad(bad):
        if stats.bad_lines < first:
            log(f"bad line {bad.path}:{bad.line}: {bad.error}")
    return on_bad


def _scan_file(path, filter_cfg, spool_dir, buckets, part, buffer_bytes):
    """In a worker process: one dump file into this process's spool folder."""
    from crawl.sources import SourceStats, iter_dump

    builder = LinkBuilder(SubmissionFilter(filter_cfg), spool_dir, buckets=buckets, part=part,
                          buffer_bytes=buffer_bytes)
    stats = SourceStats()
    for obj in iter_dump(path, stats):
        builder.add(obj)
    if builder._spool is not None:
        builder._spool.flush()
    return builder.counts, stats.read, stats.bad_lines, stats.bad, stats.files
