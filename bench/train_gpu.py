#!/usr/bin/env python3
"""GPT-2 124M training throughput on one GPU: the trainer's own step, and variants of it, timed.

    python bench/train_gpu.py --out results.json            # on an H200: ~7 minutes, all it can fit
    python bench/train_gpu.py --quick --out /tmp/q.json     # on a CPU: a tiny model, seconds

What is timed is the trainer's step (train/engine.py: train_step, AdamW, the one sync per step) on its
own loader (train/data.py) reading generated llm.c shards: GPT-2 124M, context 1024, micro-batch 32,
gradient accumulation 4 (as the nanoGPT figure below), bf16 autocast, torch.compile. For each variant:
warm-up steps (compilation, autotuning, CUDA-graph capture) are excluded; then --steps optimiser steps
are timed between two device syncs. Reported: tokens/s, MFU = tokens/s x training FLOPs per token /
the bf16 matmul rate measured at the start of the same run, and peak memory of the timed steps.

Each variant runs in a process of its own with a time limit, so one that crashes, hangs or poisons the
CUDA context cannot lose the others; variants that would not fit in --budget-s are skipped and said so.
Results are printed as a table and written to --out after every variant.

Variants (first = the trainer's defaults on GPU; set the winning one's keys in pipeline.yaml's train:):
  trainer-default     compile (default mode), PyTorch's SDPA choice (flash), vocab padded to 50,304, fused AdamW
  eager               no torch.compile: the baseline the compiled variants are measured against
  cudnn-attention     attention: cudnn (cuDNN's fused attention instead of flash attention 2)
  reduce-overhead     compile_mode: reduce-overhead (CUDA graphs)
  chunked-loss        loss_impl: chunked (lm_head + cross-entropy in chunks, no full logits)
  max-autotune        compile_mode: max-autotune-no-cudagraphs (Triton matmul autotuning; long compile)
  no-vocab-pad        pad_vocab_multiple: 1 (vocabulary 50,257: odd-sized matmuls)
  coordinate-descent  compile_options: {coordinate_descent_tuning: true} (tunes Triton kernels; longer compile)
  combined            then, if two or more of the above beat trainer-default by > 1%: their settings together

For comparison, measured by others on the same H200 (not by this script): nanoGPT's train.py at
micro-batch 32 x accumulation 4 ran 522,000 tokens/s (about 56% of a measured 798 TFLOP/s);
Hugging Face's GPT2LMHeadModel (sdpa, bf16, fused AdamW) 155,000 eager and 362,000 compiled.

Needs only torch and numpy (plus this repository's train/, shard/reader.py and webtext's stdlib-only
modules, found relative to this file).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from typing import Optional

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

REFERENCE = {"nanogpt_train_py_tokens_per_s": 522_000, "hf_gpt2_compiled_tokens_per_s": 362_000,
             "hf_gpt2_eager_tokens_per_s": 155_000, "note": "measured by others on the same H200, not in this run"}

# name -> (settings over the trainer's defaults, description). Order = priority when time runs short.
VARIANTS = {
    "trainer-default": ({}, "the trainer's GPU defaults"),
    "eager": ({"compile": False}, "no torch.compile"),
    "cudnn-attention": ({"attention": "cudnn", "cuda_only": True}, "attention: cudnn"),
    "reduce-overhead": ({"compile_mode": "reduce-overhead", "cuda_only": True}, "compile_mode: reduce-overhead (CUDA graphs)"),
    "chunked-loss": ({"loss_impl": "chunked"}, "loss_impl: chunked"),
    "max-autotune": ({"compile_mode": "max-autotune-no-cudagraphs", "cuda_only": True},
                     "compile_mode: max-autotune-no-cudagraphs"),
    "no-vocab-pad": ({"pad_vocab_multiple": 1}, "pad_vocab_multiple: 1 (vocab 50,257)"),
    "coordinate-descent": ({"compile_options": {"coordinate_descent_tuning": True}, "cuda_only": True},
                           "compile_options: {coordinate_descent_tuning: true}"),
}
# After the others: the settings of every variant that beat trainer-default by > 1%, merged (see combine()).
COMBINED = "combined"
SLOW_COMPILE = {"max-autotune": 240, "coordinate-descent": 150}  # seconds a variant needs at least


def trainer_defaults() -> dict:
    """The engine settings the trainer uses on GPU, read from train/config.py so the two never drift."""
    from train.config import Config

    c = Config()
    return {"compile": c.compile if c.compile != "auto" else True, "compile_mode": c.compile_mode,
            "compile_options": dict(c.compile_options), "attention": c.attention, "loss_impl": c.loss_impl,
            "pad_vocab_multiple": c.pad_vocab_multiple}


def variant_settings(name: str, args) -> dict:
    settings = dict(trainer_defaults())
    extra = json.loads(args.settings) if getattr(args, "settings", None) else VARIANTS[name][0]
    settings.update({k: v for k, v in extra.items() if k != "cuda_only"})
    return settings


def combine(results: dict) -> Optional[dict]:
    """Settings of the variants that beat trainer-default by more than 1%, merged, best first; None if
    fewer than two did. Two compile modes cannot both hold: the faster one's wins."""
    variants = results["variants"]
    base = variants.get("trainer-default", {})
    if base.get("status") != "ok":
        return None
    winners = sorted((n for n, r in variants.items()
                      if n not in ("trainer-default", "eager", COMBINED) and r.get("status") == "ok"
                      and r["tokens_per_s"] > 1.01 * base["tokens_per_s"]),
                     key=lambda n: -variants[n]["tokens_per_s"])
    if len(winners) < 2:
        return None
    merged: dict = {"from": winners}
    for name in reversed(winners):  # the best last, so its choices win
        extra = {k: v for k, v in VARIANTS[name][0].items() if k != "cuda_only"}
        options = {**merged.get("compile_options", {}), **extra.pop("compile_options", {})}
        merged.update(extra)
        if options:
            merged["compile_options"] = options
    return merged


