"""The clean stage as the runner sees it."""

from webtext.errors import WebtextError
from webtext.runner import StageContext, StageResult

INPUTS = ('crawl',)


def run(ctx: StageContext) -> StageResult:
    raise WebtextError("the clean stage is not built yet")
