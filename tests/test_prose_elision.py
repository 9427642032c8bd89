"""What a text answer says about itself: drafts, partial answers, elision items, exact numbers.

Each rule is checked both ways: the phrasing that must be refused, and its harmless neighbour
that must stay accepted (a rule that refused both would pass one half only).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


# ---- integers written as floats: exactly the integer, never the float's -----------------------

INT_ROOT = sb.compile({"type": "integer"})
NUMBER_ROOT = sb.compile({"type": "number"})


@pytest.mark.parametrize(
    ("text", "exact"),
    [
        ("12345678901234567890.0", 12345678901234567890),
        ("9007199254740993.0", 2**53 + 1),
        ("-9007199254740993.00", -(2**53) - 1),
        ('{"value": 9007199254740993.0}', 2**53 + 1),
    ],
)
def test_an_integer_with_a_zero_fraction_beyond_2_53_is_exact(text: str, exact: int) -> None:
    out = parse_text(INT_ROOT, text)
    assert out.ok, out.failure
    assert type(out.value) is int and out.value == exact


def test_an_integral_float_in_a_nested_integer_field_is_exact() -> None:
    text = '{"name": "Ada", "email": "a@b.c", "age": 9007199254740993.0, "tags": ["x"]}'
    out = parse_text(CONTACT, text)
    assert out.ok and out.value["age"] == 2**53 + 1


@pytest.mark.parametrize(
    "text", ["1.2345678901234567891e19", "-98765432109876543210e-1", "1.00000000000000000001e20"]
)
def test_an_exponent_integer_no_float_holds_is_exact(text: str) -> None:
    """More digits than a float keeps, of an integral value: the integer, read exactly."""
    out = parse_text(INT_ROOT, text)
    assert out.ok and type(out.value) is int and out.value == int(Decimal(text))


@pytest.mark.parametrize(
    "text", ["1e30", "-2.5e20", "1.5e300", "3.350626593528023e+16", "9007199254740992.0"]
)
def test_a_float_spelling_in_an_integer_place_is_the_integer_written(text: str) -> None:
    """`1e30` for an integer is 10**30, the number written, not the float's own value
    1000000000000000019884624838656 (JSON Schema counts the float an integer; documented in the
    README). A `number` place keeps the float (below)."""
    out = parse_text(INT_ROOT, text)
    assert out.ok and type(out.value) is int and out.value == int(Decimal(text))
    assert out.repairs == ("coerce:$.value:float->int",)


def test_a_non_finite_exponent_stays_refused_in_an_integer_place() -> None:
    out = parse_text(INT_ROOT, "1e400")
    assert out.failure is not None and out.failure.kind == FailureKind.INVALID


@pytest.mark.parametrize("text", ["3.350626593528023e+16", "1e30", "-2.5e20"])
def test_a_serialised_float_for_a_number_stays_that_float(text: str) -> None:
    out = parse_text(NUMBER_ROOT, text)
    assert out.ok and type(out.value) is float and out.value == float(text)


def test_small_floats_keep_their_type() -> None:
    """Exactly representable floats are untouched: `3.0` for a number stays a float."""
    floats = ["3.0", "1.5e3", "0.1", "123456789012345.0", "9007199254740992.0", "-9007199254740994.0"]
    for text, want in [(t, float(t)) for t in floats]:
        out = parse_text(NUMBER_ROOT, text)
        assert out.ok and type(out.value) is float and out.value == want, text


def test_loads_strict_reads_big_zero_fraction_integers_exactly() -> None:
    from structbatch._jsonload import loads_document, loads_json

    got = loads_json('[1e30, 2.5, 9007199254740993.0, "9007199254740993.0", 3.350626593528023e+16]')
    assert got == [1e30, 2.5, 2**53 + 1, "9007199254740993.0", 3.350626593528023e16]
    assert [type(x) for x in got] == [float, float, int, str, float]
    assert loads_json("9007199254740993.0") == 2**53 + 1
    line = '{"content": [{"type": "tool_use", "input": {"q": 9007199254740993.0, "f": 0.5}}]}'
    assert loads_document(line)["content"][0]["input"] == {"q": 2**53 + 1, "f": 0.5}


# ---- prose in which the answer says it is not the whole answer --------------------------------

PEOPLE = sb.compile(
    {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "years": {"type": "integer"}},
            "required": ["name", "years"],
            "additionalProperties": False,
        },
    }
)
TWO = [{"name": "Ana Ruiz", "years": 6}, {"name": "Tom Becker", "years": 11}]
FENCED = "```json\n" + json.dumps(TWO, indent=2) + "\n```"

#: said after the answer: incomplete, continuing elsewhere, a part, an offer of the rest
PARTIAL_AFTER = [
    "...and so on",
    "...and so on.",
    "and so forth",
    "(truncated)",
    "[Output truncated]",
    "(list continues)",
    "(continued below)",
    "[continued in next message]",
    "To be continued.",
    "I'll continue in my next response.",
    "I will continue with the remaining people in the following message.",
    "See the next message for the rest.",
    "The rest will follow in a separate reply.",
    "(Part 1 of 2)",
    "Part 2 of 3",
    "This covers the first page only.",
    "I've listed the first two people only.",
    "I've only included the first two people.",
    "Just the first two for now.",
    "Showing 2 of 3.",
    "Showing 2 of 40 results.",
    "2 of 40 employees are shown.",
    "I stopped here because the list is long; let me know if you want the rest.",
    "I'll stop here.",
    "Stopping here to keep it short.",
    "Let me know if you'd like me to continue with the remaining staff.",
    "Would you like me to continue?",
    "Want the full list?",
    "I can provide the remaining entries if you need them.",
    "Shall I list the others too?",
    "The others are similar.",
    "The other entries follow the same format.",
    "There are 12 more in the memo.",
    "+ 38 more",
    "This is not the complete list.",
    "The list is incomplete.",
    "Here is a sample of the staff list.",
    "This covers the first page of the memo only.",
    "There are more employees on pages 2-4 that I haven't extracted yet.",
    "I haven't extracted the contractors yet.",
    "Due to length limits, only a sample is shown.",
    "To stay within the output limit, I kept it short.",
    "The remaining 38 are not included.",
    "Only a handful are listed here.",
    "Note: I've extracted 5 of the 23 line items due to space.",
    "(18 more rows)",
    "This is an abbreviated version.",
    "I've truncated the list to the first 10.",
    "Only 2 shown here; the full list has 40.",
    "Let me know if you'd like the complete list.",
    "Would you like me to keep going?",
    "Shall I go on?",
    "I can list more if needed.",
    "Remaining staff to follow.",
    "More to come.",
    "[...]",
    "I listed a couple of examples.",
    "I'll send the remaining rows in my next message.",
    "More entries follow in the next reply.",
]
#: said before the answer
PARTIAL_BEFORE = [
    "Here are the first 2 entries:",
    "Here are the first two people:",
    "Only the first two people are listed below:",
    "Top 2 people (of 20):",
    "Top 2 of 20 people:",
    "Showing the first 2 of 9:",
    "Part 1 of 2:",
    "Here is part 1 of the list.",
    "This is part one of two.",
    "Here is batch 2 of the employees:",
    "Here are a few of the employees:",
    "Some of the people mentioned:",
    "Below are some examples:",
    "Continuing from where I left off:",
    "First 2 results:",
    "Here's what I have so far:",
]
#: harmless prose next to a whole answer: about the document, one field, or a count that is whole
WHOLE = [
    "Let me know if you need anything else.",
    "I couldn't find a phone number, so it is null.",
    "All 12 items are listed above.",
    "Showing 2 of 2.",
    "2 of 2 people are listed.",
    "I rated it 4 out of 5 based on the review.",
    "Both people are listed; the rest of the memo is about parking.",
    "Let me know if you'd like me to continue with another document.",
    "Let me know if you'd like me to continue with the next memo.",
    "The part number continues on the next line in the scan, so I joined the halves.",
    "The next page of the letter is blank.",
    "Would you like me to extract anything else?",
    "The remaining balance is shown on page 2.",
    "Other than the email, every field was present.",
    "This is the complete list.",
    "The first two people share an office.",
    "Only the total was handwritten; the rest is printed.",
    "Top performers are marked in the memo.",
    "The first entry only has a first name in the memo, so I used it as written.",
    "Let me know if you want the names formatted differently.",
    "I stopped at nothing: every name is here.",
    "Here are the top 2 people:",
    "Top 2 people by tenure:",
    "There are more details about their projects in the memo.",
    "The rest of the memo is not included in the schema.",
    "The memo has not been signed yet.",
    "Only some fields were present in the document.",
    "Both people are included; there are no others.",
    "Here is the part number and the staff list.",
    "The first batch of hires is all here.",
    "These are all the employees in the memo.",
    "The rest is boilerplate.",
    "First, here are the people:",
    "Let me know if you want me to keep going with the next file.",
    "I can list more details if needed.",
    "More information is in the appendix.",
    "Some of the fields were missing, so they are null.",
    "The examples in the memo are not staff.",
    "Only one person besides them is listed in the memo, an external auditor.",
    "Only two people are listed in the memo.",
    "The memo was limited to two pages.",
    "I can only see two people in the memo.",
    "In my next response I can explain the reasoning.",
    "Would you like me to continue with another invoice?",
    "The remaining fields are null because the letter doesn't mention them.",
    "If you'd like, I can also extract the shipping address.",
    "Let me know if you want the full address broken into fields.",
]


@pytest.mark.parametrize("prose", PARTIAL_AFTER)
def test_prose_after_saying_the_answer_is_partial_is_invalid(prose: str) -> None:
    assert kind(PEOPLE, f"{FENCED}\n\n{prose}") == FailureKind.INVALID
    assert kind(PEOPLE, f"{json.dumps(TWO)}\n{prose}") == FailureKind.INVALID


@pytest.mark.parametrize("prose", PARTIAL_BEFORE)
def test_prose_before_saying_the_answer_is_partial_is_invalid(prose: str) -> None:
    assert kind(PEOPLE, f"{prose}\n\n{FENCED}") == FailureKind.INVALID


@pytest.mark.parametrize("prose", WHOLE)
def test_harmless_prose_keeps_the_answer(prose: str) -> None:
    for text in (f"{FENCED}\n\n{prose}", f"{prose}\n\n{FENCED}"):
        out = parse_text(PEOPLE, text)
        assert out.ok, (prose, out.failure)
        assert out.value == TWO


def test_a_partial_note_inside_the_data_is_data() -> None:
    """Words in a JSON string are the document's, not the answer's ("part 1 of 2")."""
    value = [{"name": "Ana Ruiz (part 1 of 2, continued in next message)", "years": 6}]
    out = parse_text(PEOPLE, "```json\n" + json.dumps(value) + "\n```")
    assert out.ok and out.value == value


# ---- elision words written as data -----------------------------------------------------------

#: a string that, whole, says items were left out: refused wherever it stands
ELIDED_VALUES = [
    "...and 3 more items",
    "… and 12 more",
    "+ 3 more",
    "+3 more",
    "and 40 more employees",
    "plus 2 others",
    "(remaining steps omitted)",
    "remaining items omitted for brevity",
    "[more entries not shown]",
    "Other tags were skipped",
    "and so on",
    "...and so forth",
    "(truncated)",
    "[list truncated]",
    "more...",
    "3 more…",
    "etc...",
    "and etc.",
    "(etc.)",
]
#: said as the last item of a list: "and others" stands for items not given
ELIDED_TAILS = ["and others", "And more", "& more", "and other things", "others...", "more…", "among others"]
#: real values that merely contain such words
REAL_VALUES = [
    "And More Co",
    "others",
    "Other",
    "more",
    "More or Less",
    "Bread and more bread",
    "Plus 2 Deluxe",
    "Continued",
    "truncated",
    "3 more days of leave",
    "Steps were omitted by the author",
    "So On and So Forth (band)",
    "Etcetera Books",
    "flour, sugar, etc.",
]


def _contact_with_tags(tags: list[str]) -> str:
    return json.dumps({**ADA, "tags": tags})


@pytest.mark.parametrize("item", ELIDED_VALUES + ELIDED_TAILS)
def test_an_elision_as_the_last_list_item_is_invalid(item: str) -> None:
    assert kind(CONTACT, _contact_with_tags(["math", "poetry", item])) == FailureKind.INVALID
    # the same with a lenient repair (single quotes) and as a tool input
    lenient = _contact_with_tags(["math", item]).replace('"math"', "'math'")
    assert kind(CONTACT, lenient) == FailureKind.INVALID


@pytest.mark.parametrize("item", ELIDED_VALUES)
def test_an_elision_phrase_is_invalid_wherever_it_stands(item: str) -> None:
    assert kind(CONTACT, json.dumps({**ADA, "name": item})) == FailureKind.INVALID
    assert kind(CONTACT, _contact_with_tags([item, "math"])) == FailureKind.INVALID


@pytest.mark.parametrize("item", REAL_VALUES)
def test_a_real_value_with_such_words_is_kept(item: str) -> None:
    value = {**ADA, "name": item, "tags": ["math", item]}
    out = parse_text(CONTACT, json.dumps(value))
    assert out.ok and out.value == value


@pytest.mark.parametrize("item", ["and others", "+ 3 more", "(remaining steps omitted)"])
def test_an_elision_item_in_a_tool_input_is_invalid(item: str) -> None:
    from structbatch._parse import parse_message

    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [
            {"type": "tool_use", "id": "t1", "name": CONTACT.name, "input": {**ADA, "tags": ["math", item]}}
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }
    out = parse_message(CONTACT, message)
    assert not out.ok and out.kind is FailureKind.INVALID, out


@pytest.mark.parametrize("item", ELIDED_VALUES + ELIDED_TAILS)
def test_the_suspect_pre_check_finds_every_elision_item_however_spelled(item: str) -> None:
    from structbatch._jsonload import may_hold_elision

    for spelled in (json.dumps(item), json.dumps(item, ensure_ascii=False), json.dumps(item.upper())):
        assert may_hold_elision(f'{{"tags":["a",{spelled}]}}'.encode()), spelled


# ---- casing: the screen and the walk agree on every spelling --------------------------------


def _mixed(text: str) -> str:
    """`text` with the case of every other letter flipped (`mOrE`): a casing no writer uses."""
    return "".join(c.swapcase() if i % 2 else c for i, c in enumerate(text))


@pytest.mark.parametrize("item", ELIDED_VALUES + ELIDED_TAILS)
def test_an_elision_in_lower_title_or_upper_case_is_refused_on_every_path(item: str) -> None:
    from structbatch import _fastline

    for cased in {item, item.upper(), item.title()}:
        value = {**ADA, "tags": ["math", cased]}
        out = parse_text(CONTACT, json.dumps(value))
        assert not out.ok and out.kind is FailureKind.INVALID, (cased, out)
        assert _fastline.needs_care(json.dumps(value).encode()), cased


@pytest.mark.parametrize("item", ["and 3 mOrE", "(tRuNcAtEd)", "rEmAiNiNg items oMiTtEd"])
def test_an_elision_word_in_mixed_case_is_data_on_every_path(item: str) -> None:
    """The screen knows four casings of each word; a string it lets through is data on the text
    path too, so a clean tool line and its text twin never disagree."""
    from structbatch import _fastline

    value = {**ADA, "tags": ["math", item]}
    assert not _fastline.needs_care(json.dumps(value).encode())
    out = parse_text(CONTACT, json.dumps(value))
    assert out.ok and out.value == value, out


@given(st.sampled_from(ELIDED_VALUES + ELIDED_TAILS), st.lists(st.booleans(), max_size=40))
def test_the_screen_finds_whatever_the_walk_refuses_however_escaped(item: str, escapes: list[bool]) -> None:
    """Superset, spelling by spelling: if the walk refuses the parsed string, the screen hits its
    text, with any characters written as `\\u` escapes."""
    from structbatch import _fastline
    from structbatch._jsonload import JSONProblem, audit

    for cased in (item, _mixed(item), item.upper()):
        spelled = "".join(
            f"\\u{ord(c):04x}" if esc else json.dumps(c, ensure_ascii=False)[1:-1]
            for c, esc in zip(cased, escapes + [False] * len(cased), strict=False)
        )
        text = f'{{"tags":["a","{spelled}"]}}'
        try:
            audit(json.loads(text))
        except JSONProblem:
            assert _fastline.needs_care(text.encode()), text
