"""WARC output: each stored page is a response, a request and a metadata record, written with warcio.

Files are WARC/1.1, one gzip member per record, rotated by size:

    warc/<tag>-00000.warc.gz          closed, complete
    warc/<tag>-00001.warc.gz.open     being written
    state/warc-index/<tag>-00001.jsonl   one line per page group whose bytes are on disk

Crash safety without rescanning: a page's three records are written as one block; every
`sync_every_s` the WARC file is flushed to the OS first and only then are the index lines of the
blocks it holds written. So the index never names bytes the file lacks, and after a kill
(SIGTERM or SIGKILL) `recover()` cuts each .open file back to the end of its last indexed block
(dropping a half-written tail) and closes it. The index files are also the ledger of stored link
ids that lets a resumed crawl skip them, and the source of the fetch statistics.

Speed: WarcFiles runs in a writer process of its own (crawl/writer.py), so record building
(warcio) and gzip use another core than the Twisted reactor's.
"""

from __future__ import annotations

import glob
import http
import io
import json
import os
import time
import zlib
from typing import Callable, Iterator, Optional

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


OPEN_SUFFIX = ".open"
WARC_SUFFIX = ".warc.gz"
LINK_HEADER = "WebText-Link"
# HTTP headers that no longer describe the stored body: it is stored de-chunked, whole, with its
# own length. (Content-Encoding is already gone when Scrapy decoded the body; one it could not
# decode stays, and so does the header saying so.)
DROPPED_HTTP_HEADERS = {"transfer-encoding", "content-length"}


def link_header(link: dict) -> str:
    """The WebText-Link header value: compact ASCII JSON of {"id", "url", "source"}."""
    return json.dumps({"id": link["id"], "url": link["url"], "source": link["source"]},
                      ensure_ascii=True, separators=(",", ":"))


def header_pairs(raw) -> list:
    """[(name, value)] as text from header items whose names and values may be bytes, and whose
    values may be lists (Scrapy's Headers.items()): the crawler hands them over unconverted."""
    out = []
    for name, values in raw:
        name = name.decode("latin-1") if isinstance(name, bytes) else name
        for v in (values if isinstance(values, (list, tuple)) else [values]):
            out.append((name, v.decode("latin-1") if isinstance(v, bytes) else v))
    return out


def warc_date(when) -> str:
    """WARC/1.1 date with microseconds from Unix seconds (a string is taken as already formatted)."""
    if isinstance(when, str):
        return when
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(when)) + f".{int(when % 1 * 1e6):06d}Z"


def _gzip_member(data: bytes, level: int) -> bytes:
    c = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return c.compress(data) + c.flush()


def _warc_fields(pairs: list[tuple[str, object]]) -> bytes:
    lines = []
    for key, value in pairs:
        if value is None or value == "" or value == []:
            continue
        for v in (value if isinstance(value, list) else [value]):
            lines.append(f"{key}: {str(v).replace(chr(13), ' ').replace(chr(10), ' ')}")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


class RecordBuilder:
    """Builds one page's gzip-compressed WARC records (response, request, metadata) with warcio."""

    def __init__(self, level: int = 6):
        self.level = level
        self.writer = WARCWriter(None, gzip=False, warc_version="1.1")

    def _serialize(self, record) -> bytes:
        buf = io.BytesIO()
        self.writer.out = buf
        self.writer.write_record(record)
        return buf.getvalue()

    def page_block(self, page: dict) -> bytes:
        url = page["url"]
        body = page["body"]
        status = int(page["status"])
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        headers = [(k, v) for k, v in header_pairs(page["headers"]) if k.lower() not in DROPPED_HTTP_HEADERS]
        headers.append(("Content-Length", str(len(body))))
        http_headers = StatusAndHeaders(f"{status} {phrase}".strip(), headers, protocol=page.get("protocol") or "HTTP/1.1")
        link = page["link"]
        warc_headers = {LINK_HEADER: link_header(link)}
        fetched_at = warc_date(page["fetched_at"]) if page.get("fetched_at") else None
        if fetched_at:
            warc_headers["WARC-Date"] = fetched_at
        if page.get("ip"):
            warc_headers["WARC-IP-Address"] = page["ip"]
        response = self.writer.create_warc_record(url, "response", payload=io.BytesIO(body), length=len(body),
                                                  http_headers=http_headers, warc_headers_dict=warc_headers)
        response_id = response.rec_headers.get_header("WARC-Record-ID")
        date = response.rec_headers.get_header("WARC-Date")
        common = {"WARC-Concurrent-To": response_id, "WARC-Date": date}

        path = url.split("://", 1)[-1]
        path = path[path.find("/"):] if "/" in path else "/"
        host = url.split("://", 1)[-1].split("/", 1)[0]
        req_headers = [("Host", host)] + [(k, v) for k, v in header_pairs(page.get("request_headers", []))
                                          if k.lower() != "host"]
        request = self.writer.create_warc_record(
            url, "request", http_headers=StatusAndHeaders(f"{page.get('method', 'GET')} {path} HTTP/1.1", req_headers,
                                                           is_http_request=True),
            warc_headers_dict=dict(common))

        src = link["source"]
        fields = _warc_fields([
            ("webtext-link-id", link["id"]), ("webtext-link-url", link["url"]),
            ("redirect", page.get("redirects") or []), ("fetched-at", fetched_at),
            ("download-latency", round(page["latency"], 4) if page.get("latency") else None), ("content-encoding", page.get("content_encoding")),
            ("reddit-ids", " ".join(src.get("reddit_ids", []))), ("subreddits", " ".join(src.get("subreddits", []))),
            ("score", src.get("score")), ("created-utc", src.get("created_utc")),
        ])
        metadata = self.writer.create_warc_record(url, "metadata", payload=io.BytesIO(fields), length=len(fields),
                                                  warc_content_type="application/warc-fields",
                                                  warc_headers_dict=dict(common))
        return b"".join(_gzip_member(self._serialize(r), self.level) for r in (response, request, metadata))


