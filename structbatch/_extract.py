"""Text -> JSON candidates: every place a model may have put its answer, parsed without lying.

A model's text answer may hold JSON as the whole text, in a code fence (any style, possibly
unterminated), inside an XML-ish tag, or somewhere between a preamble and a postamble. `extract`
gathers all of them; `_parse` decides which one (if any) is the answer.

Parsing is strict first (`orjson`, the hot path) and falls back to a small tolerant parser that
applies only lossless repairs, each recorded by name:

    trailing_comma, comment (`//`, `/* */`, `# `), single_quotes, unquoted_key, python_literal,
    smart_quotes, raw_newline_in_string, raw_tab_in_string, raw_control_char,
    escaped_single_quote, duplicate_key_same_value, double_encoded,
    apostrophe_in_single_quotes (`'Joe's Diner'`: a quote followed by a letter cannot close),
    inner_quotes (`"says "hello" twice"`: paired quotes each followed by a letter or digit, or
    by one space and a letter or digit, cannot close), missing_comma (between members or items
    on a line break, or between two quoted strings), invalid_escape (`\\d` kept as written:
    an escape that means nothing in JSON and nothing else elsewhere), unquoted_enum_value (a
    bare word that is exactly one of the schema's enum members, checked against its position
    by `_parse`), closed_final_brace (only with `close_final`: the text ends in an object whose
    last value is complete and only its final `}` is missing)

Whatever would invent or lose data makes a candidate unusable instead (a `Rejected` region):
elision markers (`...`, `…`, `etc.`, a `// rest omitted` comment, a `"..."` placeholder string),
NaN/Infinity (and numbers too large to be finite), duplicate keys with different values. Nothing
else is auto-closed: an opening bracket that never closes is reported as `cut_at`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic_core import SchemaValidator, core_schema

# Reasons a JSON-looking region was not usable.
SYNTAX = "syntax"
ELISION = "elision"
NON_FINITE = "non_finite"
DUPLICATE_KEY = "duplicate_key"
#: reasons that mean "this is JSON, but it stands for data we do not have" (an `invalid` answer,
#: not a `no_json` one)
INTEGRITY_REASONS = frozenset({ELISION, NON_FINITE, DUPLICATE_KEY})

_MAX_DEPTH = 400
_MAX_RESTARTS = 64
_MAX_DESCENT = 3


class JSONProblem(ValueError):
    """Why a piece of text is not usable JSON, and where (offset and JSON path)."""

    def __init__(self, reason: str, message: str, pos: int = 0, path: str = "$") -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.pos = pos
        self.path = path


@dataclass(frozen=True, slots=True)
class Candidate:
    """One parsed JSON value found in the text, where it was, and the repairs it needed."""

    value: Any
    start: int
    end: int
    source: str
    repairs: tuple[str, ...] = ()
    #: the value serialised by orjson, when the strict path made it (reused for validation)
    dumped: bytes | None = None


@dataclass(frozen=True, slots=True)
class Rejected:
    """A JSON-looking region that could not be used (and why)."""

    start: int
    end: int
    reason: str
    message: str
    path: str = "$"


@dataclass(slots=True)
class Extraction:
    """Everything found in one text.

    `cut_at` is the offset of an opening bracket whose JSON-looking content runs to the end of
    the text without closing: the text was cut there (or the model left it unclosed).
    """

    text: str
    candidates: list[Candidate] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    cut_at: int | None = None
    #: the brackets still open at the end of the text when `cut_at` is set ("" inside a string)
    cut_open: str = ""
    want_scalars: bool = True
    #: bare words the tolerant parser may read as strings (the schema's one-word enum members)
    words: frozenset[str] = frozenset()


class BareWord(str):
    """A string the text wrote without quotes (`"size": medium`): only an enum member of the
    schema at its position may stand there (`_coerce.settle_words` checks and unwraps it)."""

    __slots__ = ()


# ---- strict loading (the hot path) --------------------------------------------------------------

#: maps ASCII digits to b"0" and every other byte to b" ": a run of 19 zeros is a 19-digit run
_DIGITS_ONLY = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))
_NINETEEN_DIGITS = b"0" * 19
_ELISION_STRING = re.compile(r"\s*(?:\.{3,}|…+|[Ee]tc\.?|\[\.\.\.\]|\.\.\.etc\.?)\s*")
#: How the end of a placeholder string can look in JSON text: its last part (`...`, `…`, `etc`,
#: `etc.`, `...]`), then only whitespace (raw or escaped) up to the closing quote. A `\u`
#: escape of an ASCII character or of `…` could spell a placeholder's letters, so it counts too.
#: A superset of `_ELISION_STRING` in every JSON spelling (tests/test_extract_suspect.py): a hit
#: only means "walk the value and look".
ELISION_SUSPECT = (
    r"(?:\.\.\.|…|[Ee]tc)[.\]]?(?:\s|\\[nrtf]|\\u[0-9a-fA-F]{4})*\""
    r"|\\u(?:00[2-7][0-9a-fA-F]|2026)"
)


def suspect_finder(pattern: str) -> Callable[[bytes | str], bool]:
    """`pattern` searched in UTF-8 JSON text by pydantic-core's compiled Rust regex.

    About ten times faster than `re` or three substring scans over a 1.4 KB result line
    (~0.35 µs): a `str_schema` pattern is searched, not anchored, and `isinstance_python`
    answers without raising. Bytes that are not UTF-8 answer False (no JSON parser takes them).
    """
    return SchemaValidator(core_schema.str_schema(pattern=pattern)).isinstance_python


_may_hold_elision = suspect_finder(ELISION_SUSPECT)


def loads_json(text: str | bytes) -> Any:
    """Parse strict JSON, refusing what would lie (see `_loads_strict`). Raises `JSONProblem`."""
    return _loads_strict(text)[0]


def _loads_strict(text: str | bytes) -> tuple[Any, tuple[str, ...], bytes | None]:
    """Parse strict JSON, refusing what would lie: duplicate keys, elisions, non-finite numbers.

    `orjson` alone keeps the last of two duplicate keys and turns integers beyond 64 bits into
    floats. Both are caught without a Python walk. Duplicates: every `:` of strict JSON is a key
    separator or inside a string, and strings re-serialise with the same colons (unless written
    with `\\u` escapes), so the colon counts of the text and of the value re-serialised by
    orjson (returned too, for validation) match exactly when no key was dropped. Big integers:
    orjson reads one as a float of magnitude 9.2e18 or more, which it writes with an exponent
    (`e+`), and only a run of 19 digits can be one; the digit search (the costlier check) runs
    only when the re-serialised value holds an `e+`. A text with a `\\u` escape, a big integer
    or a colon count that differs goes to the tolerant parser, which keeps integers exact, refuses a
    duplicate key with another value and names one with the same value (the only repair strict
    JSON can need).
    Raises `JSONProblem`.
    """
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise JSONProblem(SYNTAX, f"not valid JSON: {exc}", getattr(exc, "pos", 0)) from None
    if not isinstance(value, (dict, list)):
        if isinstance(value, str) and len(value) <= 9 and _ELISION_STRING.fullmatch(value):
            raise JSONProblem(ELISION, f"placeholder {value!r} stands for omitted data")
        if isinstance(value, float) and _has_big_int(text):
            return (*parse_lenient(_as_str(text)), None)
        return value, (), None
    try:
        dumped = orjson.dumps(value)
    except orjson.JSONEncodeError:  # nested deeper than orjson writes (255): no colon check
        return (*parse_lenient(_as_str(text)), None)
    colons = dumped.count(b":")
    if isinstance(text, str):
        odd = "\\u" in text or text.count(":") != colons
    else:
        odd = b"\\u" in text or text.count(b":") != colons
    if odd or (b"e+" in dumped and _has_big_int(text)):
        return (*parse_lenient(_as_str(text)), None)
    if _may_hold_elision(text):
        audit(value)
    return value, (), dumped


def _as_str(text: str | bytes) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else text


def loads_document(text: str | bytes, tool: bool = True) -> Any:
    """Parse a batch result line with every integer of a tool input exact.

    `orjson` turns integers beyond 64 bits into floats, which would then pass for integers of
    another value. Only a tool input can hold such numbers (text is a string; token counts are
    small), so a line with a `tool_use` block and a 19-digit run goes through the standard
    library instead. `tool` is False when the caller knows the line has no tool_use block.
    Raises a `ValueError` for invalid JSON.
    """
    value = orjson.loads(text)
    if tool and _has_big_int(text):
        return json.loads(text)
    return value


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
    """Raise `JSONProblem` when a parsed JSON value holds an elision placeholder (`"..."`).

    Serialises once and searches the bytes; only a hit pays for the walk that finds the path.
    """
    try:
        dumped = orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        audit(value)
        return
    if may_hold_elision(dumped):
        audit(value)


def audit(value: Any) -> None:
    """Raise `JSONProblem` if a parsed value holds an elision placeholder or a non-finite float.

    A walk without paths (callers run it only after a cheap pre-check hit); the path of a
    problem is found afterwards.
    """
    stack: list[Any] = [value]
    pop, push = stack.pop, stack.extend
    while stack:
        node = pop()
        if isinstance(node, dict):
            push(node.values())
        elif isinstance(node, list):
            push(node)
        elif isinstance(node, str):
            if len(node) <= 9 and _ELISION_STRING.fullmatch(node):
                path = _path_of(value, node)
                raise JSONProblem(ELISION, f"placeholder {node!r} stands for omitted data", path=path)
        elif isinstance(node, float) and not math.isfinite(node):
            raise JSONProblem(NON_FINITE, "a number is not finite", path=_path_of(value, node))


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


def same_json(a: Any, b: Any) -> bool:
    """Equality of JSON values that tells `1`, `1.0` and `true` apart."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


