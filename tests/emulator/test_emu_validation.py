"""Validation answers: status, error type and message as the API gives them."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest
from emulator_helpers import MODEL, RECIPE_SCHEMA, RECIPE_TOOL, params, raw, request

from structbatch.emulator import Emulator

PREFILL = (
    "This model does not support assistant message prefill. The conversation must end with a user message."
)
FORCED = 'tool_choice: type "tool" and "any" are not supported for this model.'
THINKING = "Thinking may not be enabled when tool_choice forces tool use."


def test_missing_api_key_is_401(emu: Emulator) -> None:
    status, head, body = raw(emu, "GET", "/v1/messages/batches", api_key=None)
    assert status == 401
    assert body == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "x-api-key header is required"},
        "request_id": head["request-id"],
    }


def test_configured_api_key_rejects_others() -> None:
    from structbatch.emulator import EmulatorConfig

    with Emulator(EmulatorConfig(api_key="sk-right")) as emu:
        assert emu.client(max_retries=0).models.list().data
        with pytest.raises(anthropic.AuthenticationError):
            emu.client(api_key="sk-wrong", max_retries=0).models.list()


@pytest.mark.parametrize(
    ("custom_id", "message"),
    [
        ("x" * 65, "requests.0.custom_id: String should have at most 64 characters"),
        ("", "requests.0.custom_id: String should have at least 1 character"),
        ("has space", "requests.0.custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'"),
        ("dot.ted", "requests.0.custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'"),
    ],
)
def test_bad_custom_id_is_400_and_creates_nothing(
    emu: Emulator, client: anthropic.Anthropic, custom_id: str, message: str
) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.batches.create(requests=[request(custom_id), request("ok")])
    assert caught.value.type == "invalid_request_error"
    assert caught.value.api_message == message
    assert emu.created_batches() == []


def test_duplicate_custom_id_is_400(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError, match=r"requests\.1\.custom_id: Duplicate custom_id 'a'"):
        client.messages.batches.create(requests=[request("a"), request("a")])


def test_empty_requests_is_400(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.batches.create(requests=[])
    assert caught.value.api_message == "requests: List should have at least 1 item after validation, not 0"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "requests: Field required"),
        ({"requests": "x"}, "requests: Input should be a valid list"),
        ({"requests": [{"params": params()}]}, "requests.0.custom_id: Field required"),
        ({"requests": [{"custom_id": "a"}]}, "requests.0.params: Field required"),
        (
            {"requests": [{"custom_id": "a", "params": 3}]},
            "requests.0.params: Input should be a valid dictionary",
        ),
        ({"requests": [{**request("a"), "x": 1}]}, "requests.0.x: Extra inputs are not permitted"),
    ],
)
def test_batch_body_shape_errors(emu: Emulator, body: dict[str, Any], message: str) -> None:
    status, _, answer = raw(emu, "POST", "/v1/messages/batches", body)
    assert status == 400
    assert answer["error"] == {"type": "invalid_request_error", "message": message}


def test_too_many_requests_is_413(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.ContentTooLargeError) as caught:  # SMALL: at most 5 requests
        client.messages.batches.create(requests=[request(f"r{i}") for i in range(6)])
    assert caught.value.type == "request_too_large"


def test_too_many_bytes_is_413(emu: Emulator, client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.ContentTooLargeError) as caught:  # SMALL: at most 20,000 bytes
        client.messages.batches.create(requests=[request("big", text="x" * 25_000)])
    assert caught.value.type == "request_too_large"
    # The connection stays usable after the drained body.
    assert client.messages.batches.create(requests=[request("small")]).id


def _error(client: anthropic.Anthropic, **kwargs: Any) -> anthropic.APIStatusError:
    with pytest.raises(anthropic.APIStatusError) as caught:
        client.messages.create(**{**params(), **kwargs})
    return caught.value


@pytest.mark.parametrize(
    ("overrides", "status", "message"),
    [
        ({"model": "claude-nope"}, 404, "model: claude-nope"),
        ({"max_tokens": 0}, 400, "max_tokens: Input should be greater than or equal to 1"),
        ({"messages": []}, 400, "messages: at least one message is required"),
        (
            {"messages": [{"role": "system", "content": "x"}, {"role": "user", "content": "y"}]},
            400,
            'messages: Unexpected role "system". The Messages API accepts a top-level `system` parameter, '
            'not "system" as an input message role.',
        ),
        ({"tools": [RECIPE_TOOL], "tool_choice": {"type": "tool", "name": "other"}}, 400, "Tool 'other'"),
        ({"tool_choice": {"type": "any"}}, 400, "tool_choice may only be specified while providing tools."),
        (
            {
                "tools": [RECIPE_TOOL],
                "tool_choice": {"type": "tool", "name": "record_recipe"},
                "thinking": {"type": "enabled", "budget_tokens": 1024},
                "max_tokens": 2000,
            },
            400,
            THINKING,
        ),
        ({"model": "claude-opus-5-5", "tools": [RECIPE_TOOL], "tool_choice": {"type": "any"}}, 400, FORCED),
        ({"model": "claude-sonnet-5-5", "tools": [RECIPE_TOOL], "tool_choice": {"type": "any"}}, 400, FORCED),
        (
            {
                "model": "claude-sonnet-4-6",
                "messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "{"}],
            },
            400,
            PREFILL,
        ),
    ],
)
def test_messages_validation(
    client: anthropic.Anthropic, overrides: dict[str, Any], status: int, message: str
) -> None:
    error = _error(client, **overrides)
    assert error.status_code == status
    assert error.api_message is not None and message in error.api_message
    assert error.type == ("not_found_error" if status == 404 else "invalid_request_error")


def test_limits_the_sdk_checks_first_are_still_enforced(emu: Emulator) -> None:
    # The SDK refuses such requests itself (long non-streaming max_tokens, unknown kwargs), so go raw.
    status, _, answer = raw(emu, "POST", "/v1/messages", params(max_tokens=64_001))
    assert (status, answer["error"]["message"]) == (
        400,
        "max_tokens: 64001 > 64000, which is the maximum allowed number of output tokens for claude-haiku-4-5",
    )
    status, _, answer = raw(emu, "POST", "/v1/messages", params(unknown_key=1))
    assert (status, answer["error"]["message"]) == (400, "unknown_key: Extra inputs are not permitted")


def test_required_fields(emu: Emulator) -> None:
    for key in ("model", "max_tokens", "messages"):
        body = {k: v for k, v in params().items() if k != key}
        status, _, answer = raw(emu, "POST", "/v1/messages", body)
        assert (status, answer["error"]["message"]) == (400, f"{key}: Field required")


def test_prefill_accepted_on_older_models(client: anthropic.Anthropic) -> None:
    message = client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=300,
        messages=[{"role": "user", "content": "x"}, {"role": "assistant", "content": "{"}],
    )
    assert message.stop_reason == "end_turn"


SUBSET_CASES = [
    (
        {"type": "object", "properties": {"a": {"type": "string"}}},
        "'additionalProperties' must be explicitly set to false",
    ),
    (
        {
            "$ref": "#/$defs/N",
            "$defs": {
                "N": {
                    "type": "object",
                    "properties": {"k": {"$ref": "#/$defs/N"}},
                    "additionalProperties": False,
                }
            },
        },
        "Recursive schemas are not supported",
    ),
    (
        {
            "type": "object",
            "properties": {"n": {"type": "integer", "minimum": 1}},
            "additionalProperties": False,
        },
        "For 'integer' type, property 'minimum' is not supported",
    ),
    (
        {
            "type": "object",
            "properties": {"s": {"type": "string", "maxLength": 3}},
            "additionalProperties": False,
        },
        "For 'string' type, property 'maxLength' is not supported",
    ),
    (
        {
            "type": "object",
            "properties": {"l": {"type": "array", "minItems": 2}},
            "additionalProperties": False,
        },
        "'minItems' values other than 0 or 1 are not supported",
    ),
]


@pytest.mark.parametrize(("schema", "message"), SUBSET_CASES)
def test_output_config_schema_outside_the_subset(
    client: anthropic.Anthropic, schema: Any, message: str
) -> None:
    error = _error(client, output_config={"format": {"type": "json_schema", "schema": schema}})
    assert error.status_code == 400
    assert error.api_message is not None
    assert error.api_message.startswith("output_config.format.schema: ") and message in error.api_message


def test_output_config_schema_inside_the_subset_is_accepted(client: anthropic.Anthropic) -> None:
    message = client.messages.create(
        **params(output_config={"format": {"type": "json_schema", "schema": RECIPE_SCHEMA}})
    )
    assert message.stop_reason == "end_turn"


def test_count_tokens_validates_like_messages_but_needs_no_max_tokens(client: anthropic.Anthropic) -> None:
    counted = client.messages.count_tokens(model=MODEL, messages=[{"role": "user", "content": "hello"}])
    assert counted.input_tokens > 0
    with pytest.raises(anthropic.BadRequestError, match="not supported for this model"):
        client.messages.count_tokens(
            model="claude-opus-5-5",
            messages=[{"role": "user", "content": "x"}],
            tools=[RECIPE_TOOL],  # type: ignore[list-item]
            tool_choice={"type": "tool", "name": "record_recipe"},
        )


def test_batch_params_errors_are_per_request(client: anthropic.Anthropic) -> None:
    prefill = request(
        "prefill",
        model="claude-opus-5",
        messages=[{"role": "user", "content": "x"}, {"role": "assistant", "content": "{"}],
    )
    forced = request("forced", model="claude-fable-5-1", tools=[RECIPE_TOOL], tool_choice={"type": "any"})
    batch = client.messages.batches.create(requests=[prefill, forced, request("fine")])  # type: ignore[list-item]
    results = {r.custom_id: r.result for r in client.messages.batches.results(batch.id)}
    assert results["fine"].type == "succeeded"
    assert results["prefill"].type == "errored" and results["prefill"].error.error.message == PREFILL
    assert results["forced"].type == "errored" and results["forced"].error.error.message == FORCED


def test_unknown_route_and_method(emu: Emulator) -> None:
    assert raw(emu, "GET", "/v1/nothing")[0] == 404
    assert raw(emu, "DELETE", "/v1/messages")[0] == 405
