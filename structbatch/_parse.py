"""Message / batch result line / raw text -> exactly one `Outcome`, never a lie and never a raise.

The rules, in the order they are applied to one answer:

1. `stop_reason == "refusal"` -> `refusal` (whatever was emitted before the stop is partial).
2. `tool_use` blocks named exactly `spec.name` are the answer. If the answer was cut
   (`max_tokens` or `model_context_window_exceeded`) while our tool_use was the last block, its
   input may be a partial parse -> `truncated`. One distinct valid input -> success; several ->
   `ambiguous`; none valid -> `invalid`. An `input` given as a JSON string (some proxies) is
   decoded strictly (recorded as `tool_input_json_string`).
3. Only tool_use blocks with other names -> `wrong_tool` (server tool blocks are not tool_use).
4. Otherwise the text blocks, joined as written (thinking blocks skipped), go to `parse_text`:
   - JSON-looking text that opens and never closes at the end (`cut_at`) blocks every candidate:
     `truncated` when the stop reason says the answer was cut, else `invalid` (if other JSON was
     found) or `no_json`. A complete value followed by a cut one is never chosen.
   - Each candidate is validated (strict, then `spec.validate`'s lossless coercion). When the
     value as found does not fit, lossless reshapes are tried: the object under a single key
     (`{"recipe": {...}}`; a scalar or list only under a key naming the spec or its wrap key),
     the `input`/`arguments` of a tool call naming our tool written out as text, the only element
     of a one-element list, and for wrapped specs the bare value (`[...]` for `{"items": [...]}`).
     Exactly one reshape must fit; each is recorded (`unwrap:recipe`, `wrap:items`, ...).
   - Exactly one distinct fitting value -> success (the same value in a fence and a span counts
     once) - unless the prose around it says data was left out ("remaining items omitted for
     brevity") -> `invalid`. Under a cut stop reason, a number that ends the text is not trusted
     (`12` may be the start of `123`). Values drafted inside `<thinking>`-style tags yield to a
     value outside them.
   - Several different fitting values -> `ambiguous`.
   - JSON found but nothing fits, or JSON that stands for data we do not have (an elision,
     NaN/Infinity, a duplicate key with different values) -> `invalid`, with the errors of the
     best candidate.
   - No JSON, and the prose declines ("I can't help with that") -> `refusal`.
   - No JSON and the answer was cut -> `truncated`; else `no_json`.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal, NotRequired

import orjson
import pydantic
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from ._coerce import coerce, enum_words, settle_words
from ._extract import (
    ELISION_SUSPECT,
    INTEGRITY_REASONS,
    BareWord,
    Candidate,
    Extraction,
    JSONProblem,
    check_elision,
    extract,
    glue_prefill,
    loads_document,
    loads_json,
    lone_value,
    same_json,
    suspect_finder,
)
from ._outcome import FailureKind, Outcome, T, Usage
from ._schema import Spec

if TYPE_CHECKING:
    from ._schema import FieldError, Validation

#: stop reasons that mean the answer was cut before the model finished (reference/anthropic-api.md §6)
CUT_STOP_REASONS = frozenset({"max_tokens", "model_context_window_exceeded"})
EXCERPT_CHARS = 200
#: the usage of an answer that reports none (outcomes share it: `Usage` is frozen)
_NO_USAGE = Usage()
MAX_ERRORS = 20
log = logging.getLogger("structbatch")

_REFUSAL = re.compile(
    r"\bI(?:\s+am|['’]m)\s+(?:sorry|afraid|not\s+(?:able|comfortable|going)|unable)\b"
    r"|\bI\s+(?:can(?:not|\s+not|['’]t)|won['’]t|will\s+not|must\s+decline|(?:have\s+to|need\s+to)\s+decline"
    r"|apologi[sz]e|do\s+not\s+feel\s+comfortable|don['’]t\s+feel\s+comfortable)\b"
    r"|\b(?:unable|not\s+able)\s+to\s+(?:help|assist|comply|provide|fulfil)"
    r"|\bagainst\s+my\s+(?:guidelines|principles|policies)",
    re.I,
)
#: prose that says the JSON is incomplete ("remaining items omitted for brevity"): a value that
#: validates is still not the whole answer
_PROSE_ELISION = re.compile(
    r"for (?:the sake of )?brevity"
    r"|\b(?:the )?(?:rest|remaining)\b[^.\n]{0,60}?"
    r"\b(?:omitted|not shown|not listed|truncated|left out|skipped|follow the same|(?:are )?similar)\b"
    r"|\b(?:more|additional|other) (?:items|entries|rows|records|ingredients|steps|tags|lines|results)"
    r" (?:were |are |have been )?(?:omitted|not shown|truncated|left out|skipped)\b"
    r"|\b(?:omitted|truncated|abbreviated|shortened)\b[^.\n]{0,30}?\b(?:to save|for) (?:space|length)"
    r"|\b(?:showing|shown|listed|including|included) only (?:the )?first \d+"
    r"|\bfirst \d+ (?:of|out of) (?:the )?\d+\b"
    r"|\b(?:and|plus) \d+ (?:more|other|others|additional)\b"
    r"|\bpartial (?:list|output|result|extraction)s?\b",
    re.I,
)
#: every `_PROSE_ELISION` match contains one of these words (any case): a one-pass pre-check,
#: as the regex itself costs more than the rest of a text parse
_prose_may_elide = suspect_finder(
    "(?i)brevity|rest|remain|omit|truncat|abbreviat|shorten|first|more|other|additional|partial"
)


def _prose_elision(prose: str) -> re.Match[str] | None:
    if _prose_may_elide(prose):
        return _PROSE_ELISION.search(prose)
    return None


_TOOL_CALL_KEYS = ("input", "arguments", "parameters")
#: tags in which a model drafts and reasons before its answer
_SCRATCH = re.compile(r"<(thinking|scratchpad|reasoning|analysis|draft)\b[^>]*>.*?</\1\s*>", re.S | re.I)


# ---- public entry points ------------------------------------------------------------------------


def parse_result_line(
    spec: Spec[Any], line: bytes | str | Mapping[str, Any], *, prefill: str | None = None
) -> Outcome[Any]:
    """One line of a batch results JSONL (or its parsed object) -> one `Outcome` with `custom_id`.

    `succeeded` is parsed as a message; `errored` keeps the API's own error type, message and
    request id (read from `result.error.error`, which is doubly nested); `expired`/`canceled`
    map to their kinds. Anything that is not a result object is `malformed_result`. Never raises.
    """
    try:
        if isinstance(line, (bytes, str, bytearray, memoryview)):
            fast = fast_result_line(spec, line)
            if fast is not None:
                return fast
        return _general_result_line(spec, line, prefill)
    except Exception as exc:  # our bug, not the model's: never a re-ask (see `_internal`)
        return _internal(exc, "reading a result line", line)


def _general_result_line(
    spec: Spec[T], line: bytes | str | Mapping[str, Any], prefill: str | None = None
) -> Outcome[T]:
    """`parse_result_line` without its fast path: for a line `fast_result_line` has refused."""
    if not isinstance(line, (bytes, str, bytearray, memoryview)):
        return _parse_result_object(spec, line, prefill, line)
    text, tool = _line_text(line)
    try:
        obj = loads_document(text, tool)
    except (ValueError, RecursionError) as exc:  # orjson's JSONDecodeError is a ValueError
        return _malformed(f"not a JSON line: {exc}", text)
    return _parse_result_object(spec, obj, prefill, text)


def parse_message(spec: Spec[Any], message: Any, *, prefill: str | None = None) -> Outcome[Any]:
    """An SDK `Message` or a message dict -> one `Outcome` (see the module docstring). Never raises."""
    try:
        return _parse_message(spec, message, prefill)
    except Exception as exc:  # our bug, not the model's: never a re-ask (see `_internal`)
        return _internal(exc, "reading a message", message)


def parse_text(
    spec: Spec[Any],
    text: str,
    *,
    stop_reason: str | None = None,
    prefill: str | None = None,
    usage: Usage | None = None,
) -> Outcome[Any]:
    """Raw model text -> one `Outcome` (see the module docstring). Never raises."""
    usage = usage or _NO_USAGE
    try:
        if not isinstance(text, str):
            text = text.decode("utf-8", "replace") if isinstance(text, (bytes, bytearray)) else str(text)
        if stop_reason == "refusal":
            return _refusal(text, stop_reason, usage)
        if spec.model is not None and not spec.wrap and stop_reason not in CUT_STOP_REASONS:
            fast = _fast_text(spec, glue_prefill(text, prefill), usage)
            if fast is not None:
                return fast
        # A bare scalar can only be the value of a wrapped spec; an object spec would discard it.
        found = extract(
            text,
            prefill,
            scalars=spec.wrap is not None,
            words=_facts(spec).words,
            close_final=stop_reason == "end_turn",
        )
        return _TextParse(spec, found, stop_reason, usage).outcome()
    except Exception as exc:  # our bug, not the model's: never a re-ask (see `_internal`)
        return _internal(exc, "parsing the text", text, usage)


def _fast_text(spec: Spec[Any], text: str, usage: Usage) -> Outcome[Any] | None:
    """The usual text answer (one JSON value between a preamble and a postamble, valid as
    written) -> its Outcome without the full search, or None for the general path.

    Takes exactly the decisions `_TextParse` would for the lone candidate of such a text (it
    validates strictly, and the prose around it does not say data was left out); anything
    else is left to it. Only for uncut answers of unwrapped Pydantic specs.
    """
    found = lone_value(text)
    if found is None:
        return None
    value, dumped, lo, hi = found
    ok, value = _strict(spec, value, dumped)
    if not ok:
        return None
    prose = f"{text[:lo]}\n{text[hi:]}" if lo > 0 else text[hi:]  # as `_TextParse.prose` joins it
    if _prose_elision(prose):
        return None
    return _success(value, usage, None)


# ---- the hot path: one clean tool_use line ----------------------------------------------------------

#: stop reasons under which a lone tool_use block is complete (not cut, not refused)
_CLEAN_TOOL_STOPS = ("tool_use", "end_turn", "stop_sequence")


class _LineUsage(TypedDict, total=False):
    input_tokens: int | None
    output_tokens: int | None
    cache_creation_input_tokens: int | None
    cache_read_input_tokens: int | None


def result_line_validator(spec: Spec[Any]) -> Any:
    """A validator for the whole line of a clean answer: one tool_use block with a valid input
    (cached per spec as `Spec._line_validator`; None for JSON Schema specs).

    Validating the line in one pass (pydantic-core parses the JSON and validates the model
    together, in strict mode) costs less than `orjson.loads` + validating the input, so a clean
    line costs about what the raw baseline costs. The envelope is one flat TypedDict whose fields
    are read through alias paths (`result.message.content.0.input`...), so pydantic-core builds
    a single dict where nested TypedDicts built four, and only keys go through its string
    cache (the values of a batch rarely repeat): measured 5-9% less time a line than nested
    TypedDicts.
    `content.1` must be absent (a second block is not a clean answer). Any line it does not
    accept (a text block, another tool, a cut or refused answer, an invalid input, an errored
    result) takes the general path, which decides what it is.
    """
    if spec.model is None:
        return None

    def at(tp: Any, first: str, *rest: str | int) -> Any:
        return Annotated[tp, pydantic.Field(validation_alias=pydantic.AliasPath(first, *rest))]

    message = ("result", "message")
    block = (*message, "content", 0)
    # built per spec: the tool name and the input model are the spec's (hence the call syntax,
    # through an alias the type checker does not treat as a static TypedDict declaration)
    typed_dict: Any = TypedDict
    line: Any = typed_dict(
        "_CleanToolLine",
        {
            "custom_id": str,
            "result_type": at(Literal["succeeded"], "result", "type"),
            "block_type": at(Literal["tool_use"], *block, "type"),
            "name": at(Literal[spec.name], *block, "name"),
            "value": at(spec.model, *block, "input"),
            "second_block": NotRequired[at(None, *message, "content", 1)],
            "stop_reason": at(Literal[_CLEAN_TOOL_STOPS], *message, "stop_reason"),
            "usage": NotRequired[at(_LineUsage | None, *message, "usage")],
        },
    )
    line.__pydantic_config__ = pydantic.ConfigDict(cache_strings="keys")
    return pydantic.TypeAdapter(line).validator


#: a result line the fast path leaves to the general one: it may hold an elision placeholder,
#: or a NaN/Infinity (pydantic-core's JSON parser accepts them; strict JSON does not)
_line_needs_care = suspect_finder(ELISION_SUSPECT + "|NaN|Infinity")


def fast_result_line(spec: Spec[T], line: bytes | str | bytearray | memoryview) -> Outcome[T] | None:
    """One clean tool_use result line -> its Outcome, or None to take the general path.

    The hot path of collecting results: a line that does not mention `tool_use`, may hold an
    elision placeholder or a non-finite number, or does not validate strictly is left to
    `parse_result_line`, which checks every string of the input and explains what is wrong.
    Never raises.
    """
    validator = spec._line_validator
    if validator is None:
        return None
    if type(line) is not bytes and not isinstance(line, str):
        line = bytes(line)
    if _line_needs_care(line):  # the validator (`_fastline`) checks for one clean tool_use block
        return None
    try:
        parsed = validator.validate_json(line, strict=True)
    except ValueError:  # pydantic.ValidationError
        return None
    value = parsed["value"]
    if spec.wrap:
        value = getattr(value, spec.wrap)
    return _success(value, _usage(parsed.get("usage")), parsed["custom_id"])


def _line_text(line: bytes | str | bytearray | memoryview) -> tuple[bytes | str, bool]:
    """A result line without its newline, and whether it mentions `tool_use` (a tool input may
    hold integers orjson cannot keep exact, so such a line is read by the exact parser)."""
    if isinstance(line, str):
        if line[-1:] == "\n":
            line = line.rstrip()
        return line, "tool_use" in line
    if type(line) is not bytes:
        line = bytes(line)
    if line[-1:] == b"\n":  # pydantic-core's parser pays more for trailing whitespace than a strip
        line = line.rstrip()
    return line, b"tool_use" in line


#: a success as the constructor would fill it; `_success` copies it and sets three fields
_SUCCESS_TEMPLATE = {
    f.name: f.default for f in dataclasses.fields(Outcome) if f.default is not dataclasses.MISSING
} | {"ok": True, "value": None, "usage": None, "custom_id": None, "repairs": ()}
_FAST_OUTCOME = "__slots__" not in vars(Outcome) and {f.name for f in dataclasses.fields(Outcome)} <= set(
    _SUCCESS_TEMPLATE
)


def _success(value: Any, usage: Usage, custom_id: str | None, repairs: tuple[str, ...] = ()) -> Outcome[Any]:
    """`Outcome.success(value, usage=..., custom_id=...)`, built several times faster.

    A frozen dataclass's `__init__` sets each of its ten fields through `object.__setattr__`;
    filling the instance dict from a template is the largest saving left on a clean line. Falls
    back to the constructor if `Outcome` changes shape (slots, or a field without a default).
    """
    if not _FAST_OUTCOME:
        return Outcome(ok=True, value=value, usage=usage, custom_id=custom_id, repairs=repairs)
    out: Outcome[Any] = object.__new__(Outcome)
    fields = out.__dict__
    fields.update(_SUCCESS_TEMPLATE)
    fields["value"] = value
    fields["usage"] = usage
    fields["custom_id"] = custom_id
    if repairs:
        fields["repairs"] = repairs
    return out


# ---- result lines -------------------------------------------------------------------------------


def _parse_result_object(spec: Spec[Any], obj: Any, prefill: str | None, line: Any) -> Outcome[Any]:
    """A parsed result line (`line` is what was read, for excerpts) -> its Outcome."""
    if not isinstance(obj, (dict, Mapping)):
        return _malformed("a result line must be a JSON object", line)
    custom_id = obj.get("custom_id")
    result = obj.get("result")
    if not isinstance(custom_id, str) or not isinstance(result, (dict, Mapping)):
        cid = custom_id if isinstance(custom_id, str) else None
        return _malformed("a result line needs a string custom_id and a result object", line, cid)
    kind = result.get("type")
    if kind == "succeeded":
        message = result.get("message")
        if not isinstance(message, (dict, Mapping)):
            return _malformed("a succeeded result has no message object", line, custom_id)
        outcome = _parse_message(spec, message, prefill)
        # The outcome was created just above and is not shared yet: setting its custom_id in place
        # saves a dataclasses.replace (a tenth of the cost of a clean line).
        object.__setattr__(outcome, "custom_id", custom_id)
        return outcome
    if kind == "errored":
        return _errored(result, custom_id)
    if kind == "expired":
        return Outcome.fail(
            FailureKind.EXPIRED, "the batch expired before this request ran", custom_id=custom_id
        )
    if kind == "canceled":
        return Outcome.fail(
            FailureKind.CANCELED, "the batch was canceled before this request ran", custom_id=custom_id
        )
    return _malformed(f"unknown result type {kind!r}", line, custom_id)


def _errored(result: Mapping[str, Any], custom_id: str) -> Outcome[Any]:
    """`result.error` is an ErrorResponse whose `error` holds the type and message (double nesting)."""
    response = result.get("error")
    inner = response.get("error") if isinstance(response, Mapping) else None
    if not isinstance(inner, Mapping):
        inner = response if isinstance(response, Mapping) else {}
    error_type = str(inner.get("type") or "unknown_error")
    error_message = str(inner.get("message") or "")
    details: dict[str, Any] = {"error_type": error_type, "error_message": error_message}
    request_id = response.get("request_id") if isinstance(response, Mapping) else None
    if request_id:
        details["request_id"] = request_id
    if isinstance(inner.get("details"), Mapping):
        details["error_details"] = dict(inner["details"])
    return Outcome.fail(FailureKind.API_ERROR, f"{error_type}: {error_message}", details, custom_id=custom_id)


def _malformed(reason: str, line: Any, custom_id: str | None = None) -> Outcome[Any]:
    return Outcome.fail(
        FailureKind.MALFORMED_RESULT, reason, {"excerpt": _excerpt(line)}, custom_id=custom_id
    )


# ---- messages -----------------------------------------------------------------------------------


def _field(obj: Any, name: str) -> Any:
    """Read a field from a dict or an SDK model alike (attribute access; no model_dump)."""
    if isinstance(obj, (dict, Mapping)):  # dict first: the ABC check is slow on the hot path
        return obj.get(name)
    return getattr(obj, name, None)


_USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
#: Usage values are immutable and repeat a lot across a batch: interning them saves building one
#: per line (a measurable share of the cost of a clean line).
_USAGE_CACHE: dict[tuple[Any, ...], Usage] = {}


def _usage(raw: Any) -> Usage:
    """A `Usage` from a dict or an SDK usage object (missing or null counts are zero)."""
    if raw is None:
        return _NO_USAGE
    key: tuple[Any, ...]
    if isinstance(raw, dict):
        get = raw.get
        key = (
            get("input_tokens"),
            get("output_tokens"),
            get("cache_creation_input_tokens"),
            get("cache_read_input_tokens"),
        )
    elif isinstance(raw, Mapping):
        key = tuple(raw.get(f) for f in _USAGE_FIELDS)
    else:
        key = tuple(getattr(raw, f, None) for f in _USAGE_FIELDS)
    usage = _USAGE_CACHE.get(key)
    if usage is None:
        usage = Usage(*(int(v or 0) for v in key))
        if len(_USAGE_CACHE) > 4096:
            _USAGE_CACHE.clear()
        _USAGE_CACHE[key] = usage
    return usage


def _parse_message(spec: Spec[Any], message: Any, prefill: str | None) -> Outcome[Any]:
    get = message.get if isinstance(message, dict) else functools.partial(_field, message)
    content = get("content")
    usage = _usage(get("usage"))
    stop = get("stop_reason")
    stop = stop if isinstance(stop, str) else None
    if not isinstance(content, (list, tuple)):
        if isinstance(content, str):  # a hand-built message with plain string content
            return parse_text(spec, content, stop_reason=stop, prefill=prefill, usage=usage)
        return Outcome.fail(FailureKind.MALFORMED_RESULT, "the message has no content list", usage=usage)
    ours: list[Any] = []
    others: list[str] = []
    texts: list[str] = []
    for block in content:
        bget = block.get if isinstance(block, dict) else functools.partial(_field, block)
        kind = bget("type")
        if kind == "tool_use":
            name = bget("name")
            if name == spec.name:
                ours.append(block)
            else:
                others.append(str(name))
        elif kind == "text":
            text = bget("text")
            if isinstance(text, str):
                texts.append(text)
    if stop == "refusal":
        return _refusal("".join(texts), stop, usage, _field(get("stop_details"), "category"))
    if ours:
        if len(ours) == 1 and stop not in CUT_STOP_REASONS:
            fast = _fast_tool(spec, _field(ours[0], "input"), usage)
            if fast is not None:
                return fast
        cut = stop in CUT_STOP_REASONS and content[-1] is ours[-1]
        return _from_tools(spec, ours, stop, usage, cut)
    if others:
        return Outcome.fail(
            FailureKind.WRONG_TOOL,
            f"the model called {', '.join(others)!s} instead of {spec.name}",
            {"tool_name": others[0], "tool_names": others, "stop_reason": stop},
            usage=usage,
        )
    # Consecutive text blocks are one answer split at citation boundaries: joined as written.
    return parse_text(spec, "".join(texts), stop_reason=stop, prefill=prefill, usage=usage)


#: Pydantic models whose clean inputs need JSON-mode validation (enums, dates, tuples...): for
#: these, strict Python-mode validation of the parsed dict always fails first, so it is skipped.
_JSON_MODE_MODELS: set[type[Any]] = set()


def _fast_tool(spec: Spec[Any], raw: Any, usage: Usage) -> Outcome[Any] | None:
    """One clean tool input (of a message, not a line): validated strictly, or None for the
    general path (coercion, reshapes, error reporting)."""
    if spec.model is None or not isinstance(raw, dict):
        return None
    try:
        check_elision(raw)
    except JSONProblem:
        return None
    ok, value = _strict(spec, raw)
    return Outcome(ok=True, value=value, usage=usage) if ok else None


def _strict(spec: Spec[Any], raw: Any, dumped: bytes | None = None) -> tuple[bool, Any]:
    """`Spec.validate`'s strict step for Pydantic specs, specialised for speed.

    Strict Python-mode validation of a parsed dict accepts a subset of what strict JSON mode
    accepts, with the same values, and skips re-serialising; models that need JSON mode
    (enums, dates, tuples) are remembered and go straight to it. `(False, None)` when the value
    does not validate strictly (the caller then asks `spec.validate`, which also coerces).
    """
    model = spec.model
    if model is None or not isinstance(raw, dict):
        return False, None
    try:
        validator = model.__pydantic_validator__
        if model in _JSON_MODE_MODELS:
            instance = validator.validate_json(dumped or orjson.dumps(raw), strict=True)
        else:
            try:
                instance = validator.validate_python(raw, strict=True)
            except pydantic.ValidationError:
                instance = validator.validate_json(dumped or orjson.dumps(raw), strict=True)
                _JSON_MODE_MODELS.add(model)
    except (TypeError, ValueError):  # ValidationError and orjson errors are ValueErrors
        return False, None
    return True, (getattr(instance, spec.wrap) if spec.wrap else instance)


def _from_tools(
    spec: Spec[Any], blocks: list[Any], stop: str | None, usage: Usage, cut: bool
) -> Outcome[Any]:
    """Validate the input of every tool_use block named like our tool."""
    if cut:
        return Outcome.fail(
            FailureKind.TRUNCATED,
            f"the answer stopped ({stop}) while the {spec.name} tool input was being written",
            {"stop_reason": stop, "excerpt": _excerpt(_field(blocks[-1], "input"))},
            usage=usage,
        )
    fits: list[_Fit] = []
    misfits: list[_Fit] = []
    for block in blocks:
        raw = _field(block, "input")
        repairs: tuple[str, ...] = ()
        if isinstance(raw, (str, bytes)):  # some proxies pass the input as a JSON string
            try:
                raw, repairs = loads_json(raw), ("tool_input_json_string",)
            except JSONProblem as exc:
                misfits.append(_Fit.problem(exc, _excerpt(raw)))
                continue
        else:
            try:
                check_elision(raw)
            except JSONProblem as exc:
                misfits.append(_Fit.problem(exc, _excerpt(raw)))
                continue
        fit = _fit(spec, raw, repairs, excerpt=None)
        (fits if fit.ok else misfits).append(fit)
    return _decide(fits, misfits, stop, usage, what=f"{spec.name} tool input")


# ---- text ---------------------------------------------------------------------------------------


class _Fit:
    """A candidate's validation result, with the repairs that led to it."""

    __slots__ = ("errors", "excerpt", "ok", "region", "repairs", "value")

    def __init__(
        self,
        ok: bool,
        value: Any,
        repairs: tuple[str, ...],
        errors: tuple[FieldError, ...],
        excerpt: str | None,
    ) -> None:
        self.ok = ok
        self.value = value
        self.repairs = repairs
        self.errors = errors
        self.excerpt = excerpt
        self.region: tuple[int, int] | None = None

    @classmethod
    def problem(cls, exc: JSONProblem, excerpt: str | None) -> _Fit:
        from ._schema import FieldError

        return cls(False, None, (), (FieldError(exc.path, exc.message),), excerpt)


