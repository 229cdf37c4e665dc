"""The report stage as the runner sees it."""

from webtext.errors import WebtextError
from webtext.runner import StageContext, StageResult

INPUTS = ()
OPTIONAL_INPUTS = ("crawl", "clean", "dedupe", "shard", "train")
ALWAYS_RUN = True


def run(ctx: StageContext) -> StageResult:
    raise WebtextError("the report stage is not built yet")