def index_path(index_dir: str, warc_name: str) -> str:
    return os.path.join(index_dir, warc_name[: -len(WARC_SUFFIX)] + ".jsonl")


class WarcFiles:
    """Rotating WARC files with an index that never runs ahead of the bytes on disk (single thread)."""

    def __init__(self, warc_dir: str, index_dir: str, tag: str, *, max_bytes: int, level: int = 6,
                 start_seq: Optional[int] = None, sync_every_s: float = 1.0, sync_every_pages: int = 500):
        self.warc_dir, self.index_dir, self.tag = warc_dir, index_dir, tag
        self.max_bytes = max_bytes
        self.builder = RecordBuilder(level)
        os.makedirs(warc_dir, exist_ok=True)
        os.makedirs(index_dir, exist_ok=True)
        self.seq = next_seq(warc_dir, tag) if start_seq is None else start_seq
        self.sync_every_s, self.sync_every_pages = sync_every_s, sync_every_pages
        self.file = None
        self.index = None
        self.offset = 0
        self.pending: list[bytes] = []  # index lines of blocks not yet flushed to the OS
        self.last_sync = time.monotonic()
        self.pages = 0
        self.closed_files: list[str] = []

    @property
    def name(self) -> str:
        return f"{self.tag}-{self.seq:05d}{WARC_SUFFIX}"

    def _open(self) -> None:
        path = os.path.join(self.warc_dir, self.name + OPEN_SUFFIX)
        self.file = open(path, "wb", buffering=1 << 20)
        self.index = open(index_path(self.index_dir, self.name), "ab")
        self.offset = 0

    def write(self, page: dict) -> None:
        block = self.builder.page_block(page)
        if self.file is None:
            self._open()
        self.file.write(block)
        self.offset += len(block)
        self.pages += 1
        entry = {"id": page["link"]["id"], "url": page["url"], "status": int(page["status"]), "bytes": len(page["body"]),
                 "end": self.offset}
        self.pending.append(json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")
        if self.offset >= self.max_bytes:
            self.rotate()
        elif len(self.pending) >= self.sync_every_pages or time.monotonic() - self.last_sync >= self.sync_every_s:
            self.sync()

    def sync(self) -> None:
        """Flush the WARC bytes to the OS, then record them in the index (in that order)."""
        self.last_sync = time.monotonic()
        if self.file is None or not self.pending:
            return
        self.file.flush()
        self.index.write(b"".join(self.pending))
        self.index.flush()
        self.pending = []

    def rotate(self) -> None:
        if self.file is None:
            return
        self.sync()
        os.fsync(self.file.fileno())
        self.file.close()
        self.index.close()
        final = os.path.join(self.warc_dir, self.name)
        os.replace(final + OPEN_SUFFIX, final)
        self.closed_files.append(final)
        self.file = self.index = None
        self.seq += 1

    def close(self) -> None:
        self.rotate()


def next_seq(warc_dir: str, tag: str) -> int:
    seqs = [int(os.path.basename(p)[len(tag) + 1:][:5]) for p in glob.glob(os.path.join(warc_dir, f"{tag}-*{WARC_SUFFIX}*"))]
    return max(seqs) + 1 if seqs else 0


def read_index(path: str) -> Iterator[dict]:
    """Entries of one index file; a torn last line (killed mid-write) is ignored."""
    try:
        with open(path, "rb") as f:
            for line in f:
                if not line.endswith(b"\n"):
                    break
                yield json.loads(line)
    except FileNotFoundError:
        return


def recover(warc_dir: str, index_dir: str, log: Callable[[str], None] = lambda m: None) -> list[str]:
    """Close out WARC files left open by a killed crawl: cut each back to its last indexed page block.

    Returns the files recovered. A file with no indexed block is removed, with its index.
    """
    recovered = []
    for open_path in sorted(glob.glob(os.path.join(warc_dir, "*" + WARC_SUFFIX + OPEN_SUFFIX))):
        final = open_path[: -len(OPEN_SUFFIX)]
        idx = index_path(index_dir, os.path.basename(final))
        entries = list(read_index(idx))
        end = entries[-1]["end"] if entries else 0
        size = os.path.getsize(open_path)
        if end > size:  # cannot happen when the index is written after the flush; refuse to guess
            raise RuntimeError(f"{open_path}: index says {end} bytes but the file has {size}")
        # Rewrite the index without a torn line, then cut the WARC.
        with open(idx + ".tmp", "wb") as f:
            for e in entries:
                f.write(json.dumps(e, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")
        os.replace(idx + ".tmp", idx)
        if end == 0:
            os.remove(open_path)
            os.remove(idx)
            log(f"recover: {os.path.basename(open_path)} held no complete page; removed")
            continue
        with open(open_path, "r+b") as f:
            f.truncate(end)
            f.flush()
            os.fsync(f.fileno())
        os.replace(open_path, final)
        recovered.append(final)
        log(f"recover: {os.path.basename(final)} kept {len(entries)} pages, cut {size - end} bytes of unfinished tail")
    return recovered


def stored_entries(index_dir: str) -> Iterator[dict]:
    for path in sorted(glob.glob(os.path.join(index_dir, "*.jsonl"))):
        yield from read_index(path)