# ---- the tolerant parser ------------------------------------------------------------------------

_WS = frozenset(" \t\r\n\u00a0\ufeff\u2028\u2029")
_LINE_BREAKS = frozenset("\n\r\u2028\u2029")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_IDENT_CHAR = re.compile(r"[A-Za-z0-9_$.]")
#: `etc` (or `etc.`) where an object member should be: `{"a": 1, etc}` (not a key: no colon)
_ETC_MEMBER = re.compile(r"etc\b\.?\s*(?=[,}]|$)", re.I)
#: words that may start a bare scalar answer (NaN and friends only to be refused by name)
_LITERAL_START = re.compile(r"(?:true|false|null|True|False|None|NaN|Infinity)\b")
_ELISION_COMMENT = re.compile(
    r"\.\.|…|\betc\b|omit|truncat|remaining|\brest\b|and so on|similar|same (?:as|pattern|format|structure)"
    r"|abbreviat|brevity|\bmore\b|continue|\band \d+ other",
    re.I,
)
#: a `#` that opens a line comment: followed by a space, a tab, another `#` or the line's end.
#: `#python` or `#ff0000` is not one (a hashtag or a colour the model forgot to quote).
_HASH_COMMENT = re.compile(r"#(?=[ \t#\r\n]|\Z)")
_LITERALS: dict[str, tuple[Any, str | None]] = {
    "true": (True, None),
    "false": (False, None),
    "null": (None, None),
    "True": (True, "python_literal"),
    "False": (False, "python_literal"),
    "None": (None, "python_literal"),
}
_NON_FINITE_WORDS = frozenset({"NaN", "nan", "Infinity", "infinity", "inf", "Inf", "NAN"})
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
#: escapes that are invalid in JSON but mean a character elsewhere (Python, C, shells): reading
#: them as a backslash and a letter could be wrong, so they stay refused
_FOREIGN_ESCAPES = frozenset("xXUNaveE01234567c")
_STRING_STOP = {
    '"': re.compile(r'["\\\x00-\x1f]'),
    "'": re.compile(r"['\\\x00-\x1f]"),
    "”": re.compile(r"[”“\\\x00-\x1f]"),
}
_OPEN_QUOTES = {'"': '"', "'": "'", "“": "”", "”": "”"}
_CLOSE_QUOTES = frozenset("\"'”")
#: what may follow a bare enum word: the end of its value
_WORD_END = re.compile(r"[ \t]*(?:[,}\]\r\n]|//|/\*|#|\Z)")


