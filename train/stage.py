"""The train stage as the runner sees it."""

from webtext.errors import WebtextError
from webtext.runner import StageContext, StageResult

INPUTS = ('shard',)


def run(ctx: StageContext) -> StageResult:
    raise WebtextError("the train stage is not built yet")
