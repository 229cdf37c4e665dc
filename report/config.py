"""The `report:` block of pipeline.yaml."""

from dataclasses import dataclass
from typing import Optional

from webtext.schema import path_field


@dataclass
class Config:
    # GPT-2's own top WebText domains, "<count> <domain>" per line (openai/gpt-2's domains.txt, e.g.
    # ../shared/data/reddit/gpt2_domains.txt); the report compares the corpus's domains with them.
    # null: no comparison. The comparison is optional, so a path that does not exist is shown on the
    # page and logged, not a config error (a fresh clone can still run the demo).
    gpt2_domains: Optional[str] = path_field(None, kind="any")
    # Rows in each top-k table and bars in each top-k chart (domains, subreddits, drop reasons, ...).
    top_k: int = 25
    # Resolution of the embedded PNG plots, dots per inch: 100 keeps the page small; 150+ for print.
    dpi: int = 100
    # Most points drawn per training curve: a longer log.jsonl is averaged into this many buckets.
    max_curve_points: int = 2000

    def check(self):
        if self.top_k < 1:
            yield "top_k", "must be at least 1"
        if not 50 <= self.dpi <= 400:
            yield "dpi", "must be between 50 and 400"
        if self.max_curve_points < 10:
            yield "max_curve_points", "must be at least 10"
