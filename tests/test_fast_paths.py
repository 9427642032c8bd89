"""The parser's fast paths decide exactly what the general path decides.

Clean tool_use result lines (`_parse.fast_result_line`) and the usual text answer (`_parse._fast_text`)
skip most of the general machinery for speed. Each test here parses the same input twice, once
with the fast paths switched off, and requires the same outcome. The pre-checks that send a line
to the general path (elision placeholders in any JSON spelling, NaN/Infinity, `\\u` escapes,
19-digit integers) are checked as supersets of what they guard.
"""

from __future__ import annotations

import datetime as dt
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
from pydantic import BaseModel

import structbatch as sb
from benchmarks import _shapes
from structbatch import _extract, _fastline, _parse
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


# ---- the layout reader (`_fastline.LineReader`): each shortcut against the general path -------


class Part(BaseModel):
    sku: str
    qty: int
    price: float
    ok: bool
    note: str | None = None


class Shipment(BaseModel):
    ref: str
    parts: list[Part]
    meta: Any = None
    when: dt.date | None = None


SHIPMENT = sb.compile(Shipment)
SHIPMENT_INPUT = (
    '{"ref":"S-1","parts":[{"sku":"A-1","qty":2,"price":1.5,"ok":true,"note":null}],'
    '"meta":{"n":1},"when":"2026-07-05"}'
)
CANONICAL_HEAD = (
    '{"custom_id":"c-1","result":{"type":"succeeded","message":{"id":"msg_1","type":"message",'
    '"role":"assistant","model":"claude-haiku-4-5","content":[{"type":"tool_use","id":"toolu_1",'
    '"name":"Shipment","input":'
)
CANONICAL_TAIL = (
    '}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":12,'
    '"cache_creation_input_tokens":0,"cache_read_input_tokens":3,"cache_creation":'
    '{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":7,'
    '"service_tier":"batch"}}}}\n'
)


def _shipment_line(
    tool_input: str = SHIPMENT_INPUT, head: str = CANONICAL_HEAD, tail: str = CANONICAL_TAIL
) -> str:
    return head + tool_input + tail


def test_the_api_layout_is_read_without_the_general_path() -> None:
    raw = _shipment_line()
    reader = SHIPMENT._line_validator
    for line in (raw, raw.encode(), bytearray(raw.encode()), raw.rstrip("\n"), raw[:-1] + "\r\n"):
        found = reader.outcome(line)
        assert found is not None and found.ok, line
        value = found.value
        assert found.custom_id == "c-1" and value.parts[0].qty == 2 and value.when == dt.date(2026, 7, 5)
        assert found.usage == sb.Usage(input_tokens=12, output_tokens=7, cache_read_input_tokens=3)
        both_ways(SHIPMENT, line)


