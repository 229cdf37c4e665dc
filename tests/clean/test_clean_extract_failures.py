"""A page whose extraction times out or whose extraction process dies becomes a reject record
(`extract_timeout`, `extract_failed`) and is counted; the pages after it in the same batch are still
extracted. The real child-process guard (clean/guard.py) and real trafilatura throughout."""

import os
import threading
import types

from cleanwarc import PARAGRAPHS, article_html, link_header, slow_page, write_warc

from clean import stage
from clean.config import Config, ExtractConfig
from clean.guard import ChildExtractor
from clean.pipeline import shard_stats
from clean.process import PageProcessor
from clean.warc import Page
from webtext.beam import read_sharded
from webtext.config import BeamConfig
from webtext.runner import StageContext


def story(i):
    paras = PARAGRAPHS[i % 5:] + PARAGRAPHS[:i % 5]
    return article_html(title=f"Storm diary, day {i}", paragraphs=[f"Day {i}. " + paras[0]] + paras[1:])


def page(i, body):
    body = body.encode() if isinstance(body, str) else body
    url = f"https://gazette.example/story/{i}"
    return Page(id=f"{i:016x}", url=url, final_url=url, fetched_at="2020-01-05T10:00:00Z",
                source={"reddit_ids": ["t3_x"], "subreddits": ["news"], "score": 9, "created_utc": 1},
                status=200, content_type="text/html; charset=utf-8", body=body, body_bytes=len(body),
                warc="/w/a.warc.gz", offset=i)


def test_a_timeout_in_the_stage_is_an_extract_timeout_reject_and_counted(tmp_path):
    """The whole stage (Beam, DirectRunner): the slow page is the second of three in one WARC file,
    so all three go to the extraction child in one batch."""
    root = str(tmp_path)
    crawl = os.path.join(root, "crawl")
    link = lambda i: link_header(f"{i:016x}", f"https://gazette.example/story/{i}")  # noqa: E731
    write_warc(os.path.join(crawl, "warc", "part-00000.warc.gz"), [
        {"url": "https://gazette.example/story/1", "body": story(1), "link": link(1)},
        {"url": "https://gazette.example/story/2", "body": slow_page(), "link": link(2)},  # ~3 s of extraction
        {"url": "https://gazette.example/story/3", "body": story(3), "link": link(3)},
    ])
    cfg = Config(extract=ExtractConfig(timeout_s=0.5), num_shards=1)
    config = types.SimpleNamespace(clean=cfg, run=types.SimpleNamespace(seed=1),
                                   beam=BeamConfig(runner="direct", workers=1, direct_running_mode="in_memory"))
    out = os.path.join(root, "clean")
    os.makedirs(out)
    result = stage.run(StageContext(name="clean", config=config, out_dir=out, inputs={"crawl": crawl},
                                    work_dir=root))

    assert result.counts["in"] == 3 and result.counts["out"] == 2
    assert result.counts["dropped"] == {"extract_timeout": 1}
    assert result.stats["extraction"] == {"ok": 2, "timeout": 1}
    docs = list(read_sharded(os.path.join(out, "docs"), "docs"))
    assert sorted(d["url"] for d in docs) == ["https://gazette.example/story/1", "https://gazette.example/story/3"]
    assert [d for d in docs if d["url"].endswith("/3")][0]["text"].startswith("Day 3. ")  # the page after it
    (rej,) = list(read_sharded(os.path.join(out, "rejects"), "rejects"))
    assert (rej["url"], rej["reason"], rej["stage"], rej["text"]) == (
        "https://gazette.example/story/2", "extract_timeout", "clean", "")
    assert rej["reject"] == {"detail": "no result after 0.5 s"}
    assert rej["meta"]["bytes"] == len(slow_page())


def test_a_crashed_extraction_process_is_an_extract_failed_reject_and_counted():
    cfg = Config(extract=ExtractConfig(timeout_s=60))
    with ChildExtractor(cfg.extract) as child:
        proc = PageProcessor(cfg, child)
        stats: dict = {}
        assert proc.process(page(1, story(1)), stats)[0] == "doc"  # the child is up
        # Killed (as the kernel's OOM killer would) while on the slow page: an empty page before it
        # never reaches the child, so the slow page is the first one the child works on.
        threading.Timer(0.3, child.proc.kill).start()
        out = proc.process_many([page(2, b""), page(3, slow_page()), page(4, story(4))], stats)
        assert [(kind, rec.get("reason")) for kind, rec in out] == [
            ("reject", "empty"), ("reject", "extract_failed"), ("doc", None)]
        failed = out[1][1]
        assert failed["url"] == "https://gazette.example/story/3" and failed["stage"] == "clean"
        assert "extraction process died" in failed["reject"]["detail"]
        assert out[2][1]["text"].startswith("Day 4. ")  # the next page of the batch, in a fresh child
        assert child.starts == 2 and child.kills == 1
    assert stats["extraction"] == {"ok": 2, "crashed": 1}
    docs = [rec for kind, rec in out if kind == "doc"]
    rejects = [rec for kind, rec in out if kind == "reject"]
    assert shard_stats(docs, rejects)["dropped"] == {"empty": 1, "extract_failed": 1}  # what the stage counts


def test_a_page_over_the_memory_cap_is_an_extract_failed_reject():
    cfg = Config(extract=ExtractConfig(timeout_s=60, max_memory_mb=40))
    with ChildExtractor(cfg.extract) as child:
        proc = PageProcessor(cfg, child)
        stats: dict = {}
        out = proc.process_many([page(1, slow_page()), page(2, story(2))], stats)
        assert [(kind, rec.get("reason")) for kind, rec in out] == [("reject", "extract_failed"), ("doc", None)]
        assert "MemoryError" in out[0][1]["reject"]["detail"]
        assert child.starts == 1  # the page failed, not the child
    assert stats["extraction"] == {"error": 1, "ok": 1}