def quote_stays_open(text: str, at: int, quote: str) -> bool:
    """Is the quote character at `at`, met inside a string opened by `quote`, part of the string?

    Only where no closing quote could stand: a `'` followed by a letter (`'Joe's Diner'`); a
    `"` followed by a letter or digit, or by one space and a letter or digit
    (`"says "hello" twice"`). A closing quote is always followed by a delimiter, whitespace
    before one, or the end. The scanner (`_spans`) and the tolerant parser share this rule.
    """
    nxt = text[at + 1 : at + 3]
    if not nxt:
        return False
    if quote == "'":
        return nxt[0].isalpha()
    if quote != '"':
        return False
    if nxt[0].isalnum():
        return True
    return nxt[0] == " " and len(nxt) == 2 and nxt[1].isalnum()


def parse_lenient(text: str, words: frozenset[str] = frozenset()) -> tuple[Any, tuple[str, ...]]:
    """Parse JSON with lossless repairs; return the value and the sorted names of the repairs.

    `words` are the bare words that may stand for strings (the schema's enum members); each
    comes back as a `BareWord`. Raises `JSONProblem` for anything that cannot be repaired
    without inventing or losing data (also for nesting deeper than the parser goes).
    """
    parser = _Lenient(text, words)
    try:
        value = parser.parse()
    except RecursionError:
        raise JSONProblem(SYNTAX, "nesting too deep") from None
    return value, tuple(sorted(parser.repairs))


