"""Message / result line / text -> exactly one Outcome, with a precise FailureKind."""

from __future__ import annotations

import json
import re
import string
from enum import StrEnum
from typing import Any

import orjson
import pytest
from anthropic.types import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

import structbatch as sb
from structbatch import FailureKind
from structbatch._lenient import ELISION_STRING
from structbatch._parse import parse_message, parse_result_line, parse_text


class Unit(StrEnum):
    G = "g"
    ML = "ml"
    PIECE = "piece"


class Ingredient(BaseModel):
    name: str
    amount: float
    unit: Unit


class Recipe(BaseModel):
    title: str
    servings: int
    vegetarian: bool
    ingredients: list[Ingredient]
    steps: list[str] = Field(default_factory=list)
    notes: str | None = None


RECIPE = sb.compile(Recipe)
GOOD = {
    "title": "Pancakes",
    "servings": 4,
    "vegetarian": True,
    "ingredients": [
        {"name": "flour", "amount": 200, "unit": "g"},
        {"name": "milk", "amount": 300, "unit": "ml"},
    ],
    "steps": ["mix", "fry"],
    "notes": None,
}
GOOD_JSON = orjson.dumps(GOOD).decode()
GOOD_VALUE = Recipe.model_validate(GOOD)
USAGE = {
    "input_tokens": 10,
    "output_tokens": 20,
    "cache_creation_input_tokens": 3,
    "cache_read_input_tokens": None,
}


def message(*blocks: dict[str, Any], stop: str | None = "end_turn", **extra: Any) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5",
        "content": list(blocks),
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": USAGE,
        **extra,
    }


def tool(input: Any, name: str = "Recipe", id: str = "toolu_1") -> dict[str, Any]:
    return {"type": "tool_use", "id": id, "name": name, "input": input}


def text(t: str) -> dict[str, Any]:
    return {"type": "text", "text": t}


def line(result: dict[str, Any], custom_id: str = "req-1") -> bytes:
    # stdlib json: generated values may hold integers beyond 64 bits, which orjson refuses
    return json.dumps({"custom_id": custom_id, "result": result}, ensure_ascii=False).encode()


def succeeded(msg: dict[str, Any]) -> dict[str, Any]:
    return {"type": "succeeded", "message": msg}


# ---- tool_use ---------------------------------------------------------------------------------------


def test_tool_use_is_the_answer_with_usage() -> None:
    out = parse_message(RECIPE, message(tool(GOOD), stop="tool_use"))
    assert out.ok and out.value == GOOD_VALUE and out.repairs == ()
    assert out.usage == sb.Usage(10, 20, 3, 0)


def test_sdk_message_object_is_read_by_attribute() -> None:
    msg = Message.model_validate(message(text("Extracting."), tool(GOOD), stop="tool_use"))
    out = parse_message(RECIPE, msg)
    assert out.ok and out.value == GOOD_VALUE and out.usage.input_tokens == 10


def test_tool_use_beats_text_and_thinking_is_skipped() -> None:
    thinking = {"type": "thinking", "thinking": '{"title": "x"}', "signature": "s"}
    other = {**GOOD, "title": "Waffles"}
    out = parse_message(RECIPE, message(thinking, text(orjson.dumps(other).decode()), tool(GOOD)))
    assert out.ok and out.value.title == "Pancakes"


def test_wrong_tool() -> None:
    out = parse_message(RECIPE, message(tool(GOOD, name="search"), stop="tool_use"))
    assert out.kind is FailureKind.WRONG_TOOL and out.failure is not None
    assert out.failure.details["tool_name"] == "search"
    both = parse_message(RECIPE, message(tool({}, name="search"), tool(GOOD, id="t2"), stop="tool_use"))
    assert both.ok


def test_several_tool_calls() -> None:
    same = parse_message(RECIPE, message(tool(GOOD), tool(GOOD, id="t2")))
    assert same.ok
    other = {**GOOD, "servings": 2}
    assert parse_message(RECIPE, message(tool(GOOD), tool(other, id="t2"))).kind is FailureKind.AMBIGUOUS
    one_valid = parse_message(RECIPE, message(tool({"title": 1}), tool(GOOD, id="t2")))
    assert one_valid.ok


