"""How fast the shard stage turns documents into shards, against two baselines measured in the same run.

    PYTHONPATH=. python bench/shard_speed.py            # 100 MB of English, GPT-2's BPE, all cores
    PYTHONPATH=. python bench/shard_speed.py --quick    # 5 MB smoke run
    PYTHONPATH=. python bench/shard_speed.py --tokenizer train --vocab 8000   # a BPE trained first

Measured on the same documents (English text from ../shared/data/corpus cut into ~4 KB documents and
repeated, each copy with its own id, up to --mb megabytes):

  bare loop   `tokenizers` Tokenizer.encode_batch over batches of 512 texts already in memory, on
              --threads threads (rayon): the figure the stage is compared with (target >= 0.8)
  tiktoken    tiktoken's own `gpt2` Encoding, encode_ordinary_batch with the same threads
  stage       the whole shard stage through the webtext runner: tokenizer load + equivalence check,
              Beam DirectRunner (multi_processing, --threads workers) reading the JSONL.zst
              documents, encoding, packing, writing shards + indexes + manifest, verification

Tokens per second count the documents' own tokens (not the <|endoftext|> the stage adds), so the
three figures count the same thing. The tokenizer training time (--tokenizer train) is reported apart.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import sys
import tempfile
import time
import zipfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.normpath(os.path.join(REPO, "..", "shared", "data"))


def english_texts() -> list[str]:
    corpus = os.path.join(SHARED, "corpus")
    texts = []
    for path in sorted(glob.glob(os.path.join(corpus, "gutenberg_nltk", "*.txt"))) + \
            [os.path.join(corpus, "tinyshakespeare", "input.txt")] + \
            sorted(glob.glob(os.path.join(corpus, "openwebtext_docs_sample", "*.txt"))):
        with open(path, encoding="utf-8", errors="replace") as f:
            texts.append(f.read())
    for name in ("state_union.zip", "inaugural.zip", "movie_reviews.zip"):
        with zipfile.ZipFile(os.path.join(corpus, "nltk", name)) as z:
            texts += [z.read(n).decode("utf-8", "replace") for n in sorted(z.namelist()) if n.endswith(".txt")]
    return texts


def make_documents(megabytes: float, doc_chars: int = 4000) -> list[dict]:
    from webtext.record import new_document

    pieces = []
    for text in english_texts():
        paras = [p for p in text.split("\n\n") if p.strip()]
        buf = []
        for p in paras:
            buf.append(p)
            if sum(map(len, buf)) >= doc_chars:
                pieces.append("\n\n".join(buf))
                buf = []
        if buf:
            pieces.append("\n\n".join(buf))
    docs, size, copy = [], 0, 0
    target = megabytes * 1e6
    while size < target:
        for i, text in enumerate(pieces):
            docs.append(new_document(f"https://bench.example/{copy}/{i}", text))
            size += len(text.encode("utf-8"))
            if size >= target:
                break
        copy += 1
    return docs


def write_dedupe(work: str, docs: list[dict], files: int) -> None:
    """The documents as a finished dedupe stage (what the shard stage reads)."""
    from webtext import jsonl

    folder = os.path.join(work, "dedupe")
    os.makedirs(os.path.join(folder, "docs"), exist_ok=True)
    for i in range(files):
        with jsonl.JsonlWriter(os.path.join(folder, "docs", f"docs-{i:05d}-of-{files:05d}.jsonl.zst")) as w:
            w.write_many(docs[i::files])
    jsonl.write_json(os.path.join(folder, "_SUCCESS.json"), {"stage": "dedupe", "fingerprint": "bench", "run_id": "bench"})


def tiktoken_gpt2(cache: str):
    """tiktoken's `gpt2` encoding from the shared files (offline)."""
    bpe = os.path.join(SHARED, "gpt2_bpe")
    os.makedirs(cache, exist_ok=True)
    shutil.copy(os.path.join(bpe, "tiktoken_format", "r50k_base.tiktoken"), os.path.join(cache, "0ea1e91bbb3a60f729a8dc8f777fd2fc07cd8df4"))
    shutil.copy(os.path.join(bpe, "openai_original", "vocab.bpe"), os.path.join(cache, "6d1cbeee0f20b3d9449abfede4726ed8212e3aee"))
    shutil.copy(os.path.join(bpe, "openai_original", "encoder.json"), os.path.join(cache, "6c7ea1a7e38e3a7f062df639a5b80947f075ffe6"))
    os.environ["TIKTOKEN_CACHE_DIR"] = cache
    import tiktoken

    return tiktoken.get_encoding("gpt2")


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=100.0, help="megabytes of text (default 100)")
    ap.add_argument("--quick", action="store_true", help="a 5 MB smoke run")
    ap.add_argument("--threads", type=int, default=0, help="threads for every engine and Beam workers (0: all cores)")
    ap.add_argument("--tokenizer", choices=["gpt2", "train"], default="gpt2",
                    help="gpt2: GPT-2's files; train: a BPE trained on the documents first (timed apart)")
    ap.add_argument("--vocab", type=int, default=8000, help="vocabulary size for --tokenizer train")
    ap.add_argument("--files", type=int, default=0, help="input files (default 4 per thread)")
    ap.add_argument("--work", help="keep the work folder here (default: a temporary folder, removed)")
    args = ap.parse_args(argv)
    if not os.path.isdir(SHARED):
        print(f"shared data not found at {SHARED}", file=sys.stderr)
        return 2
    mb = 5.0 if args.quick else args.mb
    from webtext.beam import local_cores

    threads = args.threads or local_cores()
    os.environ["RAYON_NUM_THREADS"] = str(threads)  # before tokenizers starts its thread pool
    sys.path.insert(0, REPO)
    from shard import tokenizer as T

    work = args.work or tempfile.mkdtemp(prefix="shard_speed_")
    try:
        docs = make_documents(mb)
        texts = [d["text"] for d in docs]
        print(f"{len(docs):,} documents, {sum(len(t.encode()) for t in texts) / 1e6:.1f} MB of English, "
              f"{threads} threads / Beam workers")

        train_seconds = None
        if args.tokenizer == "gpt2":
            gpt2_dir = os.path.join(SHARED, "gpt2_bpe", "openai_original")
            tok = T.for_encoding(T.load_gpt2(gpt2_dir))
            tok_cfg = {"kind": "gpt2", "gpt2_dir": gpt2_dir}
        else:
            tok, train_seconds = timed(lambda: T.for_encoding(T.train_bpe(texts, vocab_size=args.vocab)))
            os.makedirs(work, exist_ok=True)
            T.save(tok, work, "<|endoftext|>")
            tok_cfg = {"kind": "file", "file": os.path.join(work, "tokenizer.json")}
            print(f"trained a {args.vocab:,}-entry BPE on all {len(docs):,} documents in {train_seconds:.1f} s")

        batches = [texts[i:i + 512] for i in range(0, len(texts), 512)]
        bare, bare_s = timed(lambda: sum(len(e.ids) for b in batches for e in tok.encode_batch(b, add_special_tokens=False)))
        enc = tiktoken_gpt2(os.path.join(work, "tiktoken_cache"))
        tk, tk_s = timed(lambda: sum(len(ids) for ids in enc.encode_ordinary_batch(texts, num_threads=threads)))

        from webtext.config import config_from_dict
        from webtext.progress import Progress
        from webtext.runner import Runner

        write_dedupe(work, docs, files=args.files or 4 * threads)
        del docs
        cfg = config_from_dict({"run": {"work_dir": work},
                                "beam": {"runner": "direct", "workers": threads, "direct_running_mode": "multi_processing"},
                                "shard": {"tokenizer": tok_cfg, "val_fraction": 0.0005}}, base_dir=work)
        record, stage_s = timed(lambda: Runner(cfg, Progress(quiet=True)).run_stage("shard", force=True))
        stats = record["stats"]
        stage_tokens = sum(stats["tokens"].values()) - record["counts"]["out"]  # without the <|endoftext|>s

        rows = [("bare encode_batch loop (tokenizers)", bare, bare_s), (f"tiktoken gpt2, {threads} threads", tk, tk_s),
                (f"whole shard stage ({stats['encoder']['engine']})", stage_tokens, stage_s)]
        print(f"{'':44} {'tokens':>12} {'seconds':>9} {'tokens/s':>12}")
        for name, n, s in rows:
            print(f"{name:44} {n:12,} {s:9.2f} {n / s:12,.0f}")
        bare_rate, tk_rate, stage_rate = bare / bare_s, tk / tk_s, stage_tokens / stage_s
        print(f"stage / bare loop      {stage_rate / bare_rate:6.2f}   (target >= 0.8)")
        print(f"stage / tiktoken gpt2  {stage_rate / tk_rate:6.2f}")
        print(f"tiktoken / bare loop   {tk_rate / bare_rate:6.2f}")
        if args.tokenizer == "gpt2" and stage_tokens != tk:
            print(f"WARNING: the stage wrote {stage_tokens:,} document tokens, tiktoken counted {tk:,}")
        print(json.dumps({"documents": record["counts"]["out"], "megabytes": mb, "threads": threads,
                          "tokenizer": args.tokenizer, "train_seconds": train_seconds,
                          "bare_tokens_per_s": round(bare_rate), "tiktoken_tokens_per_s": round(tk_rate),
                          "stage_tokens_per_s": round(stage_rate), "stage_over_bare": round(stage_rate / bare_rate, 3),
                          "stage_over_tiktoken": round(stage_rate / tk_rate, 3),
                          "stage_pipeline_seconds": stats["pipeline_seconds"], "stage_seconds": round(stage_s, 2),
                          "stage_encode_seconds_all_workers": stats["encode_seconds"]}))
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
