"""The training loop on CPU with a tiny GPT-2: learning, exact resume, accumulation, non-finite losses."""

import math
import os

import pytest
import torch
from train_helpers import read_log, strip_timing, tiny_config
from train_helpers import one_torch_thread, shards  # noqa: F401  (fixtures)

from train import checkpoint as ckpt
from train.loop import NonFiniteLoss, run
from train.model import GPT, GPTConfig


def quiet(_msg):
    pass


def test_loss_goes_down_and_everything_is_logged(shards, tmp_path):
    out = str(tmp_path / "out")
    os.makedirs(out)
    summary = run(tiny_config(max_steps=30, eval_every=10, checkpoint_every=10, keep_checkpoints=2),
                  shard_dir=shards, out_dir=out, seed=1, note=quiet)
    log = read_log(out)
    steps = [r for r in log if "loss" in r]
    evals = [r for r in log if "val_loss" in r]
    assert [r["step"] for r in steps] == list(range(1, 31))
    assert [r["step"] for r in evals] == [0, 10, 20, 30]
    assert steps[-1]["loss"] < steps[0]["loss"] - 0.5  # ln(64) = 4.16 -> well below
    assert evals[-1]["val_loss"] < evals[0]["val_loss"] - 0.5
    assert set(steps[0]) >= {"step", "tokens", "loss", "lr", "grad_norm", "tokens_per_s", "mfu", "time"}
    assert steps[1]["tokens"] == 2 * 512 and steps[2]["lr"] == pytest.approx(3e-3)
    assert sorted(os.listdir(os.path.join(out, "checkpoints"))) == ["step_000020.pt", "step_000030.pt"]
    assert summary["steps"] == 30 and summary["final_val_loss"] == evals[-1]["val_loss"]
    assert summary["counts"]["in"] == summary["counts"]["out"] + summary["counts"]["dropped"].get("shard_tail", 0)
    assert summary["batch"] == {"tokens": 512, "micro_batch": 8, "accumulation": 2, "processes": 1}


def test_stopped_and_resumed_equals_uninterrupted(shards, tmp_path):
    cfg = tiny_config(max_steps=10, dropout=0.1)  # dropout: the RNG state must come back too
    whole, parts = str(tmp_path / "whole"), str(tmp_path / "parts")
    os.makedirs(whole)
    os.makedirs(parts)
    run(cfg, shard_dir=shards, out_dir=whole, seed=5, note=quiet)
    stopped = run(cfg, shard_dir=shards, out_dir=parts, seed=5, note=quiet, stop_after_steps=6)
    assert stopped["stopped_at"] == 6 and ckpt.latest(os.path.join(parts, "checkpoints")).endswith("step_000006.pt")
    run(cfg, shard_dir=shards, out_dir=parts, seed=5, note=quiet)
    assert strip_timing(read_log(parts)) == strip_timing(read_log(whole))
    a = ckpt.load(ckpt.latest(os.path.join(whole, "checkpoints")))
    b = ckpt.load(ckpt.latest(os.path.join(parts, "checkpoints")))
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert a["data"] == b["data"] and a["tokens"] == b["tokens"] == 10 * 512


def test_gradient_accumulation_matches_a_bigger_micro_batch(shards, tmp_path):
    logs = []
    for i, (micro, tokens) in enumerate(((8, 8 * 32 * 2), (16, 16 * 32))):
        out = str(tmp_path / f"r{i}")
        os.makedirs(out)
        run(tiny_config(micro_batch=micro, batch_tokens=tokens, max_steps=4, eval_every=0), shard_dir=shards,
            out_dir=out, seed=2, note=quiet)
        logs.append([r["loss"] for r in read_log(out) if "loss" in r])
    assert logs[0] == pytest.approx(logs[1], abs=1e-4)


def test_a_nan_loss_stops_the_run_and_names_the_step(shards, tmp_path):
    torch.manual_seed(0)
    cfg = GPTConfig.preset("gpt2-tiny", vocab_size=64, block_size=32)
    state = GPT(cfg).state_dict()
    state["transformer.ln_f.weight"][3] = float("nan")
    ckpt.save(str(tmp_path / "init"), 1, {"model_config": cfg.to_dict(), "model": state}, keep=1)
    out = str(tmp_path / "out")
    os.makedirs(out)
    with pytest.raises(NonFiniteLoss, match="step 1: loss is nan"):
        run(tiny_config(init_from=str(tmp_path / "init")), shard_dir=shards, out_dir=out, seed=0, note=quiet)
    assert read_log(out)[-1] == {**read_log(out)[-1], "step": 1, "nonfinite": True, "loss": None}


def test_skip_mode_skips_a_bad_step_and_carries_on(shards, tmp_path, monkeypatch):
    calls = {"n": 0}
    forward = GPT.forward

    def flaky(self, idx, targets=None):
        out = forward(self, idx, targets)
        if targets is not None:
            calls["n"] += 1
            if calls["n"] in (5, 6):  # both micro-batches of step 3
                return out * float("inf")
        return out

    monkeypatch.setattr(GPT, "forward", flaky)
    out = str(tmp_path / "out")
    os.makedirs(out)
    summary = run(tiny_config(max_steps=6, eval_every=0, on_nonfinite="skip"), shard_dir=shards, out_dir=out,
                  seed=0, note=quiet)
    log = [r for r in read_log(out) if "loss" in r]
    assert [r["step"] for r in log] == [1, 2, 3, 4, 5, 6]
    assert log[2]["nonfinite"] and log[2]["skipped"] and log[2]["loss"] is None
    assert summary["skipped_steps"] == 1 and math.isfinite(summary["final_loss"])


def test_the_compiled_step_traces_and_matches_eager(shards, tmp_path, monkeypatch):
    """torch.compile on CPU with the aot_eager backend: Dynamo's tracing and AOTAutograd run for real (only
    Inductor's code generation, minutes on a CPU, is left to the GPU benchmark)."""
    compile_ = torch.compile
    monkeypatch.setattr(torch, "compile", lambda model, **kw: compile_(model, backend="aot_eager"))
    logs = []
    for name, compiled in (("eager", False), ("compiled", True)):
        out = str(tmp_path / name)
        os.makedirs(out)
        summary = run(tiny_config(compile=compiled, max_steps=3, eval_every=0, loss_impl="chunked", pad_vocab_multiple=48),
                      shard_dir=shards, out_dir=out, seed=4, note=quiet)
        assert summary["engine"]["compile"] is compiled
        logs.append([r["loss"] for r in read_log(out) if "loss" in r])
    assert logs[1] == pytest.approx(logs[0], abs=1e-5)
