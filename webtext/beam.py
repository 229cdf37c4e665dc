"""What clean, dedupe and shard share on Apache Beam: the runner, record IO and statistics.

- `pipeline_options(beam_cfg)`: the runner named in pipeline.yaml (DirectRunner in multi-processing
  mode on all cores by default; Dask, Flink, Spark, Dataflow by name), with pass-through options.
- `ReadRecords(files)`: JSON-lines files (any compression) -> records, one file per work item.
- `WriteRecords(folder, prefix, num_shards)`: records -> `prefix-SSSSS-of-NNNNN.jsonl.zst`, each
  record in the shard chosen by a hash of its id and sorted by id within it. The output is therefore
  byte-identical whatever the runner, its parallelism or the order elements arrive in.
- `WriteStats(path)`: a PCollection of small stats dicts, merged by a combiner, written as JSON.

Stage logic stays in plain functions; these transforms are the thin layer that moves records.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Callable, Iterable, Optional

import logging


# Notices Beam logs on every run that say nothing about the user's pipeline: the optional Google Cloud
# client libraries (gs:// work dirs need apache-beam[gcp]), and worker processes echoing options meant
# for the DirectRunner or a persistent worker directory they do not need.
_BEAM_NOISE = ("apitools not found", "Discarding unparseable args", "No semi_persistent_directory found")


def _drop_beam_noise(record: logging.LogRecord) -> bool:
    message = record.getMessage()
    return not any(n in message for n in _BEAM_NOISE)


logging.getLogger().addFilter(_drop_beam_noise)
logging.getLogger("apache_beam.runners.portability.local_job_service").addFilter(_drop_beam_noise)
logging.getLogger("apache_beam.options.pipeline_options").addFilter(_drop_beam_noise)

import apache_beam as beam  # noqa: E402
from apache_beam.options.pipeline_options import PipelineOptions  # noqa: E402

from webtext import jsonl, stats as statslib  # noqa: E402

DIRECT_RUNNER = "DirectRunner"
RUNNER_CLASSES = {
    "direct": DIRECT_RUNNER,
    "dask": "webtext.beam_dask.WebtextDaskRunner",  # our translation onto dask.distributed
    "flink": "FlinkRunner",
    "spark": "SparkRunner",
    "dataflow": "DataflowRunner",
}


def local_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def pipeline_options(beam_cfg, *, job_name: Optional[str] = None, extra: Optional[dict] = None) -> PipelineOptions:
    """Beam PipelineOptions for the runner configured in pipeline.yaml's `beam:` block."""
    opts: dict[str, Any] = {"runner": RUNNER_CLASSES[beam_cfg.runner]}
    if beam_cfg.runner == "direct":
        workers = beam_cfg.workers or local_cores()
        mode = beam_cfg.direct_running_mode
        if mode == "multi_processing" and workers == 1:
            mode = "in_memory"  # one worker process buys nothing but start-up time
        # Worker processes log every gRPC channel at INFO; keep their warnings and errors only.
        opts.update(direct_running_mode=mode, direct_num_workers=workers, default_sdk_harness_log_level="WARNING")
    elif beam_cfg.runner == "dask":
        import webtext.beam_dask  # noqa: F401 - registers the Dask options (Beam's and ours)

        if beam_cfg.dask_address:
            opts["dask_client_address"] = beam_cfg.dask_address
        else:
            opts["dask_local_workers"] = beam_cfg.workers or local_cores()
    if job_name:
        opts["job_name"] = job_name
    opts.update(beam_cfg.options)
    if extra:
        opts.update(extra)
    return PipelineOptions(flags=[], **_option_dests(opts))


def _option_dests(opts: dict) -> dict:
    """Options named as on a command line (`dask_client_address`) -> Beam's names for them (the
    argparse dest: `address`). Beam reads keyword options by dest and drops any other name with only a
    warning, so a misspelt pass-through option would be lost: it is an error instead."""
    from webtext.errors import ConfigError

    flags = _beam_flags()
    dests = set(flags.values())
    out, unknown = {}, []
    for key, value in opts.items():
        if key in flags:
            out[flags[key]] = value
        elif key in dests:
            out[key] = value
        else:
            unknown.append(key)
    if unknown:
        raise ConfigError([f"beam.options.{k}: not a pipeline option of any Beam runner installed here"
                           for k in sorted(unknown)])
    return out


def _beam_flags() -> dict:
    """Every pipeline option registered in this process: flag name without dashes -> dest."""
    from apache_beam.options.pipeline_options import _BeamArgumentParser

    try:  # the Dask options (Beam's and webtext's) are registered on import: valid under any runner
        import webtext.beam_dask  # noqa: F401
    except ImportError:  # dask not installed: its options are then unknown, as they should be
        pass

    names: dict = {}
    seen: set = set()
    todo = [PipelineOptions]
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        todo.extend(cls.__subclasses__())
        parser = _BeamArgumentParser(add_help=False)
        try:
            cls._add_argparse_args(parser)
        except Exception:  # noqa: BLE001 - an options class that cannot describe itself adds nothing
            continue
        for action in parser._actions:
            for flag in action.option_strings:
                names.setdefault(flag.lstrip("-"), action.dest)
    return names


