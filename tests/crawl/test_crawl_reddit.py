"""Reddit's JSON listings from a fake Reddit on 127.0.0.1: OAuth, pagination, a 429 with Retry-After, a
failing listing that does not stop the others; the listed links are then crawled. Then the listing
process alone: one rate-limit budget for all listings, a short-lived OAuth token renewed in time, no
OAuth without credentials, a failed token request."""

import dataclasses
import json
import os
import subprocess
import sys

from crawl.config import RedditApiConfig
from crawl.verify import iter_pages
from webtext import jsonl

from crawl_helpers import make_config, quick_fetch, run_crawl, submission  # noqa: F401 - make_config is a fixture
from crawl_servers import FakeReddit, Server, site_route


def test_listings_with_oauth_pagination_and_429(tmp_path, make_config, monkeypatch):
    with Server(site_route()) as site:
        posts = [submission(f"n{i}", f"http://h{i % 2}.site.test:{site.port}/p/{i}", score=10 + i, subreddit="news")
                 for i in range(7)]
        posts.append(submission("lowscore", f"http://h0.site.test:{site.port}/p/low", score=1, subreddit="news"))
        posts.append(submission("self", "https://www.reddit.com/r/news/comments/self/", is_self=True))
        fake = FakeReddit({"news": posts}, page_size=3, retry_after=1)
        with Server(fake) as reddit:
            base = f"http://127.0.0.1:{reddit.port}"
            monkeypatch.setenv("WT_TEST_REDDIT_ID", FakeReddit.CLIENT_ID)
            monkeypatch.setenv("WT_TEST_REDDIT_SECRET", FakeReddit.SECRET)
            crawl = {
                "reddit": {"subreddits": ["news", "gone_private"], "listings": ["top"], "max_pages": 10,
                           "page_size": 3, "base_url": base, "oauth_base_url": base,
                           "token_url": f"{base}/api/v1/access_token", "client_id_env": "WT_TEST_REDDIT_ID",
                           "client_secret_env": "WT_TEST_REDDIT_SECRET", "min_interval_s": 0.05, "retries": 2},
                "fetch": quick_fetch(),
                "link_buckets": 2,
            }
            cfg, record = run_crawl(make_config(crawl))
            requests = list(fake.requests)

    # One token request with the client's credentials, then every listing request with the bearer token.
    assert requests[0]["path"] == "/api/v1/access_token" and requests[0]["auth"].startswith("Basic ")
    listing = [r for r in requests[1:]]
    assert listing and all(r["auth"] == f"bearer {FakeReddit.TOKEN}" for r in listing)
    news = [r for r in listing if r["path"].startswith("/r/news/top.json")]
    assert all("t=all" in r["path"] and "limit=3" in r["path"] for r in news)
    # Three pages of news (9 posts, 3 per page), the 429 on page 2 retried after its Retry-After (1 s).
    assert [("after=" in r["path"]) for r in news] == [False, True, True, True]
    throttled, retried = news[1], news[2]
    assert throttled["path"] == retried["path"] and retried["time"] - throttled["time"] >= 0.9
    assert any(r["path"].startswith("/r/gone_private/") for r in listing)  # failed, and the run went on

    subs = record["stats"]["submissions"]
    assert subs["read"] == 9 and subs["kept"] == 7 and subs["dropped"] == {"score": 1, "self_post": 1}
    assert record["counts"]["in"] == 7 and record["counts"]["out"] == 7
    folder = os.path.join(cfg.run.work_dir, "crawl")
    stored = [link for name in jsonl.list_files(os.path.join(folder, "warc"), ".warc.gz")
              for link, _, _, _ in iter_pages(name)]
    assert sorted(link["source"]["reddit_ids"][0] for link in stored) == [f"n{i}" for i in range(7)]
    assert all(link["source"]["subreddits"] == ["news"] for link in stored)



