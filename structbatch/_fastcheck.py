"""A fast yes/no validity check for JSON Schema specs, with `jsonschema` as the authority.

`jsonschema` takes ~0.5-1 ms to validate a typical extraction value (it interprets the schema on
every call); collecting 100,000 results would spend minutes there. `fastjsonschema` compiles the
schema to Python once and answers in tens of microseconds. It is used only where its answer
cannot be a false accept:

- only for schemas whose keywords it implements with the same meaning (a whitelist; anything
  else, e.g. `prefixItems` or `unevaluatedProperties`, keeps the `jsonschema` path);
- string formats are checked with the reference's own format functions (`_formats`), not its regexes;
- only its "valid" answers are trusted: on "invalid", `jsonschema` runs and gives the errors
  (and the final word, so a stricter fast check can never reject a valid value).
- keywords beside a `$ref` (2020-12 applies them, fastjsonschema ignores them) are compiled as
  `allOf: [{"$ref": ...}]` beside them, which means the same;
- a schema it cannot compile (a 32-deep nesting makes it generate Python with "too many
  statically nested blocks") or whose refs it may resolve differently (anything but a plain
  pointer) gets no fast check at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import fastjsonschema
import jsonschema

from . import _jsonschema_walk as jsw
from ._formats import format_checker

_SAME_MEANING = (
    frozenset(
        {
            "type",
            "properties",
            "required",
            "additionalProperties",
            "items",
            "enum",
            "const",
            "anyOf",
            "oneOf",
            "allOf",
            "not",
            "$ref",
            "$defs",
            "definitions",
            "format",
            "title",
            "description",
            "default",
            "examples",
            "$comment",
            "$schema",
            "$id",
            "deprecated",
            "readOnly",
            "writeOnly",
        }
    )
    | jsw.CONSTRAINT_KEYWORDS
)


def compile_fast_check(schema: dict[str, Any], dialect: type[Any]) -> Callable[[Any], bool] | None:
    """A `value -> bool` that is True only for values `jsonschema` also accepts; None if unsafe.

    `schema` must hold plain pointer refs only (see `_refs.normalize_refs`).
    """
    if dialect is not jsonschema.Draft202012Validator and dialect is not jsonschema.Draft7Validator:
        return None
    formats: set[str] = set()
    for _, node in jsw.walk(schema):
        for key in node:
            if key not in _SAME_MEANING and not key.startswith("x-"):
                return None
        if isinstance(node.get("format"), str):
            formats.add(node["format"])
        ref = node.get("$ref")
        if isinstance(ref, str) and not _PLAIN_POINTER.fullmatch(ref):
            return None
    checker = format_checker(dialect)
    custom = {name: _format_fn(checker, name) for name in formats}
    draft = (
        {"$schema": "https://json-schema.org/draft/2020-12/schema"}
        if dialect is jsonschema.Draft202012Validator
        else {"$schema": "http://json-schema.org/draft-07/schema#"}
    )
    source = jsw.map_schema(schema, _ref_beside) if dialect is jsonschema.Draft202012Validator else schema
    try:
        validate = fastjsonschema.compile({**source, **draft}, formats=custom, use_default=False)
    except (
        fastjsonschema.JsonSchemaDefinitionException,
        ValueError,
        TypeError,
        RecursionError,
        SyntaxError,  # also IndentationError: "too many statically nested blocks"
        MemoryError,
    ):
        return None

    def check(value: Any) -> bool:
        try:
            validate(value)
        except fastjsonschema.JsonSchemaValueException:
            return False
        except Exception:  # only a "valid" answer is trusted; jsonschema decides the rest
            return False
        return True

    return check


#: a ref fastjsonschema resolves exactly as jsonschema does: a pointer of plain names
_PLAIN_POINTER = re.compile(r"#(?:/[A-Za-z0-9_$.-]+)*")


def _ref_beside(node: dict[str, Any]) -> dict[str, Any]:
    """`{"$ref": r, "maxItems": 2}` -> `{"allOf": [{"$ref": r}], "maxItems": 2}` (2020-12 meaning)."""
    if "$ref" not in node or len(node) == 1:
        return node
    ref = node.pop("$ref")
    node["allOf"] = [{"$ref": ref}, *(node.get("allOf") or [])]
    return node


def _format_fn(checker: jsonschema.FormatChecker, name: str) -> Callable[[Any], bool]:
    """jsonschema's own check for one format (unknown formats accept, as jsonschema does)."""

    def fn(value: Any) -> bool:
        return checker.conforms(value, name)

    return fn
