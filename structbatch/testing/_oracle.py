"""Specs from whatever a user passes, and the validity oracle every strategy checks values with.

The oracle (`valid`) is deliberately independent of `Spec.validate` and of the parser: a
strategy that trusted the code under test to say what is valid could never catch it wrong.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import referencing
import referencing.exceptions

from .._schema import Spec, compile

_SPECS: dict[int, tuple[Any, Spec[Any]]] = {}


def as_spec(spec_or_model: Any) -> Spec[Any]:
    """A `Spec` from a `Spec`, a Pydantic model class, a JSON Schema dict or a schema file path."""
    if isinstance(spec_or_model, Spec):
        return spec_or_model
    cached = _SPECS.get(id(spec_or_model))
    if cached is not None and cached[0] is spec_or_model:
        return cached[1]
    spec: Spec[Any] = compile(spec_or_model)
    _SPECS[id(spec_or_model)] = (spec_or_model, spec)
    return spec


_VALIDATORS: dict[int, tuple[Spec[Any], Any]] = {}


def valid(spec: Spec[Any], tool_input: Any) -> tuple[bool, Any]:
    """An oracle independent of `Spec.validate`: is `tool_input` valid as it is (no coercion)?

    Pydantic specs: strict JSON-mode validation of the input serialised by the standard library
    (which, unlike orjson, keeps integers of any size). JSON Schema specs: jsonschema with format
    checking, no remote `$ref`s. Returns `(ok, value)` with the value `spec.parse` should return.
    """
    if spec.model is not None:
        import pydantic

        try:
            instance = spec.model.model_validate_json(json.dumps(tool_input), strict=True)
        except (pydantic.ValidationError, ValueError, TypeError):
            return False, None
        return True, getattr(instance, spec.wrap) if spec.wrap else instance
    entry = _VALIDATORS.get(id(spec))
    if entry is None or entry[0] is not spec:
        cls = jsonschema.validators.validator_for(spec.schema, default=jsonschema.Draft202012Validator)
        entry = (spec, cls(spec.schema, format_checker=cls.FORMAT_CHECKER, registry=referencing.Registry()))
        _VALIDATORS[id(spec)] = entry
    try:
        ok = bool(entry[1].is_valid(tool_input))
    except (referencing.exceptions.Unresolvable, re.error, jsonschema.exceptions.UnknownType, RecursionError):
        # a schema the oracle cannot decide (a remote `$ref`, a pattern Python's `re` rejects, an
        # unknown type, nesting past the stack): no value of it counts as valid
        return False, None
    if not ok:
        return False, None
    return True, tool_input[spec.wrap] if spec.wrap and isinstance(tool_input, dict) else tool_input
