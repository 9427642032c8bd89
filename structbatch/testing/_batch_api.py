"""The Message Batches API's own shapes: request lists for `batches.create`, result lines back.

These wrap the answer strategies in what the batch API really carries: unique custom_ids, the
real double-nested `errored` shape, `expired`/`canceled` lines, and request bodies within the
API's size limit, so a pipeline can be tested end to end against the emulator or a fake client.
"""

from __future__ import annotations

import json
import string
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from hypothesis import assume
from hypothesis import strategies as st

from .._batching import CUSTOM_ID_PATTERN
from .._modes import Mode
from .._outcome import FailureKind
from .._schema import Spec
from ._broken_outputs import broken_outputs
from ._model_outputs import model_outputs
from ._oracle import as_spec
from ._rendering import STYLES

# ---- batch result lines -------------------------------------------------------------------------


class ResultLine(NamedTuple):
    """One line of a batch's results (a dict; `json.dumps` it for JSONL), the expected `Outcome.kind`
    (None for success) and the expected value (None unless success)."""

    line: dict[str, Any]
    kind: FailureKind | None
    value: Any


#: the API error types an `errored` result may carry (reference/anthropic-api.md, errors)
ERROR_TYPES: tuple[str, ...] = (
    "invalid_request_error",
    "authentication_error",
    "billing_error",
    "permission_error",
    "not_found_error",
    "request_too_large",
    "rate_limit_error",
    "api_error",
    "timeout_error",
    "overloaded_error",
)
RESULT_TYPES: tuple[str, ...] = ("succeeded", "errored", "expired", "canceled")
CUSTOM_IDS = st.from_regex(CUSTOM_ID_PATTERN, fullmatch=True)
_REQUEST_ID_TAILS = st.text(string.ascii_letters + string.digits, min_size=24, max_size=24)


@st.composite
def _result_line(draw: st.DrawFn, spec: Spec[Any], types: Sequence[str], broken: bool) -> ResultLine:
    custom_id = draw(CUSTOM_IDS)
    kind = draw(st.sampled_from(list(types)))
    if kind == "succeeded":
        if broken and draw(st.booleans()):
            # a result line carries no prefill: prefilled answers are parsed with `prefill=`, not here
            sent, failure = draw(broken_outputs(spec).filter(lambda b: b.sent.prefill is None))
            value = None
        else:
            styles = [s for s in STYLES if s != "prefill"]
            sent, value = draw(model_outputs(spec, styles=styles))
            failure = None
        line = {"custom_id": custom_id, "result": {"type": "succeeded", "message": sent.message}}
        return ResultLine(line, failure, value)
    if kind == "errored":
        error: dict[str, Any] = {
            "type": draw(st.sampled_from(ERROR_TYPES)),
            "message": draw(st.text(max_size=60)),
        }
        if draw(st.booleans()):
            error["details"] = {"error_code": "enforced_spend_limit_reached"}
        response = {"type": "error", "error": error, "request_id": "req_011" + draw(_REQUEST_ID_TAILS)}
        line = {"custom_id": custom_id, "result": {"type": "errored", "error": response}}
        return ResultLine(line, FailureKind.API_ERROR, None)
    if kind in ("expired", "canceled"):
        line = {"custom_id": custom_id, "result": {"type": kind}}
        return ResultLine(line, FailureKind(kind), None)
    raise ValueError(f"unknown result type {kind!r}")


def result_lines(
    spec_or_model: Any, *, types: Collection[str] = RESULT_TYPES, broken: bool = True
) -> st.SearchStrategy[ResultLine]:
    """`ResultLine(line, kind, value)`: one line of a batch's results and what parsing it must give.

    `line` is the parsed JSONL object `{"custom_id": ..., "result": {...}}`; `types` (default all
    of `RESULT_TYPES`):

    - `succeeded`: `{"type": "succeeded", "message": {...}}` with a good answer (`kind` None,
      `value` its value) or, with `broken=True`, a broken one (`kind` from `broken_outputs`);
    - `errored`: the real double-nested shape `{"type": "errored", "error": {"type": "error",
      "error": {"type": "overloaded_error", "message": ...}, "request_id": "req_..."}}` -> `api_error`;
    - `expired` -> `expired`; `canceled` -> `canceled`.

    Example::

        @given(result_lines(Recipe))
        def test_lines(rl):
            outcome = spec.parse(json.dumps(rl.line))
            assert outcome.kind == rl.kind and outcome.custom_id == rl.line["custom_id"]
    """
    spec = as_spec(spec_or_model)
    unknown = set(types) - set(RESULT_TYPES)
    if unknown or not types:
        raise ValueError(f"types must be a non-empty subset of {RESULT_TYPES}")
    return _result_line(spec, tuple(types), broken)


# ---- batch requests -----------------------------------------------------------------------------

_PROMPTS = st.text(min_size=1, max_size=200).filter(lambda s: s.strip() != "")


def _body_size(requests: Sequence[Mapping[str, Any]]) -> int:
    return len(json.dumps({"requests": list(requests)}, separators=(",", ":"), ensure_ascii=False).encode())


@st.composite
def _batch(
    draw: st.DrawFn,
    spec: Spec[Any],
    model: str,
    modes: Sequence[Mode],
    prompts: st.SearchStrategy[str],
    min_size: int,
    max_size: int,
    max_bytes: int | None,
) -> list[dict[str, Any]]:
    ids = draw(st.lists(CUSTOM_IDS, min_size=min_size, max_size=max_size, unique=True))
    out: list[dict[str, Any]] = []
    for custom_id in ids:
        params = spec.params(
            draw(prompts),
            model=model,
            max_tokens=draw(st.integers(1, 8192)),
            mode=draw(st.sampled_from(list(modes))),
        )
        out.append({"custom_id": custom_id, "params": params})
    if max_bytes is not None:
        while out and _body_size(out) > max_bytes:
            out.pop()
        assume(len(out) >= min_size)
    return out


def batch_requests(
    spec_or_model: Any,
    *,
    model: str = "claude-haiku-4-5",
    modes: Iterable[Mode | str] | None = None,
    prompts: st.SearchStrategy[str] = _PROMPTS,
    min_size: int = 1,
    max_size: int = 20,
    max_bytes: int | None = None,
) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Request lists for `client.messages.batches.create(requests=...)`.

    Each request is `{"custom_id": ..., "params": spec.params(prompt, model=model, max_tokens=...,
    mode=...)}`; custom_ids match `^[a-zA-Z0-9_-]{1,64}$` and are unique within the list; modes
    are drawn from `modes` (default: every mode `model` allows for this spec). With `max_bytes`,
    the JSON body `{"requests": [...]}` (compact, UTF-8) is at most that many bytes.

    Example::

        @given(batch_requests(Recipe, max_size=5, max_bytes=64_000))
        def test_submit(requests):
            batch = client.messages.batches.create(requests=requests)
            assert batch.request_counts.processing == len(requests)
    """
    from .._errors import ModeError

    spec = as_spec(spec_or_model)
    allowed: list[Mode] = []
    for mode in [Mode(m) for m in modes] if modes is not None else list(Mode):
        try:
            spec.params("x", model=model, max_tokens=16, mode=mode)
        except ModeError:
            if modes is not None:
                raise
            continue
        allowed.append(mode)
    if min_size < 1 or max_size < min_size:
        raise ValueError("need 1 <= min_size <= max_size")
    return _batch(spec, model, tuple(allowed), prompts, min_size, max_size, max_bytes)
