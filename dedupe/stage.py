"""The dedupe stage as the runner sees it."""

from webtext.errors import WebtextError
from webtext.runner import StageContext, StageResult

INPUTS = ('clean',)


def run(ctx: StageContext) -> StageResult:
    raise WebtextError("the dedupe stage is not built yet")
