"""Reddit submissions from Pushshift / Arctic Shift dumps, streamed in constant memory.

A dump is JSON lines, one submission object per line, compressed with zstd (a long window:
webtext.jsonl reads with max_window_size=2**31), xz, bz2, gzip, or not at all. A line that is not
a JSON object is counted and reported with its file and line number, and reading goes on; a file
whose first lines hold no submission at all is not a dump, and that is one clear error.
"""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional

from webtext import jsonl
from webtext.errors import InputError

# A file is judged "not a dump" if none of its first PROBE_LINES lines is a submission.
PROBE_LINES = 100
# Bad lines reported in full (all are counted).
MAX_REPORTED_BAD_LINES = 1000


@dataclass
class BadLine:
    path: str
    line: int
    error: str
    sample: str

    def as_dict(self) -> dict:
        return {"file": self.path, "line": self.line, "error": self.error, "sample": self.sample}


@dataclass
class SourceStats:
    files: int = 0
    read: int = 0
    bad_lines: int = 0
    bad: list = field(default_factory=list)  # the first MAX_REPORTED_BAD_LINES BadLine records


def expand_sources(patterns: list[str]) -> list[str]:
    """Files named by a list of paths and globs, in order, each once."""
    out: list[str] = []
    seen = set()
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if any(c in pattern for c in "*?[") else [pattern]
        if not matches:
            raise InputError(f"{pattern}: no file matches")
        for m in matches:
            if os.path.isdir(m):
                raise InputError(f"{m}: is a folder; name the dump files (a glob such as {m}/RS_*.zst works)")
            if m not in seen:
                seen.add(m)
                out.append(m)
    return out


def looks_like_submission(obj) -> bool:
    return isinstance(obj, dict) and ("url" in obj or "permalink" in obj) and ("id" in obj or "name" in obj)


def iter_dump(path: str, stats: SourceStats, on_bad: Optional[Callable[[BadLine], None]] = None) -> Iterator[dict]:
    """Every submission object of one dump file. Bad lines go to stats (and on_bad) and are skipped."""
    stats.files += 1
    seen_good = False
    probed = 0
    pending_bad: list[BadLine] = []  # bad lines before the first good one: reported once we know it's a dump
    for lineno, raw in jsonl.iter_lines(path):
        probed += 1
        try:
            obj = json.loads(raw)
            error = None if isinstance(obj, dict) else f"expected a JSON object, got {type(obj).__name__}"
        except (ValueError, UnicodeDecodeError) as e:
            obj, error = None, f"not valid JSON ({e})"
        if error is None and not seen_good and not looks_like_submission(obj):
            error = "not a Reddit submission (no url/id)"
        if error is not None:
            bad = BadLine(path, lineno, error, raw[:200].decode("utf-8", "replace"))
            if not seen_good:
                pending_bad.append(bad)
                if probed >= PROBE_LINES:
                    first = pending_bad[0]
                    raise InputError(f"{path}: not a Reddit submissions dump: none of its first {probed} lines is a "
                                     f"submission (line {first.line}: {first.error})")
            else:
                _report(stats, bad, on_bad)
            continue
        if not seen_good:
            seen_good = True
            for bad in pending_bad:
                _report(stats, bad, on_bad)
            pending_bad = []
        stats.read += 1
        yield obj
    if not seen_good and pending_bad:
        first = pending_bad[0]
        raise InputError(f"{path}: not a Reddit submissions dump: no line is a submission "
                         f"(line {first.line}: {first.error})")


def _report(stats: SourceStats, bad: BadLine, on_bad) -> None:
    stats.bad_lines += 1
    if len(stats.bad) < MAX_REPORTED_BAD_LINES:
        stats.bad.append(bad)
    if on_bad:
        on_bad(bad)


def iter_dumps(paths: list[str], stats: SourceStats, on_bad=None) -> Iterator[dict]:
    for path in paths:
        yield from iter_dump(path, stats, on_bad)
