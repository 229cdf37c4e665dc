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

The ratios asked of the stage: (3, 1 worker, once started) / (1, one process) >= 0.85, and
(3, 2 workers) / (3, 1 worker) >= 1.7. Run on a quiet machine: other load skews every figure.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import multiprocessing
import os
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


def _bare(chunk) -> int:
    import trafilatura

    for _, body in chunk:
        trafilatura.extract(body)
    return len(chunk)


def bare_loop(pages) -> float:
    _bare(pages[:3])  # imports and first-call caches
    t = time.perf_counter()
    _bare(pages)
    return len(pages) / (time.perf_counter() - t)


def bare_two_processes(pages) -> float:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        pool.map(_bare, [pages[:2], pages[2:4]])  # start and warm both
        t = time.perf_counter()
        n = sum(pool.map(_bare, [pages[0::2], pages[1::2]]))
        return n / (time.perf_counter() - t)


def stage_core(paths, cfg) -> tuple[float, dict]:
    from clean.guard import make_extractor
    from clean.process import PageProcessor
    from clean.warc import read_warc

    stats: dict = {}
    kinds = {"doc": 0, "reject": 0}
    with make_extractor(cfg.extract) as ex:
        proc = PageProcessor(cfg, ex)
        ex.extract(b"<html><body><p>warm-up</p></body></html>", None, "text/html", None)  # start the child
        from clean.langid import identify

        identify("warm up the language model")
        t = time.perf_counter()
        n = 0
        for path in paths:
            for page in read_warc(path, stats, cfg.extract.max_html_bytes):
                kind, _ = proc.process(page, stats)
                kinds[kind] += 1
                n += 1
        return n / (time.perf_counter() - t), kinds


def beam_stage(paths, cfg, workers: int, scratch: str) -> float:
    """Wall seconds of the whole stage (pipeline build, start, run, write) on `paths`."""
    from webtext.beam import pipeline_options, run_pipeline

    from clean.pipeline import CleanWarcs

    beam_cfg = types.SimpleNamespace(runner="direct", workers=workers, direct_running_mode="multi_processing",
                                     dask_address=None, options={})
    out = tempfile.mkdtemp(dir=scratch)
    t = time.perf_counter()
    run_pipeline(lambda p: p | CleanWarcs(cfg, paths, out, 4, os.path.join(out, "_stats.json")),
                 pipeline_options(beam_cfg))
    seconds = time.perf_counter() - t
    shutil.rmtree(out, ignore_errors=True)
    return seconds


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
        r["bare_1"] = bare_loop(pages)
        print(f"bare trafilatura.extract loop, 1 process    {r['bare_1']:7.1f} pages/s", flush=True)
        r["bare_2"] = bare_two_processes(pages)
        print(f"bare loop, 2 processes                      {r['bare_2']:7.1f} pages/s  "
              f"({r['bare_2'] / r['bare_1']:.2f}x)", flush=True)
        r["core"], kinds = stage_core(paths, cfg)
        print(f"stage core, 1 process (no Beam)             {r['core']:7.1f} pages/s  "
              f"({r['core'] / r['bare_1']:.0%} of bare; {kinds['doc']} docs, {kinds['reject']} rejects)", flush=True)
        for workers in (1, 2):
            startup = beam_stage(one, cfg, workers, scratch)
            wall = beam_stage(paths, cfg, workers, scratch)
            rate = len(pages) / wall
            running = (len(pages) - 1) / max(1e-9, wall - startup)
            r[f"beam_{workers}"] = {"wall_s": wall, "startup_s": startup, "pages_per_s": rate,
                                    "pages_per_s_started": running}
            print(f"whole stage on Beam, {workers} worker{'s' if workers > 1 else ' '}            {rate:7.1f} pages/s  "
                  f"(wall {wall:.1f} s; start-up {startup:.1f} s; once started {running:.1f} pages/s)", flush=True)
        b1, b2 = r["beam_1"], r["beam_2"]
        r["ratio_stage_vs_bare"] = b1["pages_per_s_started"] / r["bare_1"]
        r["ratio_2_vs_1_workers"] = b2["pages_per_s_started"] / b1["pages_per_s_started"]
        r["ratio_2_vs_1_workers_wall"] = b2["pages_per_s"] / b1["pages_per_s"]
        print(f"\nstage (1 worker, once started) / bare loop: {r['ratio_stage_vs_bare']:.0%}  (asked: >= 85%)")
        print(f"2 workers / 1 worker, once started:         {r['ratio_2_vs_1_workers']:.2f}x "
              f"(with start-up {r['ratio_2_vs_1_workers_wall']:.2f}x; asked: >= 1.7x; bare loop on this machine: "
              f"{r['bare_2'] / r['bare_1']:.2f}x)")
        if args.json:
            with open(args.json, "w", encoding="utf-8") as f:
                json.dump(r, f, indent=1)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