def test_invalid_tool_input_reports_paths() -> None:
    bad = {**GOOD, "servings": "four", "ingredients": [{"name": "x", "amount": 1, "unit": "cup"}]}
    out = parse_message(RECIPE, message(tool(bad), stop="tool_use"))
    assert out.kind is FailureKind.INVALID and out.failure is not None
    paths = {e["path"] for e in out.failure.details["errors"]}
    assert {"$.servings", "$.ingredients[0].unit"} <= paths


def test_tool_input_coercions_are_recorded() -> None:
    out = parse_message(RECIPE, message(tool({**GOOD, "servings": "4", "vegetarian": "true"})))
    assert out.ok and out.value.servings == 4
    assert set(out.repairs) == {"coerce:$.servings:str->int", "coerce:$.vegetarian:str->bool"}


def test_tool_input_as_json_string_is_decoded_strictly() -> None:
    out = parse_message(RECIPE, message(tool(GOOD_JSON)))
    assert out.ok and out.repairs == ("tool_input_json_string",)
    assert parse_message(RECIPE, message(tool(GOOD_JSON[:-1]))).kind is FailureKind.INVALID


def test_cut_tool_use_is_truncated_even_when_its_input_validates() -> None:
    out = parse_message(RECIPE, message(tool(GOOD), stop="max_tokens"))
    assert out.kind is FailureKind.TRUNCATED
    out = parse_message(RECIPE, message(tool(GOOD), stop="model_context_window_exceeded"))
    assert out.kind is FailureKind.TRUNCATED
    later_text_cut = parse_message(RECIPE, message(tool(GOOD), text("And also"), stop="max_tokens"))
    assert later_text_cut.ok


def test_refusal_stop_reason_wins_over_any_content() -> None:
    msg = message(tool(GOOD), stop="refusal", stop_details={"type": "refusal", "category": "cyber"})
    out = parse_message(RECIPE, msg)
    assert out.kind is FailureKind.REFUSAL and out.failure is not None
    assert out.failure.details["category"] == "cyber"


def test_elided_tool_input_is_refused() -> None:
    out = parse_message(RECIPE, message(tool({**GOOD, "notes": "..."})))
    assert out.kind is FailureKind.INVALID


# ---- result lines --------------------------------------------------------------------------------


def test_result_line_fast_path_and_custom_id() -> None:
    out = parse_result_line(RECIPE, line(succeeded(message(tool(GOOD), stop="tool_use")), "abc"))
    assert out.ok and out.custom_id == "abc" and out.value == GOOD_VALUE and out.usage.output_tokens == 20
    as_str = parse_result_line(RECIPE, line(succeeded(message(tool(GOOD)))).decode())
    assert as_str.ok and as_str.custom_id == "req-1"
    as_dict = parse_result_line(RECIPE, orjson.loads(line(succeeded(message(tool(GOOD))))))
    assert as_dict.ok


def test_result_line_general_path_keeps_custom_id() -> None:
    out = parse_result_line(RECIPE, line(succeeded(message(text(f"Here:\n{GOOD_JSON}"))), "k9"))
    assert out.ok and out.custom_id == "k9"
    bad = parse_result_line(RECIPE, line(succeeded(message(text("no idea"))), "k10"))
    assert bad.kind is FailureKind.NO_JSON and bad.custom_id == "k10"


def test_errored_line_keeps_the_api_error() -> None:
    err = {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "max_tokens: too large"},
        "request_id": "req_011",
    }
    out = parse_result_line(RECIPE, line({"type": "errored", "error": err}))
    assert out.kind is FailureKind.API_ERROR and out.failure is not None
    assert out.failure.details == {
        "error_type": "invalid_request_error",
        "error_message": "max_tokens: too large",
        "request_id": "req_011",
    }
    assert out.custom_id == "req-1"


@pytest.mark.parametrize(("kind", "expected"), [("expired", "expired"), ("canceled", "canceled")])
def test_expired_and_canceled(kind: str, expected: str) -> None:
    out = parse_result_line(RECIPE, line({"type": kind}))
    assert out.kind == expected and out.custom_id == "req-1"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"[]",
        b'{"custom_id": 5, "result": {"type": "expired"}}',
        b'{"custom_id": "a"}',
        b'{"custom_id": "a", "result": {"type": "mystery"}}',
        b'{"custom_id": "a", "result": {"type": "succeeded"}}',
        b'{"custom_id": "a", "result": {"type": "succeeded", "message": {"content": 5}}}',
        b"\xff\xfe",
    ],
)
def test_malformed_lines(raw: bytes) -> None:
    assert parse_result_line(RECIPE, raw).kind is FailureKind.MALFORMED_RESULT


