"""The dedupe stage as the runner sees it: resolve the settings, run the Beam pipeline, report.

Reads `<clean>/docs/*.jsonl.zst`; writes `docs/`, `rejects/`, `clusters/` and `contamination.json`
(docs/contracts.md). The statistics are integer counters merged by Beam; ratios are computed here,
after the pipeline, so the output does not depend on the order workers finished in.
"""

from __future__ import annotations

import os
import re

from webtext import jsonl
from webtext.beam import run_pipeline
from webtext.errors import InputError, WebtextError
from webtext.runner import StageContext, StageResult
from webtext.stats import bucket_sort_key, funnel_counts

from dedupe import minhash
from dedupe.pipeline import Settings, build

INPUTS = ("clean",)
RESUMABLE = False


def settings(ctx: StageContext) -> Settings:
    cfg = ctx.cfg
    docs_dir = os.path.join(ctx.inputs["clean"], "docs")
    files = jsonl.list_files(docs_dir)
    if not files:
        raise InputError(f"{docs_dir}: no document files (*.jsonl.zst) from the clean stage")
    if cfg.bands is not None:
        bands, rows = cfg.bands, cfg.rows
    else:
        bands, rows = minhash.lsh_params(cfg.lsh_threshold, cfg.num_perm, cfg.lsh_false_negative_weight)
    d = cfg.decontamination
    s = Settings(
        files=files, out_dir=ctx.out_dir, threshold=cfg.threshold, shingle_size=cfg.shingle_size,
        num_perm=cfg.num_perm, seed=ctx.config.run.seed, bands=bands, rows=rows,
        margin=minhash.uncertainty_margin(cfg.threshold, cfg.num_perm, cfg.exact_check_sigmas),
        component_rounds=cfg.component_rounds, doc_shards=cfg.doc_shards, reject_shards=cfg.reject_shards,
        cluster_shards=cfg.cluster_shards, removal_ngram=d.removal_ngram, overlap_ngram=d.overlap_ngram,
        cut_chars=d.cut_chars, min_piece_chars=d.min_piece_chars, max_pieces=d.max_pieces,
        max_doc_frequency=d.max_doc_frequency)
    if d.benchmarks:
        from dedupe import contamination as contam

        s.benchmarks = contam.specs_from_config(d.benchmarks)
        s.index_plan = contam.plan_index(s.benchmarks, (d.removal_ngram, d.overlap_ngram), d.max_exact_ngrams,
                                         d.bloom_false_positive_rate)
    return s


_INPUT_ERROR = re.compile(r"InputError: (.+?)(?: \[while running|\n|$)")


def _run_beam(ctx: StageContext, s: Settings) -> None:
    try:
        run_pipeline(lambda p: build(p, s), ctx.beam_options())
    except WebtextError:
        raise
    except Exception as e:  # noqa: BLE001 - a worker's InputError comes back wrapped by the runner
        found = _INPUT_ERROR.search(str(e))
        if found:
            raise InputError(found.group(1)) from None
        raise


def run(ctx: StageContext) -> StageResult:
    s = settings(ctx)
    p_at = minhash.candidate_probability(s.threshold, s.bands, s.rows)
    ctx.log(f"{len(s.files)} files; MinHash {s.num_perm} permutations, LSH {s.bands} bands x {s.rows} rows "
            f"(a pair at Jaccard {s.threshold} is a candidate with probability {p_at:.3f}); exact Jaccard "
            f"checked for estimates within {s.margin:.3f} of the threshold")
    if s.benchmarks:
        ctx.log(f"decontaminating against {', '.join(b.name for b in s.benchmarks)} "
                f"({s.index_plan.mode} n-gram index)")
    _run_beam(ctx, s)
    raw = jsonl.read_json(s.stats_path)
    os.remove(s.stats_path)
    counts, stats, contamination = summarize(raw, s)
    jsonl.write_json(os.path.join(ctx.out_dir, "contamination.json"), contamination)
    return StageResult(counts=counts, stats=stats)


def _ratio(a: int, b: int) -> float:
    return round(a / b, 6) if b else 0.0


