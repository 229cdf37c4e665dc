"""The shard stage as the runner sees it."""

from webtext.errors import WebtextError
from webtext.runner import StageContext, StageResult

INPUTS = ('dedupe',)


def run(ctx: StageContext) -> StageResult:
    raise WebtextError("the shard stage is not built yet")