class _TextParse:
    """The selection rules of the module docstring, applied to one extraction."""

    def __init__(self, spec: Spec[Any], ex: Extraction, stop: str | None, usage: Usage) -> None:
        self.spec = spec
        self.ex = ex
        self.stop = stop
        self.usage = usage
        self.cut = stop in CUT_STOP_REASONS

    def outcome(self) -> Outcome[Any]:
        ex = self.ex
        if ex.cut_at is not None:
            return self.cut_off()
        fits, misfits = self.validate_all()
        if fits:
            said = _prose_elision(self.prose())
            if said:
                return self.fail(
                    FailureKind.INVALID,
                    f"the text says part of the data was left out ({said.group(0)!r})",
                    {"errors": [{"path": "$", "message": f"elision in prose: {said.group(0)!r}"}]},
                )
            return _decide(fits, misfits, self.stop, self.usage, what="text")
        integrity = [r for r in ex.rejected if r.reason in INTEGRITY_REASONS]
        if misfits or integrity:
            for r in integrity:
                misfits.append(
                    _Fit.problem(
                        JSONProblem(r.reason, r.message, r.start, r.path), self.excerpt(r.start, r.end)
                    )
                )
            return _decide([], misfits, self.stop, self.usage, what="text")
        if _REFUSAL.search(ex.text):
            return _refusal(ex.text, self.stop, self.usage)
        if self.cut:
            return self.fail(FailureKind.TRUNCATED, f"the answer stopped ({self.stop}) before any JSON value")
        detail = "" if not ex.rejected else f" ({ex.rejected[0].message})"
        return self.fail(FailureKind.NO_JSON, f"no JSON value found in the text{detail}")

    def prose(self) -> str:
        """The text outside every JSON region: where a model says what it left out."""
        ex = self.ex
        regions = sorted([(c.start, c.end) for c in ex.candidates] + [(r.start, r.end) for r in ex.rejected])
        pieces: list[str] = []
        pos = 0
        for start, end in regions:
            if start > pos:
                pieces.append(ex.text[pos:start])
            pos = max(pos, end)
        pieces.append(ex.text[pos:])
        return "\n".join(pieces)

    def cut_off(self) -> Outcome[Any]:
        assert self.ex.cut_at is not None
        at = self.ex.cut_at
        details = {"cut_at": at, "excerpt": self.ex.text[max(at, len(self.ex.text) - EXCERPT_CHARS) :]}
        if self.cut:
            return self.fail(
                FailureKind.TRUNCATED, f"the answer stopped ({self.stop}) inside a JSON value", details
            )
        kind = FailureKind.INVALID if self.ex.candidates else FailureKind.NO_JSON
        return self.fail(kind, f"a JSON value opened at offset {at} never closes", details)

    def validate_all(self) -> tuple[list[_Fit], list[_Fit]]:
        fits: list[_Fit] = []
        misfits: list[_Fit] = []
        seen: list[Any] = []
        cands = self.ex.candidates
        if len(cands) > 1:
            cands = sorted(cands, key=lambda c: len(c.repairs))
        for cand in cands:
            if any(same_json(cand.value, s) for s in seen):
                continue
            seen.append(cand.value)
            fit = _fit(self.spec, cand.value, cand.repairs, None, cand.dumped)
            if not fit.ok:  # an excerpt is only ever shown for a misfit
                fit.excerpt = self.excerpt(cand.start, cand.end)
            fit.region = (cand.start, cand.end)
            if fit.ok and self.cut and self.may_continue(cand):
                continue
            (fits if fit.ok else misfits).append(fit)
        if len(fits) > 1:
            fits = self.outside_scratch(fits)
            for fit in fits:  # competing values are shown in an `ambiguous` failure
                if fit.excerpt is None and fit.region is not None:
                    fit.excerpt = self.excerpt(*fit.region)
        return fits, misfits

    def outside_scratch(self, fits: list[_Fit]) -> list[_Fit]:
        """Drop values drafted inside `<thinking>`-style tags when the answer has others.

        A model that reasons in the text marks its drafts; a value outside those tags is the
        answer. If every value is inside them, none is dropped (they then compete as usual).
        """
        text = self.ex.text
        if "<" not in text:
            return fits
        scratch = [(m.start(), m.end()) for m in _SCRATCH.finditer(text)]
        if not scratch:
            return fits
        outside = [
            f
            for f in fits
            if f.region is None or not any(lo <= f.region[0] and f.region[1] <= hi for lo, hi in scratch)
        ]
        return outside or fits

    def may_continue(self, cand: Candidate) -> bool:
        """A number that ends a cut text may be the start of a longer one (`12` of `123`)."""
        value = cand.value
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        return number and not self.ex.text[cand.end :].strip()

    def excerpt(self, start: int, end: int) -> str:
        return _excerpt(self.ex.text[start : min(end, start + 2 * EXCERPT_CHARS)])

    def fail(self, kind: FailureKind, message: str, details: Mapping[str, Any] | None = None) -> Outcome[Any]:
        full = {"stop_reason": self.stop, "excerpt": _excerpt(self.ex.text), **(details or {})}
        return Outcome.fail(kind, message, full, usage=self.usage)


