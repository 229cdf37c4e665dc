"""Shared by the report tests: build a synthetic run's report; the full one is built once per session.

(Not a conftest.py: tests/common imports the root conftest by name, which a second conftest module
would shadow.)
"""

import json

from synthetic_run import STAGES, write_gpt2_domains, write_run

from report.build import write_report
from report.config import Config

SECTIONS = ["overview", "funnel", "crawl", "sources", "domains", "lengths", "languages", "quality", "duplicates",
            "contamination", "tokens", "training", "reproduce"]


def build(tmp_path, stages=STAGES, cfg=None, prepare=None, **kwargs):
    """Write a synthetic run of `stages` (then `prepare(work, records)` may spoil it) and build its report."""
    work = tmp_path / "work"
    records = write_run(str(work), stages=stages)
    if prepare:
        prepare(work, records)
    out = tmp_path / "out"
    summary = write_report(str(out), str(work), cfg or Config(), **kwargs)
    html = (out / "index.html").read_text()
    stats = json.loads((out / "stats.json").read_text())
    return summary, html, stats, records


_FULL = {}


def full_report_once(tmp_path_factory):
    """(out_dir, (summary, html, stats, records)) of the complete synthetic run, built on first use."""
    if "result" not in _FULL:
        tmp = tmp_path_factory.mktemp("full")
        domains = write_gpt2_domains(str(tmp / "domains.txt"))
        result = build(tmp, cfg=Config(gpt2_domains=domains), config={"run": {"name": "t"}, "crawl": {}},
                       run_name="synthetic")
        _FULL["result"] = (tmp / "out", result)
    return _FULL["result"]
