"""Checkpoints: one file per saved step, written atomically, the last K kept, read with weights_only=True.

checkpoints/step_000500.pt holds a dict of tensors and plain data only (so torch.load(weights_only=True)
can read it without running any pickled code):

    format, version          "webtext-gpt2", 1
    model_config             GPTConfig as a dict (train/model.py)
    model                    state dict, parameter names as in train/model.py (padded embedding rows included)
    optimizer                AdamW state keyed by parameter name (torch.distributed.checkpoint's full state
                             dict), so a run saved under one parallelism resumes under another
    step, tokens, elapsed    optimiser steps done, tokens trained on, training seconds so far
    data                     {"cursor": windows consumed, "seed", "context"}: the loader resumes exactly there
    rng                      {"ranks": [one per rank, in rank order: {"torch": CPU generator state,
                             "cuda": [per-device states] (when CUDA is available)}]}; restored only when
                             resuming with the same number of processes (else the generators start from the seed)
    schedule                 {"lr", "warmup_steps", "decay_steps", "min_lr_ratio"}: the learning-rate schedule
    config                   the train block the run was started with
    skipped                  steps whose update was skipped (non-finite loss, on_nonfinite: skip)

Only model_config, model and step are required (a checkpoint made by hand for init_from may hold just those).

A checkpoint is written to step_NNNNNN.pt.tmp.HOST.PID and renamed into place. A writer killed before the
rename leaves that file behind; save() deletes such leftovers in its folder when their writer is gone
(same host, no process with that PID), and leaves those of live writers or other hosts alone. load()
deletes nothing (a reader may not see the writer's processes: another PID namespace).
"""

from __future__ import annotations

import glob
import os
import re
import socket
from typing import Optional

import torch

from webtext.errors import WebtextError

FORMAT = "webtext-gpt2"
VERSION = 1
_NAME = re.compile(r"step_(\d+)\.pt$")
# step_000500.pt.tmp.HOST.PID (and the older step_000500.pt.tmp.PID, taken as this host's)
_TEMPORARY = re.compile(r"^step_\d+\.pt\.tmp\.(?:(?P<host>.+)\.)?(?P<pid>\d+)$")


class CheckpointError(WebtextError):
    """A checkpoint is missing, unreadable or not one of ours; the message names the file."""


def checkpoint_path(folder: str, step: int) -> str:
    return os.path.join(folder, f"step_{step:06d}.pt")


def list_checkpoints(folder: str) -> list[tuple[int, str]]:
    """(step, path) of the checkpoints in a folder, oldest first."""
    found = []
    for path in glob.glob(os.path.join(folder, "step_*.pt")):
        m = _NAME.search(os.path.basename(path))
        if m:
            found.append((int(m.group(1)), path))
    return sorted(found)


def latest(folder: str) -> Optional[str]:
    found = list_checkpoints(folder)
    return found[-1][1] if found else None


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname()) or "localhost"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # another user's process (or a number os.kill refuses): not ours to judge
    return True


def remove_stale_temporaries(folder: str) -> list[str]:
    """Delete step_*.pt.tmp.* files of writers that died before renaming them (this host's, PID gone).
    Returns the paths removed; a file that cannot be removed (read-only folder) is left."""
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    host = _host()
    for name in names:
        m = _TEMPORARY.match(name)
        if not m or (m.group("host") is not None and m.group("host") != host):
            continue  # not a temporary, or another host's whose processes this one cannot see
        pid = int(m.group("pid"))
        if pid == os.getpid() or _alive(pid):
            continue
        path = os.path.join(folder, name)
        try:
            os.remove(path)
            removed.append(path)
        except OSError:
            pass
    return removed


def save(folder: str, step: int, payload: dict, keep: int) -> str:
    """Write step's checkpoint atomically (temporary file, fsync, rename), then delete all but the last `keep`
    (and any temporary file a killed writer left)."""
    os.makedirs(folder, exist_ok=True)
    remove_stale_temporaries(folder)
    path = checkpoint_path(folder, step)
    tmp = f"{path}.tmp.{_host()}.{os.getpid()}"
    body = dict(payload, format=FORMAT, version=VERSION, step=step)
    with open(tmp, "wb") as f:
        torch.save(body, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    for _, old in list_checkpoints(folder)[:-keep] if keep > 0 else []:
        if old != path:
            os.remove(old)
    return path


def load(path: str, map_location="cpu") -> dict:
    """Read a checkpoint with weights_only=True; CheckpointError naming the file when it is not usable.
    (Reading deletes nothing: a reader, such as `webtext eval` beside a running trainer, cannot tell a
    dead writer from a live one in another PID namespace; the writer's own save() cleans its folder.)"""
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # truncated zip, bad pickle, foreign object: all mean the file is unusable
        raise CheckpointError(f"{path}: corrupt or unreadable checkpoint ({type(e).__name__}: {str(e).splitlines()[0][:200]}); "
                              f"delete it to resume from the one before") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a webtext GPT-2 checkpoint")
    if data.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {data.get('version')} (this webtext reads {VERSION})")
    for key in ("model_config", "model", "step"):
        if key not in data:
            raise CheckpointError(f"{path}: checkpoint has no '{key}'")
    return data


def resolve(path: str) -> str:
    """A checkpoint file, or the latest one in a folder (or in its checkpoints/ subfolder)."""
    if os.path.isdir(path):
        for folder in (path, os.path.join(path, "checkpoints")):
            found = latest(folder)
            if found:
                return found
        raise CheckpointError(f"{path}: no step_*.pt checkpoint in this folder or its checkpoints/")
    return path