def _fit(
    spec: Spec[Any], value: Any, repairs: tuple[str, ...], excerpt: str | None, dumped: bytes | None = None
) -> _Fit:
    """Validate `value` as found; when it does not fit, try the lossless reshapes (exactly one)."""
    words = "unquoted_enum_value" in repairs
    if words:  # bare words stand only where their enum applies; `dumped` was never made for them
        settled, value = settle_words(value, spec.schema, BareWord)
        if not settled:
            return _Fit(False, None, repairs, (_stray_word_error(),), excerpt)
    ok, strict_value = _strict(spec, value, dumped)
    if ok:
        return _Fit(True, strict_value, repairs, (), excerpt)
    first = validate_answer(spec, value)
    if first.ok and not _emptied(value, first.coercions):
        return _Fit(True, first.value, _merge(repairs, first.coercions), (), excerpt)
    found: list[tuple[Validation, tuple[str, ...]]] = []
    for shaped, how in _reshapes(spec, value):
        if words:
            settled, shaped = settle_words(shaped, spec.schema, BareWord)
            if not settled:
                continue
        check = validate_answer(spec, shaped)
        if check.ok and not any(_same_value(check.value, f.value) for f, _ in found):
            found.append((check, how))
    if len(found) == 1:
        check, how = found[0]
        return _Fit(True, check.value, _merge(repairs, how, check.coercions), (), excerpt)
    if first.ok:  # no single reshape: the keys dropped were not a wrapper after all
        return _Fit(True, first.value, _merge(repairs, first.coercions), (), excerpt)
    return _Fit(False, None, repairs, first.errors, excerpt)


