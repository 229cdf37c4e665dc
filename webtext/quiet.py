"""Drop the start-up chatter of Beam's worker processes from the terminal, keep everything else.

Beam's DirectRunner in multi-processing mode starts worker processes that print, before any log
level applies, a handful of INFO lines and warnings about options meant for other runners. They
write straight to the inherited stderr, so no logging filter reaches them. While a pipeline runs,
`filtered_stderr()` points file descriptor 2 at a pipe, and a thread copies every line to the real
stderr except those matching NOISE.

Processes that outlive one pipeline (the workers of a local Dask cluster, reused by the next stage)
must not inherit that pipe: its pump would wait for them to close it. `children_stderr()` gives the
processes started inside it a filtered pipe of their own, whose pump ends when the last of them exits.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading

NOISE = re.compile(
    r"^(INFO:__main__:|INFO:apache_beam\.|.*apitools not found|.*Discarding unparseable args"
    r"|.*No semi_persistent_directory found)")

_REAL_STDERR: list = []  # the real stderr's descriptor while filtered_stderr() is active (a stack)


def _start_pump(out_fd: int, noise: re.Pattern) -> tuple[int, threading.Thread]:
    """A pipe whose lines a daemon thread copies to `out_fd` (a dup of it is kept), noise left out.
    Returns the pipe's write end and the thread, which ends when every copy of that end is closed."""
    read_fd, write_fd = os.pipe()
    out_copy = os.dup(out_fd)

    def pump():
        with os.fdopen(read_fd, "rb", buffering=0) as pipe, os.fdopen(out_copy, "wb", buffering=0) as out:
            pending = b""
            while True:
                chunk = pipe.read(65536)
                if not chunk:
                    break
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if not noise.match(line.decode("utf-8", "replace")):
                        out.write(line + b"\n")
            if pending and not noise.match(pending.decode("utf-8", "replace")):
                out.write(pending)

    thread = threading.Thread(target=pump, name="stderr-filter", daemon=True)
    thread.start()
    return write_fd, thread


@contextlib.contextmanager
def filtered_stderr(noise: re.Pattern = NOISE):
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real stderr (embedded, some test runners)
        yield
        return
    write_fd, thread = _start_pump(saved, noise)
    os.dup2(write_fd, 2)
    os.close(write_fd)
    _REAL_STDERR.append(saved)
    try:
        yield
    finally:
        _REAL_STDERR.pop()
        sys.stderr.flush()
        os.dup2(saved, 2)  # closes the pipe's last write end held by this process
        os.close(saved)
        thread.join(timeout=5)  # a process still holding the pipe would keep it open: don't wait forever


@contextlib.contextmanager
def children_stderr(noise: re.Pattern = NOISE):
    """Processes started inside this block write their stderr, filtered, to the real stderr through a
    pipe of their own (not through an enclosing filtered_stderr's pipe, which must close when its
    pipeline ends)."""
    try:
        sys.stderr.flush()
        previous = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    write_fd, _ = _start_pump(_REAL_STDERR[-1] if _REAL_STDERR else previous, noise)
    os.dup2(write_fd, 2)
    os.close(write_fd)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(previous, 2)
        os.close(previous)
