"""The extraction benchmark's metric reproduces the published figures, and its quick mode runs."""

import importlib.util
import json
import os


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
