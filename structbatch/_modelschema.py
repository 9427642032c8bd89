"""Pydantic model -> the JSON Schema the spec is compiled from, or an error naming the field.

Pydantic says only that some type has no JSON Schema; `name_bad_field` finds which field (at
any depth) so the error tells the user what to change.
"""

from __future__ import annotations

import inspect
import typing
from typing import Any

import pydantic
from pydantic import BaseModel, TypeAdapter

from . import _shape as shape
from ._errors import SchemaError
from ._types import JSONSchema


def model_schema(target: type[BaseModel], source: type[BaseModel]) -> JSONSchema:
    """The validation JSON Schema of `target` (the model, or a wrapper around `source`), shaped:
    root ref inlined, titles stripped, docstring field descriptions applied. Raises `SchemaError`
    naming the field when a type has no JSON Schema."""
    try:
        schema = target.model_json_schema(mode="validation")
    except (pydantic.PydanticInvalidForJsonSchema, pydantic.PydanticSchemaGenerationError) as exc:
        raise SchemaError(name_bad_field(source, exc)) from exc
    schema = shape.inline_root_ref(schema)
    schema = shape.strip_titles(schema)
    schema = shape.apply_docstring_fields(schema)
    if schema.get("type") != "object":
        raise SchemaError(
            f"{source.__name__}: the model's schema is not an object (type "
            f"{schema.get('type')!r}); pass wrap='value' to wrap it"
        )
    return schema


def name_bad_field(model: type[BaseModel], exc: Exception, prefix: str = "") -> str:
    """Find which field has no JSON Schema, so the error can name it (Pydantic does not)."""
    for field_name, info in model.model_fields.items():
        ann: Any = info.annotation
        for nested in _models_in(ann):
            try:
                nested.model_json_schema()
            except (pydantic.PydanticInvalidForJsonSchema, pydantic.PydanticSchemaGenerationError) as inner:
                return name_bad_field(nested, inner, f"{prefix}{field_name}.")
        try:
            TypeAdapter(ann).json_schema()
        except (pydantic.PydanticInvalidForJsonSchema, pydantic.PydanticSchemaGenerationError):
            return (
                f"{model.__name__}.{field_name} (field {prefix}{field_name}): type {ann!r} has no JSON "
                f"Schema, so the API cannot be told its shape; use a JSON-compatible type"
            )
        except (pydantic.PydanticUserError, TypeError, ValueError):
            # pydantic refusing this field for another reason (an undefined forward ref, an
            # annotation it cannot adapt): not the field that has no schema, keep looking
            continue
    return f"{model.__name__}: cannot generate a JSON Schema: {exc}"


def _models_in(ann: Any) -> list[type[BaseModel]]:
    """The model classes in an annotation: `Item`, `list[Item]`, `dict[str, Item] | None`..."""
    if inspect.isclass(ann) and issubclass(ann, BaseModel):
        return [ann]
    return [m for arg in typing.get_args(ann) for m in _models_in(arg)]
