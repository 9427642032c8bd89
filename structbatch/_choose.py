"""Candidates -> exactly one `Outcome`: the selection rules for tool inputs and text answers.

For the text blocks of an answer (`TextParse`, over what `extract` found):

- JSON-looking text that opens and never closes at the end (`cut_at`) blocks every candidate:
  `truncated` when the stop reason says the answer was cut, else `invalid` (if other JSON was
  found) or `no_json`. A complete value followed by a cut one is never chosen.
- Each candidate is validated (`fit_value.fit_value`: strict, lossless coercion, lossless reshapes).
- Exactly one distinct fitting value -> success (the same value in a fence and a span counts
  once) - unless the prose around it says data was left out ("remaining items omitted for
  brevity", or a bare `[...]` outside a draft) -> `invalid`. Under a cut stop reason, a number
  that ends the text is not trusted (`12` may be the start of `123`). Values drafted inside
  `<thinking>`-style tags yield to a value outside them. A cut answer that ends inside a `<thinking>`-style section it never
  closed is `truncated`: the model was still reasoning, so no value in it is its answer.
- Several different fitting values -> `ambiguous`.
- JSON found but nothing fits, or JSON that stands for data we do not have (an elision,
  NaN/Infinity, a duplicate key with different values) -> `invalid`, with the errors of the
  best candidate.
- No JSON, and the prose declines ("I can't help with that") -> `refusal`.
- No JSON and the answer was cut -> `truncated`; else `no_json`.

Tool inputs (`from_tools`) follow the same `decide`: one distinct valid input wins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from ._extract import Candidate, Extraction
from ._fit import Fit, fit_value, same_value
from ._jsonload import check_elision, loads_json
from ._lenient import ELISION, INTEGRITY_REASONS, JSONProblem, same_json
from ._outcome import FailureKind, Outcome, Usage
from ._prose import prose_elision as prose_elision  # also for _parse's fast text path
from ._schema import Spec

#: stop reasons that mean the answer was cut before the model finished (reference/anthropic-api.md §6)
CUT_STOP_REASONS = frozenset({"max_tokens", "model_context_window_exceeded"})
EXCERPT_CHARS = 200
MAX_ERRORS = 20

_REFUSAL = re.compile(
    r"\bI(?:\s+am|['’]m)\s+(?:sorry|afraid|not\s+(?:able|comfortable|going)|unable)\b"
    r"|\bI\s+(?:can(?:not|\s+not|['’]t)|won['’]t|will\s+not|must\s+decline|(?:have\s+to|need\s+to)\s+decline"
    r"|apologi[sz]e|do\s+not\s+feel\s+comfortable|don['’]t\s+feel\s+comfortable)\b"
    r"|\b(?:unable|not\s+able)\s+to\s+(?:help|assist|comply|provide|fulfil)"
    r"|\bagainst\s+my\s+(?:guidelines|principles|policies)",
    re.I,
)
#: a JSON region that is nothing but an elision marker: `[...]`, `{…}`, `[ ... ]`
_BARE_ELISION = re.compile(r"[\[{]\s*(?:\.{3,}|…+)\s*[\]}]")

#: tags in which a model drafts and reasons before its answer
_SCRATCH = re.compile(r"<(thinking|scratchpad|reasoning|analysis|draft)\b[^>]*>.*?</\1\s*>", re.S | re.I)
_SCRATCH_OPEN = re.compile(r"<(thinking|scratchpad|reasoning|analysis|draft)\b[^>]*>", re.I)


def from_tools(spec: Spec[Any], inputs: list[Any], stop: str | None, usage: Usage, cut: bool) -> Outcome[Any]:
    """Validate the `input` of every tool_use block named like our tool (in `inputs`, in order)."""
    if cut:
        return Outcome.fail(
            FailureKind.TRUNCATED,
            f"the answer stopped ({stop}) while the {spec.name} tool input was being written",
            {"stop_reason": stop, "excerpt": excerpt_of(inputs[-1])},
            usage=usage,
        )
    fits: list[Fit] = []
    misfits: list[Fit] = []
    for raw in inputs:
        repairs: tuple[str, ...] = ()
        if isinstance(raw, (str, bytes)):  # some proxies pass the input as a JSON string
            try:
                raw, repairs = loads_json(raw), ("tool_input_json_string",)
            except JSONProblem as exc:
                misfits.append(Fit.problem(exc, excerpt_of(raw)))
                continue
        else:
            try:
                check_elision(raw)
            except JSONProblem as exc:
                misfits.append(Fit.problem(exc, excerpt_of(raw)))
                continue
        fit = fit_value(spec, raw, repairs, excerpt=None)
        (fits if fit.ok else misfits).append(fit)
    return decide(fits, misfits, stop, usage, what=f"{spec.name} tool input")


class TextParse:
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
        if self.cut and (at := self.open_scratch()) is not None:
            return self.fail(
                FailureKind.TRUNCATED,
                f"the answer stopped ({self.stop}) inside a reasoning section it never closed",
                {"scratch_at": at},
            )
        fits, misfits = self.validate_all()
        if fits:
            said = prose_elision(self.prose()) or self.elided_beside()
            if said:
                return self.fail(
                    FailureKind.INVALID,
                    f"the text says part of the data was left out ({said!r})",
                    {"errors": [{"path": "$", "message": f"elision in prose: {said!r}"}]},
                )
            return decide(fits, misfits, self.stop, self.usage, what="text")
        integrity = [r for r in ex.rejected if r.reason in INTEGRITY_REASONS]
        if misfits or integrity:
            for r in integrity:
                misfits.append(
                    Fit.problem(
                        JSONProblem(r.reason, r.message, r.start, r.path), self.excerpt(r.start, r.end)
                    )
                )
            return decide([], misfits, self.stop, self.usage, what="text")
        if _REFUSAL.search(ex.text):
            return refusal(ex.text, self.stop, self.usage)
        if self.cut:
            return self.fail(FailureKind.TRUNCATED, f"the answer stopped ({self.stop}) before any JSON value")
        detail = "" if not ex.rejected else f" ({ex.rejected[0].message})"
        return self.fail(FailureKind.NO_JSON, f"no JSON value found in the text{detail}")

    def elided_beside(self) -> str | None:
        """A bare elision marker beside the answer (`[...]` after the list), outside any
        `<thinking>`-style draft: the answer says more data exists than it gives. A template with
        placeholders (`{"name": "..."}`) is not one: it shows a form, not more data."""
        text = self.ex.text
        scratch = [(m.start(), m.end()) for m in _SCRATCH.finditer(text)] if "<" in text else []
        for r in self.ex.rejected:
            if r.reason != ELISION or any(lo <= r.start and r.end <= hi for lo, hi in scratch):
                continue
            if _BARE_ELISION.fullmatch(text, r.start, r.end):
                return text[r.start : r.end]
        return None

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

    def validate_all(self) -> tuple[list[Fit], list[Fit]]:
        fits: list[Fit] = []
        misfits: list[Fit] = []
        seen: list[Any] = []
        cands = self.ex.candidates
        if len(cands) > 1:
            cands = sorted(cands, key=lambda c: len(c.repairs))
        for cand in cands:
            if any(same_json(cand.value, s) for s in seen):
                continue
            seen.append(cand.value)
            fit = fit_value(self.spec, cand.value, cand.repairs, None, cand.dumped)
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

    def outside_scratch(self, fits: list[Fit]) -> list[Fit]:
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

    def open_scratch(self) -> int | None:
        """Where a `<thinking>`-style section opens that the text never closes, if one does.

        Tags inside a JSON value (a string that mentions `<thinking>`) are data, not sections.
        """
        text = self.ex.text
        if "<" not in text:
            return None
        regions = [(c.start, c.end) for c in self.ex.candidates] + [
            (r.start, r.end) for r in self.ex.rejected
        ]
        pos = 0
        for m in _SCRATCH_OPEN.finditer(text):
            if m.start() < pos or any(lo <= m.start() < hi for lo, hi in regions):
                continue
            close = re.compile(rf"</{m.group(1)}\s*>", re.I).search(text, m.end())
            if close is None:
                return m.start()
            pos = close.end()
        return None

    def may_continue(self, cand: Candidate) -> bool:
        """A number that ends a cut text may be the start of a longer one (`12` of `123`)."""
        value = cand.value
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        return number and not self.ex.text[cand.end :].strip()

    def excerpt(self, start: int, end: int) -> str:
        return excerpt_of(self.ex.text[start : min(end, start + 2 * EXCERPT_CHARS)])

    def fail(self, kind: FailureKind, message: str, details: Mapping[str, Any] | None = None) -> Outcome[Any]:
        full = {"stop_reason": self.stop, "excerpt": excerpt_of(self.ex.text), **(details or {})}
        return Outcome.fail(kind, message, full, usage=self.usage)


def decide(fits: list[Fit], misfits: list[Fit], stop: str | None, usage: Usage, *, what: str) -> Outcome[Any]:
    """Exactly one distinct fitting value wins; several are `ambiguous`; none is `invalid`."""
    if len(fits) == 1:
        return Outcome(ok=True, value=fits[0].value, usage=usage, repairs=fits[0].repairs)
    distinct: list[Fit] = []
    for fit in fits:
        if not any(same_value(fit.value, d.value) for d in distinct):
            distinct.append(fit)
    if len(distinct) == 1:
        return Outcome(ok=True, value=distinct[0].value, usage=usage, repairs=distinct[0].repairs)
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


def refusal(text: str, stop: str | None, usage: Usage, category: Any = None) -> Outcome[Any]:
    details: dict[str, Any] = {"stop_reason": stop, "excerpt": excerpt_of(text)}
    if category:
        details["category"] = str(category)
    reason = "stop_reason refusal" if stop == "refusal" else "the answer declines in prose"
    return Outcome.fail(FailureKind.REFUSAL, f"the model refused ({reason})", details, usage=usage)


def excerpt_of(obj: Any) -> str:
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
