"""Schema-guided, lossless coercions: the few ways a model's value can be wrong yet unambiguous.

`Spec.validate` calls `coerce` only after strict validation failed. Every rule here must map a
value to the one value the model evidently meant, with nothing invented and nothing lost:

- a numeric string where the schema wants a number and no string is allowed: `"5"` -> `5`,
  `"2.5"` -> `2.5` for a number; never `"5.5"` -> `5` for an integer, never `"five"`, never
  `" 5"` or `"5kg"`, never `"1e999"` (not finite);
- an integral float for an integer-only field: `5.0` -> `5` (never `5.5`);
- `"true"`/`"false"` (or Python's `"True"`/`"False"`) -> bool where the schema wants a boolean
  and no string is allowed; never `"yes"`, `1` or `"1"`;
- an enum (or const) string in the wrong case, when exactly one member matches case-insensitively
  (the API documents that enum capitalization is not guaranteed).

Local `$ref`s are followed; `allOf` branches all apply; for `anyOf`/`oneOf` a value is coerced
only when it fits no branch as it is and fits exactly one branch after coercion. Each applied
coercion is named, e.g. `"coerce:$.qty:str->int"` or `"enum_case:$.status"`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import jsonschema

from ._jsonschema_walk import resolve_pointer

JSONSchema = dict[str, Any]

_INT_RE = re.compile(r"-?(?:0|[1-9][0-9]*)")
_NUMBER_RE = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_BOOL_WORDS = {"true": True, "false": False, "True": True, "False": False}
_MAX_DEPTH = 200

#: validators per root schema, keyed by id; the schema is kept alive alongside its validator.
_VALIDATORS: dict[int, tuple[JSONSchema, Any]] = {}


def coerce(obj: Any, schema: JSONSchema) -> tuple[Any, list[str]]:
    """Return `obj` with every lossless coercion `schema` calls for, and the coercions applied.

    Never raises and never mutates `obj`: on any internal problem the value comes back unchanged
    with no coercions, so validation reports the original errors.
    """
    try:
        applied: list[str] = []
        out = _Coercer(schema, applied).node(obj, schema, "$", 0)
        return out, applied
    except Exception:
        return obj, []


class _Coercer:
    """One pass over a value, guided by the schema, collecting the coercions it applies."""

    def __init__(self, root: JSONSchema, applied: list[str]) -> None:
        self.root = root
        self.applied = applied

    def node(self, obj: Any, schema: Any, path: str, depth: int) -> Any:
        if not isinstance(schema, dict) or depth > _MAX_DEPTH:
            return obj
        ref = schema.get("$ref")
        if isinstance(ref, str):
            target = resolve_pointer(self.root, ref)
            if target is not None:
                obj = self.node(obj, target, path, depth + 1)
        for sub in schema.get("allOf") or ():
            obj = self.node(obj, sub, path, depth + 1)
        for key in ("anyOf", "oneOf"):
            branches = schema.get(key)
            if isinstance(branches, list) and branches:
                obj = self.union(obj, branches, path, depth)
        return self.typed(obj, schema, path, depth)

    def union(self, obj: Any, branches: list[Any], path: str, depth: int) -> Any:
        """Coerce into a union only when the value fits no branch now and exactly one after."""
        fits = _fit_checker(self.root)
        results: list[tuple[Any, list[str]]] = []
        for branch in branches:
            trial: list[str] = []
            value = _Coercer(self.root, trial).node(obj, branch, path, depth + 1)
            if fits(value, branch):
                if not trial:
                    return obj
                results.append((value, trial))
        distinct: list[tuple[Any, list[str]]] = []
        for value, trial in results:
            if not any(_same(value, seen) for seen, _ in distinct):
                distinct.append((value, trial))
        if len(distinct) != 1:
            return obj
        value, trial = distinct[0]
        self.applied.extend(trial)
        return value

    def typed(self, obj: Any, schema: JSONSchema, path: str, depth: int) -> Any:
        types = _types(schema)
        if isinstance(obj, dict):
            return self.object(obj, schema, path, depth)
        if isinstance(obj, list):
            return self.array(obj, schema, path, depth)
        if isinstance(obj, str):
            return self.string(obj, schema, types, path)
        integer_only = "integer" in types and "number" not in types
        if isinstance(obj, float) and integer_only and math.isfinite(obj) and obj.is_integer():
            self.applied.append(f"coerce:{path}:float->int")
            return int(obj)
        return obj

    def object(self, obj: dict[str, Any], schema: JSONSchema, path: str, depth: int) -> Any:
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        if not isinstance(props, dict) and not isinstance(extra, dict):
            return obj
        out: dict[str, Any] = {}
        for key, value in obj.items():
            sub = props.get(key) if isinstance(props, dict) and key in props else extra
            out[key] = self.node(value, sub, _child(path, key), depth + 1) if isinstance(sub, dict) else value
        return out

    def array(self, obj: list[Any], schema: JSONSchema, path: str, depth: int) -> Any:
        prefix = schema.get("prefixItems")
        items = schema.get("items")
        out: list[Any] = []
        for i, value in enumerate(obj):
            sub: Any = None
            if isinstance(prefix, list) and i < len(prefix):
                sub = prefix[i]
            elif isinstance(items, dict):
                sub = items
            out.append(self.node(value, sub, f"{path}[{i}]", depth + 1) if isinstance(sub, dict) else value)
        return out

    def string(self, obj: str, schema: JSONSchema, types: set[str], path: str) -> Any:
        members = _enum_members(schema)
        if members is not None and obj not in members:
            fixed = [m for m in members if isinstance(m, str) and m.casefold() == obj.casefold()]
            if len(fixed) == 1:
                self.applied.append(f"enum_case:{path}")
                return fixed[0]
        if "string" in types or not types:
            return obj
        if "integer" in types and _INT_RE.fullmatch(obj):
            self.applied.append(f"coerce:{path}:str->int")
            return int(obj)
        if "number" in types and _NUMBER_RE.fullmatch(obj):
            number = _number(obj)
            if number is not None:
                self.applied.append(f"coerce:{path}:str->number")
                return number
        if "boolean" in types and obj in _BOOL_WORDS:
            self.applied.append(f"coerce:{path}:str->bool")
            return _BOOL_WORDS[obj]
        return obj


def _number(text: str) -> int | float | None:
    """A JSON-number string as the value a JSON parser would give (None when not finite)."""
    if _INT_RE.fullmatch(text):
        return int(text)
    value = float(text)
    return value if math.isfinite(value) else None


def _types(schema: JSONSchema) -> set[str]:
    raw = schema.get("type")
    if isinstance(raw, str):
        return {raw}
    if isinstance(raw, list):
        return {t for t in raw if isinstance(t, str)}
    return set()


def _enum_members(schema: JSONSchema) -> list[Any] | None:
    if isinstance(schema.get("enum"), list):
        return list(schema["enum"])
    if "const" in schema:
        return [schema["const"]]
    return None


def _child(path: str, key: str) -> str:
    """The JSON path of `key` under `path`, in the same style as validation errors."""
    return f"{path}.{key}"


def _same(a: Any, b: Any) -> bool:
    """Equality that tells `1`, `1.0` and `True` apart (they are different JSON values)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _fit_checker(root: JSONSchema) -> Callable[[Any, Any], bool]:
    """`fits(value, subschema)`: jsonschema validity of a value against a subschema of `root`.

    jsonschema counts `5.0` as an integer; callers coerce before they check, so this only ever
    sees integral floats that were already turned into ints.
    """
    entry = _VALIDATORS.get(id(root))
    if entry is None or entry[0] is not root:
        cls = jsonschema.validators.validator_for(root, default=jsonschema.Draft202012Validator)
        if len(_VALIDATORS) > 256:
            _VALIDATORS.clear()
        entry = (root, cls(root))
        _VALIDATORS[id(root)] = entry
    validator = entry[1]

    def fits(value: Any, sub: Any) -> bool:
        return isinstance(sub, dict) and bool(validator.evolve(schema=sub).is_valid(value))

    return fits
