"""The compiler: sources -> Spec (tool names, schemas, refs, errors) and Spec.validate."""

from __future__ import annotations

import enum
import json
import re
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import jsonschema
import pytest
from pydantic import BaseModel, ConfigDict, Field

import structbatch as sb
from structbatch._schema import TOOL_NAME_PATTERN, json_path, sanitize_tool_name, to_api_subset

# ---- tool names ---------------------------------------------------------------------------------


class Recipe(BaseModel):
    """A recipe."""

    title: str


class Titled(BaseModel):
    model_config = ConfigDict(title="My Recipe (v2)!")
    a: int


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Recipe", "Recipe"),
        ("Recipe (v2)!", "Recipe_v2"),
        ("  spaced out  name ", "spaced_out_name"),
        ("keep-dash_and_underscore", "keep-dash_and_underscore"),
        ("Rezept für Äpfel", "Rezept_f_r_pfel"),
        ("レシピ", "extract"),
        ("", "extract"),
        ("x" * 80, "x" * 64),
    ],
)
def test_sanitize_tool_name(raw: str, expected: str) -> None:
    assert sanitize_tool_name(raw) == expected
    assert TOOL_NAME_PATTERN.match(sanitize_tool_name(raw))


def test_name_from_class_name_even_with_custom_title() -> None:
    spec = sb.compile(Titled)
    assert spec.name == spec.tool["name"] == "Titled"
    assert sb.compile(Recipe).name == "Recipe"


def test_name_override_is_sanitised() -> None:
    spec = sb.compile(Recipe, name="my recipe!" + "y" * 100)
    assert spec.tool["name"] == ("my_recipe_" + "y" * 100)[:64]
    assert len(spec.tool["name"]) == 64


def test_name_from_schema_title_and_file_stem(tmp_path: Path) -> None:
    schema = {"title": "Recipe (v2)!", "type": "object", "properties": {"a": {"type": "string"}}}
    assert sb.compile(schema).name == "Recipe_v2"
    assert sb.compile({"type": "object"}).name == "extract"
    f = tmp_path / "job posting.json"
    f.write_text(json.dumps({"type": "object", "properties": {}}))
    assert sb.compile(f).name == "job_posting"
    assert sb.compile(str(f)).name == "job_posting"
    g = tmp_path / "x.json"
    g.write_text(json.dumps({"title": "T" * 80, "type": "object"}))
    assert sb.compile(g).name == "T" * 64


@pytest.mark.parametrize("source", [Recipe, Titled])
def test_tool_choice_names_the_tool_that_was_sent(source: type[BaseModel]) -> None:
    spec = sb.compile(source)
    params = spec.params("x", model="claude-haiku-4-5", max_tokens=10, mode=sb.Mode.TOOL)
    assert params["tools"] == [spec.tool]
    assert params["tool_choice"]["name"] == params["tools"][0]["name"] == spec.name


# ---- models: shapes that must compile -----------------------------------------------------------


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Ingredient(BaseModel):
    name: str
    grams: float = Field(description="weight in grams")


class Kitchen(BaseModel):
    """Everything at once."""

    ingredients: list[Ingredient]
    color: Color
    kind: Literal["a", "b"]
    note: str | None = None
    either: int | str
    tags: dict[str, int] = {}
    matrix: list[list[int]] = []


def test_rich_model_compiles_with_defs_and_refs() -> None:
    spec = sb.compile(Kitchen)
    s = spec.schema
    assert s["type"] == "object"
    assert s["properties"]["ingredients"]["items"] == {"$ref": "#/$defs/Ingredient"}
    assert s["$defs"]["Color"]["enum"] == ["red", "green"]
    assert s["properties"]["kind"]["enum"] == ["a", "b"]
    assert {"type": "null"} in s["properties"]["note"]["anyOf"]
    assert s["$defs"]["Ingredient"]["properties"]["grams"]["description"] == "weight in grams"
    assert "title" not in s and "title" not in s["$defs"]["Ingredient"]  # pydantic noise stripped
    jsonschema.Draft202012Validator.check_schema(s)
    # every $ref resolves locally
    for ref in _refs(s):
        assert ref.startswith("#/$defs/") and ref.split("/")[-1] in s["$defs"]


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        out = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return out + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_dict_field_is_outside_the_subset_but_compiles() -> None:
    spec = sb.compile(Kitchen)
    assert not spec.api_subset.fits
    assert any("free-form object" in p for p in spec.api_subset.problems)


