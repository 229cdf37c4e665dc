"""webtext clean stage: WARC response records -> main text -> language -> quality -> documents.

`clean.extract(html, url=None) -> str | None` is the stage's extraction of one page, for users and
benchmarks. The package imports nothing heavy until it is used (the CLI loads clean.config only).
"""

from typing import Optional, Union


def extract(html: Union[str, bytes], url: Optional[str] = None) -> Optional[str]:
    """The main text of a page exactly as the clean stage extracts it, or None (see clean/extraction.py)."""
    from clean.extraction import extract as _extract

    return _extract(html, url)


__all__ = ["extract"]
