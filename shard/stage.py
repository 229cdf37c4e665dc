"""The shard stage as the runner sees it: tokenizer, Beam tokenization, manifest.

1. The tokenizer: trained on a deterministic sample of the documents (kind train), GPT-2's files or a
   tokenizer.json; saved as tokenizer.json (+ tokenizer_config.json) in the output folder.
2. The encoder: tiktoken when the tokenizer converts to tiktoken ranks and both give the same ids on
   the first documents of the input (encoder: auto), else `tokenizers`.
3. The Beam pipeline (shard.pipeline) writes the shards, their indexes and rejects/.
4. manifest.json lists it all with hashes; the folder is verified against it before the stage ends.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time

from shard import manifest as manifest_mod
from shard import tokenizer as tokenizer_mod
from shard.pack import SPLITS
from webtext import jsonl
from webtext.errors import WebtextError
from webtext.runner import StageContext, StageResult
from webtext.stats import funnel_counts

INPUTS = ("dedupe",)
RESUMABLE = False

TOKENS_PER_BUCKET = 4_000_000  # target size of one sorted part (see shard.pack)
TOKENS_PER_COMPRESSED_BYTE = 0.8  # zstd'd English JSON lines -> GPT-2 tokens, for sizing parts only


def bucket_bits_for(files: list[str]) -> int:
    """Key bits that split the corpus into parts of about TOKENS_PER_BUCKET tokens (0..16). Only
    memory and parallelism depend on it: the shards' bytes do not."""
    size = sum(os.path.getsize(f) for f in files if os.path.exists(f))
    estimate = size * TOKENS_PER_COMPRESSED_BYTE
    return max(0, min(16, math.ceil(math.log2(max(1.0, estimate / TOKENS_PER_BUCKET)))))


