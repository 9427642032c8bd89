"""The result types: one `Outcome` per request, with a precise `FailureKind` when it failed."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class FailureKind(StrEnum):
    """Why a request did not yield a valid value. Values are stable strings (stored and printed)."""

    API_ERROR = "api_error"
    """The batch result was `errored`; `details` keeps the API's own error type and message."""
    EXPIRED = "expired"
    """The batch ended (24 h) before the request was processed."""
    CANCELED = "canceled"
    """The batch was canceled before the request was processed."""
    TRUNCATED = "truncated"
    """The answer stopped at `max_tokens` (or the context window) before a complete value."""
    REFUSAL = "refusal"
    """The model declined (`stop_reason: refusal`, or a refusal in prose with no value)."""
    NO_JSON = "no_json"
    """Neither a tool_use block nor recoverable JSON was found."""
    INVALID = "invalid"
    """JSON was found but did not validate against the schema (errors carry JSON paths)."""
    AMBIGUOUS = "ambiguous"
    """Several different candidates fit the schema; none is chosen silently."""
    WRONG_TOOL = "wrong_tool"
    """The model called a tool other than the one compiled from the schema."""
    MALFORMED_RESULT = "malformed_result"
    """A result line that is not a valid batch result object."""
    MISSING = "missing"
    """The API never returned a result for a submitted request."""
    INTERNAL = "internal"
    """A bug in structbatch itself (logged with its traceback); never re-asked or resubmitted."""


#: Kinds that a later batch may fix by sending the same request again (the API did not process it,
#: or failed for a transient reason).
RESUBMITTABLE_API_ERRORS = frozenset({"overloaded_error", "api_error", "rate_limit_error", "timeout_error"})


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one answer (or a sum of answers). Missing counts are zero."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_creation_input_tokens + other.cache_creation_input_tokens,
            self.cache_read_input_tokens + other.cache_read_input_tokens,
        )

    @classmethod
    def from_api(cls, usage: Mapping[str, Any] | None) -> Usage:
        """Read a Messages API `usage` object (null fields count as zero)."""
        if not usage:
            return cls()
        return cls(
            int(usage.get("input_tokens") or 0),
            int(usage.get("output_tokens") or 0),
            int(usage.get("cache_creation_input_tokens") or 0),
            int(usage.get("cache_read_input_tokens") or 0),
        )

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a request failed: a kind, one readable line, and structured details.

    `details` may hold: `error_type`/`error_message` (the API's own), `errors` (validation errors,
    each `{"path": "$.items[2].price", "message": ...}`), `excerpt` (the offending text, shortened),
    `stop_reason`, `tool_name`.
    """

    kind: FailureKind
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)


# Not slotted: the parser's hot path builds successes by filling `__dict__` in one step
# (`_parse._success`), several times faster than the frozen `__init__`.
@dataclass(frozen=True)
class Outcome(Generic[T]):
    """The one final result of one request.

    `ok` is True exactly when `value` holds a validated value (a model instance, or a dict for JSON
    Schema specs) and `failure` is None. `repairs` lists every lossless repair or coercion applied
    to get the value (for example `"trailing_comma"`, `"coerce:$.qty:str->int"`), for auditing.
    """

    ok: bool
    value: T | None = None
    failure: Failure | None = None
    usage: Usage = field(default_factory=Usage)
    key: str | None = None
    custom_id: str | None = None
    mode: str | None = None
    attempts: int = 1
    repairs: tuple[str, ...] = ()
    raw: Any = None

    @classmethod
    def success(cls, value: T, **kw: Any) -> Outcome[T]:
        return cls(ok=True, value=value, **kw)

    @classmethod
    def fail(
        cls, kind: FailureKind, message: str, details: Mapping[str, Any] | None = None, **kw: Any
    ) -> Outcome[T]:
        return cls(ok=False, failure=Failure(kind, message, dict(details or {})), **kw)

    @property
    def kind(self) -> FailureKind | None:
        """The failure kind, or None for a success."""
        return self.failure.kind if self.failure else None

    def replace(self, **changes: Any) -> Outcome[T]:
        """A copy with some fields changed (outcomes are immutable)."""
        return dataclasses.replace(self, **changes)
