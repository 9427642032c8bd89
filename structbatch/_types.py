"""Leaf types shared by the compiler, the mode table and the parser (they import nothing of ours).

`Mode` names how a schema is put to the model; `FieldError` and `Validation` are what validating a
candidate value against a spec produces; `SubsetCheck` says whether a schema fits the API's
structured-output subset. Keeping them here lets `_schema`, `_modes` and `_parse` share them
without importing one another.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

JSONSchema = dict[str, Any]


class Mode(StrEnum):
    """How the schema is put to the model. See the README for when each is used."""

    TOOL = "tool"
    """One forced tool compiled from the schema; the answer is the tool_use block's input."""
    JSON_SCHEMA = "json_schema"
    """The API's native structured output (`output_config.format`), schema in the API's subset."""
    PREFILL = "prefill"
    """Schema in the system prompt, assistant turn prefilled with `{` (Claude 4.5 and older)."""
    PROMPT = "prompt"
    """Schema in the system prompt only; the reply text is searched for JSON."""
    AUTO = "auto"
    """The best mode the model and request allow: TOOL, else JSON_SCHEMA, else PROMPT."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One validation error: where (a JSON path like `$.items[2].price`) and what."""

    path: str
    message: str


@dataclass(frozen=True, slots=True)
class Validation:
    """The result of validating one candidate value against a spec's full schema.

    `value` is the typed value (model instance, or the JSON value for schema specs) when `ok`;
    `coercions` lists the lossless coercions applied to make it fit.
    """

    ok: bool
    value: Any
    errors: tuple[FieldError, ...] = ()
    coercions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SubsetCheck:
    """Whether a schema fits the API's structured-output subset, and the transformed schema."""

    schema: JSONSchema
    problems: tuple[str, ...]

    @property
    def fits(self) -> bool:
        return not self.problems
