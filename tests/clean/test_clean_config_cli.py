"""The clean block of pipeline.yaml is the defaults, written out; bad values are named; the CLI action."""

import os

import yaml
from cleanwarc import PARAGRAPHS, article_html

from clean.config import Config
from webtext.schema import build, to_dict


def _block(repo_root, name):
    with open(os.path.join(repo_root, name), encoding="utf-8") as f:
        return yaml.safe_load(f).get("clean")


def test_pipeline_yaml_spells_out_the_defaults(repo_root):
    cfg, problems = build(Config, _block(repo_root, "pipeline.yaml"), where="clean")
    assert problems == [] and to_dict(cfg) == to_dict(Config())
    cfg, problems = build(Config, _block(repo_root, "examples/demo.yaml"), where="clean")
    assert problems == []


def test_bad_values_are_named():
    _, problems = build(Config, {"lang": {"min_score": 2, "keep": ["EN"]}, "extract": {"timeout_s": 0},
                                 "quality": {"max_top_ngram_chars": [0.2]}, "num_shard": 3}, where="clean")
    text = "\n".join(problems)
    assert "clean.num_shard: unknown key (did you mean 'num_shards'?)" in text
    for key in ("clean.lang.min_score", "clean.lang.keep", "clean.extract.timeout_s", "clean.quality.max_top_ngram_chars"):
        assert key in text, text


def test_extract_action_prints_the_main_text(cli, tmp_path):
    page = tmp_path / "page.html"
    page.write_text(article_html(), encoding="utf-8")
    r = cli("clean", "extract", str(page), "--url", "https://gazette.example/storm")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().split("\n") == PARAGRAPHS
    r = cli("clean", "extract", str(tmp_path / "missing.html"))
    assert r.returncode == 1 and "missing.html" in r.stderr and "Traceback" not in r.stderr
