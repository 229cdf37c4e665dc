"""Downloader middlewares: the safety check on every request and redirect, retries with back-off,
robots.txt checked for every request, and two of Scrapy's with their memory bounded (meta refresh
without decoding the whole body, decompression that lets go of a bomb at once)."""

from __future__ import annotations

import random
import time
from email.utils import parsedate_to_datetime
from typing import Optional
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware as _ScrapyHttpCompressionMiddleware
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware as _ScrapyMetaRefreshMiddleware
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as _ScrapyRobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse
from scrapy.utils.asyncio import sleep
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import load_object
from twisted.internet.defer import Deferred

from crawl.fetch.resolver import BLOCKED
from crawl.safety import AddressPolicy


class Refused(IgnoreRequest):
    """A request the crawler will not send; carries the failure reason."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.webtext_reason = reason


class SafetyMiddleware:
    """Refuses non-http(s) URLs and refused addresses before a request (or a redirect) is sent.

    Resolved addresses are checked again at connection time by crawl.fetch.resolver.SafeResolver.
    """

    # Hosts whose verdict is kept (cleared when full): ~190 bytes a host, 1.9 MB in all; a miss
    # costs ~6 us (check_url).
    CACHE_SIZE = 10_000

    def __init__(self, policy: AddressPolicy):
        self.policy = policy
        self.verdicts: dict = {}  # (scheme, netloc) -> check_url's verdict, which depends on nothing else

    @classmethod
    def from_crawler(cls, crawler):
        return cls(AddressPolicy(**crawler.settings.getdict("WEBTEXT_ADDRESS_POLICY")))

    def process_request(self, request):
        url = request.url
        scheme, _, rest = url.partition("://")
        netloc = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
        key = (scheme, netloc)
        problem = self.verdicts.get(key, False)
        if problem is False:
            problem = self.policy.check_url(url)
            if len(self.verdicts) >= self.CACHE_SIZE:
                self.verdicts.clear()
            self.verdicts[key] = problem
        if problem:
            raise Refused(*problem)
        if BLOCKED:
            host = (urlsplit(url).hostname or "").lower()
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
    up: failure "retry_after"), else exponential back-off with jitter: base * 2**try. The response
    (or error) waits in this middleware before its retry is handed back: it holds one of the
    crawl's concurrent_requests meanwhile, but not its host's download slot. There is no
    process_request: requests that are never retried pay nothing here.
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

    def process_response(self, request, response):
        # Placed before HttpCompressionMiddleware (see run.py): a response that is retried is never
        # decompressed, and the Content-Encoding it came with is still there to be remembered.
        enc = response.headers.getlist(b"Content-Encoding")
        if enc:
            request.meta["webtext_content_encoding"] = ",".join(e.decode("latin-1") for e in enc)
        if request.meta.get("dont_retry") or response.status not in self.codes:
            return response
        new, wait = self.plan(request, f"http_{response.status}", response.headers.get(b"Retry-After"))
        return self.after(wait, new) if new is not None else response

    def process_exception(self, request, exception):
        if request.meta.get("dont_retry") or not isinstance(exception, self.exceptions):
            return None
        if getattr(exception, "webtext_reason", None) or getattr(exception.__cause__, "webtext_reason", None):
            return None  # a refusal is final
        host = (urlsplit(request.url).hostname or "").lower()
        if host in BLOCKED:
            return None
        new, wait = self.plan(request, type(exception).__name__)
        return self.after(wait, new) if new is not None else None

    @staticmethod
    async def after(wait: float, request):
        if wait > 0:
            await sleep(wait)
        return request

    def plan(self, request, reason: str, retry_after: Optional[bytes] = None):
        """(retry request, seconds to wait first), or (None, 0) when retries are spent or the server
        asks for a longer wait than retry_after_max_s (then request.meta["webtext_retry_after"])."""
        tries = request.meta.get("retry_times", 0)
        wait = retry_after_seconds(retry_after)
        if wait is not None and wait > self.max_after:
            request.meta["webtext_retry_after"] = wait
            return None, 0.0
        if wait is None:
            wait = self.base * (2 ** tries) * random.uniform(0.75, 1.25)
        new = get_retry_request(request, spider=self.crawler.spider, reason=reason,
                                max_retry_times=request.meta.get("max_retry_times", self.max_retry_times))
        return new, wait


class RobotsTxtMiddleware(_ScrapyRobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, with every request waiting for a robots.txt in flight.

    Scrapy 2.19 makes each request that arrives while its host's robots.txt is downloading await
    the same Deferred through maybe_deferred_to_future(); that adds a callback which returns None,
    so only the first waiter receives the parser and the others are let through unchecked (a
    disallowed page gets fetched). Here each waiter gets its own Deferred, relayed from the shared
    one without consuming its result.
    """

    async def robot_parser(self, request):
        parser = self._parsers.get(urlparse_cached(request).netloc)
        if isinstance(parser, Deferred):
            mine: Deferred = Deferred()

            def relay(result):
                mine.callback(result)
                return result  # for the next waiter

            parser.addCallback(relay)
            return await maybe_deferred_to_future(mine)
        return await super().robot_parser(request)


# response.meta key of a body cut at max_bytes during decompression: the detail of its "too_large".
TOO_LARGE_DECODED = "webtext_too_large_decoded"


class HttpCompressionMiddleware(_ScrapyHttpCompressionMiddleware):
    """Scrapy's, except that a body over max_bytes after decompression comes back as an empty
    response marked with meta[TOO_LARGE_DECODED] (the spider records "too_large"), not as an
    IgnoreRequest.

    Raised, that error travels as a Twisted Failure whose traceback and frames form reference cycles
    holding the decompression buffer (max_bytes) and the compressed body. Only a full run of Python's
    cycle collector frees them, and it runs rarely in a process with Scrapy's many long-lived
    objects: a crawl of 1200 gzip bombs (max_bytes 1 MB) grew by 233 MB. Caught here, the error
    and its frames are freed as soon as this method returns.
    """

    def process_response(self, request, response):
        try:
            return super().process_response(request, response)
        except IgnoreRequest as e:  # Scrapy raises it only for a body over max_bytes
            detail = str(e)
        request.meta[TOO_LARGE_DECODED] = detail
        return response.replace(body=b"")


class MetaRefreshMiddleware(_ScrapyMetaRefreshMiddleware):
    """Scrapy's, looking for <meta http-equiv="refresh"> in the head of the body only.

    Scrapy's reads response.text[:4096], and response.text decodes the whole body and keeps the
    text on the response for as long as the response lives: every HTML page was held twice (as a
    str of 1, 2 or 4 bytes a character), and decoded once for nothing. Measured: with 64 requests
    in flight on 1 MB pages, 57 such texts (55 MB) beside their 58 bodies (56 MB). Here the same
    first 4096 characters are decoded from a response holding the first HEAD bytes.
    """

    HEAD = 16 << 10  # 4096 characters take at most 16 KiB in any encoding (UTF-32: 4 bytes each)

    def process_response(self, request, response):
        if not isinstance(response, HtmlResponse) or len(response.body) <= self.HEAD:
            return super().process_response(request, response)
        head = response.replace(body=response.body[:self.HEAD])
        result = super().process_response(request, head)
        return response if result is head else result
