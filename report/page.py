"""The page: sections of text, tables and figures rendered as one self-contained HTML file.

Self-contained means: CSS inline, images as base64 PNG data URIs, no script, no font or link to
anything outside the file; a Content-Security-Policy meta tag makes the browser refuse any fetch
that would slip in, so the page shows the same offline, in an archive, or attached to an email.
"""

from __future__ import annotations

import base64
import html
import struct
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from report.gather import Needs

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


# -- blocks ------------------------------------------------------------------------------------------

@dataclass
class Text:
    text: str
    kind: str = "p"  # p: a paragraph; note: a grey aside; warn: a red box (something looks wrong)


@dataclass
class Cards:
    """Headline numbers: [(label, value, detail)]."""

    items: list


@dataclass
class Table:
    columns: Sequence[str]
    rows: list  # lists of cells: str, int, float, None ("-")
    caption: str = ""
    note: str = ""  # a line under the table (e.g. "12 more rows not shown")
    text_columns: tuple = ()  # column indexes that are labels even when they look like numbers ("404 Not Found")


@dataclass
class Plot:
    title: str  # also drawn in the image; used as alt text
    png: bytes
    caption: str = ""


@dataclass
class Pre:
    text: str
    summary: Optional[str] = None  # when given, the block is collapsed under this line


@dataclass
class Section:
    id: str
    title: str
    intro: str = ""
    blocks: list = field(default_factory=list)
    needs: Needs = field(default_factory=Needs)
    data: dict = field(default_factory=dict)  # what this section puts in stats.json

    def add(self, *blocks) -> None:
        self.blocks.extend(b for b in blocks if b is not None)

    @property
    def complete(self) -> bool:
        return not self.needs


# -- formatting --------------------------------------------------------------------------------------

def fmt(value: Any) -> str:
    if value is None:
        return "\u2013"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.4g}"
    return str(value)


def _is_numeric_cell(value: Any) -> bool:
    """Numbers, and strings that start with one ('12.3%', '2.2 GB', '41,020 links'): right-aligned."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return True
    if isinstance(value, str) and value.strip():
        head = value.strip().split(" ")[0].replace(",", "").rstrip("%")
        try:
            float(head)
            return True
        except ValueError:
            return value.strip() == "\u2013"
    return False


def fmt_card(value: Any) -> str:
    """Headline numbers stay on one line: 131,072,000 -> '131.1M' (tables keep the exact figure)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10_000_000:
        for div, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M")):
            if abs(value) >= div:
                return f"{value / div:.1f}{suffix}"
    return fmt(value)


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (0, 0 if it is not a PNG)."""
    if len(png) < 24 or png[:8] != b"\x89PNG\r\n\x1a\n":
        return 0, 0
    return struct.unpack(">II", png[16:24])


# -- rendering ---------------------------------------------------------------------------------------

def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _cell(value: Any, numeric: bool) -> str:
    text = fmt(value)
    classes = ["num"] if numeric else []
    if len(text) <= 20 and not (numeric and " " in text):  # short text never wraps; "41,020 links" may
        classes.append("nw")
    return f'<td class="{" ".join(classes)}">{_e(text)}</td>' if classes else f"<td>{_e(text)}</td>"


def render_block(block) -> str:
    if isinstance(block, Text):
        if block.kind == "p":
            return f"<p>{_e(block.text)}</p>"
        return f'<p class="{block.kind}">{_e(block.text)}</p>'
    if isinstance(block, Cards):
        cards = "".join(
            f'<div class="card"><div class="label">{_e(label)}</div>'
            f'<div class="value" title="{_e(fmt(value))}">{_e(fmt_card(value))}</div>'
            + (f'<div class="detail">{_e(detail)}</div>' if detail else "") + "</div>"
            for label, value, detail in block.items)
        return f'<div class="cards">{cards}</div>'
    if isinstance(block, Table):
        numeric = [i not in block.text_columns and bool(block.rows)
                   and all(_is_numeric_cell(r[i]) or r[i] is None for r in block.rows)
                   for i in range(len(block.columns))]
        head = "".join(f'<th{" class=num" if numeric[i] else ""}>{_e(c)}</th>' for i, c in enumerate(block.columns))
        body = "".join("<tr>" + "".join(_cell(v, numeric[i]) for i, v in enumerate(row)) + "</tr>" for row in block.rows)
        cap = f"<caption>{_e(block.caption)}</caption>" if block.caption else ""
        note = f'<p class="tnote">{_e(block.note)}</p>' if block.note else ""
        table = f'<table class="data">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        return f'<div class="twrap">{table}{note}</div>'
    if isinstance(block, Plot):
        w, h = png_size(block.png)
        data = base64.b64encode(block.png).decode("ascii")
        cap = f"<figcaption>{_e(block.caption)}</figcaption>" if block.caption else ""
        return (f'<figure><img src="data:image/png;base64,{data}" alt="{_e(block.title)}" '
                f'width="{w}" height="{h}">{cap}</figure>')
    if isinstance(block, Pre):
        pre = f"<pre>{_e(block.text)}</pre>"
        return f"<details><summary>{_e(block.summary)}</summary>{pre}</details>" if block.summary else pre
    raise TypeError(f"unknown block {type(block).__name__}")


def render_missing(needs: Needs) -> str:
    items = "".join(f"<li><code>{_e(m.stage)}</code> <code>{_e(m.key)}</code>: {_e(m.why)}</li>" for m in needs.items)
    return f'<div class="missing"><strong>Not shown yet:</strong><ul>{items}</ul></div>'


def render_section(number: int, section: Section) -> str:
    parts = [f'<section id="{_e(section.id)}"><h2><span class="num">{number}</span> {_e(section.title)}</h2>']
    if section.intro:
        parts.append(f'<p class="intro">{_e(section.intro)}</p>')
    parts.extend(render_block(b) for b in section.blocks)
    if section.needs:
        parts.append(render_missing(section.needs))
    parts.append("</section>")
    return "\n".join(parts)


def render_page(title: str, subtitle: str, sections: list[Section]) -> str:
    toc = "".join(
        f'<li><a href="#{_e(s.id)}">{_e(s.title)}</a>'
        + ("" if s.complete else ' <span class="partial" title="some data missing">\u25d0</span>') + "</li>"
        for s in sections)
    body = "\n".join(render_section(i, s) for i, s in enumerate(sections, 1))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="webtext report">
<title>{_e(title)}</title>
<style>{CSS}</style>
</head>
<body>
<div class="layout">
<nav class="toc"><div class="brand">webtext</div><ol>{toc}</ol></nav>
<main>
<header><h1>{_e(title)}</h1><p class="sub">{_e(subtitle)}</p></header>
{body}
<footer>Made by <code>webtext report</code> from each stage's statistics; the machine-readable figures are in stats.json beside this page.</footer>
</main>
</div>
</body>
</html>
"""


