"""Progress for people: live bars on a terminal (rich), throttled plain lines in logs and CI.

`ProgressDisplay` is the callable `Job(on_progress=...)` takes (and what `job.run(progress=True)`
and the CLI use). On a terminal it draws one bar per job with the keys per state (ok, failed, in
flight, pending), elapsed time, an ETA, tokens and cost so far, and a line saying what the job is
doing. Elsewhere (a pipe, a file, `CI` set) it prints a plain line when something changed, at
most every `log_interval` seconds, plus the last one.

The ETA comes from the batches' real timing: the Message Batches API reports no per-request
progress while a batch runs (`request_counts` stay at `processing` until the whole batch ends,
reference section 1), so until a first batch has ended the display says exactly that instead of
guessing; afterwards it expects each open batch to take as long as the ended ones did.

Log records of the `structbatch` logger (what the engine is doing: creating batches, waiting
for an unconfirmed create to settle, retries) go through the display, above the bars.
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TextIO

if TYPE_CHECKING:
    from ._job import Progress

log = logging.getLogger("structbatch")

Style = Literal["auto", "bars", "plain"]

#: Said while no batch has ended yet, so an empty ETA is never a mystery.
NO_PER_REQUEST_PROGRESS = "the API reports no per-request progress until a batch ends (most end within 1 h)"

_PHASES = {
    "submit": "creating batches",
    "wait": "waiting for batches to end",
    "collect": "downloading results",
    "done": "done",
}


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


class BatchTimer:
    """Estimates the time left from when batches opened and ended, as seen in progress snapshots.

    Batches are matched first-opened, first-ended (they run in parallel and usually end in the
    order they were created); each ended batch gives one observed duration.
    """

    def __init__(self) -> None:
        self.opened: deque[float] = deque()
        self.durations: list[float] = []
        self._seen_created = 0
        self._seen_ended = 0

    def update(self, p: Progress, now: float) -> None:
        created = p.batches_open + p.batches_ended
        for _ in range(max(created - self._seen_created, 0)):
            self.opened.append(now)
        self._seen_created = max(created, self._seen_created)
        for _ in range(max(p.batches_ended - self._seen_ended, 0)):
            started = self.opened.popleft() if self.opened else now
            self.durations.append(now - started)
        self._seen_ended = max(p.batches_ended, self._seen_ended)

    def eta(self, p: Progress, now: float) -> float | None:
        """Seconds left, or None when nothing has ended yet (no basis for a guess)."""
        if not self.durations:
            return None
        typical = statistics.median(self.durations)
        left = max((start + typical - now for start in self.opened), default=0.0)
        if p.pending:  # keys not in any batch yet: at least one more round
            left += typical
        return max(left, 0.0)


def eta_text(timer: BatchTimer, p: Progress, now: float) -> str:
    """ "ETA ~1:20", "done", or why there is no estimate yet."""
    if p.phase == "done" or (p.total and p.done >= p.total):
        return "done"
    left = timer.eta(p, now)
    if left is None:
        return "ETA unknown: " + NO_PER_REQUEST_PROGRESS if p.batches_open else "ETA —"
    if left < 1:
        return "ETA any moment now"
    return f"ETA ~{clock(left)} (from {len(timer.durations)} ended batch{'es' if len(timer.durations) > 1 else ''})"


def _cost(p: Progress) -> str:
    return f"${p.cost:.4f}" if p.cost is not None else "cost n/a"


def progress_line(p: Progress, label: str = "", eta: str | None = None) -> str:
    """The text of one plain progress line."""
    prefix = f"{label}: " if label else ""
    if eta is None:
        eta = "done" if p.total and p.done >= p.total else "ETA —"
    return (
        f"{prefix}{p.phase:<7} batches {p.batches_open} open/{p.batches_ended} ended | "
        f"keys {p.done}/{p.total} done ({p.ok} ok, {p.failed} failed), {p.pending} pending, "
        f"{p.inflight} in flight | tokens {human(p.usage.input_tokens)} in/"
        f"{human(p.usage.output_tokens)} out | {_cost(p)} | {clock(p.elapsed)} | {eta}"
    )


_active: list[ProgressDisplay] = []


class ProgressDisplay:
    """Callable for `on_progress`; call `close()` at the end (or use it as a context manager).

    `style` is "bars" (rich, redrawn in place), "plain" (lines) or "auto": bars on a terminal
    unless the `CI` environment variable is set. `show_logs` prints the `structbatch` logger's
    INFO records through the display while it is open, unless logging is already configured
    (the CLI configures it; a script calling `logging.basicConfig` has its own).
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        label: str = "",
        tty: bool | None = None,
        style: Style = "auto",
        log_interval: float = 5.0,
        show_logs: bool = True,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if tty is None:
            tty = _isatty(self.stream)
        self.tty = tty
        self.bars = style == "bars" or (style == "auto" and tty and not os.environ.get("CI"))
        self.label = label
        self.log_interval = log_interval
        self.show_logs = show_logs
        self._now = now
        self.timer = BatchTimer()
        self._last_time = float("-inf")
        self._last_text = ""
        self._last_state: tuple[int, ...] = ()
        self._pending: str | None = None
        self._rich: _RichBars | None = None
        self._own_handler: logging.Handler | None = None
        self._old_level = logging.NOTSET
        self._opened = False
        self._closed = False

    # -- the callable --------------------------------------------------------------------------

    def __call__(self, p: Progress) -> None:
        if self._closed:
            return
        if not self._opened:
            self._open()
        now = self._now()
        self.timer.update(p, now)
        eta = eta_text(self.timer, p, now)
        if self._rich is not None:
            self._rich.update(p, eta)
            return
        text = progress_line(p, self.label, eta)
        state = (p.pending, p.inflight, p.done, p.batches_open, p.batches_ended)
        if state == self._last_state and p.phase != "done":
            self._pending = text
            return
        self._last_state = state
        if now - self._last_time >= self.log_interval or p.phase == "done":
            self._write_line(text)
            self._last_time = now
        else:
            self._pending = text

    def log(self, message: str) -> None:
        """Print a message above the bars (or as a line of its own)."""
        if self._rich is not None:
            self._rich.console.print(message, markup=False, highlight=False)
        else:
            self._write(message + "\n")

    def close(self) -> None:
        """End the display: the bars stay as their last state; a log gets the last unprinted line."""
        if self._closed:
            return
        self._closed = True
        if self._rich is not None:
            self._rich.stop()
        elif self._pending is not None and self._pending != self._last_text:
            self._write_line(self._pending)
        if self in _active:
            _active.remove(self)
        if self._own_handler is not None:
            log.removeHandler(self._own_handler)
            log.setLevel(self._old_level)

    def __enter__(self) -> ProgressDisplay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------------------

    def _open(self) -> None:
        self._opened = True
        _active.append(self)
        if self.show_logs and not log.handlers and not logging.getLogger().handlers:
            self._own_handler = log_handler(self.stream, level=logging.INFO)
            self._old_level = log.level
            log.addHandler(self._own_handler)
            if log.getEffectiveLevel() > logging.INFO:
                log.setLevel(logging.INFO)
        if self.bars:
            self._rich = _RichBars(self.stream, self.label)

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (BrokenPipeError, ValueError):  # stderr closed or gone: progress is optional
            self._closed = True

    def _write_line(self, text: str) -> None:
        self._write(text + "\n")
        self._last_text = text
        self._pending = None


