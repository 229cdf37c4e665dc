"""Reading WARC files: responses become pages with crawl's provenance; damage is counted, never raised."""

import os

from cleanwarc import article_html, link_header, write_warc

from clean.warc import read_warc
from webtext.record import doc_id
from webtext.urls import normalize_url


def _read(path, max_bytes=1 << 20):
    stats = {}
    return list(read_warc(str(path), stats, max_bytes)), stats


def test_responses_with_and_without_crawl_link(tmp_path):
    path = write_warc(str(tmp_path / "a.warc.gz"), [
        {"type": "warcinfo"},
        {"type": "request", "url": "https://www.example.com/story?utm_source=x"},
        {"url": "https://www.example.com/story?utm_source=x", "body": article_html(),
         "link": link_header("abcd1234abcd1234", "https://example.com/story", score=42)},
        {"type": "metadata", "url": "https://www.example.com/story", "body": "fetch-time: 1.2",
         "warc_content_type": "application/warc-fields"},
        {"url": "https://Other.example.org:443/Page#frag", "body": "<html><body><p>hi</p></body></html>",
         "date": "2019-11-19T10:00:00Z"},
    ])
    pages, stats = _read(path)
    assert stats["warc_records"] == {"warcinfo": 1, "request": 1, "response": 2, "metadata": 1}
    assert stats["files"] == {"read": 1}
    linked, foreign = pages
    assert (linked.id, linked.url) == ("abcd1234abcd1234", "https://example.com/story")
    assert linked.final_url == "https://www.example.com/story?utm_source=x"
    assert linked.source["score"] == 42 and linked.source["subreddits"] == ["news"]
    assert linked.status == 200 and linked.content_type.startswith("text/html")
    assert linked.body.startswith(b"<!DOCTYPE html>") and not linked.truncated
    # A response without crawl's header (a foreign WARC): id from the normalised fetched URL, empty source.
    assert foreign.url == normalize_url("https://Other.example.org:443/Page#frag") == "https://other.example.org/Page"
    assert foreign.id == doc_id(foreign.url)
    assert foreign.source == {"reddit_ids": [], "subreddits": [], "score": 0, "created_utc": None}
    assert foreign.fetched_at == "2019-11-19T10:00:00Z"
    assert foreign.offset > linked.offset > 0


def test_bad_link_header_is_counted_and_the_page_kept(tmp_path):
    path = write_warc(str(tmp_path / "a.warc.gz"), [{"url": "http://e.com/x", "body": "<p>x</p>", "link": "{not json"}])
    pages, stats = _read(path)
    assert len(pages) == 1 and pages[0].link_error and stats["link_header_errors"] == 1
    assert pages[0].id == doc_id("http://e.com/x")


def test_truncated_file_keeps_what_came_before(tmp_path):
    records = [{"url": f"http://e.com/{i}", "body": article_html(title=f"Story {i}") * 3} for i in range(3)]
    path = write_warc(str(tmp_path / "a.warc.gz"), records)
    data = open(path, "rb").read()
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(data[:len(data) - 800])
    pages, stats = _read(cut)
    assert [p.final_url for p in pages] == ["http://e.com/0", "http://e.com/1", "http://e.com/2"]
    assert [p.truncated for p in pages] == [False, False, True]
    assert stats["files"]["damaged"] == 1 and "cut short" in stats["damaged_files"][str(cut)]


def test_uncompressed_warc_and_size_limit(tmp_path):
    path = write_warc(str(tmp_path / "a.warc"), [{"url": "http://e.com/big", "body": "<p>" + "x" * 5000 + "</p>"},
                                                 {"url": "http://e.com/small", "body": "<p>ok</p>"}], gzip=False)
    pages, _ = _read(path, max_bytes=1000)
    assert len(pages[0].body) == 1001 and pages[0].body_bytes == 5007 and not pages[0].truncated
    assert pages[1].body == b"<p>ok</p>"


def test_empty_and_garbage_files_are_counted(tmp_path):
    empty = tmp_path / "empty.warc.gz"
    empty.write_bytes(b"")
    pages, stats = _read(empty)
    assert pages == [] and stats["files"] == {"read": 1, "empty": 1}
    for name, data in (("text.warc.gz", b"hello, this is not a WARC file at all\n" * 20),
                       ("gz.warc.gz", b"\x1f\x8b\x08\x00garbage that is not gzip"),
                       ("binary.warc.gz", os.urandom(3000))):
        path = tmp_path / name
        path.write_bytes(data)
        pages, stats = _read(path)
        assert pages == [] and stats["files"]["damaged"] == 1, name
        assert str(path) in stats["damaged_files"]


def test_a_fifty_megabyte_page_is_measured_not_kept(tmp_path):
    from clean.config import Config, ExtractConfig
    from clean.guard import InProcessExtractor
    from clean.process import PageProcessor

    big = b"<html><body>" + b"<p>" + b"x" * (50 << 20) + b"</p></body></html>"
    path = write_warc(str(tmp_path / "big.warc.gz"), [{"url": "http://e.com/big", "body": big},
                                                      {"url": "http://e.com/ok", "body": article_html()}])
    cfg = Config(extract=ExtractConfig(isolate=False))
    pages, _ = _read(path, max_bytes=cfg.extract.max_html_bytes)
    assert pages[0].body_bytes == len(big) and len(pages[0].body) == cfg.extract.max_html_bytes + 1
    proc = PageProcessor(cfg, InProcessExtractor(cfg.extract))
    kinds = [proc.process(p, {}) for p in pages]
    assert kinds[0][1]["reason"] == "too_large" and kinds[0][1]["reject"]["bytes"] == len(big)
    assert kinds[1][0] == "doc"
