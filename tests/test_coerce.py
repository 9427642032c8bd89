"""Schema-guided coercion: only the lossless cases, each reported by name."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

import pytest
from pydantic import BaseModel

import structbatch as sb
from structbatch._coerce import coerce

INT = {"type": "integer"}
NUM = {"type": "number"}
BOOL = {"type": "boolean"}


def obj(**props: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props}


@pytest.mark.parametrize(
    ("schema", "value", "expected", "applied"),
    [
        (INT, "5", 5, ["coerce:$:str->int"]),
        (INT, "-12", -12, ["coerce:$:str->int"]),
        (NUM, "2.5", 2.5, ["coerce:$:str->number"]),
        (NUM, "7", 7, ["coerce:$:str->number"]),
        (NUM, "1e3", 1000.0, ["coerce:$:str->number"]),
        (INT, 5.0, 5, ["coerce:$:float->int"]),
        (BOOL, "true", True, ["coerce:$:str->bool"]),
        (BOOL, "False", False, ["coerce:$:str->bool"]),
    ],
)
def test_lossless_scalar_coercions(schema: Any, value: Any, expected: Any, applied: list[str]) -> None:
    out, done = coerce(value, schema)
    assert out == expected and type(out) is type(expected)
    assert done == applied


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        (INT, "5.5"),  # would round
        (INT, "5.0"),  # two steps; not taken
        (INT, "five"),
        (INT, " 5"),
        (INT, "5kg"),
        (INT, "007"),
        (INT, 5.5),
        (NUM, "1e999"),  # not finite
        (NUM, "NaN"),
        (BOOL, "yes"),
        (BOOL, "1"),
        (BOOL, 1),
        (INT, True),
        ({"type": ["integer", "string"]}, "5"),  # a string is allowed: keep it
        ({"type": "string"}, 5),
    ],
)
def test_lossy_or_unneeded_coercions_are_not_made(schema: Any, value: Any) -> None:
    out, done = coerce(value, schema)
    assert out is value and done == []


def test_enum_case_fixed_only_when_unique() -> None:
    assert coerce("ACTIVE", {"enum": ["active", "closed"]}) == ("active", ["enum_case:$"])
    assert coerce("Active", {"enum": ["active", "ACTIVE"]}) == ("Active", [])  # two members match
    assert coerce("act", {"enum": ["active"]}) == ("act", [])  # never a substring match
    assert coerce("Draft", {"const": "draft"}) == ("draft", ["enum_case:$"])


def test_nested_paths_refs_and_lists() -> None:
    schema = {
        "type": "object",
        "properties": {"items": {"type": "array", "items": {"$ref": "#/$defs/Item"}}},
        "$defs": {"Item": obj(qty=INT, status={"enum": ["new", "done"]})},
    }
    value = {"items": [{"qty": "1"}, {"qty": 2, "status": "DONE"}]}
    out, done = coerce(value, schema)
    assert out == {"items": [{"qty": 1}, {"qty": 2, "status": "done"}]}
    assert done == ["coerce:$.items[0].qty:str->int", "enum_case:$.items[1].status"]
    assert value == {"items": [{"qty": "1"}, {"qty": 2, "status": "DONE"}]}  # not mutated


def test_any_of_coerces_only_into_exactly_one_branch() -> None:
    optional_int = {"anyOf": [INT, {"type": "null"}]}
    assert coerce("5", optional_int) == (5, ["coerce:$:str->int"])
    assert coerce(None, optional_int) == (None, [])
    both = {"anyOf": [INT, BOOL]}
    assert coerce("5", both) == (5, ["coerce:$:str->int"])
    ambiguous = {"anyOf": [INT, NUM]}  # "5" fits both after coercion, as the same value 5
    assert coerce("5", ambiguous) == (5, ["coerce:$:str->int"])
    fits_as_is = {"anyOf": [INT, {"type": "string"}]}
    assert coerce("5", fits_as_is) == ("5", [])


def test_additional_properties_schema_is_followed() -> None:
    schema = {"type": "object", "additionalProperties": INT}
    assert coerce({"a": "1", "b": 2}, schema) == ({"a": 1, "b": 2}, ["coerce:$.a:str->int"])


def test_broken_schema_never_raises() -> None:
    assert coerce({"a": "1"}, {"properties": {"a": {"$ref": "#/nowhere"}}}) == ({"a": "1"}, [])
    assert coerce("1", {"type": 5}) == ("1", [])


class Status(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Line(BaseModel):
    sku: str
    qty: int
    price: float | None = None


class Ticket(BaseModel):
    status: Status
    priority: Literal["low", "high"]
    urgent: bool
    lines: list[Line]


def test_through_spec_validate_pydantic() -> None:
    spec = sb.compile(Ticket)
    v = spec.validate(
        {"status": "Open", "priority": "HIGH", "urgent": "true", "lines": [{"sku": "a", "qty": "3"}]}
    )
    assert v.ok, v.errors
    assert v.value.lines[0].qty == 3 and v.value.status is Status.OPEN
    assert set(v.coercions) == {
        "enum_case:$.status",
        "enum_case:$.priority",
        "coerce:$.urgent:str->bool",
        "coerce:$.lines[0].qty:str->int",
    }
    bad = spec.validate({"status": "open", "priority": "low", "urgent": "yes", "lines": []})
    assert not bad.ok and bad.errors[0].path == "$.urgent"


def test_through_spec_validate_json_schema() -> None:
    spec = sb.compile({"title": "t", "type": "object", "properties": {"n": INT}, "required": ["n"]})
    assert spec.validate({"n": "4"}).value == {"n": 4}
    assert not spec.validate({"n": "4.5"}).ok
