"""Never adopt a batch that is not provably ours: two jobs with separate stores over the same
keys, batch sizes and API key, where a create response is lost (on one job, and on both), and
timed so that the batch created closest to the lost create is the *other* job's. Each job must
end with its own answers, every batch must be created once and collected by its own job."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.engine_checks import EchoResponder, assert_complete
from helpers.jobsupport import FAST_POLL, FAST_RETRY, Person

import structbatch as sb
from structbatch.emulator import Emulator

N = 12


def _job(emu: Emulator, path: Path, prefix: str) -> sb.Job[Any]:
    job = sb.Job(
        Person, model="claude-haiku-4-5", store=path, client=emu.client(), poll=FAST_POLL, retry=FAST_RETRY
    )
    job.add_many((f"k{i}", f"{prefix} text {i}") for i in range(N))  # the same keys in both jobs
    return job


def _run_in_thread(emu: Emulator, path: Path, prefix: str, errors: list[BaseException]) -> threading.Thread:
    def go() -> None:
        try:
            with _job(emu, path, prefix) as job:
                job.run()
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    thread = threading.Thread(target=go)
    thread.start()
    return thread


def _expected(prefix: str) -> dict[str, str]:
    return {f"k{i}": f"{prefix} text {i}" for i in range(N)}


def test_lost_create_adopts_only_its_own_batch_though_another_is_closer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    # B's create is slow to commit and its response is lost; A creates a batch of the same size
    # meanwhile, so A's batch is the one created closest to B's intent.
    with Emulator(responder=EchoResponder(), latency=0.5, faults="create:slow~0.8,create:lostx1") as emu:
        errors: list[BaseException] = []
        with caplog.at_level(logging.INFO, logger="structbatch"):
            thread_b = _run_in_thread(emu, b, "B", errors)
            _await_first_create(emu, errors)
            thread_a = _run_in_thread(emu, a, "A", errors)
            thread_a.join(60)
            thread_b.join(60)
        assert errors == []
        assert emu.faults.fired["create:lost"] == 1
        assert len(emu.created_batches()) == 2
        assert_complete(emu, [a, b], {a: _expected("A"), b: _expected("B")})
        text = caplog.text
        assert "not this job's" in text  # B adopted A's batch, found out from its first line
        assert "confirmed ours by its results" in text


def test_lost_creates_on_both_jobs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    # B: slow and lost; A (created during B's delay): lost too.
    with Emulator(responder=EchoResponder(), latency=0.5, faults="create:slow~0.8,create:lostx2") as emu:
        errors: list[BaseException] = []
        thread_b = _run_in_thread(emu, b, "B", errors)
        _await_first_create(emu, errors)
        thread_a = _run_in_thread(emu, a, "A", errors)
        thread_a.join(60)
        thread_b.join(60)
        assert errors == []
        assert emu.faults.fired["create:lost"] == 2
        assert emu.call_counts()["create"] == 2 == len(emu.created_batches())  # never created again
        assert_complete(emu, [a, b], {a: _expected("A"), b: _expected("B")})


def test_lost_create_with_many_lookalike_batches_of_other_jobs(tmp_path: Path) -> None:
    """Three other jobs' batches of the same size around the lost create: still only ours."""
    others = [tmp_path / f"o{i}.db" for i in range(3)]
    mine = tmp_path / "mine.db"
    with Emulator(responder=EchoResponder(), latency=0.3) as emu:
        for i, path in enumerate(others):
            _job(emu, path, f"O{i}").submit()
        emu.faults.add("create:lostx1")
        job = _job(emu, mine, "M")
        job.run()
        job.close()
        for path in others:
            with sb.Job.open(path, client=emu.client(), poll=FAST_POLL, retry=FAST_RETRY) as other:
                other.run()
        assert_complete(
            emu,
            [*others, mine],
            {**{p: _expected(f"O{i}") for i, p in enumerate(others)}, mine: _expected("M")},
        )


def _await_first_create(emu: Emulator, errors: list[BaseException], timeout: float = 30.0) -> None:
    """Block until the first batch create reached the emulator (bounded, failing with the cause)."""
    deadline = time.monotonic() + timeout
    while emu.call_counts().get("create", 0) < 1:
        assert not errors, errors
        assert time.monotonic() < deadline, f"no create within {timeout} s: {emu.call_counts()}"
        time.sleep(0.005)