class _Lenient:
    """A recursive-descent JSON5-ish parser that records every repair it needed."""

    def __init__(self, s: str, words: frozenset[str] = frozenset()) -> None:
        self.s = s
        self.i = 0
        self.n = len(s)
        self.words = words
        self.repairs: set[str] = set()

    def fail(self, message: str, path: str = "$", reason: str = SYNTAX) -> JSONProblem:
        return JSONProblem(reason, message, self.i, path)

    def parse(self) -> Any:
        self.ws("$")
        value = self.value("$", 0)
        self.ws("$")
        if self.i != self.n:
            raise self.fail(f"unexpected text after the value at offset {self.i}")
        return value

    def ws(self, path: str) -> bool:
        """Skip whitespace and comments; True when a line break was among them."""
        s, n = self.s, self.n
        broke = False
        while self.i < n:
            c = s[self.i]
            if c in _WS:
                broke = broke or c in _LINE_BREAKS
                self.i += 1
            elif s.startswith("//", self.i) or (c == "#" and _HASH_COMMENT.match(s, self.i)):
                end = s.find("\n", self.i)
                end = n if end < 0 else end
                self.comment(s[self.i + (1 if c == "#" else 2) : end], path)
                self.i = end
            elif s.startswith("/*", self.i):
                end = s.find("*/", self.i + 2)
                if end < 0:
                    raise self.fail("unterminated /* comment")
                self.comment(s[self.i + 2 : end], path)
                broke = broke or any(ch in _LINE_BREAKS for ch in s[self.i : end])
                self.i = end + 2
            else:
                break
        return broke

    def comment(self, body: str, path: str) -> None:
        if _ELISION_COMMENT.search(body):
            raise self.fail(f"comment {body.strip()[:40]!r} marks omitted data", path, ELISION)
        self.repairs.add("comment")

    def value(self, path: str, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise self.fail("nesting too deep", path)
        if self.i >= self.n:
            raise self.fail("unexpected end of text", path)
        c = self.s[self.i]
        if c == "{":
            return self.object(path, depth)
        if c == "[":
            return self.array(path, depth)
        if c in _OPEN_QUOTES:
            return self.string(path)
        if c == "-" or c.isdigit():
            return self.number(path)
        if c in ".…":
            if c == "…" or self.s.startswith("...", self.i):
                raise self.fail("elision marker stands for omitted data", path, ELISION)
            raise self.fail("a number cannot start with '.'", path)
        return self.word(path, depth)

    def word(self, path: str, depth: int) -> Any:
        m = _IDENT.match(self.s, self.i)
        if not m:
            raise self.fail(f"unexpected character {self.s[self.i]!r}", path)
        word = m.group()
        if word in _LITERALS:
            value, repair = _LITERALS[word]
            if repair:
                self.repairs.add(repair)
            self.i = m.end()
            return value
        if word in _NON_FINITE_WORDS:
            raise self.fail(f"{word} is not a JSON number", path, NON_FINITE)
        if word.lower().startswith("etc"):
            raise self.fail("'etc' stands for omitted data", path, ELISION)
        # One word that is exactly an enum member, alone as a member's value or an item (never
        # the whole text): `"size": medium`. `_parse` checks it stands where that enum applies.
        if depth > 0 and word in self.words and _WORD_END.match(self.s, m.end()):
            self.repairs.add("unquoted_enum_value")
            self.i = m.end()
            return BareWord(word)
        raise self.fail(f"unquoted word {word[:20]!r} is not a JSON value", path)

    def number(self, path: str) -> Any:
        m = _NUMBER.match(self.s, self.i)
        if not m:
            if self.s.startswith(("-Infinity", "-inf", "-Inf"), self.i):
                raise self.fail("-Infinity is not a JSON number", path, NON_FINITE)
            raise self.fail("malformed number", path)
        end = m.end()
        if end < self.n and _IDENT_CHAR.match(self.s, end):
            if self.s.startswith("...", end) or self.s.startswith("…", end):
                raise self.fail("elision marker stands for omitted data", path, ELISION)
            raise self.fail(f"malformed number {self.s[self.i : end + 1]!r}", path)
        text = m.group()
        self.i = end
        if m.group().lstrip("-").isdigit():
            return int(text)
        number = float(text)
        if not math.isfinite(number):
            raise self.fail(f"{text} is too large to be a finite number", path, NON_FINITE)
        return number

    def string(self, path: str) -> str:
        s = self.s
        open_q = s[self.i]
        close_q = _OPEN_QUOTES[open_q]
        if open_q == "'":
            self.repairs.add("single_quotes")
        elif open_q != '"':
            self.repairs.add("smart_quotes")
        stop = _STRING_STOP[close_q]
        parts: list[str] = []
        inner = 0  # quotes kept inside the string (see `quote_stays_open`)
        i = self.i + 1
        while True:
            m = stop.search(s, i)
            if m is None:
                self.i = self.n
                raise self.fail("unterminated string", path)
            j = m.start()
            parts.append(s[i:j])
            c = s[j]
            if c == close_q or (close_q == "”" and c == "“"):
                if close_q in "'\"" and quote_stays_open(s, j, close_q):
                    parts.append(c)
                    inner += 1
                    i = j + 1
                    continue
                self.i = j + 1
                break
            if c == "\\":
                i = self.escape(j, parts, path)
                continue
            parts.append(c)
            self.repairs.add(
                "raw_newline_in_string"
                if c in "\n\r"
                else "raw_tab_in_string"
                if c == "\t"
                else "raw_control_char"
            )
            i = j + 1
        if inner:
            if close_q == "'":
                self.repairs.add("apostrophe_in_single_quotes")
            elif inner % 2:  # `"5" tall"`: an odd quote has no partner; where it belongs is a guess
                raise self.fail("an unescaped quote inside a string has no partner", path)
            else:
                self.repairs.add("inner_quotes")
        text = "".join(parts)
        if len(text) <= 9 and _ELISION_STRING.fullmatch(text):
            raise self.fail(f"placeholder {text!r} stands for omitted data", path, ELISION)
        return text

    def escape(self, j: int, parts: list[str], path: str) -> int:
        """Decode the escape at `j` (a backslash) into `parts`; return the offset after it."""
        s = self.s
        if j + 1 >= self.n:
            raise self.fail("unterminated escape", path)
        e = s[j + 1]
        if e in _ESCAPES:
            parts.append(_ESCAPES[e])
            return j + 2
        if e == "'":
            if s[self.i] != "'":
                self.repairs.add("escaped_single_quote")
            parts.append("'")
            return j + 2
        if e == "u":
            code = self.hex4(j + 2, path)
            end = j + 6
            if 0xD800 <= code <= 0xDBFF and s.startswith("\\u", end):
                low = self.hex4(end + 2, path)
                if 0xDC00 <= low <= 0xDFFF:
                    parts.append(chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)))
                    return end + 6
            if 0xD800 <= code <= 0xDFFF:
                raise self.fail("lone surrogate escape", path)
            parts.append(chr(code))
            return end
        if e.isprintable() and not e.isspace() and e not in _FOREIGN_ESCAPES:
            # `\d` in a regex, `C:\Users`: the backslash was meant literally
            self.repairs.add("invalid_escape")
            parts.append("\\")
            return j + 1
        raise self.fail(f"invalid escape \\{e}", path)

    def hex4(self, at: int, path: str) -> int:
        digits = self.s[at : at + 4]
        if len(digits) != 4 or not all(ch in "0123456789abcdefABCDEF" for ch in digits):
            raise self.fail("malformed \\u escape", path)
        return int(digits, 16)

    def key(self, path: str) -> str:
        c = self.s[self.i] if self.i < self.n else ""
        if c in _OPEN_QUOTES:
            return self.string(path)
        m = _IDENT.match(self.s, self.i)
        if not m:
            raise self.fail("expected a key", path)
        self.repairs.add("unquoted_key")
        self.i = m.end()
        return m.group()

    def elision_ahead(self) -> bool:
        return self.s.startswith("...", self.i) or self.s.startswith("…", self.i)

    def missing_comma(self, broke: bool, after_string: bool) -> bool:
        """May a separator be read where none is: on a line break, or between two strings?"""
        if broke or (after_string and self.s[self.i] in _OPEN_QUOTES):
            self.repairs.add("missing_comma")
            return True
        return False

    def object(self, path: str, depth: int) -> dict[str, Any]:
        self.i += 1
        out: dict[str, Any] = {}
        after_comma = False
        broke = after_string = False
        while True:
            broke = self.ws(path) or broke
            if self.i >= self.n:
                raise self.fail("unclosed object", path)
            if self.s[self.i] == "}":
                if after_comma:
                    self.repairs.add("trailing_comma")
                self.i += 1
                return out
            if self.elision_ahead() or _ETC_MEMBER.match(self.s, self.i):
                raise self.fail("elision marker stands for omitted members", path, ELISION)
            if out and not after_comma and not self.missing_comma(broke, after_string):
                raise self.fail("expected ',' or '}' between members", path)
            key = self.key(path)
            child = f"{path}.{key}"
            self.ws(child)
            if self.i >= self.n or self.s[self.i] != ":":
                raise self.fail(f"expected ':' after key {key!r}", child)
            self.i += 1
            self.ws(child)
            value = self.value(child, depth + 1)
            after_string = isinstance(value, str) and self.s[self.i - 1] in _CLOSE_QUOTES
            if key in out:
                if not same_json(out[key], value):
                    raise self.fail(f"duplicate key {key!r} with different values", child, DUPLICATE_KEY)
                self.repairs.add("duplicate_key_same_value")
            out[key] = value
            broke = self.ws(path)
            after_comma = self.i < self.n and self.s[self.i] == ","
            if after_comma:
                self.i += 1
                broke = False

    def array(self, path: str, depth: int) -> list[Any]:
        self.i += 1
        out: list[Any] = []
        after_comma = False
        broke = after_string = False
        while True:
            broke = self.ws(f"{path}[{len(out)}]") or broke
            if self.i >= self.n:
                raise self.fail("unclosed array", path)
            if self.s[self.i] == "]":
                if after_comma:
                    self.repairs.add("trailing_comma")
                self.i += 1
                return out
            if out and not after_comma and not self.missing_comma(broke, after_string):
                raise self.fail("expected ',' or ']' between items", path)
            out.append(self.value(f"{path}[{len(out)}]", depth + 1))
            after_string = self.s[self.i - 1] in _CLOSE_QUOTES and isinstance(out[-1], str)
            broke = self.ws(f"{path}[{len(out)}]")
            after_comma = self.i < self.n and self.s[self.i] == ","
            if after_comma:
                self.i += 1
                broke = False


