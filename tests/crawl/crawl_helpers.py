"""Helpers of the crawl tests: submissions files, pipeline configs, running the crawl stage.

(No conftest.py in this folder: a second module named `conftest` would shadow tests/conftest.py for
tests that import from it. pytest puts this folder on sys.path, so tests import from here.)
"""

import json

import pytest
import yaml


def submission(sid, url, score=10, created_utc=1_400_000_000, subreddit="test", **extra):
    return {"id": sid, "url": url, "score": score, "created_utc": created_utc, "subreddit": subreddit,
            "is_self": False, "over_18": False, **extra}


def write_submissions(path, subs):
    with open(path, "w", encoding="utf-8") as f:
        for s in subs:
            f.write(json.dumps(s) + "\n")
    return str(path)


def quick_fetch(**over):
    """Fetch settings for tests: fast, small limits, the local servers allowed."""
    fetch = {"concurrent_requests": 16, "per_domain_concurrency": 4, "autothrottle": False, "timeout_s": 5,
             "dns_timeout_s": 5, "retries": 1, "retry_backoff_s": 0.1, "allowed_networks": ["127.0.0.1/32"],
             "resolve": {"site.test": "127.0.0.1"}, "log_interval_s": 1, "max_bytes": 1_000_000}
    fetch.update(over)
    return fetch


def write_config(folder, crawl: dict, work_dir, name="pipeline.yaml"):
    path = folder / name
    path.write_text(yaml.safe_dump({"run": {"work_dir": str(work_dir)}, "crawl": crawl}))
    return str(path)


def run_crawl(config_path, part=None, force=False):
    """Run the crawl stage in this process (Scrapy itself runs in its own subprocess)."""
    from webtext.config import load_config
    from webtext.progress import Progress
    from webtext.runner import Runner, work_lock

    cfg = load_config(config_path)
    runner = Runner(cfg, Progress(quiet=True))
    options = {"part": part} if part else {}
    with work_lock(cfg.run.work_dir):
        record = runner.run_stage("crawl", force=force, options=options)
    return cfg, record


@pytest.fixture
def make_config(tmp_path):
    """make_config(crawl_block, work_dir=None, name=...) -> path of a pipeline.yaml in tmp_path."""
    def make(crawl, work_dir=None, name="pipeline.yaml"):
        return write_config(tmp_path, crawl, work_dir or tmp_path / "work", name)
    return make
