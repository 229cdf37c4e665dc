"""Submission sources and filters: real Pushshift dumps, every compression, bad lines, each filter's reason."""

import bz2
import gzip
import json
import lzma
import os

import pytest

from crawl.config import FilterConfig
from crawl.filters import SubmissionFilter, domain_matches, url_extension
from crawl.sources import PROBE_LINES, SourceStats, expand_sources, iter_dumps
from webtext.errors import InputError

from crawl_helpers import submission

ONLY_SCORE = dict(created_before=None, skip_self_posts=False, nsfw="keep", blocked_domains=[], blocked_extensions=[])


def _decide_all(cfg, objs):
    f = SubmissionFilter(cfg)
    return [f.decide(o)[0] for o in objs]


def test_golden_june_2005_dump_keeps_83_with_score_alone(shared_data):
    path = os.path.join(shared_data, "reddit", "RS_v2_2005-06.xz")
    stats = SourceStats()
    reasons = _decide_all(FilterConfig(min_score=3, **ONLY_SCORE), iter_dumps([path], stats))
    assert stats.read == 103 and stats.bad_lines == 0
    assert reasons.count(None) == 83
    assert reasons.count("score") == 20


def test_default_filters_on_real_dump_unescape_urls(shared_data):
    path = os.path.join(shared_data, "reddit", "RS_v2_2005-06.xz")
    f = SubmissionFilter(FilterConfig())
    kept = [sub for reason, sub in (f.decide(o) for o in iter_dumps([path], SourceStats())) if reason is None]
    assert kept and all("&amp;" not in s.url for s in kept)
    # The dump's "http:\/\/www.downingstreetmemo.com" -> a normalised URL with a path.
    assert any(s.url == "http://www.downingstreetmemo.com/" for s in kept)


@pytest.mark.parametrize("suffix,opener", [
    (".jsonl", open), (".gz", gzip.open), (".xz", lzma.open), (".bz2", bz2.open), (".zst", None)])
def test_every_compression_and_bad_lines_are_counted_with_file_and_line(tmp_path, suffix, opener):
    lines = [json.dumps(submission("a", "http://x.org/1")), "{not json", json.dumps(submission("b", "http://x.org/2")),
             "[1, 2]", json.dumps(submission("c", "http://x.org/3"))]
    data = ("\n".join(lines) + "\n").encode()
    path = tmp_path / f"RS_test{suffix}"
    if suffix == ".zst":
        import zstandard

        # A long window (256 MiB) as Pushshift's dumps use: zstd's default limit would refuse it.
        params = zstandard.ZstdCompressionParameters.from_level(3, window_log=28)
        with open(path, "wb") as f, zstandard.ZstdCompressor(compression_params=params).stream_writer(f) as w:
            w.write(data)
    else:
        with opener(path, "wb") as f:
            f.write(data)
    stats = SourceStats()
    subs = list(iter_dumps([str(path)], stats))
    assert [s["id"] for s in subs] == ["a", "b", "c"]
    assert stats.read == 3 and stats.bad_lines == 2
    assert [(b.line, b.path) for b in stats.bad] == [(2, str(path)), (4, str(path))]
    assert "not valid JSON" in stats.bad[0].error and "JSON object" in stats.bad[1].error


