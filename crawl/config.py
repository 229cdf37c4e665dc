"""The `crawl:` block of pipeline.yaml: where the Reddit submissions come from, which links are kept,
how politely and safely pages are fetched, and how the WARC files are written.

Defaults are the WebText recipe: outbound links of submissions with at least 3 karma, created before
December 2017, self posts, Reddit itself, image/video hosts and Wikipedia left out. Only the standard
library and webtext.schema are imported here (the config is loaded before anything heavy).
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
from dataclasses import dataclass, field
from typing import Literal, Optional

from webtext.schema import path_field

# Reddit itself, image and video hosts, and Wikipedia in every language (a domain also blocks its
# subdomains: "wikipedia.org" blocks en.wikipedia.org and de.m.wikipedia.org).
DEFAULT_BLOCKED_DOMAINS = [
    "reddit.com", "redd.it", "redditmedia.com", "redditstatic.com", "reddituploads.com", "redditgifts.com",
    "wikipedia.org",
    "imgur.com", "flickr.com", "staticflickr.com", "photobucket.com", "tinypic.com", "imageshack.us",
    "imageshack.com", "imgflip.com", "gyazo.com", "puu.sh", "postimg.org", "postimg.cc", "imgbox.com",
    "deviantart.com", "instagram.com", "500px.com", "giphy.com", "gfycat.com", "pinimg.com",
    "youtube.com", "youtu.be", "vimeo.com", "dailymotion.com", "liveleak.com", "twitch.tv", "streamable.com",
    "vid.me", "vine.co", "metacafe.com", "break.com", "funnyordie.com", "ted.com", "soundcloud.com",
    "spotify.com", "bandcamp.com",
]

# Files that are never an HTML page with text worth extracting.
DEFAULT_BLOCKED_EXTENSIONS = [
    # images
    "jpg", "jpeg", "png", "gif", "gifv", "webp", "bmp", "svg", "tif", "tiff", "ico", "heic", "psd",
    # video
    "mp4", "webm", "mkv", "mov", "avi", "wmv", "flv", "m4v", "mpg", "mpeg", "3gp",
    # audio
    "mp3", "wav", "ogg", "oga", "flac", "m4a", "aac", "wma", "mid", "midi",
    # archives
    "zip", "rar", "7z", "tar", "gz", "tgz", "bz2", "xz", "zst",
    # documents that are not HTML
    "pdf", "ps", "djvu",
    # executables and disk images
    "exe", "msi", "dmg", "apk", "deb", "rpm", "bin", "iso", "jar",
]


def parse_date(value: str) -> int:
    """'2017-12-01' (or a full ISO time) -> Unix seconds, UTC."""
    d = _dt.datetime.fromisoformat(value)
    if d.tzinfo is None:
        d = d.replace(tzinfo=_dt.timezone.utc)
    return int(d.timestamp())


@dataclass
class FilterConfig:
    """Which submissions' links are kept. Each dropped submission is counted under its reason."""

    # Minimum karma (score) of a link.
    min_score: int = 3
    # "submission": a submission needs min_score itself (WebText); "sum": a URL's scores are summed
    # over all its submissions before the threshold (OpenWebText2's rule).
    score_rule: Literal["submission", "sum"] = "submission"
    # Submissions created on or after this date (UTC, YYYY-MM-DD); null: no lower bound.
    created_after: Optional[str] = None
    # Submissions created before this date (exclusive); WebText's links predate December 2017.
    created_before: Optional[str] = "2017-12-01"
    # Skip self (text) posts: they link to Reddit itself.
    skip_self_posts: bool = True
    # NSFW (over_18) submissions: keep or drop.
    nsfw: Literal["keep", "drop"] = "keep"
    # Hosts never fetched (a domain also matches its subdomains).
    blocked_domains: list[str] = field(default_factory=lambda: list(DEFAULT_BLOCKED_DOMAINS))
    # Added to blocked_domains (so a config can extend the list without copying it).
    extra_blocked_domains: list[str] = field(default_factory=list)
    # File extensions (of the URL's path) never fetched.
    blocked_extensions: list[str] = field(default_factory=lambda: list(DEFAULT_BLOCKED_EXTENSIONS))

    def check(self):
        for key in ("created_after", "created_before"):
            value = getattr(self, key)
            if value is not None:
                try:
                    parse_date(value)
                except ValueError:
                    yield key, f"expected a date such as 2017-12-01, got {value!r}"
        if self.min_score < 0 and self.score_rule == "sum":
            yield "min_score", "must be >= 0 with score_rule: sum"


