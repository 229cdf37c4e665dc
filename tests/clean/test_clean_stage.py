"""The clean stage end to end on Beam: real WARC files (good, foreign, damaged) -> docs/ and rejects/."""

import json
import os
import types

import pytest
from cleanwarc import PARAGRAPHS, article_html, link_header, write_warc

from clean import stage
from clean.config import Config, ExtractConfig
from webtext import jsonl
from webtext.beam import read_sharded
from webtext.config import BeamConfig
from webtext.record import check_document
from webtext.runner import StageContext

GERMAN = ("Der Gemeinderat hat sich gestern Abend in der alten Bibliothek getroffen, um über den Zustand des Deiches "
          "zu sprechen. Die Ingenieure berichteten, dass zwei Abschnitte schwächer seien als erwartet, und dass die "
          "Stürme der kommenden Wochen sie hart prüfen würden. Der Bürgermeister fragte, wie lange eine Reparatur "
          "dauern würde, und niemand wollte ihm eine genaue Antwort geben.")


def story(i):
    """A distinct article per i (the paragraphs rotate), so no two documents are the same."""
    paras = PARAGRAPHS[i % 5:] + PARAGRAPHS[:i % 5]
    return article_html(title=f"Storm diary, day {i}", paragraphs=[f"Day {i}. " + paras[0]] + paras[1:])


def build_crawl(root):
    warc = os.path.join(root, "crawl", "warc")
    link = lambda i, **kw: link_header(f"{i:016x}", f"https://gazette.example/story/{i}", **kw)  # noqa: E731
    write_warc(os.path.join(warc, "part-00000.warc.gz"), [
        {"type": "warcinfo"},
        {"type": "request", "url": "https://gazette.example/story/1"},
        {"url": "https://gazette.example/story/1", "body": story(1), "link": link(1, score=12)},
        {"type": "metadata", "url": "https://gazette.example/story/1", "body": "x: y",
         "warc_content_type": "application/warc-fields"},
        {"url": "https://gazette.example/story/2", "body": story(2), "link": link(2)},
        {"url": "https://gazette.example/story/2", "body": story(22), "link": link(2)},  # the same link again
        {"url": "https://zeitung.example/deich", "body": article_html(paragraphs=[GERMAN], lang="de"),
         "link": link(3)},
        {"url": "https://en.wikipedia.org/wiki/Harbour", "body": story(4), "link": link(4)},
        {"url": "https://gazette.example/report.pdf", "body": b"%PDF-1.4\n" + bytes(range(256)) * 8,
         "content_type": "application/pdf", "link": link(5)},
        {"url": "https://gazette.example/gone", "body": "<html>Not found</html>", "status": "404 Not Found",
         "link": link(6)},
        {"url": "https://gazette.example/empty", "body": b"", "link": link(7)},
        {"url": "https://gazette.example/image", "body": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
         "content_type": "text/html", "link": link(8)},
    ])
    # A foreign, uncompressed WARC: no WebText-Link headers.
    write_warc(os.path.join(warc, "foreign.warc"), [
        {"url": "https://other.example/a?utm_source=feed", "body": story(9)},
        {"url": "https://other.example/b", "body": story(10)},
    ], gzip=False)
    full = write_warc(os.path.join(root, "full.warc.gz"), [
        {"url": f"https://gazette.example/story/{i}", "body": story(i) * 2, "link": link(i)} for i in (11, 12, 13)])
    with open(full, "rb") as f:
        data = f.read()
    with open(os.path.join(warc, "cut.warc.gz"), "wb") as f:
        f.write(data[:len(data) - 700])
    open(os.path.join(warc, "zero.warc.gz"), "wb").close()
    with open(os.path.join(warc, "junk.warc.gz"), "wb") as f:
        f.write(b"this is not a WARC file\n" * 50)
    return os.path.join(root, "crawl")


def run_stage(root, crawl, name, mode, workers, runner="direct"):
    cfg = Config(num_shards=3)
    beam_cfg = BeamConfig(runner=runner, workers=workers, direct_running_mode=mode)
    config = types.SimpleNamespace(clean=cfg, beam=beam_cfg, run=types.SimpleNamespace(seed=1))
    out = os.path.join(root, name)
    os.makedirs(out)
    ctx = StageContext(name="clean", config=config, out_dir=out, inputs={"crawl": crawl}, work_dir=root)
    return out, stage.run(ctx)


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("clean"))
    crawl = build_crawl(root)
    out, result = run_stage(root, crawl, "in_memory", "in_memory", 1)
    return root, crawl, out, result