# -- jobs (each in its own process unless --in-process) ------------------------------------------------

def job_matmul(args) -> dict:
    """The device's dense matmul rate in the training precision (bf16 on GPU, fp32 on CPU)."""
    import torch

    cuda = torch.cuda.is_available() and args.device != "cpu"
    dev = torch.device("cuda" if cuda else "cpu")
    dtype = torch.bfloat16 if cuda else torch.float32
    info = {"torch": torch.__version__, "device": torch.cuda.get_device_name(dev) if cuda else "cpu",
            "dtype": str(dtype).replace("torch.", "")}
    if cuda:
        info["cuda"] = torch.version.cuda
        try:
            import triton

            info["triton"] = triton.__version__
        except ImportError:
            info["triton"] = None
    best = 0.0
    sizes = (4096, 8192, 16384) if cuda else (256, 512)
    for n in sizes:
        a = torch.randn(n, n, device=dev, dtype=dtype)
        b = torch.randn(n, n, device=dev, dtype=dtype)
        iters = max(3, int(2e13 / (2 * n ** 3))) if cuda else 5
        for _ in range(3):
            a @ b
        sync(dev)
        t = time.perf_counter()
        for _ in range(iters):
            a @ b
        sync(dev)
        rate = 2 * n ** 3 * iters / (time.perf_counter() - t)
        info[f"tflops_{n}"] = round(rate / 1e12, 2)
        best = max(best, rate)
        del a, b
    info["tflops"] = round(best / 1e12, 2)
    return info


