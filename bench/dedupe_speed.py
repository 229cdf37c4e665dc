"""Dedupe speed: signatures per second against datasketch's per-shingle loop, and the whole stage.

1. Signatures: the stage's signer (words hashed once, shingles hashed with numpy, one datasketch
   `MinHash.update_batch` per document) against, on the same real documents in the same run,
   datasketch's per-shingle `MinHash.update` loop (the baseline) and `MinHash.bulk` on shingle bytes
   (datasketch's batch API with its default SHA-1 hash). All three start from the text.
2. The whole stage (exact + near dedupe + decontamination against the configured benchmarks) through
   the real runner on corpora of 10k and 100k documents, made of real sentences (../shared/data)
   drawn at random, with 3% exact and 5% near duplicates planted: documents per second and the peak
   memory of the whole process tree (Beam's worker processes included), sampled every 0.2 s.

    python bench/dedupe_speed.py               # signatures on 2,000 docs; stage at 10k and 100k docs
    python bench/dedupe_speed.py --quick       # 200 docs; stage at 1k docs (a few seconds)
    python bench/dedupe_speed.py --sizes 10000 --mode in_memory
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from dedupe import synth  # noqa: E402
from dedupe import text as textlib  # noqa: E402
from dedupe.minhash import Signer  # noqa: E402

BENCHMARKS = [("lambada", "benchmarks/lambada/lambada_test.jsonl", "jsonl"),
              ("wikitext2", "benchmarks/wikitext2/wiki.test.tokens", "text"),
              ("wikitext103", "benchmarks/wikitext_raw/wiki.test.raw", "text"),
              ("ptb", "benchmarks/ptb/ptb.test.txt", "text")]


def signatures(texts: list[str], loop_docs: int, num_perm: int = 128, n: int = 5) -> dict:
    """Docs/s of the three signers. The per-shingle loop is slow, so it runs on the first `loop_docs`
    documents; the speed-ups compare all three on exactly those documents (each fast signer repeated
    over them for at least half a second), and the full-set rates of the fast two are printed beside."""
    from datasketch import MinHash

    signer = Signer(num_perm, 1)

    def shingle_bytes(t):
        words = textlib.shingle_tokens(t)
        return [" ".join(words[i:i + n]).encode() for i in range(max(1, len(words) - n + 1))]

    def ours(docs):
        for t in docs:
            signer.sign(textlib.shingle_hashes(t, n))

    def bulk(docs):
        MinHash.bulk([shingle_bytes(t) for t in docs], num_perm=num_perm)

    def loop(docs):
        for t in docs:
            m = MinHash(num_perm=num_perm)
            for sh in shingle_bytes(t):
                m.update(sh)

    def rate(fn, docs, min_s=0.0):
        done, t0 = 0, time.perf_counter()
        while True:
            fn(docs)
            done += len(docs)
            elapsed = time.perf_counter() - t0
            if elapsed >= min_s:
                return done / elapsed

    sub = texts[:loop_docs]
    ours_all, bulk_all = rate(ours, texts), rate(bulk, texts)
    ours_sub, bulk_sub, loop_sub = rate(ours, sub, 0.5), rate(bulk, sub, 0.5), rate(loop, sub)
    return {"docs": len(texts), "loop_docs": len(sub), "stage_signer_docs_per_s": round(ours_all, 1),
            "datasketch_bulk_docs_per_s": round(bulk_all, 1), "stage_signer_docs_per_s_same_docs": round(ours_sub, 1),
            "datasketch_bulk_docs_per_s_same_docs": round(bulk_sub, 1),
            "datasketch_update_loop_docs_per_s": round(loop_sub, 1),
            "speedup_vs_update_loop": round(ours_sub / loop_sub, 2),
            "speedup_bulk_vs_update_loop": round(bulk_sub / loop_sub, 2)}


def sentence_pool(data_dir: str) -> list[str]:
    out = []
    for _, text in synth.real_documents(data_dir):
        for s in re.split(r"(?<=[.!?])\s+", " ".join(text.split())):
            if 5 <= len(s.split()) <= 80:
                out.append(s)
    return out


def make_corpus(pool: list[str], n_docs: int, seed: int) -> list[dict]:
    from webtext.record import new_document

    rnd = random.Random(seed)
    docs = []
    for i in range(n_docs):
        r = rnd.random()
        src = {"score": rnd.randint(3, 2000), "created_utc": 1_200_000_000 + rnd.randint(0, 10**8)}
        if r < 0.03 and docs:
            text = rnd.choice(docs)["text"]
        elif r < 0.08 and docs:
            words = rnd.choice(docs)["text"].split()
            text = " ".join(synth.plant(words, "substitute", 0.01, rnd, words))
        else:
            text = " ".join(rnd.choice(pool) for _ in range(rnd.randint(8, 40)))
        docs.append(new_document(f"https://site{rnd.randint(0, 999)}.example/{i}", text, source=src))
    return docs


class PeakMemory:
    """Peak resident memory of a process and all its descendants, sampled in a thread."""

    def __init__(self, pid: int, every: float = 0.2):
        import psutil

        self.proc = psutil.Process(pid)
        self.every, self.peak, self._stop = every, 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        import psutil

        while not self._stop.is_set():
            try:
                procs = [self.proc] + self.proc.children(recursive=True)
                total = 0
                for p in procs:
                    try:
                        total += p.memory_info().rss
                    except psutil.Error:
                        pass
                self.peak = max(self.peak, total)
            except psutil.Error:
                pass
            self._stop.wait(self.every)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join()


_CHILD = """
import json, sys, time
sys.path.insert(0, {repo!r})
from dedupe import synth
t0 = time.time()
rec = synth.run_stage({work!r}, json.loads({block!r}), json.loads({beam!r}))
print(json.dumps({{"seconds": time.time() - t0, "counts": rec["counts"], "stats": rec["stats"]}}))
"""


def stage_run(docs: list[dict], data_dir: str, mode: str, workers: int, decontaminate: bool) -> dict:
    block = {}
    if decontaminate:
        block["decontamination"] = {"benchmarks": [{"name": n, "path": os.path.join(data_dir, p), "format": f}
                                                   for n, p, f in BENCHMARKS]}
    beam = {"direct_running_mode": mode, "workers": workers}
    with tempfile.TemporaryDirectory(prefix="dedupe-speed-") as work:
        synth.write_clean_output(work, docs, files=max(4, len(docs) // 5000))
        code = _CHILD.format(repo=REPO, work=work, block=json.dumps(block), beam=json.dumps(beam))
        env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env)
        with PeakMemory(proc.pid) as mem:
            out, err = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"stage failed:\n{err[-3000:]}")
        result = json.loads(out.strip().splitlines()[-1])
    chars = sum(len(d["text"]) for d in docs)
    return {"docs": len(docs), "mb_text": round(chars / 1e6, 1), "seconds": round(result["seconds"], 1),
            "docs_per_s": round(len(docs) / result["seconds"], 1), "peak_rss_mb": round(mem.peak / 2**20),
            "counts": result["counts"], "candidates": result["stats"]["candidates"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"))
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke run of a few seconds")
    ap.add_argument("--sign-docs", type=int, default=2000)
    ap.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[10_000, 100_000],
                    help="comma-separated corpus sizes for the whole-stage runs")
    ap.add_argument("--mode", default="multi_processing", choices=["multi_processing", "in_memory"])
    ap.add_argument("--workers", type=int, default=0, help="DirectRunner workers (0: all cores)")
    ap.add_argument("--no-decontamination", action="store_true")
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args(argv)
    if args.quick:
        args.sign_docs, args.sizes = 200, [1000]
    if not os.path.isdir(os.path.join(args.data, "corpus")):
        print(f"shared data not found at {args.data}", file=sys.stderr)
        return 2

    real = [t for _, t in synth.real_documents(args.data)]
    random.Random(0).shuffle(real)
    sig = signatures(real[:args.sign_docs], max(20, args.sign_docs // 8))
    words = sum(len(t.split()) for t in real[:args.sign_docs]) / args.sign_docs
    print(f"signatures ({sig['docs']} real documents, {words:.0f} words on average, 128 permutations, 5-word shingles):")
    print(f"  on all {sig['docs']}:  stage signer (update_batch) {sig['stage_signer_docs_per_s']:>9.1f} docs/s, "
          f"datasketch MinHash.bulk (SHA-1) {sig['datasketch_bulk_docs_per_s']:>9.1f} docs/s")
    print(f"  on the first {sig['loop_docs']} (the same documents for all three):")
    print(f"    stage signer (update_batch)          {sig['stage_signer_docs_per_s_same_docs']:>9.1f} docs/s")
    print(f"    datasketch MinHash.bulk (SHA-1)      {sig['datasketch_bulk_docs_per_s_same_docs']:>9.1f} docs/s")
    print(f"    datasketch per-shingle update loop   {sig['datasketch_update_loop_docs_per_s']:>9.1f} docs/s")
    print(f"  speed-up over the loop: {sig['speedup_vs_update_loop']}x (target >= 5x); "
          f"bulk alone: {sig['speedup_bulk_vs_update_loop']}x")

    pool = sentence_pool(args.data)
    runs = []
    workers_label = "one process" if args.mode == "in_memory" else f"workers: {args.workers or 'all cores'}"
    print(f"\nwhole stage (DirectRunner {args.mode}, {workers_label}; "
          f"{'no decontamination' if args.no_decontamination else 'decontamination against ' + ', '.join(b[0] for b in BENCHMARKS)}):")
    for size in args.sizes:
        docs = make_corpus(pool, size, seed=size)
        r = stage_run(docs, args.data, args.mode, args.workers, not args.no_decontamination)
        runs.append(r)
        print(f"  {r['docs']:>7} docs ({r['mb_text']:>6.1f} MB): {r['seconds']:>7.1f}s  {r['docs_per_s']:>7.1f} docs/s  "
              f"peak memory {r['peak_rss_mb']:>6} MB  dropped {r['counts']['dropped']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"signatures": sig, "stage": runs, "mode": args.mode, "workers": args.workers}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
