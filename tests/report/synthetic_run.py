"""A realistic finished run, written as the stages would write it: _SUCCESS.json files that follow
docs/contracts.md (balanced counts, log2 histograms, top-k lists), train/log.jsonl, dedupe's
contamination.json and shard's manifest.json. Numbers are made up but consistent with each other
(each stage reads what the one before wrote), on the scale of a few tens of thousands of pages.
"""

from __future__ import annotations

import json
import math
import os
import random

from webtext.stats import log2_bucket

STAGES = ("crawl", "clean", "dedupe", "shard", "train")

HOSTS = ["www.nytimes.com", "www.theguardian.com", "imgur.com", "www.bbc.co.uk", "github.com", "www.reuters.com",
         "www.washingtonpost.com", "medium.com", "arstechnica.com", "www.cnn.com", "techcrunch.com",
         "news.bbc.co.uk", "www.npr.org", "www.wired.com", "foo.blogspot.com", "bar.wordpress.com",
         "www.theatlantic.com", "www.independent.co.uk", "www.nature.com", "phys.org", "www.vox.com",
         "smallblog.example.org", "my-homepage.net", "www.latimes.com", "www.telegraph.co.uk", "www.ft.com",
         "www.economist.com", "www.huffingtonpost.com", "www.dailymail.co.uk", "www.bloomberg.com"]
SUBREDDITS = ["worldnews", "news", "politics", "technology", "science", "programming", "todayilearned",
              "business", "environment", "economics", "space", "Futurology", "history", "books", "movies",
              "gaming", "askscience", "linux", "MachineLearning", "reddit.com"]


def _zipf(names, total, s=1.05):
    weights = [1 / (i + 1) ** s for i in range(len(names))]
    norm = sum(weights)
    counts = [int(total * w / norm) for w in weights]
    counts[0] += total - sum(counts)
    return dict(zip(names, counts))


def _log_normal_hist(rng, n, mu, sigma, floor=1):
    hist = {}
    for _ in range(n):
        v = max(floor, int(math.exp(rng.gauss(mu, sigma))))
        b = log2_bucket(v)
        hist[b] = hist.get(b, 0) + 1
    return hist


def _split_total(rng, total, keys, weights):
    out, left = {}, total
    norm = sum(weights)
    for k, w in zip(keys[:-1], weights[:-1]):
        out[k] = int(total * w / norm)
        left -= out[k]
    out[keys[-1]] = left
    return out


