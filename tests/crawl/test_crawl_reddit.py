"""Reddit's JSON listings from a fake Reddit on 127.0.0.1: OAuth, pagination, a 429 with Retry-After, a
failing listing that does not stop the others; the listed links are then crawled."""

import os

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

