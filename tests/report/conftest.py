"""Fixtures for the report tests: a full synthetic run, its page built once per session."""

import json

import pytest
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


@pytest.fixture(scope="session")
def full_report_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("full")
    domains = write_gpt2_domains(str(tmp / "domains.txt"))
    result = build(tmp, cfg=Config(gpt2_domains=domains), config={"run": {"name": "t"}, "crawl": {}},
                   run_name="synthetic")
    return tmp / "out", result


@pytest.fixture(scope="session")
def full_report(full_report_dir):
    return full_report_dir[1]
