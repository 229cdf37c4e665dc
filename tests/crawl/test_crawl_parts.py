"""A real crawl of a multi-host site, whole and in two parts: the parts are disjoint, their union (and
their merge) is the whole crawl, and the merged folder is what `webtext run` accepts as the crawl."""

import json
import os

from crawl.verify import iter_pages
from webtext import jsonl

from crawl_helpers import quick_fetch, run_crawl, submission, write_config, write_submissions
from crawl_servers import Server, site_route

HOSTS = [f"h{i}.site.test" for i in range(8)]


def crawl_outcomes(folder):
    links = {link["id"] for link in jsonl.read_dir(os.path.join(folder, "links"))}
    stored = []
    for name in jsonl.list_files(os.path.join(folder, "warc"), ".warc.gz"):
        stored += [(link["id"], url) for link, url, _, _ in iter_pages(name)]
    failed = {(r["id"], r["reason"]) for r in jsonl.read_dir(os.path.join(folder, "failures"))}
    return links, stored, failed


def test_parts_union_equals_the_whole_crawl(tmp_path, cli):
    with Server(site_route()) as server:
        subs = []
        for h, host in enumerate(HOSTS):
            for p in range(10):
                subs.append(submission(f"{h}x{p}", f"http://{host}:{server.port}/p/{p}", score=3 + p))
            subs.append(submission(f"{h}m", f"http://{host}:{server.port}/missing", score=4))
            subs.append(submission(f"{h}low", f"http://{host}:{server.port}/p/low", score=1))
            subs.append(submission(f"{h}self", f"https://www.reddit.com/r/test/comments/{h}/", is_self=True))
        subs.append(submission("dup", f"http://{HOSTS[0].upper()}:{server.port}/p/1?utm_source=x#top", score=9))
        dump = write_submissions(tmp_path / "RS_site.jsonl", subs)
        crawl = {"submissions": [dump], "fetch": quick_fetch(), "link_buckets": 4}
        whole_cfg, whole = run_crawl(write_config(tmp_path, crawl, tmp_path / "whole", "whole.yaml"))
        part_dirs = []
        for i in (1, 2):
            cfg, rec = run_crawl(write_config(tmp_path, crawl, tmp_path / f"part{i}", f"part{i}.yaml"), part=f"{i}/2")
            assert rec["options"] == {"part": f"{i}/2"} and rec["counts"]["in"] > 0
            part_dirs.append(os.path.join(cfg.run.work_dir, "crawl"))
        hits = dict(server.hits)

    # Each page was fetched once by the whole crawl and once by the part that holds its host.
    pages = {(host, f"/p/{p}") for host in HOSTS for p in range(10)}
    assert all(hits[key] == 2 for key in pages), {k: v for k, v in hits.items() if k in pages and v != 2}
    assert not any(path == "/p/low" for _, path in hits)

    w_links, w_stored, w_failed = crawl_outcomes(os.path.join(whole_cfg.run.work_dir, "crawl"))
    assert len(w_links) == 88 and len(w_stored) == 80 and {r for _, r in w_failed} == {"http_404"}
    parts = [crawl_outcomes(d) for d in part_dirs]
    assert not parts[0][0] & parts[1][0]
    assert parts[0][0] | parts[1][0] == w_links
    assert sorted(parts[0][1] + parts[1][1]) == sorted(w_stored)
    assert parts[0][2] | parts[1][2] == w_failed and not parts[0][2] & parts[1][2]
    # Files of the parts carry their part's name, so they can sit side by side.
    names1 = set(os.listdir(os.path.join(part_dirs[0], "warc")))
    assert names1 and all(n.startswith("part001of002-") for n in names1)

    # Merge the parts (through the CLI) into the work_dir of a config with the same crawl block.
    merge_cfg = write_config(tmp_path, crawl, tmp_path / "merged", "merged.yaml")
    r = cli("crawl", "merge", merge_cfg, *part_dirs)
    assert r.returncode == 0, r.stderr
    merged = os.path.join(tmp_path, "merged", "crawl")
    m_links, m_stored, m_failed = crawl_outcomes(merged)
    assert (m_links, sorted(m_stored), m_failed) == (w_links, sorted(w_stored), w_failed)
    m_success = json.load(open(os.path.join(merged, "_SUCCESS.json")))
    assert m_success["counts"] == whole["counts"]
    for key in ("submissions", "links", "link_domains", "scores", "subreddits", "created_month"):
        assert m_success["stats"][key] == whole["stats"][key], key
    assert m_success["stats"]["fetch"] == whole["stats"]["fetch"]
    r = cli("crawl", "verify", merged)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stdout
    # The pipeline takes the merged folder as its finished crawl.
    r = cli("status", merge_cfg)
    assert r.returncode == 0 and " crawl    done" in r.stdout, r.stdout
    # A merge with a part missing, or of parts from another config, is refused.
    r = cli("crawl", "merge", merge_cfg, part_dirs[0])
    assert r.returncode == 1 and "missing [2]" in r.stderr
    other = write_config(tmp_path, {**crawl, "link_buckets": 8}, tmp_path / "other", "other.yaml")
    r = cli("crawl", "merge", other, *part_dirs)
    assert r.returncode == 1 and "different crawl config" in r.stderr
