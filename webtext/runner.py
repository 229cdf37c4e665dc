"""The one stage runner: runs stages in order, skips finished ones, never trusts half-written output.

Each stage is a package with `stage.py` that declares:

    INPUTS = ("crawl",)        # stages whose finished folders it reads
    OPTIONAL_INPUTS = ()       # stages it reads when present (report reads whatever exists)
    RESUMABLE = False          # True: an interrupted run continues in its partial folder
    ALWAYS_RUN = False         # True: rerun every time (the report is cheap and reads the others)
    FINGERPRINT_IGNORE = ()    # keys of its block that do not affect its output (e.g. train's eval:)
    def run(ctx: StageContext) -> StageResult

Folders under work_dir:

    <stage>/              finished output; trusted only with _SUCCESS.json
    <stage>.partial/      where a stage writes while it runs; renamed to <stage>/ when it finishes

_SUCCESS.json holds the stage's counts and statistics and a fingerprint of its config block, its
input files and its upstream stages' fingerprints. A rerun skips a stage whose fingerprint is
unchanged, redoes one whose fingerprint changed (and so everything after it, whose fingerprints
include it), and restarts from scratch a partial folder it cannot resume.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import fcntl
import hashlib
import importlib
import json
import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Optional

import webtext
from webtext import jsonl
from webtext.config import STAGES, config_dict, stage_config_dict
from webtext.errors import WebtextError
from webtext.progress import Progress
from webtext.schema import path_fields

SUCCESS = "_SUCCESS.json"
PARTIAL_MARK = "_PARTIAL.json"  # in a partial folder: which fingerprint it is being written for


@dataclass
class StageResult:
    """What a stage returns: its funnel counts and the statistics the report needs."""

    counts: dict  # {"in": n, "out": n, "dropped": {reason: n}}
    stats: dict = field(default_factory=dict)


@dataclass
class StageContext:
    name: str
    config: Any  # the whole PipelineConfig
    out_dir: str  # the partial folder to write into
    inputs: dict  # upstream stage name -> finished folder
    work_dir: str
    options: dict = field(default_factory=dict)  # command-line extras (e.g. crawl --part)
    resumed: bool = False  # True when out_dir holds an interrupted run of the same fingerprint
    progress: Optional[Progress] = None

    @property
    def cfg(self):
        """This stage's own config block."""
        return getattr(self.config, self.name)

    def log(self, message: str) -> None:
        (self.progress or Progress()).note(self.name, message)

    def beam_options(self, **extra):
        from webtext.beam import pipeline_options

        return pipeline_options(self.config.beam, job_name=f"webtext-{self.name}", extra=extra or None)


def stage_module(name: str):
    if name not in STAGES:
        raise WebtextError(f"unknown stage '{name}' (stages: {', '.join(STAGES)})")
    return importlib.import_module(f"{name}.stage")


def stage_dir(work_dir: str, name: str) -> str:
    return os.path.join(work_dir, name)


def partial_dir(work_dir: str, name: str) -> str:
    return os.path.join(work_dir, name + ".partial")


def read_success(work_dir: str, name: str) -> Optional[dict]:
    path = os.path.join(stage_dir(work_dir, name), SUCCESS)
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None  # a damaged marker is no marker: the stage reruns


def _file_signature(path: str) -> list:
    try:
        st = os.stat(path)
        return [path, st.st_size, st.st_mtime_ns]
    except OSError:
        return [path, None, None]


def input_files_signature(stage_cfg, ignore=()) -> list:
    """Size and mtime of every input file named in a stage's block (path fields), for its fingerprint;
    none under the top-level keys in `ignore`."""
    import glob

    out = []
    for key, kind, value in path_fields(stage_cfg):
        if kind == "out" or value is None or key.split(".")[0].split("[")[0] in ignore:
            continue
        values = value if isinstance(value, list) else [value]
        for v in values:
            if not isinstance(v, str) or "://" in v:
                out.append([key, v])
                continue
            matches = sorted(glob.glob(v)) if kind == "glob" else [v]
            if kind == "dir" and os.path.isdir(v):
                matches = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(v) for f in fs)
            out.append([key, [_file_signature(m) for m in matches]])
    return out


