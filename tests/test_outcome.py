"""Outcome's runtime face: Success/Failed are views of the one Outcome class, as_dict is JSON-ready."""

from __future__ import annotations

import dataclasses
import json

import pytest
from pydantic import BaseModel, Field

import structbatch as sb


class Person(BaseModel):
    name: str
    age: int = Field(alias="Age")


def test_success_and_failed_are_views_decided_by_ok() -> None:
    good = sb.Outcome.success(Person(name="Ada", Age=36), key="a")
    bad = sb.Outcome.fail(sb.FailureKind.INVALID, "age is not an integer", key="b")
    assert isinstance(good, sb.Success) and not isinstance(good, sb.Failed)
    assert isinstance(bad, sb.Failed) and not isinstance(bad, sb.Success)
    assert type(good) is sb.Outcome and type(bad) is sb.Outcome  # one class, one storage layout
    assert issubclass(sb.Success, sb.Outcome) and issubclass(sb.Failed, sb.Outcome)


def test_an_outcome_filled_through_its_dict_is_a_success_too() -> None:
    """The parser's fast path fills a bare Outcome's `__dict__`; the views must still see it."""
    fast: sb.Outcome[int] = object.__new__(sb.Outcome)
    defaults = {
        f.name: f.default for f in dataclasses.fields(sb.Outcome) if f.default is not dataclasses.MISSING
    }
    fast.__dict__.update(defaults, ok=True, value=7, usage=sb.Usage())
    assert isinstance(fast, sb.Success) and fast.narrow() is fast


def test_match_reads_value_or_failure_positionally() -> None:
    def describe(o: sb.Result[int]) -> str:
        match o:
            case sb.Success(value):
                return f"value {value}"
            case sb.Failed(failure):
                return f"failed {failure.kind}"
        raise AssertionError("an outcome is a success or a failure")

    assert describe(sb.Outcome.success(3)) == "value 3"
    assert describe(sb.Outcome.fail(sb.FailureKind.TRUNCATED, "cut")) == "failed truncated"


def test_calling_a_view_builds_an_outcome_and_checks_ok() -> None:
    built = sb.Success(ok=True, value=1)
    assert type(built) is sb.Outcome and built.value == 1
    with pytest.raises(TypeError, match="needs ok=True"):
        sb.Success(ok=False)


def test_replace_keeps_the_class_and_changes_fields() -> None:
    o = sb.Outcome.success(1, key="k")
    changed = o.replace(attempts=2)
    assert type(changed) is sb.Outcome and changed.attempts == 2 and changed.key == "k"


def test_as_dict_of_a_success_is_json_ready_and_reads_back() -> None:
    o = sb.Outcome.success(
        Person(name="Ada", Age=36),
        key="row-1",
        custom_id="row-1",
        usage=sb.Usage(10, 5),
        mode="tool",
        attempts=2,
        repairs=("trailing_comma",),
    )
    d = json.loads(json.dumps(o.as_dict()))
    assert d == {
        "key": "row-1",
        "custom_id": "row-1",
        "ok": True,
        "kind": None,
        "message": None,
        "details": None,
        "value": {"name": "Ada", "Age": 36},
        "usage": {
            "input_tokens": 10,
            "output_tokens": 5,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
        "attempts": 2,
        "repairs": ["trailing_comma"],
        "mode": "tool",
    }
    assert Person.model_validate(d["value"]) == o.value  # by alias: what validation reads back


def test_as_dict_of_a_failure_keeps_kind_message_and_stringifies_odd_details() -> None:
    class SDKThing:
        def __str__(self) -> str:
            return "sdk-thing"

    o = sb.Outcome.fail(sb.FailureKind.API_ERROR, "overloaded_error: busy", {"raw": SDKThing()}, key="k")
    d = o.as_dict()
    json.dumps(d)
    assert (d["ok"], d["kind"], d["message"], d["value"]) == (
        False,
        "api_error",
        "overloaded_error: busy",
        None,
    )
    assert d["details"] == {"raw": "sdk-thing"}


def test_as_dict_keeps_integers_beyond_64_bits_of_a_dict_value() -> None:
    d = sb.Outcome.success({"id": 2**70}).as_dict()
    assert json.loads(json.dumps(d))["value"] == {"id": 2**70}