def sync(dev) -> None:
    import torch

    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def job_variant(name: str, args) -> dict:
    import torch

    from train.data import BatchLoader, Layout, TokenWindows, read_shard_folder
    from train.engine import make_optimizer, prepare_model, set_attention_kernel, setup_runtime, train_step
    from train.model import GPT, GPTConfig, flops_per_token

    settings = variant_settings(name, args)
    settings.pop("from", None)
    rt = setup_runtime(args.device, "auto")
    if not rt.cuda:
        settings["compile"] = settings["compile"] and args.compile_on_cpu
    set_attention_kernel(settings["attention"], rt)

    cfg = GPTConfig.preset(args.model, vocab_size=args.vocab, pad_to_multiple=settings["pad_vocab_multiple"],
                           block_size=args.context)
    torch.manual_seed(0)
    raw = GPT(cfg)
    raw.loss_impl = settings["loss_impl"]
    prep = prepare_model(raw, rt, compile=settings["compile"], compile_mode=settings["compile_mode"],
                         compile_options=settings["compile_options"])
    optimizer = make_optimizer(raw, lr=6e-4, weight_decay=0.1, device=rt.device)
    windows = TokenWindows(read_shard_folder(args.shards).train, args.context, seed=0)
    loader = BatchLoader(windows, Layout(args.micro_batch, args.accum), device=str(rt.device), prefetch=4,
                         vocab_size=cfg.vocab_size)

    def step() -> list:
        loss, norm = train_step(prep, loader.next, args.accum, rt, 1.0)
        values = torch.stack([loss, norm.float()]).tolist()  # the trainer's one sync per step
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return values

    t0 = time.perf_counter()
    first = step()
    first_step_s = time.perf_counter() - t0
    for _ in range(args.warmup_steps - 1):
        step()
    sync(rt.device)
    warmup_s = time.perf_counter() - t0
    if rt.cuda:
        torch.cuda.reset_peak_memory_stats(rt.device)
    t = time.perf_counter()
    losses = [step() for _ in range(args.steps)]
    sync(rt.device)
    seconds = time.perf_counter() - t
    loader.close()
    tokens = args.steps * args.accum * args.micro_batch * args.context
    out = {
        "settings": settings, "params": raw.num_params(), "padded_vocab": cfg.padded_vocab_size,
        "tokens_per_s": tokens / seconds, "step_ms": 1000 * seconds / args.steps,
        "flops_per_token": flops_per_token(cfg, args.context),
        "first_step_s": round(first_step_s, 2), "warmup_s": round(warmup_s, 2), "timed_steps": args.steps,
        "loss_first": first[0], "loss_last": losses[-1][0],
        "finite": all(v == v and abs(v) != float("inf") for pair in losses for v in pair),
    }
    if rt.cuda:
        out["peak_memory_gib"] = round(torch.cuda.max_memory_allocated(rt.device) / 2 ** 30, 2)
        out["peak_reserved_gib"] = round(torch.cuda.max_memory_reserved(rt.device) / 2 ** 30, 2)
    return out


# -- the driver -------------------------------------------------------------------------------------

