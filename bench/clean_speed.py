"""Throughput of the clean stage against a bare `trafilatura.extract` loop, measured in the same run.

    python bench/clean_speed.py [--data ../shared/data] [--repeat 4] [--files 8] [--quick]

Pages: the extraction benchmark's 181 real pages, repeated `--repeat` times under distinct URLs, in
`--files` WARC files (gzip per record, as the crawl writes them). Figures, in pages per second:

1. bare loop: `trafilatura.extract(body)` on every page, one process (the baseline), and the same
   loop in two processes (what two cores of this machine give when nothing else differs);
2. stage core: what one Beam worker does per page, without Beam: read the WARC files, check the
   response, extract in the child process (decode, trafilatura, hints, boilerplate rules), language
   id, quality rules, one record out; single process;
3. the whole stage on Beam: DirectRunner with 1 worker and with 2 worker processes, writing the
   sharded output; wall time with start-up, and the rate once started (start-up is the wall time
   of the same pipeline on one page, subtracted).

Each figure is given twice: per wall-clock second, and per CPU second (the CPU time of every process
involved: this one, Beam's workers and the extraction children). Per CPU second is the per-core
speed, and it holds up when other programs share the machine; wall-clock figures need a quiet one.

The ratios asked of the stage: (3, 1 worker, once started) / (1, one process) >= 0.85 per core, and
(3, 2 workers) / (3, 1 worker) >= 1.7 in wall-clock time (only meaningful with 2 idle cores).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import time
import types

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)


def load_pages(data: str, repeat: int, limit=None) -> list[tuple[str, bytes]]:
    root = os.path.join(data, "html_extraction")
    with open(os.path.join(root, "ground-truth.json"), encoding="utf-8") as f:
        truth = json.load(f)
    keys = sorted(truth)[:limit] if limit else sorted(truth)
    base = []
    for k in keys:
        with gzip.open(os.path.join(root, "html", f"{k}.html.gz")) as f:
            base.append((truth[k]["url"], f.read()))
    pages = []
    for r in range(repeat):
        for url, body in base:
            sep = "&" if "?" in url else "?"
            pages.append((url if r == 0 else f"{url}{sep}copy={r}", body))
    return pages


def write_warcs(pages, folder: str, files: int) -> list[str]:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    from webtext.record import doc_id
    from webtext.urls import normalize_url

    os.makedirs(folder, exist_ok=True)
    paths = [os.path.join(folder, f"bench-{i:03d}.warc.gz") for i in range(files)]
    handles = [open(p, "wb") for p in paths]
    writers = [WARCWriter(h, gzip=True, warc_version="WARC/1.1") for h in handles]
    for i, (url, body) in enumerate(pages):
        url_n = normalize_url(url) or url
        link = json.dumps({"id": doc_id(url_n), "url": url_n, "source": {"reddit_ids": [], "subreddits": [],
                                                                         "score": 3, "created_utc": 0}})
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        w = writers[i % files]
        w.write_record(w.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http,
                                            warc_headers_dict={"WebText-Link": link}))
    for h in handles:
        h.close()
    return paths


def cpu_seconds() -> float:
    """CPU time of this process and of every child process that has ended (and been waited for)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + r.ru_utime + r.ru_stime


def _bare(chunk) -> tuple[int, float]:
    import trafilatura

    c = time.process_time()
    for _, body in chunk:
        trafilatura.extract(body)
    return len(chunk), time.process_time() - c


def bare_loop(pages) -> tuple[float, float]:
    """(pages per wall second, pages per CPU second)."""
    _bare(pages[:3])  # imports and first-call caches
    t = time.perf_counter()
    n, cpu = _bare(pages)
    return n / (time.perf_counter() - t), n / cpu


def bare_two_processes(pages) -> tuple[float, float]:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        pool.map(_bare, [pages[:2], pages[2:4]])  # start and warm both
        t = time.perf_counter()
        parts = pool.map(_bare, [pages[0::2], pages[1::2]])
        wall = time.perf_counter() - t
    n = sum(p[0] for p in parts)
    return n / wall, n / sum(p[1] for p in parts)


def stage_core(paths, cfg) -> tuple[float, float, dict]:
    from clean.guard import make_extractor
    from clean.process import PageProcessor
    from clean.warc import read_warc

    import psutil

    stats: dict = {}
    kinds = {"doc": 0, "reject": 0}
    with make_extractor(cfg.extract) as ex:
        proc = PageProcessor(cfg, ex)
        ex.extract(b"<html><body><p>warm-up</p></body></html>", None, "text/html", None)  # start the child
        from clean.langid import identify

        identify("warm up the language model")
        child = psutil.Process(ex.proc.pid)

        def cpu():
            c = child.cpu_times()
            return time.process_time() + c.user + c.system

        t, c = time.perf_counter(), cpu()
        n = 0
        for path in paths:
            for page in read_warc(path, stats, cfg.extract.max_html_bytes):
                kind, _ = proc.process(page, stats)
                kinds[kind] += 1
                n += 1
        wall, cpu_used = time.perf_counter() - t, cpu() - c
        return n / wall, n / cpu_used, kinds


