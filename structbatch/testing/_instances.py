"""Valid values of a JSON Schema as hypothesis strategies: `instances` and `json_values`.

One walk over the compiled tool schema builds the strategy (see `instances` for why
hypothesis-jsonschema is used for constrained scalars only); every value is then checked by the
independent oracle (`valid`), so an approximation in the walk can only cost examples, never let an
invalid value through as a valid one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from .._jsonschema_walk import merge_all_of, resolve_pointer
from .._schema import Spec
from ._oracle import as_spec, valid

JSON = Any
INT64 = 2**63 - 1


def _integers(big: bool) -> st.SearchStrategy[int]:
    """Any integer with `big`, else 64-bit ones (real answers rarely hold more)."""
    return st.integers() if big else st.integers(-INT64 - 1, INT64)


def json_values(*, max_leaves: int = 6, big_integers: bool = False) -> st.SearchStrategy[JSON]:
    """Any JSON value (finite numbers; integers within 64 bits unless `big_integers`).

    Example: `json_values().example()` -> `{"k": [1, null, "x"]}`.
    """
    scalars = (
        st.none()
        | st.booleans()
        | _integers(big_integers)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text()
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
        max_leaves=max_leaves,
    )


#: numeric constraints: a number or integer with any of them is a constrained scalar (`_leaf`)
_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")


class _Gen:
    """Builds a strategy for a JSON Schema node; `$ref`s resolve inside the root only."""

    def __init__(
        self, root: Mapping[str, Any], *, max_depth: int, max_items: int, big_integers: bool
    ) -> None:
        self.root = dict(root)
        self.max_depth = max_depth
        self.max_items = max_items
        self.big_integers = big_integers

    def resolve(self, ref: str) -> Any:
        """The target of a local `$ref` (percent-encoded as compiled specs write them), or None
        (which generates nothing) when it points nowhere."""
        return resolve_pointer(self.root, ref)

    def recursive(self, node: Any) -> bool:
        """Does `node` (transitively) contain a `$ref`? (cheap check for the depth cut-off)"""
        return '"$ref"' in json.dumps(node, default=str)

    def of(self, node: Any, depth: int) -> st.SearchStrategy[JSON]:
        if node is True or node == {}:
            return json_values(max_leaves=3, big_integers=self.big_integers)
        if node is False or not isinstance(node, Mapping):
            return st.nothing()
        if "$ref" in node:
            target = self.resolve(node["$ref"])
            rest = {k: v for k, v in node.items() if k != "$ref"}
            merged = {**target, **rest} if rest and isinstance(target, Mapping) else target
            # depth counts objects only: a `$ref` cycle always passes through an object or a union
            return st.deferred(lambda: self.of(merged, depth))
        if "const" in node:
            return st.just(node["const"])
        if isinstance(node.get("enum"), list):
            return st.sampled_from(node["enum"]) if node["enum"] else st.nothing()
        if "allOf" in node:
            return self.all_of(node, depth)
        for key in ("anyOf", "oneOf"):
            branches = node.get(key)
            if isinstance(branches, list) and branches:
                if depth >= self.max_depth:
                    flat = [b for b in branches if not self.recursive(b)]
                    branches = flat or branches
                rest = {k: v for k, v in node.items() if k not in ("anyOf", "oneOf", "description", "title")}
                return st.one_of(*(self.of({**rest, **b} if rest else b, depth) for b in branches))
        kind = node.get("type")
        if isinstance(kind, list):
            return st.one_of(*(self.of({**node, "type": k}, depth) for k in kind)) if kind else st.nothing()
        if kind is None:
            if "properties" in node or "required" in node:
                kind = "object"
            elif "items" in node or "prefixItems" in node:
                kind = "array"
            else:
                return json_values(max_leaves=3, big_integers=self.big_integers)
        maker = {
            "object": self.object,
            "array": self.array,
            "string": self.string,
            "integer": self.integer,
            "number": self.number,
        }.get(kind)
        if maker is not None:
            return maker(node, depth)
        if kind == "boolean":
            return st.booleans()
        if kind == "null":
            return st.none()
        return st.nothing()

    def all_of(self, node: Mapping[str, Any], depth: int) -> st.SearchStrategy[JSON]:
        return self.of(merge_all_of(node, self.resolve), depth)

    def object(self, node: Mapping[str, Any], depth: int) -> st.SearchStrategy[JSON]:
        props: Mapping[str, Any] = node.get("properties") or {}
        required = [k for k in dict.fromkeys(node.get("required") or [])]
        extra = node.get("additionalProperties", True)
        req = {
            k: self.of(props.get(k, extra if isinstance(extra, Mapping) else True), depth + 1)
            for k in required
        }
        optional: dict[str, st.SearchStrategy[JSON]] = {}
        if depth < self.max_depth:
            optional = {k: self.of(v, depth + 1) for k, v in props.items() if k not in req}
        base = st.fixed_dictionaries(req, optional=optional)
        if extra is False or "patternProperties" in node or depth >= self.max_depth:
            return base
        extra_schema = extra if isinstance(extra, Mapping) else True
        names = st.text(min_size=1, max_size=8).filter(lambda k: k not in props)
        extras = st.dictionaries(names, self.of(extra_schema, depth + 1), max_size=2)
        return st.tuples(base, extras).map(lambda pair: {**pair[1], **pair[0]})

    def array(self, node: Mapping[str, Any], depth: int) -> st.SearchStrategy[JSON]:
        prefix = node.get("prefixItems") or []
        items = node.get("items", True)
        low = int(node.get("minItems", 0))
        high = node.get("maxItems")
        cap = low if depth >= self.max_depth else max(low, self.max_items)
        high = cap if high is None else min(int(high), max(cap, low))
        head = st.tuples(*(self.of(p, depth) for p in prefix)).map(list)
        if items is False:
            return head if low <= len(prefix) else st.nothing()
        rest_low = max(0, low - len(prefix))
        rest_high = max(rest_low, high - len(prefix))
        unique = bool(node.get("uniqueItems"))
        tail = st.lists(
            self.of(items, depth),
            min_size=rest_low,
            max_size=rest_high,
            unique_by=(lambda v: json.dumps(v, sort_keys=True)) if unique else None,
        )
        return st.tuples(head, tail).map(lambda pair: pair[0] + pair[1])

    def string(self, node: Mapping[str, Any], depth: int) -> st.SearchStrategy[JSON]:
        if any(k in node for k in ("format", "pattern", "minLength", "maxLength")):
            return _leaf(node)
        return st.text(max_size=20)

    def integer(self, node: Mapping[str, Any], depth: int) -> st.SearchStrategy[JSON]:
        if any(k in node for k in _BOUNDS):
            return _leaf(node).filter(lambda v: isinstance(v, int) and not isinstance(v, bool))
        return _integers(self.big_integers)

    def number(self, node: Mapping[str, Any], depth: int) -> st.SearchStrategy[JSON]:
        if any(k in node for k in _BOUNDS):
            return _leaf(node)
        return st.floats(allow_nan=False, allow_infinity=False) | _integers(self.big_integers)


#: what a constrained scalar's strategy is built from (`_leaf`)
_LEAF_KEYS = ("type", "format", "pattern", "minLength", "maxLength", *_BOUNDS)
_LEAVES: dict[str, st.SearchStrategy[JSON]] = {}


def _leaf(node: Mapping[str, Any]) -> st.SearchStrategy[JSON]:
    """A constrained scalar through `hypothesis_jsonschema.from_schema` (formats, patterns, bounds)."""
    small = {k: node[k] for k in _LEAF_KEYS if k in node}
    key = json.dumps(small, sort_keys=True)
    strategy = _LEAVES.get(key)
    if strategy is None:
        from hypothesis_jsonschema import from_schema

        strategy = from_schema(small)
        _LEAVES[key] = strategy
    return strategy


def _tool_inputs(
    spec: Spec[Any], *, max_depth: int, max_items: int, big_integers: bool
) -> st.SearchStrategy[JSON]:
    gen = _Gen(spec.schema, max_depth=max_depth, max_items=max_items, big_integers=big_integers)
    return gen.of(spec.schema, 0).filter(lambda v: valid(spec, v)[0])


def instances(
    spec_or_model: Any,
    *,
    json: bool = False,
    max_depth: int = 3,
    max_items: int = 4,
    big_integers: bool = False,
) -> st.SearchStrategy[Any]:
    """Valid values of a spec: model instances for a Pydantic spec, JSON values for a JSON Schema spec.

    With `json=True` the strategy gives the tool input instead (the JSON object the model sends;
    for a wrapped spec such as `compile(list[Item], wrap="items")` that is `{"items": [...]}`).

    Example::

        @given(instances(Recipe))
        def test_roundtrip(recipe):
            assert Recipe.model_validate_json(recipe.model_dump_json()) == recipe

    How values are made: one walk over the compiled `spec.schema` (objects, required and optional
    properties, `additionalProperties`, arrays with `prefixItems`/`minItems`/`maxItems`/`uniqueItems`,
    `enum`/`const`, `anyOf`/`oneOf`/`allOf`, type lists, local `$ref`s), with constrained scalars
    (`format`, `pattern`, lengths, bounds, `multipleOf`) delegated to `hypothesis_jsonschema.from_schema`,
    and every value checked by an oracle independent of the parser (`valid`). Where
    hypothesis-jsonschema does not do the job, and why it is not used for the whole schema:

    - objects: `from_schema` fails on every object schema with the installed hypothesis
      (`AttributeError: 'many' object has no attribute 'more'`: it uses a private hypothesis API
      that changed);
    - recursion (`$ref` cycles, i.e. recursive Pydantic models): `from_schema` refuses recursive
      references; here depth is bounded by `max_depth` (optional properties dropped, empty arrays,
      non-recursive union branches taken);
    - formats: `from_schema` knows the standard formats; Pydantic validates a few differently
      (e.g. `date-time` offsets), so such values are filtered out by the oracle, never sent;
    - Pydantic models: pydantic v2 registers no hypothesis strategies, and `st.builds`/`st.from_type`
      ignore field constraints (`Field(ge=...)`, `StringConstraints`) and aliases, so models go
      through their JSON Schema like any other spec;
    - integers stay within 64 bits unless `big_integers=True` (real answers rarely exceed them).
    """
    spec = as_spec(spec_or_model)
    inputs = _tool_inputs(spec, max_depth=max_depth, max_items=max_items, big_integers=big_integers)
    if json:
        return inputs
    return inputs.map(lambda v: valid(spec, v)[1])