CSS = """
:root { --ink: #1f2328; --muted: #59636e; --line: #e1e4e8; --bg: #f5f6f8; --accent: #3b6ea8; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: var(--bg);
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
.layout { display: grid; grid-template-columns: 230px minmax(0, 1fr); max-width: 1240px; margin: 0 auto; }
nav.toc { position: sticky; top: 0; align-self: start; max-height: 100vh; overflow: auto; padding: 28px 14px 28px 20px; }
nav.toc .brand { font-weight: 700; letter-spacing: .04em; color: var(--accent); margin-bottom: 12px; text-transform: uppercase; font-size: 13px; }
nav.toc ol { margin: 0; padding-left: 20px; font-size: 14px; }
nav.toc li { margin: 3px 0; color: var(--muted); }
nav.toc a { color: var(--ink); text-decoration: none; }
nav.toc a:hover { color: var(--accent); text-decoration: underline; }
nav.toc .partial { color: #b7791f; font-size: 12px; }
main { padding: 26px 28px 60px; min-width: 0; }
header h1 { font-size: 1.75rem; margin: 0 0 2px; letter-spacing: -.01em; }
header .sub { color: var(--muted); margin: 0 0 22px; font-size: 13.5px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 18px 26px 20px; margin: 0 0 22px; }
h2 { font-size: 1.3rem; margin: 0 0 6px; }
h2 .num { color: var(--muted); font-weight: 400; margin-right: 4px; }
p { margin: 8px 0; max-width: 62em; }
p.intro { color: var(--muted); }
p.note { color: var(--muted); font-size: 13.5px; }
p.warn { background: #fdecea; border: 1px solid #f1b8b1; border-radius: 6px; padding: 8px 12px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(165px, 1fr)); gap: 10px; margin: 12px 0 14px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 9px 13px; background: #fafbfc; }
.card .label { color: var(--muted); font-size: 11.5px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 1.35rem; font-weight: 600; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.card .detail { color: var(--muted); font-size: 12px; }
.twrap { overflow-x: auto; margin: 12px 0; }
table.data { border-collapse: collapse; font-size: 13.5px; font-variant-numeric: tabular-nums; }
table.data caption { text-align: left; font-weight: 600; padding: 0 0 6px; }
table.data th { text-align: left; background: #f6f8fa; border-bottom: 2px solid #d5d9de; padding: 6px 11px; white-space: nowrap; }
table.data td { border-bottom: 1px solid #eef0f2; padding: 4px 11px; vertical-align: top; }
table.data tbody tr:hover { background: #f8fafc; }
table.data .num { text-align: right; }
table.data .nw { white-space: nowrap; }
p.tnote { color: var(--muted); font-size: 12.5px; margin: 4px 0 0; }
figure { margin: 14px 0 18px; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid #eef0f2; border-radius: 6px; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 5px; max-width: 62em; }
pre { background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; overflow: auto;
  font-size: 12.5px; line-height: 1.45; max-height: 520px; white-space: pre-wrap; }
details { margin: 10px 0; }
summary { cursor: pointer; color: var(--accent); }
code { font-size: 12.5px; background: #f1f3f5; padding: 1px 4px; border-radius: 4px; }
.missing { background: #fff8e5; border: 1px solid #efd9a1; border-radius: 8px; padding: 8px 14px; margin: 12px 0 4px; font-size: 13.5px; }
.missing ul { margin: 4px 0; padding-left: 20px; }
footer { color: var(--muted); font-size: 12.5px; margin-top: 26px; }
@media (max-width: 900px) {
  .layout { display: block; }
  nav.toc { position: static; max-height: none; border-bottom: 1px solid var(--line); }
  main { padding: 18px 12px; }
  section { padding: 14px 14px; }
}
@media print {
  nav.toc { display: none; }
  .layout { display: block; }
  section { break-inside: avoid-page; border: none; }
  body { background: #fff; }
}
"""
