"""Config validation: every problem named with its file and key, exit code 2, nothing written."""

import os
from dataclasses import dataclass, field
from typing import Literal, Optional

import pytest

from webtext.config import load_config
from webtext.errors import ConfigError
from webtext.schema import build, path_field


@dataclass
class Inner:
    rate: float = 0.5
    mode: Literal["a", "b"] = "a"


@dataclass
class Block:
    count: int = 3
    name: str = "x"
    flag: bool = False
    maybe: Optional[int] = None
    items: list[str] = field(default_factory=list)
    inner: Inner = field(default_factory=Inner)
    source: Optional[str] = path_field(None, kind="file")
    required: int = field(default=0)

    def check(self):
        if self.count < 0:
            yield "count", "must not be negative"


def test_build_accepts_valid_values(tmp_path):
    f = tmp_path / "in.txt"
    f.write_text("x")
    obj, problems = build(Block, {"count": 5, "flag": True, "items": ["a"], "inner": {"rate": 1, "mode": "b"},
                                  "source": "in.txt"}, base_dir=str(tmp_path))
    assert problems == []
    assert obj.count == 5 and obj.inner.rate == 1.0 and obj.inner.mode == "b"
    assert obj.source == str(f)  # resolved against the config's folder
    import datetime

    obj, problems = build(Block, {"name": datetime.date(2017, 12, 1)}, base_dir=str(tmp_path))
    assert problems == [] and obj.name == "2017-12-01"  # YAML's unquoted date, taken as written


@pytest.mark.parametrize("data,expected", [
    ({"cuont": 1}, "cuont: unknown key (did you mean 'count'?)"),
    ({"count": "three"}, "count: expected an integer, got 'three' (str)"),
    ({"count": True}, "count: expected an integer, got True (bool)"),
    ({"flag": "yes"}, "flag: expected true or false"),
    ({"items": "a"}, "items: expected a list of a string"),
    ({"items": ["a", 3]}, "items[1]: expected a string, got 3 (int)"),
    ({"inner": {"mode": "c"}}, "inner.mode: expected one of 'a', 'b', got 'c' (str)"),
    ({"inner": {"rtae": 1}}, "inner.rtae: unknown key (did you mean 'rate'?)"),
    ({"source": "missing.txt"}, "source: file not found"),
    ({"count": -1}, "count: must not be negative"),
])
def test_build_names_the_key(tmp_path, data, expected):
    obj, problems = build(Block, data, base_dir=str(tmp_path))
    assert obj is None
    assert any(p.startswith(expected) for p in problems), problems


def test_build_reports_every_problem_at_once(tmp_path):
    _, problems = build(Block, {"cuont": 1, "flag": 3, "inner": {"mode": "z"}}, base_dir=str(tmp_path))
    assert len(problems) == 3


def _write(tmp_path, text, name="pipeline.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_load_config_defaults(tmp_path):
    cfg = load_config(_write(tmp_path, "run:\n  work_dir: out\n"))
    assert cfg.run.work_dir == str(tmp_path / "out")
    assert cfg.beam.runner == "direct"


@pytest.mark.parametrize("text,expected", [
    ("run:\n  wrok_dir: x\n", "run.wrok_dir: unknown key (did you mean 'work_dir'?)"),
    ("beam:\n  runner: flonk\n", "beam.runner: expected one of"),
    ("beam:\n  workers: -2\n", "beam.workers: must be 0"),
    ("crawll:\n  x: 1\n", "crawll: unknown key (did you mean 'crawl'?)"),
    ("run: [1, 2]\n", "run: expected a mapping"),
    ("run:\n  seed: 1\n  seed: 2\n", "line 3: duplicate key 'seed'"),
    ("run:\n  seed: [\n", "not valid YAML"),
    ("- a\n- b\n", "the top level must be a mapping"),
])
def test_load_config_errors_name_file_and_key(tmp_path, text, expected):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert path in str(e.value)
    assert expected in str(e.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(str(tmp_path / "nope.yaml"))


def test_cli_config_error_exit_2_no_traceback_nothing_written(tmp_path, cli):
    path = _write(tmp_path, "run:\n  work_dir: out\n  sede: 3\nbeam:\n  workers: many\n")
    r = cli("run", path)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert "run.sede: unknown key" in r.stderr and "beam.workers: expected an integer" in r.stderr
    assert path in r.stderr
    assert not os.path.exists(tmp_path / "out")


def test_shipped_configs_are_valid(repo_root):
    for name in ("pipeline.yaml", os.path.join("examples", "demo.yaml")):
        load_config(os.path.join(repo_root, name), check_paths=False)


def test_cli_set_with_bad_yaml_or_no_value_is_a_config_error(repo_root, cli):
    demo = os.path.join(repo_root, "examples", "demo.yaml")
    for pair, expected in (("run.seed=[", "--set run.seed: the value '[' is not valid YAML"),
                           ("run.seed", "--set run.seed: expected KEY=VALUE")):
        r = cli("validate", demo, "--set", pair)
        assert r.returncode == 2 and "Traceback" not in r.stderr
        assert expected in r.stderr


def test_cli_status_and_stage_range(repo_root, cli, tmp_path):
    demo = os.path.join(repo_root, "examples", "demo.yaml")
    work = tmp_path / "work"
    dump = tmp_path / "RS.jsonl"  # the demo's own submissions exist only once `make demo` made them
    dump.write_text('{"id": "a", "url": "http://example.com/", "score": 5}\n')
    sets = ["--set", f"run.work_dir={work}", "--set", f"crawl.submissions=[{dump}]"]
    r = cli("status", demo, *sets)
    assert r.returncode == 0, r.stderr
    lines = [line.split() for line in r.stdout.splitlines() if line.startswith("  ")]
    assert [w[0] for w in lines] == ["crawl", "clean", "dedupe", "shard", "train", "report"]
    assert lines[0][1] == "missing" and lines[1][1:] == ["blocked", "(waiting", "for", "crawl)"]
    r = cli("run", demo, *sets, "--from", "shard", "--until", "clean")
    assert r.returncode == 1 and "--from shard comes after --until clean" in r.stderr
    assert not work.exists()  # nothing written for a command that cannot run