@pytest.mark.parametrize(
    ("before", "after", "kind"),
    [
        ('"qty":2', '"qty":"2"', None),  # a lossless coercion: the general path's, with its repair
        ('"ok":true', '"ok":"yes"', sb.FailureKind.INVALID),
        ('"ok":true', '"ok":1', sb.FailureKind.INVALID),
        ('"price":1.5', '"price":"1.5"', None),
        ('"sku":"A-1"', '"sku":7', sb.FailureKind.INVALID),
        ('"price":1.5', '"price":NaN', sb.FailureKind.MALFORMED_RESULT),
        ('"price":1.5', '"price":-Infinity', sb.FailureKind.MALFORMED_RESULT),
        ('"price":1.5', '"price":1e400', sb.FailureKind.MALFORMED_RESULT),
        ('"price":1.5', '"price":-1.5E+999', sb.FailureKind.MALFORMED_RESULT),
        ('"price":1.5', '"price":1e-400', None),  # underflows to 0.0 in both parsers
        ('"price":1.5', '"price":2.5e100', None),
        ('"meta":{"n":1}', '"meta":{"n":1e400}', sb.FailureKind.MALFORMED_RESULT),
        ('"meta":{"n":1}', '"meta":{"n":123456789012345678901234567890}', None),  # kept exact
        ('"qty":2', '"qty":123456789012345678901', None),
        ('"sku":"A-1"', '"sku":"3e123-9e999"', None),  # exponent-like text inside a string
        ('"sku":"A-1"', '"sku":"..."', sb.FailureKind.INVALID),
        ('"sku":"A-1"', '"sku":"\\u2026"', sb.FailureKind.INVALID),
        ('"sku":"A-1"', '"sku":"Caf\\u00e9"', None),
        ('"sku":"A-1"', '"sku":"\\ud800"', sb.FailureKind.MALFORMED_RESULT),
        ('"sku":"A-1"', '"sku":"a\tb"', sb.FailureKind.MALFORMED_RESULT),  # a raw control character
        ('"sku":"A-1"', '"sku":"A-1","sku":"B-2"', None),  # duplicate keys: the last, both ways
        ('"sku":"A-1"', '"sku":"}],\\"stop_reason\\":\\"max_tokens\\",\\"usage\\":{"', None),
        ('"sku":"A-1"', '"sku":"}],"', None),
        ('"sku":"A-1"', '"sku":"}]"}]', sb.FailureKind.MALFORMED_RESULT),
        ('"when":"2026-07-05"', '"when":"2026-13-05"', sb.FailureKind.INVALID),
        ('"when":"2026-07-05"', '"when":20260705', sb.FailureKind.INVALID),
        ('"ref":"S-1",', "", sb.FailureKind.INVALID),
        ('"2026-07-05"}', '"2026-07-05","extra":1}', None),  # ignored by the model, both ways
    ],
)
def test_tool_inputs_the_layout_reader_must_read_as_the_general_path(
    before: str, after: str, kind: sb.FailureKind | None
) -> None:
    assert before in SHIPMENT_INPUT
    line = _shipment_line(SHIPMENT_INPUT.replace(before, after, 1))
    with general_path_only():
        general = SHIPMENT.parse(line)
    assert general.kind is kind, general
    # the reader takes exactly the clean successes (a coercion or a repair is the general path's)
    assert (SHIPMENT._line_validator.outcome(line) is not None) == (general.ok and not general.repairs)
    both_ways(SHIPMENT, line)
    both_ways(SHIPMENT, line.encode())


_HEAD_PARTS = (
    '"result":{"type":"succeeded","message":{"id":"msg_1","type":"message",'
    '"role":"assistant","model":"claude-haiku-4-5","content":[{"type":"tool_use","id":"toolu_1",'
)