def validate_answer(spec: Spec[Any], value: Any) -> Validation:
    """`spec.validate`, and for JSON Schema specs a second try with the keys a closed object
    (`additionalProperties: false`) does not name dropped (`drop_extra:$.path`).

    Only for JSON Schema specs: the API requires `additionalProperties: false` for structured
    outputs, so users write it without meaning "reject". A Pydantic model says `extra="forbid"`
    only on purpose, and is held to it (its `spec.model` is set).
    """
    first = spec.validate(value)
    if first.ok or spec.model is not None:
        return first
    dropped, applied = coerce(value, spec.schema, drop_extra=True)
    if not any(a.startswith("drop_extra:") for a in applied):
        return first
    second = spec.validate(dropped)
    if not second.ok:
        return first
    return dataclasses.replace(second, coercions=tuple(_merge(applied, second.coercions)))


def _emptied(value: Any, coercions: Sequence[str]) -> bool:
    """Did validation fit an object only by dropping every one of its keys? Then it is more
    likely a wrapper (`{"contact": {...}}`), and a reshape is tried before that reading."""
    if not isinstance(value, dict) or not value:
        return False
    return all(f"drop_extra:$.{key}" in coercions for key in value)


def _stray_word_error() -> FieldError:
    from ._schema import FieldError

    return FieldError("$", "an unquoted word stands where no enum of the schema lists it")


