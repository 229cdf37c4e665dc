"""The crawl stage as the runner sees it: Reddit submissions -> link list -> pages in WARC files.

Steps, each resumable inside the runner's partial folder (work/crawl.partial/):

1. reddit   (only with crawl.reddit.subreddits) Scrapy lists the subreddits into state/reddit/.
2. links    dumps + listings -> filters -> on-disk dedupe -> links/. Redone whole if interrupted;
            state/links.json marks it finished and holds its counts.
3. fetch    Scrapy, in a process of its own, fetches the links not yet done into warc/; killed
            and rerun, it goes on where it stopped (crawl.ledger).
4. finish   failures/ from the failure log, statistics, the log kept, state/ removed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections import Counter

from webtext import jsonl
from webtext.errors import WebtextError
from webtext.runner import StageContext, StageResult
from webtext.schema import to_dict
from webtext.stats import funnel_counts, top_k
from webtext.urls import url_host

from crawl.parts import parse_part

INPUTS = ()
RESUMABLE = True

STATE = "state"
LINKS_DONE = "links.json"
RESULT = "result.json"
TOP_DOMAINS = 1000


def run(ctx: StageContext) -> StageResult:
    cfg = ctx.cfg
    part = parse_part(ctx.options.get("part"))
    out = ctx.out_dir
    state = os.path.join(out, STATE)
    finished = os.path.join(out, "logs", RESULT)
    if os.path.exists(finished):  # killed after finishing, before the runner moved the folder
        r = jsonl.read_json(finished)
        return StageResult(counts=r["counts"], stats=r["stats"])
    os.makedirs(state, exist_ok=True)
    if part.count > 1:
        ctx.log(f"part {part} of the crawl (hosts hashed into {part.count} parts)")

    link_info = _links_step(ctx, part, state)
    n_links = link_info["links"]["links"]
    if not cfg.fetch_pages:
        ctx.log("fetch_pages is false: link list only")
        shutil.rmtree(state)
        stats = {"submissions": link_info["submissions"], **link_info["links"], "part": str(part)}
        return StageResult(counts=funnel_counts(n_links, 0, {"not_fetched": n_links} if n_links else {}), stats=stats)

    if n_links:
        _fetch_step(ctx, part, state)
    return _finish_step(ctx, part, state, link_info)


# -- 1 + 2: sources and the link list ---------------------------------------------------------------

def _links_step(ctx: StageContext, part, state: str) -> dict:
    done_path = os.path.join(state, LINKS_DONE)
    if os.path.exists(done_path):
        info = jsonl.read_json(done_path)
        ctx.log(f"link list already built: {info['links']['links']:,} links")
        return info

    from crawl.filters import SubmissionFilter
    from crawl.links import LinkBuilder
    from crawl.sources import SourceStats, expand_sources

    cfg = ctx.cfg
    links_dir = os.path.join(ctx.out_dir, "links")
    # No finished link list means no page was fetched from it here: start the folder over (an
    # interrupted build is simply redone; it is deterministic). The Reddit listings are kept.
    for name in ("links", "warc", "failures", "bad_lines.jsonl.zst"):
        _remove(os.path.join(ctx.out_dir, name))
    for name in os.listdir(state):
        if name != "reddit":
            _remove(os.path.join(state, name))

    paths = expand_sources(cfg.submissions) if cfg.submissions else []
    if cfg.reddit.subreddits:
        paths.append(_reddit_step(ctx, state))
    builder = LinkBuilder(SubmissionFilter(cfg.filters), os.path.join(state, "spool"), buckets=cfg.link_buckets,
                          part=part)
    source_stats = SourceStats()
    workers = cfg.link_workers or (os.cpu_count() or 1)
    builder.scan(paths, source_stats, workers=workers, log=ctx.log)
    if source_stats.bad_lines:
        ctx.log(f"{source_stats.bad_lines:,} bad lines skipped (listed in bad_lines.jsonl.zst)")
        with jsonl.JsonlWriter(os.path.join(ctx.out_dir, "bad_lines.jsonl.zst")) as w:
            w.write_many(b.as_dict() for b in sorted(source_stats.bad, key=lambda b: (b.path, b.line)))
    link_stats = builder.finish(links_dir, prefix=f"links-{part.tag}", log=ctx.log)
    counts = builder.counts
    counts.read, counts.bad_lines, counts.files = source_stats.read, source_stats.bad_lines, source_stats.files
    info = {"submissions": counts.as_dict(), "links": link_stats.as_dict(), "sources": paths}
    jsonl.write_json(done_path, info)
    ctx.log(f"link list: {counts.read:,} submissions read, {counts.kept:,} kept, {link_stats.links:,} unique links")
    return info


def _remove(path: str) -> None:
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.remove(path)


def _reddit_step(ctx: StageContext, state: str) -> str:
    """Fetch the configured Reddit listings (Scrapy, own process) into state/reddit/submissions.jsonl."""
    folder = os.path.join(state, "reddit")
    result = os.path.join(folder, "submissions.jsonl")
    done = os.path.join(folder, "done.json")
    if os.path.exists(done):
        return result
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    job = {"reddit": to_dict(ctx.cfg.reddit), "user_agent": ctx.cfg.fetch.user_agent, "out": result,
           "log_file": os.path.join(folder, "scrapy.log")}
    job_path = os.path.join(folder, "job.json")
    jsonl.write_json(job_path, job)
    ctx.log(f"reddit: listing {len(ctx.cfg.reddit.subreddits)} subreddits")
    rc = _run_child(ctx, [sys.executable, "-m", "crawl.reddit", job_path], "reddit")
    if rc != 0:
        raise WebtextError(f"the Reddit listing process {_exit_text(rc)}; its log: {job['log_file']}")
    return result


# -- 3: fetching ----------------------------------------------------------------------------------------

def _fetch_step(ctx: StageContext, part, state: str) -> None:
    out = ctx.out_dir
    job = {"crawl": to_dict(ctx.cfg), "state_dir": state, "warc_dir": os.path.join(out, "warc"),
           "links_dir": os.path.join(out, "links"), "tag": part.tag, "log_file": os.path.join(state, "scrapy.log")}
    job_path = os.path.join(state, "job.json")
    jsonl.write_json(job_path, job)
    ctx.log("fetching pages (Scrapy)" + (" - resuming" if ctx.resumed else ""))
    rc = _run_child(ctx, [sys.executable, "-m", "crawl.fetch.run", job_path], "fetch")
    if rc == 3:
        raise WebtextError("the crawl was stopped before every link was done; rerun the same command to resume "
                           f"(Scrapy's log: {job['log_file']})")
    if rc == 4:
        raise WebtextError(f"another crawl process is still using {state}; wait for it to exit and rerun")
    if rc != 0:
        raise WebtextError(f"the Scrapy crawl process {_exit_text(rc)}; rerun to resume. Scrapy's log: {job['log_file']}")


def _exit_text(rc: int) -> str:
    if rc < 0:
        try:
            return f"was killed by {signal.Signals(-rc).name}"
        except ValueError:
            return f"was killed by signal {-rc}"
    return f"exited with status {rc}"


def _die_with_parent() -> None:
    """In the child: get SIGKILL if the stage process dies (prctl PR_SET_PDEATHSIG, Linux)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def _run_child(ctx: StageContext, cmd: list, label: str) -> int:
    """Run a Scrapy process, relaying its progress lines; SIGTERM/SIGINT to us stop it gracefully."""
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONUNBUFFERED"] = "1"
    # Its own session: a Ctrl-C in the terminal reaches only us, and we forward it once (Scrapy
    # takes a second SIGINT as "stop now, uncleanly").
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
                            preexec_fn=_die_with_parent, start_new_session=True)
    errors: list[str] = []
    t = threading.Thread(target=lambda: errors.extend(proc.stderr), daemon=True)
    t.start()

    previous = {}

    def forward(signum, frame):
        if proc.poll() is None:
            proc.send_signal(signum)  # Scrapy shuts down gracefully, keeping what it stored

    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        for s in (signal.SIGTERM, signal.SIGINT):
            previous[s] = signal.signal(s, forward)
    try:
        for line in proc.stdout:
            line = line.rstrip("\n")
            if line.startswith("PROGRESS "):
                p = json.loads(line[9:])
                ctx.log(f"{label}: {p['stored'] + p['stored_before']:,} stored, "
                        f"{p['failed'] + p['failed_before']:,} failed, {p['in_flight']} in flight, "
                        f"{p['pages_per_s']} pages/s")
            elif line.startswith("NOTE "):
                ctx.log(f"{label}: {line[5:]}")
        rc = proc.wait()
    finally:
        if in_main:
            for s, h in previous.items():
                signal.signal(s, h)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    t.join(timeout=5)
    if rc != 0 and errors:
        tail = "".join(errors[-20:]).strip()
        if tail:
            ctx.log(f"{label} process stderr (last lines):\n{tail}")
    if rc in (-signal.SIGTERM, -signal.SIGINT, 128 + signal.SIGTERM, 128 + signal.SIGINT):
        rc = 3
    return rc


