"""The clean-line reader's tail and usage: learned usage layouts, the lazy `Usage`, big exponents.

Each shortcut is held to the general path (`both_ways`): a line the reader takes must read as the
general path reads it, and a line it must not take (an odd usage, an invalid count) must end
exactly as the general path ends it.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
import uuid

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

import structbatch as sb
from structbatch import _fastline
from tests.test_fast_paths import CANONICAL_HEAD, SHIPMENT, SHIPMENT_INPUT, _shipment_line, both_ways

MIDDLE = '}],"stop_reason":"tool_use","stop_sequence":null,"usage":'
#: the usage the emulator writes: the SDK's field order (alphabetical), every field
SDK_USAGE = (
    '{"cache_creation":{"ephemeral_1h_input_tokens":0,"ephemeral_5m_input_tokens":0},'
    '"cache_creation_input_tokens":0,"cache_read_input_tokens":4,"inference_geo":"not_available",'
    '"input_tokens":21,"output_tokens":8,"output_tokens_details":{"thinking_tokens":0},'
    '"server_tool_use":null,"service_tier":"batch","speed":null}'
)


def _line(usage: str, tail: str = "}}}\n") -> str:
    return _shipment_line(head=CANONICAL_HEAD, tail=MIDDLE + usage + tail)


@pytest.mark.parametrize(
    "usage",
    [
        SDK_USAGE,
        '{"input_tokens":5,"output_tokens":6}',
        '{"output_tokens":6,"input_tokens":5}',
        "{}",
        '{"input_tokens":5,"output_tokens":6,"cache_creation":null,"service_tier":null}',
        '{"input_tokens":5,"output_tokens":null}',
        '{"input_tokens":5,"output_tokens":999999999999999999}',
        # not for the reader: the general path decides each
        '{"input_tokens":012,"output_tokens":6}',
        '{,"input_tokens":5}',
        '{"input_tokens":5"output_tokens":6}',
        '{"input_tokens":5,}',
        '{"input_tokens":"5","output_tokens":6}',
        '{"input_tokens":5,"output_tokens":1234567890123456789012}',
        '{"input_tokens":-5,"output_tokens":6}',
        '{"input_tokens":5,"output_tokens":6,"tokens_of_the_future":1}',
        '{"input_tokens":5,"cache_creation":{"ephemeral_5m_input_tokens":"x"}}',
        '{"input_tokens":5,"service_tier":"Batch Tier"}',
    ],
)
def test_every_usage_reads_as_the_general_path_reads_it(usage: str) -> None:
    line = _line(usage)
    both_ways(SHIPMENT, line)
    both_ways(SHIPMENT, line.encode())


def test_a_clean_usage_in_any_known_order_takes_the_reader() -> None:
    for usage in (SDK_USAGE, '{"output_tokens":6,"input_tokens":5}', "{}"):
        out = SHIPMENT._line_validator.outcome(_line(usage).encode())
        assert out is not None and out.ok
        assert out.usage == sb.Usage.from_api(orjson.loads(usage))


@pytest.mark.parametrize(
    "usage", ['{"input_tokens":012}', '{"input_tokens":5"output_tokens":6}', '{"input_tokens":"5"}']
)
def test_an_invalid_usage_is_never_read_as_a_success_by_the_reader(usage: str) -> None:
    assert SHIPMENT._line_validator.outcome(_line(usage).encode()) is None


def _clean_tail(reader: _fastline.LineReader, line: bytes) -> bool:
    """The reader's own tail check: a learned layout, else the any-order grammar."""
    cut = line.rfind(b'}],"')
    return any(layout(line, cut) for layout in reader._layouts) or reader._learn_tail(line, cut) is not None


