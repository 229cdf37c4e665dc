"""webtext clean stage: WARC response records -> main text -> language -> quality -> documents.

`clean.extract(html, url=None, content_type=None) -> str | None` is the stage's extraction of one page, for users and
benchmarks. The package imports nothing heavy until it is used (the CLI loads clean.config only).
"""

from typing import Optional, Union


def extract(html: Union[str, bytes], url: Optional[str] = None, content_type: Optional[str] = None) -> Optional[str]:
    """The main text of a page exactly as the clean stage extracts it, or None (see clean/extraction.py).
    For bytes, `content_type` (the HTTP Content-Type header) gives the charset first, as in the stage."""
    from clean.extraction import extract as _extract

    return _extract(html, url, content_type)


__all__ = ["extract"]