def beam_stage(paths, cfg, workers: int, scratch: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of all processes) of the whole stage (build, start, run, write)."""
    from webtext.beam import pipeline_options, run_pipeline

    from clean.pipeline import CleanWarcs

    beam_cfg = types.SimpleNamespace(runner="direct", workers=workers, direct_running_mode="multi_processing",
                                     dask_address=None, options={})
    out = tempfile.mkdtemp(dir=scratch)
    t, c = time.perf_counter(), cpu_seconds()
    run_pipeline(lambda p: p | CleanWarcs(cfg, paths, out, 4, os.path.join(out, "_stats.json")),
                 pipeline_options(beam_cfg))
    seconds, cpu = time.perf_counter() - t, cpu_seconds() - c
    shutil.rmtree(out, ignore_errors=True)
    return seconds, cpu


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"), help="shared data folder")
    ap.add_argument("--repeat", type=int, default=4, help="copies of the 181 pages (default 4: 724 pages)")
    ap.add_argument("--files", type=int, default=8, help="WARC files to spread the pages over")
    ap.add_argument("--quick", action="store_true", help="30 pages, 2 files: a smoke test of this script")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args(argv)
    data = os.path.normpath(args.data)
    if not os.path.isdir(os.path.join(data, "html_extraction")):
        print(f"no benchmark data under {data}/html_extraction", file=sys.stderr)
        return 2

    from clean.config import Config

    pages = load_pages(data, 1 if args.quick else args.repeat, 30 if args.quick else None)
    files = 2 if args.quick else args.files
    cfg = Config(num_shards=4)
    scratch = tempfile.mkdtemp(prefix="clean-speed-")
    try:
        paths = write_warcs(pages, os.path.join(scratch, "warc"), files)
        one = write_warcs(pages[:1], os.path.join(scratch, "one"), 1)
        print(f"{len(pages)} pages in {files} WARC files ({sum(os.path.getsize(p) for p in paths) / 1e6:.1f} MB); "
              f"{os.cpu_count()} CPUs", flush=True)
        r = {"pages": len(pages), "files": files}
        wall, cpu = bare_loop(pages)
        r["bare_1"] = {"wall": wall, "cpu": cpu}
        print(f"{'':44s} {'per wall s':>11s} {'per CPU s':>10s}")
        print(f"{'bare trafilatura.extract loop, 1 process':44s} {wall:11.1f} {cpu:10.1f}", flush=True)
        wall, cpu = bare_two_processes(pages)
        r["bare_2"] = {"wall": wall, "cpu": cpu}
        print(f"{'bare loop, 2 processes':44s} {wall:11.1f} {cpu:10.1f}", flush=True)
        wall, cpu, kinds = stage_core(paths, cfg)
        r["core"] = {"wall": wall, "cpu": cpu, "docs": kinds["doc"], "rejects": kinds["reject"]}
        print(f"{'stage core, 1 process + its child (no Beam)':44s} {wall:11.1f} {cpu:10.1f}"
              f"   ({kinds['doc']} docs, {kinds['reject']} rejects)", flush=True)
        for workers in (1, 2):
            s_wall, s_cpu = beam_stage(one, cfg, workers, scratch)
            wall, cpu = beam_stage(paths, cfg, workers, scratch)
            n = len(pages) - 1
            entry = {"wall_s": wall, "cpu_s": cpu, "startup_wall_s": s_wall, "startup_cpu_s": s_cpu,
                     "wall": len(pages) / wall, "cpu": len(pages) / cpu,
                     "wall_started": n / max(1e-9, wall - s_wall), "cpu_started": n / max(1e-9, cpu - s_cpu)}
            r[f"beam_{workers}"] = entry
            label = f"whole stage on Beam, {workers} worker{'s' if workers > 1 else ''}"
            print(f"{label:44s} {entry['wall']:11.1f} {entry['cpu']:10.1f}   (start-up {s_wall:.1f} s, "
                  f"{s_cpu:.1f} CPU s)", flush=True)
            print(f"{'  once started':44s} {entry['wall_started']:11.1f} {entry['cpu_started']:10.1f}", flush=True)
        b1, b2 = r["beam_1"], r["beam_2"]
        r["ratio_stage_vs_bare_cpu"] = b1["cpu_started"] / r["bare_1"]["cpu"]
        r["ratio_stage_vs_bare_wall"] = b1["wall_started"] / r["bare_1"]["wall"]
        r["ratio_core_vs_bare_cpu"] = r["core"]["cpu"] / r["bare_1"]["cpu"]
        r["ratio_2_vs_1_workers"] = b2["wall_started"] / b1["wall_started"]
        r["ratio_2_vs_1_workers_with_startup"] = b2["wall"] / b1["wall"]
        r["ratio_bare_2_vs_1"] = r["bare_2"]["wall"] / r["bare_1"]["wall"]
        print(f"\nstage (Beam, 1 worker, once started) / bare loop, per CPU second: "
              f"{r['ratio_stage_vs_bare_cpu']:.0%} (per wall second {r['ratio_stage_vs_bare_wall']:.0%}; "
              f"stage core without Beam {r['ratio_core_vs_bare_cpu']:.0%}); asked: >= 85%")
        print(f"2 workers / 1 worker, wall, once started: {r['ratio_2_vs_1_workers']:.2f}x (with start-up "
              f"{r['ratio_2_vs_1_workers_with_startup']:.2f}x); asked: >= 1.7x; the bare loop on 2 processes "
              f"here: {r['ratio_bare_2_vs_1']:.2f}x")
        if args.json:
            with open(args.json, "w", encoding="utf-8") as f:
                json.dump(r, f, indent=1)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