class Node(BaseModel):
    value: int
    children: list[Node] = []


def test_recursive_model_compiles_and_is_not_in_the_subset() -> None:
    spec = sb.compile(Node)
    assert spec.schema["type"] == "object"  # root $ref inlined
    assert spec.schema["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    assert any("recursive" in p for p in spec.api_subset.problems)
    ok = spec.validate({"value": 1, "children": [{"value": 2, "children": [{"value": 3}]}]})
    assert ok.ok and ok.value.children[0].children[0].value == 3


def test_model_field_without_json_schema_is_named() -> None:
    class Bad(BaseModel):
        model_config = ConfigDict(arbitrary_types_allowed=True)
        ok: int
        callback: Callable[[int], int]

    with pytest.raises(sb.SchemaError, match=r"Bad\.callback"):
        sb.compile(Bad)


def test_nested_bad_field_is_named_through_lists() -> None:
    class Inner(BaseModel):
        model_config = ConfigDict(arbitrary_types_allowed=True)
        fn: Callable[[], None]

    class Outer(BaseModel):
        items: list[Inner]

    with pytest.raises(sb.SchemaError, match=r"Inner\.fn \(field items\.fn\)"):
        sb.compile(Outer)


def test_wrapped_types() -> None:
    spec = sb.compile(list[Ingredient], wrap="items")
    assert spec.schema["required"] == ["items"]
    v = spec.validate({"items": [{"name": "salt", "grams": 2}]})
    assert v.ok and v.value == [Ingredient(name="salt", grams=2)]
    spec = sb.compile(list[Ingredient], wrap="ingredients")
    assert spec.wrap == "ingredients" and spec.schema["required"] == ["ingredients"]


@pytest.mark.parametrize(
    ("source", "key", "value"),
    [
        (list[Ingredient], "items", [Ingredient(name="salt", grams=2)]),
        (int, "value", 3),
        (int | str, "value", "x"),
        ({"type": "array", "items": {"type": "integer"}}, "items", [1, 2]),
        ({"type": "integer"}, "value", 3),
        ({"anyOf": [{"type": "string"}, {"type": "array"}]}, "value", "x"),
        ({}, "value", None),
        (True, "value", {"any": "thing"}),
    ],
)
def test_any_root_compiles_wrapped_under_a_documented_key(source: Any, key: str, value: Any) -> None:
    spec = sb.compile(source)
    assert spec.wrap == key
    assert spec.tool["input_schema"]["type"] == "object"
    assert spec.tool["input_schema"]["required"] == [key]
    raw = (
        [v.model_dump() if isinstance(v, BaseModel) else v for v in value]
        if isinstance(value, list)
        else value
    )
    check = spec.validate({key: raw})
    assert check.ok and check.value == value
    tool_line = {"content": [{"type": "tool_use", "id": "t", "name": spec.name, "input": {key: raw}}],
                 "stop_reason": "tool_use"}  # fmt: skip
    assert spec.parse(tool_line).value == value
    text = spec.parse_text(json.dumps(raw))
    assert text.ok and text.value == value, text


def test_wrap_overrides_the_key_and_wraps_object_roots_too() -> None:
    spec = sb.compile({"type": "array"}, wrap="rows")
    assert spec.wrap == "rows" and set(spec.schema["properties"]) == {"rows"}
    obj = sb.compile(Recipe, wrap="recipe")
    assert obj.wrap == "recipe" and obj.validate({"recipe": {"title": "x"}}).value == Recipe(title="x")


def test_a_root_model_of_a_list_is_wrapped() -> None:
    from pydantic import RootModel

    class Names(RootModel[list[str]]):
        pass

    spec = sb.compile(Names)
    assert spec.wrap == "items"
    assert spec.validate({"items": ["a"]}).value == Names(["a"])


# ---- JSON Schema sources --------------------------------------------------------------------------


def test_metaschema_violation_names_the_location() -> None:
    with pytest.raises(sb.SchemaError, match=r"properties/a/type"):
        sb.compile({"type": "object", "properties": {"a": {"type": "strin"}}})
    with pytest.raises(sb.SchemaError, match=r"properties/a/minLength"):
        sb.compile({"type": "object", "properties": {"a": {"minLength": -1}}})


def test_file_errors_name_the_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "broken.json"
    f.write_text('{"type": "object",\n "properties": {,}}')
    with pytest.raises(sb.SchemaError, match=r"broken\.json:2:"):
        sb.compile(f)
    with pytest.raises(sb.SchemaError, match="cannot read"):
        sb.compile(tmp_path / "missing.json")
    g = tmp_path / "arr.json"
    g.write_text("[1]")
    with pytest.raises(sb.SchemaError, match="must be a JSON object"):
        sb.compile(g)


@pytest.mark.parametrize(
    ("where", "schema"),
    [
        ("#/properties/a", {"type": "object", "properties": {"a": {"$ref": "http://example.com/s.json"}}}),
        ("#/properties/a", {"type": "object", "properties": {"a": {"$ref": "other.json#/x"}}}),
        (
            "#/dependencies/a",
            {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                "dependencies": {"a": {"$ref": "https://example.invalid/x.json"}},
            },
        ),
    ],
)
def test_external_ref_is_an_error_and_never_fetched(
    where: str, schema: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a schema $ref was fetched")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    with pytest.raises(sb.SchemaError, match=re.escape(where) + " points outside the document"):
        sb.compile(schema)


def test_dangling_local_ref_is_an_error() -> None:
    with pytest.raises(sb.SchemaError, match=r"'#/\$defs/Nope' at #/properties/a points to nothing"):
        sb.compile({"type": "object", "properties": {"a": {"$ref": "#/$defs/Nope"}}})


def test_non_object_root_is_wrapped() -> None:
    arr = {"type": "array", "items": {"type": "integer"}}
    assert sb.compile(arr).wrap == "items"
    spec = sb.compile(arr, wrap="numbers")
    assert spec.schema["properties"]["numbers"] == arr
    assert spec.schema["required"] == ["numbers"]
    assert spec.validate({"numbers": [1, 2]}).value == [1, 2]
    bad = spec.validate({"numbers": [1, "x"]})
    assert not bad.ok and bad.errors[0].path == "$.numbers[1]"


def test_wrap_keeps_defs_at_the_root() -> None:
    spec = sb.compile(
        {"$id": "https://example.com/x.json", "type": "array", "items": {"$ref": "#/$defs/I"},
         "$defs": {"I": {"type": "integer"}}},
        wrap="items",
    )  # fmt: skip
    assert "$defs" in spec.schema and "$id" not in json.dumps(spec.schema)
    assert spec.validate({"items": [1, 2]}).ok
    assert not spec.validate({"items": ["a"]}).ok


def test_root_ref_schema_as_exported_by_pydantic_compiles() -> None:
    spec = sb.compile(Node.model_json_schema())
    assert spec.name == "Node"
    assert spec.schema["type"] == "object"
    assert spec.validate({"value": 1, "children": [{"value": 2}]}).ok
    assert any("recursive" in p for p in spec.api_subset.problems)


def test_draft07_definitions_and_tuple_items_keep_their_meaning() -> None:
    d7 = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "definitions": {"P": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}},
        "properties": {
            "p": {"$ref": "#/definitions/P"},
            "t": {"type": "array", "items": [{"type": "string"}, {"type": "integer"}]},
        },
        "required": ["p"],
    }
    spec = sb.compile(d7)
    assert spec.schema["properties"]["p"] == {"$ref": "#/$defs/P"}
    assert "definitions" not in spec.schema and "$schema" not in spec.schema
    assert spec.validate({"p": {"n": 1}, "t": ["a", 1]}).ok
    bad = spec.validate({"p": {}, "t": [1, "a"]})
    assert not bad.ok and {e.path for e in bad.errors} >= {"$.p", "$.t[0]", "$.t[1]"}
    subset = spec.api_subset.schema
    assert subset["$defs"]["P"]["additionalProperties"] is False
    assert "items" not in subset["properties"]["t"]  # tuple form moved into the description


