"""Reading one clean tool_use result line at the raw orjson + pydantic speed, on any model.

`_parse.result_line_validator` validates the whole line in one pydantic-core pass (JSON parsing
and the model together). That is the fastest way for number-heavy inputs, but pydantic-core
builds Python strings more slowly than orjson: on string-heavy models (names, descriptions,
SKUs) it measured 0.66-0.71x the raw `orjson.loads` + `model_validate` loop. So a line is read
by orjson, the envelope checked by a few dict lookups, and the tool input validated in strict
Python mode, which is as fast as the raw loop's lax validation.

Strict Python-mode validation of a parsed dict accepts a subset of what strict JSON mode accepts,
with the same values. Models that need JSON mode (enums, dates, tuples given as JSON arrays) fail
it on their first line: from then on that spec reads lines with the one-pass JSON validator. A
line that may hold an integer beyond 64 bits (which orjson reads as a float) is read the JSON way
too, so such integers stay exact. Whatever this reader refuses, the general path decides.
"""

from __future__ import annotations

from typing import Any

import orjson
import pydantic
from pydantic_core import SchemaValidator, core_schema

from . import _jsonschema_walk as jsw

#: stop reasons under which a lone tool_use block is complete (as `_parse` defines a clean line)
_CLEAN_TOOL_STOPS = frozenset({"tool_use", "end_turn", "stop_sequence"})
#: nineteen digits in a row: orjson may read the integer they belong to inexactly
_long_digits = SchemaValidator(core_schema.str_schema(pattern="[0-9]{19}")).isinstance_python


class LineReader:
    """`validate_json(line, strict=True)` -> `{"custom_id", "value", "usage"}` for a clean line,
    else a `ValueError` (the interface of the pydantic validator it wraps)."""

    __slots__ = ("_json_mode", "_line", "_model", "_name", "_untyped_numbers")

    def __init__(self, name: str, model: type[pydantic.BaseModel], line_validator: Any) -> None:
        self._name = name
        self._model = model.__pydantic_validator__
        self._line = line_validator
        self._json_mode = False
        self._untyped_numbers = _numbers_may_be_untyped(model)

    def validate_json(self, line: bytes | str, strict: bool = True) -> Any:
        if self._json_mode or (self._untyped_numbers and _long_digits(line)):
            return self._one_pass(line)
        envelope = orjson.loads(line)  # JSONDecodeError is a ValueError; whitespace is free
        try:
            result = envelope["result"]
            message = result["message"]
            content = message["content"]
            block = content[0]
            if (
                result["type"] != "succeeded"
                or len(content) != 1
                or block["type"] != "tool_use"
                or block["name"] != self._name
                or message["stop_reason"] not in _CLEAN_TOOL_STOPS
            ):
                raise ValueError("not a clean tool_use line")
            custom_id = envelope["custom_id"]
            raw = block["input"]
            usage = message.get("usage")
            if type(custom_id) is not str or (usage is not None and not _plain_usage(usage)):
                raise ValueError("not a clean tool_use line")
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise ValueError("not a clean tool_use line") from exc
        try:
            value = self._model.validate_python(raw, strict=True)
        except pydantic.ValidationError:
            parsed = self._one_pass(line)  # raises if the input is invalid
            self._json_mode = True  # valid in JSON mode only: this model needs it on every line
            return parsed
        return {"custom_id": custom_id, "value": value, "usage": usage}

    def _one_pass(self, line: bytes | str) -> Any:
        """The line validated by pydantic-core in one pass (it pays for a trailing newline more
        than a strip costs, and for a whole parse of a line that holds no tool_use at all)."""
        if isinstance(line, str):
            line = line.rstrip()
            if "tool_use" not in line:
                raise ValueError("no tool_use block")
        else:
            line = line.rstrip()
            if b"tool_use" not in line:
                raise ValueError("no tool_use block")
        return self._line.validate_json(line, strict=True)


def _numbers_may_be_untyped(model: type[pydantic.BaseModel]) -> bool:
    """Whether a number in `model`'s input may land where both an int and a float fit: a schema
    position without a type (`Any`, a bare `list`), or a union or type list of integer and number."""
    try:
        schema = model.model_json_schema(mode="validation")
    except (pydantic.PydanticInvalidForJsonSchema, pydantic.PydanticSchemaGenerationError):
        return True
    for _, node in jsw.walk(schema):
        for key in ("additionalProperties", "items"):
            if node.get(key) is True or node.get(key) == {}:
                return True
        types = node.get("type")
        branches = [b.get("type") for b in node.get("anyOf") or () if isinstance(b, dict)]
        if isinstance(types, list) and {"integer", "number"} <= set(types):
            return True
        if {"integer", "number"} <= set(branches):
            return True
        if types is None and not (_TYPED_BY & node.keys()):
            return True
    return False


#: keywords that give an untyped schema node its values' shape
_TYPED_BY = frozenset({"$ref", "anyOf", "allOf", "oneOf", "enum", "const", "properties"})


def _plain_usage(usage: Any) -> bool:
    """A dict whose token counts are integers or null (what the line envelope allows)."""
    if type(usage) is not dict:
        return False
    get = usage.get
    for count in (
        get("input_tokens"),
        get("output_tokens"),
        get("cache_creation_input_tokens"),
        get("cache_read_input_tokens"),
    ):
        if count is not None and type(count) is not int:
            return False
    return True