def _reshapes(spec: Spec[Any], value: Any) -> list[tuple[Any, tuple[str, ...]]]:
    """The lossless ways a value may wrap (or be) ours, each with the repairs it stands for.

    A single-key object (`{"recipe": {...}}`), a tool call naming our tool written out as text,
    a one-element list; for a wrapped spec also the bare value (`[...]` for `{"items": [...]}`).
    An object that uses a key the schema's root names (a property, a required key) is taken as
    written, never reshaped: unwrapping it would drop that key, and wrapping it would hide why
    it is invalid (`{"toString": {"length": 37}}` stays invalid for a schema whose `toString`
    it violates). The one exception is a tool call naming our tool (`{"name": "contact",
    "input": {...}}`): its `name` is the envelope's, whatever the schema calls `name`.
    """
    facts = _facts(spec)
    if isinstance(value, dict) and facts.names_any(value):
        rest = {k: v for k, v in value.items() if k != "name"}
        if value.get("name") != spec.name or facts.names_any(rest):
            return []
    inner: list[tuple[Any, tuple[str, ...]]] = []
    if isinstance(value, dict):
        if len(value) == 1 and not facts.names_any(value):
            ((key, sub),) = value.items()
            # A whole object under one key is strong evidence; a bare scalar or list is only
            # ours when the key names it (`{"year": 1999}` is not a `count`).
            named = _norm(key) in {_norm(spec.name), _norm(spec.wrap or "")}
            if key != spec.wrap and (isinstance(sub, dict) or named):
                inner.append((sub, (f"unwrap:{key}",)))
        if value.get("name") == spec.name:
            for key in _TOOL_CALL_KEYS:
                if isinstance(value.get(key), dict) and set(value) <= {"name", "type", "id", key}:
                    inner.append((value[key], (f"unwrap_tool_call:{key}",)))
    elif isinstance(value, list) and len(value) == 1 and spec.wrap is None:
        inner.append((value[0], ("unwrap:list",)))
    wrap = spec.wrap
    if wrap is None:
        return inner
    out: list[tuple[Any, tuple[str, ...]]] = []
    if not (isinstance(value, dict) and facts.names_any(value)):
        out.append(({wrap: value}, (f"wrap:{wrap}",)))
    for sub, how in inner:
        if isinstance(sub, dict) and wrap in sub:
            out.append((sub, how))
        else:
            out.append(({wrap: sub}, (*how, f"wrap:{wrap}")))
    return out