# ---- text ------------------------------------------------------------------------------------------


def test_text_with_preamble_fence_and_postamble() -> None:
    out = parse_text(RECIPE, f"Here's the recipe:\n```json\n{GOOD_JSON}\n```\nEnjoy!")
    assert out.ok and out.value == GOOD_VALUE


def test_same_value_twice_counts_once_but_two_values_are_ambiguous() -> None:
    assert parse_text(RECIPE, f"```json\n{GOOD_JSON}\n```\nAgain: {GOOD_JSON}").ok
    other = orjson.dumps({**GOOD, "servings": 8}).decode()
    out = parse_text(RECIPE, f"{GOOD_JSON}\nOr, doubled:\n{other}")
    assert out.kind is FailureKind.AMBIGUOUS and out.failure is not None
    assert out.failure.details["candidates"] == 2


def test_unwrap_single_key_and_tool_call_shapes() -> None:
    out = parse_text(RECIPE, orjson.dumps({"recipe": GOOD}).decode())
    assert out.ok and out.repairs == ("unwrap:recipe",)
    call = {"name": "Recipe", "input": GOOD}
    out = parse_text(RECIPE, orjson.dumps(call).decode())
    assert out.ok and out.repairs == ("unwrap_tool_call:input",)
    out = parse_text(RECIPE, orjson.dumps([GOOD]).decode())
    assert out.ok and out.repairs == ("unwrap:list",)
    two_keys = parse_text(RECIPE, orjson.dumps({"recipe": GOOD, "comment": "x"}).decode())
    assert two_keys.kind is FailureKind.INVALID


def test_wrapped_spec_accepts_bare_and_wrapped_values() -> None:
    spec = sb.compile(list[Ingredient], wrap="items")
    items = GOOD["ingredients"]
    bare = parse_text(spec, "Items:\n" + orjson.dumps(items).decode())
    assert bare.ok and [i.name for i in bare.value] == ["flour", "milk"] and bare.repairs == ()
    wrapped = parse_text(spec, orjson.dumps({"items": items}).decode())
    assert wrapped.ok and wrapped.repairs == ()
    tool_ok = parse_message(spec, message(tool({"items": items}, name=spec.name)))
    assert tool_ok.ok and len(tool_ok.value) == 2


