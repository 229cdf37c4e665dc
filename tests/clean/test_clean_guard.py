"""The extraction child process: a page that hangs, crashes or eats memory costs that page only."""

import threading
import time

from cleanwarc import article_html, slow_page

from clean.config import ExtractConfig
from clean.guard import ChildExtractor, InProcessExtractor

GOOD = article_html().encode()


def test_same_result_as_in_process():
    cfg = ExtractConfig()
    with ChildExtractor(cfg) as child:
        a = child.extract(GOOD, "https://gazette.example/storm", "text/html", None)
    b = InProcessExtractor(cfg).extract(GOOD, "https://gazette.example/storm", "text/html", None)
    assert a.status == b.status == "ok" and a.result == b.result


def test_a_page_over_the_time_limit_is_stopped_and_the_next_page_works():
    with ChildExtractor(ExtractConfig(timeout_s=0.3)) as child:
        assert child.extract(GOOD, None, "text/html", None).status == "ok"
        started = time.monotonic()
        out = child.extract(slow_page(), None, "text/html", None)
        assert out.status == "timeout" and "0.3 s" in out.detail
        assert time.monotonic() - started < 3
        assert child.kills == 1
        assert child.extract(GOOD, None, "text/html", None).status == "ok"
        assert child.starts == 2


def test_a_batch_with_a_hanging_page_in_the_middle():
    with ChildExtractor(ExtractConfig(timeout_s=0.5)) as child:
        requests = [(GOOD, None, "text/html", None), (slow_page(), None, "text/html", None),
                    (GOOD, None, "text/html", None), (b"", None, "text/html", None), (GOOD, None, "text/html", None)]
        out = child.extract_many(requests)
        assert [o.status for o in out] == ["ok", "timeout", "ok", "none", "ok"]
        assert child.kills == 1 and child.starts == 2
        assert out[0].result == out[2].result == out[4].result


def test_a_child_that_dies_costs_only_its_page():
    with ChildExtractor(ExtractConfig(timeout_s=60)) as child:
        assert child.extract(GOOD, None, "text/html", None).status == "ok"
        proc = child.proc
        threading.Timer(0.3, proc.kill).start()  # as the kernel's OOM killer would
        out = child.extract(slow_page(), None, "text/html", None)
        assert out.status == "crashed" and "died" in out.detail
        assert child.extract(GOOD, None, "text/html", None).status == "ok"
        child.proc.kill()  # dead between pages: the next page is not blamed
        child.proc.wait()
        assert child.extract(GOOD, None, "text/html", None).status == "ok"


def test_memory_cap_fails_the_page_not_the_child():
    with ChildExtractor(ExtractConfig(max_memory_mb=40, timeout_s=60)) as child:
        out = child.extract(slow_page(), None, "text/html", None)
        assert out.status == "error" and "MemoryError" in out.detail
        assert child.extract(GOOD, None, "text/html", None).status == "ok" and child.starts == 1


def test_deep_nesting_does_not_hang():
    deep = ("<html><body>" + "<div>" * 100_000 + "<p>deep</p>" + "</div>" * 100_000 + "</body></html>").encode()
    with ChildExtractor(ExtractConfig(timeout_s=30)) as child:
        out = child.extract(deep, None, "text/html", None)
        assert out.status in ("none", "ok", "error")
        assert child.extract(GOOD, None, "text/html", None).status == "ok"
