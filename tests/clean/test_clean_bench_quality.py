"""The extraction benchmark's metric reproduces the published figures, its quick mode runs, and the stage
meets the extraction-quality target (F1 >= 0.960) on all 181 pages."""

import importlib.util
import json
import os

import pytest


def _bench(repo_root):
    spec = importlib.util.spec_from_file_location("extraction_quality",
                                                  os.path.join(repo_root, "bench", "extraction_quality.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_metric_matches_the_reference_scores(repo_root, shared_data):
    bench = _bench(repo_root)
    _, gold, _, refs = bench.load(shared_data)
    s = bench.score(gold, refs["trafilatura-2.0.0"])
    for key, published in (("precision", 0.938), ("recall", 0.978), ("f1", 0.958)):  # data README's figures
        assert abs(s[key] - published) < 0.001, (key, s[key])
    assert round(bench.score(gold, refs["html-text"])["f1"], 3) == 0.665
    assert bench.score(gold, gold)["f1"] == 1.0


def test_quick_run(repo_root, shared_data, tmp_path, capsys):
    bench = _bench(repo_root)
    out = tmp_path / "q.json"
    assert bench.main(["--data", shared_data, "--quick", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["pages"] == 20 and result["configs"]["clean.extract (the stage)"]["all"]["f1"] > 0.9
    assert "clean.extract (the stage)" in capsys.readouterr().out


# The extraction-quality target: clean.extract on all of Zyte's benchmark pages, the benchmark's own
# metric (bench/extraction_quality.py). Measured 0.9719 (clean/README.md); the target is 0.960.
F1_TARGET = 0.960


def test_stage_extraction_meets_the_f1_target_on_all_pages(repo_root, shared_data):
    if not os.path.isfile(os.path.join(shared_data, "html_extraction", "ground-truth.json")):
        pytest.skip(f"no extraction benchmark under {shared_data}/html_extraction (see ../shared/data/README.md)")
    from clean import extract

    bench = _bench(repo_root)
    pages, gold, urls, _ = bench.load(shared_data)
    assert len(pages) == len(gold) == 181
    pred = {k: extract(html, urls[k]) or "" for k, html in pages.items()}
    s = bench.score(gold, pred)
    assert s["pages"] == 181
    assert s["f1"] >= F1_TARGET, s
