"""Extraction that cannot take a worker down: one child process per worker, with a time limit.

A page can make lxml or trafilatura hang (pathological nesting, regex backtracking) or use memory
without bound. Beam runs DoFns on threads other than the main one, where signal.alarm cannot be
used, and a thread cannot be stopped from outside; a process can. So each worker keeps one
long-lived child (`python -m clean.guard`) that imports trafilatura once and extracts pages, one at a
time, sent over a pipe. The parent waits at most `timeout_s` for each answer; past it, the child is
killed (SIGKILL) and a fresh one starts on the next page. The child caps its own address space at
what it uses after start-up plus `max_memory_mb`, so a page that needs more fails with MemoryError
instead of swapping the machine.
A child that dies (a crash in C code, the kernel's OOM killer) costs only the page it was on.

Pages go over in groups (`extract_many`): a second thread writes them while the first reads the
answers, so the child goes from page to page without waiting for its parent. Cost, measured in
bench/clean_speed.py: about 0.2 ms of CPU per page, and one child start (about a second) per worker
and per killed page.

Protocol: frames of a 4-byte big-endian length and a pickle. The parent sends the ExtractConfig
once, the child answers "ready"; then each request (body, url, content_type, fetched_at) gets
("ok", Extracted fields) | ("none", None) | ("error", "Type: message").
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Optional

from clean.config import ExtractConfig

_HEADER = struct.Struct(">I")
STARTUP_TIMEOUT_S = 300.0  # importing trafilatura on a loaded machine can take a while


@dataclass
class Outcome:
    status: str  # ok | none | timeout | crashed | error
    result: Optional[dict] = None  # Extracted fields when ok
    detail: Optional[str] = None


def _widen_pipe(fd: int) -> None:
    """Let a page's body (typically 50-500 KB) pass through the pipe in one write: fewer system calls
    and process switches than the default 64 KiB buffer. Linux only; elsewhere a no-op."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (OSError, ImportError, ValueError):
        pass


def _package_root() -> str:
    import clean

    return os.path.dirname(os.path.dirname(os.path.abspath(clean.__file__)))


class _ChildGone(Exception):
    pass