def test_draft04_boolean_exclusive_maximum_is_honoured() -> None:
    d4 = {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "object",
        "properties": {"n": {"type": "number", "maximum": 5, "exclusiveMaximum": True}},
    }
    spec = sb.compile(d4)
    assert spec.validate({"n": 4.5}).ok
    assert not spec.validate({"n": 5}).ok


def test_json_schema_source_is_not_mutated() -> None:
    schema = {"type": "object", "description": "P.\n\nArgs:\n    a: the a", "properties": {"a": {}}}
    before = json.dumps(schema, sort_keys=True)
    sb.compile(schema)
    assert json.dumps(schema, sort_keys=True) == before


def test_description_override() -> None:
    assert sb.compile(Recipe, description="custom").tool["description"] == "custom"
    assert sb.compile({"type": "object", "description": "d"}).tool["description"] == "d"


def test_unknown_source_type() -> None:
    with pytest.raises(sb.SchemaError, match="cannot compile"):
        sb.compile(42)  # type: ignore[arg-type]


# ---- the API subset ------------------------------------------------------------------------------


def test_subset_transform() -> None:
    schema = {
        "type": "object",
        "properties": {
            "n": {"type": "integer", "minimum": 0, "description": "count"},
            "s": {"type": "string", "maxLength": 5, "format": "email"},
            "odd": {"type": "string", "format": "credit-card"},
            "u": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
            "xs": {"type": "array", "items": {"type": "object", "properties": {}}, "minItems": 3},
            "one": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        },
    }
    out = to_api_subset(schema)
    assert out.fits, out.problems
    p = out.schema["properties"]
    assert out.schema["additionalProperties"] is False
    assert p["xs"]["items"]["additionalProperties"] is False
    assert "minimum" not in p["n"] and p["n"]["description"] == 'count\n{"minimum": 0}'
    assert "maxLength" not in p["s"] and p["s"]["format"] == "email"
    assert "format" not in p["odd"] and "credit-card" in p["odd"]["description"]
    assert "oneOf" not in p["u"] and len(p["u"]["anyOf"]) == 2
    assert "minItems" not in p["xs"] and '"minItems": 3' in p["xs"]["description"]
    assert p["one"]["minItems"] == 1
    assert "additionalProperties" not in schema  # input untouched
    jsonschema.Draft202012Validator.check_schema(out.schema)


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        (
            {"type": "object", "properties": {"d": {"type": "object", "additionalProperties": {}}}},
            "free-form",
        ),
        ({"type": "object", "properties": {"d": {"type": "object"}}}, "free-form"),
        ({"type": "object", "properties": {"e": {"enum": [{"a": 1}, 2]}}}, "complex enum"),
        ({"type": "object", "properties": {"c": {"const": [1]}}}, "complex const"),
        (
            {"type": "object", "properties": {"a": {"allOf": [{"$ref": "#/$defs/X"}]}}, "$defs": {"X": {}}},
            "allOf combined with $ref",
        ),
    ],
)
def test_subset_problems(schema: dict[str, Any], problem: str) -> None:
    assert any(problem in p for p in to_api_subset(schema).problems)


