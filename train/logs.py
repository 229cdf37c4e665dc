"""The training log: log.jsonl (docs/contracts.md, train section), and TensorBoard when it is installed.

Only rank 0 writes. On resume, lines after the checkpoint's step are dropped first: those steps are
about to be trained again, and the log must read as one uninterrupted run.
"""

from __future__ import annotations

import json
import math
import os
from typing import Optional


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
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(os.path.join(out_dir, "tensorboard"))
            except ImportError:
                if note:
                    note("tensorboard is not installed: logging to log.jsonl only")

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
                if key not in ("step", "time") and isinstance(value, (int, float)) and value is not None:
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
