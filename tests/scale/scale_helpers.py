"""Helpers of the scale tests: a real crawl of the mini-web (in two parts, merged), pipeline configs for
each runner, running clean/dedupe/shard in this process, and comparing two work folders.

(No conftest.py here: a second module named `conftest` would shadow tests/conftest.py for tests that
import from it. pytest puts this folder on sys.path, and Dask's spawned workers inherit that path, so
the worker plugin below is importable by them.)
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys

import yaml
from distributed.diagnostics.plugin import WorkerPlugin

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(REPO, "examples")
if EXAMPLES not in sys.path:
    sys.path.insert(0, EXAMPLES)

BEAM_STAGES = ("clean", "dedupe", "shard")

# The demo's blocks (examples/demo.yaml), smaller where size does not matter. Dedupe checks every
# candidate pair's exact Jaccard (exact_check_sigmas 10: estimates from about 0.45 up), so that path
# runs too; the benchmark is written from the crawled documents (see write_benchmark).
STAGE_BLOCKS = {
    "clean": {"num_shards": 2},
    "dedupe": {"doc_shards": 4, "reject_shards": 2, "cluster_shards": 2, "exact_check_sigmas": 10.0},
    "shard": {"tokenizer": {"kind": "train", "vocab_size": 1024, "sample_docs": 0},
              "shard_tokens": 40000, "val_fraction": 0.1},
}

# Statistics in _SUCCESS.json that measure the run rather than the data (compared apart).
RUN_DEPENDENT_STATS = {"shard": {"pipeline_seconds", "tokens_per_s", "encode_seconds", "tokenizer.seconds",
                                 "encoder.threads_per_worker"}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def crawl_block(miniweb_dir: str) -> dict:
    return {"submissions": [os.path.join(miniweb_dir, "submissions.jsonl.xz")],
            "fetch": {"resolve": {"miniweb.test": "127.0.0.1"}, "allow_private_networks": True,
                      "concurrent_requests": 16, "per_domain_concurrency": 4, "autothrottle": False,
                      "timeout_s": 10, "retries": 1, "retry_backoff_s": 0.2},
            "link_buckets": 4}


def write_config(path: str, work_dir: str, miniweb_dir: str, beam: dict | None = None,
                 benchmark: str | None = None) -> str:
    blocks = json.loads(json.dumps(STAGE_BLOCKS))
    if benchmark:
        blocks["dedupe"]["decontamination"] = {"benchmarks": [{"name": "planted", "path": benchmark,
                                                                "format": "text"}]}
    else:
        blocks["dedupe"]["decontamination"] = {"benchmarks": []}
    data = {"run": {"name": "scale", "work_dir": work_dir, "seed": 1337},
            "beam": beam or {"runner": "direct", "direct_running_mode": "in_memory", "workers": 1},
            "crawl": crawl_block(miniweb_dir), **blocks}
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(data, f, sort_keys=False)
    return path


def run_stages(config_path: str, stages=BEAM_STAGES, overrides: dict | None = None) -> list[dict]:
    """Run stages in this process (the Beam runner named in the config); their _SUCCESS records."""
    from webtext.config import load_config
    from webtext.progress import Progress
    from webtext.runner import Runner

    cfg = load_config(config_path, overrides=overrides)
    return Runner(cfg, Progress(quiet=True)).run(list(stages))


def crawl_miniweb(root: str) -> tuple[str, str]:
    """Generate the mini-web, serve it, crawl it in two parts (`--part 1/2`, `2/2`) and merge them.
    Returns (mini-web folder, the merged crawl folder: two WARC files, one per part)."""
    from miniweb.generate import build_miniweb
    from miniweb.serve import serve

    from crawl.merge import merge_parts

    port = free_port()
    miniweb = os.path.join(root, "miniweb")
    build_miniweb(miniweb, port=port)
    parts = []
    with serve(miniweb, port=port):
        for i in (1, 2):
            from webtext.config import load_config
            from webtext.progress import Progress
            from webtext.runner import Runner, work_lock

            cfg = load_config(write_config(os.path.join(root, f"part{i}.yaml"), os.path.join(root, f"part{i}"),
                                           miniweb))
            with work_lock(cfg.run.work_dir):
                Runner(cfg, Progress(quiet=True)).run_stage("crawl", options={"part": f"{i}/2"})
            parts.append(os.path.join(cfg.run.work_dir, "crawl"))
    from webtext.config import load_config

    merged = load_config(write_config(os.path.join(root, "merged.yaml"), os.path.join(root, "merged"), miniweb))
    merge_parts(merged, parts, log=lambda *_: None)
    return miniweb, os.path.join(merged.run.work_dir, "crawl")


def new_work_dir(root: str, name: str, crawl_dir: str) -> str:
    """A work folder holding a copy of the finished crawl (files, not links)."""
    work = os.path.join(root, name)
    shutil.copytree(crawl_dir, os.path.join(work, "crawl"), symlinks=False)
    return work


def write_benchmark(clean_docs_dir: str, path: str) -> dict:
    """An evaluation set planted from the crawled documents themselves, so decontamination has work:
    a 60-word passage from the middle of one long document (that document is cut) and the whole text
    of another (that one is removed), and of their copies, if any survive dedupe. Taken in the order of
    their host and path (not their ids, which hash the URL with the server's port, new every run): the
    same documents every run, whichever runner cleaned."""
    from urllib.parse import urlsplit

    from webtext.beam import read_sharded

    def where(doc):
        u = urlsplit(doc["url"])
        return u.hostname, u.path, u.query

    docs = sorted(read_sharded(clean_docs_dir, "docs"), key=where)
    long_docs = [d for d in docs if len(d["text"].split()) > 400]
    cut, drop = long_docs[0], long_docs[1]
    words = cut["text"].split()
    middle = len(words) // 2
    lines = [" ".join(words[middle:middle + 60]), " ".join(drop["text"].split())]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return {"cut": cut["id"], "removed": drop["id"]}


def _files(folder: str) -> dict:
    out = {}
    for dirpath, _, names in os.walk(folder):
        for n in names:
            full = os.path.join(dirpath, n)
            out[os.path.relpath(full, folder)] = full
    return out


def _drop(d: dict, dotted: str) -> None:
    *parents, last = dotted.split(".")
    for p in parents:
        d = d.get(p, {})
    d.pop(last, None)


def canonical_success(path: str, stage: str) -> dict:
    """The data part of a _SUCCESS.json: counts, and stats without the timings (RUN_DEPENDENT_STATS)."""
    with open(path, encoding="utf-8") as f:
        record = json.load(f)
    stats = json.loads(json.dumps(record["stats"]))
    for key in RUN_DEPENDENT_STATS.get(stage, ()):
        _drop(stats, key)
    return {"counts": record["counts"], "stats": stats}


def canonical_manifest(path: str) -> dict:
    """shard/manifest.json without inputs.upstream: the id of the dedupe run it read (new every run)."""
    with open(path, encoding="utf-8") as f:
        manifest = json.load(f)
    manifest["input"].pop("upstream", None)
    return manifest


def compare_stage(a_dir: str, b_dir: str, stage: str) -> list[str]:
    """Differences between two runs' output of one stage: every file byte for byte, except
    _SUCCESS.json (canonical_success) and shard's manifest.json (canonical_manifest)."""
    a, b = _files(os.path.join(a_dir, stage)), _files(os.path.join(b_dir, stage))
    problems = []
    if sorted(a) != sorted(b):
        problems.append(f"{stage}: files differ: only in A {sorted(set(a) - set(b))}, only in B {sorted(set(b) - set(a))}")
    for rel in sorted(set(a) & set(b)):
        if rel == "_SUCCESS.json":
            same = canonical_success(a[rel], stage) == canonical_success(b[rel], stage)
        elif stage == "shard" and rel == "manifest.json":
            same = canonical_manifest(a[rel]) == canonical_manifest(b[rel])
        else:
            with open(a[rel], "rb") as fa, open(b[rel], "rb") as fb:
                same = fa.read() == fb.read()
        if not same:
            problems.append(f"{stage}/{rel} differs")
    return problems


class KillOnce(WorkerPlugin):
    """A Dask worker plugin that kills its own worker process, once in the whole cluster (the first
    worker to get there creates `marker` with O_EXCL, so exactly one dies), at a chosen point:

    - when="task_done": right after a task whose key contains `where` finished on it (its files
      written, its result not yet reported): the scheduler must run that task again and recompute
      whatever else the dead worker held;
    - when="before_rename": in the middle of a whole-file write whose destination path contains
      `where`, after the temporary file is written and before it is renamed into place (os.replace
      is wrapped in the worker): the file is never finished by this worker, its task runs again
      elsewhere, and the temporary file stays behind.
    """

    name = "webtext-kill-once"

    def __init__(self, where: str, marker: str, when: str = "task_done"):
        assert when in ("task_done", "before_rename")
        self.where, self.marker, self.when = where, marker, when

    def _kill(self, **info) -> None:
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.write(fd, json.dumps({"pid": os.getpid(), "worker": self.worker.address, **info}).encode())
        os.close(fd)
        os._exit(17)

    def setup(self, worker):
        self.worker = worker
        if self.when == "before_rename":
            replace = os.replace

            def replace_or_die(src, dst, *args, **kwargs):
                if self.where in str(dst) and not os.path.exists(self.marker):
                    self._kill(tmp=str(src), path=str(dst), tmp_written=os.path.exists(src))
                return replace(src, dst, *args, **kwargs)

            os.replace = replace_or_die

    def transition(self, key, start, finish, **kwargs):
        name = key[0] if isinstance(key, tuple) else key
        if self.when == "task_done" and finish == "memory" and self.where in str(name):
            self._kill(key=str(key))
