"""Downloader middlewares: the safety check on every request and redirect, retries with back-off."""

from __future__ import annotations

import random
import time
from email.utils import parsedate_to_datetime
from typing import Optional
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.asyncio import sleep
from scrapy.utils.misc import load_object

from crawl.fetch.resolver import BLOCKED
from crawl.safety import AddressPolicy

RETRY_AT = "webtext_retry_at"  # request.meta: monotonic time before which a retry is not sent


class Refused(IgnoreRequest):
    """A request the crawler will not send; carries the failure reason."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.webtext_reason = reason


class SafetyMiddleware:
    """Refuses non-http(s) URLs and refused addresses before a request (or a redirect) is sent.

    Resolved addresses are checked again at connection time by crawl.fetch.resolver.SafeResolver.
    """

    def __init__(self, policy: AddressPolicy):
        self.policy = policy

    @classmethod
    def from_crawler(cls, crawler):
        return cls(AddressPolicy(**crawler.settings.getdict("WEBTEXT_ADDRESS_POLICY")))

    def process_request(self, request):
        problem = self.policy.check_url(request.url)
        if problem:
            raise Refused(*problem)
        host = (urlsplit(request.url).hostname or "").lower()
        if host in BLOCKED:  # resolved before to a refused address: do not even try
            raise Refused("private_address", f"{host} resolves to a refused {BLOCKED[host]}")
        return None


def retry_after_seconds(value: Optional[bytes], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


class BackoffRetryMiddleware:
    """Retries 429/5xx responses and transient errors, waiting between tries.

    The wait is Retry-After when the server sends one (a wait longer than retry_after_max_s gives
    up: failure "retry_after"), else exponential back-off with jitter: base * 2**try. The retried
    request waits in process_request, so it holds no per-host download slot while it waits.
    """

    def __init__(self, crawler):
        s = crawler.settings
        self.crawler = crawler
        self.max_retry_times = s.getint("RETRY_TIMES")
        self.codes = {int(x) for x in s.getlist("RETRY_HTTP_CODES")}
        self.exceptions = tuple(load_object(x) if isinstance(x, str) else x for x in s.getlist("RETRY_EXCEPTIONS"))
        self.base = s.getfloat("WEBTEXT_RETRY_BACKOFF")
        self.max_after = s.getfloat("WEBTEXT_RETRY_AFTER_MAX")

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request):
        at = request.meta.get(RETRY_AT)
        if at is not None:
            wait = at - time.monotonic()
            if wait > 0:
                await sleep(wait)
        return None

    def process_response(self, request, response):
        if request.meta.get("dont_retry") or response.status not in self.codes:
            return response
        return self.retry(request, f"http_{response.status}", response.headers.get(b"Retry-After")) or response

    def process_exception(self, request, exception):
        if request.meta.get("dont_retry") or not isinstance(exception, self.exceptions):
            return None
        if getattr(exception, "webtext_reason", None) or getattr(exception.__cause__, "webtext_reason", None):
            return None  # a refusal is final
        host = (urlsplit(request.url).hostname or "").lower()
        if host in BLOCKED:
            return None
        return self.retry(request, type(exception).__name__)

    def retry(self, request, reason: str, retry_after: Optional[bytes] = None):
        """The retry request (scheduled to wait), or None when retries are spent or the wait is too long."""
        tries = request.meta.get("retry_times", 0)
        wait = retry_after_seconds(retry_after)
        if wait is not None and wait > self.max_after:
            request.meta["webtext_retry_after"] = wait
            return None
        if wait is None:
            wait = self.base * (2 ** tries) * random.uniform(0.75, 1.25)
        new = get_retry_request(request, spider=self.crawler.spider, reason=reason,
                                max_retry_times=request.meta.get("max_retry_times", self.max_retry_times))
        if new is not None:
            new.meta[RETRY_AT] = time.monotonic() + wait
        return new


class ContentEncodingRecorder:
    """Remembers a response's Content-Encoding before HttpCompressionMiddleware decodes the body and
    drops the header (the WARC stores the decoded body; the metadata record says how it came)."""

    def process_response(self, request, response):
        enc = response.headers.getlist(b"Content-Encoding")
        if enc:
            request.meta["webtext_content_encoding"] = ",".join(e.decode("latin-1") for e in enc)
        return response