def test_empty_object_and_closed_object_fit() -> None:
    assert to_api_subset({"type": "object", "properties": {}}).fits
    assert to_api_subset({"type": "object", "additionalProperties": False}).fits


def _props(n: int, *, required: bool, union: bool) -> dict[str, Any]:
    sub: dict[str, Any] = {"anyOf": [{"type": "integer"}, {"type": "null"}]} if union else {"type": "integer"}
    props = {f"f{i}": sub for i in range(n)}
    return {"type": "object", "properties": props, "required": list(props) if required else []}


def test_optional_and_union_limits() -> None:
    assert to_api_subset(_props(24, required=False, union=False)).fits
    over = to_api_subset(_props(25, required=False, union=False))
    assert not over.fits and "25 optional properties" in over.problems[0]
    assert to_api_subset(_props(16, required=True, union=True)).fits
    many = to_api_subset(_props(17, required=True, union=True))
    assert not many.fits and "17 union-typed properties" in many.problems[0]


# ---- validation ----------------------------------------------------------------------------------


def test_json_path_format() -> None:
    assert json_path([]) == "$"
    assert json_path(["items", 2, "price"]) == "$.items[2].price"


def test_validate_model_strict_with_paths() -> None:
    spec = sb.compile(Kitchen)
    good = {"ingredients": [{"name": "salt", "grams": 1.5}], "color": "red", "kind": "a", "either": 3}
    v = spec.validate(good)
    assert v.ok and isinstance(v.value, Kitchen) and v.value.color is Color.RED and v.coercions == ()
    bad = spec.validate(
        {"ingredients": [{"name": 1, "grams": 1}], "color": "blue", "kind": "c", "either": []}
    )
    assert not bad.ok and bad.value is None
    paths = {e.path for e in bad.errors}
    assert {"$.ingredients[0].name", "$.color", "$.kind"} <= paths
    assert not spec.validate({"ingredients": [], "color": "red", "kind": "a", "either": True}).ok


