"""The clean stage as the runner sees it: crawl's WARC files -> docs/ and rejects/ (see README.md)."""

from __future__ import annotations

import json
import math
import os

from webtext import stats as statslib
from webtext.errors import InputError, WebtextError
from webtext.runner import StageContext, StageResult

INPUTS = ("crawl",)
RESUMABLE = False

# One output shard (of docs and of rejects) per this many bytes of WARC input, when num_shards is 0.
BYTES_PER_SHARD = 2 << 30
TOP_DOMAINS = 1000
# Reasons that are filters on the extracted text (the rest are about the response itself).
FILTER_REASONS = ("wikipedia", "blocked_host", "lang", "too_short", "too_long", "mean_word_length", "symbol_ratio",
                  "bullet_lines", "ellipsis_lines", "alpha_words", "stop_words", "dup_lines", "dup_line_chars",
                  "dup_paragraphs", "dup_paragraph_chars", "top_ngram", "dup_ngrams")


def num_shards(cfg, total_bytes: int) -> int:
    return cfg.num_shards or max(1, math.ceil(total_bytes / BYTES_PER_SHARD))


def summarize(raw: dict) -> tuple[dict, dict]:
    """The merged pipeline statistics -> (counts, stats) for _SUCCESS.json."""
    dropped = dict(sorted(raw.get("dropped", {}).items()))
    counts = statslib.funnel_counts(raw.get("pages", 0), raw.get("docs", 0), dropped)
    if counts["in"] != counts["out"] + sum(dropped.values()):
        raise WebtextError(f"clean: {counts['in']} records read but {counts['out']} documents and "
                           f"{sum(dropped.values())} rejects written; records were lost")
    domains = dict(statslib.top_k(raw.get("domains", {}), TOP_DOMAINS))
    stats = {
        "languages": dict(sorted(raw.get("languages", {}).items(), key=lambda kv: (-kv[1], kv[0]))),
        "chars": dict(statslib.sorted_histogram(raw.get("chars", {}))),
        "words": dict(statslib.sorted_histogram(raw.get("words", {}))),
        "bytes_in": raw.get("bytes_in", 0),
        "chars_out": raw.get("chars_out", 0),
        "domains": domains,
        "filters": {r: dropped.get(r, 0) for r in FILTER_REASONS},  # every filter, 0 if it dropped nothing
        "files": raw.get("files", {}),
        "damaged_files": raw.get("damaged_files", {}),
        "warc_records": dict(sorted(raw.get("warc_records", {}).items())),
        "http_status": dict(sorted(raw.get("http_status", {}).items())),
        "extraction": dict(sorted(raw.get("extraction", {}).items())),
        "encodings": dict(sorted(raw.get("encodings", {}).items())),
        "boilerplate_lines": dict(sorted(raw.get("boilerplate_lines", {}).items())),
        "link_header_errors": raw.get("link_header_errors", 0),
    }
    return counts, stats


def run(ctx: StageContext) -> StageResult:
    from webtext.beam import run_pipeline

    from clean.pipeline import CleanWarcs, list_warcs, total_bytes

    cfg = ctx.cfg
    warc_dir = os.path.join(ctx.inputs["crawl"], "warc")
    if "://" not in warc_dir and not os.path.isdir(warc_dir):
        raise InputError(f"{warc_dir}: folder not found (the crawl stage writes its WARC files there)")
    files = list_warcs(warc_dir)
    shards = num_shards(cfg, total_bytes(files))
    ctx.log(f"{len(files)} WARC files -> {shards} shards of docs and rejects")
    stats_path = os.path.join(ctx.out_dir, "_pipeline_stats.json")
    run_pipeline(lambda p: p | CleanWarcs(cfg, files, ctx.out_dir, shards, stats_path), ctx.beam_options())
    with open(stats_path, encoding="utf-8") as f:
        raw = json.load(f)
    os.remove(stats_path)
    counts, stats = summarize(raw)
    damaged = stats["files"].get("damaged", 0) + stats["files"].get("empty", 0)
    if damaged:
        ctx.log(f"{damaged} WARC files empty or damaged (kept what could be read): see stats.damaged_files")
    ctx.log(f"{counts['in']} responses -> {counts['out']} documents")
    return StageResult(counts=counts, stats=stats)
