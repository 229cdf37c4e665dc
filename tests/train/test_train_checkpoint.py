"""Checkpoint files: atomic, last K kept, weights_only loading, clear errors naming the file."""

import os
import pickle
import subprocess
import sys

import pytest
import torch

from train import checkpoint as ckpt
from train_helpers import one_torch_thread  # noqa: F401  (fixtures)


def payload():
    return {"model_config": {"n_layer": 1}, "model": {"w": torch.ones(3)}, "rng": {"ranks": [{"torch": torch.get_rng_state()}]},
            "data": {"cursor": 7}}


def test_keeps_the_last_k_and_leaves_no_temporary_files(tmp_path):
    folder = str(tmp_path / "checkpoints")
    for step in (10, 20, 30, 40):
        ckpt.save(folder, step, payload(), keep=2)
    assert sorted(os.listdir(folder)) == ["step_000030.pt", "step_000040.pt"]
    assert ckpt.latest(folder).endswith("step_000040.pt")
    data = ckpt.load(ckpt.resolve(str(tmp_path)))  # a run folder resolves to its latest checkpoint
    assert data["step"] == 40 and data["data"]["cursor"] == 7 and torch.equal(data["model"]["w"], torch.ones(3))


def test_a_truncated_checkpoint_is_named(tmp_path):
    path = ckpt.save(str(tmp_path), 5, payload(), keep=3)
    with open(path, "r+b") as f:
        f.truncate(100)
    with pytest.raises(ckpt.CheckpointError, match=r"step_000005\.pt: corrupt or unreadable"):
        ckpt.load(path)


def test_loading_runs_no_pickled_code(tmp_path):
    path = str(tmp_path / "step_000001.pt")

    class Payload:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    with open(path, "wb") as f:
        torch.save({"format": ckpt.FORMAT, "version": 1, "step": 1, "model": {}, "model_config": {}, "x": Payload()},
                   f, pickle_module=pickle)
    with pytest.raises(ckpt.CheckpointError, match="step_000001.pt"):
        ckpt.load(path)
    assert not os.path.exists(tmp_path / "pwned")


def test_missing_and_foreign_files(tmp_path):
    with pytest.raises(ckpt.CheckpointError, match="nope.pt: checkpoint not found"):
        ckpt.load(str(tmp_path / "nope.pt"))
    torch.save({"state_dict": {}}, str(tmp_path / "other.pt"))
    with pytest.raises(ckpt.CheckpointError, match="other.pt: not a webtext GPT-2 checkpoint"):
        ckpt.load(str(tmp_path / "other.pt"))
    with pytest.raises(ckpt.CheckpointError, match="no step_"):
        ckpt.resolve(str(tmp_path))


def test_temporary_files_of_killed_writers_are_removed(tmp_path):
    """A writer killed between torch.save and the rename leaves step_N.pt.tmp.HOST.PID: the next save in
    that folder deletes it once its process is gone; a live writer's and another host's stay, and
    loading (a reader, which may not see the writer's processes) deletes nothing."""
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a PID that no process holds any more
    host = ckpt._host()
    stale = [f"step_000010.pt.tmp.{host}.{dead.pid}", f"step_000020.pt.tmp.{dead.pid}"]  # the second: older name
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        kept = [f"step_000030.pt.tmp.{host}.{alive.pid}", f"step_000030.pt.tmp.{host}.{os.getpid()}",
                f"step_000040.pt.tmp.other-host.{dead.pid}", "step_000050.pt.tmp.notes"]
        for name in stale + kept:
            (folder / name).write_bytes(b"partial")
        path = ckpt.save(str(folder), 60, payload(), keep=3)
        assert sorted(os.listdir(folder)) == sorted(kept + ["step_000060.pt"])
        for name in stale:
            (folder / name).write_bytes(b"partial")
        assert ckpt.load(path)["step"] == 60
        assert sorted(os.listdir(folder)) == sorted(kept + stale + ["step_000060.pt"])  # a reader deletes nothing
    finally:
        alive.kill()
        alive.wait()
    # once the writer is gone, the next save removes its file too
    ckpt.save(str(folder), 70, payload(), keep=3)
    assert f"step_000030.pt.tmp.{host}.{alive.pid}" not in os.listdir(folder)
    assert not any(name in os.listdir(folder) for name in stale)
