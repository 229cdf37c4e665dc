"""Entry point of the crawl's Scrapy process: `python -m crawl.fetch.run JOB.json`.

The job file (written by crawl/stage.py) names the folders and holds the crawl block of the config.
Exit status: 0 when every pending link has an outcome, 3 when the crawl was stopped before that
(SIGTERM/SIGINT: the work done so far is kept and a rerun resumes), 4 when another crawl process
holds the state folder, 1 when it ended otherwise (e.g. the WARC writer failed; a rerun resumes). Progress lines go to stdout as `PROGRESS {json}`;
Scrapy's log goes to the job's log file.
"""

from __future__ import annotations

import fcntl
import json
import os
import resource
import sys
import time

EXIT_FINISHED, EXIT_STOPPED, EXIT_LOCKED = 0, 3, 4


def scrapy_settings(cfg, job: dict) -> dict:
    """Scrapy settings from the crawl block (cfg: crawl.config.Config)."""
    f = cfg.fetch
    return {
        "BOT_NAME": "webtext",
        "USER_AGENT": f.user_agent,
        "ROBOTSTXT_OBEY": f.obey_robots,
        "CONCURRENT_REQUESTS": f.concurrent_requests,
        "CONCURRENT_REQUESTS_PER_DOMAIN": f.per_domain_concurrency,
        "DOWNLOAD_DELAY": f.download_delay_s,
        "AUTOTHROTTLE_ENABLED": f.autothrottle,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": f.autothrottle_target_concurrency,
        "AUTOTHROTTLE_MAX_DELAY": f.autothrottle_max_delay_s,
        "AUTOTHROTTLE_START_DELAY": max(f.download_delay_s, 1.0),
        "DOWNLOAD_TIMEOUT": f.timeout_s,
        "DNS_TIMEOUT": f.dns_timeout_s,
        "DOWNLOAD_MAXSIZE": f.max_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "REDIRECT_MAX_TIMES": f.max_redirects,
        "RETRY_TIMES": f.retries,
        # Scrapy's list without DNS failures: a dead domain (common among old links) stays dead.
        "RETRY_EXCEPTIONS": [
            "scrapy.exceptions.DownloadConnectionRefusedError", "scrapy.exceptions.DownloadFailedError",
            "scrapy.exceptions.DownloadTimeoutError", "scrapy.exceptions.ResponseDataLossError",
            "twisted.internet.error.ConnectionDone", "twisted.internet.error.ConnectError",
            "twisted.internet.error.ConnectionLost", "scrapy.core.downloader.handlers.http11.TunnelError",
        ],
        "WEBTEXT_RETRY_BACKOFF": f.retry_backoff_s,
        "WEBTEXT_RETRY_AFTER_MAX": f.retry_after_max_s,
        "WEBTEXT_ADDRESS_POLICY": {"allow_private": f.allow_private_networks, "allowed_networks": f.allowed_networks,
                                   "resolve": f.resolve},
        "TWISTED_DNS_RESOLVER": "crawl.fetch.resolver.SafeResolver",
        "REACTOR_THREADPOOL_MAXSIZE": 20,
        # Callbacks yield no items (pages go straight to the WARC writer); Scrapy would otherwise start
        # CONCURRENT_ITEMS (100) asyncio tasks to process each callback's empty output.
        "CONCURRENT_ITEMS": 1,
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
            "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
            "crawl.fetch.middlewares.RobotsTxtMiddleware": 100,  # Scrapy's, with a fix (see there)
            "crawl.fetch.middlewares.SafetyMiddleware": 50,
            # Between RedirectMiddleware (600) and HttpCompressionMiddleware (590): see process_response.
            "crawl.fetch.middlewares.BackoffRetryMiddleware": 595,
            # Scrapy's two, with their memory bounded (see there): meta refresh without decoding
            # every page, decompression that does not keep a gzip bomb's buffer in reference cycles.
            "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
            "crawl.fetch.middlewares.MetaRefreshMiddleware": 580,
            "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
            "crawl.fetch.middlewares.HttpCompressionMiddleware": 590,
        },
        # Links are independent pages: no cookies, referers, proxies from the environment, depth or
        # URL-length filtering (a filtered start request would vanish without an outcome).
        "COOKIES_ENABLED": False,
        "REFERER_ENABLED": False,
        "HTTPPROXY_ENABLED": False,
        "URLLENGTH_LIMIT": 0,
        "DEPTH_LIMIT": 0,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,  # no listening port in a crawler of untrusted links
        "LOG_LEVEL": "INFO",
        "LOG_FILE": job["log_file"],
        "LOGSTATS_INTERVAL": 60.0,
    }


