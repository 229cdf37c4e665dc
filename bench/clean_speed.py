"""Throughput of the clean stage against a bare `trafilatura.extract` loop, measured in the same run.

    python bench/clean_speed.py [--data ../shared/data] [--repeat 4] [--files 8] [--quick] [--json out.json]

Pages: the extraction benchmark's 181 real pages, repeated `--repeat` times under distinct URLs, in
`--files` WARC files (gzip per record, as the crawl writes them).

1. Per core, interleaved. In batches of 16 pages, taken in turn: the bare loop
   (`trafilatura.extract(body)` on bodies already in memory) and the stage's per-page work
   (`PageProcessor.process_many`, as the Beam step calls it: response checks, extraction in the
   child process with decoding, hints, date and boilerplate rules, language id, quality rules, the
   output record). CPU time of
   every process involved (this one and the extraction child) is summed for each. Taking the two
   in turn, batch by batch, exposes both to the same machine load, so the ratio holds up on a
   shared machine. Reading the WARC files (inflating every record) is measured on its own and
   added to the stage; it is also shown added to the bare loop (a bare loop that starts from the
   same WARC files).
2. The whole stage on Beam's DirectRunner, 1 worker and 2 worker processes, writing the sharded
   output: pages per wall-clock second and per CPU second (all processes), with start-up (the same
   pipeline on one page) subtracted for the "once started" rate, next to a bare loop run just
   before it. Two workers against one is a wall-clock ratio: it needs two idle cores.

Asked of the stage: (1) >= 85% of the bare loop per core; (2) 2 workers >= 1.7x one.
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

BATCH = 16  # as clean.pipeline.PAGES_PER_BATCH


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
    """(pages per wall second, pages per CPU second) of the bare loop in this process."""
    _bare(pages[:3])  # imports and first-call caches
    t = time.perf_counter()
    n, cpu = _bare(pages)
    return n / (time.perf_counter() - t), n / cpu


def bare_two_processes(pages) -> float:
    """Pages per wall second of the bare loop split over two processes."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        pool.map(_bare, [pages[:2], pages[2:4]])  # start and warm both
        t = time.perf_counter()
        n = sum(p[0] for p in pool.map(_bare, [pages[0::2], pages[1::2]]))
        return n / (time.perf_counter() - t)


def read_cost(paths, cfg) -> tuple[float, list]:
    """(CPU seconds per page to read the WARC files, the pages)."""
    from clean.warc import read_warc

    pages = [p for path in paths for p in read_warc(path, {}, cfg.extract.max_html_bytes)]
    c = time.process_time()
    n = sum(1 for path in paths for _ in read_warc(path, {}, cfg.extract.max_html_bytes))
    return (time.process_time() - c) / n, pages