# -- the listing process alone (python -m crawl.reddit), against the fake Reddit -------------------------

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_listings(tmp_path, base, env=None, **reddit):
    """Run `python -m crawl.reddit` on a job like the stage's; (exit code, stderr, submissions read)."""
    cfg = {"base_url": base, "oauth_base_url": base, "token_url": f"{base}/api/v1/access_token",
           "client_id_env": "WT_TEST_REDDIT_ID", "client_secret_env": "WT_TEST_REDDIT_SECRET",
           "min_interval_s": 0.05, "retries": 2, **reddit}
    job = {"reddit": dataclasses.asdict(RedditApiConfig(**cfg)), "user_agent": "webtext-test",
           "out": str(tmp_path / "submissions.jsonl"), "log_file": str(tmp_path / "scrapy.log")}
    (tmp_path / "job.json").write_text(json.dumps(job))
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("WT_TEST_REDDIT")}
    child_env.update(env or {}, PYTHONPATH=REPO)
    proc = subprocess.run([sys.executable, "-m", "crawl.reddit", str(tmp_path / "job.json")], cwd=REPO,
                          env=child_env, capture_output=True, text=True, timeout=60)
    subs = list(jsonl.read_jsonl(job["out"])) if proc.returncode == 0 else []
    return proc.returncode, proc.stderr, subs


CREDENTIALS = {"WT_TEST_REDDIT_ID": FakeReddit.CLIENT_ID, "WT_TEST_REDDIT_SECRET": FakeReddit.SECRET}


def posts_of(sub, n):
    return [submission(f"{sub}{i}", f"http://example.org/{sub}/{i}", subreddit=sub) for i in range(n)]


def test_rate_limit_budget_is_shared_by_every_listing(tmp_path):
    # Three listings of two pages each (6 requests); Reddit's budget is 5 a window of 1 s. With the
    # default reserve of 2, three requests fit a window; then no listing request may go out, from any
    # listing, until the window resets.
    fake = FakeReddit({s: posts_of(s, 5) for s in "abc"}, page_size=3, retry_after=None, budget=5, reset_s=1)
    with Server(fake) as reddit:
        rc, err, subs = run_listings(tmp_path, f"http://127.0.0.1:{reddit.port}", CREDENTIALS,
                                     subreddits=list("abc"), page_size=3)
    assert rc == 0, err
    assert sorted(s["id"] for s in subs) == sorted(f"{s}{i}" for s in "abc" for i in range(5))
    listing = [r for r in fake.requests if r["path"].startswith("/r/")]
    assert len(listing) == 6 and all(r["status"] == 200 for r in listing)
    assert not fake.over_budget
    exhausted = [r for r in listing if r["remaining"] <= 2]  # the 3rd request of a window
    paused = [r for r in exhausted if r is not listing[-1]]
    assert paused  # (the first window is listing[:3] unless the machine took over 1 s for them)
    for r in exhausted:
        window = [x for x in listing if x["window_end"] == r["window_end"]]
        assert len({x["path"].split("/")[2] for x in window}) >= 2  # the budget spent by 2 or 3 listings
        early = [x for x in listing if r["time"] < x["time"] < r["window_end"]]
        assert not early, f"sent before the reset: {early}"
    nxt = listing[listing.index(paused[0]) + 1]
    assert nxt["time"] >= paused[0]["window_end"]


def test_oauth_token_renewed_before_it_expires(tmp_path):
    # Tokens live 3 s (expires_in 3): renewed 0.75 s + the request spacing before that, so no listing
    # request ever carries an expired token (the fake answers those with a 401).
    fake = FakeReddit({"news": posts_of("n", 11)}, page_size=1, retry_after=None, token_ttl=3)
    with Server(fake) as reddit:
        rc, err, subs = run_listings(tmp_path, f"http://127.0.0.1:{reddit.port}", CREDENTIALS,
                                     subreddits=["news"], page_size=1, max_pages=11, min_interval_s=0.25)
    assert rc == 0, err
    assert sorted(s["id"] for s in subs) == sorted(f"n{i}" for i in range(11))
    token_reqs = [r for r in fake.requests if r["path"] == "/api/v1/access_token"]
    listing = [r for r in fake.requests if r["path"].startswith("/r/")]
    assert len(listing) == 11 and all(r["status"] == 200 for r in listing)  # never a 401
    assert fake.requests[0] is token_reqs[0]
    assert len(token_reqs) >= 2 and all(r["status"] == 200 for r in token_reqs)
    used = [r["auth"] for r in listing]
    assert used[0] == "bearer tok-1" and "bearer tok-2" in used
    assert used == sorted(used, key=lambda a: int(a.rsplit("-", 1)[1]))  # a new token replaces the old
    for r in token_reqs[1:]:  # each renewal came before the token in use expired
        prev = fake.tokens[f"tok-{token_reqs.index(r)}"]
        assert r["time"] < prev


