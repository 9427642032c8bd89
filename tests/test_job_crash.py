"""Crash tests: a job runs in a child process that is killed (`kill -9`, or `os._exit(9)` at a
chosen point); the parent reopens the store and finishes. Every key ends with exactly one
outcome, and no custom_id is ever submitted twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.jobsupport import FAST_POLL, FAST_RETRY

import structbatch as sb
from structbatch.emulator import Emulator

CHILD = Path(__file__).parent / "helpers" / "crash_child.py"


def _spawn(emu: Emulator, store: Path, n: int, how: str = "none") -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), str(store), emu.base_url, str(n), how],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _kill_when(proc: subprocess.Popen[bytes], cond: Callable[[], bool], timeout: float = 30.0) -> bool:
    """kill -9 the child as soon as `cond()` holds; False if it exited first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.002)
    proc.kill()
    proc.wait()
    raise AssertionError("the child never reached the point to kill it at")


def _finish_and_check(emu: Emulator, store: Path, n: int) -> sb.Summary:
    job = sb.Job.open(store, client=emu.client(max_retries=0), poll=FAST_POLL, retry=FAST_RETRY)
    summary = job.run()
    outs = list(job.outcomes())
    assert sorted(o.key for o in outs) == sorted(f"key {i}" for i in range(n))
    assert all(o.ok for o in outs), [o.failure for o in outs if not o.ok][:3]
    assert summary.counts == {"ok": n}
    assert summary.pending == summary.inflight == 0
    assert emu.duplicate_custom_ids() == {}
    submitted = Counter(cid for b in emu.created_batches() for cid in b.custom_ids)
    assert sorted(submitted) == sorted(o.custom_id for o in outs)
    assert set(submitted.values()) == {1}
    # the store knows every batch the API has
    assert {b.id for b in emu.created_batches()} == {r.batch_id for r in job.store.batches()}
    job.close()
    return summary


def test_kill_right_after_first_batch_created(tmp_path: Path) -> None:
    n = 30
    with Emulator(latency=1.0) as emu:
        proc = _spawn(emu, tmp_path / "j.db", n)
        assert _kill_when(proc, lambda: len(emu.created_batches()) >= 1)
        assert 1 <= len(emu.created_batches()) <= 3
        emu.latency = 0
        _finish_and_check(emu, tmp_path / "j.db", n)


@pytest.mark.parametrize("point", [1, 2])
def test_kill_during_submission_of_later_batches(point: int, tmp_path: Path) -> None:
    n = 60
    with Emulator(latency=0.5, faults="create:slow@1~0.05") as emu:
        proc = _spawn(emu, tmp_path / "j.db", n)
        assert _kill_when(proc, lambda: emu.call_counts()["create"] >= point + 1)
        emu.faults.clear()
        _finish_and_check(emu, tmp_path / "j.db", n)


def test_kill_during_collection(tmp_path: Path) -> None:
    n = 300
    with Emulator(faults="results:slow@1~0.3") as emu:
        proc = _spawn(emu, tmp_path / "j.db", n)
        assert _kill_when(proc, lambda: emu.call_counts()["results"] >= 2)
        emu.faults.clear()
        _finish_and_check(emu, tmp_path / "j.db", n)
        assert len(emu.created_batches()) == 3


def test_kill_between_intent_and_create(tmp_path: Path) -> None:
    n = 12
    with Emulator() as emu:
        proc = _spawn(emu, tmp_path / "j.db", n, "die_after_intent")
        assert proc.wait(timeout=60) == 9
        assert emu.created_batches() == []
        job = sb.Job.open(tmp_path / "j.db", client=emu.client())
        assert [r.state for r in job.store.batches()] == ["intent"]
        job.close()
        _finish_and_check(emu, tmp_path / "j.db", n)


def test_kill_after_create_before_it_is_recorded(tmp_path: Path) -> None:
    """The worst moment: the API has the batch, the store only the intent. Reconciliation must
    adopt the batch, never create a second one."""
    n = 12
    with Emulator(latency=0.3) as emu:
        proc = _spawn(emu, tmp_path / "j.db", n, "die_before_mark_created")
        assert proc.wait(timeout=60) == 9
        (batch,) = emu.created_batches()
        _finish_and_check(emu, tmp_path / "j.db", n)
        assert emu.created_batches()[0].id == batch.id
        # the reopened job keeps the child's batch limit (n // 3 per batch): three batches in all,
        # each create sent exactly once
        assert emu.call_counts()["create"] == len(emu.created_batches()) == 3


def test_kill_at_random_points(tmp_path: Path) -> None:
    """Several kills in a row at varying moments, then finish."""
    n = 45
    with Emulator(latency=0.2, faults="create:slow@1~0.02,results:slow@1~0.05") as emu:
        store = tmp_path / "j.db"
        for delay in (0.02, 0.1, 0.25):
            proc = _spawn(emu, store, n)
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == b"added"
            start = time.monotonic()
            _kill_when(proc, lambda start=start, delay=delay: time.monotonic() - start > delay)
        emu.faults.clear()
        _finish_and_check(emu, store, n)
