"""structbatch: structured-output extraction with Claude's Message Batches API.

The whole public surface is re-exported here; everything else lives in private modules.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ._batching import Limits
from ._errors import (
    ConfigChangeError,
    DuplicateKeyError,
    InputError,
    JobBusyError,
    JobError,
    KeyMismatchError,
    ModeError,
    PreflightError,
    SchemaError,
    StoreError,
    StructbatchError,
)
from ._job import Job, PollPolicy, Progress, Summary
from ._modes import CAPABILITIES_CHECKED, Capabilities, Mode, capabilities, refresh_capabilities, resolve_mode
from ._outcome import Failed, Failure, FailureKind, Outcome, Result, Success, Usage
from ._plan import BatchInfo, Plan
from ._retry import RetryPolicy
from ._retrying import Retried, Try
from ._schema import FieldError, Spec, Validation, compile, compile_cached

if TYPE_CHECKING:
    from pydantic import BaseModel

_M = TypeVar("_M", bound="BaseModel")
_T = TypeVar("_T")


@overload
def parse_text(
    text: str, schema_or_model: type[_M], *, stop_reason: str | None = None, prefill: str | None = None
) -> Result[_M]: ...
@overload
def parse_text(
    text: str, schema_or_model: Spec[_T], *, stop_reason: str | None = None, prefill: str | None = None
) -> Result[_T]: ...
@overload
def parse_text(
    text: str,
    schema_or_model: Mapping[str, Any] | str | os.PathLike[str],
    *,
    stop_reason: str | None = None,
    prefill: str | None = None,
) -> Result[dict[str, Any]]: ...
def parse_text(
    text: str, schema_or_model: Any, *, stop_reason: str | None = None, prefill: str | None = None
) -> Result[Any]:
    """Parse raw model text against a model class, a JSON Schema dict or file, or a `Spec`.

    Model classes, schema dicts and paths are compiled once and cached. The result narrows like
    everything else: `o.value` is the model instance (a dict for JSON Schema) inside `if o.ok:`.
    """
    if isinstance(schema_or_model, Spec):
        spec: Spec[Any] = schema_or_model
    elif isinstance(schema_or_model, Mapping):
        spec = compile_cached(_FrozenSchema(schema_or_model))
    else:
        spec = compile_cached(schema_or_model)
    return spec.parse_text(text, stop_reason=stop_reason, prefill=prefill).narrow()


class _FrozenSchema(dict[str, Any]):
    """A hashable view of a schema dict, so dict schemas can share the compile cache."""

    def __hash__(self) -> int:  # type: ignore[override]
        import orjson

        return hash(orjson.dumps(self, option=orjson.OPT_SORT_KEYS))


__version__ = "0.1.0"

__all__ = [
    "CAPABILITIES_CHECKED",
    "BatchInfo",
    "Capabilities",
    "ConfigChangeError",
    "DuplicateKeyError",
    "Failed",
    "Failure",
    "FailureKind",
    "FieldError",
    "InputError",
    "Job",
    "JobBusyError",
    "JobError",
    "KeyMismatchError",
    "Limits",
    "Mode",
    "ModeError",
    "Outcome",
    "Plan",
    "PollPolicy",
    "PreflightError",
    "Progress",
    "Result",
    "Retried",
    "RetryPolicy",
    "SchemaError",
    "Spec",
    "StoreError",
    "StructbatchError",
    "Success",
    "Summary",
    "Try",
    "Usage",
    "Validation",
    "__version__",
    "capabilities",
    "compile",
    "parse_text",
    "refresh_capabilities",
    "resolve_mode",
]
