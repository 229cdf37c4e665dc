"""One page's HTML -> its main text and hints (title, date, language), with trafilatura.

`extract_page` is the one function the stage runs per page (inside the extraction child process,
see clean/guard.py); `clean.extract(html, url)` calls it in-process, so the benchmark and users get
exactly the stage's text. trafilatura is set up for training data: the main text only (no
comments, no images, no link targets, no markdown), tables as text, one paragraph per line,
favouring precision; then clean/boilerplate.py removes the lines it leaves in that are not the
article. Its own duplicate filter stays off: it remembers earlier pages, so a page's text would
depend on which pages the same worker saw before it, and the output would not be deterministic.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields
from typing import Optional, Union

from lxml import etree

from clean.boilerplate import clean_lines
from clean.config import ExtractConfig
from clean.decode import decode_html

# trafilatura logs every discarded page at WARNING; the stage counts them instead.
for _name in ("trafilatura", "htmldate", "justext", "readability", "charset_normalizer", "courlan"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)

EXTRACTOR = "trafilatura"


@dataclass
class Extracted:
    text: str
    title: Optional[str] = None
    date: Optional[str] = None  # publication date (YYYY-MM-DD) found in the page, if any
    html_lang: Optional[str] = None  # <html lang>, Content-Language meta, og:locale (first found)
    encoding: Optional[str] = None
    encoding_source: Optional[str] = None
    raw_chars: int = 0  # trafilatura's text before the boilerplate rules
    removed_lines: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        # (dataclasses.asdict deep-copies recursively: measurably slower per page than this)
        return {f: getattr(self, f) for f in _FIELDS}


_FIELDS = tuple(f.name for f in fields(Extracted))


def _text_of(elem) -> str:
    return " ".join(" ".join(elem.itertext()).split()) if elem is not None else ""


def _first_content(elems) -> Optional[str]:
    for elem in elems:
        value = " ".join((elem.get("content") or "").split())
        if value:
            return value
    return None


_OG_TITLE = etree.XPath('.//head/meta[@property="og:title"]')
_CONTENT_LANGUAGE = etree.XPath('.//meta[translate(@http-equiv, "CONTENTLAGU", "contentlagu")="content-language"]')
_OG_LOCALE = etree.XPath('.//head/meta[@property="og:locale"]')


def page_hints(tree) -> dict:
    """Title candidates and language hints from the page's head (cheap: a few lookups)."""
    title_tag = _text_of(tree.find(".//head//title")) or None
    og_title = _first_content(_OG_TITLE(tree))
    h1s = tree.findall(".//h1")
    h1 = _text_of(h1s[0]) if len(h1s) == 1 else None
    lang = (tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang") or "").strip()
    if not lang:
        lang = _first_content(_CONTENT_LANGUAGE(tree)) or _first_content(_OG_LOCALE(tree)) or ""
    title = h1 or og_title or title_tag
    return {"title": title[:500] if title else None, "titles": [t for t in (h1, og_title, title_tag) if t],
            "html_lang": lang[:35] or None}


def _fetch_day(fetched_at: Optional[str]) -> Optional[str]:
    """'2019-11-19T10:00:00Z' -> '2019-11-19' (htmldate's latest plausible date)."""
    if fetched_at and len(fetched_at) >= 10 and fetched_at[4] == "-" and fetched_at[7] == "-":
        return fetched_at[:10]
    return None


def extract_page(html: Union[str, bytes], url: Optional[str] = None, cfg: Optional[ExtractConfig] = None, *,
                 content_type: Optional[str] = None, fetched_at: Optional[str] = None) -> Optional[Extracted]:
    """The main text of one page and its hints, or None when trafilatura finds no main text.

    `html` may be bytes (decoded here: HTTP charset, then <meta>, then detection) or text.
    `fetched_at` (ISO 8601) bounds the publication date from above: a page is not older than its fetch.
    """
    from htmldate import find_date
    from trafilatura import bare_extraction
    from trafilatura.utils import load_html, normalize_unicode

    cfg = cfg or ExtractConfig()
    encoding = source = None
    if isinstance(html, (bytes, bytearray)):
        decoded = decode_html(bytes(html), content_type)
        html, encoding, source = decoded.text, decoded.encoding, decoded.source
    tree = load_html(html)
    if tree is None:
        return None
    hints = page_hints(tree)
    doc = bare_extraction(tree, url=url, favor_precision=cfg.favor_precision, include_comments=cfg.include_comments,
                          include_tables=cfg.include_tables, fast=cfg.fast, include_images=False,
                          include_links=False, include_formatting=False, deduplicate=False, with_metadata=False)
    if doc is None or not doc.text:
        return None
    text = normalize_unicode(doc.text)
    raw_chars = len(text)
    removed: dict = {}
    if cfg.boilerplate_rules:
        text, removed = clean_lines(text, hints["titles"])
    if not text.strip():
        return None
    try:
        date = find_date(tree, extensive_search=False, original_date=True, url=url, max_date=_fetch_day(fetched_at))
    except Exception:  # noqa: BLE001 - a date is a hint; its absence is no reason to lose the page
        date = None
    return Extracted(text=text, title=hints["title"], date=date, html_lang=hints["html_lang"], encoding=encoding,
                     encoding_source=source, raw_chars=raw_chars, removed_lines=removed)


def extract(html: Union[str, bytes], url: Optional[str] = None, content_type: Optional[str] = None) -> Optional[str]:
    """The main text of a page exactly as the clean stage extracts it (default settings), or None.

    `html` is the page as text, or as the HTTP body's bytes, then decoded as the stage does: with
    `content_type` (the HTTP Content-Type header, whose charset comes first) when given. This runs
    in the calling process, without the stage's time limit (see clean/guard.py for that).
    """
    result = extract_page(html, url, content_type=content_type)
    return result.text if result is not None else None