def test_listings_without_oauth_and_a_429_pausing_every_listing(tmp_path):
    # No credentials in the environment: no token request, no Authorization header, base_url (not
    # oauth_base_url, which points at a closed port) serves the listings. The first page-2 request
    # gets a 429 with Retry-After: 1; nothing at all is sent during that second.
    fake = FakeReddit({"a": posts_of("a", 5), "b": posts_of("b", 5)}, page_size=3, retry_after=1, public=True)
    with Server(fake) as reddit:
        rc, err, subs = run_listings(tmp_path, f"http://127.0.0.1:{reddit.port}", subreddits=["a", "b"],
                                     page_size=3, oauth_base_url="http://127.0.0.1:9")
    assert rc == 0, err
    assert sorted(s["id"] for s in subs) == sorted(f"{s}{i}" for s in "ab" for i in range(5))
    assert fake.requests and all(r["path"].startswith("/r/") and r["auth"] == "" for r in fake.requests)
    assert not fake.tokens
    throttled = [r for r in fake.requests if r["status"] == 429]
    assert len(throttled) == 1
    t = throttled[0]["time"]
    assert not [r for r in fake.requests if t < r["time"] < t + 0.95]
    assert len(fake.requests) == 5  # 2 + 2 pages, and the retry


def test_failed_oauth_token_ends_the_run(tmp_path):
    fake = FakeReddit({"news": posts_of("n", 3)}, page_size=3, retry_after=None)
    with Server(fake) as reddit:
        rc, err, _ = run_listings(tmp_path, f"http://127.0.0.1:{reddit.port}",
                                  {**CREDENTIALS, "WT_TEST_REDDIT_SECRET": "wrong"}, subreddits=["news", "pics"])
    assert rc == 1 and "oauth_failed" in err
    assert [r["path"] for r in fake.requests] == ["/api/v1/access_token"]
    assert not os.path.exists(tmp_path / "submissions.jsonl")


def test_rate_budget():
    from crawl.reddit import RateBudget, token_lifetime

    b = RateBudget(reserve=2)
    assert b.wait(0.0) == 0.0  # nothing known yet
    b.sent()
    b.update(200, b"3.0", b"10", b"597", now=1.0)
    b.answered()
    assert b.wait(1.0) == 0.0  # 3 left: one more leaves the reserve of 2
    b.sent()
    assert b.wait(1.5) == 9.5  # the one in flight counts: wait for the reset at 11
    b.update(200, "2.0", "9", now=2.0)
    b.answered()
    assert b.wait(2.0) == 9.0 and b.wait(10.9) > 0 and b.wait(11.0) == 0.0  # reset: a new window
    assert b.remaining is None
    b.update(429, None, None, retry_after=5.0, now=12.0)  # Retry-After pauses everything
    assert b.wait(12.0) == 5.0 and b.wait(17.0) == 0.0
    b.update(200, "0", "7200", now=20.0)  # capped at max_pause
    assert b.wait(20.0) == 600.0
    b = RateBudget(reserve=0)
    b.update(200, "1", "30", now=0.0)
    assert b.wait(0.0) == 0.0
    b.update(200, "0.4", "29", now=1.0)
    assert b.wait(1.0) == 29.0
    b.update(200, "junk", "29", now=2.0)  # unreadable headers change nothing
    assert b.wait(2.0) == 28.0
    assert token_lifetime(86400, 1.0) == 86400 - 61 and token_lifetime(4, 0.25) == 2.75
    assert token_lifetime(None, 0) == 3600 - 60