def stage_records(seed: int = 0, config: dict | None = None) -> dict:
    """{stage: _SUCCESS.json record} for a consistent five-stage run."""
    rng = random.Random(seed)
    config = config or {}

    # crawl: 120k submissions -> 48k kept -> 41k links -> 35k pages
    sub_dropped = {"score_below_min": 60500, "self_post": 9800, "nsfw": 1200, "blocked_domain": 287}
    kept = 48213
    read = kept + sum(sub_dropped.values())
    links = 41020
    failures = {"http_404": 2100, "timeout": 1200, "robots_txt": 800, "not_html": 1300, "dns_error": 310,
                "too_large": 100, "http_5xx": 100}
    pages = links - sum(failures.values())
    crawl_stats = {
        "submissions": {"read": read, "bad_lines": 0, "kept": kept, "dropped": sub_dropped},
        "links": links,
        "fetch": {"status": {"200": pages + 1300 + 100, "404": 2100, "403": 420, "410": 35, "500": 80, "503": 20},
                  "failures": failures, "bytes": pages * 61_250},
        "domains": _zipf(HOSTS, pages),
        "link_domains": _zipf(HOSTS, links),
        "scores": {k: v for k, v in _log_normal_hist(rng, links, 3.0, 1.4, floor=3).items()},
        "subreddits": _zipf(SUBREDDITS, links, 0.9),
        "created_month": {},
    }
    months = [(y, m) for y in range(2005, 2018) for m in range(1, 13) if (y, m) >= (2005, 6) and (y, m) <= (2017, 10)]
    growth = [math.exp(i / 30) for i in range(len(months))]
    crawl_stats["created_month"] = _split_total(rng, links, [f"{y}-{m:02d}" for y, m in months], growth)

    # clean: pages -> documents
    # as clean writes them (clean/stage.py FILTER_REASONS): every text filter, 0 for those that dropped nothing
    filters = {"wikipedia": 310, "blocked_host": 0, "lang": 3100, "too_short": 4200, "too_long": 0,
               "mean_word_length": 90, "symbol_ratio": 380, "bullet_lines": 520, "ellipsis_lines": 75,
               "alpha_words": 140, "stop_words": 418, "dup_lines": 610, "dup_line_chars": 120, "dup_paragraphs": 0,
               "dup_paragraph_chars": 35, "top_ngram": 210, "dup_ngrams": 330}
    clean_dropped = {"extract_failed": 1900, "extract_timeout": 40, "too_large": 12,
                     **{k: v for k, v in filters.items() if v}}
    docs = pages - sum(clean_dropped.values())
    extracted = pages - 1900 - 40 - 12
    clean_stats = {
        "languages": _split_total(rng, extracted, ["en", "de", "fr", "es", "it", "pt", "ru", "ja", "zh", "nl", "und"],
                                  [900, 28, 20, 16, 8, 6, 5, 4, 4, 3, 6]),
        "chars": _log_normal_hist(rng, docs, 8.3, 0.9, floor=200),
        "words": _log_normal_hist(rng, docs, 6.6, 0.9, floor=40),
        "bytes_in": crawl_stats["fetch"]["bytes"],
        "chars_out": docs * 4_310,
        "domains": _zipf(HOSTS[:-3], docs),
        "filters": filters,
    }

    # dedupe
    dd_dropped = {"exact_duplicate_of": 820, "near_duplicate_of": 1180, "contaminated": 90}
    unique = docs - sum(dd_dropped.values())
    contamination = {
        "lambada": {"ngram": 13, "overlap_before": 0.0123, "overlap_after": 0.0004, "docs_removed": 41, "docs_cut": 12},
        "wikitext2": {"ngram": 13, "overlap_before": 0.0312, "overlap_after": 0.0011, "docs_removed": 30, "docs_cut": 9},
        "wikitext103": {"ngram": 13, "overlap_before": 0.0290, "overlap_after": 0.0010, "docs_removed": 12, "docs_cut": 4},
        "ptb": {"ngram": 13, "overlap_before": 0.0051, "overlap_after": 0.0002, "docs_removed": 7, "docs_cut": 2},
    }
    dedupe_stats = {
        "exact_duplicates": 820, "near_duplicates": 1180,
        "cluster_sizes": {"2": 700, "3": 120, "4": 40, "5": 12, "8": 3, "31": 1},
        "duplicate_rate": (820 + 1180) / docs,
        "contamination": contamination,
        "chars": _log_normal_hist(rng, unique, 8.35, 0.85, floor=200),
        "chars_in": clean_stats["chars_out"],
        "chars_out": unique * 4_350,
    }

    # shard
    val_docs = unique // 100
    train_tokens, val_tokens = unique * 1_010 - 5_000, val_docs * 1_010
    shard_size = 10_000_000
    shards = []
    left, i = train_tokens, 0
    while left > 0:
        n = min(shard_size, left)
        shards.append({"name": f"train_{i:06d}.bin", "split": "train", "tokens": n,
                       "documents": round((unique - val_docs) * n / train_tokens)})
        left -= n
        i += 1
    shards.append({"name": "val_000000.bin", "split": "val", "tokens": val_tokens, "documents": val_docs})
    shard_stats = {
        "tokens": {"train": train_tokens, "val": val_tokens},
        "documents": {"train": unique - val_docs, "val": val_docs},
        "shards": shards,
        "doc_tokens": _log_normal_hist(rng, unique, 6.7, 0.9, floor=20),
        "vocab_size": 50257,
        "tokenizer": {"kind": "gpt2", "sha256": "a9b6c1d0" * 8},
    }

    steps, batch_tokens = 2000, 65536
    train_stats = {"final_loss": 3.412, "final_val_loss": 3.521, "steps": steps, "tokens": steps * batch_tokens,
                   "params": 124_439_808, "tokens_per_s": 151_800.0}

    counts = {
        "crawl": {"in": links, "out": pages, "dropped": failures},
        "clean": {"in": pages, "out": docs, "dropped": clean_dropped},
        "dedupe": {"in": docs, "out": unique, "dropped": dd_dropped},
        "shard": {"in": unique, "out": unique, "dropped": {}},
        "train": {"in": train_tokens, "out": steps * batch_tokens, "dropped": {}},
    }
    stats = {"crawl": crawl_stats, "clean": clean_stats, "dedupe": dedupe_stats, "shard": shard_stats,
             "train": train_stats}
    records, previous = {}, None
    for n, stage in enumerate(STAGES):
        rec = {
            "stage": stage, "fingerprint": f"{stage[:2]}{n}" + "f00d" * 4, "run_id": f"{stage[:3]}{n:09d}",
            "webtext_version": "0.1.0", "started_at": f"2024-05-0{n + 1}T10:00:00+00:00",
            "finished_at": f"2024-05-0{n + 1}T11:30:00+00:00", "seconds": 5400.0 + n,
            "counts": counts[stage], "stats": stats[stage], "config": config.get(stage, {}),
            "upstream": {previous: f"{records[previous]['fingerprint']}/{records[previous]['run_id']}"} if previous else {},
            "options": {},
        }
        records[stage] = rec
        previous = stage
    return records


