"""Scaling figures: the clean and dedupe stages on the DirectRunner and on Dask, with 1 and 2 worker
processes each, in one run, and where the time goes.

    python bench/scale.py [--data ../shared/data] [--pages 724] [--docs 20000] [--files 8] [--json out.json]
    python bench/scale.py --quick          # 30 pages, 500 documents: a smoke run

Inputs, written once into a scratch folder:
- clean: the extraction benchmark's 181 real pages (../shared/data/html_extraction), repeated under
  distinct URLs up to --pages, in --files WARC files (bench/clean_speed.py's writer).
- dedupe: --docs documents of real sentences with 3% exact and 5% near duplicates planted
  (bench/dedupe_speed.py's corpus), in --files files; decontaminated against LAMBADA.

Each stage runs through the real stage runner (webtext.runner), in this process, on:
  direct 1  DirectRunner in_memory (one process)
  direct 2  DirectRunner multi_processing, 2 worker processes
  dask 1/2  webtext's Dask runner on a local cluster of 1 / 2 worker processes (one thread each)

Where the time goes: each stage also runs on a tiny input (2 pages / 20 documents) just before the
full one; that run's wall time is the fixed cost of a pipeline (start-up: worker processes for the
DirectRunner, graph translation and scheduling for Dask), and "once started" is the rate over the
difference. The Dask cluster's own start (once per process: `webtext run` reuses it for clean, dedupe
and shard) is timed apart, and the Dask runner's phases of the full run are listed (translate:
Beam graph -> Dask graph; compute: from submission to the last task).

Two workers against one is a wall-clock ratio: it needs two idle cores. The baseline, measured in the
same run, is what the machine gives two processes on the stages' core work without any runner
(trafilatura.extract on the same pages; MinHash signatures of the same documents), split in two
halves against one process doing all of it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.dirname(os.path.abspath(__file__))
for p in (REPO, BENCH):
    if p not in sys.path:
        sys.path.insert(0, p)

TINY_PAGES, TINY_DOCS = 2, 20


# -- the baseline: how much two processes get out of this machine, on the stages' own core work ------


def _extract_all(pages) -> int:
    import trafilatura

    for _, body in pages:
        trafilatura.extract(body)
    return len(pages)


def _sign_all(texts) -> int:
    from dedupe import text as textlib
    from dedupe.minhash import Signer

    signer = Signer(128, 1)
    for t in texts:
        signer.sign(textlib.ngram_hashes(textlib.shingle_token_hashes(t), 5, whole_if_shorter=True))
    return len(texts)


def two_process_ratio(fn, items) -> float:
    """Wall-clock speed of `fn` over `items` split between two processes, over one process doing all
    of them (both pools started and warmed first): what the machine offers a second worker."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as one, ctx.Pool(2) as two:
        one.map(fn, [items[:2]])
        two.map(fn, [items[:2], items[2:4]])
        t = time.perf_counter()
        one.map(fn, [items])
        t_one = time.perf_counter() - t
        t = time.perf_counter()
        two.map(fn, [items[0::2], items[1::2]])
        t_two = time.perf_counter() - t
    return t_one / t_two


def fake_upstream(work: str, stage: str) -> None:
    """A finished-stage marker for the input written by this script (the runner trusts nothing else)."""
    from webtext import jsonl

    jsonl.write_json(os.path.join(work, stage, "_SUCCESS.json"),
                     {"stage": stage, "fingerprint": "bench", "run_id": "bench", "counts": {}})


def clean_input(work: str, pages, files: int) -> None:
    from clean_speed import write_warcs

    write_warcs(pages, os.path.join(work, "crawl", "warc"), files)
    fake_upstream(work, "crawl")


def dedupe_input(work: str, docs, files: int) -> None:
    from dedupe import synth

    synth.write_clean_output(work, docs, files=files)


def config(work: str, beam: dict, data: str):
    from webtext.config import config_from_dict

    lambada = os.path.join(data, "benchmarks", "lambada", "lambada_test.jsonl")
    return config_from_dict({
        "run": {"work_dir": work, "seed": 1337},
        "beam": beam,
        "clean": {"num_shards": 4},
        "dedupe": {"doc_shards": 8, "reject_shards": 4, "cluster_shards": 2,
                   "decontamination": {"benchmarks": [{"name": "lambada", "path": lambada, "format": "jsonl",
                                                       "field": "text"}]}},
    })


