"""Strict JSON loading that refuses what would lie, falling back to the tolerant parser.

`orjson` is the hot path. It is checked, without a Python walk where possible, for what it would
silently get wrong: a duplicate key (it keeps the last), an integer beyond 64 bits or an
integer written with a zero fraction beyond 2**53 (`9007199254740993.0`: it reads a float,
which is another integer), an elision placeholder string, a non-finite number. Such a
text goes to the tolerant parser (`_lenient`), which keeps integers exact and refuses what
stands for missing data; a batch line is read again by the standard library with exact
numbers (`exact_number`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from pydantic_core import SchemaValidator, core_schema

from ._lenient import (
    DUPLICATE_KEY,
    ELISION,
    ELISION_STRING,
    NON_FINITE,
    SYNTAX,
    JSONProblem,
    parse_lenient,
    same_json,
    written_integer,
)

#: maps ASCII digits to b"0" and every other byte to b" ": a run of 19 zeros is a 19-digit run
_DIGITS_ONLY = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))
_NINETEEN_DIGITS = b"0" * 19
#: The words an elision phrase ends on (`ELISION_PHRASE`, `ELISION_TAIL`), in the casings
#: `elision_casings` gives: a placeholder's word is written in lower case, Capitalised, Title
#: Case or UPPER CASE (`more`, `More`, `MORE`), never in a mixed case (`mOrE` is data). Spelled
#: out as literals (not `(?i:...)`) so the regex engine can search for them with a literal
#: prefilter: seven times faster over a 2 KB tool input, the cost that weighs most on a clean line.
ELISION_WORDS = [
    "more",
    "others",
    "other",
    "additional",
    "so on",
    "so forth",
    "omitted",
    "shown",
    "listed",
    "truncated",
    "skipped",
    "left out",
    "things",
    "continued",
    "continues",
    "brevity",
    "space",
    "length",
    "etc",
]


def elision_casings(word: str) -> list[str]:
    """The casings an elision word is recognised in: lower, Capitalised, Title Case, UPPER."""
    return sorted({word, word[0].upper() + word[1:], word.title(), word.upper()})


#: A `\u` escape that may spell a placeholder's character: one of ASCII, or `…`.
_ESCAPE = r"\\u[0-9a-fA-F]{4}"
#: How the end of a placeholder string can look in JSON text: its last part (`...`, `…`, `etc`,
#: `etc.`, `...]`, or a word of `ELISION_WORDS` and at most one word after it), then only
#: whitespace, dots and brackets (raw or escaped) up to the closing quote. A `\u` escape of an
#: ASCII character or of `…` could spell a placeholder's letters, so it counts too.
#: A superset of every placeholder `audit` refuses, in every JSON spelling
#: (tests/test_fast_paths.py, tests/test_prose_elision.py); `audit` refuses only what it finds in
#: the string's own spelling, so the two can never disagree. A hit only means "walk and look".
ELISION_SUSPECT = (
    r"(?:\.\.\.|…|[Ee]tc)[.\]]?(?:\s|\\[nrtf]|" + _ESCAPE + r")*\""
    r"|\\u(?:00[0-7][0-9a-fA-F]|2026)"
    r"|(?:" + "|".join(c for word in ELISION_WORDS for c in elision_casings(word)) + r")"
    r"(?:(?:\s|" + _ESCAPE + r")+[A-Za-z]+)?(?:[\s.)\]]|…|\\[nrtf]|" + _ESCAPE + r")*\""
)
#: A string that, whole, says items were left out, in the forms `is_placeholder` leaves to this
#: module (`"[more entries not shown]"`, `"(truncated)"`, `"3 more…"`, `"remaining items omitted
#: for brevity"`): refused wherever it stands. Each form needs a count, an ellipsis, brackets
#: or a verb of leaving out, so a name that merely holds the words ("And More Co", "3 more days
#: of leave", "Continued") is data.
ELISION_PHRASE = re.compile(
    r"""\s*[(\[]?\s*
    (?: (?:\.\.\.|…)\s*(?:(?:and|plus|\+)\s*)?(?:(?:\d+|many|several|a\s+few)\s+)?(?:more|others?)(?:\s+[a-z]+)?
      | (?:(?:\.\.\.|…)\s*)?(?:and|plus|\+)\s*\d+\s*(?:more|others?|additional)(?:\s+[a-z]+)?
      | \d+\s+more(?:\s+[a-z]+)?\s*(?:\.\.\.|…)
      | (?:(?:\.\.\.|…)\s*)?and\s+so\s+(?:on|forth)
      | (?:the\s+)?(?:rest|remaining|remainder|more|other|additional|further)(?:\s+[a-z]+){0,2}?\s+
        (?:(?:were|are|is|was|have\s+been)\s+)?(?:omitted|not\s+shown|not\s+listed|truncated|skipped|left\s+out)
        (?:\s+for\s+(?:brevity|space|length))?
      | more\s*(?:\.\.\.|…)
      | (?:and\s+)?etc(?:\.+|…)
    )\s*[.…]*\s*[)\]]?\s*
    | \s*[(\[]\s*(?:list\s+|output\s+)?(?:truncated|continued|continues)\s*[.…]*\s*[)\]]\s*""",
    re.I | re.X,
)
#: Said loosely, which only the last item of a list can mean: `["math", "& more"]`,
#: `["math", "among others"]`.
ELISION_TAIL = re.compile(
    r"\s*(?:(?:\.\.\.|…)\s*)?(?:and|&|among)\s+(?:many\s+)?(?:more|others|other\s+[a-z]+)\s*[.…]*\s*"
    r"|\s*(?:others|more)\s*(?:\.\.\.|…)+\s*",
    re.I,
)


def suspect_finder(pattern: str) -> Callable[[bytes | str], bool]:
    """`pattern` searched in UTF-8 JSON text by pydantic-core's compiled Rust regex.

    About ten times faster than `re` or three substring scans over a 1.4 KB result line
    (~0.35 µs): a `str_schema` pattern is searched, not anchored, and `isinstance_python`
    answers without raising. Bytes that are not UTF-8 answer False (no JSON parser takes them).
    """
    return SchemaValidator(core_schema.str_schema(pattern=pattern)).isinstance_python


_may_hold_elision = suspect_finder(ELISION_SUSPECT)
#: from here on not every integer is a float: a float this large stands for an integer that
#: may differ from the one written (`9007199254740993.0` reads as ...992.0)
_EXACT_FLOAT_LIMIT = 2.0**53


#: orjson writes a float from 2**53 (9007199254740992) up to 1e16 as 16 digits and `.0`
_big_fixed_float = suspect_finder(r"9[0-9]{15}\.0")


def _may_hold_big_float(dumped: bytes) -> bool:
    """Could orjson's serialisation of a value hold a float of 2**53 or more? Such a float is
    written with an `e+` (1e16 or more) or as `9` and 15 more digits and `.0`; a hit (a `+` in a
    string too) pays for a walk. A search for `+` and one anchored on a literal `9`: 0.3 us over
    600 bytes where `b"e+" in` costs 0.6 us (`e` is everywhere) and a 16-digit run 0.84 us."""
    return dumped.find(b"+") >= 0 or _big_fixed_float(dumped)


#: how a float of 2**53 or more can be written in JSON text: 16+ digits in a run
#: (`9007199254740993.0`), or a positive exponent ending a number (`9.007199254740993e15`,
#: `90071992.547409935e8`; a UUID's `…1e234…` is no number: it is followed by `-` or `"`)
_may_write_big_float = suspect_finder(r"[0-9]{16}|[0-9][eE]\+?[0-9]+(?:[,\]} \t\r\n]|\z)")


def exact_number(text: str) -> float | int:
    """A JSON number with a fraction or an exponent: the float, or the exact integer it writes.

    A float of magnitude 2**53 or more need not be the integer written: `9007199254740993.0`
    reads as ...992.0, `12345678901234567890.0` as ...168 and `1.2345678901234567891e19` keeps
    fewer digits than it writes. An integral number written otherwise than its float's shortest
    spelling is read exactly; the shortest spelling (`1e30`, `9007199254740992.0`,
    `3.350626593528023e+16`: how a serialiser writes a float) stays that float, for a `number`
    place, and means exactly `int(Decimal(repr(x)))` to an integer place (see
    `_lenient.written_integer`, which the tolerant parser reads numbers with too).
    """
    number = float(text)
    exact = written_integer(text, number)
    return number if exact is None else exact


def _nodes(value: Any) -> Iterator[Any]:
    """Every node of a parsed JSON value, containers included, without recursion (a value may be
    nested deeper than Python's stack)."""
    stack: list[Any] = [value]
    pop, push = stack.pop, stack.extend
    while stack:
        node = pop()
        yield node
        if isinstance(node, dict):
            push(node.values())
        elif isinstance(node, list):
            push(node)


def _holds_big_float(value: Any) -> bool:
    """Does a parsed value hold a float of magnitude 2**53 or more (see `exact_number`)?"""
    return any(isinstance(node, float) and abs(node) >= _EXACT_FLOAT_LIMIT for node in _nodes(value))


def holds_big_float(value: Any, dumped: bytes | None = None) -> bool:
    """Does a parsed value hold a float of magnitude 2**53 or more, which an integer place reads
    as the integer its shortest spelling writes (`_coerce`)? Its orjson serialisation (`dumped`,
    made when not given) is searched first: only a hit pays for the walk."""
    if isinstance(value, float):
        return abs(value) >= _EXACT_FLOAT_LIMIT
    if not isinstance(value, (dict, list)):
        return False
    if dumped is None:
        try:
            dumped = orjson.dumps(value)
        except (TypeError, orjson.JSONEncodeError):  # deep, or an integer beyond 64 bits: walk
            return _holds_big_float(value)
    return _may_hold_big_float(dumped) and _holds_big_float(value)


def _loads_deep(text: str | bytes) -> tuple[Any, tuple[str, ...]]:
    """Strict JSON nested deeper than orjson writes back (255 levels; it reads 1,024), checked
    without the colon count: the standard library reads it again with every number exact and
    every duplicate key seen (a conflicting one is refused, an equal one named), then the value
    is searched for elisions. Deeper than that reader goes, the tolerant parser decides.
    """
    repairs: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                if not same_json(out[key], value):
                    raise JSONProblem(DUPLICATE_KEY, f"duplicate key {key!r} with different values")
                repairs.append("duplicate_key_same_value")
            out[key] = value
        return out

    try:
        value = json.loads(text, parse_float=exact_number, object_pairs_hook=pairs)
    except RecursionError:
        return _tolerant(_as_str(text))
    audit(value)
    return value, tuple(sorted(set(repairs)))


def _tolerant(text: str, words: frozenset[str] = frozenset()) -> tuple[Any, tuple[str, ...]]:
    """The tolerant parser, then the elision items it leaves to `audit` (`ELISION_PHRASE`,
    `ELISION_TAIL`): a walk, cheap beside the parse."""
    value, repairs = parse_lenient(text, words)
    audit(value)
    return value, repairs


def _loads_exact(text: str | bytes) -> Any:
    """Strict JSON that orjson already accepted, with every number exact (see `exact_number`)."""
    return json.loads(text, parse_float=exact_number)


def loads_json(text: str | bytes) -> Any:
    """Parse strict JSON, refusing what would lie (see `loads_strict`). Raises `JSONProblem`."""
    return loads_strict(text)[0]


def loads_strict(text: str | bytes) -> tuple[Any, tuple[str, ...], bytes | None]:
    """Parse strict JSON, refusing what would lie: duplicate keys, elisions, non-finite numbers.

    `orjson` alone keeps the last of two duplicate keys and turns integers beyond 64 bits into
    floats. Both are caught without a Python walk. Duplicates: every `:` of strict JSON is a key
    separator or inside a string, and strings re-serialise with the same colons (unless written
    with `\\u` escapes), so the colon counts of the text and of the value re-serialised by
    orjson (returned too, for validation) match exactly when no key was dropped. Big integers:
    orjson reads one as a float of magnitude 9.2e18 or more, which it writes with an exponent
    (`e+`); an integer written with a zero fraction (`12345678901234567890.0`) is no float
    either. A value holding a float of 2**53 or more (an `e+` in the re-serialised value, or a
    hit of the walk that a 16-digit run in it pays for) is read again with every number exact
    (`exact_number`), so that such a float is left only where it was written as its shortest
    spelling. A text with a `\\u` escape or a colon count that
    differs goes to the tolerant parser, which keeps integers exact, refuses a duplicate key
    with another value and names one with the same value (the only repair strict JSON can need).
    Raises `JSONProblem`.
    """
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise JSONProblem(SYNTAX, f"not valid JSON: {exc}", getattr(exc, "pos", 0)) from None
    if not isinstance(value, (dict, list)):
        if isinstance(value, str):
            audit(value)
        if isinstance(value, float) and abs(value) >= _EXACT_FLOAT_LIMIT:  # may be an integer written large
            return _loads_exact(text), (), None
        return value, (), None
    try:
        dumped = orjson.dumps(value)
    except orjson.JSONEncodeError:  # nested deeper than orjson writes (255): no colon check
        return (*_loads_deep(text), None)
    colons = dumped.count(b":")
    if isinstance(text, str):
        odd = "\\u" in text or text.count(":") != colons
    else:
        odd = b"\\u" in text or text.count(b":") != colons
    if odd:
        return (*_tolerant(_as_str(text)), None)
    # a big integer, or a float of 2**53 or more, which may be an integer written otherwise than
    # its float's shortest spelling (`12345678901234567890.0`; `9007199254740993.0` and
    # `9.007199254740993e15`, which orjson writes back as 9007199254740992.0, without an `e+`)
    if _may_hold_big_float(dumped) and (b"e+" in dumped or _holds_big_float(value)):
        value = _loads_exact(text)
        try:
            dumped = orjson.dumps(value)
        except orjson.JSONEncodeError:  # an integer beyond 64 bits: validated without bytes
            if _may_hold_elision(text):
                audit(value)
            return value, (), None
    if _may_hold_elision(text):
        audit(value)
    return value, (), dumped


def _as_str(text: str | bytes) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else text


def loads_document(text: str | bytes, tool: bool = True) -> Any:
    """Parse a batch result line with every integer of a tool input exact.

    `orjson` turns integers beyond 64 bits into floats, which would then pass for integers of
    another value. Only a tool input can hold such numbers (text is a string; token counts are
    small), so a line with a `tool_use` block and a 19-digit run, or a float of 2**53 or more
    that may be written otherwise than its shortest spelling (`9007199254740993.0`,
    `9.007199254740993e15`), goes through the standard library instead, with exact numbers.
    `tool` is False when the caller knows the line has no tool_use block.
    Raises a `ValueError` for invalid JSON.

    orjson refuses an integer of 309 or more digits outright (valid JSON all the same): such a
    line is read by the standard library too, NaN and Infinity still refused (not JSON).
    """
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        if tool and _has_big_int(text):
            return json.loads(text, parse_float=exact_number, parse_constant=_not_json)
        raise
    if tool and (_has_big_int(text) or (_may_write_big_float(text) and _holds_big_float(value))):
        return _loads_exact(text)
    return value


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _has_big_int(text: str | bytes) -> bool:
    """Does the text hold a run of 19+ digits (an integer orjson would turn into a float)?"""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return _NINETEEN_DIGITS in raw.translate(_DIGITS_ONLY)


def may_hold_elision(dumped: bytes) -> bool:
    """A cheap pre-check on serialised JSON: could a string in it be an elision placeholder?

    Only a hit pays for the walk (`audit`).
    """
    return _may_hold_elision(dumped)


def check_elision(value: Any) -> None:
    """Raise `JSONProblem` when a parsed value holds an elision placeholder (`"..."`) or a
    non-finite number (NaN, or the infinity a 400-digit number or `1e400` reads as).

    Serialises once and searches the bytes; only a hit pays for the walk that finds the path.
    orjson writes NaN and infinities as `null`, so a value with a `null` in its bytes that does
    not read back as itself is walked too (SDK messages are parsed by the standard library,
    which reads `NaN` and `1e400`).
    """
    try:
        dumped = orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        audit(value)
        return
    if may_hold_elision(dumped) or (b"null" in dumped and orjson.loads(dumped) != value):
        audit(value)


def audit(value: Any) -> None:
    """Raise `JSONProblem` if a parsed value holds an elision placeholder or a non-finite float.

    A walk without paths (callers run it only after a cheap pre-check hit); the path of a
    problem is found afterwards.
    """
    for node in _nodes(value):
        if isinstance(node, list):
            last = node[-1] if node else None
            if isinstance(last, str) and len(last) <= 40 and ELISION_TAIL.fullmatch(last) and _spelled(last):
                path = _path_of(value, last)
                raise JSONProblem(ELISION, f"the last item {last!r} stands for omitted items", path=path)
        elif isinstance(node, str):
            if len(node) <= 80 and ELISION_PHRASE.fullmatch(node) and _spelled(node):
                raise JSONProblem(ELISION, f"{node!r} stands for omitted data", path=_path_of(value, node))
            if len(node) <= 9 and ELISION_STRING.fullmatch(node) and _spelled(node):
                path = _path_of(value, node)
                raise JSONProblem(ELISION, f"placeholder {node!r} stands for omitted data", path=path)
        elif isinstance(node, float) and not math.isfinite(node):
            raise JSONProblem(NON_FINITE, "a number is not finite", path=_path_of(value, node))


def _spelled(string: str) -> bool:
    """Does the string's own JSON spelling trip `ELISION_SUSPECT`? A placeholder is refused only
    then: a string the screen lets through on a clean line is data on every path (`mOrE`)."""
    try:
        return _may_hold_elision(orjson.dumps(string))
    except orjson.JSONEncodeError:  # a lone surrogate, which orjson will not write
        return _may_hold_elision(json.dumps(string))


def _path_of(root: Any, target: Any, path: str = "$") -> str:
    """The JSON path of the first node that is `target` (identity), for error messages."""
    if root is target:
        return path
    items: Any = root.items() if isinstance(root, dict) else enumerate(root) if isinstance(root, list) else ()
    for k, v in items:
        found = _path_of(v, target, f"{path}[{k}]" if isinstance(k, int) else f"{path}.{k}")
        if found:
            return found
    return ""


def load_any(text: str, words: frozenset[str] = frozenset()) -> tuple[Any, tuple[str, ...], bytes | None]:
    """Strict first, tolerant second; raise `JSONProblem` (the tolerant parser's, if both fail).

    Returns the value, its repairs, and its orjson serialisation when the strict path made one.
    """
    try:
        return loads_strict(text)
    except JSONProblem as strict:
        if strict.reason != SYNTAX:
            raise
    return (*_tolerant(text, words), None)
