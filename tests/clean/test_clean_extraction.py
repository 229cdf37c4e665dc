"""clean.extract: the stage's extraction of one page, on pages written here and on real pages."""

import gzip
import json
import os

from cleanwarc import PARAGRAPHS, article_html

import clean
from clean.extraction import extract_page


def test_main_text_without_boilerplate():
    text = clean.extract(article_html(), "https://gazette.example/storm")
    assert text.split("\n") == PARAGRAPHS
    for junk in ("Home", "Related stories", "Ferry timetable", "All rights reserved", "Privacy", "Storm season"):
        assert junk not in text


def test_hints_and_bytes_input():
    html = article_html(title="Storm season begins in the harbour town", lang="en-GB", charset="iso-8859-1",
                        paragraphs=PARAGRAPHS + ["Café owners said the crème brûlée sold out by noon."])
    r = extract_page(html.encode("cp1252"), "https://gazette.example/storm", fetched_at="2020-01-05T10:00:00Z")
    assert r.title == "Storm season begins in the harbour town"
    assert r.date == "2019-11-19" and r.html_lang == "en-GB"
    assert r.encoding == "cp1252" and r.encoding_source == "meta"
    assert "crème brûlée" in r.text and r.removed_lines == {"title": 1}  # trafilatura keeps the <h1>; the rule drops it
    assert clean.extract(html.encode("cp1252"), "https://gazette.example/storm") == r.text


def test_pages_without_main_text():
    assert clean.extract("") is None
    assert clean.extract("<html><head><script>var x = 1;</script></head><body></body></html>") is None
    assert clean.extract(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10) is None


def test_real_pages_agree_with_the_gold_text(shared_data):
    """A few benchmark pages (the full benchmark is bench/extraction_quality.py)."""
    root = os.path.join(shared_data, "html_extraction")
    with open(os.path.join(root, "ground-truth.json"), encoding="utf-8") as f:
        gold = json.load(f)
    import re

    def tokens(s):
        return re.findall(r"\w+", s or "")

    scores = []
    for key in sorted(gold)[:12]:
        with gzip.open(os.path.join(root, "html", f"{key}.html.gz")) as f:
            text = clean.extract(f.read(), gold[key]["url"])
        got, want = set(tokens(text)), set(tokens(gold[key]["articleBody"]))
        scores.append(len(got & want) / max(1, len(got | want)))
    assert sum(scores) / len(scores) > 0.85