class ChildExtractor:
    """Extract pages in a child process with a time limit per page (see module docstring)."""

    def __init__(self, cfg: ExtractConfig):
        self.cfg = cfg
        self.proc: Optional[subprocess.Popen] = None
        self.starts = 0
        self.kills = 0

    # -- child lifecycle ------------------------------------------------------------------------

    def _start(self) -> None:
        env = dict(os.environ)
        root = _package_root()
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.proc = subprocess.Popen([sys.executable, "-m", "clean.guard"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=env, bufsize=0, close_fds=True)
        for stream in (self.proc.stdin, self.proc.stdout):
            _widen_pipe(stream.fileno())
        self.poller = select.poll()
        self.poller.register(self.proc.stdout.fileno(), select.POLLIN)
        self.starts += 1
        try:
            self._send(dataclasses.asdict(self.cfg))
            reply = self._receive(STARTUP_TIMEOUT_S)
        except (TimeoutError, _ChildGone, EOFError, pickle.UnpicklingError) as e:
            reply = f"{type(e).__name__} {e}"
        if reply != "ready":
            self._kill()
            raise RuntimeError(f"the extraction process (python -m clean.guard) did not start: {reply} "
                               "(its error, if any, is on stderr above)")

    def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        if proc.poll() is None:
            try:
                proc.wait(timeout=5)  # stdin closed: the child exits by itself
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def _kill(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        self.kills += 1
        try:
            proc.send_signal(signal.SIGKILL)
        except OSError:
            pass
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except OSError:
                pass

    # -- framing --------------------------------------------------------------------------------

    def _send(self, obj) -> None:
        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self.proc.stdin.write(_HEADER.pack(len(data)) + data)
        except (BrokenPipeError, OSError, ValueError) as e:
            raise _ChildGone(f"write failed: {e}") from None

    def _receive(self, timeout: float):
        """The child's next frame, or raises TimeoutError / _ChildGone."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        header = self._read_exact(fd, _HEADER.size, deadline)
        (size,) = _HEADER.unpack(header)
        return pickle.loads(self._read_exact(fd, size, deadline))

    def _read_exact(self, fd: int, n: int, deadline: float) -> bytes:
        chunks = []
        while n > 0:
            left = deadline - time.monotonic()
            if left <= 0 or not self.poller.poll(left * 1000):
                raise TimeoutError
            chunk = os.read(fd, min(n, 1 << 20))
            if not chunk:
                raise _ChildGone("the child closed its output")
            chunks.append(chunk)
            n -= len(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    # -- the one call -----------------------------------------------------------------------------

    def extract(self, body: bytes, url: Optional[str], content_type: Optional[str],
                fetched_at: Optional[str]) -> Outcome:
        return self.extract_many([(body, url, content_type, fetched_at)])[0]

    def extract_many(self, requests: list[tuple]) -> list[Outcome]:
        """Outcomes of several (body, url, content_type, fetched_at) requests, in order.

        The requests go to the child from a second thread while this one reads the answers, so the
        child works through them without waiting for the parent between pages (measured: fewer
        process switches, about 0.5-0.9 ms less CPU per page than one round trip per page). Each
        page still has its own time limit, counted from the previous answer: the child works on one
        page at a time, in order, so the first unanswered page is the one that hangs or crashes.
        """
        outcomes: list[Outcome] = []
        pending = list(requests)
        while pending:
            if self.proc is not None and self.proc.poll() is not None:  # died between pages: no page's fault
                self._kill()
            if self.proc is None:
                self._start()
            sender = threading.Thread(target=self._send_all, args=(pending,), daemon=True)
            sender.start()
            answered = 0
            try:
                while answered < len(pending):
                    status, payload = self._receive(self.cfg.timeout_s)
                    outcomes.append(Outcome(status, payload) if status == "ok"
                                    else Outcome(status, detail=None if status == "none" else str(payload)))
                    answered += 1
            except TimeoutError:
                self._kill()
                outcomes.append(Outcome("timeout", detail=f"no result after {self.cfg.timeout_s:g} s"))
                answered += 1
            except (_ChildGone, EOFError, pickle.UnpicklingError) as e:
                code = self.proc.poll() if self.proc is not None else None
                self._kill()
                outcomes.append(Outcome("crashed", detail=f"extraction process died ({e}; exit code {code})"))
                answered += 1
            sender.join()
            pending = pending[answered:]
        return outcomes

    def _send_all(self, requests) -> None:
        try:
            for request in requests:
                self._send(request)
        except (_ChildGone, OSError, ValueError, AttributeError):
            pass  # the child was killed or died: the reading thread reports it

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class InProcessExtractor:
    """The same interface without a child process or time limit (ExtractConfig.isolate = false)."""

    def __init__(self, cfg: ExtractConfig):
        self.cfg = cfg
        self.starts = self.kills = 0

    def extract(self, body, url, content_type, fetched_at) -> Outcome:
        return _run_one(self.cfg, body, url, content_type, fetched_at)

    def extract_many(self, requests: list[tuple]) -> list[Outcome]:
        return [_run_one(self.cfg, *r) for r in requests]

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def make_extractor(cfg: ExtractConfig):
    return ChildExtractor(cfg) if cfg.isolate else InProcessExtractor(cfg)


def _run_one(cfg: ExtractConfig, body, url, content_type, fetched_at) -> Outcome:
    from clean.extraction import extract_page

    try:
        result = extract_page(body, url, cfg, content_type=content_type, fetched_at=fetched_at)
    except RecursionError:
        return Outcome("error", detail="RecursionError: the page is nested too deeply")
    except MemoryError:
        return Outcome("error", detail=f"MemoryError: over the {cfg.max_memory_mb} MiB cap")
    except Exception as e:  # noqa: BLE001 - any failure of a third-party parser on one page
        return Outcome("error", detail=f"{type(e).__name__}: {str(e)[:300]}")
    if result is None:
        return Outcome("none")
    return Outcome("ok", result.as_dict())


# -- the child ------------------------------------------------------------------------------------

def _address_space() -> int:
    """This process's virtual memory size in bytes (0 where /proc is not available)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _child_main() -> int:
    # The protocol owns the real stdout; anything a library prints goes to stderr instead.
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    inp = sys.stdin.buffer

    def read_frame():
        header = inp.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return None
        (size,) = _HEADER.unpack(header)
        data = inp.read(size)
        if len(data) < size:
            return None
        return pickle.loads(data)

    def write(obj) -> None:
        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        out.write(_HEADER.pack(len(data)) + data)

    settings = read_frame()
    if settings is None:
        return 0
    cfg = ExtractConfig(**settings)
    import clean.extraction  # noqa: F401 - import the heavy part once, before saying ready
    import htmldate  # noqa: F401
    import trafilatura  # noqa: F401

    if cfg.max_memory_mb:  # after the imports: the cap is for what pages need
        import resource

        limit = _address_space() + (cfg.max_memory_mb << 20)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    write("ready")
    while True:
        request = read_frame()
        if request is None:
            return 0
        outcome = _run_one(cfg, *request)
        try:
            write((outcome.status, outcome.result if outcome.status == "ok" else outcome.detail))
        except MemoryError:
            write(("error", "MemoryError: result too large"))


if __name__ == "__main__":
    sys.exit(_child_main())
