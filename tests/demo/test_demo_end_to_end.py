"""The demo, end to end: the bundled mini-web through every stage, checked against its ground truth.

Runs `webtext run examples/demo.yaml` as `make demo` (examples/run_demo.py) does, with its own work
folder and the mini-web served on a free port, then checks real outcomes: what was never fetched, what dedupe removed, that
the shards decode back to the documents, that the model learned, that the report covers every stage,
and that a second run skips everything it already did.
"""

import json
import os
import re

import numpy as np
import pytest

from conftest import free_port
from webtext import jsonl
from webtext.beam import read_sharded
from webtext.record import doc_id
from webtext.urls import normalize_url

from miniweb_fixtures import EXAMPLES  # noqa: F401 - puts examples/ on sys.path

STAGES = ["crawl", "clean", "dedupe", "shard", "train", "report"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory, repo_root):
    from miniweb.generate import build_miniweb
    from miniweb.serve import serve

    port = free_port()
    site = str(tmp_path_factory.mktemp("miniweb"))
    build_miniweb(site, port=port)
    work = str(tmp_path_factory.mktemp("work"))
    from conftest import webtext_cli

    args = ["examples/demo.yaml", "--set", f"run.work_dir={work}",
            "--set", f"crawl.submissions=[{os.path.join(site, 'submissions.jsonl.xz')}]"]
    with serve(site, port=port) as server:
        first = webtext_cli("run", *args, timeout=600)
        requested = {normalize_url(f"http://{r['host']}:{port}{r['path']}") for r in server.requests}
        second = webtext_cli("run", *args, timeout=600)
    with open(os.path.join(site, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    return {"first": first, "second": second, "work": work, "manifest": manifest, "requested": requested,
            "port": port}


def success(demo, stage):
    with open(os.path.join(demo["work"], stage, "_SUCCESS.json"), encoding="utf-8") as f:
        return json.load(f)


def test_the_run_succeeds_and_reports_every_stage(demo):
    r = demo["first"]
    assert r.returncode == 0, r.stderr[-3000:]
    for stage in STAGES:
        assert os.path.isfile(os.path.join(demo["work"], stage, "_SUCCESS.json")), stage
        assert re.search(rf"\] {stage}\s+done in", r.stderr), stage
    assert "Traceback" not in r.stderr


def test_filtered_links_were_never_requested(demo):
    never = demo["manifest"]["never_fetch"]
    for reason in ("low_score", "self_post", "blocked_domain", "nsfw", "robots_disallowed"):
        urls = {normalize_url(u) for u in never[reason]}
        assert urls, reason
        assert not urls & demo["requested"], (reason, sorted(urls & demo["requested"]))
    # and what should be fetched was, except files the extension blocklist filters before the crawl
    expected = {normalize_url(u) for u in demo["manifest"]["fetch_expected"]
                if not u.endswith((".pdf", ".jpg"))}
    assert expected <= demo["requested"], sorted(expected - demo["requested"])
    crawl = success(demo, "crawl")
    dropped = crawl["stats"]["submissions"]["dropped"]
    assert dropped["score"] == len(never["low_score"]) and dropped["self_post"] >= len(never["self_post"])


def test_clean_drops_the_pages_it_should(demo):
    reasons = {r["url"]: r["reason"] for r in read_sharded(os.path.join(demo["work"], "clean", "rejects"), "rejects")}
    m = demo["manifest"]
    for entry in m["non_english"]:
        assert reasons.get(entry["url"]) == "lang", entry
    for entry in m["wikipedia_like"]:
        assert reasons.get(entry["url"]) == "wikipedia", entry
    for entry in m["tiny"] + m["empty"]:
        assert entry["url"] in reasons, entry
    docs = {d["url"]: d for d in read_sharded(os.path.join(demo["work"], "clean", "docs"), "docs")}
    for entry in m["charset_mismatch"]:
        assert entry["probe"] in docs[entry["url"]]["text"], entry  # decoded, not mojibake


def test_near_and_exact_duplicates_were_removed(demo):
    kept = {d["id"] for d in read_sharded(os.path.join(demo["work"], "dedupe", "docs"), "docs")}
    rejects = list(read_sharded(os.path.join(demo["work"], "dedupe", "rejects"), "rejects"))
    removed = {r["id"]: r["reason"] for r in rejects}
    for cluster in demo["manifest"]["duplicates"]:
        ids = [doc_id(normalize_url(u)) for u in cluster["members"]]
        assert sum(i in kept for i in ids) == 1, cluster
        # (a near copy whose extracted text came out identical is removed as an exact duplicate)
        kinds = ("exact_duplicate_of",) if cluster["kind"] == "exact" else ("near_duplicate_of", "exact_duplicate_of")
        assert any(removed.get(i, "").startswith(kinds) for i in ids), cluster
    for pair in demo["manifest"]["not_duplicates"]:  # a quoted paragraph is not a duplicate
        assert all(doc_id(normalize_url(u)) in kept for u in pair["members"]), pair


def test_shards_decode_back_to_the_documents(demo):
    from tokenizers import Tokenizer

    from shard import open_shard, read_index, read_manifest

    folder = os.path.join(demo["work"], "shard")
    manifest = read_manifest(folder)
    tok = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    texts = {d["id"]: d["text"] for d in read_sharded(os.path.join(demo["work"], "dedupe", "docs"), "docs")}
    pieces = {}
    for entry in manifest["shards"]:
        tokens = open_shard(os.path.join(folder, entry["name"]))
        for p in read_index(os.path.join(folder, entry["idx"])):
            pieces.setdefault(p["id"], []).append((p["doc_offset"], tokens[p["offset"]:p["offset"] + p["tokens"]]))
    assert set(pieces) == set(texts)
    for did, parts in pieces.items():
        ids = np.concatenate([t for _, t in sorted(parts, key=lambda x: x[0])])
        assert ids[0] == manifest["eot_id"]
        assert tok.decode(ids[1:].tolist(), skip_special_tokens=False) == texts[did]


def test_the_model_learned(demo):
    evals = [json.loads(line) for line in open(os.path.join(demo["work"], "train", "log.jsonl"))]
    val = [e["val_loss"] for e in evals if "val_loss" in e]
    assert len(val) >= 3 and val[-1] < val[0] - 1.0, val
    assert os.path.isfile(os.path.join(demo["work"], "train", "hf", "model.safetensors"))


def test_the_report_covers_every_stage(demo):
    with open(os.path.join(demo["work"], "report", "index.html"), encoding="utf-8") as f:
        html = f.read()
    with open(os.path.join(demo["work"], "report", "stats.json"), encoding="utf-8") as f:
        stats = json.load(f)
    from report.check import check_page

    assert {stage: info["state"] for stage, info in stats["stages"].items()} == {s: "done" for s in STAGES[:-1]}
    assert stats["missing"] == [] and stats["errors"] == []
    assert all(section["complete"] for section in stats["sections"].values()), stats["sections"].keys()
    funnel = stats["sections"]["funnel"]["data"]
    assert funnel["warnings"] == []  # every record accounted for from one stage to the next
    assert {step["stage"] for step in funnel["steps"]} >= set(STAGES[:-1])
    for step in funnel["steps"]:  # each step's numbers are the stage's own _SUCCESS.json counts
        if step["stage"] in ("clean", "dedupe", "shard"):
            counts = success(demo, step["stage"])["counts"]
            assert (step["in"], step["out"]) == (counts["in"], counts["out"]), step
    assert check_page(html) == []  # images decode, no external fetches, no empty section


def test_a_second_run_skips_every_finished_stage(demo):
    r = demo["second"]
    assert r.returncode == 0, r.stderr[-3000:]
    for stage in STAGES[:-1]:
        assert re.search(rf"\] {stage}\s+already done", r.stderr), stage
    assert re.search(r"\] report\s+done in", r.stderr)  # the report always redraws
