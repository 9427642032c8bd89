"""A schema transformed to the subset the API's structured outputs accept (`Mode.JSON_SCHEMA`).

The transform never loses a constraint silently: what the subset cannot express is moved into
the description (the model still reads it) and the full schema is enforced when parsing; what
would change the meaning (recursion, free-form objects, complex enums) is reported as a problem,
so `AUTO` does not choose the mode and an explicit `Mode.JSON_SCHEMA` is refused up front.
"""

from __future__ import annotations

import json
from typing import Any

from . import _jsonschema_walk as jsw
from ._types import JSONSchema, SubsetCheck

# The structured-output subset (reference/anthropic-api.md section 2, [SO] 2026-09-26): these
# keywords are accepted; any other is moved into the description so the model still sees it, and
# the full original schema is enforced when parsing.
_SUBSET_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "const",
        "anyOf",
        "allOf",
        "$ref",
        "$defs",
        "description",
        "title",
        "default",
        "format",
        "minItems",
        "pattern",
    }
)
_SUBSET_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "uri", "ipv4", "ipv6", "uuid"}
)
MAX_OPTIONAL_PARAMS = 24  # [SO] complexity caps per request
MAX_UNION_PARAMS = 16


def to_api_subset(schema: JSONSchema) -> SubsetCheck:
    """Transform a schema to the API's structured-output subset and list what cannot be expressed.

    Every object gets `additionalProperties: false`; `oneOf` becomes `anyOf`; unsupported keywords
    are folded into `description` as `{keyword: value}`. Problems (recursion, free-form dicts,
    complex enums, too many optional or union-typed properties) make the schema unusable there.
    """
    problems: list[str] = []
    cyclic = jsw.recursive_refs(schema)
    if cyclic:
        where = ", ".join(cyclic)
        problems.append(f"recursive schema ({where}); the API's structured outputs reject recursion")

    def transform(node: JSONSchema) -> JSONSchema:
        if "oneOf" in node:
            node["anyOf"] = node.pop("oneOf")
        if "allOf" in node and any("$ref" in s for s in node["allOf"] if isinstance(s, dict)):
            problems.append("allOf combined with $ref is not supported by structured outputs")
        enum = node.get("enum")
        if isinstance(enum, list) and any(isinstance(v, (dict, list)) for v in enum):
            problems.append(f"complex enum {enum!r}: only primitive enum values are supported")
        if isinstance(node.get("const"), (dict, list)):
            problems.append(f"complex const {node['const']!r}: only primitive values are supported")
        types = node.get("type")
        is_object = types == "object" or (isinstance(types, list) and "object" in types)
        if is_object or "properties" in node:
            extra = node.get("additionalProperties")
            # Forcing additionalProperties false on an object that allows other keys (a dict
            # field, `{"type": "object"}`, patternProperties) would make the model emit `{}`.
            free = extra is not None or "properties" not in node or "patternProperties" in node
            if extra is not False and not node.get("properties") and free:
                problems.append(
                    "a free-form object (dict field) cannot be expressed: structured "
                    "outputs require additionalProperties: false"
                )
            node["additionalProperties"] = False
        moved: dict[str, Any] = {}
        for key in list(node):
            if key in _SUBSET_KEYWORDS or key.startswith("x-"):
                continue
            moved[key] = node.pop(key)
        if node.get("format") not in (None, *_SUBSET_FORMATS):
            moved["format"] = node.pop("format")
        if isinstance(node.get("items"), list):  # drafts 4-7 tuple form: not in the subset
            moved["items"] = node.pop("items")
        min_items = node.get("minItems")
        if isinstance(min_items, int) and min_items > 1:
            moved["minItems"] = node.pop("minItems")
        if moved:
            note = json.dumps(moved, ensure_ascii=False)
            node["description"] = f"{node['description']}\n{note}" if node.get("description") else note
        return node

    out = jsw.map_schema(schema, transform)
    optional = unions = 0
    for _, node in jsw.walk(out):
        props = node.get("properties")
        if not isinstance(props, dict):
            continue
        required = set(node.get("required") or ())
        optional += sum(1 for k in props if k not in required)
        unions += sum(
            1
            for p in props.values()
            if isinstance(p, dict) and ("anyOf" in p or isinstance(p.get("type"), list))
        )
    if optional > MAX_OPTIONAL_PARAMS:
        problems.append(f"{optional} optional properties (the API allows {MAX_OPTIONAL_PARAMS} per request)")
    if unions > MAX_UNION_PARAMS:
        problems.append(f"{unions} union-typed properties (the API allows {MAX_UNION_PARAMS} per request)")
    return SubsetCheck(out, tuple(dict.fromkeys(problems)))