def fingerprint(cfg, name: str, upstream: dict, options: Optional[dict] = None) -> str:
    """Hash of what determines a stage's output: its block, input files, upstream outputs, options."""
    mod = stage_module(name)
    extra = getattr(mod, "fingerprint_extra", None)
    ignore = getattr(mod, "FINGERPRINT_IGNORE", ())
    payload = {
        "stage": name,
        "config": {k: v for k, v in stage_config_dict(cfg, name).items() if k not in ignore},
        "seed": cfg.run.seed,
        "files": input_files_signature(getattr(cfg, name), ignore),
        "upstream": upstream,
        "options": {k: v for k, v in (options or {}).items() if v is not None},
        "extra": extra(cfg) if extra else None,
    }
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:20]


@contextlib.contextmanager
def work_lock(work_dir: str):
    """One run at a time per work folder: two runs writing the same stage would corrupt it."""
    os.makedirs(work_dir, exist_ok=True)
    path = os.path.join(work_dir, ".lock")
    with open(path, "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WebtextError(f"{work_dir} is in use by another webtext run (lock: {path})") from None
        f.write(str(os.getpid()))
        f.flush()
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


@dataclass
class StageStatus:
    name: str
    state: str  # done | stale | partial | missing | blocked
    detail: str = ""
    success: Optional[dict] = None
    fingerprint: Optional[str] = None


class Runner:
    def __init__(self, cfg, progress: Optional[Progress] = None):
        self.cfg = cfg
        self.work_dir = cfg.run.work_dir
        self.progress = progress or Progress()

    # -- planning ---------------------------------------------------------------------------

    def upstream_fingerprints(self, name: str, *, require: bool = True) -> Optional[dict]:
        """{upstream: fingerprint} for a stage's inputs; None if a required input is not finished."""
        mod = stage_module(name)
        out = {}
        for up in getattr(mod, "INPUTS", ()):
            success = read_success(self.work_dir, up)
            if success is None:
                if require:
                    raise WebtextError(
                        f"stage '{name}' needs the output of '{up}', which has not finished in "
                        f"{stage_dir(self.work_dir, up)}: run `webtext {up}` or `webtext run --from {up}` first")
                return None
            out[up] = _completion_id(success)
        for up in getattr(mod, "OPTIONAL_INPUTS", ()):
            success = read_success(self.work_dir, up)
            out[up] = _completion_id(success) if success else None
        return out

    def status(self) -> list[StageStatus]:
        """Where every stage stands, without running anything."""
        out: list[StageStatus] = []
        states: dict[str, str] = {}
        for name in STAGES:
            mod = stage_module(name)
            success = read_success(self.work_dir, name)
            partial = os.path.isdir(partial_dir(self.work_dir, name))
            upstream = self.upstream_fingerprints(name, require=False)
            behind = [up for up in getattr(mod, "INPUTS", ()) if states.get(up) != "done"]
            fp = fingerprint(self.cfg, name, upstream) if upstream is not None else None
            if success and fp and success.get("fingerprint") == fp and not behind:
                st = StageStatus(name, "done", "", success, fp)
            elif success:
                why = f"{', '.join(behind)} out of date" if behind else "config or inputs changed since it ran"
                st = StageStatus(name, "stale", why, success, fp)
            elif partial:
                st = StageStatus(name, "partial", "interrupted; will resume or restart", None, fp)
            elif behind:
                st = StageStatus(name, "blocked", f"waiting for {', '.join(behind)}", None, fp)
            else:
                st = StageStatus(name, "missing", "", None, fp)
            states[name] = st.state
            out.append(st)
        return out

    # -- running ----------------------------------------------------------------------------

    def run(self, stages: Optional[list[str]] = None, *, force: bool = False, options: Optional[dict] = None) -> list[dict]:
        """Run `stages` (default: all) in order. Returns each stage's _SUCCESS record."""
        stages = list(stages or STAGES)
        results = []
        with work_lock(self.work_dir):
            for i, name in enumerate(stages, 1):
                results.append(self.run_stage(name, force=force, options=options, position=(i, len(stages))))
        return results

    def run_stage(self, name: str, *, force: bool = False, options: Optional[dict] = None, position=(1, 1)) -> dict:
        mod = stage_module(name)
        options = options or {}
        upstream = self.upstream_fingerprints(name)
        fp = fingerprint(self.cfg, name, upstream, options)
        final = stage_dir(self.work_dir, name)
        success = read_success(self.work_dir, name)
        always = getattr(mod, "ALWAYS_RUN", False)
        if success and success.get("fingerprint") == fp and not force and not always:
            self.progress.skip(name, position, success)
            return success

        partial = partial_dir(self.work_dir, name)
        resumed = False
        mark = os.path.join(partial, PARTIAL_MARK)
        if os.path.isdir(partial):
            same = os.path.isfile(mark) and _read_mark(mark).get("fingerprint") == fp
            if same and getattr(mod, "RESUMABLE", False) and not force:
                resumed = True
            else:
                shutil.rmtree(partial)
        os.makedirs(partial, exist_ok=True)
        if not resumed:
            jsonl.write_json(mark, {"stage": name, "fingerprint": fp, "started_at": _now(), "pid": os.getpid()})

        inputs = {up: stage_dir(self.work_dir, up) for up in getattr(mod, "INPUTS", ())}
        for up in getattr(mod, "OPTIONAL_INPUTS", ()):
            if read_success(self.work_dir, up):
                inputs[up] = stage_dir(self.work_dir, up)
        ctx = StageContext(name=name, config=self.cfg, out_dir=partial, inputs=inputs, work_dir=self.work_dir,
                           options=options, resumed=resumed, progress=self.progress)
        started = time.time()
        started_at = _now()
        self.progress.start(name, position, resumed=resumed)
        try:
            result = mod.run(ctx)
        except BaseException:
            self.progress.fail(name, time.time() - started)
            raise  # the partial folder stays: a resumable stage continues there, others restart
        if not isinstance(result, StageResult):
            raise TypeError(f"{name}.stage.run must return a StageResult, got {type(result).__name__}")
        stray = remove_temporary_files(partial)
        if stray:
            self.progress.note(name, f"removed {stray} temporary file(s) of writes cut short (a lost worker's)")
        record = {
            "stage": name,
            "fingerprint": fp,
            "run_id": uuid.uuid4().hex[:12],
            "webtext_version": webtext.__version__,
            "started_at": started_at,
            "finished_at": _now(),
            "seconds": round(time.time() - started, 3),
            "counts": result.counts,
            "stats": result.stats,
            "config": stage_config_dict(self.cfg, name),
            "upstream": upstream,
            "options": options,
        }
        if os.path.exists(mark):
            os.remove(mark)
        jsonl.write_json(os.path.join(partial, SUCCESS), record)
        _swap_into_place(partial, final)
        self.progress.done(name, record)
        return record


_TEMPORARY_FILE = re.compile(r"\.tmp\.\d+$")


def remove_temporary_files(folder: str) -> int:
    """Delete the `<file>.tmp.<pid>` files under a finished stage's folder. Workers write each output
    file whole under such a name and rename it into place; one that died in between (a Dask worker
    lost mid-stage) leaves its temporary file behind, while the retried task wrote the file itself."""
    removed = 0
    for dirpath, _, names in os.walk(folder):
        for n in names:
            if _TEMPORARY_FILE.search(n):
                os.remove(os.path.join(dirpath, n))
                removed += 1
    return removed


def _completion_id(success: dict) -> str:
    """Identifies one finished run of a stage: a rerun of it (even with the same fingerprint, e.g. a
    crawl fetching pages that changed) makes every stage that read it out of date."""
    return f"{success.get('fingerprint')}/{success.get('run_id')}"


def _read_mark(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def _swap_into_place(partial: str, final: str) -> None:
    """Replace `final` with `partial`. The old folder loses its _SUCCESS.json first, so a crash
    between the two renames leaves nothing that a later run would trust."""
    old = None
    if os.path.exists(final):
        marker = os.path.join(final, SUCCESS)
        if os.path.exists(marker):
            os.remove(marker)
        old = f"{final}.old.{os.getpid()}"
        os.rename(final, old)
    os.rename(partial, final)
    if old:
        shutil.rmtree(old, ignore_errors=True)


def config_snapshot(cfg) -> dict:
    return config_dict(cfg)
