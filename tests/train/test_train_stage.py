"""The train stage through the runner and the CLI: outputs per docs/contracts.md, resume after SIGTERM,
export-hf and eval commands."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from train_helpers import read_log
from train_helpers import bpe_tokenizer, one_torch_thread, shards, text_shards  # noqa: F401  (fixtures)

from webtext.cli import main as webtext

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TRAIN_BLOCK = """\
train:
  model: gpt2-tiny
  context: 32
  micro_batch: 4
  batch_tokens: 256
  max_steps: {max_steps}
  warmup_steps: 2
  lr: 0.003
  eval_every: {eval_every}
  eval_batches: 2
  sample_tokens: 8
  checkpoint_every: {checkpoint_every}
  keep_checkpoints: 2
  device: cpu
  cpu_threads: 1
"""


def make_work(tmp_path, shard_folder, *, max_steps=6, eval_every=3, checkpoint_every=3):
    """A config and a work folder whose shard stage has finished (its folder + _SUCCESS.json)."""
    work = tmp_path / "work"
    work.mkdir()
    os.rename(shard_folder, work / "shard")
    with open(work / "shard" / "_SUCCESS.json", "w") as f:
        json.dump({"stage": "shard", "fingerprint": "f", "run_id": "r", "counts": {}}, f)
    config = tmp_path / "pipeline.yaml"
    config.write_text("run:\n  work_dir: work\n  seed: 7\n" + TRAIN_BLOCK.format(
        max_steps=max_steps, eval_every=eval_every, checkpoint_every=checkpoint_every))
    return str(config), str(work)


def test_stage_writes_its_contract_and_the_commands_use_it(tmp_path, text_shards, capsys):
    config, work = make_work(tmp_path, text_shards)
    assert webtext(["train", config]) == 0
    out = os.path.join(work, "train")
    with open(os.path.join(out, "_SUCCESS.json")) as f:
        success = json.load(f)
    stats = success["stats"]
    assert {"final_loss", "final_val_loss", "steps", "tokens", "params", "tokens_per_s"} <= set(stats)
    assert stats["steps"] == 6 and stats["tokens"] == 6 * 256 and stats["params"] > 0
    counts = success["counts"]
    assert counts["in"] == counts["out"] + sum(counts["dropped"].values())
    assert sorted(os.listdir(os.path.join(out, "checkpoints"))) == ["step_000003.pt", "step_000006.pt"]
    assert {"tokenizer.json", "log.jsonl", "hf"} <= set(os.listdir(out))
    evals = [r for r in read_log(out) if "val_loss" in r]
    assert [r["step"] for r in evals] == [0, 3, 6] and all(isinstance(r["sample"], str) for r in evals)

    # a second run skips the finished stage
    assert webtext(["train", config]) == 0
    assert "already done" in capsys.readouterr().err

    # export-hf: from the stage's latest checkpoint; the folder loads in transformers
    transformers = pytest.importorskip("transformers")
    assert webtext(["export-hf", config, "--out", str(tmp_path / "exported")]) == 0
    hf = transformers.GPT2LMHeadModel.from_pretrained(str(tmp_path / "exported")).eval()
    with torch.no_grad():
        assert hf(torch.tensor([[0, 5, 9]])).logits.shape == (1, 3, 300)

    # eval: validation loss and perplexity of the stage's model, written beside the checkpoints
    assert webtext(["eval", config, "--tasks", "val"]) == 0
    with open(os.path.join(out, "eval.json")) as f:
        result = json.load(f)
    val = result["tasks"]["val"]
    assert val["windows"] > 0 and val["perplexity"] == pytest.approx(2.718281828 ** val["loss"], rel=1e-9)

    # a corrupt checkpoint is a clear error naming the file, not a traceback
    latest = os.path.join(out, "checkpoints", "step_000006.pt")
    with open(latest, "r+b") as f:
        f.truncate(50)
    assert webtext(["export-hf", "--checkpoint", latest, "--out", str(tmp_path / "x")]) == 1
    assert "step_000006.pt: corrupt or unreadable checkpoint" in capsys.readouterr().err


def test_sigterm_leaves_a_checkpoint_and_the_rerun_resumes(tmp_path, shards):
    config, work = make_work(tmp_path, shards, max_steps=50, eval_every=0, checkpoint_every=1000)
    with open(config, "a") as f:
        f.write("  vocab_size: 64\n")
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "webtext", "train", config], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = os.path.join(work, "train.partial", "log.jsonl")
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if os.path.exists(log) and sum(1 for _ in open(log)) >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "checkpoint saved" in err
    saved = os.listdir(os.path.join(work, "train.partial", "checkpoints"))
    assert len(saved) == 1
    stopped_at = int(saved[0][5:11])
    assert 3 <= stopped_at < 50

    assert webtext(["train", config]) == 0
    steps = [r["step"] for r in read_log(os.path.join(work, "train")) if "loss" in r]
    assert steps == list(range(1, 51))  # every step once: the rerun went on from the checkpoint


def test_eval_settings_do_not_retrain(tmp_path, shards):
    """train.eval is read only by `webtext eval`: changing it keeps the stage's fingerprint."""
    from webtext.config import load_config
    from webtext.runner import fingerprint

    config, _ = make_work(tmp_path, shards)
    base = load_config(config)
    other_eval = load_config(config, overrides={"train.eval.max_examples": 5, "train.eval.benchmarks": str(tmp_path)})
    other_lr = load_config(config, overrides={"train.lr": 0.001})
    up = {"shard": "f/r"}
    assert fingerprint(base, "train", up) == fingerprint(other_eval, "train", up)
    assert fingerprint(base, "train", up) != fingerprint(other_lr, "train", up)
