"""The browser-free page checks: they pass a good page and name each kind of breakage."""

import base64
import io
import re

import pytest
from PIL import Image

from report.check import check_page, page_summary
from report_fixtures import full_report_once


@pytest.fixture(scope="module")
def full_report_dir(tmp_path_factory):
    return full_report_once(tmp_path_factory)


@pytest.fixture(scope="module")
def full_report(full_report_dir):
    return full_report_dir[1]


def png(size, colors=1) -> str:
    img = Image.new("RGB", size, "white")
    if colors > 1:
        img.paste((30, 90, 160), (0, 0, size[0] // 2, size[1] // 2))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def replace_first_image(page, src):
    return re.sub(r'src="data:image/png;base64,[^"]*"', f'src="{src}"', page, count=1)


def test_good_page_passes(full_report):
    _, page, _, _ = full_report
    assert check_page(page) == []
    summary = page_summary(page)
    assert summary["toc"] == summary["sections"] and summary["images"] >= 18


def test_broken_images_are_named(full_report):
    _, page, _, _ = full_report
    cases = {
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==": "image does not decode",
        "data:image/png;base64,@@@": "base64 does not decode",
        png((200, 200)): "image is blank",
        png((20, 300), colors=2): "image is 20x300 pixels",
        "plot.png": "not an embedded base64 image",
    }
    for src, expected in cases.items():
        problems = check_page(replace_first_image(page, src))
        assert len(problems) == 1 and "image in section 'funnel'" in problems[0] and expected in problems[0], problems
    assert check_page(replace_first_image(page, png((300, 200), colors=2))) == []


def test_anything_fetched_from_outside_is_named(full_report):
    _, page, _, _ = full_report
    spoiled = replace_first_image(page, "https://example.com/plot.png")
    assert any("not an embedded base64 image" in p for p in check_page(spoiled))
    spoiled = page.replace("</head>", '<link rel="stylesheet" href="https://cdn.example.com/x.css"></head>')
    assert check_page(spoiled) == ["<link> element", "<link href> points outside the file: https://cdn.example.com/x.css"]
    spoiled = page.replace("body { margin: 0;", "body { background: url('http://example.com/bg.png'); margin: 0;")
    assert check_page(spoiled) == ["CSS url() points outside the file: http://example.com/bg.png"]
    spoiled = page.replace("</main>", '<script src="https://example.com/a.js"></script></main>')
    assert "<script> element" in check_page(spoiled)
    spoiled = page.replace("</footer>", '<a href="https://example.com/">more</a></footer>')
    assert check_page(spoiled) == ["<a href> points outside the file: https://example.com/"]


def test_empty_sections_and_dead_toc_links_are_named(full_report):
    _, page, _, _ = full_report
    start = page.index('<section id="languages">')
    end = page.index("</section>", start)
    intro_end = page.index("</p>", start) + len("</p>")
    emptied = page[:intro_end] + page[end:]  # heading and introduction left, nothing else
    assert check_page(emptied) == ["section 'languages' is empty"]
    renamed = page.replace('<section id="languages">', '<section id="langs">')
    assert check_page(renamed) == ["table of contents links to #languages, which is not a section"]