def load_any(text: str, words: frozenset[str] = frozenset()) -> tuple[Any, tuple[str, ...], bytes | None]:
    """Strict first, tolerant second; raise `JSONProblem` (the tolerant parser's, if both fail).

    Returns the value, its repairs, and its orjson serialisation when the strict path made one.
    """
    try:
        return _loads_strict(text)
    except JSONProblem as strict:
        if strict.reason != SYNTAX:
            raise
    return (*parse_lenient(text, words), None)


# ---- finding candidates -------------------------------------------------------------------------

_FENCE = re.compile(
    r"^[ \t]*(?P<f>`{3,}|~{3,})[ \t]*(?P<lang>[^\n`]*)\n(?P<body>.*?)(?:^[ \t]*(?P=f)[ \t]*$|\Z)",
    re.S | re.M,
)
_TAG = re.compile(r"<(?P<t>[A-Za-z][\w.:-]{0,40})(?:\s[^<>]{0,200})?>(?P<body>.*?)</(?P=t)\s*>", re.S)
_STRUCT = re.compile(r"""[{}\[\]"'“”\\/#]""")
_JSONISH_OBJECT = re.compile(r"""\s*(?:["'“”}]|/[/*]|#[ \t#\r\n]|[A-Za-z_$][A-Za-z0-9_$]*\s*:|\Z)""")
_JSONISH_ARRAY = re.compile(
    r"""\s*(?:["'“”{\[\]\-0-9]|\.\.\.|…|/[/*]|#[ \t#\r\n]|(?:true|false|null|True|False|None)\b|\Z)"""
)
_PAIRS = {"}": "{", "]": "["}


