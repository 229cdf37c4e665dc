"""The WARC writer process: everything handed over is written, a lagging writer makes the crawler
pause (bounded memory, no stuck reactor), and a dead writer is an error, not silent loss."""

import json
import os
import time

import pytest

from crawl import warc
from crawl.writer import WriterFailed, WriterProcess

from crawl_helpers import make_config, quick_fetch, run_crawl, submission, write_submissions  # noqa: F401 - make_config is a fixture
from crawl_servers import HTML, Server


def page(i, size=2000):
    link = {"id": f"{i:016x}", "url": f"http://example.org/{i}", "source": {"reddit_ids": [str(i)]}}
    return {"link": link, "url": link["url"], "status": 200, "headers": [(b"Content-Type", [b"text/html"])],
            "body": os.urandom(size), "fetched_at": time.time()}


class SlowFiles(warc.WarcFiles):
    def write(self, p):
        time.sleep(0.02)
        super().write(p)


def test_everything_handed_over_is_written_in_order(tmp_path):
    wdir, idir = str(tmp_path / "warc"), str(tmp_path / "idx")
    w = WriterProcess(lambda: SlowFiles(wdir, idir, "crawl", max_bytes=10 << 20), high_water=100_000)
    pages = [page(i, 50_000 if i % 7 else i) for i in range(40)]  # and some tiny or empty bodies
    for p in pages:
        w.put(p)  # 2 MB through a 1 MiB pipe to a slow child (no reactor: the rest blocks)
    w.close()
    assert w.exit_status == 0
    assert [e["id"] for e in warc.stored_entries(idir)] == [f"{i:016x}" for i in range(40)]
    assert os.listdir(wdir) == ["crawl-00000.warc.gz"]
    # Bodies are sent beside the pickled rest of the page: each arrives whole and in its place.
    from warcio.archiveiterator import ArchiveIterator

    with open(os.path.join(wdir, "crawl-00000.warc.gz"), "rb") as f:
        bodies = [r.content_stream().read() for r in ArchiveIterator(f) if r.rec_type == "response"]
    assert bodies == [p["body"] for p in pages]


def test_a_dead_writer_is_an_error(tmp_path):
    def broken():
        raise OSError("disk gone")

    w = WriterProcess(broken)
    time.sleep(0.3)
    with pytest.raises(WriterFailed):
        for i in range(100):
            w.put(page(i, 100_000))
        w.close()


def test_crawler_pauses_while_the_writer_lags(tmp_path, make_config):
    big = b"<html><body>" + os.urandom(450_000).hex().encode() + b"</body></html>"  # ~900 KB, incompressible

    def route(req, host, path):
        if path == "/robots.txt":
            return 404, [HTML], b""
        return 200, [HTML], big

    with Server(route) as server:
        urls = [f"http://big.site.test:{server.port}/{i}" for i in range(6)]
        dump = write_submissions(tmp_path / "RS.jsonl", [submission(str(i), u) for i, u in enumerate(urls)])
        crawl = {"submissions": [dump], "fetch": quick_fetch(), "warc": {"writer_buffer_bytes": 1}}
        cfg, record = run_crawl(make_config(crawl))
    assert record["counts"] == {"in": 6, "out": 6, "dropped": {}}
    log = json.load(open(os.path.join(cfg.run.work_dir, "crawl", "logs", "fetch-last.json")))
    assert log["writer_pauses"] > 0
