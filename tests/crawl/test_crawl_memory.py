"""The crawl process's memory: measured as its own, and held within the bound crawl/README.md documents
(no gzip bomb kept alive in reference cycles, no page decoded and kept whole for a meta-refresh check)."""

import json
import os
import subprocess
import sys
import textwrap
import tracemalloc

from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawl.fetch.memory import bound_bytes
from crawl.fetch.middlewares import MetaRefreshMiddleware

from crawl_helpers import make_config, quick_fetch, run_crawl, submission, write_submissions  # noqa: F401 - make_config is a fixture
from crawl_servers import HTML, Server, gzip_bomb


def test_peak_rss_is_the_crawl_process_own():
    # A parent holding 300 MB starts a child the way crawl/stage.py starts Scrapy (fork+exec, with a
    # preexec_fn): the child's ru_maxrss starts at the parent's size, its VmHWM does not.
    parent = textwrap.dedent("""
        import json, resource, subprocess, sys
        big = bytearray(300_000_000)
        big[::4096] = b"x" * len(big[::4096])
        child = ("import json, resource; from crawl.fetch.memory import rss_bytes; "
                 "print(json.dumps([rss_bytes()[1], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024]))")
        out = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True,
                             preexec_fn=lambda: None).stdout
        print(out)
    """)
    out = subprocess.run([sys.executable, "-c", parent], capture_output=True, text=True, check=True,
                         env=dict(os.environ)).stdout
    own_peak, maxrss = json.loads(out)
    assert maxrss > 300_000_000  # what the crawl used to report as its peak
    assert own_peak < 100_000_000


def test_meta_refresh_is_read_from_the_head_of_a_page():
    mw = MetaRefreshMiddleware.from_crawler(get_crawler(settings_dict={"METAREFRESH_ENABLED": True}))
    filler = b"<p>" + b"word " * 400_000 + b"</p>"  # 2 MB
    page = HtmlResponse("http://a.test/", body=b"<html><head><title>t</title></head><body>" + filler + b"</body></html>",
                        headers={"Content-Type": "text/html; charset=utf-8"})
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = mw.process_response(Request("http://a.test/"), page)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert result is page
    # Scrapy's own decodes the whole body into response.text (2 MB) and keeps it on the response.
    assert peak < 200_000, peak

    moved = HtmlResponse("http://a.test/old", headers={"Content-Type": "text/html"},
                         body=b'<html><head><meta http-equiv="refresh" content="0; url=/new"></head><body>'
                              + filler + b"</body></html>")
    redirected = mw.process_response(Request("http://a.test/old"), moved)
    assert isinstance(redirected, Request) and redirected.url == "http://a.test/new"


def test_many_gzip_bombs_stay_within_the_bound(tmp_path, make_config):
    # Each bomb decompresses past max_bytes. Raised as an error (Scrapy's middleware), that kept its
    # 1 MB decompression buffer in reference cycles until a full garbage collection: these 200 bombs
    # took the crawl 89-98 MB over its RSS at open, twice this bound's 43 MB margin.
    def route(req, host, path):
        if path == "/robots.txt":
            return 404, [HTML], b""
        return 200, [HTML, ("Content-Encoding", "gzip")], gzip_bomb()

    with Server(route) as server:
        urls = [f"http://b{i % 4}.site.test:{server.port}/bomb/{i}" for i in range(200)]
        dump = write_submissions(tmp_path / "RS.jsonl", [submission(str(i), u) for i, u in enumerate(urls)])
        crawl = {"submissions": [dump], "fetch": quick_fetch(), "warc": {"writer_buffer_bytes": 1}}
        cfg, record = run_crawl(make_config(crawl))
    assert record["counts"] == {"in": 200, "out": 0, "dropped": {"too_large": 200}}
    log = json.load(open(os.path.join(cfg.run.work_dir, "crawl", "logs", "fetch-last.json")))
    assert abs(log["rss_bound_mb"] - log["rss_at_open_mb"] - bound_bytes(16, 1_000_000, 1) / 1e6) < 0.2
    assert log["peak_rss_mb"] <= log["rss_bound_mb"], log
