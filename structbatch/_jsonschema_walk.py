"""Schema-aware traversal of JSON Schema documents.

A JSON Schema mixes keywords with user data (`"properties": {"title": ...}` names a *property*
called "title", not the keyword). Every transform in structbatch walks schemas through the one
function here, so each knows which positions hold subschemas.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, unquote

JSONSchema = dict[str, Any]

#: keywords whose value is a single subschema
#: The value constraints of JSON Schema (bounds, lengths, counts, pattern): what a transform to
#: the API's subset moves into descriptions, and what every validator here must still enforce.
CONSTRAINT_KEYWORDS = frozenset(
    {
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
    }
)

_SINGLE = (
    "items",
    "not",
    "additionalProperties",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "unevaluatedItems",
    "unevaluatedProperties",
    "additionalItems",
)
#: keywords whose value is a list of subschemas
_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
#: keywords whose value maps names to subschemas
_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies")


def subschemas(node: JSONSchema) -> Iterator[tuple[str, JSONSchema]]:
    """Yield `(path_suffix, subschema)` for every direct subschema of `node`."""
    for key in _SINGLE:
        sub = node.get(key)
        if isinstance(sub, dict):
            yield f"/{key}", sub
        elif key == "items" and isinstance(sub, list):  # draft-04..2019 tuple form
            for i, s in enumerate(sub):
                if isinstance(s, dict):
                    yield f"/items/{i}", s
    for key in _LISTS:
        subs = node.get(key)
        if isinstance(subs, list):
            for i, s in enumerate(subs):
                if isinstance(s, dict):
                    yield f"/{key}/{i}", s
    for key in _MAPS:
        subs = node.get(key)
        if isinstance(subs, dict):
            for name, s in subs.items():
                if isinstance(s, dict):
                    yield f"/{key}/{name}", s


def map_schema(node: JSONSchema, fn: Callable[[JSONSchema], JSONSchema]) -> JSONSchema:
    """Rebuild `node` bottom-up: children first, then `fn` on the node with its new children.

    `fn` receives a fresh dict it may mutate and return; the input is never modified.
    """
    out: JSONSchema = dict(node)
    for key in _SINGLE:
        sub = node.get(key)
        if isinstance(sub, dict):
            out[key] = map_schema(sub, fn)
        elif key == "items" and isinstance(sub, list):
            out[key] = [map_schema(s, fn) if isinstance(s, dict) else s for s in sub]
    for key in _LISTS:
        subs = node.get(key)
        if isinstance(subs, list):
            out[key] = [map_schema(s, fn) if isinstance(s, dict) else s for s in subs]
    for key in _MAPS:
        subs = node.get(key)
        if isinstance(subs, dict):
            out[key] = {k: map_schema(s, fn) if isinstance(s, dict) else s for k, s in subs.items()}
    return fn(out)


def walk(node: JSONSchema, path: str = "#") -> Iterator[tuple[str, JSONSchema]]:
    """Yield `(json_pointer, node)` for `node` and every subschema below it, depth first."""
    yield path, node
    for suffix, sub in subschemas(node):
        yield from walk(sub, path + suffix)


def local_refs(node: JSONSchema) -> Iterator[tuple[str, str]]:
    """Yield `(json_pointer_of_node, ref)` for every `$ref` in the document."""
    for path, sub in walk(node):
        ref = sub.get("$ref")
        if isinstance(ref, str):
            yield path, ref


def escape_token(token: str) -> str:
    """One JSON pointer token, escaped (`~` and `/`)."""
    return token.replace("~", "~0").replace("/", "~1")


def fragment(tokens: list[str]) -> str:
    """A `$ref` for a JSON pointer: `#` + escaped tokens, percent-encoded as a URI fragment."""
    pointer = "".join("/" + escape_token(t) for t in tokens)
    return "#" + quote(pointer, safe="/!$&'()*+,;=:@")


def pointer_tokens(ref: str) -> list[str] | None:
    """The unescaped tokens of a local pointer ref (`#/$defs/a%25b` -> `["$defs", "a%b"]`)."""
    if not ref.startswith("#"):
        return None
    pointer = unquote(ref[1:])
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        return None
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def resolve_pointer(root: JSONSchema, ref: str) -> Any:
    """Resolve a local pointer ref (`#/$defs/a%25b`) inside `root`: the target schema (a dict or
    a boolean), or None when it points nowhere."""
    tokens = pointer_tokens(ref)
    if tokens is None:
        return None
    cur: Any = root
    for part in tokens:
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return None
    return cur if isinstance(cur, (dict, bool)) else None


def recursive_refs(root: JSONSchema) -> list[str]:
    """The definitions (`#/$defs/X`, or `#` for the root) that take part in a `$ref` cycle.

    Graph nodes are the root and each definition; a `$ref` inside a node is an edge to the
    definition it points into. A schema is recursive exactly when this graph has a cycle.
    """
    nodes: dict[str, JSONSchema] = {"#": root}
    for key in ("$defs", "definitions"):
        defs = root.get(key)
        if isinstance(defs, dict):
            for name, sub in defs.items():
                if isinstance(sub, dict):
                    nodes[fragment([key, name])] = sub
    edges: dict[str, set[str]] = {}
    for name, node in nodes.items():
        for _, inner in walk_no_defs(node):
            ref = inner.get("$ref")
            if isinstance(ref, str) and ref.startswith("#"):
                edges.setdefault(name, set()).add(_owning_node(ref, nodes))
    cyclic: list[str] = []
    for start in nodes:
        seen: set[str] = set()
        stack = list(edges.get(start, ()))
        while stack:
            target = stack.pop()
            if target == start:
                cyclic.append(start)
                break
            if target not in seen:
                seen.add(target)
                stack.extend(edges.get(target, ()))
    return sorted(cyclic)


def _owning_node(ref: str, nodes: dict[str, JSONSchema]) -> str:
    """The graph node (root or a definition) that a local ref points into."""
    best = "#"
    for name in nodes:
        if name != "#" and (ref == name or ref.startswith(name + "/")) and len(name) > len(best):
            best = name
    return best


def walk_no_defs(node: JSONSchema) -> Iterator[tuple[str, JSONSchema]]:
    """Like `walk`, but does not descend into `$defs`/`definitions` (each is its own graph node)."""
    yield "", node
    for suffix, sub in subschemas(node):
        if suffix.startswith("/$defs/") or suffix.startswith("/definitions/"):
            continue
        yield from walk_no_defs(sub)


def merge_all_of(node: Mapping[str, Any], resolve: Callable[[str], Any]) -> JSONSchema:
    """Fold `allOf` parts into one schema: properties and `required` are unioned, other keywords
    keep the first value seen. `resolve` follows a part's `$ref`. Used to build example values,
    where an approximation that is then checked against the real schema is enough."""
    merged: JSONSchema = {k: v for k, v in node.items() if k != "allOf"}
    for part in node.get("allOf") or ():
        while isinstance(part, Mapping) and "$ref" in part:
            part = resolve(part["$ref"])
        if not isinstance(part, Mapping):
            continue
        for key, value in part.items():
            if key == "properties":
                merged["properties"] = {**merged.get("properties", {}), **value}
            elif key == "required":
                merged["required"] = [*merged.get("required", []), *value]
            else:
                merged.setdefault(key, value)
    return merged
