"""The one config loader: pipeline.yaml -> a validated PipelineConfig, or one clear ConfigError.

Layout of the file:

    run:    where the run writes (work_dir) and its seed
    beam:   which Beam runner executes clean, dedupe and shard, and its options
    crawl: / clean: / dedupe: / shard: / train: / report:   each stage's own block,
            declared as a dataclass in <stage>/config.py

Relative paths are resolved against the folder of the config file. Everything is checked before
anything runs: unknown keys, wrong types, missing required keys and missing input files are
collected and reported together, each naming the file and the key.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
from dataclasses import dataclass, field
from typing import Any, Literal, Optional

from webtext.errors import ConfigError
from webtext.schema import build, path_field, to_dict

# The stages, in order. Each is a top-level package with config.py (its block) and stage.py (its run).
STAGES = ("crawl", "clean", "dedupe", "shard", "train", "report")

DEFAULT_CONFIG = "pipeline.yaml"


@dataclass
class RunConfig:
    """Where a run writes, and what makes it reproducible."""

    name: str = "webtext"
    work_dir: str = path_field("work", kind="out", help="every stage writes its folder under here")
    seed: int = 1337


@dataclass
class BeamConfig:
    """The Beam runner for clean, dedupe and shard."""

    # direct: the local DirectRunner; dask: webtext's Dask runner (webtext/beam_dask.py); flink/spark/dataflow: pass-through.
    runner: Literal["direct", "dask", "flink", "spark", "dataflow"] = "direct"
    # Worker processes for the DirectRunner (or for a local Dask cluster that webtext starts); 0 = all cores.
    workers: int = 0
    # DirectRunner mode: multi_processing uses all cores; in_memory is one process (fast start, for tests).
    direct_running_mode: Literal["multi_processing", "multi_threading", "in_memory"] = "multi_processing"
    # Dask: address of a running scheduler ("tcp://host:8786"); null starts a local cluster of `workers`.
    dask_address: Optional[str] = None
    # Any other pipeline options, passed through as --key=value (e.g. flink_master, project, region).
    options: dict[str, Any] = field(default_factory=dict)

    def check(self):
        if self.workers < 0:
            yield "workers", "must be 0 (all cores) or a positive number"


def stage_config_class(stage: str):
    """The dataclass declaring `stage`'s block (from <stage>/config.py)."""
    module = importlib.import_module(f"{stage}.config")
    return module.Config


def _make_pipeline_class():
    fields = [("run", RunConfig, field(default_factory=RunConfig)),
              ("beam", BeamConfig, field(default_factory=BeamConfig))]
    for stage in STAGES:
        cls = stage_config_class(stage)
        fields.append((stage, cls, field(default_factory=cls)))
    return dataclasses.make_dataclass("PipelineConfig", fields)


_PIPELINE_CLASS = None


def pipeline_class():
    global _PIPELINE_CLASS
    if _PIPELINE_CLASS is None:
        _PIPELINE_CLASS = _make_pipeline_class()
    return _PIPELINE_CLASS


def _yaml_loader():
    """A safe YAML loader that refuses duplicate keys (PyYAML silently keeps the last one)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def construct_mapping(loader, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=deep)
            if key in seen:
                mark = key_node.start_mark
                raise ConfigError(f"line {mark.line + 1}: duplicate key '{key}' (first on line {seen[key] + 1})")
            seen[key] = key_node.start_mark.line
        return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return Loader


def parse_yaml(text: str, source: str) -> dict:
    import yaml

    try:
        data = yaml.load(text, Loader=_yaml_loader())
    except ConfigError as e:
        raise ConfigError(e.problems, source) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(f"{where}not valid YAML ({getattr(e, 'problem', None) or e})", source) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("the top level must be a mapping of blocks (run:, beam:, crawl:, ...)", source)
    return data


def load_config(path: str = DEFAULT_CONFIG, *, overrides: Optional[dict] = None, check_paths: bool = True):
    """Read and validate a pipeline config. Raises ConfigError naming the file and every bad key."""
    if not os.path.isfile(path):
        raise ConfigError(f"config file not found: {path}")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read config: {e}", path) from None
    data = parse_yaml(text, path)
    if overrides:
        data = merge_overrides(data, overrides)
    return config_from_dict(data, source=path, base_dir=os.path.dirname(os.path.abspath(path)), check_paths=check_paths)


def config_from_dict(data: dict, *, source: str = "<config>", base_dir: str = ".", check_paths: bool = True):
    cfg, problems = build(pipeline_class(), data, base_dir=base_dir, check_paths=check_paths)
    if problems:
        raise ConfigError(problems, source)
    cfg.source = os.path.abspath(source) if os.path.exists(source) else source
    return cfg


def merge_overrides(data: dict, overrides: dict) -> dict:
    """Apply {"train.max_steps": 10, ...} style overrides (used by tests and `--set`)."""
    out = json.loads(json.dumps(data))
    for dotted, value in overrides.items():
        node = out
        parts = dotted.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {dotted}: '{p}' is not a block")
        node[parts[-1]] = value
    return out


def stage_config_dict(cfg, stage: str) -> dict:
    """A stage's block as plain data (for fingerprints and the report)."""
    return to_dict(getattr(cfg, stage))


def config_dict(cfg) -> dict:
    return {f.name: to_dict(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}
