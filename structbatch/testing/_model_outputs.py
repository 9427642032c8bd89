"""Good answers: `model_outputs`, every way a model may hand over a valid value, and that value.

Each answer is paired with the value `spec.parse` must return, so a property test needs no
oracle of its own: what the parser gives back is compared with what the answer was made from.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, NamedTuple

from hypothesis import strategies as st

from .._schema import Spec
from ._messages import Sent, api_message, text_block, tool_use_block
from ._oracle import as_spec, valid
from ._rendering import STYLES, answer_inputs, noun_for, render


class ModelOutput(NamedTuple):
    """A good answer and the value it means (a model instance, or a dict for JSON Schema specs)."""

    sent: Sent
    value: Any


@st.composite
def _model_output(
    draw: st.DrawFn, spec: Spec[Any], inputs: st.SearchStrategy[Any], styles: Sequence[str]
) -> ModelOutput:
    tool_input = draw(inputs)
    ok, value = valid(spec, tool_input)
    assert ok
    style = draw(st.sampled_from(list(styles)))
    if style == "tool_use":
        content = [tool_use_block(spec.name, tool_input)]
        if draw(st.booleans()):
            content.insert(0, text_block(f"I'll extract the {noun_for(spec)} with the {spec.name} tool."))
        return ModelOutput(Sent(api_message(content, "tool_use"), None, "tool_use"), value)
    r = draw(render(spec, tool_input, style))
    return ModelOutput(Sent(api_message([text_block(r.text)], "end_turn"), r.prefill, r.style), value)


def model_outputs(
    spec_or_model: Any,
    *,
    styles: Collection[str] = STYLES,
    values: st.SearchStrategy[Any] | None = None,
) -> st.SearchStrategy[ModelOutput]:
    """Pairs `(sent, value)`: an answer the model may give, and the value it means.

    `sent` is a `Sent` (an API-shaped message dict, and the prefill it continues); `value` is what
    `spec.parse` must return (`sent.parse(spec).value == value`). `styles` (default: all of
    `STYLES`):

    - `tool_use`: a `tool_use` block of the spec's tool (sometimes after a short text block);
    - `bare`: the JSON alone, compact or indented (native JSON-schema output);
    - `prefill`: the continuation after a `{` prefill (PREFILL mode), sometimes with a postamble;
    - `prose`: a preamble ("Here's the recipe you asked for:") and/or a postamble;
    - `fence`: ```` ```json ````, ```` ``` ````, `~~~`, ... code fences, with or without prose;
    - `tag`: `<json>`, `<output>`, `<answer>`, ... tags;
    - `noise`: lossless syntax noise inside one of the text styles (`NOISE_KINDS`): trailing
      commas, `//` and `/* */` comments, single quotes (any content, `'` and `\\` escaped), smart
      quotes (around strings without quotes, backslashes or brackets), unquoted keys, Python `True`/`False`/`None`, raw newlines
      and tabs inside strings.

    Values come from `instances(spec, json=True)` unless `values` (a strategy of tool inputs) is
    given. Values holding a string the parser must read as an elision (`"..."`, `"etc."`) are
    left out: those are not recoverable by design. For a wrapped spec the text styles sometimes
    carry the bare wrapped value (`[...]` for `{"items": [...]}`).

    Example::

        @given(model_outputs(Recipe, styles=["prose", "fence"]))
        def test_parse(pair):
            sent, recipe = pair
            assert sent.parse(spec).value == recipe
    """
    spec = as_spec(spec_or_model)
    unknown = set(styles) - set(STYLES)
    if unknown or not styles:
        raise ValueError(f"styles must be a non-empty subset of {STYLES}, not {sorted(unknown)}")
    return _model_output(spec, answer_inputs(spec, values), tuple(styles))