def test_validate_model_is_strict_about_bools_and_numbers() -> None:
    class N(BaseModel):
        n: int

    spec = sb.compile(N)
    assert not spec.validate({"n": True}).ok
    assert not spec.validate({"n": 1.5}).ok
    assert not spec.validate({"n": None}).ok
    assert not spec.validate(["not", "an", "object"]).ok
    assert spec.validate({"n": 2}).value == N(n=2)


def test_validate_json_schema_spec() -> None:
    spec = sb.compile(
        {
            "type": "object",
            "properties": {
                "price": {"type": "number", "minimum": 0},
                "items": {"type": "array", "items": {"type": "string", "format": "email"}},
            },
            "required": ["price"],
        }
    )
    assert spec.validate({"price": 1, "items": ["a@b.co"]}).value == {"price": 1, "items": ["a@b.co"]}
    bad = spec.validate({"price": -1, "items": ["a@b.co", "nope"]})
    assert [e.path for e in bad.errors] == ["$.items[1]", "$.price"]
    assert "'nope' is not a 'email'" in bad.errors[0].message
    missing = spec.validate({})
    assert not missing.ok and "'price' is a required property" in missing.errors[0].message


def test_validate_not_json_serialisable() -> None:
    v = sb.compile(Recipe).validate({"title": object()})
    assert not v.ok and v.errors[0].path == "$" and "JSON" in v.errors[0].message


def test_lossless_coercion_is_reported() -> None:
    pytest.importorskip("structbatch._coerce")

    class N(BaseModel):
        n: int

    v = sb.compile(N).validate({"n": "5"})
    assert v.ok and v.value == N(n=5) and v.coercions
    lossy = sb.compile(N).validate({"n": "5.5"})
    assert not lossy.ok and lossy.coercions == ()


def test_fingerprint_is_stable_and_distinguishes_tools() -> None:
    assert sb.compile(Recipe).fingerprint == sb.compile(Recipe).fingerprint
    assert sb.compile(Recipe).fingerprint != sb.compile(Recipe, name="other").fingerprint


# ---- JSON Schema 2020-12 semantics ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "good", "bad"),
    [
        # keywords beside a $ref apply too (the compiled fast check used to ignore them)
        ({"$ref": "#/$defs/list", "maxItems": 2, "$defs": {"list": {"type": "array"}}}, [1, 2], [1, 2, 3]),
        ({"$defs": {"a%b": {"type": "integer"}}, "$ref": "#/$defs/a%25b"}, 1, "x"),
        ({"$defs": {"a/b~c": {"type": "integer"}}, "$ref": "#/$defs/a~1b~0c"}, 1, "x"),
        ({"$defs": {"A": {"$anchor": "foo", "type": "integer"}}, "$ref": "#foo"}, 1, "x"),
        ({"$defs": {"no": False}, "properties": {"a": {"$ref": "#/$defs/no"}}}, {"b": 1}, {"a": 1}),
        ({"$defs": {"yes": True}, "type": "object", "properties": {"a": {"$ref": "#/$defs/yes"}}}, {"a": 1}, []),
        (
            {"$id": "http://example.com/root.json", "type": "object",
             "properties": {"a": {"$ref": "item.json"}},
             "$defs": {"i": {"$id": "item.json", "type": "integer"}}},
            {"a": 1},
            {"a": "x"},
        ),
        ({"prefixItems": [{"type": "integer"}], "items": {"$ref": "#/prefixItems/0"}}, [1, 2], [1, "x"]),
    ],
)  # fmt: skip
def test_local_refs_of_every_form_resolve_with_their_full_meaning(schema: Any, good: Any, bad: Any) -> None:
    spec = sb.compile(schema)
    wrap = (lambda v: {spec.wrap: v}) if spec.wrap else (lambda v: v)
    assert spec.validate(wrap(good)).ok
    assert not spec.validate(wrap(bad)).ok
    assert not spec._validate_strict(wrap(bad)).ok
    # every ref of the compiled tool is a plain pointer that resolves inside the tool schema
    from structbatch import _jsonschema_walk as jsw

    for _, ref in jsw.local_refs(spec.schema):
        assert jsw.resolve_pointer(spec.schema, ref) is not None, ref
    assert spec.schema["type"] == "object"


