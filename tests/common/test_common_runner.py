"""The stage runner: skip finished stages, rerun changed ones and what follows, trust nothing partial."""

import json
import os
import types
from dataclasses import dataclass, field

import pytest

from webtext import runner as runner_mod
from webtext.errors import WebtextError
from webtext.progress import Progress
from webtext.runner import Runner, StageResult


@dataclass
class Knob:
    value: int = 1


@dataclass
class FakeConfig:
    run: types.SimpleNamespace
    a: Knob = field(default_factory=Knob)
    b: Knob = field(default_factory=Knob)
    c: Knob = field(default_factory=Knob)


def make_stage(name, inputs, calls, fail_when=None, resumable=False):
    def run(ctx):
        calls.append((name, ctx.resumed))
        with open(os.path.join(ctx.out_dir, "data.txt"), "a") as f:
            f.write(f"{name}:{ctx.cfg.value}\n")
        if fail_when and fail_when():
            raise KeyboardInterrupt  # as if the process were killed midway
        return StageResult(counts={"in": 1, "out": 1, "dropped": {}}, stats={"value": ctx.cfg.value})
    return types.SimpleNamespace(INPUTS=inputs, RESUMABLE=resumable, run=run)


@pytest.fixture
def pipeline(tmp_path, monkeypatch):
    calls = []
    state = {"fail_b": False}
    stages = {
        "a": make_stage("a", (), calls),
        "b": make_stage("b", ("a",), calls, fail_when=lambda: state["fail_b"]),
        "c": make_stage("c", ("b",), calls),
    }
    monkeypatch.setattr(runner_mod, "stage_module", lambda name: stages[name])
    monkeypatch.setattr(runner_mod, "STAGES", ("a", "b", "c"))
    monkeypatch.setattr(runner_mod, "stage_config_dict", lambda cfg, name: {"value": getattr(cfg, name).value})
    cfg = FakeConfig(run=types.SimpleNamespace(work_dir=str(tmp_path / "work"), seed=1))
    return cfg, calls, state, stages


def names(calls):
    return [c[0] for c in calls]


def test_second_run_skips_finished_stages(pipeline):
    cfg, calls, _, _ = pipeline
    Runner(cfg, Progress(quiet=True)).run(["a", "b", "c"])
    assert names(calls) == ["a", "b", "c"]
    calls.clear()
    Runner(cfg, Progress(quiet=True)).run(["a", "b", "c"])
    assert calls == []
    ok = json.load(open(os.path.join(cfg.run.work_dir, "b", "_SUCCESS.json")))
    assert ok["counts"]["out"] == 1 and ok["stats"] == {"value": 1} and ok["upstream"]["a"]


def test_changed_config_reruns_that_stage_and_later_ones(pipeline):
    cfg, calls, _, _ = pipeline
    Runner(cfg, Progress(quiet=True)).run(["a", "b", "c"])
    calls.clear()
    cfg.b.value = 2
    Runner(cfg, Progress(quiet=True)).run(["a", "b", "c"])
    assert names(calls) == ["b", "c"]
    with open(os.path.join(cfg.run.work_dir, "b", "data.txt")) as f:
        assert f.read() == "b:2\n"  # the new output replaced the old, not appended to it


def test_force_reruns(pipeline):
    cfg, calls, _, _ = pipeline
    Runner(cfg, Progress(quiet=True)).run(["a"])
    calls.clear()
    Runner(cfg, Progress(quiet=True)).run(["a"], force=True)
    assert names(calls) == ["a"]


def test_killed_stage_leaves_nothing_trusted_and_restarts_clean(pipeline):
    cfg, calls, state, _ = pipeline
    Runner(cfg, Progress(quiet=True)).run(["a", "b", "c"])
    cfg.b.value = 5
    state["fail_b"] = True
    with pytest.raises(KeyboardInterrupt):
        Runner(cfg, Progress(quiet=True)).run(["a", "b", "c"])
    work = cfg.run.work_dir
    assert os.path.isdir(os.path.join(work, "b.partial"))
    # The old b output is still the finished one; its fingerprint no longer matches, so status says stale.
    st = {s.name: s.state for s in Runner(cfg, Progress(quiet=True)).status()}
    assert st == {"a": "done", "b": "stale", "c": "stale"}
    state["fail_b"] = False
    calls.clear()
    Runner(cfg, Progress(quiet=True)).run(["a", "b", "c"])
    assert calls == [("b", False), ("c", False)]  # not resumable: restarted from an empty folder
    with open(os.path.join(work, "b", "data.txt")) as f:
        assert f.read() == "b:5\n"
    assert not os.path.exists(os.path.join(work, "b.partial"))


def test_resumable_stage_continues_in_its_partial_folder(pipeline):
    cfg, calls, state, stages = pipeline
    stages["b"].RESUMABLE = True
    state["fail_b"] = True
    with pytest.raises(KeyboardInterrupt):
        Runner(cfg, Progress(quiet=True)).run(["a", "b"])
    state["fail_b"] = False
    calls.clear()
    Runner(cfg, Progress(quiet=True)).run(["a", "b"])
    assert calls == [("b", True)]
    with open(os.path.join(cfg.run.work_dir, "b", "data.txt")) as f:
        assert f.read() == "b:1\nb:1\n"  # the second attempt saw the first one's files


def test_folder_without_success_marker_is_not_trusted(pipeline):
    cfg, calls, _, _ = pipeline
    Runner(cfg, Progress(quiet=True)).run(["a", "b"])
    os.remove(os.path.join(cfg.run.work_dir, "a", "_SUCCESS.json"))
    calls.clear()
    with pytest.raises(WebtextError, match="needs the output of 'a'"):
        Runner(cfg, Progress(quiet=True)).run(["b"])
    Runner(cfg, Progress(quiet=True)).run(["a", "b"])
    assert names(calls) == ["a", "b"]


def test_one_run_per_work_dir(pipeline):
    cfg, _, _, _ = pipeline
    with runner_mod.work_lock(cfg.run.work_dir):
        with pytest.raises(WebtextError, match="in use by another webtext run"):
            Runner(cfg, Progress(quiet=True)).run(["a"])