def interleaved(pages, cfg, rounds: int) -> dict:
    """CPU seconds per page of the bare loop and of the stage's per-page work, taken in turn."""
    import psutil
    import trafilatura

    from clean.guard import make_extractor
    from clean.langid import identify
    from clean.process import PageProcessor

    bare_cpu = stage_cpu = 0.0
    kinds = {"doc": 0, "reject": 0}
    with make_extractor(cfg.extract) as ex:
        proc = PageProcessor(cfg, ex)
        proc.process(pages[0], {})  # start the child, load the language model
        identify("warm up")
        trafilatura.extract(pages[0].body)
        child = psutil.Process(ex.proc.pid) if getattr(ex, "proc", None) else None

        def cpu():
            c = time.process_time()
            if child is not None:
                t = child.cpu_times()
                c += t.user + t.system
            return c

        for _ in range(rounds):
            for i in range(0, len(pages), BATCH):
                batch = pages[i:i + BATCH]
                c = cpu()
                for p in batch:
                    trafilatura.extract(p.body)
                bare_cpu += cpu() - c
                stats: dict = {}
                c = cpu()
                for kind, _ in proc.process_many(batch, stats):
                    kinds[kind] += 1
                stage_cpu += cpu() - c
    n = rounds * len(pages)
    return {"bare_ms": 1000 * bare_cpu / n, "stage_ms": 1000 * stage_cpu / n, "docs": kinds["doc"] // rounds,
            "rejects": kinds["reject"] // rounds}


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
    ap.add_argument("--rounds", type=int, default=2, help="passes over the pages in the interleaved comparison")
    ap.add_argument("--quick", action="store_true", help="30 pages, 2 files, 1 round: a smoke test of this script")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args(argv)
    data = os.path.normpath(args.data)
    if not os.path.isdir(os.path.join(data, "html_extraction")):
        print(f"no benchmark data under {data}/html_extraction", file=sys.stderr)
        return 2

    from clean.config import Config

    pages = load_pages(data, 1 if args.quick else args.repeat, 30 if args.quick else None)
    files = 2 if args.quick else args.files
    rounds = 1 if args.quick else args.rounds
    cfg = Config(num_shards=4)
    scratch = tempfile.mkdtemp(prefix="clean-speed-")
    r: dict = {"pages": len(pages), "files": files, "cpus": os.cpu_count()}
    try:
        paths = write_warcs(pages, os.path.join(scratch, "warc"), files)
        one = write_warcs(pages[:1], os.path.join(scratch, "one"), 1)
        print(f"{len(pages)} pages in {files} WARC files ({sum(os.path.getsize(p) for p in paths) / 1e6:.1f} MB); "
              f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}", flush=True)

        read_s, warc_pages = read_cost(paths, cfg)
        inter = interleaved(warc_pages, cfg, rounds)
        read_ms = 1000 * read_s
        r.update(read_ms=read_ms, **{f"interleaved_{k}": v for k, v in inter.items()})
        bare, stage = inter["bare_ms"], inter["stage_ms"]
        r["ratio_per_core"] = bare / (stage + read_ms)
        r["ratio_per_core_both_from_warc"] = (bare + read_ms) / (stage + read_ms)
        print("\n1. per core, interleaved (CPU ms per page; pages per CPU second)")
        print(f"   bare trafilatura.extract(body)          {bare:6.2f} ms  {1000 / bare:6.1f} /s")
        print(f"   stage per page (+ child process)        {stage:6.2f} ms  ({inter['docs']} docs, "
              f"{inter['rejects']} rejects of {len(pages)})")
        print(f"   reading the WARC files                  {read_ms:6.2f} ms")
        print(f"   stage with reading                      {stage + read_ms:6.2f} ms  {1000 / (stage + read_ms):6.1f} /s")
        print(f"   -> stage / bare loop: {r['ratio_per_core']:.1%}   (bare loop also reading the WARC files: "
              f"{r['ratio_per_core_both_from_warc']:.1%}); asked: >= 85%", flush=True)

        print("\n2. the whole stage on Beam (DirectRunner, multi-processing)")
        print(f"   {'':40s} {'pages/s':>8s} {'per CPU s':>10s} {'start-up':>9s}")
        for workers in (1, 2):
            b_wall, b_cpu = bare_loop(pages) if workers == 1 else (bare_two_processes(pages), None)
            s_wall, s_cpu = beam_stage(one, cfg, workers, scratch)
            wall, cpu = beam_stage(paths, cfg, workers, scratch)
            n = len(pages) - 1
            e = {"bare_wall": b_wall, "bare_cpu": b_cpu, "wall_s": wall, "cpu_s": cpu, "startup_wall_s": s_wall,
                 "startup_cpu_s": s_cpu, "wall": len(pages) / wall, "wall_started": n / max(1e-9, wall - s_wall),
                 "cpu_started": n / max(1e-9, cpu - s_cpu)}
            r[f"beam_{workers}"] = e
            bare_label = "bare loop" if workers == 1 else "bare loop, 2 processes"
            print(f"   {bare_label:40s} {b_wall:8.1f} {(b_cpu or 0):10.1f}" if b_cpu else
                  f"   {bare_label:40s} {b_wall:8.1f}")
            print(f"   stage, {workers} worker{'s' if workers > 1 else ' '} (with start-up)            "
                  f"{e['wall']:8.1f} {len(pages) / cpu:10.1f} {s_wall:8.1f}s")
            print(f"   stage, {workers} worker{'s' if workers > 1 else ' '} once started               "
                  f"{e['wall_started']:8.1f} {e['cpu_started']:10.1f}", flush=True)
        b1, b2 = r["beam_1"], r["beam_2"]
        r["ratio_beam_vs_bare_cpu"] = b1["cpu_started"] / b1["bare_cpu"]
        r["ratio_2_vs_1_workers"] = b2["wall_started"] / b1["wall_started"]
        r["ratio_2_vs_1_workers_with_startup"] = b2["wall"] / b1["wall"]
        r["ratio_bare_2_vs_1"] = b2["bare_wall"] / b1["bare_wall"]
        print(f"   -> stage on Beam (1 worker, once started) / bare loop, per CPU second: "
              f"{r['ratio_beam_vs_bare_cpu']:.1%}")
        print(f"   -> 2 workers / 1 worker, once started: {r['ratio_2_vs_1_workers']:.2f}x (with start-up "
              f"{r['ratio_2_vs_1_workers_with_startup']:.2f}x; the bare loop on 2 processes: "
              f"{r['ratio_bare_2_vs_1']:.2f}x); asked: >= 1.7x")
        r["load_average_end"] = os.getloadavg()[0]
        if args.json:
            with open(args.json, "w", encoding="utf-8") as f:
                json.dump(r, f, indent=1)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
