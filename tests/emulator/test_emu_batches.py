"""Message Batches through the real SDK: lifecycle, timing, results, list, cancel, delete, shapes."""

from __future__ import annotations

from datetime import timedelta

import anthropic
import pytest
from anthropic.types.messages import DeletedMessageBatch, MessageBatch, MessageBatchIndividualResponse
from emulator_helpers import RECIPE_TOOL, SMALL, assert_exact, raw, request

from structbatch.emulator import Emulator, EmulatorConfig


def test_batch_is_in_progress_then_ended_with_counts_only_at_the_end(emu: Emulator) -> None:
    emu.latency = 60
    client = emu.client(max_retries=0)
    batch = client.messages.batches.create(requests=[request("a"), request("b"), request("c")])
    assert batch.processing_status == "in_progress"
    assert batch.request_counts.processing == 3 and batch.request_counts.succeeded == 0
    assert batch.results_url is None and batch.ended_at is None
    assert batch.expires_at - batch.created_at == timedelta(hours=24)
    emu.advance(30)
    assert client.messages.batches.retrieve(batch.id).processing_status == "in_progress"
    emu.advance(31)
    ended = client.messages.batches.retrieve(batch.id)
    assert ended.processing_status == "ended"
    assert ended.request_counts.model_dump() == {
        "canceled": 0,
        "errored": 0,
        "expired": 0,
        "processing": 0,
        "succeeded": 3,
    }
    assert ended.ended_at == batch.created_at + timedelta(seconds=60)
    assert ended.results_url == f"{emu.base_url}/v1/messages/batches/{batch.id}/results"


def test_results_decode_through_the_sdk_one_per_custom_id(client: anthropic.Anthropic) -> None:
    ids = ["r-1", "r_2", "R3"]
    batch = client.messages.batches.create(requests=[request(i) for i in ids])
    results = list(client.messages.batches.results(batch.id))
    assert sorted(r.custom_id for r in results) == sorted(ids)
    for result in results:
        assert result.result.type == "succeeded"
        message = result.result.message
        assert (
            message.id.startswith("msg_")
            and message.role == "assistant"
            and message.model == "claude-haiku-4-5-20251001"  # the dated snapshot, as the API reports it
        )
        assert message.usage.service_tier == "batch" and message.usage.input_tokens > 0


def test_result_order_is_shuffled_but_reproducible(emu: Emulator) -> None:
    client = emu.client(max_retries=0)
    ids = [f"id{i}" for i in range(5)]
    first = client.messages.batches.create(requests=[request(i) for i in ids])
    order = [r.custom_id for r in client.messages.batches.results(first.id)]
    assert order != ids  # seeded shuffle: the API gives any order
    again = [r.custom_id for r in client.messages.batches.results(first.id)]
    assert again == order


def test_every_wire_object_matches_the_sdk_types_exactly(emu: Emulator, client: anthropic.Anthropic) -> None:
    tool_request = request("tool", tools=[RECIPE_TOOL], tool_choice={"type": "tool", "name": "record_recipe"})
    bad = {"custom_id": "bad", "params": {"model": "claude-haiku-4-5", "messages": []}}
    status, _, created = raw(
        emu, "POST", "/v1/messages/batches", {"requests": [tool_request, request("t"), bad]}
    )
    assert status == 200
    assert_exact(MessageBatch, created)
    _, _, retrieved = raw(emu, "GET", f"/v1/messages/batches/{created['id']}")
    assert_exact(MessageBatch, retrieved)
    status, head, body = raw(emu, "GET", f"/v1/messages/batches/{created['id']}/results")
    assert status == 200 and head["request-id"].startswith("req_")
    lines = [line for line in body.split(b"\n") if line] if isinstance(body, bytes) else [body]
    import json

    kinds = set()
    for line in lines:
        parsed = assert_exact(MessageBatchIndividualResponse, json.loads(line))
        kinds.add(parsed.result.type)
    assert kinds == {"succeeded", "errored"}
    _, _, page = raw(emu, "GET", "/v1/messages/batches?limit=1")
    assert set(page) == {"data", "has_more", "first_id", "last_id"}
    assert_exact(MessageBatch, page["data"][0])
    _, _, deleted = raw(emu, "DELETE", f"/v1/messages/batches/{created['id']}")
    assert_exact(DeletedMessageBatch, deleted)


