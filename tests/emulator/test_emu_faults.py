"""Fault injection: HTTP errors, lost responses, cut downloads, slow answers, and the spec syntax."""

from __future__ import annotations

import time

import anthropic
import pytest
from emulator_helpers import SMALL, params, raw, request

from structbatch.emulator import Emulator, EmulatorConfig, FaultRule, Faults


def test_429_carries_retry_after_and_the_sdk_retries_it(emu: Emulator) -> None:
    emu.faults = "create:429x2~0.01"
    batch = emu.client(max_retries=2).messages.batches.create(requests=[request("a")])
    assert emu.call_counts()["create"] == 3
    assert [b.id for b in emu.created_batches()] == [batch.id]
    assert emu.faults.fired["create:429"] == 2


def test_429_shape_without_retries(emu: Emulator, client: anthropic.Anthropic) -> None:
    emu.faults = "list:429"
    with pytest.raises(anthropic.RateLimitError) as caught:
        client.messages.batches.list()
    assert caught.value.type == "rate_limit_error"
    assert caught.value.response.headers["retry-after"] == "1"
    assert client.messages.batches.list().data == []  # x1 by default: the next call passes


@pytest.mark.parametrize(
    ("spec", "error", "error_type"),
    [
        ("retrieve:500", anthropic.InternalServerError, "api_error"),
        ("retrieve:529", anthropic.OverloadedError, "overloaded_error"),
    ],
)
def test_server_errors(
    emu: Emulator,
    client: anthropic.Anthropic,
    spec: str,
    error: type[anthropic.APIStatusError],
    error_type: str,
) -> None:
    batch = client.messages.batches.create(requests=[request("a")])
    emu.faults = spec
    with pytest.raises(error) as caught:
        client.messages.batches.retrieve(batch.id)
    assert caught.value.type == error_type
    assert client.messages.batches.retrieve(batch.id).id == batch.id


@pytest.mark.parametrize("endpoint", ["messages", "count_tokens", "models", "cancel", "delete", "results"])
def test_every_endpoint_can_fail(emu: Emulator, client: anthropic.Anthropic, endpoint: str) -> None:
    emu.faults = f"{endpoint}:529"
    path = {"messages": "/v1/messages", "count_tokens": "/v1/messages/count_tokens"}.get(endpoint)
    if path is not None:
        status, _, body = raw(emu, "POST", path, params())
    elif endpoint == "models":
        status, _, body = raw(emu, "GET", "/v1/models")
    else:
        method = {"cancel": "POST", "delete": "DELETE", "results": "GET"}[endpoint]
        suffix = {"cancel": "/cancel", "delete": "", "results": "/results"}[endpoint]
        status, _, body = raw(emu, method, f"/v1/messages/batches/msgbatch_x{suffix}")
    assert status == 529 and body["error"]["type"] == "overloaded_error"
    assert emu.faults.fired[f"{endpoint}:529"] == 1


def test_rate_faults_are_seeded() -> None:
    def pattern(seed: int) -> list[int]:
        with Emulator(EmulatorConfig(faults="models:529@0.5", seed=seed)) as emu:
            return [raw(emu, "GET", "/v1/models?limit=1")[0] for _ in range(20)]

    first = pattern(1)
    assert set(first) == {200, 529}
    assert pattern(1) == first


def test_lost_create_commits_the_batch_but_drops_the_response(emu: Emulator) -> None:
    emu.faults = "create:lost"
    with pytest.raises(anthropic.APIConnectionError):
        emu.client(max_retries=0).messages.batches.create(requests=[request("a")])
    (committed,) = emu.created_batches()
    assert committed.custom_ids == ("a",)
    # A client that lists after the failure finds the batch it could not see created.
    assert [b.id for b in emu.client(max_retries=0).messages.batches.list()] == [committed.id]


def test_lost_create_with_sdk_retries_submits_twice(emu: Emulator) -> None:
    # The SDK retries connection errors and sends no idempotency key: a duplicate batch.
    emu.faults = "create:lost"
    emu.client(max_retries=2).messages.batches.create(requests=[request("a")])
    assert len(emu.created_batches()) == 2
    assert list(emu.duplicate_custom_ids()) == ["a"]


def test_results_cut_mid_stream(emu: Emulator, client: anthropic.Anthropic) -> None:
    batch = client.messages.batches.create(requests=[request(f"r{i}") for i in range(5)])
    emu.faults = "results:cut~0.5"
    received = []
    with pytest.raises(Exception) as caught:
        for line in client.messages.batches.results(batch.id):
            received.append(line.custom_id)
    assert "peer closed" in str(caught.value).lower() or "incomplete" in str(caught.value).lower()
    assert len(received) < 5
    assert len(list(client.messages.batches.results(batch.id))) == 5  # the retry downloads it all


def test_slow_responses(emu: Emulator) -> None:
    emu.faults = "list:slow~0.3"
    started = time.monotonic()
    emu.client(max_retries=0).messages.batches.list()
    assert time.monotonic() - started >= 0.3
    emu.faults = "list:slow~0.5"
    with pytest.raises(anthropic.APITimeoutError):
        emu.client(max_retries=0, timeout=0.1).messages.batches.list()


def test_faults_change_at_runtime_and_apply_in_order(emu: Emulator, client: anthropic.Anthropic) -> None:
    emu.faults.add("create:429x1", FaultRule("create", "500", count=1))
    with pytest.raises(anthropic.RateLimitError):
        client.messages.batches.create(requests=[request("a")])
    with pytest.raises(anthropic.InternalServerError):
        client.messages.batches.create(requests=[request("a")])
    assert client.messages.batches.create(requests=[request("a")]).id
    emu.faults.add("*:529@1")
    with pytest.raises(anthropic.OverloadedError):
        client.models.list()
    emu.faults.clear()
    assert client.models.list().data


def test_spec_parsing_and_errors() -> None:
    rules = Faults.parse("create:429x2, retrieve:529@0.1, results:cut~0.25, create:lost x1, *:slow@1~2").rules
    assert [r.spec() for r in rules] == [
        "create:429x2",
        "retrieve:529@0.1",
        "results:cutx1~0.25",
        "create:lostx1",
        "*:slow@1~2",
    ]
    for bad in ("create:418", "nowhere:429", "create", "results:cut~1.5", "create:429@2"):
        with pytest.raises(ValueError):
            Faults.parse(bad)


def test_config_accepts_a_spec_string() -> None:
    with Emulator(EmulatorConfig(faults="models:500", limits=SMALL)) as emu:
        assert raw(emu, "GET", "/v1/models")[0] == 500
        assert raw(emu, "GET", "/v1/models")[0] == 200
