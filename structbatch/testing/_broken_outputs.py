"""Broken answers: `broken_outputs`, every answer a parser must reject, and the kind it must get.

Each is made from a good answer and damaged in one known way (cut short, refused, elided, made
invalid beyond any lossless repair, doubled, sent to another tool, or left without JSON), so the
expected `FailureKind` is known by construction, never by asking the parser.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import Any, NamedTuple

from hypothesis import assume
from hypothesis import strategies as st

from .._outcome import FailureKind
from .._parse import validate_answer
from .._schema import TOOL_NAME_PATTERN, Spec
from ._messages import Sent, api_message, text_block, tool_use_block
from ._oracle import as_spec, valid
from ._rendering import PREAMBLES, TEXT_STYLES, answer_inputs, has_elision_like, noun_for, render


class BrokenOutput(NamedTuple):
    """An answer that must be rejected, and the `FailureKind` it must get."""

    sent: Sent
    kind: FailureKind


#: the failure kinds `broken_outputs` produces
BROKEN_KINDS: tuple[FailureKind, ...] = (
    FailureKind.TRUNCATED,
    FailureKind.REFUSAL,
    FailureKind.INVALID,
    FailureKind.AMBIGUOUS,
    FailureKind.WRONG_TOOL,
    FailureKind.NO_JSON,
)
_REFUSALS = (
    "I'm sorry, but I can't help with that.",
    "I can't help with extracting information from this document.",
    "I cannot assist with this request.",
    "I’m not able to provide that information.",
    "I won't extract personal data from this text.",
    "Unfortunately, I'm unable to help with this request.",
    "I apologize, but I must decline this request.",
    "I'm afraid I can't do that.",
    "Sorry, I'm not comfortable providing that.",
)
_NO_JSON = (
    "",
    "The provided text does not contain a {noun}.",
    "There is no {noun} in this document; it is a table of contents.",
    "The text mentions 3 eggs and 200 g of flour, but not what to make with them.",
    "Could you share the full text? Only the title came through.",
    "This looks like a shipping label, not a {noun}.",
    "Nothing to extract here: the page is blank apart from a page number (12).",
)
_ELISIONS = ("...", "…", '"..."', "/* ... */", "// rest omitted\n", "// and 12 more items\n", "etc")


@st.composite
def _truncated(draw: st.DrawFn, spec: Spec[Any], inputs: st.SearchStrategy[Any]) -> BrokenOutput:
    tool_input = draw(inputs)
    stop = draw(st.sampled_from(("max_tokens", "max_tokens", "model_context_window_exceeded")))
    if draw(st.integers(0, 4)) == 0:
        # a tool_use block cut at max_tokens: its input is whatever had arrived (maybe all of it)
        keys = list(tool_input)
        partial = {k: tool_input[k] for k in keys[: draw(st.integers(0, len(keys)))]}
        content = [tool_use_block(spec.name, partial)]
        return BrokenOutput(
            Sent(api_message(content, stop), None, "truncated:tool_use"), FailureKind.TRUNCATED
        )
    style = draw(st.sampled_from(TEXT_STYLES))
    r = draw(render(spec, tool_input, style))
    cut = draw(st.integers(0, r.end - 1))
    sent = Sent(api_message([text_block(r.text[:cut])], stop), r.prefill, f"truncated@{cut}:{r.style}")
    return BrokenOutput(sent, FailureKind.TRUNCATED)


@st.composite
def _refusal(draw: st.DrawFn, spec: Spec[Any], inputs: st.SearchStrategy[Any]) -> BrokenOutput:
    prose = draw(st.sampled_from(_REFUSALS))
    if draw(st.booleans()):
        # stop_reason refusal: whatever came before the stop does not count, even a whole value
        text = prose
        if draw(st.booleans()):
            r = draw(render(spec, draw(inputs), draw(st.sampled_from(TEXT_STYLES))))
            text = r.text[: draw(st.integers(0, len(r.text)))]
        content = [text_block(text)] if text or draw(st.booleans()) else []
        message = api_message(content, "refusal")
        message["stop_details"] = {"type": "refusal", "category": "cyber", "explanation": None}
        return BrokenOutput(Sent(message, None, "refusal:stop_reason"), FailureKind.REFUSAL)
    return BrokenOutput(
        Sent(api_message([text_block(prose)], "end_turn"), None, "refusal:prose"), FailureKind.REFUSAL
    )


def _arrays_in(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    if isinstance(value, list):
        out.append(path)
        for i, v in enumerate(value):
            out += _arrays_in(v, (*path, i))
    elif isinstance(value, dict):
        for k, v in value.items():
            out += _arrays_in(v, (*path, k))
    return out


_MARK = "\u0000ELISION\u0000"


@st.composite
def _elided(draw: st.DrawFn, spec: Spec[Any], inputs: st.SearchStrategy[Any]) -> BrokenOutput:
    """The value with an elision marker standing for items the model left out."""
    tool_input = draw(inputs)
    arrays = _arrays_in(tool_input)
    marker = draw(st.sampled_from(_ELISIONS))
    doc: Any = json.loads(json.dumps(tool_input))
    if arrays:
        path = draw(st.sampled_from(arrays))
        node = doc
        for step in path:
            node = node[step]
        node.insert(draw(st.integers(0, len(node))), _MARK)
        if marker.startswith("//"):
            # a line comment runs to the end of its line: indented JSON, the comment on its own line
            text = json.dumps(doc, indent=2, ensure_ascii=False)
            text = re.sub(re.escape(json.dumps(_MARK)) + ",?", marker.strip(), text)
        else:
            text = json.dumps(doc, indent=2 if draw(st.booleans()) else None, ensure_ascii=False)
            text = text.replace(json.dumps(_MARK), marker)
    else:
        assume(bool(doc))
        body = json.dumps(doc, ensure_ascii=False)
        text = body[:-1] + ", " + ("..." if marker.startswith(("/", '"')) else marker) + "}"
    wrapper = draw(st.sampled_from(("", "prose", "fence", "tag")))
    noun = noun_for(spec)
    if wrapper == "prose":
        text = f"{draw(st.sampled_from(PREAMBLES)).format(noun=noun)}\n\n{text}"
    elif wrapper == "fence":
        text = f"```json\n{text}\n```"
    elif wrapper == "tag":
        text = f"<json>\n{text}\n</json>"
    return BrokenOutput(
        Sent(api_message([text_block(text)], "end_turn"), None, f"elision:{marker!r}"), FailureKind.INVALID
    )


def _distinct_pairs(inputs: st.SearchStrategy[Any], spec: Spec[Any]) -> st.SearchStrategy[tuple[Any, Any]]:
    return st.tuples(inputs, inputs).filter(lambda p: valid(spec, p[0])[1] != valid(spec, p[1])[1])


@st.composite
def _ambiguous(draw: st.DrawFn, spec: Spec[Any], inputs: st.SearchStrategy[Any]) -> BrokenOutput:
    a, b = draw(_distinct_pairs(inputs, spec))
    if draw(st.integers(0, 3)) == 0:
        content = [tool_use_block(spec.name, a, 1), tool_use_block(spec.name, b, 2)]
        return BrokenOutput(
            Sent(api_message(content, "tool_use"), None, "ambiguous:tool_use"), FailureKind.AMBIGUOUS
        )
    noun = noun_for(spec)
    form = draw(st.sampled_from(("options", "fences", "tags")))
    ja, jb = json.dumps(a, ensure_ascii=False), json.dumps(b, indent=2, ensure_ascii=False)
    if form == "options":
        text = f"The text is unclear, so here are two readings.\n\nOption 1:\n{ja}\n\nOption 2:\n{jb}"
    elif form == "fences":
        text = f"First attempt:\n```json\n{ja}\n```\nCorrected {noun}:\n```json\n{jb}\n```"
    else:
        text = f"<json>{ja}</json>\n<json>{jb}</json>"
    return BrokenOutput(
        Sent(api_message([text_block(text)], "end_turn"), None, f"ambiguous:{form}"), FailureKind.AMBIGUOUS
    )


_TOOL_NAMES = st.from_regex(TOOL_NAME_PATTERN, fullmatch=True)


@st.composite
def _wrong_tool(draw: st.DrawFn, spec: Spec[Any], inputs: st.SearchStrategy[Any]) -> BrokenOutput:
    name = draw(_TOOL_NAMES.filter(lambda n: n != spec.name))
    content = [tool_use_block(name, draw(inputs))]
    if draw(st.booleans()):
        content.insert(0, text_block("Let me look that up first."))
    return BrokenOutput(
        Sent(api_message(content, "tool_use"), None, f"wrong_tool:{name}"), FailureKind.WRONG_TOOL
    )


@st.composite
def _no_json(draw: st.DrawFn, spec: Spec[Any]) -> BrokenOutput:
    text = draw(st.sampled_from(_NO_JSON)).format(noun=noun_for(spec))
    content = [text_block(text)] if text or draw(st.booleans()) else []
    return BrokenOutput(Sent(api_message(content, "end_turn"), None, "no_json"), FailureKind.NO_JSON)


def _unfit(spec: Spec[Any], value: Any) -> bool:
    """Invalid as it is, after lossless coercion, and under every lossless reshape the parser tries."""
    trials = [value]
    if isinstance(value, dict) and len(value) == 1:
        trials.append(next(iter(value.values())))
    if isinstance(value, list) and len(value) == 1:
        trials.append(value[0])
    if spec.wrap:
        trials += [{spec.wrap: t} for t in list(trials)]
    # the parser's validation: `spec.validate` and, for JSON Schema specs, closed objects' extra keys dropped
    return not any(valid(spec, t)[0] or validate_answer(spec, t).ok for t in trials)


_WRONG = st.sampled_from([[["not", "valid"]], {"__bad__": [1, 2]}, "??", -1.5, True, None, "twelve"])


@st.composite
def _invalid(draw: st.DrawFn, spec: Spec[Any], inputs: st.SearchStrategy[Any]) -> BrokenOutput:
    tool_input = dict(draw(inputs))
    how = draw(st.sampled_from(("drop", "retype", "extra", "emulator")))
    if how == "drop" and tool_input:
        del tool_input[draw(st.sampled_from(sorted(tool_input)))]
    elif how == "retype" and tool_input:
        tool_input[draw(st.sampled_from(sorted(tool_input)))] = draw(_WRONG)
    elif how == "extra":
        tool_input["__unexpected__"] = draw(_WRONG)
    else:
        from ..emulator import invalid_value

        bad = invalid_value(spec.schema, str(draw(st.integers(0, 10**6))))
        tool_input = bad if isinstance(bad, dict) else {"value": bad}
    assume(_unfit(spec, tool_input) and not has_elision_like(tool_input))
    if draw(st.booleans()):
        return BrokenOutput(
            Sent(
                api_message([tool_use_block(spec.name, tool_input)], "tool_use"),
                None,
                f"invalid:{how}:tool_use",
            ),
            FailureKind.INVALID,
        )
    style = draw(st.sampled_from(("bare", "prose", "fence", "tag", "noise")))
    r = draw(render(spec, tool_input, style, unwrap=False))
    return BrokenOutput(
        Sent(api_message([text_block(r.text)], "end_turn"), None, f"invalid:{how}:{r.style}"),
        FailureKind.INVALID,
    )


def broken_outputs(
    spec_or_model: Any,
    *,
    kinds: Collection[FailureKind | str] = BROKEN_KINDS,
    values: st.SearchStrategy[Any] | None = None,
) -> st.SearchStrategy[BrokenOutput]:
    """Pairs `(sent, kind)`: an answer that must never be accepted, and the `FailureKind` it must get.

    - `truncated`: a good answer (any text style, or a tool_use block) cut at any position before
      its value closes, with stop_reason `max_tokens` or `model_context_window_exceeded`;
    - `refusal`: stop_reason `refusal` (whatever text came before the stop, even a whole value), or
      a refusal in prose ("I'm sorry, but I can't help with that.") with no JSON;
    - `invalid`: an elision (`...`, `…`, `"..."`, `// rest omitted`) inside an array (or, with no
      array, among an object's members); or a schema-invalid value (a key dropped, a value of the
      wrong type, an unknown key, the emulator's `invalid_value`) that no lossless coercion or
      reshape can fix, in a tool_use block or any text style;
    - `ambiguous`: two different valid values (two tool_use blocks, two fences, two tags, or
      "Option 1 / Option 2" prose);
    - `wrong_tool`: a tool_use block naming another tool;
    - `no_json`: prose with no JSON and no refusal (or no content at all).

    Example::

        @given(broken_outputs(Recipe, kinds=["truncated", "ambiguous"]))
        def test_never_accepted(pair):
            sent, kind = pair
            outcome = sent.parse(spec)
            assert not outcome.ok and outcome.kind == kind
    """
    spec = as_spec(spec_or_model)
    wanted = [FailureKind(k) for k in kinds]
    unknown = set(wanted) - set(BROKEN_KINDS)
    if unknown or not wanted:
        raise ValueError(f"kinds must be a non-empty subset of {[k.value for k in BROKEN_KINDS]}")
    inputs = answer_inputs(spec, values)
    makers: dict[FailureKind, st.SearchStrategy[BrokenOutput]] = {
        FailureKind.TRUNCATED: _truncated(spec, inputs),
        FailureKind.REFUSAL: _refusal(spec, inputs),
        FailureKind.INVALID: _elided(spec, inputs) | _invalid(spec, inputs),
        FailureKind.AMBIGUOUS: _ambiguous(spec, inputs),
        FailureKind.WRONG_TOOL: _wrong_tool(spec, inputs),
        FailureKind.NO_JSON: _no_json(spec),
    }
    return st.one_of(*(makers[k] for k in dict.fromkeys(wanted)))
