"""Text -> JSON candidates: where answers hide, which repairs are lossless, what is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from structbatch._extract import extract
from structbatch._jsonload import loads_json
from structbatch._lenient import DUPLICATE_KEY, ELISION, NON_FINITE, BareWord, JSONProblem, parse_lenient

OBJ = {"a": 1, "b": [1, 2], "c": "x"}
OBJ_JSON = '{"a": 1, "b": [1, 2], "c": "x"}'


def values(text: str, prefill: str | None = None) -> list[Any]:
    return [c.value for c in extract(text, prefill).candidates]


# ---- where candidates are found -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        OBJ_JSON,
        f"  \n{OBJ_JSON}\n\n",
        f"Here is the data you asked for:\n\n{OBJ_JSON}\n\nLet me know if you need more.",
        f"```json\n{OBJ_JSON}\n```",
        f"```JSON   \n{OBJ_JSON}\n```\nDone.",
        f"```\n{OBJ_JSON}\n```",
        f"~~~json\n{OBJ_JSON}\n~~~",
        f"Sure!\n```json\n{OBJ_JSON}\n",  # unterminated final fence
        f"<json>{OBJ_JSON}</json>",
        f"<output>\n{OBJ_JSON}\n</output>",
        f'<recipe format="json">{OBJ_JSON}</recipe> That is all.',
        f"The answer {{as requested}}: {OBJ_JSON}",
        f"[see below] {OBJ_JSON}",
    ],
)
def test_candidate_found_in_any_wrapping(text: str) -> None:
    assert OBJ in values(text)


def test_braces_inside_strings_do_not_count() -> None:
    text = 'Result: {"s": "a } b { c", "t": "quote \\" } still string"} end'
    assert values(text) == [{"s": "a } b { c", "t": 'quote " } still string'}]


def test_every_top_level_span_is_a_candidate_but_nested_ones_are_not() -> None:
    text = 'First {"a": {"b": 1}} then {"a": {"b": 2}}.'
    assert values(text) == [{"a": {"b": 1}}, {"a": {"b": 2}}]


def test_scalars_only_from_whole_text_fences_and_tags_never_from_prose() -> None:
    assert values("42") == [42]
    assert values("<count>7</count>") == [7]
    assert values('```json\n"hello"\n```') == ["hello"]
    assert values("There are 42 items and 3 boxes.") == []
    assert values("The total is 5.") == []


def test_prefill_is_glued_back() -> None:
    assert values('"a": 1, "b": 2}', prefill="{") == [{"a": 1, "b": 2}]
    assert values('{"a": 1}', prefill="{") == [{"a": 1}]  # text repeated the prefill


def test_double_encoded_json_string_is_decoded_once() -> None:
    found = extract('"{\\"a\\": 1}"').candidates
    assert [c.value for c in found] == ['{"a": 1}', {"a": 1}]
    assert found[1].repairs == ("double_encoded",)


# ---- lossless repairs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "repair"),
    [
        ('{"a": 1, "b": [1, 2,],}', {"a": 1, "b": [1, 2]}, "trailing_comma"),
        ('{"a": 1, // the count\n "b": 2}', {"a": 1, "b": 2}, "comment"),
        ('{"a": /* one */ 1}', {"a": 1}, "comment"),
        ("{'a': 'it\\'s'}", {"a": "it's"}, "single_quotes"),
        ('{a: 1, b_2: "x"}', {"a": 1, "b_2": "x"}, "unquoted_key"),
        ('{"a": True, "b": None, "c": False}', {"a": True, "b": None, "c": False}, "python_literal"),
        ("{“a”: “b c”}", {"a": "b c"}, "smart_quotes"),
        ('{"a": "line1\nline2"}', {"a": "line1\nline2"}, "raw_newline_in_string"),
        ('{"a": "x\ty"}', {"a": "x\ty"}, "raw_tab_in_string"),
        ('{"a": 1, "a": 1}', {"a": 1}, "duplicate_key_same_value"),
        ('{"a": "don\\\'t"}', {"a": "don't"}, "escaped_single_quote"),
    ],
)
def test_lossless_repairs_are_applied_and_named(text: str, value: Any, repair: str) -> None:
    got, repairs = parse_lenient(text)
    assert got == value
    assert repair in repairs


def test_repairs_never_touch_string_contents() -> None:
    got, _ = parse_lenient("{'url': 'http://x.y/a,b', 'note': \"True, None // not a comment\",}")
    assert got == {"url": "http://x.y/a,b", "note": "True, None // not a comment"}


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1',  # never auto-closed
        '{"a": 1 "b": 2}',  # a missing comma is not guessed
        '{"a": undefined}',
        '{"a": .5}',
        '{"a": 007}',
        '{"a": 5kg}',
        '{"a": 0x10}',
        "[1,,2]",
        '{"a": "\\ud800"}',  # lone surrogate
        '{"a": "\\x41"}',  # an escape with a meaning elsewhere (Python's "A")
        '{"a": "\\U0001F600"}',
        '{"a": "\\0"}',
        '{"a": "line\\\nnext"}',  # a backslash before a line break
    ],
)
def test_unrepairable_syntax_is_refused(text: str) -> None:
    with pytest.raises(JSONProblem) as info:
        parse_lenient(text)
    assert info.value.reason == "syntax"


# ---- what would lie is refused --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason", "path"),
    [
        ('{"items": [1, 2, ...]}', ELISION, "$.items[2]"),
        ('{"items": [1, 2, …]}', ELISION, "$.items[2]"),
        ('{"a": 1, ...}', ELISION, "$"),
        ('{"items": [1, 2, // rest omitted\n]}', ELISION, "$.items[2]"),
        ('{"items": [1, /* ... */ 2]}', ELISION, "$.items[1]"),
        ('{"items": ["a", "b", "etc."]}', ELISION, "$.items[2]"),
        ('{"items": ["a", "b", etc]}', ELISION, "$.items[2]"),
        ('{"name": "..."}', ELISION, "$.name"),
        ('{"x": NaN}', NON_FINITE, "$.x"),
        ('{"x": -Infinity}', NON_FINITE, "$.x"),
        ('{"x": 1e999}', NON_FINITE, "$.x"),
        ('{"a": 1, "a": 2}', DUPLICATE_KEY, "$.a"),
        ('{"a": {"b": [1], "b": [2]}}', DUPLICATE_KEY, "$.a.b"),
    ],
)
def test_data_loss_is_refused(text: str, reason: str, path: str) -> None:
    with pytest.raises(JSONProblem) as info:
        parse_lenient(text)
    assert (info.value.reason, info.value.path) == (reason, path)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"a": 1, "a": 2}', DUPLICATE_KEY),
        ('{"a": 1, "b": {"a": 1, "a" : 3}}', DUPLICATE_KEY),
        ('{"s": "x\\u003a", "a": 1, "a": 2}', DUPLICATE_KEY),
        ('{"name": "..."}', ELISION),
        ('["a", "\\u2026"]', ELISION),
    ],
)
def test_strict_path_refuses_the_same(text: str, reason: str) -> None:
    with pytest.raises(JSONProblem) as info:
        loads_json(text)
    assert info.value.reason == reason


def test_strict_path_keeps_big_integers_exact_and_allows_colons_in_strings() -> None:
    assert loads_json('{"id": 123456789012345678901234567890}') == {"id": 123456789012345678901234567890}
    assert loads_json('{"t": "10:30", "u": "a\\":b"}') == {"t": "10:30", "u": 'a":b'}
    assert loads_json('"The story goes on..."') == "The story goes on..."


@pytest.mark.parametrize(
    "n",
    [2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**19, 99999999999999999999, -(10**40)],
)
@pytest.mark.parametrize("form", ['{{"n": {n}}}', '[1, {{"a": [{n}]}}]', '{{"t": "e+", "n": {n}}}'])
def test_integers_at_the_64_bit_edges_stay_exact(n: int, form: str) -> None:
    text = form.format(n=n)
    for source in (text, text.encode()):
        value = loads_json(source)
        assert value == json.loads(text)
        leaves = [value["n"]] if isinstance(value, dict) else [value[1]["a"][0]]
        assert type(leaves[0]) is int


@given(st.lists(st.integers(min_value=-(10**30), max_value=10**30), min_size=1, max_size=5))
def test_integers_of_any_size_stay_exact(numbers: list[int]) -> None:
    assert loads_json(json.dumps({"xs": numbers, "s": "x:y"})) == {"xs": numbers, "s": "x:y"}


def test_rejections_are_reported_not_candidates() -> None:
    ex = extract('Here: {"items": [1, 2, ...]}')
    assert ex.candidates == []
    assert [r.reason for r in ex.rejected] == [ELISION]


# ---- truncation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "b": [1, 2',
        'Here you go:\n```json\n{"items": [{"a": 1}, {"a": 2}, {"a"',
        '{"a": "unterminated',
        "Result:\n{",
        '[{"a": 1}, {"a": 2}',
    ],
)
def test_unclosed_json_at_the_end_is_cut_and_never_mined(text: str) -> None:
    ex = extract(text)
    assert ex.cut_at is not None
    assert ex.candidates == []


def test_unclosed_prose_bracket_is_not_a_cut() -> None:
    ex = extract('Note [see the table: {"a": 1}')
    assert ex.cut_at is None
    assert [c.value for c in ex.candidates] == [{"a": 1}]


def test_mismatched_brackets_in_json_are_not_mined_for_fragments() -> None:
    ex = extract('{"a": [{"b": 1}}, "c": 2}')
    assert all(c.value != {"b": 1} for c in ex.candidates)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{" * 5000,
        "[" * 5000 + "]" * 5000,
        "}{][" * 1000,
        '"' * 999,
        "```" * 50,
        "<a>" * 300 + "</a>" * 300,
        "\\" * 100 + "{",
    ],
)
def test_pathological_text_never_raises(text: str) -> None:
    extract(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("{'name': 'x}'}", {"name": "x}"}),
        ("Here it is: {'name': 'a {b'}", {"name": "a {b"}),
        ('{name: "x", // Ada\'s note\n}', {"name": "x"}),
        ('{"name": "x", /* the } brace */}', {"name": "x"}),
        ('[Ada\'s list] {"name": "y"}', {"name": "y"}),
    ],
)
def test_scanner_skips_single_quoted_strings_and_comments(text: str, value: Any) -> None:
    assert values(text) == [value]


@pytest.mark.parametrize("text", ['{"name": "x", etc}', '{"name": "x", etc.}', '{"name": "x", ETC }'])
def test_etc_in_place_of_members_is_an_elision(text: str) -> None:
    with pytest.raises(JSONProblem) as info:
        parse_lenient(text)
    assert info.value.reason == ELISION
    assert parse_lenient("{etc: 1}") == ({"etc": 1}, ("unquoted_key",))


# ---- issue 15: the new lossless repairs, each next to what stays refused ------------------------


@pytest.mark.parametrize(
    ("text", "value", "repair"),
    [
        ('{"a": 1, # note\n "b": 2}', {"a": 1, "b": 2}, "comment"),
        ('{\n# header\n"a": 1 ## twice\n}', {"a": 1}, "comment"),
        ('{"a": 1} # trailing', {"a": 1}, "comment"),
        ("{'a': 'Joe's Diner'}", {"a": "Joe's Diner"}, "apostrophe_in_single_quotes"),
        ("['it's', 'they're']", ["it's", "they're"], "apostrophe_in_single_quotes"),
        ('{"a": "says "hello" twice"}', {"a": 'says "hello" twice'}, "inner_quotes"),
        ('{"a": "the "b" and "c" keys"}', {"a": 'the "b" and "c" keys'}, "inner_quotes"),
        ('{"a": "x"y"z"}', {"a": 'x"y"z'}, "inner_quotes"),
        ('{"a": 1\n"b": 2}', {"a": 1, "b": 2}, "missing_comma"),
        ("[1\n2\n3]", [1, 2, 3], "missing_comma"),
        ('[{"a": 1}\n{"a": 2}]', [{"a": 1}, {"a": 2}], "missing_comma"),
        ('["a" "b"]', ["a", "b"], "missing_comma"),
        ('{"a": "x" "b": "y"}', {"a": "x", "b": "y"}, "missing_comma"),
        ('{"a": 1 // one\n"b": 2}', {"a": 1, "b": 2}, "missing_comma"),
        ('{"re": "\\d+\\.\\w"}', {"re": "\\d+\\.\\w"}, "invalid_escape"),
        ('{"re": "\\(a\\)"}', {"re": "\\(a\\)"}, "invalid_escape"),
    ],
)
def test_issue_15_repairs(text: str, value: Any, repair: str) -> None:
    got, repairs = parse_lenient(text)
    assert got == value
    assert repair in repairs


@pytest.mark.parametrize(
    "text",
    [
        '{"a": #ff0000}',  # a colour, not a comment
        '{"a": [#x\n]}',  # a hashtag: never read as an empty list
        "{'a': 'rock 'n' roll'}",  # the second quote could close
        '{"a": "he said "hi", then"}',  # a quote before a comma could close
        '{"a": "5" tall"}',  # one unpaired inner quote
        '{"a": 1 "b": 2}',  # one line, a number then a string
        "[1 2]",
        '["a" 1]',
        '{"a": "x" b: 1}',
        '{"a": "\\x41"}',
        '{"a": "\\U0001F600"}',
        '{"a": "\\N{DASH}"}',
        '{"a": "\\7"}',
        '{"a": "\\ "}',
        '{"a": medium}',  # a bare word without being an allowed enum word
    ],
)
def test_issue_15_neighbours_stay_refused(text: str) -> None:
    with pytest.raises(JSONProblem) as info:
        parse_lenient(text)
    assert info.value.reason == "syntax"


def test_bare_enum_words_only_when_allowed_and_alone() -> None:
    words = frozenset({"medium", "large"})
    value, repairs = parse_lenient('{"size": medium, "other": [large]}', words)
    assert value == {"size": "medium", "other": ["large"]} and repairs == ("unquoted_enum_value",)
    assert type(value["size"]) is BareWord  # `_words.settle_words` checks where it stands
    for text in ('{"size": medium large}', '{"size": Medium}', '{"size": mediumish}', "medium"):
        with pytest.raises(JSONProblem):
            parse_lenient(text, words)
    assert parse_lenient('{"a": null, "b": True}', frozenset({"null", "True"}))[0] == {"a": None, "b": True}


def test_the_scanner_shares_the_quote_and_comment_rules() -> None:
    # an odd number of quotes would otherwise swallow the closing brace into a string
    assert values("Result: {'name': 'Joe's Diner', 'city': 'Paris'} - done") == [
        {"name": "Joe's Diner", "city": "Paris"}
    ]
    assert values('Result: {"q": "a "b" c", "n": 1} done') == [{"q": 'a "b" c', "n": 1}]
    assert values('Here: {"a": 1, # don\'t count this {\n"b": 2}') == [{"a": 1, "b": 2}]


@pytest.mark.parametrize(
    ("text", "closed"),
    [
        ('{"a": 1, "b": [1, 2]', {"a": 1, "b": [1, 2]}),
        ('{"a": "x"', {"a": "x"}),
        ('{"a": {"b": true}', {"a": {"b": True}}),
        ('{"a": null  \n', {"a": None}),
        ('```json\n{"a": "x"\n```', {"a": "x"}),
        ("{'a': 'x'", {"a": "x"}),
    ],
)
def test_missing_final_brace_is_closed_only_when_asked(text: str, closed: Any) -> None:
    found = extract(text, close_final=True)
    assert [c.value for c in found.candidates] == [closed]
    assert "closed_final_brace" in found.candidates[0].repairs
    plain = extract(text)
    assert plain.cut_at is not None and not plain.candidates


@pytest.mark.parametrize(
    "text",
    [
        '{"a": [1, 2',  # an inner bracket is open too
        '{"a": 1,',  # dangling comma
        '{"a":',  # dangling colon
        '{"a": "x',  # inside a string
        '{"a"',  # a key with no value
        '{"a": 1 // note',  # the brace would land in the comment
        '[{"a": 1}',  # only a final `}` is ever closed
        '{"a": 1\nThanks!',  # prose after the value
        '{"a": tru',
        '{"a": 12',  # a number is never closed: it may be the start of 123
    ],
)
def test_missing_final_brace_neighbours_stay_refused(text: str) -> None:
    found = extract(text, close_final=True)
    assert not found.candidates and found.cut_at is not None


def test_an_elision_in_a_closed_object_is_still_refused() -> None:
    found = extract('{"a": [1, 2, ...]', close_final=True)
    assert not found.candidates and found.rejected[0].reason == ELISION


def test_deep_values_beyond_what_orjson_writes_are_still_checked() -> None:
    deep: Any = {"a": 1, "a2": 2}
    for _ in range(300):
        deep = [deep]
    text = json.dumps(deep)
    assert loads_json(text) == deep
    with pytest.raises(JSONProblem) as info:
        loads_json(text.replace('"a2"', '"a"'))  # a duplicate key no colon count can see here
    assert info.value.reason == DUPLICATE_KEY


def test_a_quote_before_an_unquoted_key_is_never_an_inner_quote() -> None:
    # the quote after Ada also closes the string before a missing comma and a key: two readings
    for text in (
        '{"name": "Ada" nickname: "Countess", "email": "a@b.c"}',
        '{"s": "Jam" high-priority: "yes"}',
    ):
        with pytest.raises(JSONProblem):
            parse_lenient(text)
    # no value after the colon: the key reading does not parse, the inner quotes are unique
    got = parse_lenient('{"s": "He said "note: call back" later"}')
    assert got == ({"s": 'He said "note: call back" later'}, ("inner_quotes",))
    assert parse_lenient('{"q": "says "hello" twice"}') == ({"q": 'says "hello" twice'}, ("inner_quotes",))


@pytest.mark.parametrize("text", [r'{"p": "C:\data\new"}', r'{"p": "\d+\t\w+\b"}'])
def test_an_invalid_escape_beside_a_letter_escape_is_two_readings(text: str) -> None:
    with pytest.raises(JSONProblem):
        parse_lenient(text)


def test_an_invalid_escape_alone_keeps_its_backslash() -> None:
    assert parse_lenient(r'{"p": "\d+ and \"x\""}') == ({"p": '\\d+ and "x"'}, ("invalid_escape",))


def test_an_integer_written_with_a_zero_fraction_is_read_exactly() -> None:
    assert loads_json("12345678901234567890.0") == 12345678901234567890
    assert loads_json("[12345678901234567890.0]") == [12345678901234567890]
    assert loads_json("1.2345678901234567e+19") == 1.2345678901234567e19  # a float's own spelling
    assert loads_json("2.5") == 2.5


def _deep_object(depth: int, leaf: str) -> str:
    return '{"a": ' * depth + leaf + "}" * depth


def test_json_deeper_than_orjson_writes_is_read_strictly_and_checked() -> None:
    assert loads_json(_deep_object(300, "1")) is not None
    with pytest.raises(JSONProblem) as dup:
        loads_json(_deep_object(300, '{"b": 1, "b": 2}'))
    assert dup.value.reason == DUPLICATE_KEY
    with pytest.raises(JSONProblem) as elided:
        loads_json(_deep_object(300, '"..."'))
    assert elided.value.reason == ELISION
    got = extract(_deep_object(300, '{"b": 1, "b": 1}')).candidates
    assert len(got) == 1 and got[0].repairs == ("duplicate_key_same_value",)
    assert extract(_deep_object(300, "12345678901234567890.0")).candidates[0].value is not None
