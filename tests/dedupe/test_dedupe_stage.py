"""The dedupe stage end to end: real Beam pipelines on real files, through the stage runner."""

import json
import os
import sys
import random
import shutil

import numpy as np
import pytest

from dedupe import synth
from webtext import jsonl
from webtext.beam import read_sharded
from webtext.errors import InputError
from webtext.record import new_document

SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "si", "pe", "du", "gra", "bel", "tor", "fin", "sha", "quo"]
VOCAB = sorted({a + b + c for a in SYLLABLES for b in SYLLABLES for c in ("", "n", "s", "r")})


def text_of(rnd, n):
    words = [rnd.choice(VOCAB) for _ in range(n)]
    for i in range(0, n, rnd.randint(8, 15)):
        words[i] = words[i].capitalize()
        if i:
            words[i - 1] += "."
    return " ".join(words) + "."


def replace_span(text, rnd, k, at=None):
    words = text.split()
    start = rnd.randrange(0, len(words) - k) if at is None else at
    words[start:start + k] = [rnd.choice(VOCAB) for _ in range(k)]
    return " ".join(words)


def mk(url, text, score=10, created=1_000_000):
    return new_document(f"https://example.org/{url}", text, source={
        "score": score, "created_utc": created, "reddit_ids": [url], "subreddits": ["test"]})


