"""The spider: one request per pending link; each ends stored (WARC) or as one failure record.

Start requests are produced lazily from the link list on disk (the scheduler holds at most a batch of
concurrent_requests more than the downloader can take), with dont_filter=True: links are already unique, and a request silently
dropped by Scrapy's dupefilter (a redirect back to a URL seen before) would be a link lost without a
trace. Every link in flight is tracked until its outcome is recorded; if the crawl finishes with any
left (it should not), they are recorded as failures "lost", so nothing disappears.
"""

from __future__ import annotations

import json
import sys
import time
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.exceptions import CloseSpider, StopDownload
from scrapy.utils.asyncio import sleep
from twisted.internet import task

from crawl.fetch.memory import rss_bytes
from crawl.fetch.middlewares import TOO_LARGE_DECODED, BackoffRetryMiddleware
from crawl.fetch.resolver import BLOCKED
from crawl.outcomes import classify_exception, failure_record, is_html
from crawl.writer import WriterFailed


def _pending(engine) -> int:
    try:
        return len(engine.scheduler)
    except TypeError:  # a scheduler without a length: be lazy one request at a time
        return 1 << 30


def _cpu_seconds() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class LinkSpider(Spider):
    name = "webtext"

    def __init__(self, ledger, links_dir: str, content_types, log_interval_s: float = 10.0, batch: int = 64,
                 **kwargs):
        super().__init__(**kwargs)
        self.batch = batch  # start requests the scheduler may hold ahead of the downloader
        self.ledger = ledger
        self.links_dir = links_dir
        self.content_types = tuple(t.lower() for t in content_types)
        self.in_flight: dict[str, dict] = {}
        self.log_interval_s = log_interval_s
        self.started = time.monotonic()
        self._ticker = None
        self._resume_check = None
        self._paused = False
        self.writer_pauses = 0

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_headers, signal=signals.headers_received)
        crawler.signals.connect(spider.on_opened, signal=signals.spider_opened)
        return spider

    # -- requests -----------------------------------------------------------------------------

    async def start(self):
        engine = self.crawler.engine
        for link in self.ledger.pending(self.links_dir):
            while self.ledger.backlogged():
                await sleep(0.05)
            # Lazy, in batches: wait for room only once the scheduler holds a batch already (waiting
            # for every single link would cost a signal round trip per request).
            if engine.needs_backout() and _pending(engine) >= self.batch:
                await self.crawler.signals.wait_for(signals.scheduler_empty)
            self.in_flight[link["id"]] = link
            yield Request(link["url"], callback=self.on_page, errback=self.on_error, dont_filter=True,
                          meta={"link": link})

    def on_headers(self, headers, body_length, request, spider=None):
        """Stop downloading a non-HTML body as soon as its headers say so (a redirect goes on)."""
        if "link" not in request.meta or b"Location" in headers:
            return
        ctype = headers.get(b"Content-Type")
        if ctype is not None and not is_html(ctype.decode("latin-1"), self.content_types)[0]:
            raise StopDownload(fail=True)

    # -- outcomes -----------------------------------------------------------------------------

    def on_page(self, response):
        link = response.meta["link"]
        if TOO_LARGE_DECODED in response.meta:  # cut during decompression (see HttpCompressionMiddleware)
            self._fail(link, "too_large", response.meta[TOO_LARGE_DECODED])
            return
        ctype = response.headers.get(b"Content-Type")
        ok, media = is_html(ctype.decode("latin-1") if ctype else None, self.content_types, response.body[:1024])
        if not ok:
            self._fail(link, "content_type", media, response.status)
            return
        req = response.request
        meta = response.meta
        # Handed to the WARC writer process as they are; it does the formatting (crawl.warc).
        page = {
            "link": link, "url": response.url, "status": response.status, "protocol": response.protocol,
            "headers": list(response.headers.items()), "body": response.body, "method": req.method,
            "request_headers": list(req.headers.items()),
            "ip": str(response.ip_address) if response.ip_address is not None else None,
            "fetched_at": time.time(), "redirects": meta.get("redirect_urls"),
            "content_encoding": meta.get("webtext_content_encoding"), "latency": meta.get("download_latency"),
        }
        try:
            self.ledger.store(page)
        except WriterFailed as e:  # nothing more can be stored: stop; the link stays pending for a rerun
            self.logger.error(str(e))
            raise CloseSpider("warc_writer_failed") from e
        self.in_flight.pop(link["id"], None)
        if not self._paused and self.ledger.backlogged():
            self._paused = True  # the WARC writer is far behind: take no new requests until it catches up
            self.writer_pauses += 1
            self.crawler.engine.pause()
            self._resume_check = task.LoopingCall(self._resume_when_caught_up)
            self._resume_check.start(0.05, now=False)

    def _resume_when_caught_up(self) -> None:
        if not self.ledger.backlogged():
            self._paused = False
            self._resume_check.stop()
            engine = self.crawler.engine
            engine.unpause()
            # unpause() only clears a flag; without a nudge the engine waits for its 5 s heartbeat.
            slot = getattr(engine, "_slot", None)
            if slot is not None and getattr(slot, "nextcall", None) is not None:
                slot.nextcall.schedule()

    async def on_error(self, failure):
        request = failure.request
        link = request.meta["link"]
        if not self.crawler.engine.running:
            return  # shutting down: not an outcome; the link is tried again on resume
        exc = failure.value
        if TOO_LARGE_DECODED in request.meta:  # an error status, with a body cut during decompression
            self._fail(link, "too_large", request.meta[TOO_LARGE_DECODED])
            return
        if isinstance(exc, StopDownload):
            response = exc.response
            status = response.status
            if 200 <= status < 300:
                ctype = response.headers.get(b"Content-Type", b"").decode("latin-1")
                self._fail(link, "content_type", ctype.split(";")[0].strip().lower(), status)
                return
            retry = self.crawler.get_downloader_middleware(BackoffRetryMiddleware)
            if retry and status in retry.codes:  # a 429/5xx with a non-HTML body: retried from here
                again, wait = retry.plan(request, f"http_{status}", response.headers.get(b"Retry-After"))
                if again is not None:
                    return [await retry.after(wait, again)]
            self._fail(link, self._http_reason(request, status), f"HTTP {status}", status)
            return
        reason, detail = classify_exception(exc)
        response = getattr(exc, "response", None)
        status = response.status if response is not None else None
        if reason.startswith("http_"):
            reason = self._http_reason(request, status)
            location = response.headers.get(b"Location") if 300 <= status < 400 else None
            if location:  # a redirect Scrapy would not follow: to another scheme (ftp:, javascript:, ...)
                reason, detail = "scheme", f"redirect to {location.decode('latin-1')[:200]}"
        elif reason == "dns":
            host = (urlsplit(request.url).hostname or "").lower()
            if host in BLOCKED:
                reason, detail = "private_address", f"{host} resolves to a refused {BLOCKED[host]}"
        if request.url != link["url"]:
            detail = f"{detail} (at {request.url})"
        self._fail(link, reason, detail, status)

    @staticmethod
    def _http_reason(request, status) -> str:
        return "retry_after" if status == 429 and request.meta.get("webtext_retry_after") else f"http_{status}"

    def _fail(self, link: dict, reason: str, detail: str, status=None) -> None:
        self.ledger.fail(failure_record(link, reason, detail, status))
        self.in_flight.pop(link["id"], None)

    # -- lifecycle ----------------------------------------------------------------------------

    def on_opened(self, spider):
        self.cpu_at_open = _cpu_seconds()
        self.rss_at_open = rss_bytes()[0]  # the baseline of the memory bound (crawl.fetch.memory)
        self._ticker = task.LoopingCall(self._tick)
        self._ticker.start(1.0, now=False)

    def _tick(self) -> None:
        self.ledger.sync()
        now = time.monotonic()
        if now - getattr(self, "_last_report", self.started) >= self.log_interval_s:
            self._last_report = now
            self.report()

    def report(self, final: bool = False) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        line = {"stored": self.ledger.stored, "failed": self.ledger.failed, "in_flight": len(self.in_flight),
                "stored_before": self.ledger.stored_before, "failed_before": self.ledger.failed_before,
                "pages_per_s": round(self.ledger.stored / elapsed, 1), "final": final}
        print("PROGRESS " + json.dumps(line), flush=True)
        sys.stdout.flush()

    def closed(self, reason: str) -> None:
        if self._resume_check is not None and self._resume_check.running:
            self._resume_check.stop()
        self.crawl_cpu_s = _cpu_seconds() - getattr(self, "cpu_at_open", 0.0)
        if self._ticker is not None and self._ticker.running:
            self._ticker.stop()
        if reason == "finished":
            for link in list(self.in_flight.values()):
                self._fail(link, "lost", "the crawl finished without an outcome for this link")
        self.ledger.sync()
        self.report(final=True)
