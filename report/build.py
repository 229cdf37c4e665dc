"""Build the report: gather the stages' statistics, build the sections, write index.html and stats.json."""

from __future__ import annotations

import datetime as _dt
import json
import os
import time
import traceback
from typing import Callable, Optional

import webtext
from report.gather import RunData, gather
from report.page import Plot, Section, Text, render_page
from report.sections import Report

STATS_VERSION = 1


def build_sections(run: RunData, cfg, log: Optional[Callable[[str], None]] = None) -> tuple[list, list]:
    """All sections; one that raises shows the error in its place, so one bad value never costs the page."""
    sections, errors = [], []
    for builder in Report(run, cfg).sections():
        try:
            section = builder()
            if not section.blocks and not section.needs:  # e.g. a stage recorded an empty {} for a table
                section.add(Text("Nothing to show: the stages recorded this section's figures, but they are empty.",
                                 "note"))
            sections.append(section)
        except Exception as e:  # noqa: BLE001 - reported on the page and in stats.json, never hidden
            name = builder.__name__
            message = f"{type(e).__name__}: {e}"
            errors.append({"section": name, "error": message, "traceback": traceback.format_exc(limit=6)})
            if log:
                log(f"section '{name}' failed: {message}")
            s = Section(name, name.replace("_", " ").capitalize())
            s.add(Text(f"This section could not be drawn from the recorded statistics: {message}. "
                       "The rest of the report is unaffected; stats.json has the traceback.", "warn"))
            sections.append(s)
    return sections, errors


def write_report(out_dir: str, work_dir: str, cfg, config: Optional[dict] = None, config_file: Optional[str] = None,
                 run_name: str = "webtext", log: Optional[Callable[[str], None]] = None,
                 states: Optional[dict] = None) -> dict:
    """Write out_dir/index.html and out_dir/stats.json; return a summary for the stage's _SUCCESS.json.

    cfg: the report block; config: the whole pipeline config as plain data (shown on the page and
    compared with what each stage ran with); states: the runner's {stage: (state, detail)}.
    """
    started = time.perf_counter()
    run = gather(work_dir, config, config_file, states)
    sections, errors = build_sections(run, cfg, log)
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    done = [n for n, st in run.stages.items() if st.done]
    title = f"WebText corpus report: {run_name}"
    subtitle = (f"Generated {now} from {os.path.abspath(work_dir)} by webtext {webtext.__version__}. "
                f"Stages finished: {', '.join(done) if done else 'none yet'}.")
    page = render_page(title, subtitle, sections)
    os.makedirs(out_dir, exist_ok=True)
    _write_text(os.path.join(out_dir, "index.html"), page)

    missing = [str(m) for s in sections for m in s.needs.items]
    stats = {
        "version": STATS_VERSION,
        "generated_at": now,
        "webtext_version": webtext.__version__,
        "run": run_name,
        "work_dir": os.path.abspath(work_dir),
        "config_file": config_file,
        "config": config,
        "stages": {
            name: {"state": st.state, "notes": st.notes, "problem": st.problem or None,
                   **({k: st.success.get(k) for k in ("fingerprint", "run_id", "started_at", "finished_at", "seconds",
                                                       "counts", "stats", "config", "upstream")} if st.done else {})}
            for name, st in run.stages.items()},
        "sections": {s.id: {"title": s.title, "complete": s.complete, "missing": [str(m) for m in s.needs.items],
                            "data": s.data} for s in sections},
        "missing": missing,
        "errors": errors,
    }
    _write_text(os.path.join(out_dir, "stats.json"), json.dumps(stats, indent=1, default=_json_default) + "\n")
    figures = sum(1 for s in sections for b in s.blocks if isinstance(b, Plot))
    return {
        "stages_read": done,
        "sections": len(sections),
        "complete_sections": sum(1 for s in sections if s.complete),
        "figures": figures,
        "missing": missing,
        "errors": [e["section"] + ": " + e["error"] for e in errors],
        "html_bytes": len(page.encode("utf-8")),
        "build_seconds": round(time.perf_counter() - started, 3),
    }


def _json_default(value):
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)


def _write_text(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
