"""SSE streaming on /v1/messages: the SDK's raw event types, its accumulators, and faults mid-stream."""

from __future__ import annotations

import asyncio
from typing import Any

import anthropic
import httpx2
import pytest
from anthropic.types import RawMessageStreamEvent
from emulator_helpers import RECIPE_SCHEMA, RECIPE_TOOL, assert_exact, params, raw
from pydantic import TypeAdapter

from structbatch.emulator import Emulator

FORCED = {"tools": [RECIPE_TOOL], "tool_choice": {"type": "tool", "name": "record_recipe"}}
NATIVE = {"output_config": {"format": {"type": "json_schema", "schema": RECIPE_SCHEMA}}}
KINDS = {"text": {}, "tool_use": FORCED, "output_config": NATIVE}
EVENT = TypeAdapter(RawMessageStreamEvent)


def _same(message: Any) -> dict[str, Any]:
    """A message as compared across calls: ids differ per call, the SDK adds `parsed_output`."""
    data = message.to_dict() if hasattr(message, "to_dict") else dict(message)
    data.pop("id")
    for block in data["content"]:
        block.pop("parsed_output", None)
    return data


@pytest.mark.parametrize("kind", list(KINDS))
def test_stream_helper_accumulates_the_non_streaming_message(client: anthropic.Anthropic, kind: str) -> None:
    p = params(**KINDS[kind])
    plain = client.messages.create(**p)
    with client.messages.stream(**p) as stream:
        texts = list(stream.text_stream)
        final = stream.get_final_message()
    assert _same(final) == _same(plain)
    assert final.id.startswith("msg_") and final.id != plain.id
    if kind != "tool_use":
        assert "".join(texts) == plain.content[0].text  # type: ignore[union-attr]


@pytest.mark.parametrize("kind", list(KINDS))
def test_create_stream_true_yields_the_raw_event_sequence(client: anthropic.Anthropic, kind: str) -> None:
    p = params(**KINDS[kind])
    events = list(client.messages.create(**p, stream=True))
    types = [e.type for e in events]
    assert types[0] == "message_start" and types[-2:] == ["message_delta", "message_stop"]
    assert types.count("content_block_start") == types.count("content_block_stop") == 1
    start, delta = events[0], events[-2]
    assert start.type == "message_start" and start.message.content == [] and start.message.stop_reason is None
    assert delta.type == "message_delta"
    plain = client.messages.create(**p)
    assert delta.delta.stop_reason == plain.stop_reason
    assert delta.usage.output_tokens == plain.usage.output_tokens
    assert delta.usage.input_tokens == plain.usage.input_tokens
    deltas = {e.delta.type for e in events if e.type == "content_block_delta"}
    assert deltas == ({"input_json_delta"} if kind == "tool_use" else {"text_delta"})


def test_wire_frames_are_exact_sdk_events_with_pings(emu: Emulator) -> None:
    status, head, body = raw(emu, "POST", "/v1/messages", params(stream=True))
    assert status == 200 and head["content-type"].startswith("text/event-stream")
    assert "anthropic-ratelimit-requests-remaining" in head
    frames = [f for f in body.decode().split("\n\n") if f]
    names = []
    for frame in frames:
        event_line, data_line = frame.split("\n")
        name = event_line.removeprefix("event: ")
        names.append(name)
        data = data_line.removeprefix("data: ")
        if name != "ping":
            assert_exact(EVENT, __import__("json").loads(data))
    assert names[:2] == ["message_start", "ping"]


def test_async_stream_and_raw_async_events(emu: Emulator) -> None:
    async def go() -> tuple[Any, Any, list[str]]:
        client = emu.async_client(max_retries=0)
        p = params(**FORCED)
        plain = await client.messages.create(**p)
        async with client.messages.stream(**p) as stream:
            final = await stream.get_final_message()
        types = [e.type async for e in await client.messages.create(**p, stream=True)]
        return plain, final, types

    plain, final, types = asyncio.run(go())
    assert _same(final) == _same(plain)
    assert types[0] == "message_start" and types[-1] == "message_stop"


def test_a_5xx_before_the_stream(emu: Emulator, client: anthropic.Anthropic) -> None:
    emu.faults = "messages:529"
    with pytest.raises(anthropic.OverloadedError):
        client.messages.create(**params(), stream=True)


def test_an_error_event_mid_stream_raises_the_api_error(emu: Emulator, client: anthropic.Anthropic) -> None:
    emu.faults = "messages:error~0.5"
    seen: list[str] = []
    with pytest.raises(anthropic.APIStatusError) as caught:
        for event in client.messages.create(**params(text="x" * 400), stream=True):
            seen.append(event.type)
    assert seen[0] == "message_start" and "message_stop" not in seen
    assert "overloaded_error" in str(caught.value)
    assert client.messages.create(**params()).stop_reason == "end_turn"  # x1: the next call is fine


def test_an_error_fault_on_a_non_streamed_call_is_a_529(emu: Emulator, client: anthropic.Anthropic) -> None:
    emu.faults = "messages:error"
    with pytest.raises(anthropic.OverloadedError):
        client.messages.create(**params())


def test_a_cut_stream_is_a_connection_error(emu: Emulator, client: anthropic.Anthropic) -> None:
    emu.faults = "messages:cut~0.4"
    with pytest.raises(httpx2.RemoteProtocolError), client.messages.stream(**params()) as stream:
        stream.get_final_message()
    with client.messages.stream(**params()) as stream:
        assert stream.get_final_message().stop_reason == "end_turn"


def test_sdk_retries_a_5xx_stream_and_then_streams(emu: Emulator) -> None:
    emu.faults = "messages:529x1~0"
    with emu.client(max_retries=1).messages.stream(**params()) as stream:
        assert stream.get_final_message().stop_reason == "end_turn"
    assert emu.call_counts()["messages"] == 2
