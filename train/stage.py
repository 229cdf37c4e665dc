"""The train stage as the runner sees it: work/shard/ in, work/train/ out (docs/contracts.md).

Resumable: an interrupted run leaves its checkpoints in work/train.partial/checkpoints/, and the next
`webtext run` / `webtext train` with the same config continues from the latest one. Several GPUs:
`torchrun --nproc_per_node=8 -m train pipeline.yaml` (see train/__main__.py).
"""

from webtext.runner import StageContext, StageResult

INPUTS = ("shard",)
RESUMABLE = True
FINGERPRINT_IGNORE = ("eval",)  # read only by `webtext eval`: editing it must not retrain the model


def run(ctx: StageContext) -> StageResult:
    from train.loop import run as train

    summary = train(ctx.cfg, shard_dir=ctx.inputs["shard"], out_dir=ctx.out_dir, seed=ctx.config.run.seed,
                    note=ctx.log)
    counts = summary.pop("counts")
    return StageResult(counts=counts, stats=summary)
