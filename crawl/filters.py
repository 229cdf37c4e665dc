"""Which submissions' links are kept: one pure decision per submission, with its reason.

Checks run in this order and a dropped submission is counted under the first that fails:

    no_url, self_post, date, nsfw, score (per-submission rule only), invalid_url, blocked_domain,
    blocked_extension

URLs are normalised with webtext.urls.normalize_url, which also undoes the HTML escapes (`&amp;`)
that Reddit's dumps carry and removes tracking parameters, so the kept link is already the form
the link list is deduplicated on.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Optional
from urllib.parse import unquote, urlsplit

from webtext.urls import normalize_url

from crawl.config import FilterConfig, parse_date

REASONS = ("no_url", "self_post", "date", "nsfw", "score", "invalid_url", "blocked_domain", "blocked_extension")


@dataclass
class Submission:
    """The fields of a Reddit submission that the crawl uses."""

    id: str
    url: str  # normalised
    host: str  # lower-case host of the normalised URL
    subreddit: str
    score: int
    created_utc: Optional[int]
    nsfw: bool


def _int(value, default=None) -> Optional[int]:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return default


def submission_id(obj: dict) -> str:
    sid = obj.get("id") or obj.get("name") or ""
    sid = str(sid)
    return sid[3:] if sid.startswith("t3_") else sid


def domain_matches(host: str, domains: frozenset) -> bool:
    """True if host is one of `domains` or a subdomain of one."""
    if host in domains:
        return True
    i = host.find(".")
    while i != -1:
        if host[i + 1:] in domains:
            return True
        i = host.find(".", i + 1)
    return False


def url_extension(url: str) -> str:
    """Lower-case extension of the last path segment ('' if none): http://x/a/B.JPG?x=1 -> 'jpg'."""
    path = unquote(urlsplit(url).path)
    ext = posixpath.splitext(posixpath.basename(path))[1]
    return ext[1:].lower() if ext else ""


class SubmissionFilter:
    def __init__(self, cfg: FilterConfig):
        self.cfg = cfg
        self.after = parse_date(cfg.created_after) if cfg.created_after else None
        self.before = parse_date(cfg.created_before) if cfg.created_before else None
        self.domains = frozenset(d.lower().strip(".") for d in [*cfg.blocked_domains, *cfg.extra_blocked_domains])
        self.extensions = frozenset(e.lower().lstrip(".") for e in cfg.blocked_extensions)
        self.per_submission_score = cfg.score_rule == "submission"

    def decide(self, obj: dict) -> tuple[Optional[str], Optional[Submission]]:
        """(None, Submission) if kept, else (reason, None)."""
        raw_url = obj.get("url")
        if not isinstance(raw_url, str) or not raw_url.strip():
            return "no_url", None
        if self.cfg.skip_self_posts and (obj.get("is_self") is True or str(obj.get("domain", "")).startswith("self.")):
            return "self_post", None
        created = _int(obj.get("created_utc"))
        if self.after is not None or self.before is not None:
            if created is None:
                return "date", None
            if (self.after is not None and created < self.after) or (self.before is not None and created >= self.before):
                return "date", None
        nsfw = obj.get("over_18") is True
        if nsfw and self.cfg.nsfw == "drop":
            return "nsfw", None
        score = _int(obj.get("score"), 0)
        if self.per_submission_score and score < self.cfg.min_score:
            return "score", None
        url = normalize_url(raw_url)
        if url is None:
            return "invalid_url", None
        host = urlsplit(url).hostname or ""
        if domain_matches(host, self.domains):
            return "blocked_domain", None
        if self.extensions and url_extension(url) in self.extensions:
            return "blocked_extension", None
        return None, Submission(id=submission_id(obj), url=url, host=host, subreddit=str(obj.get("subreddit") or ""),
                                score=score, created_utc=created, nsfw=nsfw)
