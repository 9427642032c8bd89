"""pytest plugin (entry point `structbatch`): a running emulator, its client, and a job factory.

Registered through the `pytest11` entry point, so any project with structbatch installed gets:

- `structbatch_emulator`: a started `structbatch.emulator.Emulator` on 127.0.0.1 (function scope);
- `structbatch_client`: an `anthropic.Anthropic` client pointed at it;
- `structbatch_transport`: an in-process emulator's httpx transport (sync and async, no socket):
  `anthropic.Anthropic(api_key="k", http_client=httpx2.Client(transport=structbatch_transport))`;
- `structbatch_inprocess_client` / `structbatch_inprocess_async_client`: SDK clients built that way;
- `structbatch_job`: a factory `structbatch_job(spec, model=..., **options) -> Job` that builds jobs
  on a fresh store in `tmp_path`, talking to the emulator, with fast polling;
- `structbatch_spec`: `structbatch_spec(Recipe)` -> a compiled `Spec` (cached per source);
- `structbatch_session_emulator`: one emulator for the whole session, for hypothesis tests
  (`@given` re-runs the test body many times; function-scoped fixtures are not reset between
  examples, and hypothesis flags them);
- `structbatch_replay`: `client = structbatch_replay(sent)` makes the session emulator answer
  every request with `sent`'s message (a `structbatch.testing.Sent`, or a message dict) and
  returns a client: your real prompt and params code goes over HTTP through the SDK, and gets
  exactly the answer a strategy drew.

Nothing is imported from structbatch until a fixture is used, so the plugin costs nothing in
test suites that do not use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import anthropic

    from structbatch import Job, Spec
    from structbatch.emulator import Emulator, EmulatorTransport


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
def structbatch_inprocess_emulator() -> Iterator[Emulator]:
    """An emulator that is never bound to a port: clients reach it through its transport."""
    from structbatch.emulator import Emulator

    emu = Emulator()
    yield emu
    emu.stop()


@pytest.fixture
def structbatch_transport(structbatch_inprocess_emulator: Emulator) -> EmulatorTransport:
    """An httpx transport (sync and async) serving `structbatch_inprocess_emulator` in-process."""
    return structbatch_inprocess_emulator.transport()


@pytest.fixture
def structbatch_inprocess_client(structbatch_transport: EmulatorTransport) -> anthropic.Anthropic:
    """An `anthropic.Anthropic` client whose requests never leave the process."""
    import anthropic
    import httpx2

    return anthropic.Anthropic(
        api_key="sk-emu-test0000", http_client=httpx2.Client(transport=structbatch_transport)
    )


@pytest.fixture
def structbatch_inprocess_async_client(structbatch_transport: EmulatorTransport) -> anthropic.AsyncAnthropic:
    """The async SDK client on the in-process transport."""
    import anthropic
    import httpx2

    http = httpx2.AsyncClient(transport=structbatch_transport)
    return anthropic.AsyncAnthropic(api_key="sk-emu-test0000", http_client=http)


@pytest.fixture
def structbatch_job(
    structbatch_client: anthropic.Anthropic, tmp_path: Path
) -> Iterator[Callable[..., Job[Any]]]:
    """A factory of jobs on fresh stores under `tmp_path`, polling the emulator quickly."""
    from structbatch import Job, PollPolicy, RetryPolicy

    jobs: list[Job[Any]] = []

    def make(spec: Any, *, model: str = "claude-haiku-4-5", **options: Any) -> Job[Any]:
        options.setdefault("poll", PollPolicy(initial=0.01, factor=1.5, maximum=0.2))
        options.setdefault("retry", RetryPolicy(initial=0.01, maximum=0.2, attempts=6, settle=0.3))
        store = options.pop("store", tmp_path / f"job{len(jobs)}.db")
        job = Job(spec, model=model, store=store, client=structbatch_client, **options)
        jobs.append(job)
        return job

    yield make
    for job in jobs:
        job.close()


@pytest.fixture
def structbatch_spec() -> Callable[..., Spec[Any]]:
    """`structbatch_spec(source, **compile_options) -> Spec`, compiled once per source and options."""
    from structbatch import compile

    cache: dict[tuple[int, tuple[tuple[str, Any], ...]], tuple[Any, Spec[Any]]] = {}

    def make(source: Any, **options: Any) -> Spec[Any]:
        key = (id(source), tuple(sorted(options.items())))
        hit = cache.get(key)
        if hit is None or hit[0] is not source:
            hit = (source, compile(source, **options))
            cache[key] = hit
        return hit[1]

    return make


@pytest.fixture(scope="session")
def structbatch_session_emulator() -> Iterator[Emulator]:
    """One emulator for the whole test session (for `@given` tests); its responder may be swapped."""
    from structbatch.emulator import Emulator

    with Emulator() as emu:
        yield emu


class Replay:
    """A responder that answers every request with one fixed message.

    Only what the model decides is taken from the message (`content`, `stop_reason`,
    `stop_details`); the emulator fills in ids, model and usage as the API would.
    """

    def __init__(self, message: Mapping[str, Any]) -> None:
        self.message = message

    def respond(self, params: Mapping[str, Any], *, custom_id: str | None) -> dict[str, Any]:
        keep = ("content", "stop_reason", "stop_details")
        return {k: self.message[k] for k in keep if k in self.message}


@pytest.fixture(scope="session")
def structbatch_replay(structbatch_session_emulator: Emulator) -> Callable[[Any], anthropic.Anthropic]:
    """`structbatch_replay(sent) -> client`: the session emulator now answers with `sent`'s message."""
    client = structbatch_session_emulator.client(max_retries=0)

    def replay(sent: Any) -> anthropic.Anthropic:
        message = sent.message if hasattr(sent, "message") else sent
        structbatch_session_emulator.responder = Replay(message)
        return client

    return replay