def make_shards(folder: str, tokens: int, vocab: int) -> None:
    """Two train shards of random tokens (throughput does not depend on what the tokens say)."""
    import numpy as np

    from shard.reader import write_shard

    rng = np.random.default_rng(0)
    for i in range(2):
        write_shard(os.path.join(folder, f"train_{i:06d}.bin"), rng.integers(0, vocab, tokens // 2, dtype=np.int64))


def run_job(job: str, args, timeout: float, settings: Optional[dict] = None) -> dict:
    """A job in a fresh process (or in this one with --in-process); never raises. `settings`: the
    variant's settings given explicitly (the combined variant) instead of looked up by name."""
    started = time.perf_counter()
    if args.in_process:
        try:
            args.settings = json.dumps(settings) if settings else None
            result = job_matmul(args) if job == "matmul" else job_variant(job, args)
            result["status"] = "ok"
        except Exception as e:
            result = {"status": "failed", "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()[-4000:]}
        result["wall_s"] = round(time.perf_counter() - started, 1)
        return result
    out_file = os.path.join(args.shards, f"result-{job}.json")
    cmd = [sys.executable, os.path.abspath(__file__), "--job", job, "--job-out", out_file, *args.passthrough]
    if settings:
        cmd += ["--settings", json.dumps(settings)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the job and its compile workers
        output, _ = proc.communicate()
        result = {"status": "timed out", "error": f"no result within {timeout:.0f}s", "log_tail": (output or "")[-4000:]}
    else:
        if proc.returncode == 0 and os.path.exists(out_file):
            with open(out_file) as f:
                result = json.load(f)
            result["status"] = "ok"
        else:
            lines = [line for line in (output or "").strip().splitlines() if line.strip()]
            result = {"status": "failed", "error": f"exit code {proc.returncode}: {lines[-1][:300] if lines else ''}",
                      "log_tail": (output or "")[-4000:]}
    result["wall_s"] = round(time.perf_counter() - started, 1)
    return result


def table(results: dict) -> str:
    rate = (results.get("matmul") or {}).get("tflops")
    base = next((v["tokens_per_s"] for n, v in results["variants"].items() if n == "eager" and v.get("status") == "ok"), None)
    lines = [f"{'variant':<20} {'tokens/s':>11} {'MFU':>6} {'vs eager':>8} {'step ms':>8} {'peak GiB':>8} "
             f"{'compile s':>9}  status"]
    for name, r in results["variants"].items():
        if r.get("status") != "ok":
            lines.append(f"{name:<20} {'':>11} {'':>6} {'':>8} {'':>8} {'':>8} {'':>9}  {r.get('status')}: {r.get('error', '')[:80]}")
            continue
        mfu = f"{r['mfu']:.1%}" if r.get("mfu") is not None else "-"
        ratio = f"{r['tokens_per_s'] / base:.2f}x" if base else "-"
        mem = f"{r['peak_memory_gib']:.1f}" if r.get("peak_memory_gib") is not None else "-"
        lines.append(f"{name:<20} {r['tokens_per_s']:>11,.0f} {mfu:>6} {ratio:>8} {r['step_ms']:>8.1f} {mem:>8} "
                     f"{r['first_step_s']:>9.1f}  ok{'' if r.get('finite') else ' (NON-FINITE LOSS)'}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", help="write the results as JSON here")
    p.add_argument("--quick", action="store_true", help="tiny model, few steps, in one process: a CPU smoke test")
    p.add_argument("--budget-s", type=float, default=450, help="wall-clock budget for everything (default 450)")
    p.add_argument("--variants", help=f"comma-separated subset, in order (default: all): {', '.join(VARIANTS)}")
    p.add_argument("--model", default="gpt2")
    p.add_argument("--vocab", type=int, default=50257)
    p.add_argument("--context", type=int, default=1024)
    p.add_argument("--micro-batch", type=int, default=32)
    p.add_argument("--accum", type=int, default=4, help="gradient accumulation steps per optimiser step (default 4)")
    p.add_argument("--steps", type=int, default=10, help="timed optimiser steps per variant")
    p.add_argument("--warmup-steps", type=int, default=3, help="untimed optimiser steps first (compilation, autotuning)")
    p.add_argument("--device", default="auto", choices=["auto", "cuda", "cpu"])
    p.add_argument("--compile-on-cpu", action="store_true", help="on CPU, compile variants compile too (slow)")
    p.add_argument("--in-process", action="store_true", help="run the variants in this process (no isolation)")
    p.add_argument("--shards", help=argparse.SUPPRESS)
    p.add_argument("--job", help=argparse.SUPPRESS)
    p.add_argument("--job-out", help=argparse.SUPPRESS)
    p.add_argument("--settings", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.job:  # a child process: one job, result to --job-out
        result = job_matmul(args) if args.job == "matmul" else job_variant(args.job, args)
        with open(args.job_out, "w") as f:
            json.dump(result, f)
        return 0

    chosen = args.variants is not None  # a chosen list runs as given, with no combined variant after it
    if args.quick:
        args.model, args.vocab, args.context, args.micro_batch, args.accum = "gpt2-tiny", 2048, 32, 4, 2
        args.steps, args.warmup_steps, args.in_process = 2, 1, True
        args.variants = args.variants or "trainer-default,chunked-loss,no-vocab-pad"
    names = [v.strip() for v in args.variants.split(",")] if args.variants else list(VARIANTS)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        p.error(f"unknown variant(s): {', '.join(unknown)}")

    started = time.perf_counter()
    own_shards = args.shards is None
    args.shards = args.shards or tempfile.mkdtemp(prefix="webtext-bench-")
    windows_needed = (args.steps + args.warmup_steps) * args.accum * args.micro_batch
    make_shards(args.shards, max(4 * (args.context + 1), windows_needed * args.context + 2 * (args.context + 1)), args.vocab)
    args.passthrough = ["--model", args.model, "--vocab", str(args.vocab), "--context", str(args.context),
                        "--micro-batch", str(args.micro_batch), "--accum", str(args.accum), "--steps", str(args.steps),
                        "--warmup-steps", str(args.warmup_steps), "--device", args.device, "--shards", args.shards] + \
                       (["--compile-on-cpu"] if args.compile_on_cpu else [])
    results = {"config": {"model": args.model, "vocab": args.vocab, "context": args.context, "micro_batch": args.micro_batch,
                          "accumulation": args.accum, "timed_steps": args.steps, "warmup_steps": args.warmup_steps,
                          "tokens_per_step": args.accum * args.micro_batch * args.context},
               "trainer_defaults": trainer_defaults(), "reference": REFERENCE, "variants": {}}

    def left() -> float:
        return args.budget_s - (time.perf_counter() - started)

    def save() -> None:
        if args.out:
            with open(args.out, "w") as f:
                json.dump(results, f, indent=2)

    try:
        print("measuring the matmul rate ...", flush=True)
        results["matmul"] = run_job("matmul", args, timeout=max(30.0, min(120.0, left())))
        m = results["matmul"]
        print(f"  {m.get('device')}, torch {m.get('torch')}: {m.get('tflops')} TFLOP/s {m.get('dtype')} "
              f"({m.get('status')}{': ' + m.get('error', '') if m.get('status') != 'ok' else ''})", flush=True)
        cuda = m.get("device", "cpu") != "cpu"
        rate = (m.get("tflops") or 0) * 1e12
        compiled_walls = []
        for name in names + [COMBINED]:
            if name == COMBINED:
                merged = None if chosen else combine(results)
                if merged is None:
                    break
                settings, what = merged, "settings of " + " + ".join(merged["from"])
                results["combined_settings"] = merged
            else:
                settings, what = VARIANTS[name]
            if settings.get("cuda_only") and not cuda:
                results["variants"][name] = {"status": "skipped", "error": "needs CUDA"}
                continue
            compiles = settings.get("compile", True) and (cuda or args.compile_on_cpu)
            slow = settings["from"] if name == COMBINED else [name]
            need = max(SLOW_COMPILE.get(n, 0) for n in slow) if cuda else 0
            expect = max(compiled_walls) if (compiles and compiled_walls) else 0
            if left() < max(need, expect, 15 if not args.quick else 1):
                results["variants"][name] = {"status": "skipped", "error": f"out of time ({left():.0f}s left)"}
                print(f"{name}: skipped, {left():.0f}s left", flush=True)
                continue
            print(f"{name} ({what}) ...", flush=True)
            r = run_job(name, args, timeout=max(10.0, left()), settings=settings if name == COMBINED else None)
            if r.get("status") == "ok":
                if rate:
                    r["mfu"] = r["tokens_per_s"] * r["flops_per_token"] / rate
                if compiles:
                    compiled_walls.append(r["wall_s"])
                print(f"  {r['tokens_per_s']:,.0f} tokens/s"
                      + (f", MFU {r['mfu']:.1%}" if r.get("mfu") is not None else "")
                      + (f", peak {r['peak_memory_gib']} GiB" if r.get("peak_memory_gib") is not None else "")
                      + f", first step {r['first_step_s']}s, {r['wall_s']}s in all", flush=True)
            else:
                print(f"  {r['status']}: {r.get('error')}", flush=True)
            results["variants"][name] = r
            save()
    finally:
        ok = {n: v for n, v in results["variants"].items() if v.get("status") == "ok"}
        if ok:
            best = max(ok, key=lambda n: ok[n]["tokens_per_s"])
            results["best"] = {"variant": best, "tokens_per_s": ok[best]["tokens_per_s"], "mfu": ok[best].get("mfu"),
                               "settings": ok[best]["settings"],
                               "meets_600k_target": ok[best]["tokens_per_s"] >= 600_000}
        results["wall_s"] = round(time.perf_counter() - started, 1)
        save()
        if own_shards:
            shutil.rmtree(args.shards, ignore_errors=True)
    c = results["config"]
    print(f"\n{c['model']}, context {c['context']}, micro-batch {c['micro_batch']} x accumulation {c['accumulation']}, "
          f"{c['timed_steps']} timed steps after {c['warmup_steps']} warm-up; matmul rate "
          f"{results['matmul'].get('tflops')} TFLOP/s on {results['matmul'].get('device')}")
    print(table(results))
    if results.get("best"):
        b = results["best"]
        print(f"\nfastest: {b['variant']} at {b['tokens_per_s']:,.0f} tokens/s"
              + (f" (MFU {b['mfu']:.1%})" if b.get("mfu") is not None else "")
              + (f"; target 600,000 tokens/s {'met' if b['meets_600k_target'] else 'not met'}; nanoGPT's train.py "
                 f"measured elsewhere on an H200: {REFERENCE['nanogpt_train_py_tokens_per_s']:,}"
                 if results["matmul"].get("device", "cpu") != "cpu" else ""))
        defaults = results["trainer_defaults"]
        requested = results.get("combined_settings", {}) if b["variant"] == COMBINED else VARIANTS[b["variant"]][0]
        change = {k: v for k, v in requested.items() if k in defaults and defaults[k] != v}
        if b["variant"] != "eager" and change:
            print("to train this way, set in pipeline.yaml's train: (or as train/config.py's defaults): "
                  + ", ".join(f"{k}: {json.dumps(v)}" for k, v in change.items()))
        elif b["variant"] == "trainer-default":
            print("the trainer's defaults were the fastest")
    if args.out:
        print(f"results written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
