"""Random JSON Schemas (`object_schemas`) for testing that a pipeline holds for any schema.

They stay inside what `structbatch.compile` accepts and every mode can send (an object root;
objects, arrays, nullable unions, enums, a format, bounds), so a failing example points at the
code under test, not at a schema no one could use.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

_NAMES = st.sampled_from(["a", "b", "name", "title", "items", "type", "x_1", "quantity", "ünï", "with space"])
_SCALAR_SCHEMAS = st.one_of(
    st.just({"type": "string"}),
    st.just({"type": "integer"}),
    st.just({"type": "number"}),
    st.just({"type": "boolean"}),
    st.just({"type": "null"}),
    st.just({"type": "string", "format": "date"}),
    st.just({"type": "integer", "minimum": 0, "maximum": 100}),
    st.lists(
        st.sampled_from(["red", "green", "blue", "Red", "dark-blue"]), min_size=1, max_size=3, unique=True
    ).map(lambda xs: {"type": "string", "enum": xs}),
)


def _object_of(
    children: st.SearchStrategy[dict[str, Any]], closed: bool | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        props = draw(st.dictionaries(_NAMES, children, max_size=4))
        required = [k for k in props if draw(st.booleans())]
        schema: dict[str, Any] = {"type": "object", "properties": props, "required": required}
        if closed if closed is not None else draw(st.booleans()):
            schema["additionalProperties"] = False
        return schema

    return build()


def object_schemas(*, max_leaves: int = 8) -> st.SearchStrategy[dict[str, Any]]:
    """Random JSON Schemas with an object root that `structbatch.compile` accepts and every mode can send.

    Nested objects, arrays, nullable unions (`anyOf` with null), enums, a date format, bounds.

    Example: `object_schemas().example()` ->
    `{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}`.
    """
    tree = st.recursive(
        _SCALAR_SCHEMAS,
        lambda inner: st.one_of(
            _object_of(inner),
            inner.map(lambda s: {"type": "array", "items": s, "maxItems": 4}),
            inner.map(lambda s: {"anyOf": [s, {"type": "null"}]}),
        ),
        max_leaves=max_leaves,
    )
    return _object_of(tree, closed=None)
