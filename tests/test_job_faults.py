"""API faults against the engine: 429 (retry-after) and 529 on create and retrieve, results cut
mid-stream, a lost create response (no duplicate batch), the spend-limit 429 (never retried)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anthropic
import httpx2 as httpx
import pytest
from helpers.jobsupport import FAST_POLL, FAST_RETRY, Person, rewriting_client

import structbatch as sb
from structbatch import _collect, _store
from structbatch._retry import RetryPolicy, call_with_retry, is_spend_limit, is_transient, retry_after_seconds
from structbatch.emulator import Emulator


def _job_on(
    emu: Emulator, path: Path, n: int, client: anthropic.Anthropic | None = None, **kw: Any
) -> sb.Job[Any]:
    kw.setdefault("poll", FAST_POLL)
    kw.setdefault("retry", FAST_RETRY)
    job = sb.Job(
        Person, model="claude-haiku-4-5", store=path, client=client or emu.client(max_retries=0), **kw
    )
    job.add_many((f"k{i}", f"text {i}") for i in range(n))
    return job


def _assert_complete(job: sb.Job[Any], emu: Emulator, n: int) -> None:
    outs = list(job.outcomes())
    assert [o.key for o in outs] == [f"k{i}" for i in range(n)]
    assert all(o.ok and o.attempts == 1 for o in outs)
    assert emu.duplicate_custom_ids() == {}
    assert sum(len(b.custom_ids) for b in emu.created_batches()) == n


@pytest.mark.parametrize(
    "faults",
    [
        "create:429x2~0.05",
        "create:529x2",
        "create:500x1",
        "retrieve:429x3~0.01",
        "retrieve:529x3",
        "list:529x1,create:lostx1",
        "count_tokens:529x2",
        "results:429x1~0.01,results:529x1",
    ],
)
def test_transient_faults_finish_with_nothing_lost_or_doubled(faults: str, tmp_path: Path) -> None:
    with Emulator(faults=faults) as emu:
        job = _job_on(emu, tmp_path / "j.db", 9)
        summary = job.run()
        assert summary.ok == 9
        _assert_complete(job, emu, 9)
        assert sum(emu.faults.fired.values()) >= 1
        assert len(emu.created_batches()) == 1


def test_429_retry_after_is_followed(tmp_path: Path) -> None:
    waits: list[float] = []
    with Emulator(faults="create:429x1~0.15,retrieve:429x1~0.12") as emu:
        job = _job_on(emu, tmp_path / "j.db", 3, sleep=lambda s: (waits.append(s), time.sleep(s)))
        job.run()
        _assert_complete(job, emu, 3)
    assert 0.15 in waits and 0.12 in waits


def test_lost_create_response_adopts_the_batch_no_duplicate(tmp_path: Path) -> None:
    with Emulator(faults="create:lostx1") as emu:
        job = _job_on(emu, tmp_path / "j.db", 12)
        summary = job.run()
        assert summary.ok == 12
        assert emu.call_counts()["create"] == 1  # reconciled instead of creating again
        assert emu.call_counts()["list"] >= 1
        (batch,) = emu.created_batches()
        (row,) = job.store.batches()
        assert row.batch_id == batch.id and row.adopted
        _assert_complete(job, emu, 12)


def test_lost_create_twice_across_shards(tmp_path: Path) -> None:
    with Emulator(faults="create:lostx2") as emu:
        job = _job_on(emu, tmp_path / "j.db", 10, limits=sb.Limits(max_requests=4))
        job.run()
        assert [len(b.custom_ids) for b in emu.created_batches()] == [4, 4, 2]
        assert emu.call_counts()["create"] == 3
        _assert_complete(job, emu, 10)


def test_create_never_retried_by_the_sdk(tmp_path: Path) -> None:
    """Even a client with SDK retries on must not have its create retried by the SDK (a retried
    POST after a lost response would create a second batch)."""
    with Emulator(faults="create:lostx1") as emu:
        job = _job_on(emu, tmp_path / "j.db", 5, client=emu.client(max_retries=5))
        job.run()
        assert emu.call_counts()["create"] == 1
        _assert_complete(job, emu, 5)


@pytest.mark.parametrize("chunk", [3, 1000])
@pytest.mark.parametrize("faults", ["results:cutx1", "results:cutx2~0.3", "results:cutx1~0.9"])
def test_results_cut_mid_stream_resume(
    faults: str, chunk: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_collect, "_RESULT_CHUNK", chunk)
    recorded: list[int] = []
    real = _store.Store.record_results

    def spy(self: Any, local_id: int, results: Any, strays: Any = ()) -> None:
        recorded.extend(r.seq for r in results)
        real(self, local_id, results, strays)

    monkeypatch.setattr(_store.Store, "record_results", spy)
    with Emulator(faults=faults) as emu:
        job = _job_on(emu, tmp_path / "j.db", 40)
        job.run()
        assert emu.faults.fired["results:cut"] >= 1
        _assert_complete(job, emu, 40)
        assert job.store.attempt_count() == 40
        assert sorted(set(recorded)) == list(range(1, 41))
        assert len(recorded) == 40  # nothing recorded twice
        assert job.summary().counts == {"ok": 40}


def test_results_cut_too_often_raises_and_collect_resumes(tmp_path: Path) -> None:
    with Emulator(faults="results:cutx20~0.5") as emu:
        job = _job_on(
            emu, tmp_path / "j.db", 30, retry=RetryPolicy(initial=0.001, maximum=0.01, attempts=2, settle=0.3)
        )
        job.submit()
        job.wait()
        with pytest.raises(sb.JobError, match="collect again"):
            job.collect()
        partial = job.summary()
        assert 0 < partial.ok < 30  # the first half of the stream was kept
        emu.faults.clear()
        job.run()
        _assert_complete(job, emu, 30)


def test_stray_results_are_reported_once(tmp_path: Path) -> None:
    def add_stray(line: bytes) -> list[bytes]:
        if b'"k0-' in line:
            return [line, b'{"custom_id":"never-sent","result":{"type":"expired"}}', b"not json at all"]
        return [line]

    with Emulator(faults="results:cutx1~0.9") as emu:
        client = rewriting_client(emu, add_stray)
        job = _job_on(emu, tmp_path / "j.db", 6, client=client)
        summary = job.run()
        assert summary.ok == 6
        assert summary.strays == 2
        assert {cid for _, cid, _ in job.store.stray_rows()} == {"never-sent", None}


def test_spend_limit_429_is_not_retried() -> None:
    request = httpx.Request("POST", "http://x/v1/messages/batches")
    body = {
        "type": "error",
        "error": {
            "type": "rate_limit_error",
            "message": "You have reached your specified workspace API usage limits.",
            "details": {"error_code": "enforced_spend_limit_reached"},
        },
    }
    response = httpx.Response(429, json=body, request=request)
    exc = anthropic.RateLimitError("spend", response=response, body=body)
    assert is_spend_limit(exc)
    assert not is_transient(exc)
    plain = anthropic.RateLimitError(
        "rate", response=httpx.Response(429, headers={"retry-after": "7"}, request=request), body=None
    )
    assert not is_spend_limit(plain) and is_transient(plain)
    assert retry_after_seconds(plain) == 7.0
    calls = []

    def fail() -> None:
        calls.append(1)
        raise exc

    with pytest.raises(sb.JobError, match="spend limit"):
        call_with_retry(fail, what="x", policy=RetryPolicy(initial=0.001, attempts=5), sleep=lambda s: None)
    assert len(calls) == 1


class SpendLimit(httpx.BaseTransport):
    """The real transport, except that while `on` the chosen endpoint answers the spend-limit 429
    (`error_code: enforced_spend_limit_reached`, no retry-after); counts those answers."""

    def __init__(self, method: str, suffix: str) -> None:
        self.inner = httpx.HTTPTransport()
        self.method, self.suffix = method, suffix
        self.on = True
        self.refused = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.on and request.method == self.method and request.url.path.endswith(self.suffix):
            self.refused += 1
            body = {
                "type": "error",
                "error": {
                    "type": "rate_limit_error",
                    "message": "You have reached your specified workspace API usage limits.",
                    "details": {"error_code": "enforced_spend_limit_reached"},
                },
            }
            return httpx.Response(429, json=body, request=request)
        return self.inner.handle_request(request)


def test_spend_limit_on_create_drops_the_intent(tmp_path: Path) -> None:
    """Through the real SDK with its default retries (2): the 429 reaches us at first sight, is
    never retried by either layer, and the requests stay pending for a later run."""
    with Emulator() as emu:
        transport = SpendLimit("POST", "/v1/messages/batches")
        client = emu.client(max_retries=2, http_client=httpx.Client(transport=transport))
        job = _job_on(emu, tmp_path / "j.db", 3, client=client)
        with pytest.raises(sb.JobError, match="spend limit"):
            job.submit()
        assert transport.refused == 1
        assert job.store.batches() == []
        assert job.summary().pending == 3
        transport.on = False
        job.run()
        _assert_complete(job, emu, 3)


def test_spend_limit_on_poll_is_final_at_first_sight(tmp_path: Path) -> None:
    with Emulator(latency=3600) as emu:
        transport = SpendLimit("GET", "")
        transport.on = False
        client = emu.client(max_retries=2, http_client=httpx.Client(transport=transport))
        job = _job_on(emu, tmp_path / "j.db", 2, client=client)
        job.submit()
        transport.on = True
        with pytest.raises(sb.JobError, match="spend limit"):
            job.wait(timeout=5)
        assert transport.refused == 1


def test_each_call_is_retried_by_one_layer_only(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A client with SDK retries on: each of three 529s on retrieve reaches our retry loop (the
    SDK's own retries are off for every call the engine makes), so we log three retries."""
    with Emulator(faults="retrieve:529x3") as emu:
        job = _job_on(emu, tmp_path / "j.db", 2, client=emu.client(max_retries=2))
        with caplog.at_level("WARNING", logger="structbatch"):
            job.run()
        _assert_complete(job, emu, 2)
        assert emu.faults.fired["retrieve:529"] == 3
        ours = [r for r in caplog.records if "HTTP 529, retrying" in r.getMessage()]
        assert len(ours) == 3


def test_retry_policy_delays() -> None:
    p = RetryPolicy(initial=1.0, maximum=10.0)
    assert p.delay(0, 3.0) == 3.0
    assert p.delay(0, 99.0) == 10.0
    for attempt in range(8):
        d = p.delay(attempt)
        assert 0.75 * min(2.0**attempt, 10.0) <= d <= min(2.0**attempt, 10.0)
