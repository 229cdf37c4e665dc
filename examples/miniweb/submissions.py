"""Reddit submissions as Pushshift's dumps hold them: the record format, subreddits, ids.

The fields and the kinds of values follow the RS_v2 monthly dumps (see ../shared/data/reddit): 56 keys,
sorted; the generator escapes `/` as `\\/` when it writes them, as Pushshift's files do.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

# Subreddits and the years a link to this kind of page plausibly came from each.
SUBREDDIT_YEARS = {
    "reddit.com": (2005, 2011), "programming": (2006, 2017), "science": (2007, 2017), "politics": (2007, 2017),
    "worldnews": (2008, 2017), "news": (2008, 2017), "books": (2008, 2017), "literature": (2008, 2017),
    "history": (2008, 2017), "TrueReddit": (2008, 2017), "philosophy": (2008, 2017), "WTF": (2008, 2017),
    "AskReddit": (2008, 2017), "writing": (2009, 2017), "Foodforthought": (2010, 2017),
    "DepthHub": (2011, 2017), "longreads": (2011, 2017), "InternetIsBeautiful": (2013, 2017),
}
SITE_SUBREDDITS = {
    "news": ["worldnews", "news", "science", "politics", "TrueReddit", "reddit.com"],
    "blog": ["books", "writing", "literature", "reddit.com"],
    "forum": ["books", "literature", "history", "reddit.com"],
    "essay": ["TrueReddit", "Foodforthought", "DepthHub", "longreads", "philosophy", "literature", "reddit.com"],
    "other": ["InternetIsBeautiful", "books", "history", "TrueReddit", "reddit.com"],
    "self": ["AskReddit", "books", "literature", "history", "reddit.com"],
    "nsfw": ["WTF", "reddit.com"],
}


@dataclass
class Submission:
    url: str  # as submitted (may differ from the normalised link: utm_ params, fragments, host case, &amp;)
    title: str
    subreddit: str
    when: datetime
    score: int
    reason: str  # why it is in the sample: link, low_score, self_post, blocked_domain, nsfw, variant, ...
    is_self: bool = False
    over_18: bool = False
    selftext: str = ""
    author: str = ""


def base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    s = ""
    while True:
        n, d = divmod(n, 36)
        s = digits[d] + s
        if not n:
            return s


def pushshift_record(s: Submission, sid: str, permalink: str, r: random.Random) -> dict:
    """One submission with the fields (and kinds of values) of Pushshift's RS_v2 dumps."""
    host = (urlsplit(s.url).hostname or "").lower()
    domain = f"self.{s.subreddit}" if s.is_self else (host[4:] if host.startswith("www.") else host)
    archived = s.when.year < 2017
    thumb = "nsfw" if s.over_18 else ("self" if s.is_self else "default")
    return {
        "archived": archived, "author": s.author, "author_flair_background_color": None,
        "author_flair_css_class": None, "author_flair_richtext": [], "author_flair_text": None,
        "author_flair_text_color": None, "author_flair_type": "text", "brand_safe": not s.over_18,
        "can_gild": True, "contest_mode": False, "created_utc": int(s.when.timestamp()), "distinguished": None,
        "domain": domain, "edited": False, "gilded": 1 if s.score > 1000 else 0, "hidden": False,
        "hide_score": False, "id": sid, "is_crosspostable": not archived, "is_reddit_media_domain": False,
        "is_self": s.is_self, "is_video": False, "link_flair_css_class": None, "link_flair_richtext": [],
        "link_flair_text": None, "link_flair_text_color": "dark", "link_flair_type": "text", "locked": False,
        "media": None, "media_embed": {}, "no_follow": s.score < 3, "num_comments": int(s.score * r.uniform(0.05, 0.9)),
        "num_crossposts": 0, "over_18": s.over_18, "parent_whitelist_status": "all_ads", "permalink": permalink,
        "rte_mode": "markdown", "score": s.score, "secure_media": None, "secure_media_embed": {},
        "selftext": s.selftext, "send_replies": True, "spoiler": False, "stickied": False, "subreddit": s.subreddit,
        "subreddit_id": "t5_6" if s.subreddit == "reddit.com" else "t5_" + base36(
            int.from_bytes(s.subreddit.lower().encode()[:6].ljust(6, b"_"), "big") % 36 ** 5),
        "subreddit_name_prefixed": f"r/{s.subreddit}", "subreddit_type": "archived" if archived else "public",
        "suggested_sort": None, "thumbnail": thumb, "thumbnail_height": None, "thumbnail_width": None,
        "title": s.title, "url": s.url, "whitelist_status": "all_ads",
    }