def test_json_schema_spec_values_are_dicts() -> None:
    spec = sb.compile(
        {"title": "Point", "type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}
    )
    out = parse_text(spec, "Answer: {'x': '3',}")
    assert out.ok and out.value == {"x": 3}
    assert set(out.repairs) == {"single_quotes", "trailing_comma", "coerce:$.x:str->int"}


def test_prefill_mode() -> None:
    cont = GOOD_JSON[1:]
    assert parse_text(RECIPE, cont, prefill="{").value == GOOD_VALUE
    assert parse_message(RECIPE, message(text(cont)), prefill="{").ok


def test_truncation_rules() -> None:
    cut = "Here it is:\n```json\n" + GOOD_JSON[:-30]
    assert parse_text(RECIPE, cut, stop_reason="max_tokens").kind is FailureKind.TRUNCATED
    assert parse_text(RECIPE, cut).kind is FailureKind.NO_JSON
    assert parse_text(RECIPE, cut, stop_reason="end_turn").kind is FailureKind.NO_JSON
    complete_then_prose = f"{GOOD_JSON}\n\nA note on the method: you can also"
    assert parse_text(RECIPE, complete_then_prose, stop_reason="max_tokens").ok
    complete_then_cut = f"{GOOD_JSON}\n\nA variant: {GOOD_JSON[:-5]}"
    assert parse_text(RECIPE, complete_then_cut, stop_reason="max_tokens").kind is FailureKind.TRUNCATED
    assert parse_text(RECIPE, complete_then_cut).kind is FailureKind.INVALID
    prose_only = "Let me think about the ingredients first. The recipe calls for"
    assert parse_text(RECIPE, prose_only, stop_reason="max_tokens").kind is FailureKind.TRUNCATED


def test_truncated_number_at_the_end_is_not_trusted() -> None:
    spec = sb.compile(int, wrap="value")
    assert parse_text(spec, "12").value == 12
    assert parse_text(spec, "12", stop_reason="max_tokens").kind is FailureKind.TRUNCATED
    assert parse_text(spec, "<value>12</value>", stop_reason="max_tokens").value == 12


def test_refusals() -> None:
    assert parse_text(RECIPE, "I can't help with that request.").kind is FailureKind.REFUSAL
    assert parse_text(RECIPE, "I'm not able to provide that.").kind is FailureKind.REFUSAL
    assert parse_text(RECIPE, "{}", stop_reason="refusal").kind is FailureKind.REFUSAL
    hedge = f"I can't verify the quantities, but here it is: {GOOD_JSON}"
    assert parse_text(RECIPE, hedge).ok
    assert parse_text(RECIPE, "Pancakes are great.").kind is FailureKind.NO_JSON


def test_failure_details() -> None:
    bad = orjson.dumps({**GOOD, "servings": 2.5}).decode()
    out = parse_text(RECIPE, f"Result: {bad}", stop_reason="end_turn")
    assert out.failure is not None and out.kind is FailureKind.INVALID
    d = out.failure.details
    assert d["errors"][0]["path"] == "$.servings" and d["stop_reason"] == "end_turn"
    assert len(d["excerpt"]) <= 200 and d["excerpt"].startswith("{")


# ---- properties ------------------------------------------------------------------------------------

ITEM_SCHEMA = {
    "title": "Order",
    "type": "object",
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "status": {"enum": ["new", "paid", "shipped"]},
        "rush": {"type": "boolean"},
        "count": {"type": "integer"},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "sku": {"type": "string"},
                    "qty": {"type": "integer", "minimum": 1},
                    "price": {"type": ["number", "null"]},
                },
                "required": ["sku", "qty"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["id", "status", "items"],
    "additionalProperties": False,
}
ORDER = sb.compile(ITEM_SCHEMA)
_text = st.text(alphabet=string.ascii_letters + string.digits + " -_.,!?'\"{}[]:é€\n", max_size=12).filter(
    lambda t: not ELISION_STRING.fullmatch(t)  # "..." is an elision placeholder, refused by design
)
_item = st.fixed_dictionaries(
    {"sku": _text, "qty": st.integers(1, 10**12)},
    optional={"price": st.none() | st.floats(allow_nan=False, allow_infinity=False) | st.integers(-99, 99)},
)
orders = st.fixed_dictionaries(
    {
        "id": _text.filter(bool),
        "status": st.sampled_from(["new", "paid", "shipped"]),
        "items": st.lists(_item, max_size=4),
    },
    optional={"rush": st.booleans(), "count": st.integers()},
)
PREAMBLES = ["", "Here is the order:\n\n", "Sure! ", "I extracted the following.\n", "Result —\n"]
POSTAMBLES = [
    "",
    "\n\nLet me know if you need anything else.",
    "\nHope this helps!",
    "\n\n(All prices in EUR.)",
]
WRAPS = [
    "{}",
    "```json\n{}\n```",
    "```\n{}\n```",
    "```JSON  \n{}\n```",
    "~~~\n{}\n~~~",
    "```json\n{}",
    "<json>{}</json>",
    "<output>\n{}\n</output>",
    "<order>{}</order>",
]
PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])


def _dumps(value: Any, indent: bool) -> str:
    return json.dumps(value, indent=2 if indent else None, ensure_ascii=False)


@PROPS
@given(orders)
def test_property_tool_use_roundtrip(value: dict[str, Any]) -> None:
    out = parse_message(ORDER, message(tool(value, name=ORDER.name)))
    assert out.ok and out.value == value and out.repairs == ()
    assert parse_result_line(ORDER, line(succeeded(message(tool(value, name=ORDER.name))))).value == value


# a title that is itself an elision placeholder ("…", "etc.") is refused on purpose
_NOT_PLACEHOLDER = st.text(max_size=30).filter(
    lambda t: re.fullmatch(r"\s*(?:\.{3,}|…+|[Ee]tc\.?|\[\.\.\.\]|\.\.\.etc\.?)\s*", t) is None
)


@PROPS
@given(st.builds(Recipe.model_validate, st.just(GOOD)), st.integers(1, 50), _NOT_PLACEHOLDER)
def test_property_pydantic_tool_use_roundtrip(recipe: Recipe, servings: int, title: str) -> None:
    value = recipe.model_copy(update={"servings": servings, "title": title})
    raw = value.model_dump(mode="json")
    out = parse_result_line(RECIPE, line(succeeded(message(tool(raw), stop="tool_use"))))
    assert out.ok and out.value == value


