"""structbatch: structured-output extraction with Claude's Message Batches API.

The whole public surface is re-exported here; everything else lives in private modules.

Names load on first use (PEP 562): `import structbatch` costs only the standard library, so the
command line's `--help` and option parsing never pay for pydantic, jsonschema or the engine, and
`sb.Job` imports the engine the first time it is read. Type checkers see the plain imports below.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ._lazy import lazy_getattr

if TYPE_CHECKING:
    from pydantic import BaseModel

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
    from ._modes import (
        CAPABILITIES_CHECKED,
        Capabilities,
        Mode,
        capabilities,
        refresh_capabilities,
        resolve_mode,
    )
    from ._outcome import Failed, Failure, FailureKind, Outcome, Result, Success, Usage
    from ._plan import BatchInfo, Plan
    from ._retry import RetryPolicy
    from ._retrying import Retried
    from ._schema import FieldError, Spec, Validation, compile
    from ._tries import Try

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
    from ._schema import Spec, compile_cached

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

#: Where each public name lives, for `__getattr__` (the same objects the imports above name).
_WHERE: dict[str, str] = {
    "Limits": "._batching",
    **dict.fromkeys(
        (
            "ConfigChangeError",
            "DuplicateKeyError",
            "InputError",
            "JobBusyError",
            "JobError",
            "KeyMismatchError",
            "ModeError",
            "PreflightError",
            "SchemaError",
            "StoreError",
            "StructbatchError",
        ),
        "._errors",
    ),
    **dict.fromkeys(("Job", "PollPolicy", "Progress", "Summary"), "._job"),
    "Mode": "._types",
    **dict.fromkeys(
        ("CAPABILITIES_CHECKED", "Capabilities", "capabilities", "refresh_capabilities", "resolve_mode"),
        "._modes",
    ),
    **dict.fromkeys(
        ("Failed", "Failure", "FailureKind", "Outcome", "Result", "Success", "Usage"), "._outcome"
    ),
    **dict.fromkeys(("BatchInfo", "Plan"), "._plan"),
    "RetryPolicy": "._retry",
    "Retried": "._retrying",
    "Try": "._tries",
    **dict.fromkeys(("FieldError", "Spec", "Validation", "compile", "compile_cached"), "._schema"),
}

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


if not TYPE_CHECKING:  # hidden from type checkers, so a misspelt `sb.Jbo` stays an error there
    __getattr__ = lazy_getattr(__name__, _WHERE, globals())


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