def glue_prefill(text: str, prefill: str | None) -> str:
    """Put an assistant prefill back in front of the text it was continued by.

    The API returns only what follows a prefill (`{` in PREFILL mode). When the text already
    repeats the prefill, it is left as is rather than doubled.
    """
    if not prefill:
        return text
    if text.lstrip().startswith(prefill.strip()):
        return text
    return prefill + text


def extract(
    text: str,
    prefill: str | None = None,
    *,
    scalars: bool = True,
    words: frozenset[str] = frozenset(),
    close_final: bool = False,
) -> Extraction:
    """Find every JSON candidate in `text` (see the module docstring). Never raises.

    `scalars=False` skips bare scalars in fences and tags (a string, number or literal alone):
    a caller whose values are always objects or arrays would only discard them. `words` are
    the bare words that may stand for strings (see `BareWord`). `close_final` (the model ended
    its turn: `stop_reason` `end_turn`) lets an object that runs to the end of the text with
    only its final `}` missing be closed (`closed_final_brace`).
    """
    text = glue_prefill(text, prefill)
    out = Extraction(text)
    out.want_scalars = scalars
    out.words = words
    try:
        _extract_into(out)
        if close_final and out.cut_at is not None:
            _close_final(out)
    except RecursionError:
        out.rejected.append(Rejected(0, len(text), SYNTAX, "nesting too deep"))
    return out


#: a closing code fence after the unclosed object (```` ```json\n{...\n``` ````)
_FENCE_TAIL = re.compile(r"\n[ \t]*(?:`{3,}|~{3,})[ \t]*\Z")
#: how a closed last value ends: a string, an array or object, a literal. Not a number: nothing
#: closes one, and `12` may be the start of `123`.
_VALUE_END = re.compile(r"""(?:["'”\]}]|\b(?:true|false|null|True|False|None))\Z""")


def _close_final(out: Extraction) -> None:
    """Close the object at `cut_at` when only its final `}` is missing and its last value is
    closed (a string, an array or object, a literal). Only under `end_turn`: the model stopped
    on purpose. A number at the end, an open string, an open inner bracket, a dangling `,` or
    `:` stay refused."""
    assert out.cut_at is not None
    text = out.text
    start = out.cut_at
    if out.cut_open != "{" or text[start] != "{":
        return
    body = text[start:].rstrip()
    fence = _FENCE_TAIL.search(body)
    if fence is not None:
        body = body[: fence.start()].rstrip()
    if not _VALUE_END.search(body):
        return
    try:
        value, repairs, _ = load_any(body + "}", out.words)
    except JSONProblem as exc:
        if exc.reason != SYNTAX:
            out.rejected.append(Rejected(start, len(text), exc.reason, exc.message, exc.path))
            out.cut_at = None
        return
    if not isinstance(value, dict):
        return
    out.cut_at = None
    out.candidates.append(
        Candidate(value, start, start + len(body), "closed", tuple(sorted({*repairs, "closed_final_brace"})))
    )