def encode_threads(ctx: StageContext) -> int:
    """Encoding threads per Beam worker: the cores left to each worker on this machine."""
    if ctx.cfg.encode_threads:
        return ctx.cfg.encode_threads
    from webtext.beam import local_cores

    beam_cfg = ctx.config.beam
    if beam_cfg.runner != "direct":
        return 1
    cores = local_cores()
    if beam_cfg.direct_running_mode == "in_memory":
        return cores
    return max(1, cores // (beam_cfg.workers or cores))


def choose_engine(requested: str, tokenizer_json: str, eot_token: str, eot_id: int, texts: list[str]) -> dict:
    """Which library encodes, and the evidence: tiktoken only with ids proven identical on `texts`."""
    if requested == "tokenizers":
        return {"engine": "tokenizers", "reason": "shard.encoder: tokenizers"}
    from shard.tiktoken_bridge import NotConvertible, build_encoding, first_difference

    try:
        enc = build_encoding(tokenizer_json, eot_token, eot_id)
    except NotConvertible as e:
        if requested == "tiktoken":
            raise WebtextError(f"shard.encoder: tiktoken, but the tokenizer cannot be expressed as tiktoken "
                               f"ranks: {e}. Use encoder: auto or tokenizers.") from None
        return {"engine": "tokenizers", "reason": f"not expressible as tiktoken ranks: {e}"}
    tok = tokenizer_mod.for_encoding(tokenizer_mod.from_json(tokenizer_json))
    diff = first_difference(tok, enc, texts)
    if diff is not None:
        message = f"tiktoken and tokenizers differ on check document {diff[0]} at token {diff[1]}"
        if requested == "tiktoken":
            raise WebtextError(f"shard.encoder: tiktoken, but {message}. Use encoder: auto or tokenizers.")
        return {"engine": "tokenizers", "reason": message}
    return {"engine": "tiktoken", "reason": "identical ids on the check documents",
            "checked_documents": len(texts), "checked_chars": sum(len(t) for t in texts)}


def _make_tokenizer(ctx: StageContext, files: list[str], upstream: str):
    tcfg = ctx.cfg.tokenizer
    info = {"kind": tcfg.kind}
    started = time.time()
    if tcfg.kind == "train":
        from shard.sample import Sample

        sample = Sample(files, upstream, ctx.config.run.seed, tcfg.sample_docs)
        ctx.log(f"training a byte-level BPE of {tcfg.vocab_size:,} entries on "
                f"{'every document' if sample.limit is None else f'a sample of {tcfg.sample_docs:,} documents'}")
        tok = tokenizer_mod.load_configured(tcfg, sample)
        info["sample"] = {**sample.describe(), "sample_docs": tcfg.sample_docs, "seed": ctx.config.run.seed,
                          "min_frequency": tcfg.min_frequency, "vocab_size_asked": tcfg.vocab_size}
    else:
        tok = tokenizer_mod.load_configured(tcfg)
        info["source"] = tcfg.gpt2_dir if tcfg.kind == "gpt2" else tcfg.file
    info["seconds"] = round(time.time() - started, 3)
    return tok, info


def run(ctx: StageContext) -> StageResult:
    cfg = ctx.cfg
    upstream = ctx.inputs["dedupe"]
    files = jsonl.list_files(os.path.join(upstream, "docs"))
    if not files:
        raise WebtextError(f"{os.path.join(upstream, 'docs')}: no *.jsonl.zst documents to tokenize")
    out_dir = ctx.out_dir
    tmp_dir = os.path.join(out_dir, "_tmp")
    shutil.rmtree(tmp_dir, ignore_errors=True)

    # 1. The tokenizer, saved; workers encode with exactly the saved text.
    tok, tok_info = _make_tokenizer(ctx, files, upstream)
    eot = cfg.tokenizer.eot_token
    _, tok_sha = tokenizer_mod.save(tok, out_dir, eot)
    with open(os.path.join(out_dir, "tokenizer.json"), encoding="utf-8") as f:
        tok_json = f.read()
    desc = tokenizer_mod.describe(tok, eot)
    if tok_info["kind"] == "train" and desc["vocab_size"] < cfg.tokenizer.vocab_size:
        ctx.log(f"the sample supports only {desc['vocab_size']:,} of the {cfg.tokenizer.vocab_size:,} entries asked "
                f"(too few distinct pairs occur {cfg.tokenizer.min_frequency}+ times)")
    # (no timings in the manifest: its bytes depend only on the input and the config)
    tokenizer_entry = {"file": "tokenizer.json", "sha256": tok_sha, **desc,
                       **{k: v for k, v in tok_info.items() if k != "seconds"}}

    # 2. The encoder.
    from shard.sample import texts_for_check

    engine = choose_engine(cfg.encoder, tok_json, eot, desc["eot_id"], texts_for_check(files))
    ctx.log(f"encoding with {engine['engine']} ({engine['reason']})")
    from shard.encode import DocEncoder

    threads = encode_threads(ctx)
    encoder = DocEncoder(path=os.path.join(out_dir, "tokenizer.json"), engine=engine["engine"], eot_token=eot,
                         eot_id=desc["eot_id"], chunk_chars=cfg.chunk_chars, threads=threads,
                         verify_fraction=cfg.verify_fraction)
    engine["verify_fraction"] = cfg.verify_fraction if engine["engine"] == "tiktoken" else 0.0

    # 3. The pipeline.
    from shard import pipeline
    from webtext.beam import run_pipeline

    bits = bucket_bits_for(files)
    started = time.time()
    try:
        run_pipeline(lambda p: pipeline.build(
            p, files=files, root=upstream, encoder=encoder, seed=ctx.config.run.seed, val_fraction=cfg.val_fraction,
            bucket_bits=bits, batch_docs=cfg.batch_docs, shard_tokens=cfg.shard_tokens, out_dir=out_dir,
            tmp_dir=tmp_dir), ctx.beam_options())
    except Exception as e:  # noqa: BLE001 - workers' errors arrive wrapped by the runner
        user_error = _user_error(e)
        if user_error:
            raise WebtextError(f"shard: {user_error}") from e
        raise
    seconds = time.time() - started

    # 4. Manifest, checked against what the pipeline counted, then the whole folder verified.
    stats = jsonl.read_json(os.path.join(tmp_dir, "stats.json"))
    info_dir = os.path.join(tmp_dir, "info")
    shards = [jsonl.read_json(os.path.join(info_dir, n)) for n in sorted(os.listdir(info_dir))] \
        if os.path.isdir(info_dir) else []
    final_dir = os.path.join(ctx.work_dir, "shard")
    inputs = {"stage": "dedupe", "dir": os.path.relpath(upstream, final_dir),
              "files": [os.path.relpath(f, upstream) for f in files], "upstream": _upstream_id(upstream)}
    manifest = manifest_mod.build(shards=shards, tokenizer=tokenizer_entry, shard_tokens=cfg.shard_tokens,
                                  val_fraction=cfg.val_fraction, seed=ctx.config.run.seed, inputs=inputs,
                                  documents_in=stats.get("records", 0))
    manifest["encoder"] = engine  # how the ids were made; nothing here depends on the runner or threads
    for split in SPLITS:
        want = (stats.get("tokens", {}).get(split, 0), stats.get("documents", {}).get(split, 0))
        got = (manifest["splits"][split]["tokens"], manifest["splits"][split]["documents"])
        if want != got:
            raise WebtextError(f"shard: the {split} shards hold {got[0]} tokens / {got[1]} documents, but "
                               f"{want[0]} / {want[1]} were encoded")
    manifest_mod.write(out_dir, manifest)
    shutil.rmtree(tmp_dir, ignore_errors=True)
    problems, _ = manifest_mod.verify(out_dir, hashes=False)  # sha256s were taken while writing
    if problems:
        raise WebtextError("shard: the written folder fails verification:\n  " + "\n  ".join(problems))

    total_tokens = sum(manifest["splits"][s]["tokens"] for s in SPLITS)
    out_docs = sum(manifest["splits"][s]["documents"] for s in SPLITS)
    if manifest["splits"]["val"]["documents"] == 0:
        ctx.log(f"no document fell in the validation split (val_fraction {cfg.val_fraction})")
    ctx.log(f"{out_docs:,} documents, {total_tokens:,} tokens in {len(shards)} shards "
            f"({total_tokens / max(seconds, 1e-9):,.0f} tokens/s)")
    counts = funnel_counts(stats.get("records", 0), out_docs, stats.get("dropped", {}))
    result_stats = {
        "tokens": {s: manifest["splits"][s]["tokens"] for s in SPLITS},
        "documents": {s: manifest["splits"][s]["documents"] for s in SPLITS},
        "shards": [{k: s[k] for k in ("name", "split", "tokens", "documents")} for s in manifest["shards"]],
        "doc_tokens": stats.get("doc_tokens", {}),
        "max_doc_tokens": stats.get("max_doc_tokens", 0),
        "vocab_size": desc["vocab_size"],
        "tokenizer": {"kind": tok_info["kind"], "sha256": tok_sha, "eot_id": desc["eot_id"],
                      "seconds": tok_info["seconds"], **({"sample": tok_info["sample"]} if "sample" in tok_info else {})},
        "encoder": {**engine, "threads_per_worker": threads},
        "chars": stats.get("chars", 0),
        "repaired": {"utf8": stats.get("repaired_utf8", 0), "surrogates": stats.get("repaired_surrogates", 0)},
        "pipeline_seconds": round(seconds, 3),
        "tokens_per_s": round(total_tokens / max(seconds, 1e-9)),
        "encode_seconds": stats.get("encode_seconds", 0.0),
    }
    return StageResult(counts=counts, stats=result_stats)


def _user_error(exc: BaseException):
    """The message of a webtext error raised in a Beam worker (an unreadable input file, an encoder
    mismatch), which the runner hands back wrapped in its own exception; None for anything else."""
    import re

    text = str(exc)
    m = re.search(r"(?:InputError|EncoderMismatch|WebtextError): (.+?)(?: \[while running '[^']*'\])?$", text, re.M)
    return m.group(1) if m else None


def _upstream_id(upstream: str):
    try:
        with open(os.path.join(upstream, "_SUCCESS.json"), encoding="utf-8") as f:
            success = json.load(f)
        return f"{success.get('fingerprint')}/{success.get('run_id')}"
    except (OSError, ValueError):
        return None
