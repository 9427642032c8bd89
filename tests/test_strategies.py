"""The strategies themselves: they make what they promise (valid, varied, API-shaped)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import anthropic
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

import structbatch as sb
from structbatch.testing import strategies as sbst


def find_any(strategy: Any, condition: Any) -> Any:
    """`hypothesis.find` without shrinking, for tests that need an example, not the smallest one
    (shrinking took most of their time)."""
    return find(strategy, condition, settings=settings(phases=[Phase.generate], database=None))


class Item(BaseModel):
    name: str
    qty: int


class Tree(BaseModel):
    label: str
    kids: list[Tree] = []


ITEM = sb.compile(Item)
TREE = sb.compile(Tree)
ITEMS = sb.compile(list[Item], wrap="items")
SCHEMA = sb.compile(
    {
        "title": "thing",
        "type": "object",
        "properties": {
            "when": {"type": "string", "format": "date"},
            "code": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{2}$"},
            "n": {"type": "integer", "minimum": 3, "exclusiveMaximum": 9, "multipleOf": 2},
            "tags": {"type": "array", "items": {"enum": ["a", "b", "c"]}, "uniqueItems": True},
        },
        "required": ["when", "code", "n"],
        "additionalProperties": False,
    }
)


def test_importing_structbatch_does_not_import_hypothesis() -> None:
    code = (
        "import sys, structbatch, structbatch.testing, structbatch.testing.plugin;"
        "print('hypothesis' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_package_re_exports_the_strategies() -> None:
    import structbatch.testing as testing

    assert testing.model_outputs is sbst.model_outputs
    assert testing.instances is sbst.instances
    with pytest.raises(AttributeError):
        _ = testing.nothing_here


@pytest.mark.parametrize("spec", [ITEM, TREE, ITEMS, SCHEMA], ids=["model", "recursive", "wrapped", "schema"])
@given(data=st.data())
def test_instances_are_valid(spec: sb.Spec[Any], data: st.DataObject) -> None:
    tool_input = data.draw(sbst.instances(spec, json=True))
    assert isinstance(tool_input, dict)
    ok, _ = sbst.valid(spec, tool_input)
    assert ok
    check = spec.validate(tool_input)
    assert check.ok and check.coercions == ()
    if spec.model is not None and spec.wrap is None:
        assert isinstance(data.draw(sbst.instances(spec)), spec.model)


def test_instances_take_a_model_class_directly() -> None:
    item = find(sbst.instances(Item), lambda i: i.qty > 5)
    assert isinstance(item, Item)


def test_recursive_instances_nest() -> None:
    tree = find(sbst.instances(Tree), lambda t: any(k.kids for k in t.kids))
    assert tree.kids[0].kids or tree.kids[-1].kids or any(k.kids for k in tree.kids)


def test_refs_to_definitions_with_escaped_names_are_followed() -> None:
    # compiled specs percent-encode pointer tokens (`#/$defs/my%20item`); a `$ref` left
    # unresolved would make every value fail the oracle
    spec = sb.compile(
        {
            "type": "object",
            "$defs": {
                "my item": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
            },
            "properties": {"x": {"$ref": "#/$defs/my%20item"}},
            "required": ["x"],
        }
    )
    value = find_any(sbst.instances(spec), lambda v: True)
    assert isinstance(value["x"]["n"], int)


def test_formats_patterns_and_bounds_are_honoured() -> None:
    value = find(sbst.instances(SCHEMA), lambda v: len(v.get("tags", [])) >= 2)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", value["when"])
    assert re.search(r"^[A-Z]{3}-[0-9]{2}$", value["code"])
    assert value["n"] in (4, 6, 8)


@pytest.mark.parametrize("style", sbst.STYLES)
def test_every_style_is_made_and_api_shaped(style: str) -> None:
    sent, value = find(sbst.model_outputs(ITEM, styles=[style]), lambda p: True)
    anthropic.types.Message.model_validate(sent.message)
    assert sent.style.startswith(style)
    assert (sent.prefill is not None) == (style == "prefill")
    assert isinstance(value, Item)


NOISY = sb.compile(
    {
        "title": "noisy",
        "type": "object",
        "properties": {
            "s": {"type": "string"},
            "b": {"type": "boolean"},
            "n": {"type": "null"},
            "l": {"type": "array"},
        },
    }
)
NOISY_VALUE = {"s": "a\nb", "b": True, "n": None, "l": [1, "x"]}


@pytest.mark.parametrize("noise", sorted(sbst.NOISE_KINDS))
def test_each_kind_of_noise_happens(noise: str) -> None:
    outputs = sbst.model_outputs(NOISY, styles=["noise"], values=st.just(NOISY_VALUE))
    sent, value = find_any(outputs, lambda p: noise in p.sent.style)
    assert value == NOISY_VALUE
    assert NOISY.parse(sent.message).value == NOISY_VALUE


def test_prose_and_fences_and_tags_look_like_claude() -> None:
    sent, _ = find(sbst.model_outputs(ITEM, styles=["prose"]), lambda p: "Here's the item" in p.sent.text)
    assert sent.text.startswith("Here's the item")
    sent, _ = find(sbst.model_outputs(ITEM, styles=["fence"]), lambda p: p.sent.text.startswith("~~~"))
    assert sent.text.rstrip().endswith("~~~")
    sent, _ = find(sbst.model_outputs(ITEM, styles=["tag"]), lambda p: "<answer>" in p.sent.text)
    assert "</answer>" in sent.text


@pytest.mark.parametrize("kind", sbst.BROKEN_KINDS, ids=[k.value for k in sbst.BROKEN_KINDS])
def test_every_broken_kind_is_made(kind: sb.FailureKind) -> None:
    sent, got = find(sbst.broken_outputs(ITEM, kinds=[kind]), lambda p: True)
    assert got == kind
    anthropic.types.Message.model_validate(sent.message)


def test_elisions_in_arrays() -> None:
    _, kind = find(
        sbst.broken_outputs(ITEMS, kinds=["invalid"]),
        lambda p: p.sent.style.startswith("elision") and "[" in p.sent.text,
    )
    assert kind == sb.FailureKind.INVALID


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="styles"):
        sbst.model_outputs(ITEM, styles=["haiku"])
    with pytest.raises(ValueError, match="kinds"):
        sbst.broken_outputs(ITEM, kinds=["expired"])
    with pytest.raises(ValueError, match="types"):
        sbst.result_lines(ITEM, types=["pending"])


@given(sbst.result_lines(ITEM))
def test_result_lines_have_the_real_shapes(rl: sbst.ResultLine) -> None:
    line, kind, value = rl
    assert re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", line["custom_id"])
    result = line["result"]
    assert result["type"] in sbst.RESULT_TYPES
    if result["type"] == "errored":
        assert result["error"]["type"] == "error"
        assert result["error"]["error"]["type"] in sbst.ERROR_TYPES
        assert result["error"]["request_id"].startswith("req_")
        assert kind == sb.FailureKind.API_ERROR
    if result["type"] == "succeeded":
        anthropic.types.Message.model_validate(result["message"])
        assert (kind is None) == (value is not None)
    json.dumps(line)


@given(sbst.batch_requests(ITEM, max_size=8, max_bytes=3_000))
def test_batch_requests_are_valid(requests: list[dict[str, Any]]) -> None:
    from anthropic.types.message_create_params import MessageCreateParamsNonStreaming as P

    ids = [r["custom_id"] for r in requests]
    assert len(set(ids)) == len(ids) >= 1
    assert all(re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", i) for i in ids)
    assert (
        len(json.dumps({"requests": requests}, separators=(",", ":"), ensure_ascii=False).encode()) <= 3_000
    )
    keys = P.__required_keys__ | P.__optional_keys__
    for r in requests:
        assert set(r["params"]) <= keys


@settings(max_examples=10)
@given(sbst.batch_requests(TREE, max_size=4))
def test_batch_requests_are_accepted_by_the_emulator(
    structbatch_session_emulator: Any, requests: Any
) -> None:
    client = structbatch_session_emulator.client(max_retries=0)
    batch = client.messages.batches.create(requests=requests)
    assert batch.request_counts.processing == len(requests)


def test_modes_a_model_refuses_are_refused_up_front() -> None:
    with pytest.raises(sb.ModeError):
        sbst.batch_requests(ITEM, model="claude-opus-4-6", modes=[sb.Mode.PREFILL])


@given(sbst.object_schemas())
def test_object_schemas_compile(schema: dict[str, Any]) -> None:
    spec = sb.compile(schema)
    assert spec.schema["type"] == "object"


def test_replay_fixture_answers_with_the_drawn_message(structbatch_replay: Any) -> None:
    sent, value = find(sbst.model_outputs(ITEM, styles=["fence"]), lambda p: True)
    client = structbatch_replay(sent)
    message = client.messages.create(
        **ITEM.params("x", model="claude-haiku-4-5", max_tokens=100, mode="prompt")
    )
    assert message.content[0].text == sent.text
    assert ITEM.parse(message).value == value


def test_spec_fixture_caches(structbatch_spec: Any) -> None:
    assert structbatch_spec(Item) is structbatch_spec(Item)