def test_wrapping_rewrites_every_local_ref() -> None:
    schema = {
        "type": "array",
        "prefixItems": [{"type": "integer"}],
        "items": {"$ref": "#/prefixItems/0"},
        "contains": {"$ref": "#/$defs/pos"},
        "$defs": {"pos": {"minimum": 1}, "self": {"$ref": "#"}},
    }
    spec = sb.compile(schema)
    assert spec.schema["properties"]["items"]["items"] == {"$ref": "#/properties/items/prefixItems/0"}
    assert spec.schema["$defs"]["self"] == {"$ref": "#/properties/items"}
    assert spec.validate({"items": [1, 2]}).ok
    assert not spec.validate({"items": [1, "x"]}).ok
    assert not spec.validate({"items": [0, 0]}).ok


@pytest.mark.parametrize("depth", [32, 100])
def test_deeply_nested_schemas_fall_back_to_the_reference_validator(depth: int) -> None:
    schema: dict[str, Any] = {"type": "integer"}
    value: Any = 1
    for _ in range(depth):
        schema, value = {"type": "array", "items": schema}, [value]
    spec = sb.compile(schema)
    assert spec.validate({"items": value}).ok
    bad: Any = "x"
    for _ in range(depth):
        bad = [bad]
    assert not spec.validate({"items": bad}).ok
    assert spec.parse_text(json.dumps(value)).value == value


def test_validate_never_raises_on_a_schema_it_cannot_evaluate() -> None:
    spec = sb.compile(
        {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}
    )
    result = spec.validate({"value": 1})
    assert not result.ok and "cannot be evaluated" in result.errors[0].message


def test_untyped_object_root_gives_a_typed_tool() -> None:
    spec = sb.compile({"properties": {"a": {"type": "integer"}}, "required": ["a"]})
    assert spec.wrap is None
    assert spec.tool["input_schema"]["type"] == "object"
    assert spec.validate({"a": 1}).ok and not spec.validate({"a": "x"}).ok


def test_format_is_asserted() -> None:
    spec = sb.compile({"type": "object", "properties": {"d": {"type": "string", "format": "date"}}})
    assert spec.validate({"d": "2026-02-28"}).ok
    assert not spec.validate({"d": "2026-02-30"}).ok


@pytest.mark.parametrize(
    ("spec", "shape"),
    [
        (sb.compile(int), lambda n: n),
        (sb.compile({"type": "integer"}), lambda n: n),
        (
            sb.compile({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}),
            lambda n: {"n": n},
        ),
        (sb.compile(list[int]), lambda n: [1, n]),
    ],
    ids=["wrapped int", "integer root schema", "object schema", "wrapped list"],
)
def test_values_beyond_64_bits_survive_the_job_store(spec: sb.Spec[Any], shape: Any) -> None:
    """`dump_value`/`load_value` keep every integer exact (orjson alone refuses or rounds them)."""
    for big in (10**30, -(2**64) - 1, 12345678901234567890):
        value = shape(big)
        out = spec.parse_text(json.dumps(value))
        assert out.ok and out.value == value, out
        back = spec.load_value(spec.dump_value(out.value))
        assert back == value and type(back) is type(value)
