"""Message / batch result line / raw text -> exactly one `Outcome`, never a lie and never a raise.

The rules, in the order they are applied to one answer:

1. `stop_reason == "refusal"` -> `refusal` (whatever was emitted before the stop is partial).
2. `tool_use` blocks named exactly `spec.name` are the answer. If the answer was cut
   (`max_tokens` or `model_context_window_exceeded`) while our tool_use was the last block, its
   input may be a partial parse -> `truncated`. One distinct valid input -> success; several ->
   `ambiguous`; none valid -> `invalid`. An `input` given as a JSON string (some proxies) is
   decoded strictly (recorded as `tool_input_json_string`).
3. Only tool_use blocks with other names -> `wrong_tool` (server tool blocks are not tool_use).
4. Otherwise the text blocks, joined as written (thinking blocks skipped), go to `parse_text`,
   which finds the JSON candidates (`_extract`) and applies the selection rules (`_choose`).

Each candidate value, tool input or text, is fitted to the spec by `_fit` (strict, lossless
coercion, lossless reshapes).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Annotated, Any, Literal, NotRequired

import pydantic
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from ._choose import CUT_STOP_REASONS, TextParse, excerpt_of, from_tools, prose_elision, refusal
from ._extract import extract, glue_prefill, lone_value
from ._fit import spec_facts, validate_strict
from ._fit import validate_answer as validate_answer  # re-exported for structbatch.testing
from ._jsonload import check_elision, loads_document
from ._lenient import JSONProblem
from ._outcome import FailureKind, Outcome, T, Usage
from ._outcome import fast_success as _success
from ._schema import Spec

#: the usage of an answer that reports none (outcomes share it: `Usage` is frozen)
_NO_USAGE = Usage()
log = logging.getLogger("structbatch")


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
    except Exception as exc:  # our bug, not the model's: never a re-ask (see `_internal`)
        return _internal(exc, "reading a result line", line)
    return parse_result_line_general(spec, line, prefill=prefill)


def parse_result_line_general(
    spec: Spec[Any], line: bytes | str | Mapping[str, Any], *, prefill: str | None = None
) -> Outcome[Any]:
    """`parse_result_line` without the clean-line reader, for a line it has declined
    (`Spec.parse` tries it first): the general path only. Never raises."""
    try:
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
            return refusal(text, stop_reason, usage)
        if spec.model is not None and not spec.wrap and stop_reason not in CUT_STOP_REASONS:
            fast = _fast_text(spec, glue_prefill(text, prefill), usage)
            if fast is not None:
                return fast
        # A bare scalar can only be the value of a wrapped spec; an object spec would discard it.
        found = extract(
            text,
            prefill,
            scalars=spec.wrap is not None,
            words=spec_facts(spec).words,
            close_final=stop_reason == "end_turn",
        )
        return TextParse(spec, found, stop_reason, usage).outcome()
    except Exception as exc:  # our bug, not the model's: never a re-ask (see `_internal`)
        return _internal(exc, "parsing the text", text, usage)


def _fast_text(spec: Spec[Any], text: str, usage: Usage) -> Outcome[Any] | None:
    """The usual text answer (one JSON value between a preamble and a postamble, valid as
    written) -> its Outcome without the full search, or None for the general path.

    Takes exactly the decisions `TextParse` would for the lone candidate of such a text (it
    validates strictly, and the prose around it does not say data was left out); anything
    else is left to it. Only for uncut answers of unwrapped Pydantic specs.
    """
    found = lone_value(text)
    if found is None:
        return None
    value, dumped, lo, hi = found
    ok, value = validate_strict(spec, value, dumped)
    if not ok:
        return None
    prose = f"{text[:lo]}\n{text[hi:]}" if lo > 0 else text[hi:]  # as `TextParse.prose` joins it
    if prose_elision(prose):
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


def fast_result_line(spec: Spec[T], line: bytes | str | bytearray | memoryview) -> Outcome[T] | None:
    """One clean tool_use result line -> its Outcome, or None to take the general path.

    The hot path of collecting results: `_fastline.LineReader` reads the line (one tool_use
    block named like the spec's tool, a clean stop reason, an input valid as written, no
    elision placeholder or non-finite number); whatever it does not take is left to
    `parse_result_line`, which decides what the line is and explains what is wrong. Never raises.
    """
    reader = spec._line_validator
    return None if reader is None else reader.outcome(line)


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
        FailureKind.MALFORMED_RESULT, reason, {"excerpt": excerpt_of(line)}, custom_id=custom_id
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
        return refusal("".join(texts), stop, usage, _field(get("stop_details"), "category"))
    if ours:
        if len(ours) == 1 and stop not in CUT_STOP_REASONS:
            fast = _fast_tool(spec, _field(ours[0], "input"), usage)
            if fast is not None:
                return fast
        cut = stop in CUT_STOP_REASONS and content[-1] is ours[-1]
        return from_tools(spec, [_field(b, "input") for b in ours], stop, usage, cut)
    if others:
        return Outcome.fail(
            FailureKind.WRONG_TOOL,
            f"the model called {', '.join(others)!s} instead of {spec.name}",
            {"tool_name": others[0], "tool_names": others, "stop_reason": stop},
            usage=usage,
        )
    # Consecutive text blocks are one answer split at citation boundaries: joined as written.
    return parse_text(spec, "".join(texts), stop_reason=stop, prefill=prefill, usage=usage)


def _fast_tool(spec: Spec[Any], raw: Any, usage: Usage) -> Outcome[Any] | None:
    """One clean tool input (of a message, not a line): validated strictly, or None for the
    general path (coercion, reshapes, error reporting)."""
    if spec.model is None or not isinstance(raw, dict):
        return None
    try:
        check_elision(raw)
    except JSONProblem:
        return None
    ok, value = validate_strict(spec, raw)
    return Outcome(ok=True, value=value, usage=usage) if ok else None


def _internal(exc: Exception, doing: str, source: Any, usage: Usage | None = None) -> Outcome[Any]:
    """A bug in structbatch (or in a user's validator) met while parsing -> an `internal` failure.

    Never `no_json`/`malformed_result`: those blame the model, and a re-ask would pay for an
    answer that may well be right. The traceback goes to the `structbatch` logger.
    """
    log.error("structbatch bug while %s", doing, exc_info=exc)
    details: dict[str, Any] = {"error_type": type(exc).__name__}
    try:
        details["excerpt"] = excerpt_of(source)
    except Exception as inner:  # the excerpt is a courtesy: a second bug must not hide the first
        details["excerpt_error"] = repr(inner)
    return Outcome.fail(
        FailureKind.INTERNAL, f"structbatch failed while {doing}: {exc!r}", details, usage=usage or _NO_USAGE
    )
