"""One page through the stage: response checks -> extraction -> Wikipedia -> language -> quality.

`PageProcessor.process(page, stats)` turns one WARC response into exactly one record: a document,
or a reject carrying the reason it was dropped (the text too, when there is one, so a filter's
decisions can be read afterwards). Plain Python: the Beam layer (clean/pipeline.py) only feeds it
pages and moves what it returns. Checks run cheapest first, so a PDF or a Wikipedia page never
reaches the extractor.
"""

from __future__ import annotations

import os
import re
from typing import Optional

from webtext.record import make_reject, new_document
from webtext.urls import url_host

from clean import quality
from clean.config import Config
from clean.langid import identify, keep_language
from clean.warc import Page

STAGE = "clean"
HTML_TYPES = ("text/html", "application/xhtml+xml", "application/vnd.wap.xhtml+xml")
_SNIFF_HTML = (b"<!doctype html", b"<html", b"<head", b"<body", b"<title", b"<meta", b"<div", b"<p>", b"<p ",
               b"<article", b"<script", b"<table", b"<br", b"<h1")
# File signatures of formats that are served as text/html by mistake often enough to matter.
_MAGIC = (b"%PDF-", b"\x89PNG", b"GIF87a", b"GIF89a", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b", b"BZh",
          b"\xfd7zXZ", b"(\xb5/\xfd", b"Rar!", b"7z\xbc\xaf", b"RIFF", b"OggS", b"ID3", b"fLaC", b"\x7fELF",
          b"wOFF", b"wOF2", b"\x00asm", b"\x00\x00\x01\x00", b"\xd0\xcf\x11\xe0", b"%!PS", b"\x00\x00\x00\x18ftyp",
          b"\x00\x00\x00\x1cftyp", b"\x00\x00\x00 ftyp", b"\x1aE\xdf\xa3")


def _extractor_name() -> str:
    try:
        from importlib.metadata import version

        return f"trafilatura {version('trafilatura')}"
    except Exception:  # noqa: BLE001 - only a label
        return "trafilatura"


def mime_type(content_type: Optional[str]) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


# Every byte but the C0 controls that text never contains (tab, newlines, form feed and ESC stay).
_NOT_CONTROL = bytes(b for b in range(256) if not (b < 9 or 13 < b < 32) or b == 27)


def looks_binary(body: bytes) -> Optional[str]:
    """Why a body is not text (a file signature, NUL or control bytes), or None."""
    head = body[:4096]
    stripped = head.lstrip()
    if stripped.startswith(_MAGIC):
        magic = next(m for m in _MAGIC if stripped.startswith(m))
        return f"file signature {magic[:8]!r}"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with a byte-order mark is text
        return None
    if b"\x00" in head:
        return "NUL bytes"
    controls = len(head.translate(None, _NOT_CONTROL))  # what is left after deleting the non-controls
    if head and controls > 0.05 * len(head):
        return f"{controls} control bytes in the first {len(head)}"
    return None


def looks_like_html(body: bytes) -> bool:
    head = body[:4096].lower()
    return any(tag in head for tag in _SNIFF_HTML)


def host_matches(host: str, hosts: list[str]) -> Optional[str]:
    for h in hosts:
        if host == h or host.endswith("." + h):
            return h
    return None


# Markup of a page copied from Wikipedia: a canonical link to an article on *.wikipedia.org (either
# attribute order), Wikipedia's "From Wikipedia, the free encyclopedia" subtitle, or its "Retrieved
# from" footer linking back. Every alternative contains "wikipedia", at most _BEFORE bytes after the
# match starts (5 + 300 + 9 + 300 + 8 bytes, then a host name of at most 253) and ending at most
# _AFTER bytes after it; so only windows around the occurrences of "ikipedia" are searched
# (lower-cased), not the whole page: news pages link to Wikipedia often, and lower-casing and
# searching all of a 170 KB page cost more than the rest of the page's checks together. One scan
# for "ikipedia" (0.06 ms on a 170 KB page): markup written all in capitals is not looked for.
WIKIPEDIA_HTML = re.compile(
    rb"<link[^>]{0,300}?canonical[^>]{0,300}?https?://[a-z0-9\-.]*wikipedia\.org/wiki/"
    rb"|<link[^>]{0,300}?https?://[a-z0-9\-.]*wikipedia\.org/wiki/[^>]{0,300}?canonical"
    rb"|from wikipedia, the free encyclopedia"
    rb"|retrieved from[^<]{0,20}<a[^>]{0,300}?https?://[a-z0-9\-.]*wikipedia\.org/")
