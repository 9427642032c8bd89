"""Schema shaping at compile time: object roots, wrapping, `$defs`, docstrings, titles.

Pure transforms of JSON Schema documents (each returns a new document) used by `_schema` for
both Pydantic and JSON Schema sources. Refs are plain local pointers here (`_refs` rewrote
them), so moving a part of a document means rebasing the refs into it, as `wrap_schema` does.
"""

from __future__ import annotations

import copy
from typing import Any

from . import _jsonschema_walk as jsw
from ._docstrings import split_docstring
from ._errors import SchemaError
from ._types import JSONSchema

#: the key a non-object root is wrapped under in the tool input: arrays ...
WRAP_ARRAY = "items"
#: ... and every other value (scalars, unions, schemas that accept anything)
WRAP_VALUE = "value"


#: keywords that only constrain objects, and keywords that only constrain other types
_OBJECT_KEYWORDS = frozenset(
    {
        "properties",
        "required",
        "additionalProperties",
        "patternProperties",
        "minProperties",
        "maxProperties",
        "propertyNames",
        "dependentRequired",
        "dependentSchemas",
        "dependencies",
        "unevaluatedProperties",
    }
)
_OTHER_KEYWORDS = frozenset(
    {
        "items",
        "prefixItems",
        "contains",
        "minItems",
        "maxItems",
        "uniqueItems",
        "unevaluatedItems",
        "minLength",
        "maxLength",
        "pattern",
        "format",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "enum",
        "const",
    }
)


def default_wrap(schema: JSONSchema) -> str | None:
    """None for an object root (the value is the tool input), else the key to wrap it under."""
    if is_object(schema, schema, 0):
        return None
    return WRAP_ARRAY if _typed(schema, schema, "array", 0) else WRAP_VALUE


def is_object(root: JSONSchema, node: Any, depth: int) -> bool:
    """Whether `node` describes objects only: typed `object` (itself, through its `$ref` or an
    `allOf` member), or untyped with object keywords and none of another type's."""
    if _typed(root, node, "object", depth):
        return True
    if not isinstance(node, dict) or "type" in node:
        return False
    return bool(_OBJECT_KEYWORDS & node.keys()) and not (_OTHER_KEYWORDS & node.keys())


def _typed(root: JSONSchema, node: Any, name: str, depth: int) -> bool:
    """Whether `node` is typed `name` alone, itself or through its `$ref` or an `allOf` member."""
    if not isinstance(node, dict) or depth > 16:
        return False
    types = node.get("type")
    if types is not None:
        return bool(types == name or types == [name])
    ref = node.get("$ref")
    if isinstance(ref, str) and _typed(root, jsw.resolve_pointer(root, ref), name, depth + 1):
        return True
    return any(_typed(root, part, name, depth + 1) for part in node.get("allOf") or ())


def defs_from_definitions(schema: JSONSchema, origin: str) -> JSONSchema:
    """Move a root `definitions` (drafts 4-7) to `$defs`, the only spelling the API's subset has.

    Refs are plain JSON pointers in every draft, so validation is unchanged by the move.
    """
    old = schema.get("definitions")
    if not isinstance(old, dict):
        return schema
    defs = schema.get("$defs") or {}
    clash = sorted(set(old) & set(defs))
    if clash:
        raise SchemaError(f"{origin}: {clash[0]!r} is defined in both definitions and $defs")
    out = {k: v for k, v in schema.items() if k != "definitions"}
    out["$defs"] = {**defs, **old}

    def rebase(node: JSONSchema) -> JSONSchema:
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            node["$ref"] = "#/$defs/" + ref.removeprefix("#/definitions/")
        return node

    return jsw.map_schema(out, rebase)


def wrap_schema(schema: JSONSchema, wrap: str) -> JSONSchema:
    """`{"type": "object", "properties": {wrap: schema}, ...}` with the root `$defs` kept at the
    root and every other local ref moved with the part it points into (`#/prefixItems/0` ->
    `#/properties/items/prefixItems/0`, `#` -> `#/properties/items`)."""
    inner = {k: v for k, v in schema.items() if k != "$defs"}
    at = jsw.fragment(["properties", wrap])

    def rebase(node: JSONSchema) -> JSONSchema:
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#") and not _in_root_defs(ref):
            node["$ref"] = at + ref[1:]
        return node

    wrapper: JSONSchema = {
        "type": "object",
        "properties": {wrap: jsw.map_schema(inner, rebase)},
        "required": [wrap],
        "additionalProperties": False,
    }
    if isinstance(schema.get("$defs"), dict):
        wrapper["$defs"] = {
            k: jsw.map_schema(v, rebase) if isinstance(v, dict) else v for k, v in schema["$defs"].items()
        }
    for key in ("title", "description"):
        if key in schema:
            wrapper[key] = schema[key]
    return wrapper


def _in_root_defs(ref: str) -> bool:
    tokens = jsw.pointer_tokens(ref)
    return bool(tokens) and tokens is not None and tokens[0] == "$defs"


def inline_root_ref(schema: JSONSchema) -> JSONSchema:
    """Pydantic emits `{"$ref": "#/$defs/Node", "$defs": ...}` for recursive roots: inline it.

    A root `title`/`description` next to the `$ref` is kept (it describes the same value).
    """
    ref = schema.get("$ref")
    if not isinstance(ref, str) or set(schema) - {"$ref", "$defs", "title", "description"}:
        return schema
    target = jsw.resolve_pointer(schema, ref)
    if not isinstance(target, dict) or target is schema:
        return schema
    notes: dict[str, Any] = {k: schema[k] for k in ("title", "description") if k in schema}
    return {**copy.deepcopy(target), **notes, "$defs": schema.get("$defs", {})}


def strip_titles(schema: JSONSchema) -> JSONSchema:
    """Drop Pydantic's generated `title` keywords: noise the API bills in every request."""

    def drop(node: JSONSchema) -> JSONSchema:
        node.pop("title", None)
        return node

    return jsw.map_schema(schema, drop)


def apply_docstring_fields(schema: JSONSchema) -> JSONSchema:
    """Move `Args:`/`Attributes:` entries of object descriptions onto their properties."""

    def apply(node: JSONSchema) -> JSONSchema:
        desc = node.get("description")
        props = node.get("properties")
        if not isinstance(desc, str) or not isinstance(props, dict):
            return node
        prose, fields = split_docstring(desc)
        if not fields:
            return node
        if prose:
            node["description"] = prose
        else:
            node.pop("description", None)
        new_props = {}
        for key, sub in props.items():
            if key in fields and isinstance(sub, dict) and not sub.get("description"):
                sub = {**sub, "description": fields[key]}
            new_props[key] = sub
        node["properties"] = new_props
        return node

    return jsw.map_schema(schema, apply)