# -- 4: outputs and statistics ----------------------------------------------------------------------

def _finish_step(ctx: StageContext, part, state: str, link_info: dict) -> StageResult:
    from crawl.ledger import outcomes, write_failures

    out = ctx.out_dir
    n_links = link_info["links"]["links"]
    stored_entries, _ = outcomes(state)
    stored = 0
    stored_bytes = 0
    status = Counter()
    domains = Counter()
    for e in stored_entries:
        stored += 1
        stored_bytes += e["bytes"]
        status[str(e["status"])] += 1
        domains[url_host(e["url"])] += 1
    failure_dir = os.path.join(out, "failures")
    os.makedirs(failure_dir, exist_ok=True)
    dropped = write_failures(state, failure_dir, f"failures-{part.tag}") if n_links else {}
    _, failure_records = outcomes(state)
    for rec in failure_records:
        if rec.get("status") is not None:
            status[str(rec["status"])] += 1
    accounted = stored + sum(dropped.values())
    if accounted != n_links:
        raise WebtextError(f"crawl bookkeeping: {n_links} links but {stored} stored + {sum(dropped.values())} failed; "
                           f"rerun to resume (state kept in {state})")
    # Keep Scrapy's logs beside the output; drop the resume state.
    logs = os.path.join(out, "logs")
    os.makedirs(logs, exist_ok=True)
    for name in ("scrapy.log", "fetch-last.json"):
        if os.path.exists(os.path.join(state, name)):
            shutil.copyfile(os.path.join(state, name), os.path.join(logs, name))
    stats = {
        "submissions": link_info["submissions"],
        **link_info["links"],
        "fetch": {"status": dict(sorted(status.items())), "failures": dict(sorted(dropped.items())),
                  "bytes": stored_bytes, "pages": stored},
        "domains": dict(top_k(domains, TOP_DOMAINS)),
        "part": str(part),
    }
    counts = funnel_counts(n_links, stored, dropped)
    jsonl.write_json(os.path.join(logs, RESULT), {"counts": counts, "stats": stats})
    shutil.rmtree(state)  # after result.json: a kill in between finds the result, not a missing state
    ctx.log(f"{stored:,} pages stored, {sum(dropped.values()):,} links failed")
    return StageResult(counts=counts, stats=stats)


