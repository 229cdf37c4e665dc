"""The crawl process's memory: how it is measured, and the bound it stays under by design.

Measured from /proc/self/status: VmRSS (resident now) and VmHWM (the peak). Not from getrusage's
ru_maxrss: Linux carries ru_maxrss across execve, and this process is started by fork+exec from the
stage process, so its ru_maxrss starts at about what the stage process had resident at the fork
(with vfork, at that process's own peak). In the test suite a crawl whose own peak was 94 MiB
reported 260 MiB after tests/clean had run in the same pytest process, and 441 MiB after the whole
suite. VmHWM belongs to the address space the exec created.

The bound (crawl/README.md, "Memory") is the RSS when the spider opens (Python, Scrapy, Twisted, the
done-set of a resumed crawl) plus what the settings let the crawl hold at once, from bound_parts().
"""

from __future__ import annotations

import resource
import sys

MB = 1_000_000
# Twisted reads a socket 64 KiB at a time, and Scrapy decompresses 64 KiB at a time: a body is cut
# on the first step past max_bytes.
STEP = 64 << 10
# Scrapy starts no download while more than this many body bytes wait for their callbacks
# (SCRAPER_SLOT_MAX_ACTIVE_SIZE, left at its default).
SCRAPER_BACKLOG = 5_000_000
# Blocks at least this large are mapped and unmapped whole (mallopt below).
MMAP_THRESHOLD = 256 << 10
# What the crawl adds after the spider opened that does not scale with the settings: the link
# reader's buffers, modules imported on the first responses, Twisted/Scrapy objects of the requests
# in flight and of pooled connections, allocator slack, the per-host state of a few hundred hosts
# (per-host state of a big crawl grows with its hosts: crawl/README.md, "Memory"). Measured 1-6 MB
# in the crawl tests.
ENGINE = 16 * MB


def rss_bytes() -> tuple[int, int]:
    """(resident now, peak) of this process in bytes. Without /proc (not Linux): ru_maxrss for both,
    which may include the parent's memory (see above)."""
    now = peak = 0
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmRSS:"):
                    now = int(line.split()[1]) * 1024
                elif line.startswith(b"VmHWM:"):
                    peak = int(line.split()[1]) * 1024
    except OSError:
        pass
    if not peak:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
        now = now or peak
    return now, peak


def map_large_blocks() -> bool:
    """Have glibc map blocks of MMAP_THRESHOLD and more on their own and unmap them when freed.

    By default glibc raises that threshold (up to 32 MB) each time such a block is freed, after
    which bodies come from the heap, which keeps the pages of freed bodies resident between live
    ones: RSS then follows the most bodies ever held plus fragmentation, not the bodies held now.
    Measured on a crawl of 1 MB pages: peak 30 MB above the RSS at spider open by default, 23 MB
    with this. Returns False where it does not apply (not glibc)."""
    try:
        import ctypes

        return bool(ctypes.CDLL("libc.so.6").mallopt(-3, MMAP_THRESHOLD))  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        return False


def body_allowance(max_bytes: int) -> int:
    """Most one body can take: cut on the first 64 KiB step past max_bytes, in a buffer that grows
    by up to 1/8 over its size."""
    return (max_bytes + STEP) * 9 // 8


def bound_parts(concurrent_requests: int, max_bytes: int, writer_buffer_bytes: int) -> dict:
    """Bytes above the RSS at spider open that the crawl process holds at most, by cause."""
    body = body_allowance(max_bytes)
    return {
        # One body per request in flight, downloading or waiting for its callback, plus Scrapy's
        # callback backlog. A stored page's body is handed to the WARC writer's queue as the same
        # bytes object (crawl/writer.py): pages stored while the writer is paused move there.
        "bodies": concurrent_requests * body + SCRAPER_BACKLOG,
        # The WARC writer's queue: up to its high-water mark plus the page that crossed it.
        "writer": writer_buffer_bytes + body,
        # The one compressed body being decompressed (one thread): compressed and decoded at once.
        "decoding": body,
        "engine": ENGINE,
    }


def bound_bytes(concurrent_requests: int, max_bytes: int, writer_buffer_bytes: int) -> int:
    return sum(bound_parts(concurrent_requests, max_bytes, writer_buffer_bytes).values())
