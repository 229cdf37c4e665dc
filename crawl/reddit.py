"""Reddit's JSON listings as a source of submissions, fetched by Scrapy in a process of its own.

`python -m crawl.reddit JOB.json` lists /r/<sub>/<listing>.json?limit=100&t=<time_filter>, following
`after` for up to max_pages pages, and writes each submission (`data` of each t3 child) as one JSON
line, which the link builder then reads like a dump.

- OAuth: when the environment variables named by client_id_env / client_secret_env are set, an
  application-only token is requested from token_url ("client_credentials" grant) and listings are
  read from oauth_base_url with it; otherwise from base_url without one.
- Rate limits: requests are spaced by min_interval_s; when X-Ratelimit-Remaining runs out, the next
  page waits X-Ratelimit-Reset seconds; a 429 (or 5xx) is retried after its Retry-After, or with
  exponential back-off (crawl.fetch.middlewares.BackoffRetryMiddleware).
- A listing that fails (a private or banned subreddit) is logged and skipped; the others go on.
  A failed OAuth token request ends the run with an error.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from urllib.parse import urlencode

from webtext import jsonl

TIME_FILTERED = {"top", "controversial"}


def listing_url(base: str, sub: str, listing: str, *, page_size: int, time_filter: str, after=None) -> str:
    params = {"limit": page_size, "raw_json": 1}
    if listing in TIME_FILTERED:
        params["t"] = time_filter
    if after:
        params["after"] = after
    return f"{base.rstrip('/')}/r/{sub}/{listing}.json?{urlencode(params)}"


def ratelimit_wait(headers: dict) -> float:
    """Seconds to wait before the next request, from Reddit's X-Ratelimit-* headers (0 if none needed)."""
    try:
        remaining = float(headers.get("x-ratelimit-remaining", "nan"))
        reset = float(headers.get("x-ratelimit-reset", "0"))
    except ValueError:
        return 0.0
    return max(reset, 0.0) if remaining == remaining and remaining < 1 else 0.0


def main(argv: list[str]) -> int:
    from scrapy import Request, Spider
    from scrapy.crawler import CrawlerProcess
    from scrapy.exceptions import CloseSpider

    from scrapy.utils.asyncio import sleep

    with open(argv[0], encoding="utf-8") as fh:
        job = json.load(fh)
    rc = job["reddit"]
    tmp = job["out"] + ".tmp"
    out = open(tmp, "wb")
    summary = {"listings": 0, "pages": 0, "submissions": 0, "failed": []}

    class ListingSpider(Spider):
        name = "reddit-listings"

        async def start(self):
            cid, secret = os.environ.get(rc["client_id_env"]), os.environ.get(rc["client_secret_env"])
            self.auth = {}
            if cid and secret:
                basic = base64.b64encode(f"{cid}:{secret}".encode()).decode()
                yield Request(rc["token_url"], method="POST", body=b"grant_type=client_credentials",
                              headers={"Authorization": f"Basic {basic}",
                                       "Content-Type": "application/x-www-form-urlencoded"},
                              callback=self.on_token, errback=self.on_token_error, dont_filter=True)
                return
            self.base = rc["base_url"]
            for req in self.first_pages():
                yield req

        def first_pages(self):
            for sub in rc["subreddits"]:
                for listing in rc["listings"]:
                    summary["listings"] += 1
                    yield self.page(sub, listing, None, 1)

        def page(self, sub, listing, after, n):
            url = listing_url(self.base, sub, listing, page_size=rc["page_size"], time_filter=rc["time_filter"],
                              after=after)
            return Request(url, headers=self.auth, callback=self.on_listing, errback=self.on_listing_error,
                           dont_filter=True, cb_kwargs={"sub": sub, "listing": listing, "n": n},
                           meta={"max_retry_times": rc["retries"]})

        def on_token(self, response):
            try:
                token = json.loads(response.body)["access_token"]
            except (ValueError, KeyError):
                raise CloseSpider("oauth_failed") from None
            self.auth = {"Authorization": f"bearer {token}"}
            self.base = rc["oauth_base_url"]
            yield from self.first_pages()

        def on_token_error(self, failure):
            self.logger.error(f"OAuth token request failed: {failure.value!r}")
            raise CloseSpider("oauth_failed")

        async def on_listing(self, response, sub, listing, n):
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
                headers = {k.decode().lower(): v[0].decode("latin-1") for k, v in response.headers.items() if v}
                wait = ratelimit_wait(headers)
                if wait:  # the rate-limit window is used up: wait for its reset
                    await sleep(wait)
                yield self.page(sub, listing, after, n + 1)

        def on_listing_error(self, failure):
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
        "RETRY_TIMES": rc["retries"],
        "RETRY_HTTP_CODES": [429, 500, 502, 503, 504],
        "WEBTEXT_RETRY_BACKOFF": max(rc["min_interval_s"], 0.5),
        "WEBTEXT_RETRY_AFTER_MAX": 600.0,
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawl.fetch.middlewares.BackoffRetryMiddleware": 595,
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
    sys.exit(main(sys.argv[1:]))