def test_a_file_that_is_not_a_dump_is_one_clear_error(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("\n".join(f"just some text {i}" for i in range(PROBE_LINES + 5)))
    with pytest.raises(InputError, match=r"notes.txt: not a Reddit submissions dump"):
        list(iter_dumps([str(notes)], SourceStats()))
    other_json = tmp_path / "other.jsonl"
    other_json.write_text('{"name": "x", "value": 1}\n' * 3)
    with pytest.raises(InputError, match=r"other.jsonl: not a Reddit submissions dump.*line 1"):
        list(iter_dumps([str(other_json)], SourceStats()))
    binary = tmp_path / "image.zst"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(InputError, match=r"image.zst: cannot decompress"):
        list(iter_dumps([str(binary)], SourceStats()))


def test_truncated_zst_dump_is_an_error_not_a_silent_end(tmp_path):
    import zstandard

    data = b"".join(json.dumps(submission(str(i), f"http://x.org/{i}")).encode() + b"\n" for i in range(2000))
    blob = zstandard.ZstdCompressor().compress(data)
    path = tmp_path / "RS_cut.zst"
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(InputError, match="RS_cut.zst"):
        list(iter_dumps([str(path)], SourceStats()))


def test_globs_expand_in_order_once(tmp_path):
    for name in ("RS_2005-07.jsonl", "RS_2005-06.jsonl"):
        (tmp_path / name).write_text(json.dumps(submission(name, "http://x.org/")) + "\n")
    files = expand_sources([str(tmp_path / "RS_*.jsonl"), str(tmp_path / "RS_2005-06.jsonl")])
    assert [os.path.basename(f) for f in files] == ["RS_2005-06.jsonl", "RS_2005-07.jsonl"]
    with pytest.raises(InputError, match="no file matches"):
        expand_sources([str(tmp_path / "nothing-*.zst")])


def test_each_filter_drops_with_its_reason():
    f = SubmissionFilter(FilterConfig(nsfw="drop", created_after="2006-01-01"))
    cases = {
        "no_url": submission("1", "", score=50),
        "self_post": submission("2", "https://www.reddit.com/r/x/comments/2/", is_self=True),
        "date": submission("3", "http://a.org/", created_utc=1_600_000_000),  # 2020: after the cut-off
        "nsfw": submission("5", "http://a.org/n", over_18=True),
        "score": submission("6", "http://a.org/s", score=2),
        "invalid_url": submission("7", "javascript:alert(1)"),
        "blocked_domain": submission("8", "https://de.m.wikipedia.org/wiki/Berlin"),
        "blocked_extension": submission("9", "http://a.org/photo.JPG?size=large"),
        None: submission("10", "http://a.org/story.html?utm_source=reddit&amp;id=4"),
    }
    early = submission("4", "http://a.org/old", created_utc=1_119_552_233)  # June 2005: before created_after
    assert f.decide(early)[0] == "date"
    for reason, obj in cases.items():
        got, sub = f.decide(obj)
        assert got == reason, (reason, obj)
    kept = f.decide(cases[None])[1]
    assert kept.url == "http://a.org/story.html?id=4" and kept.score == 10 and kept.subreddit == "test"


def test_blocklists():
    domains = frozenset(["wikipedia.org", "imgur.com"])
    assert domain_matches("en.wikipedia.org", domains) and domain_matches("imgur.com", domains)
    assert not domain_matches("notwikipedia.org", domains) and not domain_matches("wikipedia.org.evil.com", domains)
    assert url_extension("http://x.org/a/b.tar.GZ?x=1") == "gz" and url_extension("http://x.org/a.b/") == ""
    f = SubmissionFilter(FilterConfig())
    assert f.decide(submission("1", "https://i.imgur.com/abc"))[0] == "blocked_domain"
    assert f.decide(submission("2", "https://redd.it/abc"))[0] == "blocked_domain"
    assert f.decide(submission("3", "http://x.org/file.pdf"))[0] == "blocked_extension"
    assert f.decide(submission("4", "http://self.test/", domain="self.AskReddit"))[0] == "self_post"


def test_score_rule_per_submission_or_sum():
    per = SubmissionFilter(FilterConfig(min_score=3))
    summed = SubmissionFilter(FilterConfig(min_score=3, score_rule="sum"))
    low = submission("1", "http://a.org/", score=2)
    assert per.decide(low)[0] == "score"
    assert summed.decide(low)[0] is None  # judged on the URL's total, after grouping


def test_cli_reports_a_non_dump_as_one_clear_error(tmp_path, cli):
    import yaml

    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list\n" * 200)
    config = tmp_path / "pipeline.yaml"
    config.write_text(yaml.safe_dump({"run": {"work_dir": str(tmp_path / "work")},
                                      "crawl": {"submissions": [str(notes)]}}))
    r = cli("crawl", str(config))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert f"{notes}: not a Reddit submissions dump" in r.stderr
    r = cli("crawl", str(config), "--part", "5/4")
    assert r.returncode == 2 and "argument --part: 5/4: I must be between 1 and N" in r.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"crawl": {"submissions": [str(tmp_path / "RS_*.zst")], "fetch": {"retrys": 3},
                                             "filters": {"created_before": "last year"}}}))
    r = cli("crawl", str(bad))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "crawl.submissions[0]: no file matches" in r.stderr
    assert "crawl.fetch.retrys: unknown key (did you mean 'retries'?)" in r.stderr
    assert "crawl.filters.created_before: expected a date such as 2017-12-01, got 'last year'" in r.stderr
