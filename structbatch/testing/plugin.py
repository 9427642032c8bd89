"""pytest plugin (entry point `structbatch`): a running emulator, its client, and a job factory.

Registered through the `pytest11` entry point, so any project with structbatch installed gets:

- `structbatch_emulator`: a started `structbatch.emulator.Emulator` on 127.0.0.1 (function scope);
- `structbatch_client`: an `anthropic.Anthropic` client pointed at it;
- `structbatch_job`: a factory `structbatch_job(spec, model=..., **options) -> Job` that builds jobs
  on a fresh store in `tmp_path`, talking to the emulator, with fast polling.

Nothing is imported from structbatch until a fixture is used, so the plugin costs nothing in
test suites that do not use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import anthropic

    from structbatch import Job
    from structbatch.emulator import Emulator


@pytest.fixture
def structbatch_emulator() -> Iterator[Emulator]:
    """A local Anthropic API emulator on a free loopback port, stopped after the test."""
    from structbatch.emulator import Emulator

    with Emulator() as emu:
        yield emu


@pytest.fixture
def structbatch_client(structbatch_emulator: Emulator) -> anthropic.Anthropic:
    """An `anthropic.Anthropic` client talking to `structbatch_emulator`."""
    return structbatch_emulator.client()


@pytest.fixture
def structbatch_job(
    structbatch_client: anthropic.Anthropic, tmp_path: Path
) -> Iterator[Callable[..., Job[Any]]]:
    """A factory of jobs on fresh stores under `tmp_path`, polling the emulator quickly."""
    from structbatch import Job, PollPolicy, RetryPolicy

    jobs: list[Job[Any]] = []

    def make(spec: Any, *, model: str = "claude-haiku-4-5", **options: Any) -> Job[Any]:
        options.setdefault("poll", PollPolicy(initial=0.01, factor=1.5, maximum=0.2))
        options.setdefault("retry", RetryPolicy(initial=0.01, maximum=0.2, attempts=6))
        store = options.pop("store", tmp_path / f"job{len(jobs)}.db")
        job = Job(spec, model=model, store=store, client=structbatch_client, **options)
        jobs.append(job)
        return job

    yield make
    for job in jobs:
        job.close()
