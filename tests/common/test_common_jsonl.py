"""Document records and JSON-lines IO: round trips, compression, damage named by file and line."""

import bz2
import gzip
import json
import lzma

import pytest
import zstandard

from webtext import jsonl
from webtext.errors import InputError
from webtext.record import check_document, doc_id, make_reject, new_document, reason_family
from webtext.urls import normalize_url


def test_document_id_is_hash_of_normalised_url():
    a = new_document("HTTP://Example.com:80/a?utm_source=x#top", "text")
    b = new_document("http://example.com/a", "other text")
    assert a["id"] == b["id"] == doc_id("http://example.com/a")
    assert check_document(a) == []


def test_check_document_names_problems():
    assert "missing key 'text'" in check_document({"id": "x", "url": "u"})
    bad = new_document("http://x.org/", "t")
    bad["source"] = []
    assert "'source' must be an object" in check_document(bad)


def test_reject_keeps_the_record_and_the_reason():
    doc = new_document("http://x.org/", "t")
    r = make_reject(doc, "near_duplicate_of:abc", "dedupe", jaccard=0.91)
    assert r["text"] == "t" and r["reason"] == "near_duplicate_of:abc" and r["reject"]["jaccard"] == 0.91
    assert reason_family(r["reason"]) == "near_duplicate_of"


@pytest.mark.parametrize("suffix", [".jsonl.zst", ".jsonl", ".jsonl.gz"])
def test_writer_round_trip(tmp_path, suffix):
    recs = [new_document(f"http://x.org/{i}", "héllo ☃ \U0001F600") for i in range(1000)]
    path = str(tmp_path / ("docs" + suffix))
    with jsonl.JsonlWriter(path) as w:
        w.write_many(recs)
    assert list(jsonl.read_jsonl(path)) == recs


@pytest.mark.parametrize("suffix,compress", [
    (".zst", lambda b: zstandard.ZstdCompressor(level=19, write_content_size=False).compress(b)),
    (".xz", lzma.compress), (".bz2", bz2.compress), (".gz", gzip.compress), ("", lambda b: b)])
def test_reader_handles_every_compression(tmp_path, suffix, compress):
    data = b"".join(json.dumps({"i": i}).encode() + b"\n" for i in range(100))
    p = tmp_path / ("f.jsonl" + suffix)
    p.write_bytes(compress(data))
    assert [r["i"] for r in jsonl.read_jsonl(str(p))] == list(range(100))


def test_reader_reads_concatenated_zstd_frames(tmp_path):
    c = zstandard.ZstdCompressor()
    p = tmp_path / "f.jsonl.zst"
    p.write_bytes(c.compress(b'{"a":1}\n') + c.compress(b'{"a":2}\n'))
    assert [r["a"] for r in jsonl.read_jsonl(str(p))] == [1, 2]


def test_bad_line_is_named_with_file_and_line(tmp_path):
    p = tmp_path / "f.jsonl"
    p.write_text('{"a":1}\n{"a":\n{"a":3}\n')
    with pytest.raises(InputError, match=r"f\.jsonl:2: not valid JSON"):
        list(jsonl.read_jsonl(str(p)))
    seen = []
    out = list(jsonl.read_jsonl(str(p), on_error=lambda path, line, msg: seen.append(line)))
    assert [r["a"] for r in out] == [1, 3] and seen == [2]


def test_truncated_file_is_a_clear_error(tmp_path):
    p = tmp_path / "f.jsonl.zst"
    data = b"".join(b'{"a":%d}\n' % (i * 7919 % 100003) for i in range(20000))
    compressed = zstandard.ZstdCompressor().compress(data)
    p.write_bytes(compressed[: len(compressed) // 2])
    with pytest.raises(InputError, match="f.jsonl.zst: cannot decompress"):
        list(jsonl.read_jsonl(str(p)))


def test_writer_is_atomic(tmp_path):
    path = tmp_path / "out.jsonl.zst"
    with pytest.raises(RuntimeError):
        with jsonl.JsonlWriter(str(path)) as w:
            w.write({"a": 1})
            raise RuntimeError("killed")
    assert not path.exists() and not (tmp_path / "out.jsonl.zst.tmp").exists()


def test_rotating_writer(tmp_path):
    with jsonl.RotatingJsonlWriter(str(tmp_path), "part", max_bytes=1000) as w:
        for i in range(200):
            w.write({"i": i, "pad": "x" * 20})
    files = jsonl.list_files(str(tmp_path))
    assert len(files) > 3
    assert [r["i"] for r in jsonl.read_dir(str(tmp_path))] == list(range(200))


@pytest.mark.parametrize("url,expected", [
    ("HTTP://Example.COM:80/a/./b/../c?utm_source=x&b=2&amp;c=3#frag", "http://example.com/a/c?b=2&c=3"),
    ("https://example.com:443", "https://example.com/"),
    ("https://example.com:8443/x", "https://example.com:8443/x"),
    ("http://example.com/%7euser/a%2fb", "http://example.com/~user/a%2Fb"),
    ("http://example.com/?fbclid=1&id=7&gclid=2", "http://example.com/?id=7"),
    ("http://münchen.de/", "http://xn--mnchen-3ya.de/"),
    # query parameters whose names start like HTML's legacy entities (&sect, &reg, &para, &copy, &times)
    # are not entities; only complete, ";"-terminated escapes are undone (twice-escaped ones too)
    ("http://a.com/x?id=1&section=news&region=eu&para=2&copy=1&times=3",
     "http://a.com/x?id=1&section=news&region=eu&para=2&copy=1&times=3"),
    ("http://a.com/x?a=1&amp;amp;b=2&amp;c=%3d", "http://a.com/x?a=1&b=2&c=%3D"),
    ("http://a.com/?a=&amp;amp;amp;amp;", "http://a.com/?a="),
    # the query is otherwise kept as written: it is the URL that gets fetched
    ("http://a.com/search?q=a+b&flag&utm_medium=x", "http://a.com/search?q=a+b&flag"),
    ("ftp://example.com/", None), ("javascript:alert(1)", None), ("http:///nohost", None), ("not a url", None),
])
def test_normalize_url(url, expected):
    assert normalize_url(url) == expected
    if expected is not None:
        assert normalize_url(expected) == expected  # normalising twice changes nothing