class _RichBars:
    """One rich bar for one job, with two lines below it: keys per state, tokens and cost; then
    what is happening and the ETA. Short lines, so an 80-column terminal shows them whole."""

    def __init__(self, stream: TextIO, label: str) -> None:
        from rich.console import Console, Group
        from rich.live import Live
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress
        from rich.text import Text

        self.console = Console(file=stream, force_terminal=True, highlight=False)
        self.progress = RichProgress(
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TextColumn("keys"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[cost]}"),
            console=self.console,
            auto_refresh=False,
        )
        self.task = self.progress.add_task(label.strip() or "job", total=None, cost="")
        self.counts = Text("")
        self.note = Text("", style="dim")
        self.live = Live(
            Group(self.progress, self.counts, self.note),
            console=self.console,
            refresh_per_second=8,
            transient=False,
        )
        self.live.start()

    def update(self, p: Progress, eta: str) -> None:
        from rich.text import Text

        self.progress.update(self.task, total=p.total or None, completed=p.done, cost=_cost(p))
        self.counts.truncate(0)
        self.counts.append_text(
            Text.assemble(
                "  ",
                (f"{p.ok} ok", "green"),
                " · ",
                (f"{p.failed} failed", "red" if p.failed else ""),
                " · ",
                (f"{p.inflight} in flight", "cyan"),
                " · ",
                (f"{p.pending} pending", "yellow"),
                f" · tokens {human(p.usage.input_tokens)} in, {human(p.usage.output_tokens)} out",
            )
        )
        doing = _PHASES.get(p.phase, p.phase)
        if p.phase == "wait":
            doing = f"waiting for {p.batches_open} batch{'es' if p.batches_open != 1 else ''} to end"
        ended = f"{p.batches_ended} batch{'es' if p.batches_ended != 1 else ''} ended"
        self.note.plain = f"  done: {ended}" if p.phase == "done" else f"  {doing} · {ended} · {eta}"
        self.live.refresh()

    def stop(self) -> None:
        self.live.stop()


class _DisplayHandler(logging.Handler):
    """Log records as one line each, through the newest open display (above its bars)."""

    def __init__(self, stream: TextIO, level: int) -> None:
        super().__init__(level)
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level = "" if record.levelno < logging.WARNING else f"{record.levelname.lower()}: "
            text = f"structbatch: {level}{record.getMessage()}"
            if _active:
                _active[-1].log(text)
            else:
                self.stream.write(text + "\n")
                self.stream.flush()
        except (BrokenPipeError, ValueError):
            pass  # stderr went away; nothing to tell anyone


def log_handler(stream: TextIO | None = None, *, level: int = logging.INFO) -> logging.Handler:
    """A handler for the `structbatch` logger that prints through the open progress display."""
    return _DisplayHandler(stream if stream is not None else sys.stderr, level)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False
