"""The training log: log.jsonl (docs/contracts.md, train section), and TensorBoard when it is installed.

Only rank 0 writes. On resume, lines after the checkpoint's step are dropped first: those steps are
about to be trained again, and the log must read as one uninterrupted run. TensorBoard (tensorboard/, when
the package is installed) gets every numeric field of each line as a scalar tagged with its key (loss,
lr, grad_norm, tokens_per_s, mfu, val_loss, tokens) at the line's step, and samples as text; on resume
its new event file starts with a purge marker at the first retrained step, so TensorBoard shows the
events of the interrupted run after the checkpoint no more than log.jsonl does.
"""

from __future__ import annotations

import json
import math
import os
from typing import Optional


def _summary_writer(folder: str, purge_step: int, note):
    """TensorBoard's writer, or None (with one line saying why) when the package is missing or broken.

    purge_step: TensorBoard hides the events at this step and later written before (by the run that was
    interrupted after its last checkpoint, or by an earlier run in the same folder: 0), as log.jsonl drops them."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        note("tensorboard is not installed: logging to log.jsonl only (pip install tensorboard, or set "
             "train.tensorboard: false)")
        return None
    except Exception as e:  # installed but not importable (e.g. a protobuf it cannot use): not worth a failed run
        note(f"tensorboard cannot be loaded ({type(e).__name__}: {e}): logging to log.jsonl only")
        return None
    return SummaryWriter(folder, purge_step=purge_step)


class TrainLog:
    def __init__(self, out_dir: str, *, enabled: bool = True, resume_step: Optional[int] = None,
                 tensorboard: bool = True, note=None):
        self.path = os.path.join(out_dir, "log.jsonl")
        self.enabled = enabled
        self._tb = None
        self._file = None
        if not enabled:
            return
        if resume_step is not None:
            self._truncate_after(resume_step)
        elif os.path.exists(self.path):
            os.remove(self.path)
        self._file = open(self.path, "a", encoding="utf-8")
        if tensorboard:
            self._tb = _summary_writer(os.path.join(out_dir, "tensorboard"),
                                       0 if resume_step is None else resume_step + 1, note or print)

    def _truncate_after(self, step: int) -> None:
        if not os.path.exists(self.path):
            return
        kept = []
        with open(self.path, encoding="utf-8") as f:
            for line in f:
                try:
                    if json.loads(line).get("step", 0) <= step:
                        kept.append(line if line.endswith("\n") else line + "\n")
                except ValueError:
                    continue  # a line cut off by the interruption
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.writelines(kept)
        os.replace(tmp, self.path)

    def write(self, record: dict) -> None:
        if not self.enabled:
            return
        clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in record.items()}
        self._file.write(json.dumps(clean) + "\n")
        self._file.flush()
        if self._tb is not None:
            step = record.get("step", 0)
            for key, value in record.items():
                if key not in ("step", "time") and isinstance(value, (int, float)) and not isinstance(value, bool):
                    self._tb.add_scalar(key, value, step)
            if isinstance(record.get("sample"), str):
                self._tb.add_text("sample", record["sample"], step)
            self._tb.flush()

    def close(self) -> None:
        if self._file:
            self._file.close()
            self._file = None
        if self._tb is not None:
            self._tb.close()
            self._tb = None