def lone_value(text: str) -> tuple[Any, bytes, int, int] | None:
    """The value `extract` finds alone in the usual answer (preamble, one JSON object or array,
    postamble), strictly parsed: `(value, dumped, start, end)`.

    None whenever `extract` might find anything else (no brackets, a bracket outside the span,
    a text that is itself a JSON scalar, JSON that needs a repair or is refused): the caller
    then takes the full search. Lets the common case skip building an `Extraction`.
    """
    start, end = _strip_bounds(text, 0, len(text))
    if start == end:
        return None
    first = text[start]
    if first not in "{[" and (
        first in '"-' or first.isdigit() or text.startswith(("true", "false", "null"), start)
    ):
        return None  # `extract` reads the whole text as a scalar first
    bounds = _bracket_bounds(text)
    if bounds is None:
        return None
    lo, hi = bounds
    try:
        value, _repairs, dumped = _loads_strict(text[lo:hi])
    except JSONProblem:
        return None
    if dumped is None:  # read by the tolerant parser
        return None
    return value, dumped, lo, hi


def _extract_into(out: Extraction) -> None:
    text = out.text
    start, end = _strip_bounds(text, 0, len(text))
    if start == end:
        return
    if (
        text[start] in '{["-' or text[start].isdigit() or text.startswith(("true", "false", "null"), start)
    ) and (_add_region(out, start, end, "whole", strict_only=True)):
        return
    fast = _bracket_bounds(text)
    if fast is not None and _add_region(out, fast[0], fast[1], "span", strict_only=True):
        _add_scalars(out, exclude=fast)
        return
    if _scalar_start(text, start):
        _add_region(out, start, end, "whole", record_syntax=False)
    _scan(out, 0, len(text), 0)
    _add_scalars(out, exclude=None)


def _strip_bounds(text: str, lo: int, hi: int) -> tuple[int, int]:
    while lo < hi and text[lo].isspace():
        lo += 1
    while hi > lo and text[hi - 1].isspace():
        hi -= 1
    return lo, hi


def _bracket_bounds(text: str) -> tuple[int, int] | None:
    """The first opening to the last closing bracket, when no bracket opens after that closing.

    If this one region parses as JSON, no other bracketed candidate can exist (every bracket of the
    text is inside it), so the full scan is skipped. That is the fast path for preamble + JSON.
    """
    opens = [p for p in (text.find("{"), text.find("[")) if p >= 0]
    if not opens:
        return None
    lo = min(opens)
    hi = max(text.rfind("}"), text.rfind("]"))
    if hi <= lo or max(text.rfind("{"), text.rfind("[")) > hi:
        return None
    return lo, hi + 1


def _add_region(
    out: Extraction,
    start: int,
    end: int,
    source: str,
    *,
    strict_only: bool = False,
    record_syntax: bool = True,
) -> bool:
    """Parse `text[start:end]` into a candidate (or a rejection). True when the region was settled.

    `strict_only` tries only strict JSON (a fuller search follows when it fails); a syntax error
    is recorded as a rejection only with `record_syntax` (prose in a tag is not a failed JSON).
    """
    chunk = out.text[start:end]
    try:
        value, repairs, dumped = _loads_strict(chunk) if strict_only else load_any(chunk, out.words)
    except JSONProblem as exc:
        if exc.reason == SYNTAX:
            if record_syntax and not strict_only:
                out.rejected.append(Rejected(start, end, SYNTAX, exc.message, exc.path))
            return False
        out.rejected.append(Rejected(start, end, exc.reason, exc.message, exc.path))
        return True
    out.candidates.append(Candidate(value, start, end, source, repairs, dumped))
    _add_double_encoded(out, value, start, end, source, repairs)
    return True


def _add_double_encoded(
    out: Extraction, value: Any, start: int, end: int, source: str, repairs: tuple[str, ...]
) -> None:
    """A JSON string whose content is itself JSON (double-encoded): decode it once, strictly."""
    if not isinstance(value, str):
        return
    inner = value.strip()
    if not inner or inner[0] not in "{[":
        return
    try:
        decoded = loads_json(inner)
    except JSONProblem as exc:
        if exc.reason != SYNTAX:
            out.rejected.append(Rejected(start, end, exc.reason, exc.message, exc.path))
        return
    out.candidates.append(Candidate(decoded, start, end, source, (*repairs, "double_encoded")))


