"""A JSON Schema checked against its metaschema at any depth, with errors that say where.

jsonschema's own check recurses some twenty frames per level of the schema; `check_schema`
falls back to checking one subschema at a time when that exhausts the stack.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

import jsonschema
from jsonschema.protocols import Validator as JSONSchemaValidator

from . import _jsonschema_walk as jsw
from ._errors import SchemaError
from ._types import JSONSchema


def check_schema(cls: type[JSONSchemaValidator], schema: JSONSchema, origin: str) -> None:
    """Check `schema` against its metaschema; raise `SchemaError` naming where it is wrong.

    jsonschema's check recurses some twenty frames per level of the schema, so a schema nested
    fifty levels deep (a 2020-12 metaschema walk through `$dynamicRef`) exhausts the stack. Then
    each subschema is checked on its own, its own subschemas replaced by `{}`: the metaschema
    applies to every subschema position independently, so this is the same check, one level at
    a time (and iterative).
    """
    try:
        cls.check_schema(schema)
        return
    except jsonschema.SchemaError as exc:
        _schema_error(origin, [str(p) for p in exc.absolute_path], exc.message)
    except RecursionError:
        pass
    meta = cls(cls.META_SCHEMA)
    stack: list[tuple[list[str], JSONSchema]] = [([], schema)]
    while stack:
        where, node = stack.pop()
        subs = {id(sub): suffix for suffix, sub in jsw.subschemas(node)}
        error = jsonschema.exceptions.best_match(meta.iter_errors(_shallow(node, subs)))
        if error is not None:
            _schema_error(origin, where + [str(p) for p in error.absolute_path], error.message)
        for suffix, sub in jsw.subschemas(node):
            stack.append(([*where, *suffix.split("/")[1:]], sub))


def _shallow(node: JSONSchema, subs: Mapping[int, str]) -> JSONSchema:
    """`node` with each of its direct subschemas (by identity, in `subs`) replaced by `{}`."""

    def blank(value: Any) -> Any:
        return {} if id(value) in subs else value

    out: JSONSchema = {}
    for key, value in node.items():
        if isinstance(value, list):
            out[key] = [blank(v) for v in value]
        elif isinstance(value, dict) and id(value) not in subs:
            out[key] = {k: blank(v) for k, v in value.items()}
        else:
            out[key] = blank(value)
    return out


def _schema_error(origin: str, where: Sequence[str], message: str) -> NoReturn:
    raise SchemaError(f"{origin}: not a valid JSON Schema at {'/'.join(where) or '(root)'}: {message}")
