"""The link list: normalised, deduplicated on disk by id buckets, sorted, split into disjoint parts."""

import json
import os

import pytest

from crawl.config import FilterConfig
from crawl.filters import SubmissionFilter
from crawl.links import LinkBuilder
from crawl.parts import Part, parse_part, part_of
from webtext import jsonl
from webtext.errors import WebtextError
from webtext.record import doc_id
from webtext.urls import normalize_url

from crawl_helpers import submission


def build(tmp_path, subs, *, buckets=8, part=Part(1, 1), buffer_bytes=200, name="links", **filters):
    b = LinkBuilder(SubmissionFilter(FilterConfig(**filters)), str(tmp_path / f"spool-{name}"), buckets=buckets,
                    part=part, buffer_bytes=buffer_bytes)
    for s in subs:
        b.add(s)
    out = tmp_path / name
    stats = b.finish(str(out), prefix=f"links-{part.tag}")
    return list(jsonl.read_dir(str(out))), stats, b.counts


def test_one_link_per_normalised_url_with_all_its_submissions(tmp_path):
    subs = [
        submission("b2", "http://Example.com:80/story?utm_source=rss&id=1", score=5, subreddit="news",
                   created_utc=1_300_000_000),
        submission("a1", "http://example.com/story?id=1#comments", score=40, subreddit="world",
                   created_utc=1_200_000_000),
        submission("zz", "http://example.com/story?id=1", score=1, subreddit="spam"),  # below 3: not counted
        submission("c3", "https://other.org/a", score=3, subreddit="news", over_18=True),
    ]
    links, stats, counts = build(tmp_path, subs)
    assert counts.kept == 3 and counts.dropped == {"score": 1}
    by_url = {link["url"]: link for link in links}
    story = by_url["http://example.com/story?id=1"]
    assert story["id"] == doc_id(normalize_url("http://example.com/story?id=1"))
    assert story["source"] == {"reddit_ids": ["a1", "b2"], "subreddits": ["news", "world"], "score": 40,
                               "created_utc": 1_200_000_000, "submissions": 2, "nsfw": False}
    assert by_url["https://other.org/a"]["source"]["nsfw"] is True
    assert stats.links == 2 and stats.subreddits == {"news": 2, "world": 1}
    assert dict(stats.created_month) == {"2008-01": 1, "2014-05": 1}


def test_sum_rule_counts_every_submission_and_drops_whole_links(tmp_path):
    subs = [submission("1", "http://a.org/x", score=2), submission("2", "http://a.org/x", score=2),
            submission("3", "http://b.org/y", score=2)]
    links, _, counts = build(tmp_path, subs, score_rule="sum")
    assert [(link["url"], link["source"]["score"]) for link in links] == [("http://a.org/x", 4)]
    assert counts.kept == 2 and counts.dropped == {"score": 1}


def test_links_are_sorted_by_id_across_buckets_with_tiny_buffers(tmp_path):
    subs = [submission(str(i), f"http://host{i % 7}.org/page/{i}") for i in range(500)]
    subs += [submission(f"d{i}", f"http://host{i % 7}.org/page/{i}") for i in range(0, 500, 5)]  # duplicates
    links, stats, _ = build(tmp_path, subs, buckets=16, buffer_bytes=512)
    ids = [link["id"] for link in links]
    assert len(ids) == 500 == stats.links and ids == sorted(ids)
    assert sum(link["source"]["submissions"] for link in links) == 600
    assert not os.path.exists(tmp_path / "spool-links")  # spool removed once the list is written


def test_parts_are_disjoint_by_host_and_their_union_is_the_whole(tmp_path):
    subs = [submission(str(i), f"http://{'www.' if i % 3 == 0 else ''}host{i % 11}.org/{i}") for i in range(300)]
    whole, _, whole_counts = build(tmp_path, subs, name="whole")
    parts = [build(tmp_path, subs, part=Part(i, 3), name=f"p{i}") for i in (1, 2, 3)]
    ids = [set(link["id"] for link in p[0]) for p in parts]
    assert not (ids[0] & ids[1]) and not (ids[0] & ids[2]) and not (ids[1] & ids[2])
    assert ids[0] | ids[1] | ids[2] == {link["id"] for link in whole}
    # Every part reads (and counts) every submission.
    assert all(p[2].as_dict() == whole_counts.as_dict() for p in parts)
    # www.host3.org and host3.org are one host for the split.
    assert part_of("www.host3.org", 3) == part_of("host3.org", 3)
    assert sum(p[1].links for p in parts) == len(whole)
    names = sorted(os.listdir(tmp_path / "p2"))
    assert names == ["links-part002of003-00000.jsonl.zst"]


def test_parse_part():
    assert parse_part(None) == Part(1, 1) and parse_part("2/8") == Part(2, 8)
    for bad in ("0/4", "5/4", "x", "1/0", "1-4"):
        with pytest.raises(WebtextError, match="--part"):
            parse_part(bad)


def test_parallel_scan_of_dump_files_equals_one_process(tmp_path):
    from crawl.sources import SourceStats

    files = []
    for f in range(3):
        subs = [submission(f"{f}_{i}", f"http://host{i % 5}.org/{i % 40}", score=i % 7) for i in range(120)]
        lines = [json.dumps(s) for s in subs] + ["{broken"]
        path = tmp_path / f"RS_{f}.jsonl"
        path.write_text("\n".join(lines) + "\n")
        files.append(str(path))
    results = []
    for workers in (1, 3):
        b = LinkBuilder(SubmissionFilter(FilterConfig()), str(tmp_path / f"spool{workers}"), buckets=8)
        stats = SourceStats()
        b.scan(files, stats, workers=workers)
        b.finish(str(tmp_path / f"out{workers}"))
        results.append((list(jsonl.read_dir(str(tmp_path / f"out{workers}"))), b.counts.as_dict(), stats.read,
                        stats.bad_lines, sorted((x.path, x.line) for x in stats.bad)))
    assert results[0] == results[1]
    assert results[1][2] == 360 and results[1][3] == 3 and results[1][0]
    # A file that is not a dump is one clear error from a worker process too.
    notes = tmp_path / "notes.txt"
    notes.write_text("not json\n" * 200)
    b = LinkBuilder(SubmissionFilter(FilterConfig()), str(tmp_path / "spool-bad"), buckets=8)
    with pytest.raises(WebtextError, match="notes.txt: not a Reddit submissions dump"):
        b.scan(files + [str(notes)], SourceStats(), workers=2)
