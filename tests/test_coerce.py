"""Schema-guided coercion: only the lossless cases, each reported by name."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, Literal

import pytest
from pydantic import BaseModel

import structbatch as sb
from structbatch import _coerce
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
        (INT, "5.0", 5, ["coerce:$:str->int"]),  # an integral number string
        (INT, "-3.000", -3, ["coerce:$:str->int"]),
        (INT, "2e3", 2000, ["coerce:$:str->int"]),
        (INT, " 5", 5, ["coerce:$:padded_str->int"]),
        (INT, " 42 ", 42, ["coerce:$:padded_str->int"]),
        (NUM, "\t2.5\n", 2.5, ["coerce:$:padded_str->number"]),
        (INT, " 7.0 ", 7, ["coerce:$:padded_str->int"]),
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
        (INT, "5.50"),
        (INT, "5.0001"),
        (INT, "1e-1"),
        (INT, "five"),
        (INT, "5 5"),
        (INT, "1 000"),
        (INT, "1,000"),
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


# ---- issue 15: case and whitespace in enums, wrapping into a list, closed objects ---------------


def test_enum_case_and_surrounding_whitespace() -> None:
    members = {"enum": ["small", "Medium", "LARGE"]}
    assert coerce(" medium ", members) == ("Medium", ["enum_case:$", "enum_whitespace:$"])
    assert coerce("large\n", members) == ("LARGE", ["enum_case:$", "enum_whitespace:$"])
    assert coerce(" small", members) == ("small", ["enum_whitespace:$"])
    assert coerce("med", members) == ("med", [])  # a synonym or prefix is never a member
    assert coerce("s mall", members) == ("s mall", [])  # inner whitespace is not padding
    assert coerce("ΣΊΣΥΦΟΣ", {"enum": ["σίσυφοσ"]}) == ("σίσυφοσ", ["enum_case:$"])


@pytest.mark.parametrize(
    ("member", "written"),
    [
        ("μ", "µ"),  # GREEK SMALL LETTER MU vs MICRO SIGN: casefold merges them
        ("µ", "μ"),
        ("μs", "µs"),
        ("K", "\u212a"),  # the Kelvin sign lowercases to k, but is not the letter K
        ("s", "ſ"),  # long s
        ("ss", "ß"),  # casefold makes ß "ss"
        ("Å", "\u212b"),  # the Ångström sign
        ("ﬁ", "fi"),  # a ligature is not its letters (NFKC would merge them)
        ("σ", "ς"),  # final sigma is another letter form
    ],
)
def test_enum_case_never_merges_distinct_code_points(member: str, written: str) -> None:
    assert coerce(written, {"enum": [member, "other"]}) == (written, [])


def test_one_value_is_wrapped_where_only_an_array_is_allowed() -> None:
    tags = {"type": "array", "items": {"type": "string"}}
    assert coerce("math", tags) == (["math"], ["wrap_list:$"])
    counts = {"type": "array", "items": INT}
    assert coerce("3", counts) == ([3], ["coerce:$[0]:str->int", "wrap_list:$"])
    items = {"type": "array", "items": obj(qty=INT)}
    assert coerce({"qty": "2"}, items) == ([{"qty": 2}], ["coerce:$[0].qty:str->int", "wrap_list:$"])
    optional = {"anyOf": [tags, {"type": "null"}]}
    assert coerce("math", optional) == (["math"], ["wrap_list:$"])


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        ({"type": "array"}, None),  # null is no item
        ({"type": "array", "items": {"type": "string"}}, "a, b"),  # may list several items
        ({"type": "array", "items": {"type": "string"}}, "a; b"),
        ({"type": "array", "items": {"type": "string"}}, "a\nb"),
        ({"type": ["array", "string"]}, "a"),  # a string is allowed as it is
        ({"items": {"type": "string"}}, "a"),  # no type: nothing says it must be an array
    ],
)
def test_values_that_are_not_one_item_are_not_wrapped(schema: Any, value: Any) -> None:
    out, done = coerce(value, schema)
    assert out is value and done == []


CLOSED = {
    "type": "object",
    "properties": {
        "a": INT,
        "inner": {"type": "object", "properties": {"b": INT}, "additionalProperties": False},
    },
    "additionalProperties": False,
}


def test_keys_outside_closed_objects_are_dropped_only_when_asked() -> None:
    value = {"a": 1, "x": 2, "inner": {"b": "3", "y": 4}}
    assert coerce(value, CLOSED) == (
        {"a": 1, "x": 2, "inner": {"b": 3, "y": 4}},
        ["coerce:$.inner.b:str->int"],
    )
    out, done = coerce(value, CLOSED, drop_extra=True)
    assert out == {"a": 1, "inner": {"b": 3}}
    assert done == ["drop_extra:$.x", "coerce:$.inner.b:str->int", "drop_extra:$.inner.y"]
    assert value == {"a": 1, "x": 2, "inner": {"b": "3", "y": 4}}  # not mutated


def test_a_key_another_part_of_the_schema_names_is_never_dropped() -> None:
    # the classic allOf trap: the closed part does not list `b`, its sibling does
    schema = {
        "allOf": [
            {"type": "object", "properties": {"a": INT}, "additionalProperties": False},
            {"properties": {"b": INT}},
        ]
    }
    assert coerce({"a": 1, "b": 2}, schema, drop_extra=True) == ({"a": 1, "b": 2}, [])
    patterned = {"type": "object", "patternProperties": {"^x-": INT}, "additionalProperties": False}
    assert coerce({"x-a": 1, "y": 2}, patterned, drop_extra=True) == ({"x-a": 1}, ["drop_extra:$.y"])
    required = {"type": "object", "required": ["k"], "additionalProperties": False}
    assert coerce({"k": 1}, required, drop_extra=True) == ({"k": 1}, [])


def _arrays(depth: int, leaf: Any) -> Any:
    for _ in range(depth):
        leaf = [leaf]
    return leaf


def _array_schema(depth: int) -> dict[str, Any]:
    schema: dict[str, Any] = INT
    for _ in range(depth):
        schema = {"type": "array", "items": schema}
    return schema


def _any_of_schema(depth: int) -> dict[str, Any]:
    """`depth` levels of `anyOf: [array of <the level below>, null]` over an integer."""
    schema: dict[str, Any] = INT
    for _ in range(depth):
        schema = {"anyOf": [{"type": "array", "items": schema}, {"type": "null"}]}
    return schema


def _leaf(value: Any, depth: int) -> Any:
    """The value `depth` single-item lists down (a walk: `==` on 5,000 levels recurses too deep)."""
    for _ in range(depth):
        assert isinstance(value, list) and len(value) == 1
        value = value[0]
    return value


@pytest.mark.parametrize("depth", [32, 100, 600, 5000])
def test_coercion_goes_as_deep_as_the_value(depth: int) -> None:
    out, done = coerce(_arrays(depth, "1"), _array_schema(depth))  # no depth cap, no RecursionError
    assert _leaf(out, depth) == 1 and type(_leaf(out, depth)) is int
    assert done == ["coerce:$" + "[0]" * depth + ":str->int"]


@pytest.mark.parametrize("depth", [32, 100])
def test_a_string_integer_under_a_deep_any_of_nesting_is_coerced(depth: int) -> None:
    spec = sb.compile(_any_of_schema(depth))
    check = spec.validate({"value": _arrays(depth, "1")})
    assert check.ok and check.value == _arrays(depth, 1), check.errors
    out = spec.parse_text(json.dumps(_arrays(depth, "1")))
    assert out.ok and out.value == _arrays(depth, 1), out.failure
    assert any(r.endswith(":str->int") for r in out.repairs)


@pytest.mark.parametrize("shape", [_array_schema, _any_of_schema])
@pytest.mark.parametrize("depth", [150, 300, 450, 600, 5000])
def test_where_the_validators_accept_a_depth_coercion_does_too(shape: Any, depth: int) -> None:
    try:
        spec = sb.compile(shape(depth))
    except sb.SchemaError as exc:  # deeper than compiling goes: a refusal, never a RecursionError
        assert "nested too deep" in str(exc)
        return
    if spec.validate({"value": _arrays(depth, 1)}).ok:
        check = spec.validate({"value": _arrays(depth, "1")})
        assert check.ok and check.value == _arrays(depth, 1), check.errors


def test_a_list_made_by_wrapping_is_never_wrapped_again() -> None:
    # a recursive array schema would otherwise wrap "1" into [[[...]]] without end: one wrap,
    # and what it holds is left for validation to refuse
    schema = {"$defs": {"n": {"type": "array", "items": {"$ref": "#/$defs/n"}}}, "$ref": "#/$defs/n"}
    assert coerce("1", schema) == (["1"], ["wrap_list:$"])
    assert coerce(["1"], schema) == ([["1"]], ["wrap_list:$[0]"])
    nested = {"type": "array", "items": {"type": "array", "items": INT}}
    assert coerce("1", nested) == (["1"], ["wrap_list:$"])  # never [[1]]
    assert not sb.compile(nested).validate({"items": "1"}).ok


def test_union_branches_sharing_a_ref_are_walked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # two branches lead to the same definition: without the walk's memo, 2**depth paths
    twin = {"type": "object", "properties": {"a": {"$ref": "#/$defs/n"}}, "required": ["a"]}
    schema = {"$defs": {"n": {"anyOf": [twin, {**twin, "maxProperties": 5}, INT]}}, "$ref": "#/$defs/n"}
    walked = 0
    node = _coerce._Coercer.node

    def counting(self: Any, *args: Any) -> Any:
        nonlocal walked
        walked += 1
        return node(self, *args)

    monkeypatch.setattr(_coerce._Coercer, "node", counting)
    depth = 18
    value: Any = "1"
    for _ in range(depth):
        value = {"a": value}
    out, done = coerce(value, schema)
    assert done == ["coerce:$" + ".a" * depth + ":str->int"]
    assert json.dumps(out) == json.dumps(value).replace('"1"', "1")
    assert walked < 20 * depth


def test_keys_named_by_dependent_keywords_are_not_extra() -> None:
    schema = {
        "type": "object",
        "properties": {"a": INT},
        "dependentSchemas": {"b": {}},
        "dependentRequired": {"a": ["c"]},
        "additionalProperties": False,
    }
    assert coerce({"a": 1, "b": 2, "c": 3, "d": 4}, schema, drop_extra=True) == (
        {"a": 1, "b": 2, "c": 3},
        ["drop_extra:$.d"],
    )


@pytest.mark.parametrize(
    "value",
    [
        *("", " ", "None", "none", "N/A", "n/a", "-", "null", "[list of cons]", "<tags>"),
        *("None mentioned", "No cons mentioned", "Not specified", "Unknown", "TBD", "nothing listed"),
    ],
)
def test_a_string_that_means_no_items_is_never_wrapped(value: str) -> None:
    tags = obj(tags={"type": "array", "items": {"type": "string"}})
    assert coerce({"tags": value}, tags) == ({"tags": value}, [])


def test_one_plain_item_is_still_wrapped() -> None:
    tags = obj(tags={"type": "array", "items": {"type": "string"}})
    assert coerce({"tags": "solar"}, tags) == ({"tags": ["solar"]}, ["wrap_list:$.tags"])
    for one in ("Nonesuch", "Unknown Pleasures", "No Doubt", "Not Fade Away"):
        assert coerce({"tags": one}, tags) == ({"tags": [one]}, ["wrap_list:$.tags"])


def test_extra_keys_are_not_dropped_when_none_would_remain() -> None:
    closed = {**obj(name={"type": "string"}), "additionalProperties": False}
    assert coerce({"error": "not found"}, closed, drop_extra=True) == ({"error": "not found"}, [])
    assert coerce({"name": "x", "note": 1}, closed, drop_extra=True) == ({"name": "x"}, ["drop_extra:$.note"])
    nested = obj(address=closed)
    assert coerce({"address": {"full": "41 Harbour Rd"}}, nested, drop_extra=True) == (
        {"address": {"full": "41 Harbour Rd"}},
        [],
    )


def test_a_float_beyond_two_to_the_53_is_the_integer_its_shortest_spelling_writes() -> None:
    """Strict loading leaves a float of 2**53 or more only where it was written as its shortest
    spelling (`1e30`), so that spelling's integer is the number written, not the float's own
    value (1e30 is 1000000000000000019884624838656)."""
    assert coerce(9007199254740992.0, INT) == (2**53, ["coerce:$:float->int"])
    assert coerce(1e30, INT) == (10**30, ["coerce:$:float->int"])
    assert coerce(-2.5e20, INT) == (-25 * 10**19, ["coerce:$:float->int"])
    assert coerce(2.0**60, INT) == (1152921504606847000, ["coerce:$:float->int"])  # `1.152921504606847e+18`
    assert coerce(9007199254740991.0, INT) == (9007199254740991, ["coerce:$:float->int"])
    for kept in (float("inf"), float("-inf"), 2.5, 1e30):
        schema = INT if kept != 1e30 else {"type": "number"}
        got = coerce(kept, schema)
        assert got == (kept, []) and type(got[0]) is float


def test_exact_integers_touches_only_big_floats_in_integer_places() -> None:
    from structbatch._coerce import exact_integers

    schema = obj(
        n=INT,
        x={"type": "number"},
        both={"type": ["integer", "number"]},
        small=INT,
        s={"type": "string"},
        u={"anyOf": [INT, {"type": "string"}]},
        v={"anyOf": [INT, {"type": "number"}]},
        ns={"type": "array", "items": INT},
    )
    value = {
        "n": 1e30,
        "x": 1e30,
        "both": 1e30,
        "small": 3.0,
        "s": "5",
        "u": 1e20,
        "v": 1e20,
        "ns": [2.5e20, 7],
    }
    out, applied = exact_integers(value, schema)
    assert out == {**value, "n": 10**30, "u": 10**20, "ns": [25 * 10**19, 7]}
    assert [type(out[k]) for k in ("x", "both", "small", "v")] == [float] * 4
    assert applied == ["coerce:$.n:float->int", "coerce:$.u:float->int", "coerce:$.ns[0]:float->int"]
    assert value["n"] == 1e30  # not mutated
    assert exact_integers({"n": 3.0, "s": "5"}, schema) == ({"n": 3.0, "s": "5"}, [])


def test_whitespace_alone_picks_the_exact_member_beside_case_twins() -> None:
    grade = {"enum": ["Low", "low", "HIGH"]}
    assert coerce(" low ", grade) == ("low", ["enum_whitespace:$"])
    assert coerce("LOW", grade) == ("LOW", [])  # two members differ from it only in case


def test_a_list_written_as_a_json_string_is_decoded_where_only_an_array_fits() -> None:
    tags = obj(tags={"type": "array", "items": {"type": "string"}})
    assert coerce({"tags": '["a", "b"]'}, tags) == ({"tags": ["a", "b"]}, ["decode_json:$.tags"])
    assert coerce({"tags": " [] "}, tags) == ({"tags": []}, ["decode_json:$.tags"])
    ints = obj(n={"type": "array", "items": INT})
    assert coerce({"n": '["1", 2]'}, ints) == ({"n": [1, 2]}, ["decode_json:$.n", "coerce:$.n[0]:str->int"])
    for kept in ("[a, b]", '["a", "..."]', "[list of cons]", '["a"] and more', '{"a": 1} etc'):
        assert coerce({"tags": kept}, tags) == ({"tags": kept}, [])
    text = obj(note={"type": "string"})
    assert coerce({"note": '["a"]'}, text) == ({"note": '["a"]'}, [])  # a string place keeps it
