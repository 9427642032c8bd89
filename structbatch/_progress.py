"""A one-line progress display for `Job(on_progress=...)`, written to stderr.

On a terminal the line is redrawn in place (carriage return) at most ten times a second. When
stderr is not a terminal (CI logs, files) a new line is printed only when something changed and
at most every `log_interval` seconds, plus the last one, so logs stay short and readable.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from ._job import Progress


def human(n: float) -> str:
    """12345 -> "12.3k"."""
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.1f}{unit}"
    return str(int(n))


def clock(seconds: float) -> str:
    """Seconds as h:mm:ss or m:ss."""
    s = int(max(seconds, 0))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def progress_line(p: Progress, label: str = "") -> str:
    """The text of one progress line (also used by `status`)."""
    eta = "—"
    if p.done and p.done < p.total and p.elapsed > 0:
        # Batches end in chunks, so this is a rough linear guess from the keys finished so far.
        eta = "~" + clock(p.elapsed / p.done * (p.total - p.done))
    elif p.total and p.done >= p.total:
        eta = "done"
    cost = f"${p.cost:.4f}" if p.cost is not None else "cost n/a"
    prefix = f"{label}: " if label else ""
    return (
        f"{prefix}{p.phase:<7} batches {p.batches_open} open/{p.batches_ended} ended | "
        f"keys {p.done}/{p.total} done ({p.ok} ok, {p.failed} failed), {p.pending} pending, "
        f"{p.inflight} in flight | tokens {human(p.usage.input_tokens)} in/"
        f"{human(p.usage.output_tokens)} out | {cost} | {clock(p.elapsed)} ETA {eta}"
    )


class ProgressDisplay:
    """Callable for `on_progress`; call `close()` at the end to finish the line."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        label: str = "",
        tty: bool | None = None,
        log_interval: float = 5.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.label = label
        self.log_interval = log_interval
        self._now = now
        self._last_time = float("-inf")
        self._last_text = ""
        self._last_state: tuple[int, ...] = ()
        self._pending: str | None = None
        self._width = 0

    def __call__(self, p: Progress) -> None:
        text = progress_line(p, self.label)
        state = (p.pending, p.inflight, p.done, p.batches_open, p.batches_ended)
        now = self._now()
        if self.tty:
            if now - self._last_time >= 0.1 or p.phase == "done":
                self._draw(text)
                self._last_time = now
            return
        if state == self._last_state and p.phase != "done":
            self._pending = text
            return
        self._last_state = state
        if now - self._last_time >= self.log_interval or p.phase == "done":
            self._write_line(text)
            self._last_time = now
        else:
            self._pending = text

    def _draw(self, text: str) -> None:
        pad = max(self._width - len(text), 0)
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()
        self._width = len(text)
        self._last_text = text

    def _write_line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()
        self._last_text = text
        self._pending = None

    def close(self) -> None:
        """End the display: a newline on a terminal; the last unprinted state in a log."""
        if self.tty:
            if self._width:
                self.stream.write("\n")
                self.stream.flush()
                self._width = 0
        elif self._pending is not None and self._pending != self._last_text:
            self._write_line(self._pending)