@dataclass
class RedditApiConfig:
    """Reddit's JSON listings (/r/<sub>/top.json?t=all ...), fetched by Scrapy. Unused when `subreddits` is empty."""

    # Subreddits to list (without the r/).
    subreddits: list[str] = field(default_factory=list)
    # Listings per subreddit: top, new, hot, rising, controversial.
    listings: list[Literal["top", "new", "hot", "rising", "controversial"]] = field(default_factory=lambda: ["top"])
    # Time window of top/controversial.
    time_filter: Literal["hour", "day", "week", "month", "year", "all"] = "all"
    # Pages of `page_size` submissions per listing (Reddit serves about 1000 per listing).
    max_pages: int = 10
    page_size: int = 100
    # Listing endpoint without OAuth, and with it (tests point both at a fake Reddit on 127.0.0.1).
    base_url: str = "https://www.reddit.com"
    oauth_base_url: str = "https://oauth.reddit.com"
    token_url: str = "https://www.reddit.com/api/v1/access_token"
    # Environment variables holding OAuth client credentials (application-only "client_credentials"
    # grant); when unset, the public endpoint is used.
    client_id_env: str = "REDDIT_CLIENT_ID"
    client_secret_env: str = "REDDIT_CLIENT_SECRET"
    # Seconds between listing requests at least (Reddit allows ~100/minute with OAuth, 10 without).
    min_interval_s: float = 1.0
    # Requests of Reddit's rate-limit budget left unused (its count is approximate): once
    # X-Ratelimit-Remaining is down to this, no listing request of any listing is sent until
    # X-Ratelimit-Reset. 0 uses the whole budget.
    ratelimit_reserve: int = 2
    # Retries of a failed listing page (429s wait for Retry-After or the rate-limit reset; a 429's
    # Retry-After also holds every other listing request).
    retries: int = 5

    def check(self):
        if self.page_size < 1 or self.page_size > 100:
            yield "page_size", "must be between 1 and 100 (Reddit's limit)"
        if self.max_pages < 1:
            yield "max_pages", "must be at least 1"
        if self.ratelimit_reserve < 0:
            yield "ratelimit_reserve", "must be at least 0"