def _lock(path: str, wait_s: float = 60.0):
    """Hold the state folder alone; wait a little for a crawl process that is still shutting down."""
    f = open(path, "w")
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return f
        except BlockingIOError:
            if time.monotonic() > deadline:
                return None
            time.sleep(0.2)


def main(argv: list[str]) -> int:
    from webtext.schema import build

    from crawl.config import Config

    with open(argv[0], encoding="utf-8") as fh:
        job = json.load(fh)
    cfg, problems = build(Config, job["crawl"], check_paths=False)
    if problems:
        print("crawl job: " + "; ".join(problems), file=sys.stderr)
        return 2
    from crawl.fetch import memory

    memory.map_large_blocks()  # before the WARC writer is forked, so it applies there too
    lock = _lock(os.path.join(job["state_dir"], "fetch.lock"))
    if lock is None:
        print(f"another crawl process holds {job['state_dir']}", file=sys.stderr)
        return EXIT_LOCKED

    from scrapy.crawler import CrawlerProcess

    from crawl.fetch.spider import LinkSpider
    from crawl.ledger import Ledger

    ledger = Ledger(job["state_dir"], job["warc_dir"], job["tag"], warc_max_bytes=cfg.warc.max_file_bytes,
                    warc_level=cfg.warc.compression_level, sync_every_s=cfg.warc.sync_every_s,
                    writer_buffer_bytes=cfg.warc.writer_buffer_bytes, log=lambda m: print("NOTE " + m, flush=True))
    print(f"NOTE resuming: {ledger.stored_before} pages stored and {ledger.failed_before} failures recorded before"
          if ledger.stored_before or ledger.failed_before else "NOTE starting", flush=True)
    process = CrawlerProcess(scrapy_settings(cfg, job))
    crawler = process.create_crawler(LinkSpider)
    process.crawl(crawler, ledger=ledger, links_dir=job["links_dir"], content_types=cfg.fetch.content_types,
                  log_interval_s=cfg.fetch.log_interval_s, batch=cfg.fetch.concurrent_requests)
    process.start()
    reason = crawler.stats.get_value("finish_reason")
    try:
        ledger.close()
    except RuntimeError as e:
        print(f"crawl: {e}", file=sys.stderr)
        reason = "warc_writer_failed"
    with open(os.path.join(job["state_dir"], "fetch-last.json"), "w", encoding="utf-8") as fh:
        stats = {k: v for k, v in crawler.stats.get_stats().items() if isinstance(v, (int, float, str))}
        _, peak = memory.rss_bytes()
        at_open = getattr(crawler.spider, "rss_at_open", 0)
        parts = memory.bound_parts(cfg.fetch.concurrent_requests, cfg.fetch.max_bytes, cfg.warc.writer_buffer_bytes)
        writer = resource.getrusage(resource.RUSAGE_CHILDREN)  # the WARC writer process, joined by close()
        mb = lambda n: round(n / memory.MB, 1)  # noqa: E731
        json.dump({"finish_reason": reason, "peak_rss_mb": mb(peak), "rss_at_open_mb": mb(at_open),
                   "rss_bound_mb": mb(at_open + sum(parts.values())),
                   "rss_bound_parts_mb": {k: mb(v) for k, v in parts.items()},
                   "crawl_cpu_s": round(getattr(crawler.spider, "crawl_cpu_s", 0.0), 3),
                   "writer_pauses": getattr(crawler.spider, "writer_pauses", 0),
                   "writer_cpu_s": round(writer.ru_utime + writer.ru_stime, 3), "scrapy": stats}, fh, default=str,
                  indent=1)
    if reason == "finished":
        return EXIT_FINISHED
    if reason == "shutdown":
        return EXIT_STOPPED
    print(f"crawl: the Scrapy crawl ended with reason {reason!r}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
