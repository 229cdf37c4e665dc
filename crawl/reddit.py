"""Reddit's JSON listings as a source of submissions, fetched by Scrapy in a process of its own.

`python -m crawl.reddit JOB.json` lists /r/<sub>/<listing>.json?limit=100&t=<time_filter>, following
`after` for up to max_pages pages, and writes each submission (`data` of each t3 child) as one JSON
line, which the link builder then reads like a dump.

- OAuth: when the environment variables named by client_id_env / client_secret_env are set, listings
  are read from oauth_base_url with an application-only token ("client_credentials" grant from
  token_url); otherwise from base_url without one (no Authorization header). `OAuthMiddleware` puts
  the token on each listing request as it is sent: it asks for one before the first listing request
  and asks again before the token's `expires_in` runs out.
- Rate limits: Reddit's budget (X-Ratelimit-Remaining / -Reset / -Used) is per client, so it is one
  budget for every request of the run (`RateBudget`). `RateLimitMiddleware`, a downloader
  middleware near the end of the chain (only the OAuth middleware comes after it), holds every listing request, of
  every listing, while at most `ratelimit_reserve` requests are left until X-Ratelimit-Reset, and
  after a 429 (or 503) until its Retry-After. Requests are also spaced by min_interval_s
  (DOWNLOAD_DELAY), and the 429 (or 5xx) itself is retried after its Retry-After, or with
  exponential back-off (crawl.fetch.middlewares.BackoffRetryMiddleware).
- A listing that fails (a private or banned subreddit) is logged and skipped; the others go on.
  A failed OAuth token request ends the run with an error.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import os
import sys
import time
from typing import Optional
from urllib.parse import urlencode

from scrapy import Request, Spider
from scrapy.exceptions import CloseSpider, IgnoreRequest
from scrapy.utils.asyncio import sleep
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

from crawl.fetch.middlewares import retry_after_seconds
from webtext import jsonl

TIME_FILTERED = {"top", "controversial"}
logger = logging.getLogger(__name__)


def listing_url(base: str, sub: str, listing: str, *, page_size: int, time_filter: str, after=None) -> str:
    params = {"limit": page_size, "raw_json": 1}
    if listing in TIME_FILTERED:
        params["t"] = time_filter
    if after:
        params["after"] = after
    return f"{base.rstrip('/')}/r/{sub}/{listing}.json?{urlencode(params)}"


def _number(value) -> Optional[float]:
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


class RateBudget:
    """Reddit's request budget, one per client, shared by every listing request of the run.

    `update` reads a response's X-Ratelimit-Remaining and X-Ratelimit-Reset (seconds to the end of
    the window), and the Retry-After of a 429/503; `wait` says how long the next request must wait:
    until the window resets while sending it would leave fewer than `reserve` requests (counting
    those sent and not answered yet), and until a Retry-After has passed. Once the reset time has
    passed the budget is unknown (a new window) until the next response tells it. Waits are capped
    at `max_pause` s. Times are time.monotonic() seconds.
    """

    def __init__(self, reserve: float = 0.0, max_pause: float = 600.0):
        self.reserve = reserve
        self.max_pause = max_pause
        self.remaining: Optional[float] = None  # as the last response said; None: unknown
        self.used: Optional[float] = None
        self.reset_at = 0.0
        self.paused_until = 0.0
        self.in_flight = 0

    def wait(self, now: float) -> float:
        wait = self.paused_until - now
        if self.remaining is not None:
            if now >= self.reset_at:
                self.remaining = None  # a new window
            elif self.remaining - self.in_flight < self.reserve + 1:
                wait = max(wait, self.reset_at - now)
        return max(wait, 0.0)

    def sent(self) -> None:
        self.in_flight += 1

    def answered(self) -> None:
        self.in_flight = max(self.in_flight - 1, 0)

    def update(self, status: int, remaining, reset, used=None, retry_after: Optional[float] = None,
               *, now: float) -> None:
        remaining, reset = _number(remaining), _number(reset)
        if remaining is not None and reset is not None:
            self.remaining = remaining
            self.used = _number(used)
            self.reset_at = now + min(max(reset, 0.0), self.max_pause)
        if status in (429, 503) and retry_after:
            self.paused_until = max(self.paused_until, now + min(retry_after, self.max_pause))


class RateLimitMiddleware:
    """Holds every listing request while Reddit's budget (`RateBudget`) says wait.

    Placed after the other downloader middlewares' process_request (DOWNLOADER_MIDDLEWARES 900), so
    the wait is right before the request is sent, and its process_response sees each response
    before the retry middleware turns a 429 into a retry. The OAuth token request is not counted.
    A stopping crawl ends the wait (the request is then dropped).
    """

    def __init__(self, crawler):
        s = crawler.settings
        self.crawler = crawler
        self.budget = RateBudget(reserve=s.getfloat("WEBTEXT_REDDIT_RESERVE"),
                                 max_pause=s.getfloat("WEBTEXT_RETRY_AFTER_MAX"))

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _stopping(self) -> bool:
        return not self.crawler.crawling or getattr(self.crawler.spider, "closing", False)

    async def process_request(self, request):
        if request.meta.get("reddit_token"):
            return None
        logged = False
        while (wait := self.budget.wait(time.monotonic())) > 0:
            if self._stopping():
                raise IgnoreRequest("the crawl is stopping")
            if not logged:
                b = self.budget
                why = (f"{b.remaining:g} requests left, {b.used or 0:g} used" if b.remaining is not None
                       else "Retry-After")
                logger.info(f"Reddit rate limit ({why}): no listing request is sent for {wait:.1f} s")
                logged = True
            await sleep(min(wait, 1.0))
        self.budget.sent()
        request.meta["reddit_budget"] = True
        return None

    def process_response(self, request, response):
        if request.meta.pop("reddit_budget", False):
            self.budget.answered()
            h = response.headers
            self.budget.update(response.status, h.get(b"X-Ratelimit-Remaining"), h.get(b"X-Ratelimit-Reset"),
                               h.get(b"X-Ratelimit-Used"), retry_after_seconds(h.get(b"Retry-After")),
                               now=time.monotonic())
        return response

    def process_exception(self, request, exception):
        if request.meta.pop("reddit_budget", False):
            self.budget.answered()
        return None


def token_lifetime(expires_in, send_delay: float) -> float:
    """Seconds a new token is used for: `expires_in` (3600 if missing) less a margin of a quarter of
    it, at most 60 s, and the send delay a request may wait after getting its token."""
    life = _number(expires_in)
    life = 3600.0 if life is None or life <= 0 else life
    return max(life - min(60.0, life / 4) - send_delay, 0.0)


class OAuthFailed(IgnoreRequest):
    """A listing request not sent for want of an OAuth token: the spider closes (oauth_failed)."""


class OAuthMiddleware:
    """Application-only OAuth: puts `Authorization: bearer <token>` on each listing request as it is
    sent, asking token_url for a token before the first one and again before it expires.

    Does nothing when the spider has no credentials (`oauth_credentials` None). Requests that
    arrive while a token is being fetched wait for that one. A failed token request fails the
    request with OAuthFailed (the spider's errback then closes the spider) and every later one.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.send_delay = crawler.settings.getfloat("DOWNLOAD_DELAY")
        self.retries = crawler.settings.getint("RETRY_TIMES")
        self.token: Optional[str] = None
        self.renew_at = 0.0
        self.failed: Optional[str] = None
        self.waiters: Optional[list] = None  # Deferreds of requests waiting for a token being fetched

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request):
        creds = getattr(self.crawler.spider, "oauth_credentials", None)
        if not creds or request.meta.get("reddit_token"):
            return None
        if self.failed is None and (self.token is None or time.monotonic() >= self.renew_at):
            await self._renew(creds)
            if self.token is None and self.failed is None:
                self.failed = "no OAuth token"
        if self.failed is not None:
            raise OAuthFailed(self.failed)
        request.headers["Authorization"] = f"bearer {self.token}"
        return None

    async def _renew(self, creds) -> None:
        if self.waiters is not None:  # a token is being fetched: wait for it
            d = Deferred()
            self.waiters.append(d)
            await maybe_deferred_to_future(d)
            return
        self.waiters = []
        try:
            await self._fetch(*creds)
        finally:
            waiters, self.waiters = self.waiters, None
            for d in waiters:
                d.callback(None)

    async def _fetch(self, token_url: str, cid: str, secret: str) -> None:
        basic = base64.b64encode(f"{cid}:{secret}".encode()).decode()
        req = Request(token_url, method="POST", body=b"grant_type=client_credentials",
                      headers={"Authorization": f"Basic {basic}",
                               "Content-Type": "application/x-www-form-urlencoded"},
                      dont_filter=True, meta={"reddit_token": True, "max_retry_times": self.retries})
        try:
            response = await self.crawler.engine.download_async(req)
        except Exception as e:
            self.failed = f"OAuth token request failed: {e!r}"
            return
        try:
            if response.status != 200:
                raise ValueError(f"HTTP {response.status}")
            data = json.loads(response.body)
            token = data["access_token"]
            if not isinstance(token, str) or not token:
                raise ValueError("no access_token")
        except (ValueError, KeyError, TypeError) as e:
            self.failed = f"OAuth token request failed: {e}"
            return
        lifetime = token_lifetime(data.get("expires_in"), self.send_delay)
        self.token, self.renew_at = token, time.monotonic() + lifetime
        logger.info(f"OAuth token received (expires_in {data.get('expires_in')}; renewed after {lifetime:.1f} s)")


