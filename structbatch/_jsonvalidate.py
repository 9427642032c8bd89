"""Validating a tool input against a JSON Schema spec: the source schema decides, exactly.

The source schema is validated as the user wrote it, with its own dialect (`$schema`, default
draft 2020-12) and `jsonschema`'s complete semantics: keywords beside a `$ref`, anchors, `$id`
bases, `$dynamicRef`, percent-encoded pointers, boolean schemas. For a wrapped spec (a non-object
root), the tool input `{"items": [...]}` is checked by a wrapper whose one property refers to the
source as a separate resource, so the source's refs keep resolving against its own root.

`_fastcheck` answers "valid" first where it safely can. A schema the reference validator cannot
evaluate for a value (a ref cycle that never reaches a keyword, a pattern Python cannot run)
gives a validation error, never an exception: validating never raises.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import referencing
import referencing.exceptions
import referencing.jsonschema
from jsonschema.protocols import Validator as JSONSchemaValidator

from ._fastcheck import compile_fast_check
from ._formats import format_checker
from ._types import FieldError, JSONSchema

#: the URI the source of a wrapped spec is registered under when it has no `$id` of its own
_VALUE_URI = "urn:structbatch:value"


def dialect_id(cls: type[JSONSchemaValidator]) -> str:
    """The metaschema URI of a jsonschema validator class (`$id`, or `id` up to draft 4)."""
    meta = cls.META_SCHEMA
    return str(meta.get("$id") or meta.get("id") or "")


class SchemaValidator:
    """Checks tool inputs of one JSON Schema spec. `errors(obj)` is empty exactly when it is valid."""

    def __init__(
        self,
        *,
        tool_schema: JSONSchema,
        dialect: type[JSONSchemaValidator],
        wrap: str | None,
        source: JSONSchema | None,
        value_schema: JSONSchema | None,
    ) -> None:
        """`source`: the schema of the value as written (None: validate against `tool_schema`);
        `value_schema`: the same with every ref a plain pointer, for the fast check."""
        self.wrap = wrap if source is not None else None
        checker = format_checker(dialect)
        if source is None:
            # An empty registry cannot retrieve anything: no `$ref` is ever fetched from a URL.
            self._reference = dialect(tool_schema, format_checker=checker, registry=referencing.Registry())
            fast = compile_fast_check(tool_schema, dialect)
        elif wrap is None:
            self._reference = dialect(source, format_checker=checker, registry=referencing.Registry())
            fast = compile_fast_check(value_schema, dialect) if value_schema is not None else None
        else:
            spec = referencing.jsonschema.specification_with(
                dialect_id(dialect), default=referencing.jsonschema.DRAFT202012
            )
            resource = spec.create_resource(source)
            uri = resource.id() or _VALUE_URI
            wrapper = {
                "type": "object",
                "properties": {wrap: {"$ref": uri}},
                "required": [wrap],
                "additionalProperties": False,
            }
            registry: referencing.Registry[Any] = referencing.Registry().with_resource(uri, resource)
            self._reference = dialect(wrapper, format_checker=checker, registry=registry)
            fast = compile_fast_check(value_schema, dialect) if value_schema is not None else None
        self._fast: Callable[[Any], bool] | None = fast

    def fast_ok(self, obj: Any) -> bool:
        """True when the fast check vouches for `obj` (False says nothing)."""
        fast = self._fast
        if fast is None:
            return False
        wrap = self.wrap
        if wrap is None:
            return fast(obj)
        return type(obj) is dict and len(obj) == 1 and wrap in obj and fast(obj[wrap])

    def errors(self, obj: Any) -> tuple[FieldError, ...]:
        """Every error of `obj` (sorted by path), or () when it is valid."""
        if self.fast_ok(obj):
            return ()
        try:
            found = sorted(self._reference.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path)))
        except (RecursionError, referencing.exceptions.Unresolvable, re.error) as exc:
            return (FieldError("$", f"the schema cannot be evaluated for this value: {exc!r:.200}"),)
        return tuple(FieldError(json_path(list(e.absolute_path)), e.message) for e in found)


def json_path(parts: Sequence[Any]) -> str:
    """`["items", 2, "price"]` -> `$.items[2].price`."""
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out