def run_stage(stage: str, work: str, beam: dict, data: str) -> dict:
    from webtext import beam_dask
    from webtext.progress import Progress
    from webtext.runner import Runner

    beam_dask.WebtextDaskRunner.last_result = None
    t = time.perf_counter()
    record = Runner(config(work, beam, data), Progress(quiet=True)).run_stage(stage, force=True)
    seconds = time.perf_counter() - t
    result = beam_dask.WebtextDaskRunner.last_result
    return {"seconds": seconds, "counts": record["counts"], "dask": dict(result.timings) if result else None}


RUNNERS = {
    ("direct", 1): {"runner": "direct", "direct_running_mode": "in_memory", "workers": 1},
    ("direct", 2): {"runner": "direct", "direct_running_mode": "multi_processing", "workers": 2},
    ("dask", 1): {"runner": "dask", "workers": 1},
    ("dask", 2): {"runner": "dask", "workers": 2},
}


def measure(runners, works: dict, sizes: dict, data: str, log) -> tuple[list, dict]:
    from webtext import beam_dask

    rows, cluster_start = [], {}
    for runner, workers in runners:
        beam = RUNNERS[(runner, workers)]
        if runner == "dask":
            beam_dask.close_local_cluster()
            t = time.perf_counter()
            beam_dask.local_cluster(workers)
            cluster_start[workers] = round(time.perf_counter() - t, 2)
        for stage in ("clean", "dedupe"):
            tiny = run_stage(stage, works[(stage, "tiny")], beam, data)
            full = run_stage(stage, works[(stage, "full")], beam, data)
            n = sizes[stage]
            work_s = full["seconds"] - tiny["seconds"]
            # Too close to the tiny run (a --quick input) to tell work from start-up: no figure.
            started = round(n / work_s, 1) if work_s > 0.2 * full["seconds"] else None
            row = {"stage": stage, "runner": runner, "workers": workers, "items": n,
                   "seconds": round(full["seconds"], 2), "per_s": round(n / full["seconds"], 1),
                   "startup_s": round(tiny["seconds"], 2), "started_per_s": started,
                   "counts": full["counts"], "dask": full["dask"]}
            rows.append(row)
            log(row)
        if runner == "dask":
            beam_dask.close_local_cluster()
    return rows, cluster_start


