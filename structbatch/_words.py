"""Bare enum words: the strings a text wrote without quotes (`"size": medium`), and where they
may stand.

`enum_words` lists every enum (or const) string member of a schema: the words the tolerant parser
(`_lenient`) may read unquoted. `settle_words` then checks each word read against the schema at
its position: only a member of an enum that applies there stands for that string.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._coerce import enum_members
from ._jsonschema_walk import resolve_pointer

JSONSchema = dict[str, Any]


def enum_words(schema: Any) -> frozenset[str]:
    """Every string enum (or const) member anywhere in `schema`: the words a text may leave
    unquoted (`"size": medium`). A superset; `settle_words` checks each word's position."""
    found: set[str] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            members = node.get("enum")
            if isinstance(members, list):
                found.update(m for m in members if isinstance(m, str))
            if isinstance(node.get("const"), str):
                found.add(node["const"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return frozenset(found)


class _Stray(Exception):
    """A bare word where no enum of the schema applies (internal to `settle_words`)."""


def settle_words(obj: Any, schema: JSONSchema, word: type[str]) -> tuple[bool, Any]:
    """Check the bare words (instances of `word`) in `obj` against the enums at their positions.

    `(True, value)` with each bare word made a plain string when every one is a member of an
    enum or const that applies where it stands (through refs, `allOf`, any branch of a union);
    `(False, None)` when one stands anywhere else (`"name": medium` is not the string "medium").
    """
    try:
        return True, _settle(obj, [schema], schema, word)
    except (_Stray, RecursionError):
        return False, None


def _positions(root: JSONSchema, schemas: Iterable[Any], hops: int = 0) -> list[JSONSchema]:
    """The schemas that apply at one position: `schemas` and their refs, allOf parts and union
    branches, flattened."""
    out: list[JSONSchema] = []
    for schema in schemas:
        if not isinstance(schema, dict) or hops > 32:
            continue
        out.append(schema)
        more: list[Any] = []
        ref = schema.get("$ref")
        if isinstance(ref, str):
            more.append(resolve_pointer(root, ref))
        for key in ("allOf", "anyOf", "oneOf"):
            more.extend(schema.get(key) or ())
        out.extend(_positions(root, more, hops + 1))
    return out


def _settle(obj: Any, schemas: list[Any], root: JSONSchema, word: type[str]) -> Any:
    if isinstance(obj, word):
        at = _positions(root, schemas)
        if any(obj in (enum_members(s) or ()) for s in at):
            return str(obj)
        raise _Stray
    if isinstance(obj, dict):
        at = _positions(root, schemas)
        out: dict[str, Any] = {}
        for key, value in obj.items():
            subs: list[Any] = []
            for s in at:
                props = s.get("properties")
                if isinstance(props, dict) and key in props:
                    subs.append(props[key])
                elif isinstance(s.get("additionalProperties"), dict):
                    subs.append(s["additionalProperties"])
            out[key] = _settle(value, subs, root, word)
        return out
    if isinstance(obj, list):
        at = _positions(root, schemas)
        items: list[Any] = []
        for i, value in enumerate(obj):
            subs = []
            for s in at:
                prefix = s.get("prefixItems")
                if isinstance(prefix, list) and i < len(prefix):
                    subs.append(prefix[i])
                elif isinstance(s.get("items"), dict):
                    subs.append(s["items"])
            items.append(_settle(value, subs, root, word))
        return items
    return obj
