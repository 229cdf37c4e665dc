"""train's commands: `webtext export-hf` and `webtext eval` (standard library + webtext at import time).

    webtext export-hf --out DIR [CONFIG] [--checkpoint PATH] [--tokenizer tokenizer.json]
    webtext eval [CONFIG] [--model PATH] [--tasks val,lambada,wikitext2,ptb] [--benchmarks DIR] ...

Without --checkpoint/--model both use the train stage's latest checkpoint under the config's work_dir
(the finished work/train/, else the running or interrupted work/train.partial/). The config is read
without checking other stages' input files, so a GPU box holding only work/ can use them.
"""

from __future__ import annotations

import argparse
import json
import os

from webtext.cli import Command
from webtext.config import DEFAULT_CONFIG
from webtext.errors import WebtextError


def _config(args):
    from webtext.config import load_config

    overrides = {}
    for pair in getattr(args, "overrides", []) or []:
        if "=" not in pair:
            raise WebtextError(f"--set {pair}: expected KEY=VALUE")
        import yaml

        key, value = pair.split("=", 1)
        overrides[key.strip()] = yaml.safe_load(value)
    return load_config(args.config or DEFAULT_CONFIG, overrides=overrides, check_paths=False)


def _train_dir(cfg) -> str:
    """The finished train folder, else the partial one; the one holding a checkpoint."""
    from train import checkpoint as ckpt
    from webtext.runner import partial_dir, stage_dir

    for folder in (stage_dir(cfg.run.work_dir, "train"), partial_dir(cfg.run.work_dir, "train")):
        if ckpt.latest(os.path.join(folder, "checkpoints")):
            return folder
    raise WebtextError(f"no train checkpoint under {cfg.run.work_dir}: run `webtext train` first, "
                       f"or name one with --checkpoint/--model")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", nargs="?", default=None, help=f"pipeline config (default: ./{DEFAULT_CONFIG}); "
                   "used to find the work folder when no checkpoint is named")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config value (value read as YAML)")


# -- export-hf ------------------------------------------------------------------------------------

def _export_args(p: argparse.ArgumentParser) -> None:
    _common(p)
    p.add_argument("--out", required=True, help="folder to write (replaced if it exists)")
    p.add_argument("--checkpoint", help="a step_*.pt file or a folder holding them (default: the train stage's latest)")
    p.add_argument("--tokenizer", help="tokenizer.json to include (default: the one beside the checkpoints)")


def _export(args) -> int:
    from train import checkpoint as ckpt
    from train.hf import export
    from train.model import GPTConfig

    source = args.checkpoint or _train_dir(_config(args))
    path = ckpt.resolve(source)
    data = ckpt.load(path)
    tokenizer = args.tokenizer or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(path))), "tokenizer.json")
    if args.tokenizer and not os.path.isfile(args.tokenizer):
        raise WebtextError(f"{args.tokenizer}: tokenizer not found")
    tokenizer = tokenizer if os.path.isfile(tokenizer) else None
    export(data["model"], GPTConfig.from_dict(data["model_config"]), args.out, tokenizer=tokenizer)
    print(f"wrote {args.out} from {path} (step {data['step']})"
          + ("" if tokenizer else "; no tokenizer.json found, so the folder has no tokenizer files"))
    return 0


# -- eval -----------------------------------------------------------------------------------------

def _eval_args(p: argparse.ArgumentParser) -> None:
    _common(p)
    p.add_argument("--model", help="a webtext checkpoint (file or folder) or a Hugging Face GPT2LMHeadModel folder "
                                   "(default: the train stage's latest checkpoint)")
    p.add_argument("--tokenizer", help="tokenizer.json (default: the one beside the model)")
    p.add_argument("--tasks", help="comma-separated: val, lambada, wikitext2, ptb (default: train.eval.tasks)")
    p.add_argument("--benchmarks", help="folder with lambada/, wikitext2/, ptb/ (default: train.eval.benchmarks)")
    p.add_argument("--shards", help="shard folder for the val task (default: the shard stage's output)")
    p.add_argument("--stride", type=int, help="sliding-window stride for perplexity (default: half the context)")
    p.add_argument("--max-examples", type=int, help="LAMBADA passages to use (default: all)")
    p.add_argument("--max-tokens", type=int, help="tokens per perplexity task and of validation (default: all)")
    p.add_argument("--device", default=None, choices=["auto", "cpu", "cuda"], help="default: train.device")
    p.add_argument("--out", help="write the results as JSON here (default: eval.json beside the checkpoints)")


def _eval(args) -> int:
    from train.evaluate import run_eval
    from webtext.runner import stage_dir

    need_config = not args.model or not args.benchmarks or (args.tasks is None) or not args.shards
    cfg = None
    if need_config:
        if args.config or os.path.isfile(DEFAULT_CONFIG):
            cfg = _config(args)
        elif not args.model:
            raise WebtextError(f"no --model and no ./{DEFAULT_CONFIG} to find the train stage's checkpoints")
    ecfg = cfg.train.eval if cfg else None
    model = args.model or _train_dir(cfg)
    tasks = [t.strip() for t in args.tasks.split(",")] if args.tasks else (ecfg.tasks if ecfg else ["val", "lambada", "wikitext2", "ptb"])
    unknown = [t for t in tasks if t not in ("val", "lambada", "wikitext2", "ptb")]
    if unknown:
        raise WebtextError(f"--tasks: unknown task(s) {', '.join(unknown)} (known: val, lambada, wikitext2, ptb)")
    # the pipeline's shards go with the pipeline's model; another model's val split must be named
    shards = args.shards or (stage_dir(cfg.run.work_dir, "shard") if cfg and not args.model else None)
    if shards and not os.path.isdir(shards):
        shards = None
    results = run_eval(
        model, tasks=tasks, benchmarks=args.benchmarks or (ecfg.benchmarks if ecfg else None), shard_dir=shards,
        tokenizer=args.tokenizer, device=args.device or (cfg.train.device if cfg else "auto"),
        stride=args.stride if args.stride is not None else (ecfg.stride if ecfg else 0),
        max_examples=args.max_examples if args.max_examples is not None else (ecfg.max_examples if ecfg else 0),
        max_tokens=args.max_tokens if args.max_tokens is not None else (ecfg.max_tokens if ecfg else 0))
    out = args.out
    if out is None and not args.model:
        out = os.path.join(model, "eval.json")
    if out:
        with open(out, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)
            f.write("\n")
        print(f"results written to {out}")
    return 0


COMMANDS = {
    "export-hf": Command(
        help="write a trained checkpoint as a Hugging Face GPT2LMHeadModel folder (with its tokenizer)",
        add_arguments=_export_args, run=_export,
        description="Write a webtext checkpoint as a Hugging Face folder (config.json, model.safetensors, tokenizer "
                    "files) that transformers.GPT2LMHeadModel and pipeline('text-generation') load."),
    "eval": Command(
        help="validation loss and zero-shot LAMBADA / WikiText-2 / PTB, as in GPT-2's Table 3",
        add_arguments=_eval_args, run=_eval,
        description="Evaluate a checkpoint or Hugging Face GPT-2 folder: validation loss and perplexity on the shards, "
                    "LAMBADA last-word accuracy and perplexity, WikiText-2 and PTB perplexity (see train/evaluate.py "
                    "for the detokenisation used)."),
}