@PROPS
@given(
    orders,
    st.sampled_from(PREAMBLES),
    st.sampled_from(WRAPS),
    st.sampled_from(POSTAMBLES),
    st.booleans(),
)
def test_property_any_wrapping_recovers_the_value(
    value: dict[str, Any], pre: str, wrap: str, post: str, indent: bool
) -> None:
    if wrap.endswith("{}") and wrap != "{}" and post:  # an unterminated fence ends the text
        post = ""
    body = wrap.replace("{}", _dumps(value, indent))
    out = parse_text(ORDER, pre + body + post)
    assert out.ok, out.failure
    assert out.value == value


@PROPS
@given(orders, st.sampled_from(PREAMBLES), st.sampled_from(WRAPS), st.booleans(), st.data())
def test_property_truncation_never_accepts_a_different_value(
    value: dict[str, Any], pre: str, wrap: str, indent: bool, data: st.DataObject
) -> None:
    full = pre + wrap.replace("{}", _dumps(value, indent))
    cut = data.draw(st.integers(0, len(full)))
    for stop in ("max_tokens", None, "end_turn"):
        out = parse_text(ORDER, full[:cut], stop_reason=stop)
        if out.ok and out.value != value:
            # Only `end_turn` (the model says it finished, so the API never cut this text) may
            # close a missing final brace; then the value is the members written so far, each
            # complete and exactly as in the full answer (a string, list or literal, never a
            # number, which may continue).
            assert stop == "end_turn" and "closed_final_brace" in out.repairs, (full[:cut], out)
            keys = list(out.value)
            assert keys == list(value)[: len(keys)], (full[:cut], out.value)
            assert all(out.value[k] == value[k] for k in keys), (full[:cut], out.value)


@settings(max_examples=25, deadline=None)
@given(orders)
def test_property_every_prefix_of_the_json_is_safe(value: dict[str, Any]) -> None:
    full = _dumps(value, indent=False)
    for cut in range(len(full) + 1):
        out = parse_text(ORDER, full[:cut], stop_reason="max_tokens")
        assert not out.ok or (cut == len(full) and out.value == value)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_property_any_text_gives_one_outcome(t: str) -> None:
    for spec in (ORDER, RECIPE):
        out = parse_text(spec, t)
        assert isinstance(out, sb.Outcome) and out.ok == (out.failure is None)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_property_any_line_gives_one_outcome(raw: bytes) -> None:
    out = parse_result_line(RECIPE, raw)
    assert isinstance(out, sb.Outcome) and not out.ok


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
        max_leaves=20,
    ),
    st.sampled_from(["tool_use", "max_tokens", "refusal", None, "end_turn"]),
)
def test_property_any_tool_input_gives_one_outcome(raw: Any, stop: str | None) -> None:
    out = parse_message(RECIPE, message(tool(raw), text(str(raw)), stop=stop))
    assert isinstance(out, sb.Outcome) and out.ok == (out.failure is None)
    out = parse_text(RECIPE, repr(raw), stop_reason=stop)
    assert isinstance(out, sb.Outcome)


@pytest.mark.parametrize("placeholder", ["...", "…", "etc.", "[...]", "Etc"])
def test_fast_and_general_paths_refuse_the_same_placeholders(placeholder: str) -> None:
    value = {**GOOD, "steps": ["mix", placeholder]}
    from_line = parse_result_line(RECIPE, line(succeeded(message(tool(value), stop="tool_use"))))
    from_message = parse_message(RECIPE, message(tool(value), stop="tool_use"))
    assert from_line.kind is from_message.kind is FailureKind.INVALID


@pytest.mark.parametrize("placeholder", ["…", "...", "etc."])
@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_fast_path_refuses_placeholders_in_tool_input_however_encoded(
    placeholder: str, ensure_ascii: bool
) -> None:
    """A clean tool_use line whose input holds a placeholder is refused like the general path does,
    also when `…` arrives as the JSON escape `\\u2026` and when the usage tier is "batch"."""

    class Title(BaseModel):
        title: str

    spec = sb.compile(Title)
    msg = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5",
        "content": [{"type": "tool_use", "id": "toolu_1", "name": "Title", "input": {"title": placeholder}}],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 1, "service_tier": "batch"},
    }
    raw = json.dumps(
        {"custom_id": "a", "result": {"type": "succeeded", "message": msg}}, ensure_ascii=ensure_ascii
    )
    assert spec.parse(raw).kind is FailureKind.INVALID
    assert spec.parse(raw.encode()).kind is FailureKind.INVALID