def _with_jaccard(rnd, base, lo, hi, start_k):
    """A copy of `base` with one replaced span whose true Jaccard with it lies in [lo, hi)."""
    for k in range(start_k, 200):
        for _ in range(5):
            other = replace_span(base, rnd, k)
            j = synth.true_jaccard(base, other, 5)
            if lo <= j < hi:
                return other, j
    raise AssertionError("no copy in the Jaccard range")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Documents, the benchmark they may leak, and the reason each document should meet."""
    rnd = random.Random(42)
    docs, expect = [], {}

    def add(url, text, reason=None, **kw):
        docs.append(mk(url, text, **kw))
        expect[url] = reason
        return docs[-1]

    for i in range(40):
        add(f"plain{i}", text_of(rnd, rnd.randint(120, 300)), score=rnd.randint(3, 90))
    # exact duplicates: highest score wins, then the earliest submission
    base = text_of(rnd, 200)
    e2 = mk("e2", "  " + base.upper().replace(" ", "\n "), score=50, created=150)
    add("e0", base, f"exact_duplicate_of:{e2['id']}", score=10, created=100)
    add("e1", base.replace(" ", "   "), f"exact_duplicate_of:{e2['id']}", score=50, created=200)
    add("e2", e2["text"], score=50, created=150)
    # near duplicates with equal score and time: the smallest id is kept
    base = text_of(rnd, 250)
    n0, n1 = mk("n0", base, score=7, created=300), mk("n1", replace_span(base, rnd, 3), score=7, created=300)
    keep, drop = sorted([n0, n1], key=lambda d: d["id"])
    add(keep["url"].rsplit("/", 1)[1], keep["text"], score=7, created=300)
    add(drop["url"].rsplit("/", 1)[1], drop["text"], f"near_duplicate_of:{keep['id']}", score=7, created=300)
    # a chain c0 ~ c1 ~ c2 where c0 and c2 are not similar: one cluster, kept by c2 (highest score)
    c0 = text_of(rnd, 300)
    words = c0.split()
    c1 = replace_span(c0, rnd, 18, at=30)
    c2 = replace_span(c1, rnd, 18, at=250)
    assert synth.true_jaccard(c0, c1, 5) >= 0.8 and synth.true_jaccard(c1, c2, 5) >= 0.8
    assert synth.true_jaccard(c0, c2, 5) < 0.8 and len(words) == 300
    cid = mk("c2", c2)["id"]
    add("c0", c0, f"near_duplicate_of:{cid}", score=5)
    add("c1", c1, f"near_duplicate_of:{cid}", score=6)
    add("c2", c2, score=99)
    # just above and just below the threshold, and far below
    base = text_of(rnd, 400)
    add("t0", base, score=80)
    above, j_above = _with_jaccard(rnd, base, 0.80, 0.84, 20)
    add("t_above", above, f"near_duplicate_of:{mk('t0', base)['id']}", score=3)
    base2 = text_of(rnd, 400)
    add("u0", base2, score=80)
    below, j_below = _with_jaccard(rnd, base2, 0.75, 0.7999, 25)
    add("u_below", below, score=3)
    base3 = text_of(rnd, 200)
    add("v0", base3)
    add("v_far", " ".join(w if rnd.random() > 0.15 else "zz" for w in base3.split()))
    # empty, short, non-Latin
    add("empty0", "", score=5)
    add("empty1", "  \n ", f"exact_duplicate_of:{mk('empty0', '')['id']}", score=4)
    add("short0", "Hello world", score=9)
    add("short1", "HELLO, world!", f"near_duplicate_of:{mk('short0', '')['id']}", score=8)
    add("tiny", "word")
    cjk = "".join(chr(0x4E00 + rnd.randrange(3000)) for _ in range(400))
    add("zh0", cjk, score=20)
    add("zh1", cjk[:200] + "是" + cjk[201:], f"near_duplicate_of:{mk('zh0', '')['id']}", score=2)
    add("ru", " ".join("".join(rnd.choice("абвгдеклмнопрст") for _ in range(rnd.randint(2, 8))) for _ in range(150)))
    add("ar", " ".join(rnd.choice(["كتاب", "مدرسة", "بيت", "شمس", "قمر", "ماء"]) for _ in range(150)))
    # a second record with the id of plain0 (a crawl bug upstream): kept apart, counted
    twin = dict(docs[0])
    twin["text"] = text_of(rnd, 100)
    docs.append(twin)

    # decontamination
    passages = [text_of(rnd, 20).replace(".", "") for _ in range(5)]
    bench = tmp_path_factory.mktemp("bench") / "mini.txt"
    bench.write_text("\n".join(passages) + "\n")
    add("k_cut", f"{text_of(rnd, 150)} {passages[0].upper()} {text_of(rnd, 150)}")
    dirty = [text_of(rnd, 100)]
    for _ in range(11):  # 11 collisions far enough apart (~700 characters) to leave 12 pieces
        dirty += [passages[2], text_of(rnd, 100)]
    add("k_drop", " ".join(dirty), "contaminated:mini")
    for i in range(3):  # in more than max_doc_frequency (2) documents: common, ignored
        add(f"k_common{i}", f"{text_of(rnd, 100)} {passages[1]} {text_of(rnd, 100)}")

    work = str(tmp_path_factory.mktemp("work"))
    folder = synth.write_clean_output(work, docs, files=3)
    with jsonl.JsonlWriter(os.path.join(folder, "docs-00003.jsonl.zst")):
        pass  # an empty input file
    block = {"doc_shards": 3, "reject_shards": 2, "cluster_shards": 2,
             "decontamination": {"benchmarks": [{"name": "mini", "path": str(bench), "format": "text"}],
                                 "max_doc_frequency": 2}}
    success = synth.run_stage(work, block)
    return {"work": work, "docs": docs, "expect": expect, "block": block, "success": success,
            "passages": passages, "j": (j_above, j_below)}


def outputs(work):
    out = os.path.join(work, "dedupe")
    return (list(read_sharded(os.path.join(out, "docs"), "docs")),
            list(read_sharded(os.path.join(out, "rejects"), "rejects")),
            list(read_sharded(os.path.join(out, "clusters"), "clusters")))


def test_every_document_is_kept_or_rejected_once_for_the_expected_reason(corpus):
    kept, rejects, _ = outputs(corpus["work"])
    inputs = sorted((d["id"], d["url"]) for d in corpus["docs"])
    assert sorted((d["id"], d["url"]) for d in kept + rejects) == inputs
    reasons = {}
    for r in rejects:
        if r["reason"] != "duplicate_id":
            reasons[r["url"].rsplit("/", 1)[1]] = r["reason"]
    got = {url: reasons.get(url) for url in corpus["expect"]}
    assert got == corpus["expect"]
    dup = [r for r in rejects if r["reason"] == "duplicate_id"]
    assert len(dup) == 1 and dup[0]["id"] == corpus["docs"][0]["id"] and dup[0]["stage"] == "dedupe"
    counts = corpus["success"]["counts"]
    assert counts["in"] == len(corpus["docs"]) == counts["out"] + sum(counts["dropped"].values())
    assert counts["out"] == len(kept)
    assert counts["dropped"] == {"contaminated": 1, "duplicate_id": 1, "exact_duplicate_of": 3,
                                 "near_duplicate_of": 6}


def test_clusters_name_their_keeper_and_members(corpus):
    _, _, clusters = outputs(corpus["work"])
    by_url = {d["id"]: d["url"].rsplit("/", 1)[1] for d in corpus["docs"]}
    named = {by_url[c["keeper"]]: (sorted(by_url[m] for m in c["members"]), c["size"], c["exact_duplicates"],
                                   c["near_duplicates"]) for c in clusters}
    assert named["e2"] == (["e0", "e1", "e2"], 3, 2, 0)
    assert named["c2"] == (["c0", "c1", "c2"], 3, 0, 2)
    assert named["t0"] == (["t0", "t_above"], 2, 0, 1)
    assert named["empty0"] == (["empty0", "empty1"], 2, 1, 0)
    assert "u0" not in named and "v0" not in named
    stats = corpus["success"]["stats"]
    assert stats["cluster_sizes"] == {"2": len(clusters) - 2, "3": 2}
    assert stats["clusters"] == len(clusters)


def test_stats_follow_the_contract(corpus):
    st = corpus["success"]["stats"]
    n = len(corpus["docs"])
    assert st["exact_duplicates"] == 3 and st["near_duplicates"] == 6
    assert st["duplicate_rate"] == round(9 / n, 6)
    assert st["empty_docs"] == 2 and st["short_docs"] == 3  # "hello world" x2 and "word"
    assert sum(st["chars"].values()) == corpus["success"]["counts"]["out"]
    assert st["minhash"]["bands"] == 20 and st["minhash"]["rows"] == 6
    cand = st["candidates"]
    assert cand["exact_checks"] == cand["confirmed_by_exact"] + cand["rejected_by_exact"] >= 1
    assert set(st["contamination"]["mini"]) == {"ngram", "overlap_before", "overlap_after", "docs_removed", "docs_cut"}


def test_decontamination_cuts_drops_and_ignores_common_ngrams(corpus):
    kept, rejects, _ = outputs(corpus["work"])
    by_url = {d["url"].rsplit("/", 1)[1]: d for d in kept}
    cut = by_url["k_cut"]
    original = next(d for d in corpus["docs"] if d["url"].endswith("/k_cut"))
    assert corpus["passages"][0].upper() not in cut["text"] and len(cut["text"]) < len(original["text"])
    meta = cut["meta"]["decontamination"]
    assert meta["benchmarks"] == ["mini"] and meta["pieces"] == 2 and meta["collisions"] == 8
    for i in range(3):
        assert corpus["passages"][1] in by_url[f"k_common{i}"]["text"]
    drop = next(r for r in rejects if r["url"].endswith("/k_drop"))
    assert drop["reject"]["pieces"] == 12 and drop["reject"]["benchmarks"] == ["mini"]
    report = jsonl.read_json(os.path.join(corpus["work"], "dedupe", "contamination.json"))
    mini = report["benchmarks"]["mini"]
    assert mini["docs_removed"] == 1 and mini["docs_cut"] == 1 and report["frequent_ngrams_ignored"] == 8
    # 5 passages of 20 words: 65 distinct 8-grams; three of the passages occur in the corpus
    assert mini["benchmark_ngrams"] == 65 and mini["found_before"] == 39 and mini["found_after"] == 13
    assert mini["overlap_after"] < mini["overlap_before"]
    assert corpus["success"]["stats"]["contamination"]["mini"]["overlap_before"] == round(39 / 65, 6)


def test_output_is_byte_identical_across_parallelism_and_component_rounds(corpus, tmp_path):
    """Two worker processes and no contraction rounds (all components by the final union-find)
    write the same bytes as one in-memory process with four rounds."""
    work = str(tmp_path)
    shutil.copytree(os.path.join(corpus["work"], "clean"), os.path.join(work, "clean"))
    block = dict(corpus["block"], component_rounds=0)
    other = synth.run_stage(work, block, {"direct_running_mode": "multi_processing", "workers": 2})
    a, b = os.path.join(corpus["work"], "dedupe"), os.path.join(work, "dedupe")
    files = sorted(os.path.relpath(os.path.join(d, f), a) for d, _, fs in os.walk(a) for f in fs)
    assert files == sorted(os.path.relpath(os.path.join(d, f), b) for d, _, fs in os.walk(b) for f in fs)
    assert len(files) == 3 + 2 + 2 + 2  # docs, rejects, clusters, contamination.json, _SUCCESS.json
    for f in files:
        if f != "_SUCCESS.json":
            assert open(os.path.join(a, f), "rb").read() == open(os.path.join(b, f), "rb").read(), f
    mine = corpus["success"]
    assert other["counts"] == mine["counts"]
    assert {k: v for k, v in other["stats"].items() if k != "components"} == \
           {k: v for k, v in mine["stats"].items() if k != "components"}
    assert other["stats"]["components"]["nodes"] == mine["stats"]["components"]["nodes"]


def test_a_50_megabyte_document(tmp_path):
    rng = np.random.default_rng(0)
    vocab = np.array(VOCAB)
    big = " ".join(vocab[rng.integers(0, len(vocab), 8_500_000)].tolist())
    assert len(big) > 50_000_000
    passage = "the quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat today"
    mid = big.index(" ", len(big) // 2)
    big = big[:mid] + " " + passage + big[mid:]
    bench = tmp_path / "b.txt"
    bench.write_text(passage + "\n")
    docs = [mk("big", big), mk("small", "a few words of text"), mk("small2", "a few words of text!")]
    work = str(tmp_path / "work")
    synth.write_clean_output(work, docs, files=1)
    success = synth.run_stage(work, {"decontamination": {"benchmarks": [{"name": "b", "path": str(bench)}]}})
    assert success["counts"] == {"in": 3, "out": 2, "dropped": {"near_duplicate_of": 1}}
    assert success["stats"]["max_doc_chars"] == len(big)
    kept, _, _ = outputs(work)
    out = next(d for d in kept if d["url"].endswith("/big"))
    meta = out["meta"]["decontamination"]
    assert passage not in out["text"] and meta["pieces"] == 2 and meta["chars_removed"] == len(passage) + 400
    # the window out, a blank line in, and the pieces' edges stripped of whitespace
    assert len(big) - meta["chars_removed"] - 2 <= len(out["text"]) <= len(big) - meta["chars_removed"] + 2


def test_a_record_that_is_not_a_document_stops_the_stage_naming_it(tmp_path):
    work = str(tmp_path)
    folder = synth.write_clean_output(work, [mk("a", "some text here")], files=1)
    with jsonl.JsonlWriter(os.path.join(folder, "docs-00009.jsonl.zst")) as w:
        w.write(mk("b", "fine"))
        w.write({"id": "x", "url": "https://example.org/x", "text": 3})
    with pytest.raises(InputError, match=r"docs-00009.jsonl.zst:2: not a document record: missing key 'title'"):
        synth.run_stage(work)
    assert not os.path.exists(os.path.join(work, "dedupe"))


def test_no_input_files_is_a_clear_error(tmp_path):
    synth.write_clean_output(str(tmp_path), [], files=0)
    with pytest.raises(InputError, match="no document files"):
        synth.run_stage(str(tmp_path))
    assert not os.path.exists(os.path.join(str(tmp_path), "dedupe"))


def test_shipped_configs_name_benchmarks_that_exist(repo_root, shared_data):
    import yaml

    from dedupe.config import Config
    from webtext.schema import build

    for name in ("pipeline.yaml", os.path.join("examples", "demo.yaml")):
        path = os.path.join(repo_root, name)
        with open(path) as f:
            block = yaml.safe_load(f)["dedupe"]
        cfg, problems = build(Config, block, base_dir=os.path.dirname(path), where="dedupe")
        assert problems == [], name
        assert cfg.decontamination.benchmarks and all(os.path.isfile(b.path) for b in cfg.decontamination.benchmarks)


@pytest.mark.parametrize("block,message", [
    ({"bands": 10}, "dedupe.bands: set both bands and rows"),
    ({"bands": 20, "rows": 7}, "bands * rows <= num_perm (128)"),
    ({"threshold": 1.5}, "dedupe.threshold: must be in (0, 1]"),
    ({"decontamination": {"benchmarks": [{"name": "a", "path": "x.txt", "format": "csv"}]}},
     "dedupe.decontamination.benchmarks[0].format: expected one of 'jsonl', 'text'"),
    ({"decontamination": {"benchmarks": [{"name": "a", "path": "nowhere.txt"}]}},
     "dedupe.decontamination.benchmarks[0].path: file not found"),
    ({"decontamination": {"benchmarks": [{"name": "a", "path": "b.txt"}, {"name": "a", "path": "b.txt"}]}},
     "benchmark name 'a' is used more than once"),
    ({"decontamination": {"benchmarks": [{"name": "a b", "path": "b.txt"}]}}, "benchmarks[0].name: must be"),
    ({"decontamination": {"benchmark": []}}, "dedupe.decontamination.benchmark: unknown key (did you mean 'benchmarks'?)"),
])
def test_config_errors_name_the_key(tmp_path, block, message):
    from dedupe.config import Config
    from webtext.schema import build

    (tmp_path / "b.txt").write_text("x\n")
    cfg, problems = build(Config, block, base_dir=str(tmp_path), where="dedupe")
    assert cfg is None and any(message in p for p in problems), problems


def test_quality_benchmark_quick_run_meets_the_target(repo_root, shared_data, tmp_path):
    """bench/dedupe_quality.py --quick: real text, planted near-duplicates, true Jaccard."""
    sys.path.insert(0, os.path.join(repo_root, "bench"))
    import dedupe_quality

    out = tmp_path / "q.json"
    assert dedupe_quality.main(["--quick", "--data", shared_data, "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["stage"]["f1"] >= 0.95 and report["stage"]["pairs_true"] > 50
    assert report["near_threshold"]["planted_pairs_in_band"] >= 5
    assert report["near_threshold"]["f1"] >= 0.95  # pairs just above and just below the threshold