def run_pipeline(build: Callable[[beam.Pipeline], None], options: PipelineOptions) -> None:
    """Build a pipeline with `build(p)`, run it and wait; raises on failure."""
    from webtext.quiet import filtered_stderr

    p = beam.Pipeline(options=options)
    build(p)
    with filtered_stderr():
        result = p.run()
        result.wait_until_finish()


# ---------------------------------------------------------------------------------------------
# Reading and writing records


def _read_file(path: str) -> Iterable[Any]:
    yield from jsonl.read_jsonl(path)


class ReadRecords(beam.PTransform):
    """Records from JSON-lines files; files are spread over workers (one file, one work item)."""

    def __init__(self, files: list[str], reader: Callable[[str], Iterable[Any]] = _read_file, label: str = "Files"):
        super().__init__()
        self.files = sorted(files)
        self.reader = reader
        self.files_label = label

    def expand(self, pbegin):
        return (pbegin
                | self.files_label >> beam.Create(self.files)
                | "SpreadFiles" >> beam.Reshuffle()
                | "ReadFile" >> beam.FlatMap(self.reader))


def shard_of(key: str, num_shards: int) -> int:
    """A stable shard index for a key (independent of Python's hash seed)."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big") % num_shards


def shard_path(folder: str, prefix: str, index: int, num_shards: int, suffix: str = ".jsonl.zst") -> str:
    return os.path.join(folder, f"{prefix}-{index:05d}-of-{num_shards:05d}{suffix}")


def _record_key(record: dict) -> str:
    return record["id"]


class _WriteShard(beam.DoFn):
    def __init__(self, folder: str, prefix: str, num_shards: int, key: Callable[[Any], str]):
        self.folder, self.prefix, self.num_shards, self.key = folder, prefix, num_shards, key

    def process(self, element):
        index, records = element
        records = [r for r in records if r is not None]
        # Sort by key, then by content, so the file's bytes never depend on arrival order.
        records.sort(key=lambda r: (self.key(r), json.dumps(r, sort_keys=True, ensure_ascii=False)))
        path = shard_path(self.folder, self.prefix, index, self.num_shards)
        data = jsonl.encode_lines(records)
        write_bytes_atomic(path, data)
        yield {"path": path, "records": len(records)}


def write_bytes_atomic(path: str, data: bytes) -> None:
    """Write a whole file so that it appears complete or not at all (a retried task rewrites it)."""
    if jsonl.is_remote(path):
        with jsonl.open_raw(path, "wb") as f:
            f.write(data)
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


class WriteRecords(beam.PTransform):
    """Write records to `folder/prefix-SSSSS-of-NNNNN.jsonl.zst`, deterministically.

    Every one of the N shard files is written, empty ones included, so a reader can tell a complete
    output from a partial one. Returns a PCollection of {"path", "records"} per shard.
    """

    def __init__(self, folder: str, prefix: str, num_shards: int, key: Callable[[Any], str] = _record_key):
        super().__init__()
        if num_shards < 1:
            raise ValueError("num_shards must be at least 1")
        self.folder, self.prefix, self.num_shards, self.key = folder, prefix, num_shards, key

    def expand(self, pcoll):
        n, key = self.num_shards, self.key
        keyed = pcoll | "KeyByShard" >> beam.Map(lambda r: (shard_of(key(r), n), r))
        every = pcoll.pipeline | "EveryShard" >> beam.Create([(i, None) for i in range(n)])
        return ((keyed, every)
                | "WithEmptyShards" >> beam.Flatten()
                | "GroupByShard" >> beam.GroupByKey()
                | "WriteShard" >> beam.ParDo(_WriteShard(self.folder, self.prefix, n, key)))


def read_sharded(folder: str, prefix: str) -> Iterable[Any]:
    """All records written by WriteRecords(folder, prefix, ...), in shard order."""
    for path in jsonl.list_files(os.path.join(folder, f"{prefix}-*-of-*.jsonl.zst")):
        yield from jsonl.read_jsonl(path)


# ---------------------------------------------------------------------------------------------
# Statistics


class MergeStats(beam.CombineFn):
    """Combine stats dicts (see webtext.stats): counts summed, nested dicts merged."""

    def create_accumulator(self):
        return {}

    def add_input(self, acc, item):
        return statslib.merge_into(acc, item)

    def merge_accumulators(self, accs):
        out: dict = {}
        for a in accs:
            statslib.merge_into(out, a)
        return out

    def extract_output(self, acc):
        return acc


class WriteStats(beam.PTransform):
    """Merge a PCollection of stats dicts into one and write it as JSON to `path`."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path

    def expand(self, pcoll):
        path = self.path
        return (pcoll
                | "MergeStats" >> beam.CombineGlobally(MergeStats())
                | "WriteStatsJson" >> beam.Map(lambda s: write_bytes_atomic(path, (json.dumps(s, indent=1, sort_keys=True) + "\n").encode())))