def test_the_reader_learns_a_few_layouts_and_still_checks_every_line() -> None:
    reader = sb.compile(SHIPMENT.model)._line_validator
    layouts = [
        '{"input_tokens":%d,"output_tokens":6}',
        '{"output_tokens":6,"input_tokens":%d}',
        '{"input_tokens":%d}',
        '{"input_tokens":%d,"service_tier":"batch"}',
        '{"input_tokens":%d,"speed":"fast"}',
        '{"input_tokens":%d,"inference_geo":"us"}',
    ]
    for round_ in range(3):
        for layout in layouts:
            out = reader.outcome(_line(layout % (round_ + 1)).encode())
            assert out is not None and out.usage.input_tokens == round_ + 1
    assert 1 <= len(reader._layouts) <= _fastline._MAX_LAYOUTS
    # a learned layout takes any counts, never another shape: a missing comma after learning
    bad = _line('{"input_tokens":7"output_tokens":6}').encode()
    assert not _clean_tail(reader, bad) and reader.outcome(bad) is None
    # the learned object keys are the ones met: other keys in `cache_creation` are checked anew
    with_cache = '{"input_tokens":1,"cache_creation":{"ephemeral_5m_input_tokens":%s}}'
    for count, clean in (("2", True), ('"x"', False)):
        line = _line(with_cache % count).encode()
        assert _clean_tail(reader, line) is clean
        both_ways(SHIPMENT, line)


# ---- the lazy usage --------------------------------------------------------------------------


def _lazy_usage() -> sb.Usage:
    out = SHIPMENT.parse(
        _line('{"input_tokens":5,"output_tokens":6,"cache_read_input_tokens":null}').encode()
    )
    assert out.ok and type(out.usage) is not sb.Usage  # read lazily
    return out.usage


def test_the_lazy_usage_behaves_as_a_usage() -> None:
    plain = sb.Usage(input_tokens=5, output_tokens=6)
    assert _lazy_usage() == plain and plain == _lazy_usage()
    assert (_lazy_usage() != plain) is False and (plain != _lazy_usage()) is False
    assert hash(_lazy_usage()) == hash(plain) and {_lazy_usage(): 1}[plain] == 1
    assert repr(_lazy_usage()) == repr(plain)
    assert _lazy_usage() != sb.Usage(input_tokens=5, output_tokens=7)
    assert dataclasses.asdict(_lazy_usage()) == dataclasses.asdict(plain) == _lazy_usage().as_dict()
    assert dataclasses.replace(_lazy_usage(), output_tokens=1) == sb.Usage(5, 1)
    assert _lazy_usage() + plain == sb.Usage(10, 12)
    for copied in (
        pickle.loads(pickle.dumps(_lazy_usage())),
        copy.copy(_lazy_usage()),
        copy.deepcopy(_lazy_usage()),
    ):
        assert copied == plain and type(copied) is sb.Usage
    assert isinstance(_lazy_usage(), sb.Usage)
    with pytest.raises(AttributeError):
        _lazy_usage().input_token  # type: ignore[attr-defined]  # noqa: B018


def test_a_lazy_usage_in_an_outcome_survives_as_dict_and_pickling() -> None:
    out = SHIPMENT.parse(_line(SDK_USAGE).encode())
    assert out.as_dict()["usage"] == {
        "input_tokens": 21,
        "output_tokens": 8,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 4,
    }
    assert pickle.loads(pickle.dumps(out)) == out


# ---- the big-exponent screen -------------------------------------------------------------------


class Ticket(BaseModel):
    id: uuid.UUID
    score: float


def _ticket_line(tool_input: str) -> bytes:
    head = CANONICAL_HEAD.replace('"name":"Shipment"', '"name":"Ticket"')
    return (head + tool_input + MIDDLE + '{"input_tokens":1,"output_tokens":2}}}}\n').encode()


def test_a_uuid_holding_an_exponent_lookalike_is_no_big_number() -> None:
    text = '{"id":"c1e23400-1e23-4e56-8e99-91e234567890","score":1.5}'
    assert not _fastline.needs_care(text.encode())
    spec = sb.compile(Ticket)
    out = spec._line_validator.outcome(_ticket_line(text))
    assert out is not None and out.ok


@pytest.mark.parametrize("number", ["1e400", "-1.5E+400", "2e-9999", "1E309"])
def test_a_three_digit_exponent_is_still_left_to_the_general_path(number: str) -> None:
    spec = sb.compile(Ticket)
    text = '{"id":"c1e23400-1e23-4e56-8e99-91e234567890","score":' + number + "}"
    assert _fastline.needs_care(text.encode()) == (number != "2e-9999")  # orjson reads a tiny one
    both_ways(spec, _ticket_line(text))


