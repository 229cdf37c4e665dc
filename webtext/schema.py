"""Typed config blocks: dataclasses built from YAML with every problem reported, none guessed.

Each stage declares its block of `pipeline.yaml` as a dataclass in `<stage>/config.py`, using plain
type hints (int, float, bool, str, Literal, Optional, list, dict, nested dataclasses) and, for paths,
`path_field(...)`. `build(cls, data)` turns a YAML mapping into that dataclass or collects every
problem: unknown keys (with a suggestion), wrong types, missing required keys, missing input files.
Only the standard library is used here, so `train/` can declare its config without extra packages.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import glob
import os
import types
import typing
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

# Path kinds: what must exist when the config is loaded.
PATH_KINDS = ("file", "dir", "glob", "out", "any")


def path_field(default=dataclasses.MISSING, *, kind: str = "file", help: str = "", default_factory=dataclasses.MISSING):
    """A path in the config, resolved against the config file's folder.

    kind: "file" (must exist), "dir" (must exist), "glob" (must match at least one file), "out"
    (written by us; not checked), "any" (resolved, not checked). For a list of paths, each element is
    checked. None is always allowed when the type is Optional.
    """
    if kind not in PATH_KINDS:
        raise ValueError(f"unknown path kind {kind!r}")
    md = {"path": kind, "help": help}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=md)
    return dataclasses.field(default=default, metadata=md)


def is_remote(path: str) -> bool:
    """True for URLs such as gs://bucket/x or s3://..., which we neither resolve nor check."""
    return "://" in path


def resolve_path(path: str, base_dir: str) -> str:
    if is_remote(path):
        return path
    path = os.path.expanduser(path)
    return os.path.normpath(path if os.path.isabs(path) else os.path.join(base_dir, path))


def _type_name(tp) -> str:
    origin = get_origin(tp)
    if tp is type(None):
        return "null"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in get_args(tp))
    if origin is list:
        return f"a list of {_type_name(get_args(tp)[0])}" if get_args(tp) else "a list"
    if origin is dict:
        return "a mapping"
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(tp, getattr(tp, "__name__", str(tp)))


def _describe(value) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


