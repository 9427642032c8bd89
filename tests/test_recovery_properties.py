"""Issue 15's recoveries as properties, from outside the parser: lossless damage, exact value back.

`tests/test_properties.py` checks the parser's own layers (`parse_lenient`, `_extract`, `coerce`) on
free-form JSON and the strategies' model outputs. This file checks the whole public path
(`Spec.parse_text` / `Spec.parse`) on a few fixed, realistic specs, with its own renderer, so that a
damage is applied *structurally* (never inside a string) and we know exactly which repair it calls
for:

(a) a valid value, dumped as JSON and wrapped the way Claude wraps answers (prose, fences, tags,
    thinking tags, a message text block, a tool call), comes back exactly, with no repair;
(b) each lossless damage the issue names - single quotes (with bare apostrophes before a letter),
    trailing commas, `#` comments, missing commas on line breaks, a bare enum word, an invalid
    escape such as `\\d`, the missing final `}` at `end_turn`, padded and
    integral number strings, enum case and padding, one item for a list, keys outside a closed
    object - alone or several at once, recovers exactly the same value and lists its repair;
(c) no recovery changes a valid value: strings that look like the damage (`#`, `'`, `"`, `\\d`,
    enum names, " 42 ", "3.0") pass through every damaged rendering untouched.
(d) reshapes never drop a key the schema names: one wrapper key it does not name is unwrapped (and
    listed), one it names is refused; a root list (list[Leg]) gets the same damages as an object.

The values' strings avoid elision-like text ("...", "etc"), which is refused by design.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict

import structbatch as sb

ROOMS = ("single", "double", "suite")


class Booking(BaseModel):
    """A closed Pydantic model: an int, a float, a Literal, a list, a bool and an optional string."""

    model_config = ConfigDict(extra="forbid")
    guest: str
    nights: int
    room: Literal["single", "double", "suite"]
    rate: float
    extras: list[str]
    paid: bool
    note: str | None


class Leg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    origin: str
    stops: int


SHIPMENT: dict[str, Any] = {
    "title": "Shipment",
    "type": "object",
    "properties": {
        "ref": {"type": "string"},
        "carrier": {"type": "string", "enum": ["dhl", "ups", "fedex"]},
        "parcels": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "label": {"type": "string"},
                    "kg": {"type": "number"},
                    "count": {"type": "integer"},
                },
                "required": ["label", "kg", "count"],
                "additionalProperties": False,
            },
        },
        "to": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "zip": {"type": "string"}},
            "required": ["city", "zip"],
            "additionalProperties": False,
        },
        "fragile": {"type": "boolean"},
    },
    "required": ["ref", "carrier", "parcels", "to", "fragile"],
    "additionalProperties": False,
}

BOOKING = sb.compile(Booking)
SHIPMENT_SPEC = sb.compile(SHIPMENT)
LEGS = sb.compile(list[Leg])

# ---- values -------------------------------------------------------------------------------------

#: strings that look like a damage or a coercion; inside a valid string they are plain text
TRICKY = ["# not a comment", "Joe's", "it's 'x' y", 'say "hi" now', "a\\d", "C:\\Users", "suite", "dhl",
          " 42 ", "3.0", "x\ny", "a, b", "}", "]", "{", "//", "'", '"', "\\", "tab\there", "µ"]  # fmt: skip
_PLAIN = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters=".…\x00", exclude_categories=("Cs", "Cc")),
    max_size=10,
)
STRINGS = st.sampled_from(TRICKY) | _PLAIN
FLOATS = st.floats(allow_nan=False, allow_infinity=False, width=64) | st.integers(-(10**6), 10**6).map(float)


def _clean(s: str) -> bool:
    low = s.lower()
    return not any(w in low for w in ("etc", "omit", "more", "rest", "same", "truncat", "elided", "n/a"))


STR = STRINGS.filter(_clean)
BOOKINGS = st.fixed_dictionaries(
    {
        "guest": STR,
        "nights": st.integers(0, 10**12),
        "room": st.sampled_from(ROOMS),
        "rate": FLOATS,
        "extras": st.lists(STR, max_size=3),
        "paid": st.booleans(),
        "note": st.none() | STR,
    }
)
SHIPMENTS = st.fixed_dictionaries(
    {
        "ref": STR,
        "carrier": st.sampled_from(["dhl", "ups", "fedex"]),
        "parcels": st.lists(
            st.fixed_dictionaries({"label": STR, "kg": FLOATS, "count": st.integers(0, 999)}), max_size=3
        ),
        "to": st.fixed_dictionaries({"city": STR, "zip": STR}),
        "fragile": st.booleans(),
    }
)
LEG_LISTS = st.lists(
    st.fixed_dictionaries({"origin": STR, "stops": st.integers(0, 9)}), min_size=1, max_size=3
)

# ---- a structural renderer: damages never touch a string -----------------------------------------


class Style:
    """How to write a value: each flag is one lossless damage (all off = plain JSON)."""

    def __init__(
        self,
        *,
        single: bool = False,
        trailing: bool = False,
        comment: bool = False,
        no_commas: bool = False,
        bare: frozenset[str] = frozenset(),
        raw_apostrophes: bool = False,
        raw_backslashes: bool = False,
    ) -> None:
        self.single, self.trailing, self.comment, self.no_commas, self.bare = (
            single,
            trailing,
            comment,
            no_commas,
            bare,
        )
        self.raw_apostrophes, self.raw_backslashes = raw_apostrophes, raw_backslashes
        self.pretty = comment or no_commas
        self.used: set[str] = set()  # the repairs this rendering called for

    def string(self, s: str) -> str:
        body = json.dumps(s, ensure_ascii=False)[1:-1]
        out: list[str] = []
        i = 0
        while i < len(body):
            c = body[i]
            if c == "\\":  # one JSON escape: \\x, or \\uXXXX
                size = 6 if body[i + 1] == "u" else 2
                esc = body[i : i + size]
                after = body[i + size : i + size + 1]
                if esc == "\\\\" and self.raw_backslashes and after and after in _REGEX_LETTERS:
                    esc = "\\"  # a regex escape such as \\d written with one backslash
                    self.used.add("invalid_escape")
                elif esc == '\\"' and self.single:
                    esc = '"'
                out.append(esc)
                i += size
            elif c == "'" and self.single:
                after = body[i + 1 : i + 2]
                if self.raw_apostrophes and after.isalpha():  # cannot close the string
                    out.append("'")
                    self.used.add("apostrophe_in_single_quotes")
                else:
                    out.append("\\'")
                i += 1
            else:
                out.append(c)
                i += 1
        quote = "'" if self.single else '"'
        return quote + "".join(out) + quote


#: letters after a backslash that mean nothing in JSON or Python (a regex's \\d, \\w, \\., ...)
_REGEX_LETTERS = frozenset("dDwWsS.+*?()|^$#&-")


def render(v: Any, style: Style, depth: int = 0, key: str | None = None) -> str:
    if isinstance(v, str):
        return v if key in style.bare else style.string(v)
    if v is None or isinstance(v, (bool, int, float)):
        return json.dumps(v)
    if isinstance(v, dict):
        parts = [f"{style.string(k)}: {render(x, style, depth + 1, k)}" for k, x in v.items()]
        return _container("{", "}", parts, style, depth)
    parts = [render(x, style, depth + 1) for x in v]
    return _container("[", "]", parts, style, depth)


def _container(open_: str, close: str, parts: list[str], style: Style, depth: int) -> str:
    if not parts:
        return open_ + close
    if not style.pretty:
        body = ", ".join(parts) + ("," if style.trailing else "")
        return open_ + body + close
    pad, inner = "  " * depth, "  " * (depth + 1)
    lines = []
    for n, part in enumerate(parts):
        last = n == len(parts) - 1
        sep = "" if style.no_commas or (last and not style.trailing) else ","
        if last and style.trailing:
            sep = ","
        note = "  # checked" if style.comment and not last else ""
        lines.append(inner + part + sep + note)
    return open_ + "\n" + "\n".join(lines) + "\n" + pad + close


def _expected(style: Style, value: Any) -> set[str]:
    """The repairs a rendering called for (only damages the value gives a place to; after `render`)."""
    dicts, seqs = _containers(value)
    out: set[str] = set()
    if style.single:
        out.add("single_quotes")
    if style.trailing and (dicts + seqs):
        out.add("trailing_comma")
    if style.comment and any(n >= 2 for n in dicts + seqs):
        out.add("comment")
    if style.no_commas and any(n >= 2 for n in dicts + seqs):
        out.add("missing_comma")
    if style.bare:
        out.add("unquoted_enum_value")
    return out | style.used


def _containers(v: Any) -> tuple[list[int], list[int]]:
    dicts: list[int] = []
    seqs: list[int] = []

    def walk(x: Any) -> None:
        if isinstance(x, dict):
            if x:
                dicts.append(len(x))
            for y in x.values():
                walk(y)
        elif isinstance(x, list):
            if x:
                seqs.append(len(x))
            for y in x:
                walk(y)

    walk(v)
    return dicts, seqs


def dumped(out: Any) -> Any:
    value = out.value
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [x.model_dump(mode="json") if isinstance(x, BaseModel) else x for x in value]
    return value


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON (1 == 1.0 for a float field), with bool never equal to a number."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---- (a) clean answers in Claude's wrappings: exact value, no repair ----------------------------

WRAPS: dict[str, Callable[[str], str]] = {
    "bare": lambda t: t,
    "preamble": lambda t: "Here's the extracted data:\n\n" + t,
    "prose": lambda t: "Here is the JSON you asked for:\n" + t + "\n\nLet me know if you need anything else.",
    "fence_json": lambda t: "```json\n" + t + "\n```",
    "fence": lambda t: "Sure!\n\n```\n" + t + "\n```\n",
    "tag": lambda t: "<json>\n" + t + "\n</json>",
    "answer_tag": lambda t: "<answer>" + t + "</answer>",
    "thinking": lambda t: "<thinking>\nThe document lists everything needed.\n</thinking>\n\n" + t,
}


def _message(content: list[dict[str, Any]], stop: str) -> dict[str, Any]:
    return {
        "id": "msg_01P",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": 100, "output_tokens": 50},
    }


@FAST
@given(value=BOOKINGS | SHIPMENTS, wrap=st.sampled_from(sorted(WRAPS)), indent=st.sampled_from([None, 2]))
def test_clean_answer_in_any_wrapping_comes_back_exactly(value: Any, wrap: str, indent: int | None) -> None:
    spec = BOOKING if "guest" in value else SHIPMENT_SPEC
    text = WRAPS[wrap](json.dumps(value, indent=indent, ensure_ascii=False))
    for stop in (None, "end_turn"):
        out = spec.parse_text(text, stop_reason=stop)
        assert out.ok and _same(dumped(out), value), (text, out)
        assert out.repairs == (), (text, out.repairs)
    message = _message([{"type": "text", "text": text}], "end_turn")
    out = spec.parse(message)
    assert out.ok and _same(dumped(out), value) and out.repairs == (), (text, out)


@FAST
@given(value=BOOKINGS | SHIPMENTS)
def test_clean_tool_call_comes_back_exactly(value: Any) -> None:
    spec = BOOKING if "guest" in value else SHIPMENT_SPEC
    block = {"type": "tool_use", "id": "toolu_01", "name": spec.tool["name"], "input": value}
    out = spec.parse(_message([{"type": "text", "text": "Recording it now."}, block], "tool_use"))
    assert out.ok and _same(dumped(out), value) and out.repairs == (), out


@FAST
@given(value=LEG_LISTS, wrap=st.sampled_from(sorted(WRAPS)))
def test_root_list_bare_in_text_or_wrapped_in_a_tool_call(value: list[dict[str, Any]], wrap: str) -> None:
    out = LEGS.parse_text(WRAPS[wrap](json.dumps(value, ensure_ascii=False)))
    assert out.ok and _same(dumped(out), value), out
    assert out.repairs == (), out.repairs  # the bare list is the answer; the wrap is our tool envelope
    block = {"type": "tool_use", "id": "toolu_01", "name": LEGS.tool["name"], "input": {"items": value}}
    out = LEGS.parse(_message([block], "tool_use"))
    assert out.ok and _same(dumped(out), value) and out.repairs == (), out


# ---- (b) lossless damage: the same value, with its repair listed ---------------------------------

STYLES = st.builds(
    Style,
    single=st.booleans(),
    trailing=st.booleans(),
    comment=st.booleans(),
    no_commas=st.booleans(),
    raw_apostrophes=st.booleans(),
    raw_backslashes=st.booleans(),
)


@FAST
@given(value=BOOKINGS | SHIPMENTS, style=STYLES, bare=st.booleans())
def test_syntax_damage_recovers_the_same_value(value: Any, style: Style, bare: bool) -> None:
    spec = BOOKING if "guest" in value else SHIPMENT_SPEC
    if bare:
        style.bare = frozenset({"room" if spec is BOOKING else "carrier"})
    text = render(value, style)
    out = spec.parse_text(text, stop_reason="end_turn")
    assert out.ok, (text, out)
    assert _same(dumped(out), value), (text, dumped(out))
    assert _expected(style, value) <= set(out.repairs), (text, out.repairs)


@FAST
@given(
    value=LEG_LISTS,
    style=STYLES,
    wrap=st.sampled_from(["bare", "fence_json", "tag", "prose"]),
    pad=st.booleans(),
)
def test_root_list_damage_recovers_the_same_list(
    value: list[dict[str, Any]], style: Style, wrap: str, pad: bool
) -> None:
    """The same damages for a root list (list[Leg]), wrapped the way answers come, with padded numbers."""
    shown = [{**leg, "stops": f" {leg['stops']} "} for leg in value] if pad else value
    text = WRAPS[wrap](render(shown, style))
    out = LEGS.parse_text(text, stop_reason="end_turn")
    assert out.ok and _same(dumped(out), value), (text, out)
    assert _expected(style, shown) <= set(out.repairs), (text, out.repairs)
    assert not pad or any(r.startswith("coerce:") for r in out.repairs), out.repairs


@FAST
@given(
    value=BOOKINGS | SHIPMENTS,
    style=STYLES.filter(lambda s: not s.trailing),
    wrap=st.sampled_from(["bare", "preamble", "thinking"]),
)
def test_missing_final_brace_at_end_turn(value: Any, style: Style, wrap: str) -> None:
    spec = BOOKING if "guest" in value else SHIPMENT_SPEC
    last = "note" if spec is BOOKING else "fragile"  # a closed last value (a number may continue)
    value = {**{k: v for k, v in value.items() if k != last}, last: value[last]}
    text = WRAPS[wrap](render(value, style).rstrip()[:-1].rstrip())
    out = spec.parse_text(text, stop_reason="end_turn")
    assert out.ok and _same(dumped(out), value), (text, out)
    assert "closed_final_brace" in out.repairs, (text, out.repairs)
    # the same text cut by max_tokens is never closed
    cut = spec.parse_text(text, stop_reason="max_tokens")
    assert cut.kind is sb.FailureKind.TRUNCATED, (text, cut)


def _one_item(s: str) -> bool:
    """A string that plainly names one item: a letter or digit in it, no list separator, no placeholder."""
    bare = s.strip()
    return (
        any(c.isalnum() for c in bare)
        and not any(c in s for c in ",;\n\r")
        and bare.lower() not in {"none", "null", "n/a", "na", "nil", "nothing", "empty"}
        and bare[:1] not in "[<({"
    )


def _pad(n: int, how: int) -> str:
    return (f" {n} ", f"{n}.0", f"\t{n}\n", f"{n}.00 ")[how]


@FAST
@given(
    value=BOOKINGS,
    how=st.integers(0, 3),
    case=st.sampled_from([str.upper, str.title]),
    pad=st.sampled_from(["", " ", "\n"]),
)
def test_coercions_recover_the_same_value(
    value: dict[str, Any], how: int, case: Callable[[str], str], pad: str
) -> None:
    damaged = {**value, "nights": _pad(value["nights"], how), "room": pad + case(value["room"]) + pad}
    # one item for the list - unless the item reads as a list ("a, b", lines) or as no item at all
    # ("", "N/A", "-", "[...]"): those are refused by design (corpus heldout_wrap.jsonl)
    wrap = len(value["extras"]) == 1 and _one_item(value["extras"][0])
    if wrap:
        damaged["extras"] = value["extras"][0]
    out = BOOKING.parse_text(json.dumps(damaged, ensure_ascii=False))
    assert out.ok and _same(dumped(out), value), (damaged, out)
    kinds = {r.split(":", 1)[0] for r in out.repairs}
    assert "coerce" in kinds and "enum_case" in kinds, out.repairs
    if wrap:
        assert "wrap_list" in kinds, out.repairs


@FAST
@given(value=SHIPMENTS, where=st.sampled_from(["top", "to", "parcel"]), extra=STR | st.integers() | st.none())
def test_keys_outside_a_closed_object_are_dropped_and_named(
    value: dict[str, Any], where: str, extra: Any
) -> None:
    damaged = json.loads(json.dumps(value))
    if where == "parcel" and not damaged["parcels"]:
        where = "to"
    target = {"top": damaged, "to": damaged["to"]}.get(where) or damaged["parcels"][-1]
    target["zz_unknown"] = extra
    out = SHIPMENT_SPEC.parse_text(json.dumps(damaged, ensure_ascii=False))
    assert out.ok and _same(dumped(out), value), (damaged, out)
    assert any(r.startswith("drop_extra:") and r.endswith("zz_unknown") for r in out.repairs), out.repairs
    # a Pydantic model that forbids extra keys keeps rejecting
    rejected = BOOKING.parse_text(json.dumps({**_booking_of(value), "zz_unknown": extra}))
    assert rejected.kind is sb.FailureKind.INVALID, rejected


def _booking_of(shipment: dict[str, Any]) -> dict[str, Any]:
    return {
        "guest": shipment["ref"],
        "nights": 1,
        "room": "suite",
        "rate": 1.0,
        "extras": [],
        "paid": True,
        "note": None,
    }


# ---- (c) a recovery never changes a valid value ------------------------------------------------


@FAST
@given(value=BOOKINGS | SHIPMENTS, style=STYLES)
def test_valid_value_under_a_lenient_rendering_is_the_value(value: Any, style: Style) -> None:
    """Whatever repairs the rendering needs, valid data (tricky strings, big ints, floats) is unchanged:
    no coercion is named for a value that already fits."""
    spec = BOOKING if "guest" in value else SHIPMENT_SPEC
    out = spec.parse_text(render(value, style))
    assert out.ok and _same(dumped(out), value), out
    assert not [
        r
        for r in out.repairs
        if r.split(":", 1)[0] in {"coerce", "enum_case", "enum_whitespace", "wrap_list", "drop_extra"}
    ], out.repairs


@FAST
@given(value=BOOKINGS, damage=st.sampled_from(["about", "range", "synonym", "unit", "fraction"]))
def test_lossy_neighbours_stay_refused(value: dict[str, Any], damage: str) -> None:
    """Next to each coercion, the reading that would guess stays refused (never a value)."""
    n = value["nights"]
    bad = {
        "about": {"nights": f"about {n}"},
        "range": {"nights": f"{n}-{n + 2}"},
        "synonym": {"room": {"single": "solo", "double": "twin", "suite": "big"}[value["room"]]},
        "unit": {"nights": f"{n} nights"},
        "fraction": {"nights": f"{n}.5"},
    }[damage]
    out = BOOKING.parse_text(json.dumps({**value, **bad}, ensure_ascii=False))
    assert out.kind is sb.FailureKind.INVALID, out


@FAST
@given(
    value=SHIPMENTS,
    key=st.sampled_from(["shipment", "data", "result", "Shipment"]),
    named=st.sampled_from(sorted(SHIPMENT["properties"])),
)
def test_reshapes_never_drop_a_named_key(value: dict[str, Any], key: str, named: str) -> None:
    """One wrapper key the schema does not name is unwrapped (and said); one it names never is."""
    out = SHIPMENT_SPEC.parse_text(json.dumps({key: value}, ensure_ascii=False))
    assert out.ok and _same(dumped(out), value) and f"unwrap:{key}" in out.repairs, out
    out = SHIPMENT_SPEC.parse_text(json.dumps({named: value}, ensure_ascii=False))
    assert out.kind is sb.FailureKind.INVALID, out
    out = SHIPMENT_SPEC.parse_text(json.dumps([value], ensure_ascii=False))
    assert out.ok and _same(dumped(out), value) and "unwrap:list" in out.repairs, out
