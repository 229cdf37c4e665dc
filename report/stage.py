"""The report stage as the runner sees it: reads whatever stages have finished, always reruns."""

import os

from webtext.config import config_dict
from webtext.runner import StageContext, StageResult, stage_dir

INPUTS = ()
OPTIONAL_INPUTS = ("crawl", "clean", "dedupe", "shard", "train")
ALWAYS_RUN = True  # cheap (it reads statistics, not the corpus) and must reflect the latest stages


def _runner_states(ctx: StageContext):
    """Each stage's state as `webtext status` reports it (done, stale because an input changed, ...)."""
    from webtext.progress import Progress
    from webtext.runner import Runner

    try:
        return {st.name: (st.state, st.detail) for st in Runner(ctx.config, Progress(quiet=True)).status()}
    except Exception as e:  # noqa: BLE001 - the page still shows what the records say; the reason is logged
        ctx.log(f"could not work out which stages are stale ({type(e).__name__}: {e}); using the records alone")
        return None


def run(ctx: StageContext) -> StageResult:
    from report.build import write_report

    cfg = ctx.cfg
    if cfg.gpt2_domains and not os.path.isfile(cfg.gpt2_domains):
        ctx.log(f"warning: report.gpt2_domains {cfg.gpt2_domains} not found; the page shows no GPT-2 comparison")
    summary = write_report(ctx.out_dir, ctx.work_dir, cfg, config=config_dict(ctx.config),
                           config_file=getattr(ctx.config, "source", None), run_name=ctx.config.run.name,
                           log=ctx.log, states=_runner_states(ctx))
    final = os.path.join(stage_dir(ctx.work_dir, ctx.name), "index.html")
    incomplete = summary["sections"] - summary["complete_sections"]
    ctx.log(f"{summary['sections']} sections, {summary['figures']} figures"
            + (f", {incomplete} with data still missing" if incomplete else "") + f": {final}")
    read = len(summary["stages_read"])
    # The funnel of the report itself: the stage records it read, all of them used.
    return StageResult(counts={"in": read, "out": read, "dropped": {}}, stats=summary)
