"""The crawl's record of outcomes, on disk, so a killed crawl resumes without refetching or duplicating.

    state/warc-index/*.jsonl   stored pages (written by crawl.warc, never ahead of the WARC bytes)
    state/failures.jsonl       links that were not stored, one JSON line each, appended

A link is done when it is in either. On start, WARC files left open by a kill are cut back to their
last indexed page (crawl.warc.recover); links already done are skipped. A failure line lost in a
kill (the log is flushed every second) only means that link is tried again.

The done ids are held as a sorted numpy array of 64-bit ints (8 bytes a link), not a Python set.
"""

from __future__ import annotations

import json
import os
from typing import Callable, Iterator

import numpy as np

from webtext import jsonl

from crawl import warc
from crawl.writer import WriterProcess

FAILURES_LOG = "failures.jsonl"
INDEX_DIR = "warc-index"


def _id_int(link_id: str) -> int:
    return int(link_id[:16], 16)


def read_failure_log(path: str) -> Iterator[dict]:
    """Failure records, skipping a line torn by a kill."""
    try:
        with open(path, "rb") as f:
            for line in f:
                if line.endswith(b"\n"):
                    try:
                        yield json.loads(line)
                    except ValueError:
                        continue
    except FileNotFoundError:
        return


class DoneSet:
    def __init__(self, ids):
        """ids: an iterable of link-id ints, consumed without building a Python list."""
        self.ids = np.unique(np.fromiter(ids, dtype=np.uint64))

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, link_id: str) -> bool:
        if not len(self.ids):
            return False
        x = np.uint64(_id_int(link_id))
        i = np.searchsorted(self.ids, x)
        return bool(i < len(self.ids) and self.ids[i] == x)


class Ledger:
    """Used inside the Scrapy process: knows what is done, records what happens next."""

    def __init__(self, state_dir: str, warc_dir: str, tag: str, *, warc_max_bytes: int, warc_level: int,
                 sync_every_s: float = 1.0, writer_buffer_bytes: int = 64 << 20, log: Callable[[str], None] = lambda m: None, separate_process: bool = True):
        self.state_dir, self.warc_dir = state_dir, warc_dir
        self.index_dir = os.path.join(state_dir, INDEX_DIR)
        os.makedirs(self.index_dir, exist_ok=True)
        warc.recover(warc_dir, self.index_dir, log)
        self.failures_path = os.path.join(state_dir, FAILURES_LOG)
        _drop_torn_tail(self.failures_path)
        counts = {"stored": 0, "failed": 0}

        def done_ids():
            for e in warc.stored_entries(self.index_dir):
                counts["stored"] += 1
                yield _id_int(e["id"])
            for r in read_failure_log(self.failures_path):
                counts["failed"] += 1
                yield _id_int(r["id"])

        self.done = DoneSet(done_ids())
        self.stored_before, self.failed_before = counts["stored"], counts["failed"]
        def make_files():
            return warc.WarcFiles(warc_dir, self.index_dir, tag, max_bytes=warc_max_bytes, level=warc_level,
                                  sync_every_s=sync_every_s)

        self.writer = WriterProcess(make_files, sync_every_s, writer_buffer_bytes) if separate_process else None
        self.files = None if separate_process else make_files()
        self.failure_log = open(self.failures_path, "ab")
        self.stored = 0
        self.failed = 0
        self.stored_bytes = 0

    def pending(self, links_dir: str) -> Iterator[dict]:
        """Links not yet done, streamed from the link list in order."""
        for link in jsonl.read_dir(links_dir):
            if link["id"] not in self.done:
                yield link

    def store(self, page: dict) -> None:
        if self.writer is not None:
            self.writer.put(page)
        else:
            self.files.write(page)
        self.stored += 1
        self.stored_bytes += len(page["body"])

    def backlogged(self) -> bool:
        """True while the WARC writer is far behind (the crawler then takes no new requests)."""
        return self.writer is not None and self.writer.backlogged()

    def fail(self, record: dict) -> None:
        self.failure_log.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")
        self.failed += 1

    def sync(self) -> None:
        self.failure_log.flush()

    def close(self) -> None:
        self.failure_log.flush()
        self.failure_log.close()
        if self.writer is not None:
            self.writer.close()
        else:
            self.files.close()


def _drop_torn_tail(path: str) -> None:
    """Cut a failure log back to its last complete line (a kill can leave half a line)."""
    if not os.path.exists(path):
        return
    with open(path, "r+b") as f:
        data_end = f.seek(0, os.SEEK_END)
        if data_end == 0:
            return
        back = min(data_end, 1 << 20)
        f.seek(data_end - back)
        tail = f.read(back)
        if tail.endswith(b"\n"):
            return
        cut = tail.rfind(b"\n")
        if cut >= 0 or back == data_end:
            f.truncate(data_end - back + cut + 1)
        else:  # no line end in the last MiB: end the torn line so the next record starts clean
            f.write(b"\n")


def outcomes(state_dir: str) -> tuple[Iterator[dict], Iterator[dict]]:
    """(stored index entries, failure records) of a crawl's state folder."""
    index_dir = os.path.join(state_dir, INDEX_DIR)
    return warc.stored_entries(index_dir), read_failure_log(os.path.join(state_dir, FAILURES_LOG))


def write_failures(state_dir: str, out_dir: str, prefix: str) -> dict:
    """failures/<prefix>-NNNNN.jsonl.zst from the failure log (a link fails once: once logged it is
    done and never requested again). Returns {reason: n}."""
    from webtext.record import reason_family

    counts: dict = {}
    for name in os.listdir(out_dir) if os.path.isdir(out_dir) else []:
        os.remove(os.path.join(out_dir, name))  # a rerun of this step rewrites them whole
    with jsonl.RotatingJsonlWriter(out_dir, prefix) as out:
        for rec in read_failure_log(os.path.join(state_dir, FAILURES_LOG)):
            out.write(rec)
            fam = reason_family(rec["reason"])
            counts[fam] = counts.get(fam, 0) + 1
    return counts
