"""The progress display: one line per stage event, a live status line on a terminal.

    [2/6] clean      running ...
    [2/6] clean      done in 14.2s: 312 in -> 251 out; dropped too_short 31, lang 12, ...
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Optional, TextIO


def format_counts(counts: Optional[dict]) -> str:
    if not counts:
        return ""
    parts = []
    if "in" in counts or "out" in counts:
        parts.append(f"{counts.get('in', '?'):,} in -> {counts.get('out', '?'):,} out" if all(
            isinstance(counts.get(k), int) for k in ("in", "out")) else f"{counts.get('in')} in -> {counts.get('out')} out")
    dropped = counts.get("dropped") or {}
    if dropped:
        top = sorted(dropped.items(), key=lambda kv: -kv[1])
        shown = ", ".join(f"{k} {v:,}" for k, v in top[:6])
        more = f", +{len(top) - 6} more" if len(top) > 6 else ""
        parts.append(f"dropped {shown}{more}")
    return "; ".join(parts)


class Progress:
    def __init__(self, stream: Optional[TextIO] = None, quiet: bool = False):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.live = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._lock = threading.Lock()
        self._started: dict[str, float] = {}
        self._pos: dict[str, str] = {}
        self._ticker: Optional[threading.Thread] = None
        self._current: Optional[str] = None
        self._note = ""

    def _print(self, line: str) -> None:
        if self.quiet:
            return
        with self._lock:
            if self.live:
                self.stream.write("\r\033[K")
            self.stream.write(line + "\n")
            self.stream.flush()

    def _tag(self, name: str) -> str:
        return f"{self._pos.get(name, '')} {name:<8}".strip()

    def start(self, name: str, position=(1, 1), resumed: bool = False) -> None:
        self._pos[name] = f"[{position[0]}/{position[1]}]"
        self._started[name] = time.time()
        self._print(f"{self._tag(name)} {'resuming' if resumed else 'running'} ...")
        self._current, self._note = name, ""
        if self.live and not self.quiet and self._ticker is None:
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()

    def _tick(self) -> None:
        # Redraw the elapsed time of the running stage twice a second (terminals only).
        while True:
            time.sleep(0.5)
            name = self._current
            if name is None:
                continue
            with self._lock:
                elapsed = time.time() - self._started.get(name, time.time())
                self.stream.write(f"\r\033[K{self._tag(name)} {elapsed:6.1f}s {self._note}"[:200])
                self.stream.flush()

    def note(self, name: str, message: str) -> None:
        """A stage's own progress message (a phase, a count)."""
        self._note = message
        if not self.live:
            self._print(f"{self._tag(name)} {message}")

    def skip(self, name: str, position, success: dict) -> None:
        self._pos[name] = f"[{position[0]}/{position[1]}]"
        self._print(f"{self._tag(name)} already done (fingerprint {success.get('fingerprint', '?')[:10]}), skipping: "
                    f"{format_counts(success.get('counts'))}")

    def done(self, name: str, record: dict) -> None:
        self._current = None
        self._print(f"{self._tag(name)} done in {record.get('seconds', 0):.1f}s: {format_counts(record.get('counts'))}")

    def fail(self, name: str, seconds: float) -> None:
        self._current = None
        self._print(f"{self._tag(name)} FAILED after {seconds:.1f}s")
