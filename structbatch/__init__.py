"""structbatch: structured-output extraction with Claude's Message Batches API.

The whole public surface is re-exported here; everything else lives in private modules.
"""

from __future__ import annotations

from typing import Any

from ._batching import Limits
from ._errors import (
    DuplicateKeyError,
    InputError,
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
from ._outcome import Failure, FailureKind, Outcome, Usage
from ._retry import RetryPolicy
from ._schema import FieldError, Spec, Validation, compile, compile_cached


def parse_text(
    text: str, schema_or_model: Any, *, stop_reason: str | None = None, prefill: str | None = None
) -> Outcome[Any]:
    """Parse raw model text against a model class, JSON Schema dict or file (compiled once, cached)."""
    spec = compile_cached(
        schema_or_model if not isinstance(schema_or_model, dict) else _FrozenSchema(schema_or_model)
    )
    return spec.parse_text(text, stop_reason=stop_reason, prefill=prefill)


class _FrozenSchema(dict[str, Any]):
    """A hashable view of a schema dict, so dict schemas can share the compile cache."""

    def __hash__(self) -> int:  # type: ignore[override]
        import orjson

        return hash(orjson.dumps(self, option=orjson.OPT_SORT_KEYS))


__version__ = "0.1.0"

__all__ = [
    "CAPABILITIES_CHECKED",
    "Capabilities",
    "DuplicateKeyError",
    "Failure",
    "FailureKind",
    "FieldError",
    "InputError",
    "Job",
    "JobError",
    "KeyMismatchError",
    "Limits",
    "Mode",
    "ModeError",
    "Outcome",
    "PollPolicy",
    "PreflightError",
    "Progress",
    "RetryPolicy",
    "SchemaError",
    "Spec",
    "StoreError",
    "StructbatchError",
    "Summary",
    "Usage",
    "Validation",
    "__version__",
    "capabilities",
    "compile",
    "parse_text",
    "refresh_capabilities",
    "resolve_mode",
]
