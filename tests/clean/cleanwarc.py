"""Test fixtures for the clean stage: WARC files written with warcio, and article pages written here."""

from __future__ import annotations

import io
import json
import os
from typing import Optional

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

# Original prose written for these tests (no third-party text), a few hundred words of plain English.
PARAGRAPHS = [
    "The harbour town woke slowly on the first cold morning of the year. Fishermen checked their nets in the "
    "grey light while the baker on the corner pulled the first loaves from an oven that had been warming since "
    "four o'clock. Nobody in the town could remember a winter that had arrived so suddenly.",
    "By nine the council had gathered in the old library to discuss the sea wall. The engineers who had "
    "surveyed it during the summer reported that two sections were weaker than expected, and that the storms "
    "forecast for the coming weeks would test them hard. The mayor asked how long a repair would take.",
    "The answer was not encouraging. Materials would have to come by road from the city, and the road itself "
    "was narrow and steep in places. A careful plan, the engineers said, could still have the worst section "
    "reinforced within a fortnight, provided that the weather allowed the crews to work on most days.",
    "Outside, children were already collecting driftwood on the beach, as they did every year, to build the "
    "bonfire that marks the end of the fishing season. Their parents watched from the promenade and talked "
    "about prices, about the new school, and about whether the ferry would keep running through the winter.",
    "In the afternoon the first heavy clouds came in from the west. The harbour master raised the warning flag "
    "and the boats that were still out turned for home. By evening the wind had risen enough to rattle the "
    "shutters along the front, and the town settled in to wait for whatever the night would bring.",
]

NAV = ["Home", "News", "Sport", "Weather", "Contact us"]


def article_html(title: str = "Storm season begins in the harbour town", paragraphs=None, lang: str = "en",
                 charset: Optional[str] = "utf-8", extra_body: str = "") -> str:
    """A news-like page: navigation, headline, article, related links, footer."""
    paragraphs = PARAGRAPHS if paragraphs is None else paragraphs
    meta = f'<meta charset="{charset}">' if charset else ""
    nav = "".join(f'<li><a href="/{n.lower()}">{n}</a></li>' for n in NAV)
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f'<!DOCTYPE html><html lang="{lang}"><head>{meta}<title>{title} | The Coast Gazette</title>'
            f'<meta property="article:published_time" content="2019-11-19T08:00:00Z"></head><body>'
            f'<header><nav><ul>{nav}</ul></nav></header><main><article><h1>{title}</h1>'
            f'<p class="byline">By Ann Writer</p>{body}{extra_body}</article></main>'
            f'<aside><h3>Related stories</h3><ul><li><a href="/a">Ferry timetable changes for winter</a></li>'
            f'<li><a href="/b">New school opens its doors next month</a></li></ul></aside>'
            f'<footer><p>Copyright 2019 The Coast Gazette. All rights reserved.</p>'
            f'<a href="/privacy">Privacy policy</a></footer></body></html>')


def slow_page(n: int = 20000) -> bytes:
    """A 2.4 MB page of many blocks: seconds of trafilatura time (2.8 s on the development machine),
    far over the tests' time limits."""
    return ("<html><body>" + "".join(f'<div class="c{i % 7}"><p>Paragraph {i} with some words in it.</p>'
                                      f'<a href="/x{i}">link {i}</a></div>' for i in range(n))
            + "</body></html>").encode()


def link_header(id: str, url: str, **source) -> str:
    src = {"reddit_ids": ["t3_abc"], "subreddits": ["news"], "score": 5, "created_utc": 1200000000}
    src.update(source)
    return json.dumps({"id": id, "url": url, "source": src}, separators=(",", ":"))


def write_warc(path: str, records: list[dict], gzip: bool = True) -> str:
    """Write records to a WARC/1.1 file. Each record: {"type": "response" (default) | "request" |
    "metadata" | "warcinfo" | "resource", "url", "body" (bytes or str), "content_type", "status", "link"}."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "wb") as f:
        w = WARCWriter(f, gzip=gzip, warc_version="WARC/1.1")
        for rec in records:
            kind = rec.get("type", "response")
            url = rec.get("url", "http://example.com/")
            body = rec.get("body", b"")
            if isinstance(body, str):
                body = body.encode("utf-8")
            if kind == "warcinfo":
                w.write_record(w.create_warcinfo_record(os.path.basename(path), {"software": "webtext-tests"}))
                continue
            warc_headers = {}
            if rec.get("link") is not None:
                warc_headers["WebText-Link"] = rec["link"]
            if rec.get("date"):
                warc_headers["WARC-Date"] = rec["date"]
            http = None
            if kind in ("response", "request"):
                headers = []
                if rec.get("content_type") is not False:
                    headers.append(("Content-Type", rec.get("content_type", "text/html; charset=utf-8")))
                if kind == "response":
                    http = StatusAndHeaders(rec.get("status", "200 OK"), headers, protocol="HTTP/1.1")
                else:
                    http = StatusAndHeaders(f"GET {url} HTTP/1.1", [("Host", "example.com")], is_http_request=True)
            record = w.create_warc_record(url, kind, payload=io.BytesIO(body), http_headers=http,
                                          warc_content_type=rec.get("warc_content_type"),
                                          warc_headers_dict=warc_headers)
            w.write_record(record)
    return path
