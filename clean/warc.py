"""Read WARC files into pages: the `response` records, with crawl's provenance.

A WARC file is read start to end by one worker (gzip members cannot be found without inflating
what comes before them). Every record is counted by type; only `response` records become pages.
Damage never raises: a file that is empty, not a WARC, or cut short is counted in the stats with
what was wrong, and every record read before the damage is kept. A response whose block is cut
short is still yielded, marked `truncated`, so it becomes a counted reject and not a silent loss.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Iterator, Optional

from webtext import jsonl
from webtext.record import doc_id, empty_source
from webtext.urls import normalize_url

LINK_HEADER = "WebText-Link"
_DRAIN = 1 << 16


@dataclass
class Page:
    """One HTTP response from a WARC file, as the clean stage sees it."""

    id: str
    url: str  # the link's URL (crawl's normalised form), else the fetched URL
    final_url: str  # WARC-Target-URI: the URL finally fetched
    fetched_at: Optional[str]
    source: dict
    status: Optional[int]
    content_type: Optional[str]
    body: bytes
    body_bytes: int  # the payload's full size (body may stop at the size limit)
    truncated: bool = False  # the record ends before its declared length
    warc: str = ""  # file and record offset, for tracing a document to its bytes
    offset: int = 0
    link_error: Optional[str] = None  # a WebText-Link header that could not be read
    extra: dict = field(default_factory=dict)


def link_from_header(value: Optional[str]) -> tuple[Optional[dict], Optional[str]]:
    """The link record carried by a WebText-Link header: (link, None) or (None, problem)."""
    if value is None:
        return None, None
    try:
        link = json.loads(value)
    except ValueError as e:
        return None, f"not JSON ({e})"
    if not isinstance(link, dict) or not isinstance(link.get("id"), str) or not isinstance(link.get("url"), str):
        return None, "expected {\"id\", \"url\", \"source\"}"
    if link.get("source") is not None and not isinstance(link["source"], dict):
        return None, "'source' is not an object"
    return link, None


def page_identity(target_uri: str, link: Optional[dict]) -> tuple[str, str, dict]:
    """(id, url, source) of a page: crawl's link when present, else derived from the fetched URL."""
    if link is not None:
        source = empty_source()
        source.update(link.get("source") or {})
        return link["id"], link["url"], source
    url = normalize_url(target_uri) or target_uri
    return doc_id(url), url, empty_source()


def _status(rec) -> Optional[int]:
    try:
        return int(rec.http_headers.get_statuscode())
    except (AttributeError, TypeError, ValueError):
        return None


def read_warc(path: str, stats: dict, max_body_bytes: int) -> Iterator[Page]:
    """Yield the response records of one WARC file as Pages, counting everything in `stats`.

    stats gains: files {"read", "empty", "damaged"}, damaged_files {path: problem},
    warc_records {type: n}, link_header_errors.
    """
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    files = stats.setdefault("files", {})
    records = stats.setdefault("warc_records", {})
    files["read"] = files.get("read", 0) + 1

    def damaged(problem: str) -> None:
        files["damaged"] = files.get("damaged", 0) + 1
        stats.setdefault("damaged_files", {})[path] = problem

    try:
        raw = jsonl.open_raw(path, "rb")
    except OSError as e:
        damaged(f"cannot open: {e}")
        return
    try:
        head = raw.read(2)
        if not head:
            files["empty"] = files.get("empty", 0) + 1
            return
        try:
            raw.seek(0)
        except (OSError, AttributeError):  # a remote stream that cannot seek: open it again
            raw.close()
            raw = jsonl.open_raw(path, "rb")
        count = 0
        try:
            it = ArchiveIterator(raw)
            for rec in it:
                if rec.format != "warc":  # warcio also reads ARC; text that is neither parses as bogus ARC
                    damaged(f"not a WARC file (record {count} parsed as {rec.format})")
                    return
                count += 1
                rtype = rec.rec_type or "unknown"
                records[rtype] = records.get(rtype, 0) + 1
                if rtype != "response":
                    continue
                yield _page(rec, path, it, stats, max_body_bytes)
            if count and rec.raw_stream.limit > 0:  # the last record ends before its Content-Length
                damaged(f"cut short in record {count} ({rtype}, {rec.raw_stream.limit} bytes missing)")
        except ArchiveLoadFailed as e:
            damaged(f"not a WARC file or damaged after {count} records: {str(e).strip()[:200]}")
        except (OSError, EOFError, ValueError) as e:  # zlib errors surface as these
            damaged(f"damaged after {count} records: {type(e).__name__}: {str(e)[:200]}")
    finally:
        raw.close()


def _page(rec, path: str, it, stats: dict, max_body_bytes: int) -> Page:
    h = rec.rec_headers
    target = h.get_header("WARC-Target-URI") or ""
    link, problem = link_from_header(h.get_header(LINK_HEADER))
    if problem:
        stats["link_header_errors"] = stats.get("link_header_errors", 0) + 1
    pid, url, source = page_identity(target, link)
    content_type = rec.http_headers.get_header("Content-Type") if rec.http_headers is not None else None
    body = b""
    body_bytes = 0
    try:
        stream = rec.content_stream()
        body = stream.read(max_body_bytes + 1)
        body_bytes = len(body)
        while True:  # measure (and drain) the rest without keeping it
            chunk = stream.read(_DRAIN)
            if not chunk:
                break
            body_bytes += len(chunk)
        truncated = rec.raw_stream.limit > 0
    except Exception:  # noqa: BLE001 - a broken content-encoding or a cut-off member: the record is damaged
        truncated = True
    offset = it.offset  # where this record starts (warcio sets it when the previous one is consumed)
    return Page(id=pid, url=url, final_url=target, fetched_at=h.get_header("WARC-Date"), source=source,
                status=_status(rec), content_type=content_type, body=body, body_bytes=body_bytes,
                truncated=truncated, warc=path, offset=offset,
                link_error=problem)