class _SpecFacts:
    """What the text parser reads off a spec's schema once (kept per spec, see `_facts`)."""

    __slots__ = ("names", "patterns", "words")

    def __init__(self, spec: Spec[Any]) -> None:
        schema = spec.schema
        #: one-word enum members: the bare words the tolerant parser may read as strings
        self.words = frozenset(w for w in enum_words(schema) if _WORD.fullmatch(w))
        props = schema.get("properties")
        required = schema.get("required")
        names = set(props) if isinstance(props, dict) else set()
        if isinstance(required, list):
            names.update(k for k in required if isinstance(k, str))
        #: keys the root names: an object using one is never reshaped
        self.names = frozenset(names)
        patterns = schema.get("patternProperties")
        self.patterns = tuple(_pattern(p) for p in patterns) if isinstance(patterns, dict) else ()

    def names_any(self, value: Mapping[str, Any]) -> bool:
        if any(key in self.names for key in value):
            return True
        return any(p.search(key) for p in self.patterns for key in value)


def _pattern(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error:  # an ECMA-only pattern: any key may match it
        return re.compile("")


_WORD = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_FACTS: weakref.WeakKeyDictionary[Spec[Any], _SpecFacts] = weakref.WeakKeyDictionary()


def _facts(spec: Spec[Any]) -> _SpecFacts:
    facts = _FACTS.get(spec)
    if facts is None:
        facts = _FACTS[spec] = _SpecFacts(spec)
    return facts


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _decide(
    fits: list[_Fit], misfits: list[_Fit], stop: str | None, usage: Usage, *, what: str
) -> Outcome[Any]:
    """Exactly one distinct fitting value wins; several are `ambiguous`; none is `invalid`."""
    if len(fits) == 1:
        return _success(fits[0].value, usage, None, fits[0].repairs)
    distinct: list[_Fit] = []
    for fit in fits:
        if not any(_same_value(fit.value, d.value) for d in distinct):
            distinct.append(fit)
    if len(distinct) == 1:
        return _success(distinct[0].value, usage, None, distinct[0].repairs)
    if distinct:
        return Outcome.fail(
            FailureKind.AMBIGUOUS,
            f"{len(distinct)} different values in the {what} fit the schema; none is chosen",
            {"stop_reason": stop, "candidates": len(distinct), "excerpts": [d.excerpt for d in distinct[:5]]},
            usage=usage,
        )
    best = min(misfits, key=lambda f: len(f.errors)) if misfits else None
    errors = [{"path": e.path, "message": e.message} for e in (best.errors if best else ())][:MAX_ERRORS]
    first = f": {errors[0]['path']}: {errors[0]['message']}" if errors else ""
    details: dict[str, Any] = {"stop_reason": stop, "errors": errors}
    if best is not None and best.excerpt is not None:
        details["excerpt"] = best.excerpt
    return Outcome.fail(
        FailureKind.INVALID, f"the {what} does not fit the schema{first}", details, usage=usage
    )


def _refusal(text: str, stop: str | None, usage: Usage, category: Any = None) -> Outcome[Any]:
    details: dict[str, Any] = {"stop_reason": stop, "excerpt": _excerpt(text)}
    if category:
        details["category"] = str(category)
    reason = "stop_reason refusal" if stop == "refusal" else "the answer declines in prose"
    return Outcome.fail(FailureKind.REFUSAL, f"the model refused ({reason})", details, usage=usage)


# ---- helpers ------------------------------------------------------------------------------------


def _same_value(a: Any, b: Any) -> bool:
    """Validated values compare with `==` (models); JSON values by `same_json` (`1` is not `true`)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (dict, list)):
        return same_json(a, b)
    return bool(a == b)


def _internal(exc: Exception, doing: str, source: Any, usage: Usage | None = None) -> Outcome[Any]:
    """A bug in structbatch (or in a user's validator) met while parsing -> an `internal` failure.

    Never `no_json`/`malformed_result`: those blame the model, and a re-ask would pay for an
    answer that may well be right. The traceback goes to the `structbatch` logger.
    """
    log.error("structbatch bug while %s", doing, exc_info=exc)
    details: dict[str, Any] = {"error_type": type(exc).__name__}
    try:
        details["excerpt"] = _excerpt(source)
    except Exception as inner:  # the excerpt is a courtesy: a second bug must not hide the first
        details["excerpt_error"] = repr(inner)
    return Outcome.fail(
        FailureKind.INTERNAL, f"structbatch failed while {doing}: {exc!r}", details, usage=usage or _NO_USAGE
    )


def _merge(*groups: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r for g in groups for r in g))


def _excerpt(obj: Any) -> str:
    """At most EXCERPT_CHARS characters of the offending text (or JSON of an object)."""
    if obj is None:
        return ""
    if isinstance(obj, (bytes, bytearray, memoryview)):
        text = bytes(obj[: EXCERPT_CHARS * 4]).decode("utf-8", "replace")
    elif isinstance(obj, str):
        text = obj.lstrip()[: EXCERPT_CHARS * 2]
    else:
        try:
            text = orjson.dumps(obj, default=str).decode()
        except (TypeError, ValueError):  # orjson.JSONEncodeError: too deep, a huge int
            text = repr(obj)
    text = text.strip()
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"
