"""Properties of the compiler over random JSON Schemas and random valid instances."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

import structbatch as sb
from structbatch._schema import to_api_subset

# Honour a `ci` profile if tests/conftest.py registered one; otherwise stay small and fast.
try:
    _PROFILE = settings(settings.get_profile("ci"))
except InvalidArgument:
    _PROFILE = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_NAMES = st.sampled_from(["a", "b", "name", "title", "items", "type", "x_1"])
_LEAVES = st.one_of(
    st.just({"type": "string"}),
    st.just({"type": "integer"}),
    st.just({"type": "number"}),
    st.just({"type": "boolean"}),
    st.lists(st.sampled_from(["red", "green", "blue", "Red"]), min_size=1, max_size=3, unique=True).map(
        lambda xs: {"type": "string", "enum": xs}
    ),
)


def _nullable(s: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [s, {"type": "null"}]}


def _objects(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        props = draw(st.dictionaries(_NAMES, children, max_size=4))
        required = [k for k in props if draw(st.booleans())]
        # additionalProperties false: the subset adds it everywhere, so generated instances must
        # not carry extra keys for the "still accepts" property to be meaningful.
        return {"type": "object", "properties": props, "required": required, "additionalProperties": False}

    return build()


_SCHEMAS = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        _objects(inner),
        inner.map(lambda s: {"type": "array", "items": s, "maxItems": 3}),
        inner.map(_nullable),
    ),
    max_leaves=8,
)
_CONSTRAINTS = st.fixed_dictionaries(
    {}, optional={"minimum": st.integers(-5, 5), "maxLength": st.integers(0, 8)}
)


def instances(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Valid instances of a schema from the grammar above.

    `hypothesis_jsonschema.from_schema` would be the natural choice, but the installed
    hypothesis-jsonschema fails on any object schema with this hypothesis version
    (`AttributeError: 'many' object has no attribute 'more'`), so the grammar brings its own.
    """
    if "anyOf" in schema:
        return st.one_of(*(instances(s) for s in schema["anyOf"]))
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema["type"]
    if kind == "object":
        props = schema["properties"]
        required = {k: instances(props[k]) for k in schema["required"]}
        optional = {k: instances(v) for k, v in props.items() if k not in schema["required"]}
        return st.fixed_dictionaries(required, optional=optional)
    if kind == "array":
        return st.lists(instances(schema["items"]), max_size=schema["maxItems"])
    return {
        "string": st.text(max_size=8),
        "integer": st.integers(),
        "number": st.floats(allow_nan=False, allow_infinity=False) | st.integers(),
        "boolean": st.booleans(),
        "null": st.none(),
    }[kind]


@st.composite
def schema_and_instance(draw: st.DrawFn) -> tuple[dict[str, Any], Any]:
    schema = draw(_objects(_SCHEMAS))
    return schema, draw(instances(schema))


def _constraint_free(node: Any) -> bool:
    if isinstance(node, dict):
        if any(k in node for k in ("minimum", "maxLength", "maxItems", "pattern")):
            return False
        return all(_constraint_free(v) for v in node.values())
    if isinstance(node, list):
        return all(_constraint_free(v) for v in node)
    return True


@_PROFILE
@given(schema_and_instance())
def test_compiled_schema_validates_valid_instances(pair: tuple[dict[str, Any], Any]) -> None:
    schema, instance = pair
    before = copy.deepcopy(instance)
    result = sb.compile(schema).validate(instance)
    assert result.ok, result.errors
    assert result.value == before
    assert result.coercions == ()


@_PROFILE
@given(schema_and_instance())
def test_subset_schema_is_valid_and_accepts_the_instance(pair: tuple[dict[str, Any], Any]) -> None:
    schema, instance = pair
    check = to_api_subset(schema)
    jsonschema.Draft202012Validator.check_schema(check.schema)
    assert check.schema["additionalProperties"] is False
    if _constraint_free(schema):
        jsonschema.validate(instance, check.schema, cls=jsonschema.Draft202012Validator)
    for _, node in _objects_in(check.schema):
        assert node["additionalProperties"] is False


def _objects_in(node: Any, path: str = "#") -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if node.get("type") == "object":
            out.append((path, node))
        for k, v in node.items():
            if k not in ("enum", "const", "default"):
                out += _objects_in(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _objects_in(v, f"{path}/{i}")
    return out


@_PROFILE
@given(schema_and_instance(), _CONSTRAINTS)
def test_constraints_move_to_descriptions_but_stay_enforced(
    pair: tuple[dict[str, Any], Any], constraints: dict[str, Any]
) -> None:
    schema, _ = pair
    schema = {**schema, "properties": {**schema["properties"], "c": {"type": "integer", **constraints}}}
    spec = sb.compile(schema)
    sent = spec.api_subset.schema["properties"]["c"]
    for key, value in constraints.items():
        assert key not in sent
        assert f'"{key}": {value}' in sent["description"]
    assert spec.schema["properties"]["c"] == {"type": "integer", **constraints}
    if "minimum" in constraints:
        result = spec.validate({"c": constraints["minimum"] - 1})
        assert not result.ok and "$.c" in {e.path for e in result.errors}
