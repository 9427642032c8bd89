"""The SDK itself, unchanged: streaming helpers sync and async, structured-output helpers, headers."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import anthropic
import httpx2
import pytest
from anthropic.lib._parse._transform import transform_schema
from compat_models import City, check
from conftest import API_KEY, Target

from structbatch.emulator import Emulator

MODEL = "claude-haiku-4-5"
ASK: dict[str, Any] = {
    "model": MODEL,
    "max_tokens": 2048,
    "messages": [{"role": "user", "content": "Describe Paris."}],
}
TOOL = {"name": "record_city", "description": "Record the city.", "input_schema": City.model_json_schema()}
KINDS: dict[str, dict[str, Any]] = {
    "text": {},
    "tool_use": {"tools": [TOOL], "tool_choice": {"type": "tool", "name": "record_city"}},
    # As the SDK's own `output_format=` helper sends it: bounds and pattern moved into descriptions.
    "output_config": {"output_config": {"format": {"type": "json_schema", "schema": transform_schema(City)}}},
}


def _same(message: Any) -> dict[str, Any]:
    data = message.to_dict()
    data.pop("id")
    for block in data["content"]:
        block.pop("parsed_output", None)
    return data


@pytest.mark.parametrize("kind", list(KINDS))
def test_messages_stream_accumulates_the_create_message(target: Target, kind: str) -> None:
    client = target.client()
    body = {**ASK, **KINDS[kind]}
    plain = client.messages.create(**body)
    with client.messages.stream(**body) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert _same(final) == _same(plain) and final.model == "claude-haiku-4-5-20251001"
    if kind == "tool_use":
        block = final.content[0]
        assert block.type == "tool_use"
        check(City.model_validate(block.input))
    elif kind == "output_config":
        check(City.model_validate_json(text))
    else:
        assert text and "{" not in text  # no schema asked: plain prose


@pytest.mark.parametrize("kind", list(KINDS))
def test_create_stream_true_events_rebuild_the_message(target: Target, kind: str) -> None:
    client = target.client()
    body = {**ASK, **KINDS[kind]}
    plain = client.messages.create(**body)
    text, partial_json, stop, output_tokens = "", "", None, 0
    events = list(client.messages.create(**body, stream=True))
    assert events[0].type == "message_start" and events[-1].type == "message_stop"
    for event in events:
        if event.type == "content_block_delta" and event.delta.type == "text_delta":
            text += event.delta.text
        elif event.type == "content_block_delta" and event.delta.type == "input_json_delta":
            partial_json += event.delta.partial_json
        elif event.type == "message_delta":
            stop, output_tokens = event.delta.stop_reason, event.usage.output_tokens
    assert stop == plain.stop_reason and output_tokens == plain.usage.output_tokens
    block = plain.content[0]
    if block.type == "tool_use":
        assert json.loads(partial_json) == block.input
    else:
        assert block.type == "text" and text == block.text


def test_async_stream_helpers(target: Target) -> None:
    async def go() -> tuple[Any, Any, City]:
        client = target.async_client()
        body = {**ASK, **KINDS["tool_use"]}
        plain = await client.messages.create(**body)
        async with client.messages.stream(**body) as stream:
            final = await stream.get_final_message()
        raw = await client.messages.create(**{**ASK, **KINDS["output_config"]}, stream=True)
        text = "".join(
            [
                e.delta.text
                async for e in raw
                if e.type == "content_block_delta" and e.delta.type == "text_delta"
            ]
        )
        return plain, final, City.model_validate_json(text)

    plain, final, city = asyncio.run(go())
    assert _same(final) == _same(plain)
    check(city)


def test_parse_and_stream_with_output_format(target: Target) -> None:
    client = target.client()
    parsed = client.messages.parse(**ASK, output_format=City)
    check(parsed.parsed_output)
    with client.messages.stream(**ASK, output_format=City) as stream:
        final = stream.get_final_message()
    check(final.parsed_output)


def test_rate_limit_headers_and_request_id_on_every_response(target: Target) -> None:
    client = target.client()
    raw = client.messages.with_raw_response.create(**ASK)
    for name in ("requests", "input-tokens", "output-tokens", "tokens"):
        assert int(raw.headers[f"anthropic-ratelimit-{name}-remaining"]) >= 0
        assert raw.headers[f"anthropic-ratelimit-{name}-reset"].endswith("Z")
    assert raw.headers["request-id"].startswith("req_")
    listed = client.models.with_raw_response.list()
    assert "anthropic-ratelimit-requests-limit" in listed.headers


def test_anthropic_version_is_required(target: Target) -> None:
    if target.emulator is not None:
        http = httpx2.Client(transport=target.emulator.transport(), base_url="https://api.anthropic.com")
    else:
        http = httpx2.Client(base_url=target.base_url or "")
    with http:
        missing = http.post("/v1/messages", json=ASK, headers={"x-api-key": API_KEY})
        bad = http.post(
            "/v1/messages", json=ASK, headers={"x-api-key": API_KEY, "anthropic-version": "2020-01-01"}
        )
        good = http.post(
            "/v1/messages", json=ASK, headers={"x-api-key": API_KEY, "anthropic-version": "2023-06-01"}
        )
    assert missing.status_code == 400
    assert missing.json()["error"] == {
        "type": "invalid_request_error",
        "message": "anthropic-version: header is required",
    }
    assert missing.json()["type"] == "error" and missing.json()["request_id"].startswith("req_")
    assert bad.status_code == 400 and "is not a valid version" in bad.json()["error"]["message"]
    assert good.status_code == 200 and good.json()["type"] == "message"


def test_batch_ids_never_repeat_across_emulators(target: Target) -> None:
    request = {"custom_id": "a", "params": ASK}
    ids = {target.client().messages.batches.create(requests=[request]).id}  # type: ignore[list-item]
    for _ in range(2):
        with Emulator(seed=0) as fresh:  # same seed, fresh process state: still new ids
            ids.add(fresh.client().messages.batches.create(requests=[request]).id)  # type: ignore[list-item]
    assert len(ids) == 3


def test_sdk_retries_a_dropped_stream_connection(inproc_emulator: Emulator) -> None:
    target = Target("inproc", emulator=inproc_emulator)  # faults are set at runtime in-process
    inproc_emulator.faults = "messages:lost"
    with target.client(max_retries=1).messages.stream(**ASK) as stream:
        assert stream.get_final_message().stop_reason == "end_turn"
    assert inproc_emulator.faults.fired["messages:lost"] == 1


def test_an_overloaded_error_mid_stream_reaches_the_caller(inproc_emulator: Emulator) -> None:
    target = Target("inproc", emulator=inproc_emulator)
    inproc_emulator.faults = "messages:error~0.5"
    client = target.client(max_retries=0)
    with (
        pytest.raises(anthropic.APIStatusError, match="overloaded_error"),
        client.messages.stream(**{**ASK, **KINDS["tool_use"]}) as stream,
    ):
        stream.get_final_message()