@pytest.mark.parametrize(
    ("head", "tail"),
    [
        # envelopes laid out otherwise: the layout-free reader or the general path decides
        (CANONICAL_HEAD.replace('"name":"Shipment"', '"name":"Shipments"'), CANONICAL_TAIL),
        (CANONICAL_HEAD.replace('"name":"Shipment"', '"name":"shipment"'), CANONICAL_TAIL),
        (CANONICAL_HEAD.replace('"succeeded"', '"errored"'), CANONICAL_TAIL),
        (
            CANONICAL_HEAD.replace('"custom_id":"c-1"', '"custom_id":"c\\u00e9"'),
            CANONICAL_TAIL,
        ),
        (CANONICAL_HEAD.replace('"custom_id":"c-1"', '"custom_id":"c\\"1"'), CANONICAL_TAIL),
        (CANONICAL_HEAD.replace('"custom_id":"c-1"', '"custom_id":7'), CANONICAL_TAIL),
        (CANONICAL_HEAD.replace('"model":"claude-haiku-4-5"', '"model":"claude\thaiku"'), CANONICAL_TAIL),
        (CANONICAL_HEAD.replace('"type":"message",', ""), CANONICAL_TAIL),
        (CANONICAL_HEAD.replace('"id":"msg_1",', '"id":"msg_1","container":null,'), CANONICAL_TAIL),
        (CANONICAL_HEAD.replace(":", ": "), CANONICAL_TAIL.replace(":", ": ")),
        (CANONICAL_HEAD, CANONICAL_TAIL.replace('"tool_use"', '"end_turn"')),
        (CANONICAL_HEAD, CANONICAL_TAIL.replace('"tool_use"', '"max_tokens"')),
        (CANONICAL_HEAD, CANONICAL_TAIL.replace('"tool_use"', '"refusal"')),
        (CANONICAL_HEAD, CANONICAL_TAIL.replace('"tool_use"', '"pause_turn"')),
        (CANONICAL_HEAD, CANONICAL_TAIL.replace('"tool_use",', '"tool_use","stop_reason":"max_tokens",')),
        (CANONICAL_HEAD, CANONICAL_TAIL.replace('null,"usage"', '"END","usage"')),
        (CANONICAL_HEAD, CANONICAL_TAIL.replace("}],", '},{"type":"text","text":"also"}],')),
        (
            CANONICAL_HEAD,
            CANONICAL_TAIL.replace("}],", '},{"type":"tool_use","id":"t2","name":"Shipment","input":{}}],'),
        ),
        (CANONICAL_HEAD.replace('"content":[', '"content":[{"type":"text","text":"Here:"},'), CANONICAL_TAIL),
        (CANONICAL_HEAD, CANONICAL_TAIL.replace('"input_tokens":12', '"input_tokens":null')),
        (CANONICAL_HEAD, CANONICAL_TAIL.replace('"input_tokens":12', '"input_tokens":12.0')),
        (CANONICAL_HEAD, CANONICAL_TAIL.replace('"input_tokens":12', '"input_tokens":true')),
        (CANONICAL_HEAD, CANONICAL_TAIL.replace('"output_tokens":7', '"output_tokens":7,"output_tokens":9')),
        (
            CANONICAL_HEAD,
            CANONICAL_TAIL.replace('"service_tier":"batch"', '"service_tier":"batch","x":[1,{}]'),
        ),
        (CANONICAL_HEAD, '}],"stop_reason":"tool_use","stop_sequence":null}}}\n'),
        (CANONICAL_HEAD, '}],"stop_reason":"tool_use","stop_sequence":null,"usage":null}}}\n'),
        (CANONICAL_HEAD, CANONICAL_TAIL.replace("}}}}", '},"stop_details":null}}}')),
        (CANONICAL_HEAD, CANONICAL_TAIL.replace("}}}}", "}}},")),
        (CANONICAL_HEAD, CANONICAL_TAIL.replace("}}}}", "}}}} x")),
        (CANONICAL_HEAD, CANONICAL_TAIL.replace("}}}}", "}}}")),
        (CANONICAL_HEAD, CANONICAL_TAIL.replace("}}}}", '}},"type":"errored"}}')),
        (CANONICAL_HEAD, CANONICAL_TAIL.replace("}}}}", '}}},"custom_id":"other"}')),
        (
            '{"custom_id":"c-1","result":{"type":"succeeded","message":{"id":"msg_1","container":null,'
            '"content":[{"type":"tool_use","id":"toolu_1","name":"Shipment","input":',
            '}],"diagnostics":null,"model":"m","role":"assistant","stop_details":null,"stop_reason":"tool_use",'
            '"stop_sequence":null,"type":"message","usage":{"input_tokens":1,"output_tokens":2}}}}\n',
        ),
        ('{"result":{"message":{"content":[{"input":', "}]}}}"),
    ],
)
def test_envelopes_the_layout_reader_must_read_as_the_general_path(head: str, tail: str) -> None:
    line = _shipment_line(head=head, tail=tail)
    both_ways(SHIPMENT, line)
    both_ways(SHIPMENT, line.encode())


def test_the_emulators_layout_takes_the_layout_reader() -> None:
    """The emulator writes message keys in another order (container, content, diagnostics, ...,
    usage last): still one clean answer read without the layout-free pass."""
    line = _shipment_line(
        head='{"custom_id":"c-1","result":{"type":"succeeded","message":{"id":"msg_1","container":null,'
        '"content":[{"type":"tool_use","id":"toolu_1","name":"Shipment","input":',
        tail='}],"diagnostics":null,"model":"m","role":"assistant","stop_details":null,"stop_reason":"tool_use",'
        '"stop_sequence":null,"type":"message","usage":{"input_tokens":1,"output_tokens":2}}}}\n',
    )
    reader = SHIPMENT._line_validator
    assert reader._head(line.encode()) is not None
    assert reader.outcome(line) is not None
    assert SHIPMENT.parse(line).usage == sb.Usage(input_tokens=1, output_tokens=2)


@pytest.mark.parametrize("shape", sorted(_shapes.SHAPES))
def test_every_benchmark_shape_takes_the_layout_reader(shape: str) -> None:
    """The lines `make bench` times are read by the layout reader, as the general path reads them
    (a benchmark of a path that falls back would measure the wrong thing)."""
    model = _shapes.SHAPES[shape]
    spec = sb.compile(model.model)
    for line in _shapes.lines(model, 20):
        assert spec._line_validator.outcome(line) is not None
        both_ways(spec, line + b"\n")


def test_a_line_that_is_not_text_is_left_to_the_general_path() -> None:
    raw = _shipment_line().encode()
    for line in (raw.replace(b"A-1", b"A-\xff"), "\ud800" + raw.decode()):
        assert SHIPMENT._line_validator.outcome(line) is None
        both_ways(SHIPMENT, line)


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
        assert _fastline.needs_care(('{"x":' + spelled + "}").encode()), spelled


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