@dataclass
class FetchConfig:
    """How pages are fetched: politeness, limits, and which addresses may be reached."""

    # Sent with every request; say who you are and how to reach you.
    user_agent: str = "webtext/0.1 (research crawl rebuilding WebText; +https://github.com/webtext/webtext)"
    # Obey robots.txt.
    obey_robots: bool = True
    # Requests in flight in total, and per host.
    concurrent_requests: int = 64
    per_domain_concurrency: int = 2
    # Fixed delay between requests to one host (seconds), before AutoThrottle's adjustments.
    download_delay_s: float = 0.0
    # AutoThrottle adapts each host's delay to its latency; target = requests in parallel per host.
    autothrottle: bool = True
    autothrottle_target_concurrency: float = 1.0
    autothrottle_max_delay_s: float = 30.0
    # Whole-download timeout (seconds): a server dripping bytes is cut here.
    timeout_s: float = 30.0
    # DNS lookup timeout (seconds).
    dns_timeout_s: float = 20.0
    # Retries of 429, 5xx, timeouts and dropped connections, with exponential back-off from
    # retry_backoff_s; a Retry-After header is honoured up to retry_after_max_s (longer: give up).
    retries: int = 2
    retry_backoff_s: float = 2.0
    retry_after_max_s: float = 120.0
    # Largest body kept, in bytes, on the wire and after decompression (a gzip bomb stops here).
    max_bytes: int = 10_000_000
    # Redirects followed per link; more (or a loop) is the failure "redirect_loop".
    max_redirects: int = 5
    # Content types stored (a response without one is sniffed for HTML).
    content_types: list[str] = field(default_factory=lambda: ["text/html", "application/xhtml+xml"])
    # Refuse private, loopback, link-local (cloud metadata), multicast and reserved addresses,
    # checked on the resolved address of every request and redirect, unless this is true.
    allow_private_networks: bool = False
    # Networks allowed even though private (CIDR, e.g. "127.0.0.1/32" for a test server).
    allowed_networks: list[str] = field(default_factory=list)
    # Host resolution override, {"miniweb.test": "127.0.0.1"}: the host and its subdomains resolve
    # to that address without DNS (tests and demos). The safety check still applies to it.
    resolve: dict[str, str] = field(default_factory=dict)
    # Seconds between progress lines.
    log_interval_s: float = 10.0

    def check(self):
        for key in ("concurrent_requests", "per_domain_concurrency", "max_bytes"):
            if getattr(self, key) < 1:
                yield key, "must be at least 1"
        for key in ("timeout_s", "dns_timeout_s"):
            if getattr(self, key) <= 0:
                yield key, "must be positive"
        if self.retries < 0 or self.max_redirects < 0:
            yield "retries" if self.retries < 0 else "max_redirects", "must be >= 0"
        for i, net in enumerate(self.allowed_networks):
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError:
                yield f"allowed_networks[{i}]", f"not a network: {net!r} (e.g. 127.0.0.1/32)"
        for host, ip in self.resolve.items():
            try:
                ipaddress.ip_address(ip)
            except ValueError:
                yield f"resolve.{host}", f"not an IP address: {ip!r}"
        if not self.user_agent.strip():
            yield "user_agent", "must not be empty: say who is crawling and how to reach you"


@dataclass
class WarcConfig:
    """The WARC files: gzip per record, rotated by size."""

    # A file is closed and a new one started past this many (compressed) bytes.
    max_file_bytes: int = 1_000_000_000
    # zlib level of each record's gzip member (1 fastest ... 9 smallest). 5: on real news pages
    # within 1% of level 6's size at about twice its speed (level 3: 3x faster, 11% larger).
    compression_level: int = 5
    # Page bytes waiting for the writer process beyond which the crawler takes no new requests until it
    # catches up (bounds memory when disks are slower than the network).
    writer_buffer_bytes: int = 64_000_000
    # Seconds between updates of the index of stored pages: pages written since the last one are
    # fetched again after a kill (their bytes are cut off the open WARC file).
    sync_every_s: float = 1.0

    def check(self):
        if not 1 <= self.compression_level <= 9:
            yield "compression_level", "must be between 1 and 9"
        if self.max_file_bytes < 1_000_000:
            yield "max_file_bytes", "must be at least 1000000"
        if self.writer_buffer_bytes < 0:
            yield "writer_buffer_bytes", "must be >= 0"
        if self.sync_every_s <= 0:
            yield "sync_every_s", "must be positive"


@dataclass
class Config:
    # Pushshift / Arctic Shift submission dumps: files or globs (.zst, .xz, .bz2, .gz or plain JSON lines).
    submissions: list[str] = path_field(default_factory=list, kind="glob")
    # Reddit's JSON listings, as a second (or the only) source.
    reddit: RedditApiConfig = field(default_factory=RedditApiConfig)
    filters: FilterConfig = field(default_factory=FilterConfig)
    fetch: FetchConfig = field(default_factory=FetchConfig)
    warc: WarcConfig = field(default_factory=WarcConfig)
    # The link list is deduplicated on disk in this many hash buckets: memory holds one bucket.
    link_buckets: int = 256
    # Processes reading dump files in parallel (one file each at a time); 0: one per CPU core.
    link_workers: int = 0
    # Fetch the links (false: build the link list only, e.g. to inspect it first).
    fetch_pages: bool = True

    def check(self):
        if not self.submissions and not self.reddit.subreddits:
            yield "submissions", "no source: give submission dumps, or reddit.subreddits to list"
        if not 1 <= self.link_buckets <= 4096:
            yield "link_buckets", "must be between 1 and 4096"
        if self.link_workers < 0:
            yield "link_workers", "must be 0 (one per core) or more"
