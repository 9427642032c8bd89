"""Responders: what the emulated model answers, and how answers go wrong on purpose."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import jsonschema
import pytest
from emulator_helpers import MODEL, RECIPE_SCHEMA, RECIPE_TOOL, params, request
from hypothesis import given, settings
from hypothesis import strategies as st

from structbatch.emulator import (
    Emulator,
    EmulatorConfig,
    Rates,
    RatesResponder,
    SchemaResponder,
    Scripted,
    ScriptedResponder,
    example_value,
    invalid_value,
)

SYSTEM = (
    "Extract the recipe. Answer with JSON matching this schema:\n```json\n"
    + json.dumps(RECIPE_SCHEMA)
    + "\n```"
)
FORCED = {"tools": [RECIPE_TOOL], "tool_choice": {"type": "tool", "name": "record_recipe"}}


def _validate(value: Any) -> None:
    jsonschema.validate(value, RECIPE_SCHEMA)


def test_forced_tool_gets_a_schema_valid_tool_use(client: anthropic.Anthropic) -> None:
    message = client.messages.create(**params(**FORCED))
    assert message.stop_reason == "tool_use"
    (block,) = message.content
    assert block.type == "tool_use" and block.name == "record_recipe" and block.id.startswith("toolu_")
    _validate(block.input)


def test_json_schema_output_is_exact_json_text(client: anthropic.Anthropic) -> None:
    message = client.messages.create(
        **params(output_config={"format": {"type": "json_schema", "schema": RECIPE_SCHEMA}})
    )
    assert message.stop_reason == "end_turn"
    (block,) = message.content
    assert block.type == "text"
    _validate(json.loads(block.text))


def test_prefill_gets_the_continuation_only(client: anthropic.Anthropic) -> None:
    message = client.messages.create(
        model=MODEL,
        max_tokens=400,
        system=SYSTEM,
        messages=[{"role": "user", "content": "Pancakes."}, {"role": "assistant", "content": "{"}],
    )
    (block,) = message.content
    assert block.type == "text" and not block.text.startswith("{")
    _validate(json.loads("{" + block.text))


def test_prompt_mode_uses_the_schema_from_system_in_every_style() -> None:
    responder = SchemaResponder(seed=3)
    texts = [
        responder.respond(params(system=SYSTEM), custom_id=f"k{i}")["content"][0]["text"]  # type: ignore[index]
        for i in range(40)
    ]
    assert any(t.startswith("Here's the") and t.rstrip().endswith("anything else.") for t in texts)
    assert any(t.startswith("```json\n") for t in texts)
    assert any(t.startswith("<json>") for t in texts)
    assert any(t.startswith("{") for t in texts)
    for text in texts:
        start, end = text.index("{"), text.rindex("}") + 1
        _validate(json.loads(text[start:end]))


def test_prompt_styles_are_configurable() -> None:
    reply = SchemaResponder(styles={"tags": 1.0}).respond(params(system=SYSTEM), custom_id="a")
    text = reply["content"][0]["text"]  # type: ignore[index]
    assert text.startswith("<json>\n") and text.endswith("\n</json>")
    _validate(json.loads(text[7:-8]))


def test_a_plain_prompt_gets_plain_prose() -> None:
    reply = SchemaResponder().respond(params("Tell me about pancakes."), custom_id="a")
    text = reply["content"][0]["text"]  # type: ignore[index]
    assert "{" not in text and "pancakes" in text and reply["stop_reason"] == "end_turn"  # type: ignore[index]


def test_answers_are_deterministic_and_vary_by_custom_id() -> None:
    responder = SchemaResponder(seed=1)
    one = responder.respond(params(**FORCED), custom_id="a")
    assert one == SchemaResponder(seed=1).respond(params(**FORCED), custom_id="a")
    assert one != responder.respond(params(**FORCED), custom_id="b")


def test_answer_longer_than_max_tokens_is_truncated(client: anthropic.Anthropic) -> None:
    message = client.messages.create(**params(system=SYSTEM, max_tokens=5))
    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 5
    assert len(message.content[0].text) <= 20  # type: ignore[union-attr]


def test_usage_is_plausible_and_matches_count_tokens(client: anthropic.Anthropic) -> None:
    body = params(system=SYSTEM)
    message = client.messages.create(**body)
    counted = client.messages.count_tokens(model=MODEL, system=SYSTEM, messages=body["messages"])
    assert message.usage.input_tokens == counted.input_tokens > len(SYSTEM) // 5
    assert message.usage.output_tokens == -(-len(message.content[0].text) // 4)  # type: ignore[union-attr]
    cached = client.messages.create(
        **params(system=[{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}])
    )
    assert cached.usage.cache_read_input_tokens and cached.usage.cache_read_input_tokens > 0


def _batch_results(emu: Emulator, requests: list[dict[str, Any]]) -> dict[str, Any]:
    client = emu.client(max_retries=0)
    batch = client.messages.batches.create(requests=requests)  # type: ignore[arg-type]
    return {r.custom_id: r.result for r in client.messages.batches.results(batch.id)}


def test_scripted_outcomes_per_custom_id_and_marker() -> None:
    script = ScriptedResponder(
        by_custom_id={
            "text": Scripted.text("hello"),
            "tool": Scripted.tool({"title": "x"}),
            "raw": Scripted.message(
                {
                    "content": [{"type": "text", "text": "raw", "citations": None}],
                    "stop_reason": "stop_sequence",
                    "stop_sequence": "END",
                }
            ),
            "err": Scripted.errored("overloaded_error"),
            "exp": Scripted.expired(),
            "can": Scripted.canceled(),
            "cut": Scripted.truncated(),
            "ref": Scripted.refusal("cyber"),
            "bad": Scripted.invalid(),
        },
        by_marker={"PLEASE-FAIL": Scripted.errored("invalid_request_error", "nope")},
    )
    with Emulator(responder=script) as emu:
        ids = ["text", "tool", "raw", "err", "exp", "can", "cut", "ref", "bad"]
        results = _batch_results(
            emu, [request(i, **FORCED) for i in ids] + [request("m", text="x PLEASE-FAIL y")]
        )
    assert results["text"].message.content[0].text == "hello"
    assert results["tool"].message.content[0].input == {"title": "x"}
    assert results["tool"].message.content[0].name == "record_recipe"
    assert results["raw"].message.stop_sequence == "END"
    assert results["err"].type == "errored" and results["err"].error.error.type == "overloaded_error"
    assert results["exp"].type == "expired" and results["can"].type == "canceled"
    assert results["cut"].message.stop_reason == "max_tokens"
    assert results["ref"].message.stop_reason == "refusal"
    assert results["ref"].message.stop_details.category == "cyber"
    with pytest.raises(jsonschema.ValidationError):
        _validate(results["bad"].message.content[0].input)
    assert results["m"].error.error.message == "nope"


def test_scripted_sequences_answer_in_turn() -> None:
    script = ScriptedResponder({"a": [Scripted.errored("api_error"), Scripted.text("ok")]})
    assert script.respond(params(), custom_id="a").type == "api_error"  # type: ignore[union-attr]
    for _ in range(2):
        assert script.respond(params(), custom_id="a")["content"][0]["text"] == "ok"  # type: ignore[index]
    assert "content" in script.respond(params(), custom_id="other")  # fallback


def test_scripted_errors_on_messages_use_the_matching_status() -> None:
    script = ScriptedResponder(by_marker={"boom": Scripted.errored("overloaded_error")})
    with Emulator(responder=script) as emu, pytest.raises(anthropic.OverloadedError):
        emu.client(max_retries=0).messages.create(**params(text="boom"))


def test_rates_are_seeded_per_custom_id() -> None:
    rates = Rates(errored=0.2, expired=0.1, canceled=0.1, truncated=0.1, refusal=0.1, invalid=0.1, seed=4)
    ids = [f"id{i}" for i in range(5)]
    config = EmulatorConfig(rates=rates, limits=EmulatorConfig().limits)
    with Emulator(config) as emu:
        first = {k: v.type for k, v in _batch_results(emu, [request(i, **FORCED) for i in ids]).items()}
    with Emulator(config) as emu:
        again = {k: v.type for k, v in _batch_results(emu, [request(i, **FORCED) for i in ids]).items()}
    assert first == again
    outcomes = {
        Rates.parse(
            "errored=0.2,expired=0.1,canceled=0.1,truncated=0.1,refusal=0.1,invalid=0.1", seed=4
        ).outcome_for(f"id{i}", in_batch=True)
        for i in range(400)
    }
    assert outcomes == {None, "errored", "expired", "canceled", "truncated", "refusal", "invalid"}


def test_rates_error_types_and_parse() -> None:
    rates = Rates.parse("errored=1:invalid_request_error")
    reply = RatesResponder(SchemaResponder(), rates).respond(params(), custom_id="x")
    assert reply.type == "invalid_request_error"  # type: ignore[union-attr]
    assert Rates.parse("expired=1").outcome_for("k", in_batch=False) is None  # batches only
    for bad in ("errored=2", "oops=0.1", "expired=0.1:api_error", "errored=x"):
        with pytest.raises(ValueError):
            Rates.parse(bad)


SCHEMAS: list[dict[str, Any]] = [
    RECIPE_SCHEMA,
    {"type": "string", "format": "date"},
    {"type": "string", "format": "date-time"},
    {"type": "string", "format": "email"},
    {"type": "string", "format": "uri"},
    {"type": "string", "format": "uuid"},
    {"enum": ["a", "b", 3]},
    {"const": {"k": 1}},
    {"oneOf": [{"type": "integer", "minimum": 10, "maximum": 12}, {"type": "null"}]},
    {"type": "array", "items": {"type": "array", "items": {"type": "boolean"}, "minItems": 3}, "maxItems": 4},
    {"type": "string", "minLength": 30, "maxLength": 31},
    {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
    {"type": "integer", "multipleOf": 7, "minimum": 1},
    {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            {"properties": {"b": {"type": "integer"}}, "required": ["b"]},
        ]
    },
    {
        "$ref": "#/$defs/T",
        "$defs": {
            "T": {
                "type": "object",
                "required": ["kids"],
                "properties": {
                    "kids": {"type": "array", "items": {"$ref": "#/$defs/T"}},
                    "v": {"anyOf": [{"$ref": "#/$defs/T"}, {"type": "null"}]},
                },
            }
        },
    },
]


def test_example_values_follow_escaped_and_boolean_refs() -> None:
    # a definition name that needs percent-encoding or ~-escaping, and a ref to `true`
    schema = {
        "type": "object",
        "required": ["a", "b", "c"],
        "properties": {
            "a": {"$ref": "#/$defs/my%20item"},
            "b": {"$ref": "#/$defs/x~1y"},
            "c": {"$ref": "#/$defs/anything"},
        },
        "$defs": {"my item": {"type": "integer"}, "x/y": {"type": "string"}, "anything": True},
    }
    value = example_value(schema, "s")
    jsonschema.validate(value, schema)
    assert isinstance(value["a"], int) and isinstance(value["b"], str)


@settings(max_examples=60, deadline=None)
@given(index=st.integers(0, len(SCHEMAS) - 1), seed=st.text(max_size=8))
def test_example_values_validate_and_invalid_values_do_not(index: int, seed: str) -> None:
    schema = SCHEMAS[index]
    value = example_value(schema, seed)
    jsonschema.validate(value, schema, format_checker=jsonschema.FormatChecker())
    assert example_value(schema, seed) == value
    if index == 0:
        assert not jsonschema.Draft202012Validator(schema).is_valid(invalid_value(schema, seed))
