"""Config before the store, and our own bugs never blamed on the model (engine-trust issue):
a refused mode or a refused preflight followed by a corrected Job on the same path completes;
an injected parser bug ends as `internal`, counted, never re-asked or resubmitted."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from helpers.engine_checks import EchoResponder, assert_complete
from helpers.jobsupport import FAST_POLL, FAST_RETRY, Person

import structbatch as sb
from structbatch import FailureKind
from structbatch.emulator import Emulator

N = 6


def _job(emu: Emulator, path: Path, **options: Any) -> sb.Job[Person]:
    options.setdefault("model", "claude-haiku-4-5")
    return sb.Job(Person, store=path, client=emu.client(), poll=FAST_POLL, retry=FAST_RETRY, **options)


def _expected() -> dict[str, str]:
    return {f"k{i}": f"text {i}" for i in range(N)}


def _add(job: sb.Job[Person]) -> None:
    job.add_many((k, v) for k, v in _expected().items())


def test_refused_mode_leaves_a_store_a_corrected_job_can_use(tmp_path: Path) -> None:
    path = tmp_path / "job.db"
    with Emulator(responder=EchoResponder(), latency=0) as emu:
        with pytest.raises(sb.ModeError):
            _job(emu, path, model="claude-haiku-5-5", mode="prefill")  # Haiku 5.5 answers 400 to prefill
        assert not path.exists()  # refused before the store was touched
        with _job(emu, path, model="claude-haiku-5-5") as job:  # AUTO picks what the model accepts
            _add(job)
            summary = job.run()
        assert summary.ok == N
        assert_complete(emu, [path], {path: _expected()})


def test_refused_preflight_then_the_corrected_model_on_the_same_store(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "job.db"
    with Emulator(responder=EchoResponder(), latency=0) as emu:
        with _job(emu, path, model="claude-foo-9") as bad:
            _add(bad)
            with pytest.raises(sb.PreflightError, match="claude-foo-9"):
                bad.run()
        assert emu.created_batches() == []  # nothing submitted, so the model may still change
        with caplog.at_level(logging.INFO, logger="structbatch"), _job(emu, path) as job:
            _add(job)
            summary = job.run()
        assert summary.ok == N and summary.model == "claude-haiku-4-5"
        assert len(emu.created_batches()) == 1
        assert_complete(emu, [path], {path: _expected()})
        with sb.Job.open(path, client=emu.client()) as reopened:
            assert reopened.model == "claude-haiku-4-5"


def test_a_parser_bug_is_internal_and_never_reasked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from structbatch import _parse

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("injected bug")

    monkeypatch.setattr(_parse, "fast_result_line", broken)
    monkeypatch.setattr(_parse, "parse_result_line", broken)
    path = tmp_path / "job.db"
    with Emulator(responder=EchoResponder(), latency=0) as emu:
        with caplog.at_level(logging.ERROR, logger="structbatch"), _job(emu, path) as job:
            _add(job)
            summary = job.run()
            outcomes = list(job.outcomes())
        assert summary.counts == {"internal": N}
        assert [o.kind for o in outcomes] == [FailureKind.INTERNAL] * N
        assert all(o.attempts == 1 for o in outcomes)  # never resubmitted
        assert len(emu.created_batches()) == 1 and emu.call_counts().get("messages", 0) == 0  # never re-asked
        assert "injected bug" in caplog.text  # logged with its traceback