def summarize(raw: dict, s: Settings) -> tuple[dict, dict, dict]:
    """The pipeline's merged counters -> (counts, stats, contamination.json)."""
    n_in, n_out = raw.get("in", 0), raw.get("out", 0)
    dropped = dict(raw.get("dropped", {}))
    if n_out + sum(dropped.values()) != n_in:
        raise WebtextError(f"dedupe lost records: {n_in} in, {n_out} out, dropped {dropped}")
    counts = funnel_counts(n_in, n_out, dropped)
    exact, near = dropped.get("exact_duplicate_of", 0), dropped.get("near_duplicate_of", 0)
    cand = raw.get("candidates", {})
    stats = {
        "exact_duplicates": exact,
        "near_duplicates": near,
        "duplicate_ids": dropped.get("duplicate_id", 0),
        "duplicate_rate": _ratio(exact + near, n_in),
        "clusters": raw.get("clusters", 0),
        "cluster_sizes": dict(sorted(raw.get("cluster_sizes", {}).items(), key=lambda kv: int(kv[0]))),
        "chars": dict(sorted(raw.get("chars", {}).items(), key=lambda kv: bucket_sort_key(kv[0]))),
        "chars_in": raw.get("chars_in", 0),
        "chars_out": raw.get("chars_out", 0),
        "empty_docs": raw.get("empty_docs", 0),
        "short_docs": raw.get("short_docs", 0),
        "max_doc_chars": raw.get("max_doc_chars", 0),
        "max_exact_group": raw.get("max_exact_group", 0),
        "minhash": {"num_perm": s.num_perm, "shingle_size": s.shingle_size, "threshold": s.threshold,
                    "bands": s.bands, "rows": s.rows,
                    "candidate_probability_at_threshold": round(minhash.candidate_probability(s.threshold, s.bands, s.rows), 6),
                    "exact_check_margin": round(s.margin, 6)},
        "lsh": {"shared_buckets": raw.get("lsh", {}).get("shared_buckets", 0),
                "max_bucket": raw.get("lsh", {}).get("max_bucket", 0)},
        "candidates": {k: cand.get(k, 0) for k in ("accepted_by_estimate", "rejected_by_estimate", "exact_checks",
                                                    "confirmed_by_exact", "rejected_by_exact")},
        "components": {"nodes": raw.get("components", {}).get("nodes", 0),
                       "rounds": s.component_rounds,
                       "residue_edges": raw.get("components", {}).get("residue_edges", 0)},
    }
    contamination = {"benchmarks": {}, "documents_scanned": n_in - exact - near - dropped.get("duplicate_id", 0)}
    stats["contamination"] = {}
    if s.benchmarks:
        found = raw.get("contamination", {})
        index = raw.get("index", {})
        contamination.update({
            "overlap_ngram": s.overlap_ngram, "removal_ngram": s.removal_ngram,
            "rules": {"cut_chars": s.cut_chars, "min_piece_chars": s.min_piece_chars, "max_pieces": s.max_pieces,
                      "max_doc_frequency": s.max_doc_frequency},
            "frequent_ngrams_ignored": raw.get("frequent_ngrams_ignored", 0),
            "index": {"mode": index.get("mode"), "bytes": index.get("bytes", 0),
                      "false_positive_rate": s.index_plan.fp_rate if s.index_plan.mode == "bloom" else 0.0},
        })
        for b in s.benchmarks:
            f = found.get(b.name, {})
            total = f.get("benchmark_ngrams", 0)
            entry = {
                "path": b.path, "format": b.format,
                "ngram": s.overlap_ngram, "benchmark_ngrams": total,
                "found_before": f.get("found_before", 0), "found_after": f.get("found_after", 0),
                "overlap_before": _ratio(f.get("found_before", 0), total),
                "overlap_after": _ratio(f.get("found_after", 0), total),
                "removal_ngram": s.removal_ngram, "benchmark_removal_ngrams": f.get("benchmark_removal_ngrams", 0),
                "docs_removed": f.get("docs_removed", 0), "docs_cut": f.get("docs_cut", 0),
                "chars_removed": f.get("chars_removed", 0),
            }
            contamination["benchmarks"][b.name] = entry
            stats["contamination"][b.name] = {k: entry[k] for k in ("ngram", "overlap_before", "overlap_after",
                                                                    "docs_removed", "docs_cut")}
    else:
        contamination["note"] = "no benchmarks configured (dedupe.decontamination.benchmarks): nothing checked"
    return counts, stats, contamination