def test_per_request_param_errors_become_errored_results(client: anthropic.Anthropic) -> None:
    requests = [
        request("ok"),
        {
            "custom_id": "no-max",
            "params": {"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "x"}]},
        },
        request("unknown-model", model="claude-nope-9"),
        request("stream", stream=True),
    ]
    batch = client.messages.batches.create(requests=requests)  # type: ignore[arg-type]
    results = {r.custom_id: r.result for r in client.messages.batches.results(batch.id)}
    assert results["ok"].type == "succeeded"
    no_max = results["no-max"]
    assert no_max.type == "errored"
    assert no_max.error.error.type == "invalid_request_error"
    assert no_max.error.error.message == "max_tokens: Field required"
    assert no_max.error.request_id is not None and no_max.error.request_id.startswith("req_")
    unknown = results["unknown-model"]
    assert unknown.type == "errored" and unknown.error.error.type == "not_found_error"
    assert results["stream"].type == "errored"
    counts = client.messages.batches.retrieve(batch.id).request_counts
    assert (counts.succeeded, counts.errored) == (1, 3)


def test_cancel_goes_canceling_then_ended_keeping_finished_results() -> None:
    with Emulator(EmulatorConfig(latency=100, cancel_latency=10, limits=SMALL)) as emu:
        client = emu.client(max_retries=0)
        batch = client.messages.batches.create(requests=[request(f"c{i}") for i in range(5)])
        emu.advance(50)
        canceling = client.messages.batches.cancel(batch.id)
        assert canceling.processing_status == "canceling"
        assert canceling.cancel_initiated_at is not None
        since_create = canceling.cancel_initiated_at - batch.created_at
        assert timedelta(seconds=50) <= since_create < timedelta(seconds=51)
        assert canceling.request_counts.processing == 5
        emu.advance(5)
        assert client.messages.batches.retrieve(batch.id).processing_status == "canceling"
        emu.advance(5)
        ended = client.messages.batches.retrieve(batch.id)
        assert ended.processing_status == "ended"
        assert ended.ended_at == canceling.cancel_initiated_at + timedelta(seconds=10)
        counts = ended.request_counts
        assert counts.canceled + counts.succeeded == 5
        assert counts.canceled > 0 and counts.succeeded > 0  # finished ones are kept
        types = [r.result.type for r in client.messages.batches.results(batch.id)]
        assert types.count("canceled") == counts.canceled


def test_cancel_of_an_ended_batch_is_rejected(client: anthropic.Anthropic) -> None:
    batch = client.messages.batches.create(requests=[request("a")])
    client.messages.batches.retrieve(batch.id)
    with pytest.raises(anthropic.BadRequestError, match="already ended"):
        client.messages.batches.cancel(batch.id)


def test_batch_longer_than_24h_expires_unfinished_requests() -> None:
    with Emulator(EmulatorConfig(latency=48 * 3600, limits=SMALL)) as emu:
        client = emu.client(max_retries=0)
        batch = client.messages.batches.create(requests=[request(f"e{i}") for i in range(5)])
        emu.advance(hours=23)
        assert client.messages.batches.retrieve(batch.id).processing_status == "in_progress"
        emu.advance(hours=1)
        ended = client.messages.batches.retrieve(batch.id)
        assert ended.processing_status == "ended"
        assert ended.ended_at == ended.expires_at
        assert ended.request_counts.expired > 0
        assert ended.request_counts.expired + ended.request_counts.succeeded == 5
        types = {r.result.type for r in client.messages.batches.results(batch.id)}
        assert "expired" in types


def test_time_scale_makes_hours_pass_in_milliseconds() -> None:
    with Emulator(EmulatorConfig(latency=3600, time_scale=3_600_000, limits=SMALL)) as emu:
        client = emu.client(max_retries=0)
        batch = client.messages.batches.create(requests=[request("a")])
        import time

        time.sleep(0.01)  # 10 ms real = 10 virtual hours
        assert client.messages.batches.retrieve(batch.id).processing_status == "ended"


def test_results_are_archived_after_29_days(emu: Emulator, client: anthropic.Anthropic) -> None:
    batch = client.messages.batches.create(requests=[request("a")])
    assert client.messages.batches.retrieve(batch.id).archived_at is None
    emu.advance(days=29)
    archived = client.messages.batches.retrieve(batch.id)
    assert archived.archived_at == batch.created_at + timedelta(days=29)  # derived, so exact
    with pytest.raises(anthropic.NotFoundError, match="archived"):
        list(client.messages.batches.results(batch.id))


def test_results_before_the_end(emu: Emulator) -> None:
    emu.latency = 60
    client = emu.client(max_retries=0)
    batch = client.messages.batches.create(requests=[request("a")])
    # The SDK refuses before fetching, since results_url is null ...
    with pytest.raises(anthropic.AnthropicError, match="No `results_url`"):
        client.messages.batches.results(batch.id)
    # ... and a direct GET gets the API-shaped 400.
    status, _, body = raw(emu, "GET", f"/v1/messages/batches/{batch.id}/results")
    assert status == 400 and body["error"]["type"] == "invalid_request_error"
    assert "has not finished processing" in body["error"]["message"]


def test_delete_only_after_the_end_then_gone(emu: Emulator) -> None:
    emu.latency = 60
    client = emu.client(max_retries=0)
    batch = client.messages.batches.create(requests=[request("a")])
    with pytest.raises(anthropic.BadRequestError, match="cannot be deleted"):
        client.messages.batches.delete(batch.id)
    emu.advance(60)
    deleted = client.messages.batches.delete(batch.id)
    assert (deleted.id, deleted.type) == (batch.id, "message_batch_deleted")
    with pytest.raises(anthropic.NotFoundError):
        client.messages.batches.retrieve(batch.id)
    assert [b.deleted for b in emu.created_batches()] == [True]


def test_unknown_batch_is_404_with_request_id(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as caught:
        client.messages.batches.retrieve("msgbatch_nope")
    assert caught.value.type == "not_found_error"
    assert caught.value.request_id is not None and caught.value.request_id.startswith("req_")
    for call in (client.messages.batches.cancel, client.messages.batches.delete):
        with pytest.raises(anthropic.NotFoundError):
            call("msgbatch_nope")


def test_list_is_newest_first_and_paginates_both_ways(emu: Emulator, client: anthropic.Anthropic) -> None:
    created = [client.messages.batches.create(requests=[request(f"l{i}")]).id for i in range(5)]
    newest_first = list(reversed(created))
    assert [b.id for b in client.messages.batches.list(limit=2)] == newest_first  # auto-paginates
    page = client.messages.batches.list(limit=2)
    assert [b.id for b in page.data] == newest_first[:2]
    assert (page.has_more, page.first_id, page.last_id) == (True, newest_first[0], newest_first[1])
    after = client.messages.batches.list(limit=2, after_id=newest_first[1])
    assert [b.id for b in after.data] == newest_first[2:4] and after.has_more
    last = client.messages.batches.list(limit=2, after_id=newest_first[3])
    assert [b.id for b in last.data] == newest_first[4:] and not last.has_more
    before = client.messages.batches.list(limit=2, before_id=newest_first[4])
    assert [b.id for b in before.data] == newest_first[2:4] and before.has_more
    assert len(client.messages.batches.list().data) == 5  # default limit 20
    for bad in (0, 1001):
        with pytest.raises(anthropic.BadRequestError, match="limit"):
            client.messages.batches.list(limit=bad)


def test_introspection_sees_duplicate_submissions(emu: Emulator, client: anthropic.Anthropic) -> None:
    first = client.messages.batches.create(requests=[request("a"), request("b")])
    assert emu.duplicate_custom_ids() == {}
    second = client.messages.batches.create(requests=[request("b")])
    assert emu.duplicate_custom_ids() == {"b": [first.id, second.id]}
    assert [b.custom_ids for b in emu.created_batches()] == [("a", "b"), ("b",)]
    assert emu.call_counts()["create"] == 2
