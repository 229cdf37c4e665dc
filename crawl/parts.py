"""Splitting a crawl into N disjoint parts by host, so N processes or machines share it.

A link belongs to part `part_of(host, n)` (1..n), a stable hash of its host without a leading
"www." (so one server's pages stay in one part, and per-host politeness holds across parts).
Every link is in exactly one part, so the union of the parts' outputs is the unsplit crawl.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Optional

from webtext.errors import WebtextError


@dataclass(frozen=True)
class Part:
    index: int  # 1-based
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def tag(self) -> str:
        """File-name prefix that keeps parts' files apart when their folders are merged."""
        return f"part{self.index:03d}of{self.count:03d}" if self.count > 1 else "crawl"

    def holds(self, host: str) -> bool:
        return self.count == 1 or part_of(host, self.count) == self.index


WHOLE = Part(1, 1)


def host_key(host: str) -> str:
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def part_of(host: str, count: int) -> int:
    """The part (1..count) that crawls `host`."""
    digest = hashlib.sha1(host_key(host).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def parse_part(text: Optional[str]) -> Part:
    """'2/8' -> Part(2, 8); None -> the whole crawl."""
    if text is None:
        return WHOLE
    try:
        i, n = (int(x) for x in str(text).split("/"))
    except ValueError:
        raise WebtextError(f"--part {text}: expected I/N, e.g. --part 2/8 (I from 1 to N)") from None
    if n < 1 or not 1 <= i <= n:
        raise WebtextError(f"--part {text}: I must be between 1 and N (N >= 1)")
    return Part(i, n)