_BEFORE, _AFTER = 1024, 400


def wikipedia_markup(body: bytes) -> Optional[str]:
    """The Wikipedia marker found in a page's HTML, or None."""
    # Windows around the occurrences, overlapping ones merged, so a page naming Wikipedia thousands
    # of times (a reference list) costs at most one pass over the page.
    at = body.find(b"ikipedia")
    while at != -1:
        lo, hi = max(0, at - _BEFORE), at + _AFTER
        at = body.find(b"ikipedia", at + 1)
        while at != -1 and at - _BEFORE <= hi:
            hi = at + _AFTER
            at = body.find(b"ikipedia", at + 1)
        m = WIKIPEDIA_HTML.search(body[lo:hi].lower())
        if m:
            return m.group(0)[:120].decode("utf-8", "replace")
    return None


class PageProcessor:
    """Turns Pages into documents or rejects under one Config (see module docstring)."""

    def __init__(self, cfg: Config, extractor):
        self.cfg = cfg
        self.extractor = extractor
        self.extractor_name = _extractor_name()
        self.wiki_hosts = [h.lower().lstrip(".") for h in cfg.wikipedia_hosts]
        self.blocked = [h.lower().lstrip(".") for h in cfg.blocked_hosts]
        self.wiki_markers = [m.lower() for m in cfg.wikipedia_markers]
        self.markers_name_wikipedia = all("wikipedia" in m for m in self.wiki_markers)

    # -- records --------------------------------------------------------------------------------

    def _base_meta(self, page: Page) -> dict:
        return {"final_url": page.final_url, "warc": f"{os.path.basename(page.warc)}@{page.offset}"}

    def _reject(self, page: Page, reason: str, text: str = "", title: Optional[str] = None,
                meta: Optional[dict] = None, **detail) -> tuple[str, dict]:
        m = self._base_meta(page)
        m.update({"status": page.status, "content_type": page.content_type, "bytes": page.body_bytes})
        if meta:
            m.update(meta)
        doc = new_document(page.url, text, id=page.id, title=title, fetched_at=page.fetched_at,
                           source=page.source, meta=m)
        return "reject", make_reject(doc, reason, STAGE, **detail)

    # -- the steps --------------------------------------------------------------------------------

    def check_response(self, page: Page) -> Optional[tuple[str, dict]]:
        """(reason, detail) if the response is not an HTML page worth extracting."""
        cfg = self.cfg
        if page.truncated:
            return "truncated", {"detail": "the WARC record ends before its declared length"}
        if page.status is not None and page.status not in cfg.keep_status:
            return "http_status", {"status": page.status}
        for url in (page.final_url, page.url):
            host = url_host(url)
            if host_matches(host, self.wiki_hosts):
                return "wikipedia", {"host": host}
            if host_matches(host, self.blocked):
                return "blocked_host", {"host": host}
        if not page.body.strip():
            return "empty", {"bytes": page.body_bytes}
        if cfg.wikipedia_html and page.body_bytes <= cfg.extract.max_html_bytes:
            marker = wikipedia_markup(page.body)
            if marker:
                return "wikipedia", {"marker": marker}
        if page.body_bytes > cfg.extract.max_html_bytes:
            return "too_large", {"bytes": page.body_bytes, "limit": cfg.extract.max_html_bytes}
        mime = mime_type(page.content_type)
        if mime and mime not in HTML_TYPES:
            return "not_html", {"content_type": mime}
        why = looks_binary(page.body)
        if why:
            return "binary", {"content_type": mime or None, "detail": why}
        if not mime and not looks_like_html(page.body):
            return "not_html", {"content_type": None, "detail": "no Content-Type and no HTML tags"}
        return None

    def wikipedia_copy(self, text: str) -> Optional[str]:
        if self.markers_name_wikipedia and "ikipedia" not in text and "IKIPEDIA" not in text:
            return None  # a cheap test first: no marker can match
        low = text.lower()
        for marker in self.wiki_markers:
            if marker in low:
                return marker
        return None

    def process(self, page: Page, stats: dict) -> tuple[str, dict]:
        """("doc", document) or ("reject", reject record) for one page; adds to `stats`."""
        return self.process_many([page], stats)[0]

    def process_many(self, pages: list[Page], stats: dict) -> list[tuple[str, dict]]:
        """process() for several pages, their extractions sent to the extractor together."""
        out: list = [self.prepare(page, stats) for page in pages]
        todo = [i for i, rec in enumerate(out) if rec is None]
        outcomes = self.extractor.extract_many(
            [(pages[i].body, pages[i].final_url or pages[i].url, pages[i].content_type, pages[i].fetched_at)
             for i in todo])
        for i, outcome in zip(todo, outcomes):
            out[i] = self.finish(pages[i], outcome, stats)
        return out

    def prepare(self, page: Page, stats: dict) -> Optional[tuple[str, dict]]:
        """A reject if the response is not worth extracting, else None (the page goes to extraction)."""
        stats["bytes_in"] = stats.get("bytes_in", 0) + page.body_bytes
        if page.status is not None:
            hs = stats.setdefault("http_status", {})
            hs[str(page.status)] = hs.get(str(page.status), 0) + 1
        bad = self.check_response(page)
        return self._reject(page, bad[0], **bad[1]) if bad else None

    def finish(self, page: Page, outcome, stats: dict) -> tuple[str, dict]:
        """The record for an extracted page: Wikipedia copy, language and quality decide."""
        cfg = self.cfg
        ex = stats.setdefault("extraction", {})
        ex[outcome.status] = ex.get(outcome.status, 0) + 1
        if outcome.status == "timeout":
            return self._reject(page, "extract_timeout", detail=outcome.detail)
        if outcome.status in ("crashed", "error"):
            return self._reject(page, "extract_failed", detail=outcome.detail)
        if outcome.status == "none":
            return self._reject(page, "no_text", detail="trafilatura found no main text")
        r = outcome.result
        enc = stats.setdefault("encodings", {})
        key = r.get("encoding_source") or "text"
        enc[key] = enc.get(key, 0) + 1
        lines = stats.setdefault("boilerplate_lines", {})
        for rule, n in (r.get("removed_lines") or {}).items():
            lines[rule] = lines.get(rule, 0) + n
        text, title = r["text"], r.get("title")
        meta = {"date": r.get("date"), "html_lang": r.get("html_lang"), "encoding": r.get("encoding"),
                "extractor": self.extractor_name}

        marker = self.wikipedia_copy(text)
        if marker:
            return self._reject(page, "wikipedia", text, title, meta, marker=marker)

        lang, score = identify(text, cfg.lang.max_chars)
        langs = stats.setdefault("languages", {})
        langs[lang] = langs.get(lang, 0) + 1
        meta.update(lang=lang, lang_score=score)
        why = keep_language(lang, score, cfg.lang.keep, cfg.lang.min_score)
        if why:
            return self._reject(page, "lang", text, title, meta, detail=why)

        failed = quality.check(text, lang, cfg.quality)
        if failed:
            return self._reject(page, failed[0], text, title, meta, **failed[1])

        doc_meta = self._base_meta(page)
        doc_meta.update(meta)
        doc_meta = {k: doc_meta[k] for k in ("lang", "lang_score", "final_url", "date", "html_lang", "encoding",
                                             "extractor", "warc")}
        return "doc", new_document(page.url, text, id=page.id, title=title, fetched_at=page.fetched_at,
                                   source=page.source, meta=doc_meta)
