"""Progress displays: plain throttled lines in logs, rich bars on a terminal, an ETA from the
batches' real timing (and a plain statement when there is none yet), log records shown through
the display, and the CLI's choice of display."""

from __future__ import annotations

import io
import logging
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

from structbatch._job import Progress
from structbatch._outcome import Usage
from structbatch._progress import NO_PER_REQUEST_PROGRESS, BatchTimer, ProgressDisplay, eta_text

ROOT = Path(__file__).resolve().parents[1]


def snap(
    phase: str = "wait", *, done: int = 0, total: int = 100, opened: int = 2, ended: int = 0
) -> Progress:
    return Progress(
        phase=phase,
        total=total,
        pending=0,
        inflight=total - done,
        done=done,
        ok=done,
        failed=0,
        batches_open=opened,
        batches_ended=ended,
        usage=Usage(1200 * done, 300 * done),
        cost=0.001 * done,
        elapsed=0.0,
    )


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_no_eta_until_a_batch_ends_then_one_from_how_long_batches_took() -> None:
    timer = BatchTimer()
    timer.update(snap(opened=2), now=0.0)
    assert eta_text(timer, snap(opened=2), now=30.0) == "ETA unknown: " + NO_PER_REQUEST_PROGRESS
    timer.update(snap(done=50, opened=1, ended=1), now=100.0)  # the first batch took 100 s
    assert timer.eta(snap(done=50, opened=1, ended=1), now=100.0) == pytest.approx(0.0)
    timer2 = BatchTimer()
    timer2.update(snap(opened=1), now=0.0)
    timer2.update(snap(opened=2), now=60.0)  # a second batch opens a minute later
    timer2.update(snap(done=50, opened=1, ended=1), now=100.0)
    # The open batch started at 60 s and batches take 100 s: it should end at 160 s.
    assert timer2.eta(snap(done=50, opened=1, ended=1), now=100.0) == pytest.approx(60.0)
    assert eta_text(timer2, snap(done=50, opened=1, ended=1), now=100.0).startswith(
        "ETA ~1:00 (from 1 ended batch)"
    )
    assert eta_text(timer2, snap("done", done=100, opened=0, ended=2), now=170.0) == "done"


def test_plain_lines_are_throttled_and_the_last_one_is_always_printed() -> None:
    out = io.StringIO()
    clock = Clock()
    display = ProgressDisplay(out, label="recipes", tty=False, log_interval=5.0, now=clock)
    display(snap(opened=1))
    for second in range(1, 4):
        clock.t = second
        display(snap(done=second, opened=1))  # changes, but within 5 s of the last line
    display.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("recipes: wait")
    assert (
        "keys 3/100 done" in lines[1] and "ETA unknown: the API reports no per-request progress" in lines[1]
    )
    display.close()  # idempotent
    assert len(out.getvalue().splitlines()) == 2


def test_rich_bars_show_counts_tokens_cost_and_what_is_happening() -> None:
    out = io.StringIO()
    clock = Clock()
    display = ProgressDisplay(out, label="invoices", style="bars", now=clock)
    display(snap("submit", opened=0))
    clock.t = 1
    display(snap(opened=2))
    clock.t = 2
    display(snap("done", done=100, opened=0, ended=2))
    display.close()
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())  # without the terminal's styles
    assert max(len(line) for line in text.splitlines()) <= 80  # whole on an 80-column terminal
    for expected in (
        "invoices",
        "100/100 keys",
        "100 ok",
        "0 failed",
        "tokens 120.0k in, 30.0k out",
        "$0.1000",
    ):
        assert expected in text, expected
    flat = " ".join(text.split())  # the note wraps on narrow terminals
    assert "waiting for 2 batches to end" in flat and NO_PER_REQUEST_PROGRESS in flat


def test_log_records_go_through_an_open_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logging.getLogger(), "handlers", [])  # a script that configured no logging
    out = io.StringIO()
    display = ProgressDisplay(out, tty=False)
    logger = logging.getLogger("structbatch")
    had = list(logger.handlers)
    display(snap(opened=1))
    try:
        logger.info("no batch for the unconfirmed create yet; checking again in 22.0s")
    finally:
        display.close()
    assert "structbatch: no batch for the unconfirmed create yet; checking again in 22.0s" in out.getvalue()
    assert logger.handlers == had  # the display's own handler is gone again


def test_the_cli_draws_bars_on_a_terminal(tmp_path: Path) -> None:
    """`run --emulator` in a pseudo-terminal: rich redraws in place (cursor codes), ends at 5/5."""
    (tmp_path / "in.jsonl").write_text("".join(f'{{"id": "k{i}", "text": "Toast {i}."}}\n' for i in range(5)))
    job = tmp_path / "job.toml"
    job.write_text(
        f'schema = "{ROOT / "schemas" / "recipe.json"}"\nmodel = "claude-haiku-4-5"\n'
        '[input]\npath = "in.jsonl"\nkey = "id"\n'
    )
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    child = subprocess.Popen(
        [sys.executable, "-m", "structbatch.cli", "run", "--emulator", str(job), "--poll", "0.1"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=follower,
        env={**env, "COLUMNS": "160", "TERM": "xterm"},
        cwd=tmp_path,
    )
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert child.wait(timeout=60) == 0
    text = b"".join(chunks).decode("utf-8", "replace")
    assert "\x1b[" in text and "5/5" in text and "5 ok" in text  # drawn by rich, finished
    assert "created batch" in text  # the engine's log line, printed above the bars