def print_table(rows, cluster_start, sizes, files, baseline) -> None:
    unit = {"clean": "pages", "dedupe": "docs"}
    for stage in ("clean", "dedupe"):
        what = (f"{sizes['clean']} pages in {files} WARC files" if stage == "clean"
                else f"{sizes['dedupe']} documents in {files} files")
        print(f"\n{stage}: {what}")
        print(f"  {'runner':<8}{'workers':>8}{'wall s':>9}{unit[stage] + '/s':>11}{'start-up s':>12}"
              f"{'once started/s':>16}   Dask phases of the full run")
        for r in (r for r in rows if r["stage"] == stage):
            phases = ""
            if r["dask"]:
                d = r["dask"]
                phases = (f"translate {d['translate']:.2f}s, compute {d['compute']:.2f}s, "
                          f"{d['tasks']} tasks, P={d['partitions']}")
            started = f"{r['started_per_s']:.1f}" if r["started_per_s"] else "n/a"
            print(f"  {r['runner']:<8}{r['workers']:>8}{r['seconds']:>9.2f}{r['per_s']:>11.1f}{r['startup_s']:>12.2f}"
                  f"{started:>16}   {phases}")
        for runner in ("direct", "dask"):
            one = next((r for r in rows if r["stage"] == stage and r["runner"] == runner and r["workers"] == 1), None)
            two = next((r for r in rows if r["stage"] == stage and r["runner"] == runner and r["workers"] == 2), None)
            if one and two:
                started = (f" ({two['started_per_s'] / one['started_per_s']:.2f}x once started)"
                           if one["started_per_s"] and two["started_per_s"] else "")
                print(f"  {runner}: 2 workers / 1 = {one['seconds'] / two['seconds']:.2f}x wall{started}; "
                      f"the bare work on 2 processes / 1: {baseline[stage]}x")
        d1 = next((r for r in rows if r["stage"] == stage and (r["runner"], r["workers"]) == ("direct", 1)), None)
        for r in rows:
            if d1 and r["stage"] == stage and r["runner"] == "dask":
                print(f"  dask {r['workers']} vs direct 1: {d1['seconds'] / r['seconds']:.2f}x wall")
    if cluster_start:
        print("\nDask local cluster start (once per process): "
              + ", ".join(f"{w} worker{'s' if w > 1 else ''} {s:.2f}s" for w, s in sorted(cluster_start.items())))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"), help="shared data folder")
    ap.add_argument("--pages", type=int, default=724, help="pages for clean (the 181 real ones, repeated)")
    ap.add_argument("--docs", type=int, default=20000, help="documents for dedupe")
    ap.add_argument("--files", type=int, default=8, help="input files of each stage")
    ap.add_argument("--runners", default="direct,dask", help="comma-separated: direct, dask")
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    ap.add_argument("--quick", action="store_true", help="30 pages, 500 documents, 2 files: a smoke run")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args(argv)
    if args.quick:
        args.pages, args.docs, args.files = 30, 500, 2
    data = os.path.normpath(args.data)
    if not os.path.isdir(os.path.join(data, "html_extraction")) or not os.path.isdir(os.path.join(data, "corpus")):
        print(f"shared data not found at {data} (see ../shared/data/README.md)", file=sys.stderr)
        return 2
    runners = [(r, int(w)) for r in args.runners.split(",") for w in args.workers.split(",")]
    unknown = [k for k in runners if k not in RUNNERS]
    if unknown:
        print(f"unknown runner/workers: {unknown} (runners: direct, dask; workers: 1, 2)", file=sys.stderr)
        return 2

    from clean_speed import load_pages
    from dedupe_speed import make_corpus, sentence_pool

    scratch = tempfile.mkdtemp(prefix="webtext-scale-")
    try:
        pages = load_pages(data, -(-args.pages // 181))[:args.pages]
        pool = sentence_pool(data)
        docs = make_corpus(pool, args.docs, seed=args.docs)
        random.Random(0).shuffle(docs)
        works = {}
        for stage, size in (("clean", "tiny"), ("clean", "full"), ("dedupe", "tiny"), ("dedupe", "full")):
            works[(stage, size)] = os.path.join(scratch, f"{stage}-{size}")
        clean_input(works[("clean", "tiny")], pages[:TINY_PAGES], 1)
        clean_input(works[("clean", "full")], pages, args.files)
        dedupe_input(works[("dedupe", "tiny")], docs[:TINY_DOCS], 1)
        dedupe_input(works[("dedupe", "full")], docs, args.files)
        sizes = {"clean": len(pages), "dedupe": len(docs)}
        print(f"{os.cpu_count()} CPUs; clean: {len(pages)} pages, dedupe: {len(docs)} documents, {args.files} files each",
              flush=True)

        def log(row):
            print(f"  {row['stage']:<7} {row['runner']:<7} {row['workers']} worker(s): {row['seconds']:.2f}s "
                  f"(tiny input {row['startup_s']:.2f}s)", flush=True)

        baseline = {"clean": round(two_process_ratio(_extract_all, pages), 2),
                    "dedupe": round(two_process_ratio(_sign_all, [d["text"] for d in docs]), 2)}
        print(f"baseline, 2 processes / 1 on the bare work: trafilatura.extract {baseline['clean']}x, "
              f"MinHash signatures {baseline['dedupe']}x", flush=True)
        rows, cluster_start = measure(runners, works, sizes, data, log)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print_table(rows, cluster_start, sizes, args.files, baseline)
    outs = {(r["stage"], json.dumps(r["counts"], sort_keys=True)) for r in rows}
    if len(outs) != 2:
        print("\nWARNING: the runners' counts differ:", sorted(outs), file=sys.stderr)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"sizes": sizes, "files": args.files, "two_process_baseline": baseline,
                       "cluster_start_s": cluster_start, "runs": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