def train_log_lines(steps: int = 2000, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    lines = []
    warmup, max_lr = 200, 6e-4
    for step in range(1, steps + 1):
        lr = max_lr * step / warmup if step < warmup else \
            0.1 * max_lr + 0.45 * max_lr * (1 + math.cos(math.pi * (step - warmup) / (steps - warmup)))
        loss = 3.3 + 7.7 * math.exp(-step / 260) + rng.gauss(0, 0.05)
        lines.append({"step": step, "tokens": step * 65536, "loss": round(loss, 4), "lr": lr,
                      "grad_norm": round(0.4 + 2.5 * math.exp(-step / 150) + abs(rng.gauss(0, 0.1)), 4),
                      "tokens_per_s": round(150_000 + rng.gauss(0, 4000)), "mfu": 0.41, "time": 0.43})
        if step % 250 == 0 or step == steps:
            line = {"step": step, "tokens": step * 65536, "val_loss": round(3.4 + 7.6 * math.exp(-step / 260), 4)}
            if step == steps:
                line["sample"] = "The city council met on Tuesday to discuss the new budget, which"
            lines.append(line)
    return lines


def write_run(work_dir: str, stages=STAGES, config: dict | None = None, seed: int = 0, log_steps: int = 2000) -> dict:
    """Write finished stage folders for `stages` under work_dir; returns the records written."""
    records = stage_records(seed, config)
    for stage in stages:
        folder = os.path.join(work_dir, stage)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "_SUCCESS.json"), "w") as f:
            json.dump(records[stage], f, indent=1)
        if stage == "dedupe":
            with open(os.path.join(folder, "contamination.json"), "w") as f:
                json.dump(records[stage]["stats"]["contamination"], f)
        if stage == "shard":
            with open(os.path.join(folder, "manifest.json"), "w") as f:
                json.dump({"shards": records[stage]["stats"]["shards"]}, f)
        if stage == "train":
            with open(os.path.join(folder, "log.jsonl"), "w") as f:
                for line in train_log_lines(log_steps, seed):
                    f.write(json.dumps(line) + "\n")
    return records


def write_gpt2_domains(path: str) -> str:
    """A short list in the format of openai/gpt-2's domains.txt (for tests without ../shared/data)."""
    rows = [(1542261, "google"), (596207, "archive"), (456344, "blogspot"), (414695, "github"), (333160, "nytimes"),
            (321622, "wordpress"), (315368, "washingtonpost"), (311917, "bbc"), (246303, "theguardian"),
            (199360, "cnn"), (183592, "reuters"), (125615, "medium")]
    with open(path, "w") as f:
        f.writelines(f"{n} {d}\n" for n, d in rows)
    return path
