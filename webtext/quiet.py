"""Drop the start-up chatter of Beam's worker processes from the terminal, keep everything else.

Beam's DirectRunner in multi-processing mode starts worker processes that print, before any log
level applies, a handful of INFO lines and warnings about options meant for other runners. They
write straight to the inherited stderr, so no logging filter reaches them. While a pipeline runs,
`filtered_stderr()` points file descriptor 2 at a pipe, and a thread copies every line to the real
stderr except those matching NOISE.
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


@contextlib.contextmanager
def filtered_stderr(noise: re.Pattern = NOISE):
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real stderr (embedded, some test runners)
        yield
        return
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, 2)
    os.close(write_fd)

    def pump():
        with os.fdopen(read_fd, "rb", buffering=0) as pipe, os.fdopen(os.dup(saved), "wb", buffering=0) as out:
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
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)  # closes the pipe's last write end held by this process
        os.close(saved)
        thread.join(timeout=5)  # worker processes still holding the pipe would keep it open: don't wait forever
