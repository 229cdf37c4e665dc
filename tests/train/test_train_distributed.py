"""torchrun with two CPU processes (gloo): DDP and FSDP train the weights one process accumulating the same
global batch trains (losses and final weights), DDP's replicas agree, and so does what FSDP's ranks replicate."""

import json
import os
import subprocess
import sys

import pytest
import torch
from train_helpers import read_log, tiny_config, write_synthetic_shards
from train_helpers import one_torch_thread  # noqa: F401  (fixtures)

from train import checkpoint as ckpt
from train.loop import replicated_optimizer_state, run, weight_checksum
from train.model import GPT, GPTConfig

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def torchrun_train(tmp_path, name, parallel):
    work = tmp_path / name / "work"
    write_synthetic_shards(str(work / "shard"))
    with open(work / "shard" / "_SUCCESS.json", "w") as f:
        json.dump({"stage": "shard", "fingerprint": "f", "run_id": "r", "counts": {}}, f)
    config = tmp_path / name / "pipeline.yaml"
    config.write_text(f"""run:
  work_dir: work
  seed: 3
train:
  model: gpt2-tiny
  vocab_size: 64
  context: 32
  micro_batch: 4
  batch_tokens: 512     # 4 x 32 x 2 processes x 2 accumulation steps (gradient sync on the second only)
  max_steps: 5
  warmup_steps: 2
  lr: 0.003
  eval_every: 5
  eval_batches: 4       # x micro-batch 4 = the single process's 2 x 8 validation windows
  sample_tokens: 0
  export_hf: false
  tensorboard: false
  device: cpu
  cpu_threads: 1
  parallel: {parallel}
""")
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           "-m", "train", str(config)], cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(work / "train" / "_SUCCESS.json") as f:
        return json.load(f)["stats"], read_log(str(work / "train")), final_weights(str(work / "train"))


def final_weights(out):
    return ckpt.load(ckpt.latest(os.path.join(out, "checkpoints")))["model"]


@pytest.fixture(scope="module")
def single_process(tmp_path_factory):
    """The same run on one process: micro-batch 8, two accumulation steps = the same 16 windows per step
    (data.Layout: rank r's micro-step m reads windows from (m * world + r) * micro_batch)."""
    tmp = tmp_path_factory.mktemp("single")
    shards = write_synthetic_shards(str(tmp / "shard"))
    out = str(tmp / "out")
    os.makedirs(out)
    run(tiny_config(micro_batch=8, batch_tokens=512, max_steps=5, warmup_steps=2, eval_every=5, eval_batches=2),
        shard_dir=shards, out_dir=out, seed=3, note=lambda m: None)
    return read_log(out), final_weights(out)


def losses(log):
    return [r["loss"] for r in log if "loss" in r], [r["val_loss"] for r in log if "val_loss" in r]


@pytest.mark.parametrize("parallel", ["ddp", "fsdp"])
def test_two_processes_agree_with_each_other_and_with_one(tmp_path, single_process, parallel):
    stats, log, weights = torchrun_train(tmp_path, parallel, parallel)
    one_log, one_weights = single_process
    assert stats["batch"] == {"tokens": 512, "micro_batch": 4, "accumulation": 2, "processes": 2}
    assert stats["engine"]["parallel"] == parallel
    ranks = stats["ranks"]
    assert ranks["processes"] == 2 and len(ranks["weight_checksums"]) == 2 and ranks["agree"], ranks
    train, val = losses(log)
    one_train, one_val = losses(one_log)
    assert len(train) == 5 and train == pytest.approx(one_train, abs=2e-4)
    assert val == pytest.approx(one_val, abs=2e-4)
    # the final weights (gathered from the shards under FSDP) are the ones one process trained
    assert weights.keys() == one_weights.keys()
    for key in weights:
        assert torch.allclose(weights[key], one_weights[key], atol=1e-4), key
    one_sum = weight_checksum(one_weights)
    if parallel == "ddp":  # two full replicas, equal to each other and to the single process's weights
        assert ranks["weight_checksums"][0] == ranks["weight_checksums"][1]
        assert ranks["weight_checksums"][0] == pytest.approx(one_sum, abs=1e-4)
    else:  # one copy of each weight: the ranks' own shards differ, and together they are the whole model
        assert ranks["weight_checksums"][0] != ranks["weight_checksums"][1]
        assert sum(ranks["weight_checksums"]) == pytest.approx(one_sum, abs=1e-4)
        assert sum(ranks["weight_checksums"]) == pytest.approx(weight_checksum(weights), abs=1e-6)


def test_replicated_optimizer_state_tells_different_updates_apart():
    """What `agree` compares across ranks besides DDP's replicas: the rates and the update counts."""
    def optimizer(steps, lr=1e-3):
        torch.manual_seed(0)
        model = GPT(GPTConfig.preset("gpt2-tiny", vocab_size=16, block_size=8))
        opt = torch.optim.AdamW(model.parameters(), lr=lr)
        for _ in range(steps):
            model(torch.zeros(1, 8, dtype=torch.long), torch.ones(1, 8, dtype=torch.long)).backward()
            opt.step()
            opt.zero_grad()
        return replicated_optimizer_state(opt)

    assert optimizer(2) == optimizer(2)
    assert optimizer(2) != optimizer(1)  # a rank that skipped an update another applied
    assert optimizer(2) != optimizer(2, lr=2e-3)  # a rank that used another learning rate
    assert optimizer(0) != optimizer(1)
