"""The crawl stage as the runner sees it."""

from webtext.errors import WebtextError
from webtext.runner import StageContext, StageResult

INPUTS = ()


def run(ctx: StageContext) -> StageResult:
    raise WebtextError("the crawl stage is not built yet")
