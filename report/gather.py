"""What the report reads: each stage's _SUCCESS.json and a few small files, never the corpus.

    <stage>/_SUCCESS.json        counts, stats, config, fingerprint (every stage)
    train/log.jsonl              one line per logged training step (grows with steps, not corpus)
    dedupe/contamination.json    per-benchmark overlap, when _SUCCESS.json lacks it
    shard/manifest.json          the shard list, when _SUCCESS.json lacks it

Every value is read through `RunData.get`, which checks its shape and, when it is absent or
malformed, records why (stage not run, key not recorded, unexpected shape) so the section that
wanted it can say what is missing instead of failing or drawing nothing.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from webtext.config import STAGES
from webtext.runner import SUCCESS
from webtext.stats import bucket_sort_key

DATA_STAGES = tuple(s for s in STAGES if s != "report")


# -- shapes ------------------------------------------------------------------------------------------

def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_counts(v) -> bool:
    return isinstance(v, dict) and all(isinstance(k, str) and _is_number(n) for k, n in v.items())


def _is_pairs(v) -> bool:
    return isinstance(v, list) and all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str)
                                       and _is_number(p[1]) for p in v)


def _is_histogram(v) -> bool:
    if not _is_counts(v):
        return False
    try:
        for k in v:
            bucket_sort_key(k)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Shape:
    name: str  # shown in the message when a value has another shape
    test: Callable[[Any], bool]


NUMBER = Shape("a number", _is_number)
COUNTS = Shape("a {key: count} mapping", _is_counts)
HISTOGRAM = Shape('a log2 histogram ({"0": n, "1": n, "2-3": n, ...})', _is_histogram)
MAPPING = Shape("a mapping", lambda v: isinstance(v, dict))
RECORDS = Shape("a list of objects", lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v))
TEXT = Shape("a string", lambda v: isinstance(v, str))
ANY = Shape("a value", lambda v: v is not None)


def _type_word(v) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(v), type(v).__name__)


# -- missing values ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Missing:
    """One value a section wanted and could not have, and why."""

    stage: str
    key: str
    why: str

    def __str__(self) -> str:
        return f"{self.stage} {self.key}: {self.why}"


class Needs:
    """The missing values one section ran into (in order, without repeats)."""

    def __init__(self):
        self.items: list[Missing] = []

    def add(self, item: Missing) -> None:
        if item not in self.items:
            self.items.append(item)

    def __bool__(self):
        return bool(self.items)


# -- stages ------------------------------------------------------------------------------------------

@dataclass
class StageRun:
    name: str
    folder: str
    success: Optional[dict] = None  # the parsed _SUCCESS.json; None when the stage has not finished
    problem: str = ""  # why success is None although a file is there (damaged marker)
    partial: bool = False  # a <stage>.partial folder exists: running now, or interrupted
    notes: list = field(default_factory=list)  # why it may not match the current config or its inputs

    @property
    def done(self) -> bool:
        return self.success is not None

    @property
    def state(self) -> str:
        if self.success is not None:
            return "stale" if self.notes else "done"
        if self.problem:
            return "damaged"
        return "partial" if self.partial else "not run"

    def absent_reason(self) -> str:
        if self.problem:
            return self.problem
        if self.partial:
            return f"{self.name} has not finished (its {self.name}.partial folder is running or was interrupted)"
        return f"{self.name} has not run (no {self.name}/{SUCCESS})"


@dataclass
class TrainLog:
    """The numeric columns of train/log.jsonl, in step order, plus the last generated sample."""

    rows: list  # dicts of numeric fields, one per logged line
    bad_lines: int = 0
    last_sample: Optional[str] = None
    last_sample_step: Optional[int] = None

    def series(self, key: str) -> tuple[list, list]:
        """(steps, values) of the lines that carry `key`."""
        xs, ys = [], []
        for r in self.rows:
            if key in r and "step" in r:
                xs.append(r["step"])
                ys.append(r[key])
        return xs, ys


@dataclass
class RunData:
    work_dir: str
    stages: dict  # name -> StageRun, in pipeline order
    config: dict = field(default_factory=dict)  # the current pipeline config as plain data
    config_file: Optional[str] = None
    train_log: Optional[TrainLog] = None
    train_log_problem: str = ""
    files: dict = field(default_factory=dict)  # "dedupe/contamination.json" -> parsed JSON
    file_problems: dict = field(default_factory=dict)  # same keys -> why it could not be read

    def done(self, stage: str) -> bool:
        return stage in self.stages and self.stages[stage].done

    def success(self, stage: str) -> Optional[dict]:
        run = self.stages.get(stage)
        return run.success if run else None

    def get(self, stage: str, key: str, shape: Shape = ANY, needs: Optional[Needs] = None, *,
            quiet: bool = False):
        """The value at dotted `key` ("stats.fetch.status") of a stage's _SUCCESS.json, or None.

        When it is absent or has another shape, the reason goes into `needs` (unless quiet: for a
        fallback that is tried first).
        """
        run = self.stages.get(stage)
        why = None
        value = None
        if run is None or run.success is None:
            why = run.absent_reason() if run else f"unknown stage {stage}"
        else:
            node: Any = run.success
            for i, part in enumerate(key.split(".")):
                if not isinstance(node, dict) or part not in node:
                    where = ".".join(key.split(".")[:i + 1])
                    why = f"not recorded ({stage}/{SUCCESS} has no {where})"
                    node = None
                    break
                node = node[part]
            if why is None:
                if shape in (COUNTS, HISTOGRAM) and _is_pairs(node):
                    node = dict(node)  # webtext.stats.top_k's [[key, n], ...] form, stored as is
                if node is None:
                    why = f"recorded as null in {stage}/{SUCCESS}"
                elif not shape.test(node):
                    why = f"expected {shape.name}, found {_type_word(node)}"
                else:
                    value = node
        if why is not None and needs is not None and not quiet:
            needs.add(Missing(stage, key, why))
        return value

    def file(self, name: str, needs: Optional[Needs] = None, *, quiet: bool = False):
        """A small JSON file read at gather time ("dedupe/contamination.json"), or None."""
        if name in self.files:
            return self.files[name]
        if needs is not None and not quiet:
            stage = name.split("/")[0]
            why = self.file_problems.get(name)
            if why is None:
                run = self.stages.get(stage)
                why = run.absent_reason() if run and not run.done else "not written"
            needs.add(Missing(stage, name, why))
        return None


# -- reading -----------------------------------------------------------------------------------------

SMALL_FILES = ("dedupe/contamination.json", "shard/manifest.json")
MAX_SMALL_FILE = 64 << 20  # a "small" file larger than this is not something the report should parse


def _read_json(path: str) -> tuple[Any, str]:
    try:
        if os.path.getsize(path) > MAX_SMALL_FILE:
            return None, f"{path} is larger than {MAX_SMALL_FILE >> 20} MiB; not read"
        with open(path, encoding="utf-8") as f:
            return json.load(f), ""
    except FileNotFoundError:
        return None, "not written"
    except (OSError, UnicodeDecodeError) as e:
        return None, f"cannot read {path}: {e}"
    except ValueError as e:
        return None, f"{path} is not valid JSON ({e})"


def read_stage(work_dir: str, name: str) -> StageRun:
    folder = os.path.join(work_dir, name)
    run = StageRun(name=name, folder=folder)
    run.partial = os.path.isdir(os.path.join(work_dir, name + ".partial"))
    path = os.path.join(folder, SUCCESS)
    if os.path.isfile(path):
        data, problem = _read_json(path)
        if problem:
            run.problem = problem
        elif not isinstance(data, dict):
            run.problem = f"{path} holds {_type_word(data)}, not a JSON object"
        else:
            run.success = data
    return run


def read_train_log(path: str) -> TrainLog:
    """Parse log.jsonl, keeping numeric fields; lines that are not JSON objects are counted."""
    rows: list = []
    bad = 0
    sample, sample_step = None, None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                bad += 1
                continue
            if not isinstance(obj, dict):
                bad += 1
                continue
            row = {k: v for k, v in obj.items() if _is_number(v)}
            if isinstance(obj.get("sample"), str) and obj["sample"].strip():
                sample, sample_step = obj["sample"], row.get("step")
            if row:
                rows.append(row)
    rows.sort(key=lambda r: r.get("step", -1))  # a resumed run may log steps again; keep order by step
    return TrainLog(rows=rows, bad_lines=bad, last_sample=sample, last_sample_step=sample_step)


def _stale_notes(stages: dict, config: dict) -> None:
    """Mark stages whose recorded config differs from the current one, or whose upstream was rerun."""
    for name, run in stages.items():
        if not run.done:
            continue
        recorded = run.success.get("config")
        current = config.get(name) if config else None
        if isinstance(recorded, dict) and isinstance(current, dict) and recorded != current:
            keys = sorted(k for k in set(recorded) | set(current) if recorded.get(k) != current.get(k))
            run.notes.append(f"config changed since it ran ({', '.join(keys[:6])}{', ...' if len(keys) > 6 else ''})")
        upstream = run.success.get("upstream")
        if isinstance(upstream, dict):
            for up, ident in upstream.items():
                up_run = stages.get(up)
                if ident is None or up_run is None:
                    continue
                if not up_run.done:
                    run.notes.append(f"read a {up} output that is no longer there")
                    continue
                now = f"{up_run.success.get('fingerprint')}/{up_run.success.get('run_id')}"
                if now != ident:
                    run.notes.append(f"{up} has been rerun since (it read {ident}, now {now})")


def gather(work_dir: str, config: Optional[dict] = None, config_file: Optional[str] = None,
           states: Optional[dict] = None) -> RunData:
    """Read every finished stage's record and the small files the report draws from.

    states: the runner's view ({stage: (state, detail)}, as `webtext status` shows it); a stage it
    calls stale for a reason the records cannot show (an input file changed) is marked stale too.
    """
    stages = {name: read_stage(work_dir, name) for name in DATA_STAGES}
    data = RunData(work_dir=work_dir, stages=stages, config=config or {}, config_file=config_file)
    _stale_notes(stages, data.config)
    for name, (state, detail) in (states or {}).items():
        run = stages.get(name)
        if run is not None and run.done and state == "stale" and not run.notes:
            run.notes.append(detail or "out of date (webtext status)")
    for name in SMALL_FILES:
        stage = name.split("/")[0]
        if not stages[stage].done:
            continue
        value, problem = _read_json(os.path.join(work_dir, name))
        if problem:
            data.file_problems[name] = problem
        else:
            data.files[name] = value
    if stages["train"].done:
        path = os.path.join(work_dir, "train", "log.jsonl")
        if os.path.isfile(path):
            try:
                data.train_log = read_train_log(path)
            except OSError as e:
                data.train_log_problem = f"cannot read {path}: {e}"
        else:
            data.train_log_problem = "not written (train/log.jsonl is missing)"
    return data


__all__ = ["gather", "RunData", "StageRun", "TrainLog", "Missing", "Needs", "NUMBER", "COUNTS", "HISTOGRAM",
           "MAPPING", "RECORDS", "TEXT", "ANY", "DATA_STAGES"]