def test_ambiguous_failure_shows_each_competing_value() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    out = sb.parse_text('Either {"a": 1} or maybe {"a": 2}.', schema)
    assert out.kind is FailureKind.AMBIGUOUS
    assert out.failure is not None
    assert out.failure.details["excerpts"] == ['{"a": 1}', '{"a": 2}']


# ---- issue 15: our bugs are ours, deep nesting, closed objects, the end_turn brace ---------------


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise KeyError("a bug in structbatch")


@pytest.mark.parametrize("where", ["extract", "fast_result_line", "_parse_message"])
def test_a_bug_is_an_internal_failure_never_the_models(
    where: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from structbatch import _parse

    monkeypatch.setattr(_parse, where, _boom)
    raw = line(succeeded(message(text("Here: " + GOOD_JSON))))
    with caplog.at_level("ERROR", logger="structbatch"):
        outcomes = [
            parse_text(RECIPE, "Here it is: {" + GOOD_JSON[1:-1] + ", }"),
            parse_result_line(RECIPE, raw),
            parse_message(RECIPE, message(text("Here: {" + GOOD_JSON[1:-1] + ", }"))),
            RECIPE.parse(raw),
        ]
    hit = [o for o in outcomes if not o.ok]
    assert hit, "the patched function was never reached"
    for out in hit:
        assert out.kind is FailureKind.INTERNAL, out.failure
        assert out.failure is not None and out.failure.details["error_type"] == "KeyError"
    assert any(r.exc_info and r.exc_info[0] is KeyError for r in caplog.records)


def test_a_user_validator_that_raises_is_internal_not_invalid() -> None:
    from pydantic import field_validator

    class Fussy(BaseModel):
        name: str

        @field_validator("name")
        @classmethod
        def check(cls, v: str) -> str:
            raise LookupError("not a ValueError: pydantic lets it through")

    out = sb.compile(Fussy).parse_text('{"name": "x"}')
    assert out.kind is FailureKind.INTERNAL


def _nested(depth: int, leaf: Any) -> Any:
    for _ in range(depth):
        leaf = [leaf]
    return leaf


NESTED = sb.compile(
    {
        "title": "Nested",
        "type": "object",
        "properties": {"a": {"$ref": "#/$defs/n"}},
        "required": ["a"],
        "$defs": {"n": {"anyOf": [{"type": "integer"}, {"type": "array", "items": {"$ref": "#/$defs/n"}}]}},
    }
)


class Tree(BaseModel):
    children: list[Tree] = []


@pytest.mark.parametrize("depth", [32, 100, 150])
def test_deep_nesting_parses_in_every_form(depth: int) -> None:
    value = {"a": _nested(depth, 1)}
    dumped = json.dumps(value)
    for written in (dumped, "Here it is:\n" + dumped, dumped[:-1] + ",}", f"```json\n{dumped}\n```"):
        out = parse_text(NESTED, written)
        assert out.ok and out.value == value, out.failure
    tree: dict[str, Any] = {}
    for _ in range(depth):  # two levels of JSON per level of the tree (beyond orjson's 255 to write)
        tree = {"children": [tree]}
    out = parse_text(sb.compile(Tree), "Tree: " + json.dumps(tree))
    assert out.ok and out.value == Tree.model_validate(tree), out.failure


def test_strict_json_deeper_than_orjson_writes_is_still_read() -> None:
    value = {"a": _nested(600, 1)}  # orjson reads 1,024 levels and writes 255
    out = parse_text(NESTED, json.dumps(value))
    assert out.ok and out.value == value and out.repairs == (), out.failure


@pytest.mark.parametrize("depth", [1200, 5000])
def test_nesting_deeper_than_we_read_is_a_plain_failure(depth: int) -> None:
    for written in ("[" * depth + "]" * depth, '{"a": ' + "[" * depth + "1" + "]" * depth + "}"):
        for stop in (None, "end_turn", "max_tokens"):
            out = parse_text(NESTED, written, stop_reason=stop)
            assert not out.ok and out.kind is not FailureKind.INTERNAL, out.failure


@pytest.mark.parametrize("depth", [32, 100])
def test_a_string_integer_deep_in_a_tool_input_is_coerced(depth: int) -> None:
    out = parse_message(NESTED, message(tool({"a": _nested(depth, "7")}, name="Nested"), stop="tool_use"))
    assert out.ok and out.value == {"a": _nested(depth, 7)}, out.failure
    assert any(r.endswith(":str->int") for r in out.repairs)


@pytest.mark.parametrize("depth", [600, 5000])
def test_absurdly_deep_tool_inputs_end_in_a_clean_outcome(depth: int) -> None:
    def parsed(leaf: Any) -> sb.Outcome[Any]:
        return parse_message(
            NESTED, message(tool({"a": _nested(depth, leaf)}, name="Nested"), stop="tool_use")
        )

    clean, coerced = parsed(7), parsed("7")
    assert clean.kind is not FailureKind.INTERNAL and coerced.kind is not FailureKind.INTERNAL
    if depth > 1000:  # deeper than validation goes: refused, never a crash
        assert not clean.ok and clean.kind is FailureKind.INVALID
    assert coerced.ok is clean.ok  # where the value validates, its lossless coercion does too
    if clean.ok:
        assert coerced.value == clean.value
    tree: dict[str, Any] = {}
    for _ in range(depth):
        tree = {"children": [tree]}
    out = parse_message(sb.compile(Tree), message(tool(tree, name="Tree"), stop="tool_use"))
    assert out.kind is not FailureKind.INTERNAL, out.failure


CLOSED = sb.compile(
    {
        "title": "Closed",
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "inner": {
                "type": "object",
                "properties": {"n": {"type": "integer"}},
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
    }
)


def test_closed_json_schema_objects_drop_extra_keys_in_tool_inputs_too() -> None:
    closed_msg = {**message(tool({"name": "x", "inner": {"n": "2", "z": 1}, "y": 0}, name="Closed"))}
    out = parse_message(CLOSED, closed_msg)
    assert out.ok and out.value == {"name": "x", "inner": {"n": 2}}
    assert set(out.repairs) == {"drop_extra:$.y", "drop_extra:$.inner.z", "coerce:$.inner.n:str->int"}
    assert not CLOSED.validate({"name": "x", "y": 0}).ok  # Spec.validate itself stays strict


def test_a_wrapper_is_unwrapped_before_its_key_is_dropped() -> None:
    out = parse_text(CLOSED, '{"closed": {"name": "x"}}')
    assert out.ok and out.value == {"name": "x"} and out.repairs == ("unwrap:closed",)
    out = parse_text(CLOSED, '{"name": "x", "note": 5}')  # no wrapper reading fits: the key is extra
    assert out.ok and out.value == {"name": "x"} and out.repairs == ("drop_extra:$.note",)
    # dropping every key would turn an answer about something else into an empty success
    out = parse_text(CLOSED, '{"error": "No contact details found."}')
    assert not out.ok and out.kind is FailureKind.INVALID


def test_pydantic_extra_forbid_keeps_rejecting() -> None:
    from pydantic import ConfigDict

    class Strict(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str

    spec = sb.compile(Strict)
    assert parse_text(spec, '{"name": "x", "extra": 1}').kind is FailureKind.INVALID
    out = parse_message(spec, message(tool({"name": "x", "extra": 1}, name="Strict")))
    assert out.kind is FailureKind.INVALID


def test_missing_final_brace_only_under_end_turn() -> None:
    cut = GOOD_JSON[:-1]
    out = parse_text(RECIPE, cut, stop_reason="end_turn")
    assert out.ok and out.value == GOOD_VALUE and "closed_final_brace" in out.repairs
    assert parse_text(RECIPE, cut, stop_reason="max_tokens").kind is FailureKind.TRUNCATED
    assert parse_text(RECIPE, cut).kind is FailureKind.NO_JSON
    out = parse_message(RECIPE, message(text("Here:\n" + cut)))  # `message()` ends its turn
    assert out.ok and out.value == GOOD_VALUE
    open_list = GOOD_JSON[: GOOD_JSON.index('"steps":[') + 9] + '"mix"'  # `]` and `}` missing
    assert parse_text(RECIPE, open_list, stop_reason="end_turn").kind is FailureKind.NO_JSON
    assert parse_text(RECIPE, cut[:-4], stop_reason="end_turn").kind is FailureKind.NO_JSON  # after `:`
