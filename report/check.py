"""Structural checks of a report page, without a browser: what a reader would notice is broken.

    every <img> is an embedded image that decodes to a non-blank picture of sane size,
    no section is empty (beyond its heading and introduction, each has a figure, table, text or a
    note of what is missing),
    nothing would be fetched from outside the file (src, href, CSS url(), @import, <link>, <script>),
    every table-of-contents entry points at a section that exists.

`check_page(html) -> [problem, ...]` is used by the tests and by `webtext report verify`.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from html.parser import HTMLParser

MIN_SIDE, MAX_SIDE = 80, 6000  # pixels: smaller is a broken plot, larger is a runaway figure size
CONTENT_TAGS = {"figure", "table", "p", "pre", "ul", "ol", "div"}
VOID = {"img", "br", "hr", "meta", "input", "link", "source", "wbr", "col", "area", "base", "embed", "param", "track"}
URL_ATTRS = {"src", "href", "action", "poster", "srcset", "data", "formaction", "background", "cite"}


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.images: list[tuple[str, str]] = []  # (section id, src)
        self.urls: list[tuple[str, str, str]] = []  # (tag, attr, value)
        self.sections: dict[str, int] = {}  # id -> content blocks
        self.section_order: list[str] = []
        self.toc_links: list[str] = []
        self.styles: list[str] = []
        self._section = None
        self._depth = 0  # element depth inside the current section
        self._in_style = False
        self._in_nav = False
        self.forbidden: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "iframe", "object", "embed", "link", "base"):
            self.forbidden.append(f"<{tag}> element")
        for name, value in attrs:
            if name in URL_ATTRS and value is not None:
                self.urls.append((tag, name, value))
            if name == "style" and value:
                self.styles.append(value)
            if name.startswith("on"):
                self.forbidden.append(f"event handler {name} on <{tag}>")
        if tag == "style":
            self._in_style = True
        if tag == "nav":
            self._in_nav = True
        if tag == "a" and self._in_nav and a.get("href", "").startswith("#"):
            self.toc_links.append(a["href"][1:])
        if tag == "section":
            self._section = a.get("id") or f"(section {len(self.section_order) + 1} without id)"
            self.section_order.append(self._section)
            self.sections[self._section] = 0
            self._depth = 0
            return
        if tag == "img":
            self.images.append((self._section or "(outside sections)", a.get("src") or ""))
        if self._section is not None and tag not in VOID:
            self._depth += 1
            intro = tag == "p" and "intro" in (a.get("class") or "").split()
            if tag in CONTENT_TAGS and self._depth == 1 and not intro:
                self.sections[self._section] += 1

    def handle_startendtag(self, tag, attrs):  # <x/>: no end tag follows
        self.handle_starttag(tag, attrs)
        if self._section is not None and tag not in VOID and tag != "section":
            self._depth -= 1

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False
        if tag == "nav":
            self._in_nav = False
        if tag == "section":
            self._section = None
            return
        if self._section is not None and tag not in VOID:
            self._depth -= 1

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def _check_image(src: str) -> str:
    """'' if src is an embedded image that decodes to a non-blank picture, else what is wrong."""
    m = re.match(r"data:image/(png|jpeg|gif|webp|svg\+xml);base64,(.*)$", src, re.S)
    if not m:
        return "not an embedded base64 image" if not src.startswith("data:") else f"unsupported data URI {src[:40]!r}"
    try:
        raw = base64.b64decode(m.group(2), validate=True)
    except (binascii.Error, ValueError):
        return "base64 does not decode"
    if m.group(1) == "svg+xml":
        text = raw.decode("utf-8", "replace")
        return "" if "<svg" in text and len(text) > 200 else "SVG without content"
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(raw)) as img:
            img.load()
            w, h = img.size
            lo, hi = img.convert("L").getextrema()
    except (UnidentifiedImageError, OSError, ValueError) as e:
        return f"image does not decode ({e})"
    if not (MIN_SIDE <= w <= MAX_SIDE and MIN_SIDE <= h <= MAX_SIDE):
        return f"image is {w}x{h} pixels (expected {MIN_SIDE}..{MAX_SIDE} per side)"
    if lo == hi:
        return f"image is blank (every pixel has the value {lo})"
    return ""


def check_page(html: str) -> list[str]:
    """Problems a reader would see, or [] when the page is whole and self-contained."""
    page = _Page()
    page.feed(html)
    page.close()
    problems = list(page.forbidden)
    for tag, attr, value in page.urls:
        v = value.strip()
        if tag == "img" and attr == "src":
            continue  # checked below
        if not (v.startswith("#") or v.startswith("data:")):
            problems.append(f"<{tag} {attr}> points outside the file: {v[:80]}")
    for css in page.styles:
        for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", css):
            if not url.startswith("data:"):
                problems.append(f"CSS url() points outside the file: {url[:80]}")
        if "@import" in css:
            problems.append("CSS @import")
    if not page.section_order:
        problems.append("the page has no sections")
    for sid, blocks in page.sections.items():
        if blocks == 0:
            problems.append(f"section '{sid}' is empty")
    for link in page.toc_links:
        if link not in page.sections:
            problems.append(f"table of contents links to #{link}, which is not a section")
    for sid, src in page.images:
        why = _check_image(src)
        if why:
            problems.append(f"image in section '{sid}': {why}")
    return problems


def page_summary(html: str) -> dict:
    """Counts a test or a user can eyeball: sections, images, tables."""
    page = _Page()
    page.feed(html)
    return {"sections": page.section_order, "images": len(page.images), "toc": page.toc_links,
            "tables": html.count("<table")}
