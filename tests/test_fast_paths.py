"""The parser's fast paths decide exactly what the general path decides.

Clean tool_use result lines (`_parse.fast_result_line`) and the usual text answer (`_parse._fast_text`)
skip most of the general machinery for speed. Each test here parses the same input twice, once
with the fast paths switched off, and requires the same outcome. The pre-checks that send a line
to the general path (elision placeholders in any JSON spelling, NaN/Infinity, `\\u` escapes,
19-digit integers) are checked as supersets of what they guard.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import orjson
import pytest
from helpers.jobsupport import FAST_POLL, FAST_RETRY, Person, Seq, rewriting_client
from hypothesis import given
from hypothesis import strategies as st

import structbatch as sb
from structbatch import _extract, _parse
from structbatch.emulator import Emulator
from structbatch.testing import strategies as sbst
from tests.test_job import MIXED
from tests.test_job import _rewrite as rewrite_mixed
from tests.test_properties import SPECS

PYDANTIC_SPECS = sorted(name for name, spec in SPECS.items() if spec.model is not None)


@contextmanager
def general_path_only() -> Iterator[None]:
    with (
        mock.patch.object(_parse, "fast_result_line", lambda spec, line: None),
        mock.patch.object(_parse, "_fast_text", lambda spec, text, usage: None),
    ):
        yield


def same_outcome(fast: sb.Outcome[Any], general: sb.Outcome[Any]) -> None:
    assert fast.ok == general.ok, (fast, general)
    assert fast.kind == general.kind, (fast, general)
    assert fast.value == general.value
    assert fast.repairs == general.repairs
    assert fast.usage == general.usage
    assert fast.custom_id == general.custom_id
    if not fast.ok:
        assert fast.failure == general.failure


def both_ways(spec: sb.Spec[Any], what: Any, **kw: Any) -> None:
    fast = spec.parse(what, **kw)
    with general_path_only():
        general = spec.parse(what, **kw)
    same_outcome(fast, general)


def line_bytes(line: dict[str, Any]) -> bytes:
    """A result line as the API writes it: compact JSON, raw UTF-8, one per line."""
    return orjson.dumps(line) + b"\n"


# ---- result lines -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PYDANTIC_SPECS)
@given(data=st.data())
def test_result_lines_fast_equals_general(name: str, data: st.DataObject) -> None:
    spec = SPECS[name]
    result = data.draw(sbst.result_lines(spec), label="line")
    raw = line_bytes(result.line)
    both_ways(spec, raw)
    both_ways(spec, raw.decode())


@pytest.mark.parametrize("answers", [sbst.model_outputs, sbst.broken_outputs])
@pytest.mark.parametrize("name", PYDANTIC_SPECS)
@given(data=st.data())
def test_answers_fast_equals_general(answers: Any, name: str, data: st.DataObject) -> None:
    """Good and broken answers alike: as a message, and as a result line."""
    spec = SPECS[name]
    sent, _ = data.draw(answers(spec), label="output")
    both_ways(spec, sent.message, prefill=sent.prefill)
    both_ways(spec, line_bytes({"custom_id": "k", "result": {"type": "succeeded", "message": sent.message}}))


def _invoice_line(tool_input: str) -> bytes:
    """A clean Invoice tool_use line whose input is given as raw JSON text."""
    head = (
        b'{"custom_id":"k1","result":{"type":"succeeded","message":{"id":"msg_1","type":"message",'
        b'"role":"assistant","model":"claude-haiku-4-5","content":[{"type":"tool_use","id":"toolu_1",'
        b'"name":"Invoice","input":'
    )
    tail = (
        b'}],"stop_reason":"tool_use","stop_sequence":null,'
        b'"usage":{"input_tokens":9,"output_tokens":3,"service_tier":"batch"}}}}\n'
    )
    return head + tool_input.encode() + tail


INVOICE_INPUT = (
    '{"invoice_number":"INV-1","issue_date":"2026-07-05","due_date":null,'
    '"vendor":{"name":"Acme","address":"1 Main St"},"currency":"EUR",'
    '"line_items":[{"description":"widget","quantity":2,"unit_price":1.5,"total":3.0}],'
    '"subtotal":3.0,"tax":0.0,"total":3.0}'
)


@pytest.mark.parametrize(
    ("before", "after", "kind"),
    [
        ('"tax":0.0', '"tax":NaN', sb.FailureKind.MALFORMED_RESULT),
        ('"tax":0.0', '"tax":Infinity', sb.FailureKind.MALFORMED_RESULT),
        ('"address":"1 Main St"', '"address":"..."', sb.FailureKind.INVALID),
        ('"address":"1 Main St"', '"address":" \\u2026 "', sb.FailureKind.INVALID),
        ('"address":"1 Main St"', '"address":"\\u002e\\u002e\\u002e"', sb.FailureKind.INVALID),
        ('"address":"1 Main St"', '"address":"e\\u0074c."', sb.FailureKind.INVALID),
        ('"address":"1 Main St"', '"address":"etc\\n"', sb.FailureKind.INVALID),
        ('"address":"1 Main St"', '"address":"[...]"', sb.FailureKind.INVALID),
        ('"address":"1 Main St"', '"address":"\u2026\u00a0"', sb.FailureKind.INVALID),
        ('"address":"1 Main St"', '"address":"Match St, Dutch quarter..., etc"', None),
        ('"address":"1 Main St"', '"address":"Caf\\u00e9 Street"', None),
        ('"quantity":2', '"quantity":12345678901234567890123', None),  # a float field takes it
    ],
)
def test_tool_lines_the_fast_path_must_not_accept(
    before: str, after: str, kind: sb.FailureKind | None
) -> None:
    spec = SPECS["Invoice"]
    raw = _invoice_line(INVOICE_INPUT.replace(before, after))
    assert after in raw.decode()
    out = spec.parse(raw)
    assert out.kind is kind, out
    both_ways(spec, raw)


def test_a_clean_tool_line_takes_the_fast_path() -> None:
    spec = SPECS["Invoice"]
    raw = _invoice_line(INVOICE_INPUT)
    fast = _parse.fast_result_line(spec, raw)
    assert fast is not None and fast.ok and fast.custom_id == "k1"
    assert fast.usage == sb.Usage(input_tokens=9, output_tokens=3)
    assert fast.value.line_items[0].total == 3.0
    assert _parse.fast_result_line(spec, raw.replace(b'"tax":0.0', b'"tax":NaN')) is None


def test_duplicate_keys_in_a_tool_line_are_read_alike() -> None:
    """The API re-serialises tool inputs, so a line cannot hold duplicate keys; if one does, the
    fast and general paths read it the same way (the last value, as the SDK would)."""
    spec = SPECS["Invoice"]
    raw = _invoice_line(INVOICE_INPUT.replace('"tax":0.0', '"tax":1.0,"tax":0.0'))
    both_ways(spec, raw)


# ---- text answers -------------------------------------------------------------------------------

TEXTS = [
    'Here is the invoice:\n\n{"invoice_number": "INV-1"}\n\nAnything else?',
    '"{}"',
    "[1] {}",
    '{"a": 1} and {"b": 2}',
    "Here are the first 3 of 10 items: {}",
    "For brevity: {}",
    "```json\n{}\n```",
    "<json>{}</json>",
    '{"a": 1,}',
    '{"a": 1, "a": 2}',
    '{"a": "..."}',
    '{"n": 12345678901234567890123}',
    "  {}  ",
    "-1 {}",
    "true {}",
]


@pytest.mark.parametrize("name", PYDANTIC_SPECS)
@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("stop", [None, "end_turn", "max_tokens"])
def test_texts_fast_equals_general(name: str, text: str, stop: str | None) -> None:
    spec = SPECS[name]
    fast = spec.parse_text(text, stop_reason=stop)
    with general_path_only():
        general = spec.parse_text(text, stop_reason=stop)
    same_outcome(fast, general)


def test_the_usual_text_answer_takes_the_fast_path() -> None:
    spec = SPECS["Invoice"]
    text = f"Here's the invoice you asked for:\n\n{INVOICE_INPUT}\n\nLet me know if you need more."
    out = _parse._fast_text(spec, text, sb.Usage())
    assert out is not None and out.ok and out.value.invoice_number == "INV-1"
    # prose that says something was left out is the general path's to judge
    assert (
        _parse._fast_text(spec, text.replace("Let me know", "Remaining items omitted."), sb.Usage()) is None
    )


# ---- the pre-checks are supersets ---------------------------------------------------------------

PLACEHOLDER = re.compile(r"\s*(?:\.{3,}|…+|[Ee]tc\.?|\[\.\.\.\]|\.\.\.etc\.?)\s*")


def _spellings(value: str, draw_escapes: list[bool]) -> Iterator[str]:
    """`value` as a JSON string in several spellings a writer may choose."""
    yield json.dumps(value)
    yield json.dumps(value, ensure_ascii=False)
    yield orjson.dumps(value).decode()
    escaped = "".join(
        f"\\u{ord(c):04x}" if esc and ord(c) < 0x10000 else json.dumps(c, ensure_ascii=False)[1:-1]
        for c, esc in zip(value, draw_escapes + [False] * len(value), strict=False)
    )
    yield f'"{escaped}"'


@given(
    st.text(alphabet=".…EetcT[] \t\n\r\u00a0\u2003\u3000\x1c\x85x", max_size=9),
    st.lists(st.booleans(), max_size=9),
)
def test_elision_suspect_finds_every_placeholder_however_spelled(value: str, escapes: list[bool]) -> None:
    if not (len(value) <= 9 and PLACEHOLDER.fullmatch(value)):
        return
    for spelled in _spellings(value, escapes):
        assert json.loads(spelled) == value
        assert _extract.may_hold_elision(spelled.encode()), spelled
        assert _parse._line_needs_care(('{"x":' + spelled + "}").encode()), spelled


@pytest.mark.parametrize(
    "text", ['{"a":"match"}', '{"a":"1.5"}', '{"service_tier":"batch"}', '{"a":"etcetera"}']
)
def test_elision_suspect_lets_ordinary_strings_through(text: str) -> None:
    assert not _extract.may_hold_elision(text.encode())


def test_suspect_finders_search_anywhere() -> None:
    """pydantic-core searches a `str_schema` pattern (not anchored); the finders rely on it."""
    find = _extract.suspect_finder("b")
    assert find("abc") and find(b"xxb") and not find("xyz")
    assert not find(b"\xff\xfeb")  # bytes that are not UTF-8 (no JSON parser takes them)


def test_a_job_records_the_same_outcomes_with_and_without_the_fast_path(tmp_path: Path) -> None:
    """`Job` collection reads clean tool lines through `fast_result_line` (skipping its own parse
    of the line); every kind of result must still end in the outcome the general path gives."""
    taken: list[bool] = []
    real = _parse.fast_result_line

    def spy(spec: sb.Spec[Any], line: Any) -> sb.Outcome[Any] | None:
        out = real(spec, line)
        taken.append(out is not None)
        return out

    seen: dict[str, list[tuple[Any, ...]]] = {}
    for label, patch in (
        ("fast", mock.patch.object(_parse, "fast_result_line", spy)),
        ("general", general_path_only()),
    ):
        responder = Seq({k: v[0] for k, v in MIXED.items()})
        with patch, Emulator(responder=responder) as emu:
            job = sb.Job(
                Person,
                model="claude-haiku-4-5",
                store=tmp_path / f"{label}.db",
                client=rewriting_client(emu, rewrite_mixed),
                mode=sb.Mode.TOOL,
                poll=FAST_POLL,
                retry=FAST_RETRY,
            )
            for key in MIXED:
                job.add(key, messages=f"Text about {key}.")
            job.run()
            seen[label] = [
                (o.key, o.ok, o.kind, o.value, o.usage, o.attempts, o.repairs) for o in job.outcomes()
            ]
            job.close()
    assert seen["fast"] == seen["general"]
    assert [k for k, ok, *_ in seen["fast"] if ok] == ["ok", "overloaded", "expired", "invalid"]
    assert True in taken and False in taken  # clean lines went fast, the others did not
