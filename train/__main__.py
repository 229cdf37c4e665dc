"""The train stage on several processes: `torchrun ... -m train [CONFIG] [--set KEY=VALUE] [--force]`.

    torchrun --standalone --nproc_per_node=8 -m train pipeline.yaml              # one node, 8 GPUs
    torchrun --nnodes=2 --node_rank=$R --nproc_per_node=8 \\
             --rdzv_backend=c10d --rdzv_endpoint=$HEAD:29500 -m train pipeline.yaml   # two nodes

Rank 0 runs the stage through the ordinary stage runner (work lock, skip if finished, resume from
work/train.partial/, _SUCCESS.json), exactly as `webtext train` does; the other ranks train alongside it
and write nothing. Every node must see the same work_dir (a shared filesystem): all ranks read the shards
and, on resume, the checkpoint. With one process this is the same as `webtext train`.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="torchrun ... -m train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", nargs="?", default="pipeline.yaml")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--force", action="store_true", help="retrain even if the stage finished with this config")
    args = parser.parse_args(argv)

    from webtext.cli import main as webtext_main

    if int(os.environ.get("WORLD_SIZE", "1")) == 1:
        extra = [x for pair in args.overrides for x in ("--set", pair)]
        return webtext_main(["train", args.config, *extra, *(["--force"] if args.force else [])])

    import torch.distributed as dist

    from webtext.errors import WebtextError

    try:
        code = _distributed(args)
        # Free the model, optimiser and FSDP state (reference cycles) and every pending collective while
        # the interpreter is whole: Gloo work objects freed during interpreter shutdown abort the process.
        gc.collect()
        dist.barrier()
        return code
    except WebtextError as e:
        print(f"webtext: error (rank {os.environ.get('RANK')}): {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print(f"webtext: rank {os.environ.get('RANK')} interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def _distributed(args) -> int:
    import torch.distributed as dist

    from train.engine import setup_runtime
    from train.loop import run
    from webtext.cli import _overrides
    from webtext.config import load_config
    from webtext.progress import Progress
    from webtext.runner import Runner, fingerprint, partial_dir, read_success, stage_dir, work_lock

    cfg = load_config(args.config, overrides=_overrides(args.overrides))
    rt = setup_runtime(cfg.train.device, cfg.train.precision)  # joins the process group
    decision = [None]
    if rt.is_main:  # skip, run, or an error every rank reports
        try:
            runner = Runner(cfg, Progress())
            upstream = runner.upstream_fingerprints("train")
            done = read_success(cfg.run.work_dir, "train")
            skip = done and done.get("fingerprint") == fingerprint(cfg, "train", upstream, {}) and not args.force
            decision = ["skip" if skip else "run"]
        except Exception as e:
            decision = [f"error: {e}"]
    dist.broadcast_object_list(decision, src=0)
    if decision[0].startswith("error: "):
        raise _error(decision[0][len("error: "):])
    if decision[0] == "skip":
        if rt.is_main:
            runner.run_stage("train")  # prints that it is skipped
        return 0
    if rt.is_main:
        with work_lock(cfg.run.work_dir):
            runner.run_stage("train", force=args.force)
    else:
        run(cfg.train, shard_dir=stage_dir(cfg.run.work_dir, "shard"), out_dir=partial_dir(cfg.run.work_dir, "train"),
            seed=cfg.run.seed)
    return 0


def _error(message: str):
    from webtext.errors import WebtextError

    return WebtextError(message)


if __name__ == "__main__":
    sys.exit(main())
