"""The WARC writer process: crawl.warc.WarcFiles in a forked child, fed pickled pages through a pipe.

Why a process: building records (warcio, pure Python) and gzip cost about as much CPU as Scrapy's
own work per page; in a thread they would hold the GIL against the Twisted reactor, in a process
they use another core.

The parent never blocks on the pipe. put() writes what the pipe takes at once and keeps the rest
in memory; the reactor writes the rest when the pipe is writable again (this object is its write
descriptor). `backlogged()` tells the crawler when more than `high_water` bytes wait, and the
crawler then pauses taking requests until the writer catches up: memory stays bounded and no
download times out because the reactor was stuck.

The child ignores SIGINT and SIGTERM: it stops at end-of-file on the pipe, whether close() ended
it or the parent died, and in both cases writes out every page it received, brings the index up to
date and closes its WARC file.

A frame is two 8-byte big-endian lengths, the page pickled without its body, and the body. The body
is queued as the response's own bytes object, not copied: a page waiting here costs its body once,
shared with the Response while that lives (crawl/README.md, "Memory").
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import sys
import traceback
from collections import deque
from itertools import islice
from typing import Callable, Optional

FRAME = struct.Struct("!QQ")  # length of the pickled page without its body, length of the body
READ_SIZE = 1 << 20
WRITEV_MAX = 64  # chunks per writev call (IOV_MAX is 1024 on Linux)


class WriterFailed(RuntimeError):
    pass


class WriterProcess:
    def __init__(self, make_files: Callable, sync_every_s: float = 1.0, high_water: int = 64 << 20):
        r, w = os.pipe()
        _grow_pipe(w)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child
            code = 1
            try:
                os.close(w)
                code = _child(r, make_files, sync_every_s)
            except BaseException:  # noqa: BLE001 - reported, then the exit status says it failed
                traceback.print_exc()
            finally:
                os._exit(code)
        os.close(r)
        self.pid, self.fd = pid, w
        os.set_blocking(w, False)
        self.high_water = high_water
        self.chunks: deque = deque()
        self.waiting_bytes = 0
        self.error: Optional[BaseException] = None
        self._reactor = None
        self.exit_status: Optional[int] = None

    # -- parent side -------------------------------------------------------------------------

    def put(self, page: dict) -> None:
        if self.error is not None:
            raise WriterFailed(f"the WARC writer process is gone ({self.error})")
        body = page["body"]
        meta = pickle.dumps({k: v for k, v in page.items() if k != "body"}, protocol=pickle.HIGHEST_PROTOCOL)
        head = FRAME.pack(len(meta), len(body)) + meta
        was_idle = not self.chunks
        self.chunks.append(memoryview(head))
        self.chunks.append(memoryview(body))
        self.waiting_bytes += len(head) + len(body)
        if was_idle:
            self.doWrite()

    def backlogged(self) -> bool:
        return self.waiting_bytes > self.high_water

    def doWrite(self):
        """Write what the pipe takes now (called by put() and by the reactor when writable)."""
        while self.chunks:
            batch = list(islice(self.chunks, WRITEV_MAX))
            try:
                n = os.writev(self.fd, batch)
            except BlockingIOError:
                n = 0
            except OSError as e:  # the child is gone
                self.error = e
                self.chunks.clear()
                self.waiting_bytes = 0
                self._unwatch()
                return None
            self.waiting_bytes -= n
            full = n == sum(len(b) for b in batch)
            while self.chunks and n >= len(self.chunks[0]):
                n -= len(self.chunks.popleft())
            if n:
                self.chunks[0] = self.chunks[0][n:]
            if not full:  # the pipe is full: the reactor calls again when it is writable
                self._watch()
                return None
        self._unwatch()
        return None

    def _watch(self) -> None:
        if self._reactor is not None:
            return
        if "twisted.internet.reactor" not in sys.modules:  # no reactor (tests): write it all now
            self._flush_blocking()
            return
        from twisted.internet import reactor

        self._reactor = reactor
        reactor.addWriter(self)

    def _unwatch(self) -> None:
        if self._reactor is not None:
            self._reactor.removeWriter(self)
            self._reactor = None

    def _flush_blocking(self) -> None:
        os.set_blocking(self.fd, True)
        try:
            while self.chunks and self.error is None:
                buf = self.chunks.popleft()
                try:
                    while len(buf):
                        n = os.write(self.fd, buf)
                        self.waiting_bytes -= n
                        buf = buf[n:]
                except OSError as e:
                    self.error = e
        finally:
            os.set_blocking(self.fd, False)

    # IWriteDescriptor, for reactor.addWriter
    def fileno(self) -> int:
        return self.fd

    def logPrefix(self) -> str:
        return "warc-writer"

    def connectionLost(self, reason) -> None:
        pass

    def close(self) -> None:
        """Hand over what is left, end the pipe, wait for the child to close its file."""
        if self.exit_status is not None:
            return
        self._unwatch()
        self._flush_blocking()
        os.close(self.fd)
        _, status = os.waitpid(self.pid, 0)
        self.exit_status = os.waitstatus_to_exitcode(status)
        if self.exit_status != 0 or self.error is not None:
            raise WriterFailed(f"the WARC writer process failed (exit status {self.exit_status}; {self.error or 'see its stderr'})")


def _grow_pipe(fd: int, size: int = 1 << 20) -> None:
    try:
        import fcntl

        fcntl.fcntl(fd, 1031, size)  # F_SETPIPE_SZ (Linux): fewer wake-ups, more slack
    except (OSError, ImportError):
        pass


# -- child side ----------------------------------------------------------------------------------

def _child(fd: int, make_files: Callable, sync_every_s: float) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    files = make_files()
    buf = bytearray()
    pos = 0
    try:
        while True:
            while len(buf) - pos >= FRAME.size:
                n_meta, n_body = FRAME.unpack_from(buf, pos)
                start = pos + FRAME.size
                end = start + n_meta + n_body
                if len(buf) < end:
                    break
                page = pickle.loads(buf[start:start + n_meta])
                page["body"] = bytes(buf[start + n_meta:end])
                files.write(page)
                pos = end
            if pos:
                del buf[:pos]
                pos = 0
            ready, _, _ = select.select([fd], [], [], sync_every_s)
            if not ready:
                files.sync()
                continue
            chunk = os.read(fd, READ_SIZE)
            if not chunk:
                break
            buf += chunk
    finally:
        files.close()
    return 0
