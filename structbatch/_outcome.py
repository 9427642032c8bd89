"""The result types: one `Outcome` per request, with a precise `FailureKind` when it failed."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeAlias, TypeVar, cast

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
# (`fast_success`), several times faster than the frozen `__init__`.
@dataclass(frozen=True)
class Outcome(Generic[T]):
    """The one final result of one request.

    `ok` is True exactly when `value` holds a validated value (a model instance, or a dict for JSON
    Schema specs) and `failure` is None. `repairs` lists every lossless repair or coercion applied
    to get the value (for example `"trailing_comma"`, `"coerce:$.qty:str->int"`), for auditing.

    This is the one runtime class (construct it, `isinstance` it). For type checkers, what the
    public API returns is `Result[T]` (`Success[T] | Failed[T]`), which narrows on `ok`.
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
    def success(cls, value: T, **kw: Any) -> Success[T]:
        """A success holding `value` (other fields as keywords: `usage=`, `key=`, ...)."""
        return cast("Success[T]", cls(ok=True, value=value, **kw))

    @classmethod
    def fail(
        cls, kind: FailureKind, message: str, details: Mapping[str, Any] | None = None, **kw: Any
    ) -> Failed[T]:
        """A failure of `kind` with one readable line and structured `details`."""
        return cast("Failed[T]", cls(ok=False, failure=Failure(kind, message, dict(details or {})), **kw))

    @property
    def kind(self) -> FailureKind | None:
        """The failure kind, or None for a success."""
        return self.failure.kind if self.failure else None

    def replace(self, **changes: Any) -> Result[T]:
        """A copy with some fields changed (outcomes are immutable)."""
        return cast("Result[T]", dataclasses.replace(self, **changes))

    def narrow(self) -> Result[T]:
        """This same object, typed as `Success[T] | Failed[T]` so that `if o.ok:` narrows it.

        For code holding a plain `Outcome[T]` (say, after `isinstance(x, Outcome)`); everything
        the public API returns is typed that way already.
        """
        return cast("Result[T]", self)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (`json.dumps` takes it as is): `key`, `custom_id`, `ok`, `kind`,
        `message`, `details`, `value` (a model in JSON mode, by alias, as `model_validate` reads
        it back), `usage`, `attempts`, `repairs`, `mode`. Failure fields are None for a success,
        `value` is None for a failure."""
        from pydantic_core import to_jsonable_python  # already loaded with pydantic; kept local

        failure = self.failure
        return {
            "key": self.key,
            "custom_id": self.custom_id,
            "ok": self.ok,
            "kind": None if failure is None else failure.kind.value,
            "message": None if failure is None else failure.message,
            # details are diagnostics (SDK objects may hide in them): anything odd becomes a string
            "details": None if failure is None else to_jsonable_python(dict(failure.details), fallback=str),
            "value": to_jsonable_python(self.value, by_alias=True) if self.ok else None,
            "usage": self.usage.as_dict(),
            "attempts": self.attempts,
            "repairs": list(self.repairs),
            "mode": None if self.mode is None else str(self.mode),
        }


class _Narrowed(type):
    """Metaclass of `Success` and `Failed`, which are views of `Outcome`, not separate storage.

    Every outcome is an `Outcome` instance (the parser's fast path fills an `Outcome`'s dict
    directly), so `isinstance(o, Success)` means `isinstance(o, Outcome) and o.ok`, which also
    makes `match o: case Success(value=v): ...` work. Calling `Success(...)` builds an `Outcome`
    and checks that `ok` agrees.
    """

    _ok: bool

    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, Outcome) and bool(obj.ok) is cls._ok

    if not TYPE_CHECKING:  # type checkers keep the inherited dataclass signature

        def __call__(cls, *args, **kwargs):
            out = Outcome(*args, **kwargs)
            if bool(out.ok) is not cls._ok:
                raise TypeError(f"{cls.__name__} needs ok={cls._ok}; Outcome.success/fail build either")
            return out


class Success(Outcome[T], metaclass=_Narrowed):
    """An `Outcome` with `ok` True: `value` is the validated `T`, `failure` and `kind` are None."""

    _ok = True
    __match_args__ = ("value",)

    if TYPE_CHECKING:

        @property
        def ok(self) -> Literal[True]: ...
        @property
        def value(self) -> T: ...
        @property
        def failure(self) -> None: ...
        @property
        def kind(self) -> None: ...


class Failed(Outcome[T], metaclass=_Narrowed):
    """An `Outcome` with `ok` False: `failure` (and `kind`) say why, `value` is None."""

    _ok = False
    __match_args__ = ("failure",)

    if TYPE_CHECKING:

        @property
        def ok(self) -> Literal[False]: ...
        @property
        def value(self) -> None: ...
        @property
        def failure(self) -> Failure: ...
        @property
        def kind(self) -> FailureKind: ...


Result: TypeAlias = Success[T] | Failed[T]
"""One outcome as the public API returns it: `if o.ok:` narrows it to `Success[T]` (`o.value: T`),
the else branch to `Failed[T]` (`o.failure: Failure`)."""


#: the fields a success sets; every other one reads its default from the class, where a dataclass
#: leaves each plain default (checked here: the fast path needs all of them to be there)
_SET_BY_SUCCESS = frozenset({"ok", "value", "usage", "custom_id", "repairs"})
FAST_OUTCOME = "__slots__" not in vars(Outcome) and all(
    f.name in _SET_BY_SUCCESS
    or (f.default is not dataclasses.MISSING and getattr(Outcome, f.name, f) is f.default)
    for f in dataclasses.fields(Outcome)
)


def fast_success(
    value: Any, usage: Usage, custom_id: str | None, repairs: tuple[str, ...] = ()
) -> Outcome[Any]:
    """`Outcome.success(value, usage=..., custom_id=...)`, built several times faster.

    A frozen dataclass's `__init__` sets each of its ten fields through `object.__setattr__`;
    setting only the four a success differs in, straight into the instance dict (the others
    read the class's defaults), is the largest saving left on a clean line. Falls back to the
    constructor if `Outcome` changes shape (slots, or a field without a plain default).
    """
    if not FAST_OUTCOME:
        return Outcome(ok=True, value=value, usage=usage, custom_id=custom_id, repairs=repairs)
    out: Outcome[Any] = object.__new__(Outcome)
    fields = out.__dict__
    fields["ok"] = True
    fields["value"] = value
    fields["usage"] = usage
    fields["custom_id"] = custom_id
    if repairs:
        fields["repairs"] = repairs
    return out
