"""How a model writes a JSON value in text: the styles, phrases and lossless syntax noise.

Good answers (`model_outputs`) and damaged ones (`broken_outputs`) are written the same way, so a
truncated or elided answer looks exactly like a good one up to where it breaks; that is what
makes the broken cases hard for a parser, and why the writing lives in one place.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from hypothesis import strategies as st

from .._modes import PREFILL_TEXT
from .._schema import Spec
from ._instances import instances

PREAMBLES = (
    "Here's the {noun} you asked for:",
    "Here is the extracted {noun}:",
    "Sure! Here's the data in JSON format:",
    "Certainly. Based on the text, the {noun} is:",
    "I've extracted the information from the text below.",
    "Below is the structured output.",
    "Here you go:",
)
POSTAMBLES = (
    "Let me know if you need anything else.",
    "Hope this helps!",
    "Note: quantities were normalised to numbers where the text allowed it.",
    "All values come straight from the text (nothing was guessed).",
    "If you want, I can also add notes for each field.",
)
_COMMENTS = ("// from the text", "/* as written */", "// normalised", "/* checked */", "// see paragraph two")
_TAGS = ("json", "output", "answer", "result", "data")
_FENCES = ("```json", "```", "~~~", "~~~json", "```JSON", "````json")

#: the strings the parser reads as elision placeholders (`"..."`, `"etc."`): a value holding one
#: cannot be told from an elided answer, so it is never a "recoverable" output
_ELISION_LIKE = re.compile(r"\s*(?:\.{3,}|…+|\.\s\.\s\.|etc\.?|\[\.\.\.\]|\.\.\.etc\.?)\s*", re.I)
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_SQ_UNSAFE = frozenset("'\"\\{}[]`<>~/*")


def has_elision_like(value: Any) -> bool:
    """Does `value` hold a string the parser must read as an elision placeholder (at any depth)?"""
    if isinstance(value, str):
        return len(value) <= 9 and _ELISION_LIKE.fullmatch(value) is not None
    if isinstance(value, dict):
        return any(has_elision_like(k) or has_elision_like(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_elision_like(v) for v in value)
    return False


def _plain(value: Any, pretty: bool, ascii_only: bool) -> str:
    return json.dumps(value, indent=2 if pretty else None, ensure_ascii=ascii_only)


@dataclass
class _Noise:
    """Lossless syntax noise, decided per node from a stream of draws."""

    draw: Callable[[st.SearchStrategy[Any]], Any]
    kinds: frozenset[str]
    applied: set[str] = field(default_factory=set)

    def want(self, kind: str) -> bool:
        if kind in self.kinds and self.draw(st.booleans()):
            self.applied.add(kind)
            return True
        return False

    def dumps(self, value: Any) -> str:
        if isinstance(value, dict):
            parts = []
            for k, v in value.items():
                key = k if _IDENT.fullmatch(k) and self.want("unquoted_key") else self.string(k)
                comment = f"{self.draw(st.sampled_from(_COMMENTS))}\n" if self.want("comment") else ""
                parts.append(f"{comment}{key}: {self.dumps(v)}")
            tail = "," if parts and self.want("trailing_comma") else ""
            return "{" + ", ".join(parts) + tail + "}"
        if isinstance(value, list):
            items = [self.dumps(v) for v in value]
            tail = "," if items and self.want("trailing_comma") else ""
            return "[" + ", ".join(items) + tail + "]"
        if isinstance(value, str):
            return self.string(value)
        if (value is True or value is False or value is None) and self.want("python_literal"):
            return {True: "True", False: "False", None: "None"}[value]
        return json.dumps(value)

    def string(self, s: str) -> str:
        printable = all(c >= " " for c in s)
        if printable and self.want("single_quotes"):
            # any content: brackets, double quotes and fence/tag lookalikes stay raw; ' and \ escaped
            return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"
        plain = s and not (_SQ_UNSAFE & set(s)) and printable
        if plain and "“" not in s and "”" not in s and self.want("smart_quotes"):
            return "“" + s + "”"
        if ("\n" in s or "\t" in s) and self.want("raw_newline_in_string"):
            return (
                '"' + "".join(c if c in "\n\t" else json.dumps(c, ensure_ascii=False)[1:-1] for c in s) + '"'
            )
        return json.dumps(s, ensure_ascii=False)


NOISE_KINDS = frozenset(
    {
        "trailing_comma",
        "comment",
        "single_quotes",
        "smart_quotes",
        "unquoted_key",
        "python_literal",
        "raw_newline_in_string",
    }
)

#: the ways `render` writes a value in text (see `model_outputs` for each)
TEXT_STYLES: tuple[str, ...] = ("bare", "prefill", "prose", "fence", "tag", "noise")
#: the styles `model_outputs` draws from: a tool_use block, or one of the text styles
STYLES: tuple[str, ...] = ("tool_use", *TEXT_STYLES)


class Rendered(NamedTuple):
    """A value written out as text, and where in the text the value is (truncation cuts inside it)."""

    text: str
    start: int  # where the JSON value starts in `text`
    end: int  # where it ends (exclusive)
    prefill: str | None
    style: str


@st.composite
def render(draw: st.DrawFn, spec: Spec[Any], tool_input: Any, style: str, unwrap: bool = True) -> Rendered:
    """Text carrying `tool_input` in one of `TEXT_STYLES` (or, for wrapped specs, possibly the bare
    wrapped value)."""
    noun = noun_for(spec)
    value = tool_input
    if unwrap and spec.wrap and spec.wrap in tool_input and style != "prefill" and draw(st.booleans()):
        value = tool_input[spec.wrap]
    pretty = draw(st.booleans())
    body = _plain(value, pretty, draw(st.booleans()))
    label = style
    if style == "noise":
        noise = _Noise(draw, NOISE_KINDS)
        body = noise.dumps(value)
        label = "noise:" + ",".join(sorted(noise.applied))
        style = draw(st.sampled_from(("bare", "prose", "fence", "tag")))
        label += f"+{style}"
    if style == "prefill":
        assert body.startswith("{")
        rest = body[len(PREFILL_TEXT) :]
        post = "\n\n" + draw(st.sampled_from(POSTAMBLES)) if draw(st.booleans()) else ""
        return Rendered(rest + post, 0, len(rest), PREFILL_TEXT, label)
    before, after = "", ""
    if style == "prose":
        which = draw(st.sampled_from(("pre", "post", "both")))
        if which != "post":
            before = draw(st.sampled_from(PREAMBLES)).format(noun=noun) + draw(
                st.sampled_from(("\n\n", "\n", " "))
            )
        if which != "pre":
            after = draw(st.sampled_from(("\n\n", "\n", " "))) + draw(st.sampled_from(POSTAMBLES))
    elif style == "fence":
        fence = draw(st.sampled_from(_FENCES))
        close = fence.rstrip("jsonJSON")
        before, after = f"{fence}\n", f"\n{close}"
        if draw(st.booleans()):
            before = draw(st.sampled_from(PREAMBLES)).format(noun=noun) + "\n\n" + before
        if draw(st.booleans()):
            after += "\n\n" + draw(st.sampled_from(POSTAMBLES))
    elif style == "tag":
        tag = draw(st.sampled_from(_TAGS))
        sep = draw(st.sampled_from(("\n", "")))
        before, after = f"<{tag}>{sep}", f"{sep}</{tag}>"
        if draw(st.booleans()):
            before = draw(st.sampled_from(PREAMBLES)).format(noun=noun) + "\n" + before
    return Rendered(before + body + after, len(before), len(before) + len(body), None, label)


def noun_for(spec: Spec[Any]) -> str:
    """What the model would call the value in prose ("recipe" for a `recipe` tool)."""
    return re.sub(r"[_-]+", " ", spec.name).strip().lower() or "data"


def answer_inputs(spec: Spec[Any], values: st.SearchStrategy[Any] | None) -> st.SearchStrategy[Any]:
    """The tool inputs answers are written from: `values`, or `instances(spec, json=True)`, less
    those holding an elision-like string (no parser could tell such an answer from an elided one)."""
    inputs = values if values is not None else instances(spec, json=True)
    return inputs.filter(lambda v: not has_elision_like(v))
