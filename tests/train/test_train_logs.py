"""TensorBoard events (train.tensorboard): real training steps of the tiny model, read back with
TensorBoard's own EventAccumulator; and the one log line when the package is absent."""

import os
import sys

import pytest
from train_helpers import read_log, tiny_config
from train_helpers import bpe_tokenizer, one_torch_thread, text_shards  # noqa: F401  (fixtures)

from train import checkpoint as ckpt
from train.logs import TrainLog
from train.loop import run

SCALARS = ("loss", "lr", "grad_norm", "tokens_per_s", "mfu")  # every logged training step


def read_events(folder):
    """tensor tag -> [(step, value)], as TensorBoard's server reads the run (its plugin event accumulator:
    scalars and text are tensors there, and a resumed writer's purge marker hides stale events of all kinds)."""
    from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator
    from tensorboard.util.tensor_util import make_ndarray

    acc = EventAccumulator(os.path.join(folder, "tensorboard"), size_guidance={"tensors": 0})
    acc.Reload()
    out = {}
    for tag in acc.Tags()["tensors"]:
        plugin = acc.SummaryMetadata(tag).plugin_data.plugin_name
        values = [(e.step, make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)]
        out[tag] = (plugin, [(step, v.item() if plugin == "scalars" else v.reshape(-1)[0].decode()) for step, v in values])
    return out


def test_tensorboard_holds_the_logged_scalars_at_their_steps_across_a_resume(tmp_path, text_shards):
    pytest.importorskip("tensorboard")  # the `test` extra installs it
    out = str(tmp_path / "out")
    os.makedirs(out)
    # peak_tflops: a CPU has no known peak, so MFU is logged only when one is configured
    cfg = dict(vocab_size=None, max_steps=6, eval_every=3, checkpoint_every=3, keep_checkpoints=5, tensorboard=True,
               sample_tokens=4, peak_tflops=0.001)
    run(tiny_config(**cfg), shard_dir=text_shards, out_dir=out, seed=1, note=lambda m: None)
    # A writer killed after step 6 without its checkpoint: the rerun resumes from step 3 and trains 4-6
    # again, here with another learning rate so that stale events of the first run would show.
    os.remove(ckpt.checkpoint_path(os.path.join(out, "checkpoints"), 6))
    run(tiny_config(**dict(cfg, lr=1e-3)), shard_dir=text_shards, out_dir=out, seed=1, note=lambda m: None)

    log = read_log(out)
    steps = [r for r in log if "loss" in r]
    evals = [r for r in log if "val_loss" in r]
    assert [r["step"] for r in steps] == [1, 2, 3, 4, 5, 6] and [r["step"] for r in evals] == [0, 3, 6]
    assert steps[2]["lr"] == pytest.approx(3e-3) and max(r["lr"] for r in steps[3:]) <= 1e-3  # the rerun's lr

    events = read_events(out)
    scalars = {tag: values for tag, (plugin, values) in events.items() if plugin == "scalars"}
    assert set(SCALARS) | {"val_loss", "tokens"} <= set(scalars), events.keys()
    assert not {"step", "time", "nonfinite", "skipped"} & set(scalars), events.keys()
    for key in SCALARS:
        assert [s for s, _ in scalars[key]] == [r["step"] for r in steps], key  # each step once, stale ones purged
        assert [v for _, v in scalars[key]] == pytest.approx([r[key] for r in steps], rel=1e-6), key
        assert all(v > 0 for _, v in scalars[key]), key
    assert scalars["val_loss"] == [(r["step"], pytest.approx(r["val_loss"], rel=1e-6)) for r in evals]
    assert {s for s, _ in scalars["tokens"]} == set(range(7)) and all(v == s * 512 for s, v in scalars["tokens"])
    texts = [values for tag, (plugin, values) in events.items() if plugin == "text"]
    assert texts == [[(r["step"], r["sample"]) for r in evals]], events.keys()


def test_without_the_tensorboard_package_one_line_says_so(tmp_path, monkeypatch):
    # An import of a module whose sys.modules entry is None raises ImportError: the package is absent.
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    for name in [m for m in sys.modules if m.startswith("torch.utils.tensorboard")]:
        monkeypatch.delitem(sys.modules, name)
    said = []
    log = TrainLog(str(tmp_path), tensorboard=True, note=said.append)
    log.write({"step": 1, "loss": 2.5})
    log.close()
    assert len(said) == 1 and "tensorboard" in said[0] and "log.jsonl" in said[0], said
    assert read_log(str(tmp_path)) == [{"step": 1, "loss": 2.5}]
    assert not os.path.exists(tmp_path / "tensorboard")
    said.clear()
    os.makedirs(tmp_path / "off")
    TrainLog(str(tmp_path / "off"), tensorboard=False, note=said.append).close()
    assert said == []  # tensorboard: false asks for nothing, so nothing is said
