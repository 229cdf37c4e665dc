"""What the report costs, and what it grows with.

The report reads statistics, not the corpus, so its time should depend on the size of those
statistics (top-k lists, shards, logged training steps), never on the number of documents. This
builds the report for synthetic runs written the way the stages write them (tests/report/synthetic_run.py):

    small         the synthetic run as the tests use it (35k pages, 30 domains, 3 shards, 2,000 steps)
    small x1000   the same statistics with every count multiplied by 1,000 (a 35M-page corpus)
    full shape    statistics at their full-scale sizes: 1,000 domains in each of three lists, 200
                  subreddits, 149 months, 100 shards, 20,000 logged steps
    full x1000    full shape, counts x1,000

and prints the wall and CPU time of each (best of --repeat), the statistics it read, and the CPU
time relative to "small" (CPU time, because wall time on a shared machine mostly measures the others).

    PYTHONPATH=. python bench/bench_report.py [--quick] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [REPO, os.path.join(REPO, "tests", "report")]

from synthetic_run import STAGES, stage_records, train_log_lines  # noqa: E402

from report.build import write_report  # noqa: E402
from report.config import Config  # noqa: E402

FIXED = {"vocab_size", "ngram", "steps", "params", "seconds"}  # sizes of things, not counts of documents


def scale_counts(obj, k, key=""):
    """Every integer count times k (balanced counts stay balanced); floats and fixed sizes unchanged."""
    if isinstance(obj, dict):
        return {kk: scale_counts(v, k, kk) for kk, v in obj.items()}
    if isinstance(obj, list):
        return [scale_counts(v, k, key) for v in obj]
    if isinstance(obj, int) and not isinstance(obj, bool) and key not in FIXED:
        return obj * k
    return obj


def full_shape(records: dict) -> dict:
    """Top-k lists at their caps, 100 shards: the largest statistics a full-scale run records."""
    crawl, clean, shard = records["crawl"]["stats"], records["clean"]["stats"], records["shard"]["stats"]
    for stats, key in ((crawl, "domains"), (crawl, "link_domains"), (clean, "domains")):
        base = dict(stats[key])
        for i in range(1000 - len(base)):
            base[f"site{i}.example{i % 37}.com"] = max(1, 200 - i // 5)
        stats[key] = base
    crawl["subreddits"] = {**crawl["subreddits"], **{f"sub{i}": 50 + i for i in range(200 - len(crawl["subreddits"]))}}
    total = shard["tokens"]["train"]
    shard["shards"] = [{"name": f"train_{i:06d}.bin", "split": "train", "tokens": total // 99,
                        "documents": shard["documents"]["train"] // 99} for i in range(99)]
    shard["shards"].append({"name": "val_000000.bin", "split": "val", "tokens": shard["tokens"]["val"],
                            "documents": shard["documents"]["val"]})
    return records


def write(work: str, records: dict, steps: int) -> int:
    """Write the run; returns the bytes of statistics the report will read."""
    size = 0
    for stage in STAGES:
        folder = os.path.join(work, stage)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "_SUCCESS.json")
        with open(path, "w") as f:
            json.dump(records[stage], f)
        size += os.path.getsize(path)
    path = os.path.join(work, "train", "log.jsonl")
    with open(path, "w") as f:
        for line in train_log_lines(steps):
            f.write(json.dumps(line) + "\n")
    return size + os.path.getsize(path)


def measure(tmp: str, name: str, records: dict, steps: int, repeat: int, gpt2: str | None) -> dict:
    work = os.path.join(tmp, name.replace(" ", "_"))
    size = write(work, records, steps)
    cfg = Config(gpt2_domains=gpt2)
    best = best_cpu = None
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        summary = write_report(os.path.join(work, "report"), work, cfg)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        best = elapsed if best is None else min(best, elapsed)
        best_cpu = cpu if best_cpu is None else min(best_cpu, cpu)
    assert not summary["errors"], summary["errors"]
    return {"name": name, "seconds": best, "cpu": best_cpu, "stats_bytes": size, "figures": summary["figures"],
            "html_bytes": summary["html_bytes"]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke test: small run only, one repeat")
    p.add_argument("--repeat", type=int, default=3, help="builds per case; the best time is reported")
    args = p.parse_args(argv)
    gpt2 = os.path.normpath(os.path.join(REPO, "..", "shared", "data", "reddit", "gpt2_domains.txt"))
    gpt2 = gpt2 if os.path.isfile(gpt2) else None

    import matplotlib  # noqa: F401 - imported once up front so the first case is not charged for it

    cases = [("small", stage_records(), 2000)]
    if not args.quick:
        cases += [("small x1000", scale_counts(stage_records(), 1000), 2000),
                  ("full shape", full_shape(stage_records()), 20000),
                  ("full x1000", scale_counts(full_shape(stage_records()), 1000), 20000)]
    repeat = 1 if args.quick else args.repeat
    with tempfile.TemporaryDirectory() as tmp:
        rows = [measure(tmp, name, records, steps, repeat, gpt2) for name, records, steps in cases]
    base = rows[0]["cpu"]
    print(f"{'case':<13} {'wall s':>7} {'cpu s':>6} {'cpu vs small':>13} {'stats read':>11} {'figures':>8} {'page':>8}")
    for r in rows:
        print(f"{r['name']:<13} {r['seconds']:7.2f} {r['cpu']:6.2f} {r['cpu'] / base:12.2f}x "
              f"{r['stats_bytes'] / 1e3:9.0f}kB {r['figures']:8d} {r['html_bytes'] / 1e3:6.0f}kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