def main(argv: list[str]) -> int:
    from scrapy.crawler import CrawlerProcess

    with open(argv[0], encoding="utf-8") as fh:
        job = json.load(fh)
    rc = job["reddit"]
    tmp = job["out"] + ".tmp"
    out = open(tmp, "wb")
    summary = {"listings": 0, "pages": 0, "submissions": 0, "failed": []}
    cid, secret = os.environ.get(rc["client_id_env"]), os.environ.get(rc["client_secret_env"])
    credentials = (rc["token_url"], cid, secret) if cid and secret else None

    class ListingSpider(Spider):
        name = "reddit-listings"
        oauth_credentials = credentials  # read by OAuthMiddleware
        closing = False  # read by RateLimitMiddleware

        async def start(self):
            self.base = rc["oauth_base_url"] if credentials else rc["base_url"]
            for sub in rc["subreddits"]:
                for listing in rc["listings"]:
                    summary["listings"] += 1
                    yield self.page(sub, listing, None, 1)

        def page(self, sub, listing, after, n):
            url = listing_url(self.base, sub, listing, page_size=rc["page_size"], time_filter=rc["time_filter"],
                              after=after)
            return Request(url, callback=self.on_listing, errback=self.on_listing_error,
                           dont_filter=True, cb_kwargs={"sub": sub, "listing": listing, "n": n},
                           meta={"max_retry_times": rc["retries"]})

        def on_listing(self, response, sub, listing, n):
            try:
                data = json.loads(response.body)["data"]
                children = data["children"]
            except (ValueError, KeyError, TypeError):
                summary["failed"].append(f"r/{sub}/{listing} page {n}: not a listing")
                return
            summary["pages"] += 1
            for child in children:
                if child.get("kind") == "t3" and isinstance(child.get("data"), dict):
                    out.write(jsonl.dumps(child["data"]) + b"\n")
                    summary["submissions"] += 1
            after = data.get("after")
            if after and n < rc["max_pages"]:
                yield self.page(sub, listing, after, n + 1)  # when it is sent is RateLimitMiddleware's call

        def on_listing_error(self, failure):
            if isinstance(failure.value, OAuthFailed):
                self.logger.error(str(failure.value))
                self.closing = True
                raise CloseSpider("oauth_failed")
            kw = failure.request.cb_kwargs
            summary["failed"].append(f"r/{kw['sub']}/{kw['listing']} page {kw['n']}: {failure.value!r}")

    settings = {
        "BOT_NAME": "webtext",
        "USER_AGENT": job["user_agent"],
        "ROBOTSTXT_OBEY": False,  # the API, read with a named User-Agent within its published limits
        "CONCURRENT_REQUESTS": 1,
        "DOWNLOAD_DELAY": rc["min_interval_s"],
        "DOWNLOAD_DELAY_JITTER": 0,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,  # no listening port
        "RETRY_TIMES": rc["retries"],
        "RETRY_HTTP_CODES": [429, 500, 502, 503, 504],
        "WEBTEXT_RETRY_BACKOFF": max(rc["min_interval_s"], 0.5),
        "WEBTEXT_RETRY_AFTER_MAX": 600.0,
        "WEBTEXT_REDDIT_RESERVE": rc["ratelimit_reserve"],
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawl.fetch.middlewares.BackoffRetryMiddleware": 595,
            "crawl.reddit.RateLimitMiddleware": 900,
            "crawl.reddit.OAuthMiddleware": 950,
        },
        "LOG_LEVEL": "INFO",
        "LOG_FILE": job["log_file"],
    }
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(ListingSpider)
    process.crawl(crawler)
    process.start()
    out.close()
    reason = crawler.stats.get_value("finish_reason")
    for f in summary["failed"]:
        print(f"NOTE listing failed: {f}", flush=True)
    print(f"NOTE {summary['submissions']} submissions from {summary['pages']} pages of {summary['listings']} listings",
          flush=True)
    if reason != "finished":
        print(f"reddit listings ended early: {reason}", file=sys.stderr)
        return 3 if reason == "shutdown" else 1
    os.replace(tmp, job["out"])
    jsonl.write_json(os.path.join(os.path.dirname(job["out"]), "done.json"), summary)
    return 0


if __name__ == "__main__":
    # Run as crawl.reddit, not __main__: Scrapy loads the middlewares from crawl.reddit, and the
    # spider must see the same classes (OAuthFailed).
    from crawl.reddit import main as _main

    sys.exit(_main(sys.argv[1:]))