def test_a_user_validator_error_in_the_fast_path_is_internal_not_raised() -> None:
    from pydantic import field_validator

    class Touchy(BaseModel):
        id: uuid.UUID
        score: float

        @field_validator("score")
        @classmethod
        def _boom(cls, v: float) -> float:
            raise KeyError("user bug")

    spec = sb.compile(Touchy)
    head = CANONICAL_HEAD.replace('"name":"Shipment"', '"name":"Touchy"')
    line = (head + '{"id":"c1e23400-1e23-4e56-8e99-91e234567890","score":1.5}' + MIDDLE + "{}}}}\n").encode()
    out = spec.parse(line)
    assert not out.ok and out.kind is sb.FailureKind.INTERNAL


# ---- numbers orjson refuses but JSON allows; NaN and infinity from a parsed message -----------


@pytest.mark.parametrize("number", ["1" * 400, "-" + "9" * 330])
def test_an_integer_of_309_digits_or_more_is_exact_on_both_paths(number: str) -> None:
    """orjson refuses such a line; the general path reads it with the standard library."""
    line = _shipment_line(tool_input=SHIPMENT_INPUT.replace('"qty":2', f'"qty":{number}')).encode()
    out = SHIPMENT.parse(line)
    assert out.ok and out.value.parts[0].qty == int(number)
    both_ways(SHIPMENT, line)


@pytest.mark.parametrize("number", ["1" * 400 + ".5", "1" * 320 + "e5"])
def test_a_float_of_309_digits_is_not_finite_on_the_general_path(number: str) -> None:
    """The documented difference: the clean-line path reads it as infinity (no cheap screen)."""
    line = _shipment_line(tool_input=SHIPMENT_INPUT.replace('"price":1.5', f'"price":{number}')).encode()
    out = SHIPMENT._parser.general_line(SHIPMENT, line)
    assert not out.ok and out.kind is sb.FailureKind.INVALID and "not finite" in out.failure.message


def test_nan_beside_a_long_integer_is_still_not_json() -> None:
    tool_input = SHIPMENT_INPUT.replace('"qty":2', '"qty":' + "1" * 400).replace('"price":1.5', '"price":NaN')
    out = SHIPMENT.parse(_shipment_line(tool_input=tool_input).encode())
    assert not out.ok and out.kind is sb.FailureKind.MALFORMED_RESULT


@pytest.mark.parametrize("number", [float("nan"), float("inf"), -float("inf")])
def test_a_non_finite_number_in_a_parsed_message_is_invalid(number: float) -> None:
    """The SDK parses responses with the standard library, which reads `NaN` and `1e400`."""
    message = {
        "id": "m",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5",
        "content": [
            {
                "type": "tool_use",
                "id": "t",
                "name": "Shipment",
                "input": {
                    "ref": "S-1",
                    "parts": [{"sku": "A", "qty": 1, "price": number, "ok": True, "note": None}],
                },
            }
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }
    out = SHIPMENT.parse(message)
    assert not out.ok and out.kind is sb.FailureKind.INVALID and "not finite" in out.failure.message
    message["content"][0]["input"]["parts"][0]["price"] = 2.5  # type: ignore[index]
    assert SHIPMENT.parse(message).ok


# ---- any damage to a clean line ends as the general path ends it ------------------------------

_DAMAGE_BYTES = st.sampled_from([*'{}[],:"\\ 0123456789.e-nulltrueabc\n\t', "\u00e9", '"usage":', "null,"])


@settings(max_examples=150, deadline=None)
@given(
    usage=st.sampled_from([SDK_USAGE, '{"input_tokens":5,"output_tokens":6}', "{}"]),
    edits=st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=1),
            st.sampled_from(["insert", "delete", "replace"]),
            _DAMAGE_BYTES,
        ),
        min_size=1,
        max_size=3,
    ),
    tail_only=st.booleans(),
)
def test_a_damaged_clean_line_reads_as_the_general_path_reads_it(
    usage: str, edits: list[tuple[float, str, str]], tail_only: bool
) -> None:
    """Learned layouts and the any-order grammar never take a line the general path would not
    take as the same success: the reader is primed with the clean line, then shown damaged ones."""
    clean = _line(usage)
    SHIPMENT.parse(clean.encode())  # teaches the reader this layout
    line = clean
    first = clean.index(MIDDLE) if tail_only else 0
    for where, how, what in edits:
        at = first + int(where * (len(line) - first - 1))
        if how == "insert":
            line = line[:at] + what + line[at:]
        elif how == "delete":
            line = line[:at] + line[at + 1 :]
        else:
            line = line[:at] + what + line[at + 1 :]
    both_ways(SHIPMENT, line.encode())