def test_counts_add_up_and_every_reason_is_there(cleaned):
    _, _, out, result = cleaned
    c = result.counts
    assert c["in"] == 14  # every response record, the damaged file's included
    assert c["in"] == c["out"] + sum(c["dropped"].values())
    assert c["dropped"] == {"binary": 1, "duplicate_id": 1, "empty": 1, "http_status": 1, "lang": 1,
                            "not_html": 1, "truncated": 1, "wikipedia": 1}
    assert c["out"] == 6
    docs = list(read_sharded(os.path.join(out, "docs"), "docs"))
    rejects = list(read_sharded(os.path.join(out, "rejects"), "rejects"))
    assert len(docs) == c["out"] and len(rejects) == sum(c["dropped"].values())
    assert sorted(os.listdir(os.path.join(out, "docs"))) == [f"docs-0000{i}-of-00003.jsonl.zst" for i in range(3)]
    assert not [n for n in os.listdir(out) if n.startswith("_")]  # the pipeline's scratch stats are gone


def test_documents(cleaned):
    _, _, out, _ = cleaned
    docs = {d["url"]: d for d in read_sharded(os.path.join(out, "docs"), "docs")}
    for d in docs.values():
        assert check_document(d) == []
    one = docs["https://gazette.example/story/1"]
    assert one["id"] == f"{1:016x}" and one["source"]["score"] == 12
    assert one["text"].startswith("Day 1. ") and "Related stories" not in one["text"]
    assert one["title"] == "Storm diary, day 1" and one["meta"]["lang"] == "en"
    assert one["meta"]["warc"].startswith("part-00000.warc.gz@")
    foreign = docs["https://other.example/a"]  # normalised, tracking parameter gone
    assert foreign["source"]["reddit_ids"] == [] and foreign["meta"]["final_url"].endswith("utm_source=feed")
    # the two complete records before the cut in the damaged file are kept
    assert {"https://gazette.example/story/11", "https://gazette.example/story/12"} <= set(docs)
    # of the two responses for link 2, one document (the smaller record) and one duplicate_id reject
    assert docs["https://gazette.example/story/2"]["text"].startswith("Day 2")


def test_stats(cleaned):
    root, _, _, result = cleaned
    s = result.stats
    assert s["languages"] == {"en": 7, "de": 1}
    assert sum(s["chars"].values()) == sum(s["words"].values()) == 6
    assert s["chars_out"] > 6 * 1000 and s["bytes_in"] > s["chars_out"]
    assert s["domains"] == {"gazette.example": 4, "other.example": 2}
    from clean.stage import FILTER_REASONS

    assert s["filters"] == {r: {"wikipedia": 1, "lang": 1}.get(r, 0) for r in FILTER_REASONS}  # zeros listed too
    assert s["files"] == {"read": 5, "empty": 1, "damaged": 2}
    assert set(s["damaged_files"]) == {os.path.join(root, "crawl", "warc", n) for n in ("cut.warc.gz", "junk.warc.gz")}
    assert s["warc_records"] == {"metadata": 1, "request": 1, "response": 14, "warcinfo": 1}
    assert s["extraction"] == {"ok": 8}


@pytest.mark.parametrize("runner, mode", [("direct", "multi_processing"), ("dask", "multi_processing")])
def test_output_is_byte_identical_with_two_workers(cleaned, runner, mode):
    root, crawl, out, result = cleaned
    out2, result2 = run_stage(root, crawl, f"{runner}-2", mode, 2, runner=runner)
    assert result2.counts == result.counts
    assert result2.stats == result.stats
    for folder in ("docs", "rejects"):
        names = sorted(os.listdir(os.path.join(out, folder)))
        assert names == sorted(os.listdir(os.path.join(out2, folder)))
        for n in names:
            with open(os.path.join(out, folder, n), "rb") as a, open(os.path.join(out2, folder, n), "rb") as b:
                assert a.read() == b.read(), f"{folder}/{n} differs"


def test_missing_warc_folder_is_a_clear_error(tmp_path):
    from webtext.errors import InputError

    with pytest.raises(InputError, match="folder not found"):
        run_stage(str(tmp_path), str(tmp_path / "crawl"), "out", "in_memory", 1)


def test_reject_records_say_why(cleaned):
    _, _, out, _ = cleaned
    by_reason = {r["reason"]: r for r in read_sharded(os.path.join(out, "rejects"), "rejects")}
    assert by_reason["http_status"]["reject"] == {"status": 404}
    assert by_reason["not_html"]["reject"] == {"content_type": "application/pdf"}
    assert by_reason["binary"]["meta"]["content_type"] == "text/html"
    assert by_reason["lang"]["text"].startswith("Der Gemeinderat")
    assert by_reason["duplicate_id"]["reject"]["kept"].startswith("part-00000.warc.gz@")
    assert json.dumps(by_reason["truncated"]["reject"]).count("declared length") == 1
    assert jsonl.list_files(os.path.join(out, "rejects"))