class _Builder:
    def __init__(self, base_dir: str, check_paths: bool):
        self.base_dir = base_dir
        self.check_paths = check_paths
        self.problems: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}" if where else message)

    def convert(self, tp, value, where: str, path_kind: str | None = None):
        """Convert value to tp; on failure record a problem and return a sentinel."""
        origin = get_origin(tp)
        if tp is Any or tp is object:
            return value
        if origin in (Union, types.UnionType):
            args = get_args(tp)
            if value is None:
                if type(None) in args:
                    return None
                self.problem(where, f"expected {_type_name(tp)}, got null")
                return _BAD
            for arg in args:
                if arg is type(None):
                    continue
                sub = _Builder(self.base_dir, self.check_paths)
                out = sub.convert(arg, value, where, path_kind)
                if out is not _BAD and not sub.problems:
                    return out
                if len([a for a in args if a is not type(None)]) == 1:
                    self.problems.extend(sub.problems)
                    return _BAD
            self.problem(where, f"expected {_type_name(tp)}, got {_describe(value)}")
            return _BAD
        if origin is Literal:
            if value in get_args(tp) and not (isinstance(value, bool) and not any(isinstance(a, bool) for a in get_args(tp))):
                return value
            self.problem(where, f"expected {_type_name(tp)}, got {_describe(value)}")
            return _BAD
        if origin is list:
            if not isinstance(value, list):
                self.problem(where, f"expected {_type_name(tp)}, got {_describe(value)}")
                return _BAD
            (elem,) = get_args(tp) or (Any,)
            out = [self.convert(elem, v, f"{where}[{i}]", path_kind) for i, v in enumerate(value)]
            return _BAD if any(o is _BAD for o in out) else out
        if origin is dict:
            if not isinstance(value, dict):
                self.problem(where, f"expected a mapping, got {_describe(value)}")
                return _BAD
            kt, vt = get_args(tp) or (str, Any)
            out = {}
            for k, v in value.items():
                if kt is str and not isinstance(k, str):
                    self.problem(f"{where}.{k}", f"keys must be strings, got {_describe(k)}")
                    continue
                out[k] = self.convert(vt, v, f"{where}.{k}", path_kind)
            return _BAD if any(o is _BAD for o in out.values()) else out
        if dataclasses.is_dataclass(tp):
            return self.build(tp, value, where)
        if tp is bool:
            if isinstance(value, bool):
                return value
        elif tp is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, float) and value.is_integer() and abs(value) >= 1e3:
                return int(value)  # YAML reads 1e9 as a float; accept whole numbers written that way
        elif tp is float:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
        elif tp is str:
            if isinstance(value, str):
                return self.check_path(value, where, path_kind) if path_kind else value
            if isinstance(value, datetime.date) and not path_kind:
                return value.isoformat()  # YAML reads an unquoted 2017-12-01 as a date; take it as written
        else:
            raise TypeError(f"schema: unsupported type {tp!r} at {where}")
        self.problem(where, f"expected {_type_name(tp)}, got {_describe(value)}")
        return _BAD

    def check_path(self, value: str, where: str, kind: str) -> str:
        resolved = resolve_path(value, self.base_dir)
        if not self.check_paths or is_remote(resolved) or kind in ("out", "any"):
            return resolved
        if kind == "file" and not os.path.isfile(resolved):
            self.problem(where, f"file not found: {resolved}")
        elif kind == "dir" and not os.path.isdir(resolved):
            self.problem(where, f"folder not found: {resolved}")
        elif kind == "glob" and not glob.glob(resolved):
            self.problem(where, f"no file matches: {resolved}")
        return resolved

    def build(self, cls, data, where: str = ""):
        if data is None:
            data = {}
        if not isinstance(data, dict):
            self.problem(where, f"expected a mapping, got {_describe(data)}")
            return _BAD
        hints = get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
        kwargs = {}
        ok = True
        for key, value in data.items():
            sub = f"{where}.{key}" if where else str(key)
            if key not in fields:
                guess = difflib.get_close_matches(str(key), list(fields), n=1)
                hint = f" (did you mean '{guess[0]}'?)" if guess else f" (known keys: {', '.join(sorted(fields))})"
                self.problem(sub, f"unknown key{hint}")
                ok = False
                continue
            f = fields[key]
            out = self.convert(hints[key], value, sub, f.metadata.get("path"))
            if out is _BAD:
                ok = False
            else:
                kwargs[key] = out
        for name, f in fields.items():
            if name in kwargs or name in data:
                continue
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                self.problem(f"{where}.{name}" if where else name, "missing required key")
                ok = False
            elif f.metadata.get("path") and isinstance(f.default, str):
                kwargs[name] = self.check_path(f.default, f"{where}.{name}" if where else name, f.metadata["path"])
        if not ok:
            return _BAD
        obj = cls(**kwargs)
        check = getattr(obj, "check", None)
        if callable(check):
            for key, message in check() or ():
                self.problem(f"{where}.{key}" if where and key else (key or where), message)
            if self.problems:
                return _BAD
        return obj


class _Bad:
    def __repr__(self):
        return "<invalid>"


_BAD = _Bad()


def build(cls, data, *, base_dir: str = ".", where: str = "", check_paths: bool = True):
    """Build dataclass `cls` from `data`. Returns (obj or None, problems)."""
    b = _Builder(base_dir, check_paths)
    obj = b.build(cls, data, where)
    return (None if obj is _BAD else obj), b.problems


def to_dict(obj) -> Any:
    """A dataclass (nested) as plain JSON-able data, for fingerprints and the report."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    return obj


def path_fields(obj, prefix: str = ""):
    """Yield (key, kind, value) for every path field in a (nested) config dataclass."""
    if not dataclasses.is_dataclass(obj):
        return
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        key = f"{prefix}.{f.name}" if prefix else f.name
        kind = f.metadata.get("path")
        if kind:
            yield key, kind, value
        elif dataclasses.is_dataclass(value):
            yield from path_fields(value, key)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                yield from path_fields(v, f"{key}[{i}]")
        elif isinstance(value, dict):
            for k, v in value.items():
                yield from path_fields(v, f"{key}.{k}")


__all__ = ["build", "path_field", "to_dict", "path_fields", "resolve_path", "is_remote", "typing"]