def _add_scalars(out: Extraction, exclude: tuple[int, int] | None) -> None:
    """Fence and tag bodies that are not bracketed (a bare string, number or literal).

    Bracketed bodies are already covered by the span scan. When `exclude` (the region the fast
    path parsed) is given, only the text around it is searched: a body inside it is part of that
    value, and a body that straddles it holds brackets, so it is not a bare scalar.
    """
    if not out.want_scalars:
        return
    text = out.text
    parts = [(0, len(text))] if exclude is None else [(0, exclude[0]), (exclude[1], len(text))]
    for lo_part, hi_part in parts:
        chunk = text[lo_part:hi_part]
        searches = []
        if "```" in chunk or "~~~" in chunk:
            searches.append((_FENCE, "fence"))
        if "</" in chunk:
            searches.append((_TAG, "tag"))
        for regex, source in searches:
            for m in regex.finditer(text, lo_part, hi_part):
                lo, hi = _strip_bounds(text, m.start("body"), m.end("body"))
                if lo == hi or text[lo] in "{[" or not _scalar_start(text, lo):
                    continue
                if any(c.start == lo and c.end == hi for c in out.candidates):
                    continue
                _add_region(out, lo, hi, source, record_syntax=False)


def _scalar_start(text: str, at: int) -> bool:
    """Could a bare JSON scalar start at `at` (a quote, a digit, a minus, a literal)?"""
    c = text[at]
    return c in "\"'“”-" or c.isdigit() or _LITERAL_START.match(text, at) is not None


def _scan(out: Extraction, lo: int, hi: int, descent: int) -> None:
    """Find outermost balanced `{…}`/`[…]` spans in `text[lo:hi]` and parse each one.

    The scanner is string-aware inside brackets (braces in double-, single- or smart-quoted
    strings and in comments do not count; escapes are honoured) and ignores quotes in prose. A span that fails to parse and does not look like JSON
    (`[see below: {...}]`) is searched inside; one that looks like JSON is reported as rejected,
    never mined for inner objects (those would be fragments of a broken whole).
    """
    for start, end in _spans(out, lo, hi):
        if _add_region(out, start, end, "span", record_syntax=False):
            continue
        if descent < _MAX_DESCENT and not _looks_like_json(out.text, start):
            _scan(out, start + 1, end - 1, descent + 1)
        else:
            _add_region(out, start, end, "span")


def _spans(out: Extraction, lo: int, hi: int) -> Iterator[tuple[int, int]]:
    """Yield outermost balanced spans; set `out.cut_at` when JSON-like text never closes.

    Mismatched brackets inside JSON-looking text make that region one failed span (it is not
    searched for fragments); in prose the search restarts just after the opening bracket.
    """
    text = out.text
    pos = lo
    restarts = 0
    while pos < hi and restarts <= _MAX_RESTARTS:
        stack: list[str] = []
        start = -1
        quote = ""  # the quote of the string being read, inside brackets
        skip = -1
        restart_at = -1
        for m in _STRUCT.finditer(text, pos, hi):
            p = m.start()
            if p < skip:
                continue
            c = text[p]
            if quote:
                if c == "\\":
                    skip = p + 2
                elif c == quote and not quote_stays_open(text, p, quote):
                    quote = ""
                continue
            if not stack:
                if c in "{[":
                    stack.append(c)
                    start = p
                continue
            if c in "\"'“”":
                quote = _OPEN_QUOTES[c]
            elif c in "/#":
                skip = _comment_end(text, p, hi)
            elif c in "{[":
                stack.append(c)
            elif c in "}]":
                if stack[-1] == _PAIRS[c]:
                    stack.pop()
                    if not stack:
                        yield start, p + 1
                    continue
                if _looks_like_json(text, start):
                    yield start, p + 1
                    restart_at = p + 1
                else:
                    restart_at = start + 1
                break
        else:
            if not stack:
                return
            if _looks_like_json(text, start):
                if hi == len(text):
                    out.cut_at = start
                    out.cut_open = "" if quote or skip > hi else "".join(stack)
                return
            restart_at = start + 1
        restarts += 1
        pos = restart_at


def _comment_end(text: str, p: int, hi: int) -> int:
    """Where a `//`, `# ` or `/* */` comment starting at `p` ends (`p` itself if it is not one)."""
    if text.startswith("//", p) or _HASH_COMMENT.match(text, p):
        end = text.find("\n", p, hi)
        return hi if end < 0 else end
    if text.startswith("/*", p):
        end = text.find("*/", p + 2, hi)
        return hi if end < 0 else end + 2
    return p


def _looks_like_json(text: str, start: int) -> bool:
    """Does the bracket at `start` open JSON (a key, a value), rather than prose like `[see 2]`?"""
    regex = _JSONISH_OBJECT if text[start] == "{" else _JSONISH_ARRAY
    return regex.match(text, start + 1) is not None
