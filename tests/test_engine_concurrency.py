"""Two drivers on one job, in real processes against the emulator: one drives at a time (the
driver lease), the other waits (`wait=True`) or stops at once with `JobBusyError`; a SIGKILLed
holder's lease is taken over at once. Every key ends with exactly one outcome and the right
value, no request is submitted twice, and every billed batch is collected."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.engine_checks import EchoResponder, assert_complete
from helpers.jobsupport import FAST_POLL, FAST_RETRY

import structbatch as sb
from structbatch.emulator import Emulator

CHILD = Path(__file__).parent / "helpers" / "driver_child.py"
N = 30


def _spawn(emu: Emulator, store: Path, how: str, *, wait: bool, prefix: str = "job") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            str(CHILD),
            str(store),
            emu.base_url,
            str(N),
            how,
            "wait" if wait else "nowait",
            prefix,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _expected(prefix: str = "job") -> dict[str, str]:
    return {f"key {i}": f"{prefix} text {i}" for i in range(N)}


def _finish(emu: Emulator, store: Path) -> None:
    """What a user does after a driver stopped busy: run the job again (a no-op when done)."""
    with sb.Job.open(store, client=emu.client(), poll=FAST_POLL, retry=FAST_RETRY) as job:
        job.run()


@pytest.mark.parametrize("second", ["run", "resume"])
def test_two_drivers_started_together_with_wait_both_finish(second: str, tmp_path: Path) -> None:
    store = tmp_path / "j.db"
    with Emulator(responder=EchoResponder(), latency=1.0) as emu:
        a = _spawn(emu, store, "run", wait=True)
        b = _spawn(emu, store, second, wait=True)
        out_a, err_a = a.communicate(timeout=120)
        out_b, err_b = b.communicate(timeout=120)
        assert a.returncode == 0 and b.returncode == 0, (err_a[-2000:], err_b[-2000:])
        assert "Traceback" not in err_a + err_b
        assert f"done {N}" in out_a + out_b
        assert_complete(emu, [store], {store: _expected()})
        assert len(emu.created_batches()) == 3  # batches of N/3, each created once


@pytest.mark.parametrize("second", ["run", "resume"])
def test_two_drivers_started_together_without_wait_one_stops_busy(second: str, tmp_path: Path) -> None:
    store = tmp_path / "j.db"
    with Emulator(responder=EchoResponder(), latency=1.0) as emu:
        a = _spawn(emu, store, "run", wait=False)
        time.sleep(0.3)  # let the first one take the lease; the second starts while it drives
        b = _spawn(emu, store, second, wait=False)
        out_a, err_a = a.communicate(timeout=120)
        out_b, err_b = b.communicate(timeout=120)
        assert "Traceback" not in err_a + err_b, (err_a[-2000:], err_b[-2000:])
        codes = sorted([a.returncode, b.returncode])
        assert codes in ([0, 5], [0, 0]), (codes, out_a, out_b, err_a[-1000:], err_b[-1000:])
        if 5 in codes:  # the busy one names the holder: the other process
            busy, holder = (out_a, b.pid) if a.returncode == 5 else (out_b, a.pid)
            assert "another process drives this job" in busy and f"pid {holder}" in busy
        _finish(emu, store)
        assert_complete(emu, [store], {store: _expected()})


def test_sigkill_of_the_lease_holder_then_a_new_driver(tmp_path: Path) -> None:
    store = tmp_path / "j.db"
    with Emulator(responder=EchoResponder(), latency=3.0) as emu:
        a = _spawn(emu, store, "run", wait=False)
        deadline = time.monotonic() + 30
        while len(emu.created_batches()) < 1:  # killed while it drives: batches open, lease held
            assert time.monotonic() < deadline and a.poll() is None
            time.sleep(0.01)
        os.kill(a.pid, signal.SIGKILL)
        a.wait()
        with sb.Job.open(store, client=emu.client()) as peek:
            lease = peek.store.lease()
            assert lease is not None and lease.pid == a.pid  # the dead holder's lease is still there
        started = time.monotonic()
        b = _spawn(emu, store, "resume", wait=False)
        out_b, err_b = b.communicate(timeout=120)
        assert b.returncode == 0 and f"done {N}" in out_b, err_b[-2000:]
        assert "took over the driver lease of a dead driver" in err_b
        assert time.monotonic() - started < 60  # taken over at once (pid gone), not after STALE
        assert_complete(emu, [store], {store: _expected()})


def test_reading_never_waits_for_the_lease(tmp_path: Path) -> None:
    store = tmp_path / "j.db"
    with Emulator(responder=EchoResponder(), latency=2.0) as emu:
        a = _spawn(emu, store, "run", wait=False)
        assert a.stdout is not None and a.stdout.readline().strip() == "started"
        deadline = time.monotonic() + 30
        while not emu.created_batches():
            assert time.monotonic() < deadline
            time.sleep(0.01)
        with sb.Job.open(store, client=emu.client(), poll=FAST_POLL, retry=FAST_RETRY) as reader:
            t0 = time.monotonic()
            assert reader.summary().total == N
            assert len(list(reader.outcomes())) < N  # what is final so far, at once
            assert time.monotonic() - t0 < 1.0
            with pytest.raises(sb.JobBusyError, match=f"pid {a.pid}"):
                reader.collect()
        a.communicate(timeout=120)
        assert a.returncode == 0
        assert_complete(emu, [store], {store: _expected()})
