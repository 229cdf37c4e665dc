"""The mini-web generator: deterministic, incremental, and its submissions and ground truth hold."""

import json
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timezone

import pytest
from miniweb_fixtures import EXAMPLES, generated_miniweb  # first: it puts examples/ on sys.path

from miniweb.generate import DEFAULT_SEED, SUBMISSIONS, build_miniweb
from webtext.jsonl import read_jsonl
from webtext.record import doc_id
from webtext.urls import normalize_url


@pytest.fixture(scope="module")
def miniweb(tmp_path_factory):
    return generated_miniweb(tmp_path_factory)


def tree(path):
    out = {}
    for root, _, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            with open(full, "rb") as f:
                out[os.path.relpath(full, path)] = f.read()
    return out


def test_same_inputs_same_bytes_and_rerun_writes_nothing(miniweb, tmp_path):
    # Built again by the command line, in another process with another hash seed: the same bytes.
    other = tmp_path / "again"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), PYTHONHASHSEED="123")
    r = subprocess.run([sys.executable, os.path.join(EXAMPLES, "miniweb", "generate.py"), str(other),
                        "--port", str(miniweb.summary["port"]), "--seed", str(DEFAULT_SEED)], env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert "files written" in r.stdout
    first, second = tree(miniweb.path), tree(str(other))
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []

    mtimes = {k: os.stat(other / k).st_mtime_ns for k in second}
    time.sleep(0.01)
    summary = build_miniweb(str(other), port=miniweb.summary["port"], seed=DEFAULT_SEED)
    assert summary["unchanged"] and summary["written"] == 0
    assert {k: os.stat(other / k).st_mtime_ns for k in second} == mtimes  # the crawl's fingerprint holds

    # A stale file is removed, a damaged one rewritten; another port changes the URLs in the submissions.
    (other / "sites" / "news.miniweb.test" / "stale.html").write_text("old")
    (other / "routes.json").write_text("{}")
    summary = build_miniweb(str(other), port=miniweb.summary["port"] + 1, seed=DEFAULT_SEED)
    assert summary["removed"] == 1 and not (other / "sites" / "news.miniweb.test" / "stale.html").exists()
    assert json.loads((other / "routes.json").read_text())["port"] == miniweb.summary["port"] + 1
    assert (other / SUBMISSIONS).read_bytes() != first[SUBMISSIONS]


def test_size_and_shape(miniweb):
    s = miniweb.summary
    assert s["hosts"] == 10 and 200 <= s["html_pages"] <= 400
    assert s["bytes"] < 6_000_000  # a few MB
    assert s["submissions"] >= 200 and s["fetch_expected"] >= 150


def test_submissions_have_the_dumps_fields_and_the_intended_mix(miniweb, shared_data):
    path = os.path.join(miniweb.path, SUBMISSIONS)
    records = list(read_jsonl(path))
    real = next(read_jsonl(os.path.join(shared_data, "reddit", "RS_v2_2005-06.xz")))
    # The real dump's fields (only post_hint/preview, present on some real records, are left out).
    assert all(set(r) == set(real) - {"post_hint", "preview"} for r in records)
    assert all(type(r[k]) is type(real[k]) for r in records for k in ("id", "score", "created_utc", "is_self",
                                                                      "over_18", "url", "title", "subreddit"))
    with open(path, "rb") as f:
        import lzma

        raw = lzma.decompress(f.read())
    assert b'"url":"http:\\/\\/' in raw  # slashes escaped as in Pushshift's files

    assert len({r["id"] for r in records}) == len(records)
    assert [r["created_utc"] for r in records] == sorted(r["created_utc"] for r in records)
    months = Counter(datetime.fromtimestamp(r["created_utc"], timezone.utc).strftime("%Y-%m") for r in records)
    assert min(months) >= "2005-06" and max(months) <= "2017-11" and len(months) >= 80
    assert len({r["subreddit"] for r in records}) >= 8
    scores = Counter("low" if r["score"] < 3 else "three" if r["score"] == 3 else "high" for r in records)
    assert scores["low"] >= 25 and scores["three"] >= 3 and scores["high"] >= 150
    assert sum(r["is_self"] for r in records) == 15
    assert all(r["domain"] == f"self.{r['subreddit']}" and "reddit.com/r/" in r["url"] for r in records if r["is_self"])
    assert sum(r["over_18"] for r in records) == 4
    hosts = Counter(r["domain"] for r in records)
    assert {"i.imgur.com", "imgur.com", "en.wikipedia.org", "reddit.com"} <= set(hosts)
    by_link = Counter(normalize_url(r["url"]) for r in records)
    assert sum(1 for n in by_link.values() if n > 1) >= 10  # resubmissions and URL variants
    variants = [r["url"] for r in records if "utm_" in r["url"] or "#" in r["url"] or "MiniWeb" in r["url"]
                or "fbclid" in r["url"] or "ref_src" in r["url"]]
    assert len(variants) >= 10


def test_manifest_agrees_with_the_submissions_and_the_pages(miniweb):
    m = miniweb.manifest
    records = list(read_jsonl(os.path.join(miniweb.path, SUBMISSIONS)))
    links = {}
    for r in records:
        links.setdefault(normalize_url(r["url"]), []).append(r)
    assert set(m["links"]) == set(links)
    assert all(m["links"][u]["id"] == doc_id(u) for u in links)
    nf = m["never_fetch"]
    assert all(max(r["score"] for r in links[u]) < 3 for u in nf["low_score"]) and len(nf["low_score"]) == 30
    assert all(all(r["is_self"] for r in links[u]) for u in nf["self_post"]) and len(nf["self_post"]) == 15
    assert all(all(r["over_18"] for r in links[u]) for u in nf["nsfw"])
    assert all("miniweb.test" not in u for u in nf["blocked_domain"]) and len(nf["blocked_domain"]) == 6
    assert all("/private/" in u for u in nf["robots_disallowed"])
    # Every link that survives the filters is something the server answers for.
    for u in m["fetch_expected"]:
        assert u in m["pages"], u
        assert max(r["score"] for r in links[u]) >= 3
    assert set(m["fetch_expected"]) <= set(m["links_after_filters"])
    # Never-fetch pages exist on the mini-web (so fetching one by mistake would show).
    for u in nf["low_score"] + nf["nsfw"] + nf["robots_disallowed"]:
        assert m["pages"][u]["status"] == 200
    for cluster in m["duplicates"]:
        assert len(cluster["members"]) >= 2 and all(u in m["fetch_expected"] for u in cluster["members"])
        if cluster["kind"] == "exact":
            assert len({miniweb.body(u) for u in cluster["members"]}) == 1
    assert {d["kind"] for d in m["duplicates"]} == {"exact", "near"}
    for v in m["url_variants"]:
        assert len(v["submitted_as"]) >= 2 and {normalize_url(s) for s in v["submitted_as"]} == {v["url"]}
    assert {e["lang"] for e in m["non_english"]} == {"fr", "de", "es"}
    for e in m["wikipedia_like"]:
        body = miniweb.body(e["url"]).decode("utf-8")
        assert all(marker in body for marker in e["markers"]["html"])
    for e in m["tiny"]:
        assert e["words"] < 20
    for e in m["empty"]:
        assert e["bytes"] < 100
    for e in m["charset_mismatch"]:
        body = miniweb.body(e["url"])
        assert e["probe"] in body.decode(e["actual"]) and e["probe"] not in body.decode(e["declared"], "replace")
        assert m["pages"][e["url"]]["type"] == f"text/html; charset={e['declared']}"
    for e in m["non_html"]:
        assert not m["pages"][e["url"]]["type"].startswith("text/html")
    for e in m["redirects"]:
        assert m["pages"][e["location"]]["status"] == 200 and e["location"] not in m["links"]
    assert all(m["pages"][u]["status"] == 404 for u in m["not_found"])


def test_article_pages_carry_hundreds_of_words_and_duplicates_are_duplicates_after_extraction(miniweb):
    """The ground truth holds for what an extractor sees: near-duplicates stay near, pages keep their prose."""
    import trafilatura

    m = miniweb.manifest

    def text(url):
        return trafilatura.extract(miniweb.body(url).decode("utf-8"), url=url) or ""

    def jaccard(a, b, n=5):
        sa, sb = ({tuple(w[i:i + n]) for i in range(len(w) - n + 1)} for w in (a.split(), b.split()))
        return len(sa & sb) / len(sa | sb)

    for cluster in m["duplicates"]:
        texts = [text(u) for u in cluster["members"]]
        assert all(jaccard(texts[0], t) >= 0.85 for t in texts[1:]), cluster
    for pair in m["not_duplicates"]:
        a, b = (text(u) for u in pair["members"])
        assert jaccard(a, b) < 0.2
    keep = [u for u, p in m["pages"].items() if p.get("expect") == "keep" and p["type"] == "text/html; charset=utf-8"]
    assert len(keep) >= 150
    for u in keep[::10]:
        assert m["pages"][u]["words"] >= 250 and len(text(u).split()) >= 250, u
    for e in m["wikipedia_like"]:
        t = text(e["url"])
        assert all(marker in t for marker in e["markers"]["text"])
    for e in m["tiny"] + m["empty"]:
        assert len(text(e["url"]).split()) < 60
