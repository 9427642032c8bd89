"""What a text answer says about itself: drafts, partial answers, elision items, exact numbers.

Each rule is checked both ways: the phrasing that must be refused, and its harmless neighbour
that must stay accepted (a rule that refused both would pass one half only).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import structbatch as sb
from structbatch import FailureKind
from structbatch._parse import parse_text

CONTACT = sb.compile(
    {
        "title": "Contact",
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "email": {"type": "string"},
            "age": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["name", "email"],
        "additionalProperties": False,
    }
)
ADA = {"name": "Ada Lovelace", "email": "ada@example.com", "age": 36}
ADA_JSON = json.dumps(ADA)


def kind(spec: sb.Spec[Any], text: str, stop: str | None = None) -> str:
    out = parse_text(spec, text, stop_reason=stop)
    return "ok" if out.ok else str(out.kind)


# ---- drafts: a value inside a thinking section the model never closed -------------------------


@pytest.mark.parametrize("tag", ["thinking", "scratchpad", "Thinking"])
@pytest.mark.parametrize("stop", ["max_tokens", "model_context_window_exceeded"])
def test_draft_in_unclosed_thinking_under_a_cut_is_truncated(tag: str, stop: str) -> None:
    text = f"<{tag}>\nThe contact is {ADA_JSON}. Let me double-check the age against page 2, which says"
    assert kind(CONTACT, text, stop) == FailureKind.TRUNCATED


def test_answer_then_unclosed_thinking_under_a_cut_is_truncated() -> None:
    """The model had started to reconsider: its answer may be about to change."""
    text = f"{ADA_JSON}\n\n<thinking>\nWait, the letter may say 37 on the back, let me"
    assert kind(CONTACT, text, "max_tokens") == FailureKind.TRUNCATED


def test_closed_thinking_then_answer_under_a_cut_is_the_answer() -> None:
    text = f"<thinking>Draft: {ADA_JSON}</thinking>\n\n{ADA_JSON}"
    out = parse_text(CONTACT, text, stop_reason="max_tokens")
    assert out.ok and out.value == ADA


def test_unclosed_thinking_without_a_cut_keeps_its_value() -> None:
    """Not cut: the model ended its turn; the lone value is the answer (as in closed tags)."""
    out = parse_text(CONTACT, f"<thinking>\nThe contact is {ADA_JSON}", stop_reason="end_turn")
    assert out.ok and out.value == ADA


def test_a_tag_written_inside_a_json_string_is_not_a_thinking_section() -> None:
    value = {**ADA, "tags": ["uses <thinking> tags"]}
    out = parse_text(CONTACT, json.dumps(value), stop_reason="max_tokens")
    assert out.ok and out.value == value
