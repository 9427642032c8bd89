"""The tolerant JSON parser: lossless repairs only, each recorded by name, and the reasons a
piece of JSON-looking text is refused.

`parse_lenient` reads what strict JSON refuses when the repair loses and invents nothing:

    trailing_comma, comment (`//`, `/* */`, `# `), single_quotes, unquoted_key, python_literal,
    smart_quotes, raw_newline_in_string, raw_tab_in_string, raw_control_char,
    escaped_single_quote, duplicate_key_same_value,
    apostrophe_in_single_quotes (`'Joe's Diner'`: a quote followed by a letter cannot close),
    inner_quotes (`"says "hello" twice"`: paired quotes each followed by a letter or digit, or
    by one space and a letter or digit, cannot close), missing_comma (between members or items
    on a line break, or between two quoted strings), invalid_escape (`\\d` kept as written:
    an escape that means nothing in JSON and nothing else elsewhere), unquoted_enum_value (a
    bare word that is exactly one of the schema's enum members, checked against its position
    by the parser of answers)

Whatever would invent or lose data raises `JSONProblem` with a reason other than `SYNTAX`:
elision markers (`...`, `…`, `etc.`, a `// rest omitted` comment, a `"..."` placeholder string),
NaN/Infinity (and numbers too large to be finite), duplicate keys with different values.
This module is a leaf: it imports nothing of ours (strict loading and the candidate search
build on it).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

# Reasons a JSON-looking region was not usable.
SYNTAX = "syntax"
ELISION = "elision"
NON_FINITE = "non_finite"
DUPLICATE_KEY = "duplicate_key"
#: reasons that mean "this is JSON, but it stands for data we do not have" (an `invalid` answer,
#: not a `no_json` one)
INTEGRITY_REASONS = frozenset({ELISION, NON_FINITE, DUPLICATE_KEY})

_MAX_DEPTH = 400
#: integers from here on are not all floats: an integral literal this large is read exactly
_EXACT_FLOAT_INT = 2**53


def written_integer(text: str, number: float) -> int | None:
    """The integer a JSON number with a fraction or an exponent writes, when the float it reads
    as (`number`) is not the number written; else None (the float is kept).

    Below 2**53 every integral float is the integer written. From there on a float may stand for
    another integer: `9007199254740993.0` reads as ...992.0, `1.2345678901234567891e19` as
    ...168, `1152921504606846976.0` (2**60 spelled out) is the float whose shortest spelling is
    `1.152921504606847e+18`. So an integral number written any other way than its float's
    shortest spelling (`repr`, the way serialisers write it: `1e30`, `9007199254740992.0`,
    `3.350626593528023e+16`, which stay that float, as a `number` place wants) is that exact
    integer. After this reading, a float of 2**53 or more always means the integer its shortest
    spelling writes (`int(Decimal(repr(x)))`, what `_coerce` gives an integer place), unless the
    text had a fraction no float keeps (`9007199254740993.5`: the nearest float, as any JSON
    reader gives it).
    """
    if not (abs(number) >= _EXACT_FLOAT_INT and math.isfinite(number)):
        return None
    written = Decimal(text)
    if written == Decimal(repr(number)) or written != written.to_integral_value():
        return None
    return int(written)


class JSONProblem(ValueError):
    """Why a piece of text is not usable JSON, and where (offset and JSON path)."""

    def __init__(self, reason: str, message: str, pos: int = 0, path: str = "$") -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.pos = pos
        self.path = path


class BareWord(str):
    """A string the text wrote without quotes (`"size": medium`): only an enum member of the
    schema at its position may stand there (`_words.settle_words` checks and unwraps it)."""

    __slots__ = ()


#: a string that stands for omitted data (`...`, `…`, `etc.`): a placeholder, not a value
ELISION_STRING = re.compile(r"\s*(?:\.{3,}|…+|[Ee]tc\.?|\[\.\.\.\]|\.\.\.etc\.?)\s*")


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
_ELISION_COMMENT = re.compile(
    r"\.\.|…|\betc\b|omit|truncat|remaining|\brest\b|and so on|similar|same (?:as|pattern|format|structure)"
    r"|abbreviat|brevity|\bmore\b|continue|\band \d+ other",
    re.I,
)
#: a `#` that opens a line comment: followed by a space, a tab, another `#` or the line's end.
#: `#python` or `#ff0000` is not one (a hashtag or a colour the model forgot to quote).
HASH_COMMENT = re.compile(r"#(?=[ \t#\r\n]|\Z)")
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
#: JSON escapes that are a backslash and a letter, which a writer who does not escape
#: backslashes also produces (`C:\new`, `\b` in a regex)
_LETTER_ESCAPES = frozenset("bfnrt")
_STRING_STOP = {
    '"': re.compile(r'["\\\x00-\x1f]'),
    "'": re.compile(r"['\\\x00-\x1f]"),
    "”": re.compile(r"[”“\\\x00-\x1f]"),
}
OPEN_QUOTES = {'"': '"', "'": "'", "“": "”", "”": "”"}
_CLOSE_QUOTES = frozenset("\"'”")
#: what may follow a bare enum word: the end of its value
_WORD_END = re.compile(r"[ \t]*(?:[,}\]\r\n]|//|/\*|#|\Z)")


#: an unquoted key and the start of its value right after a quote (`" nickname: "Countess"`):
#: the quote may close the string (`" note: call back"` has no value there: it is text)
_KEY_AFTER = re.compile(
    r"""[ \t]*[A-Za-z_$][A-Za-z0-9_$-]*[ \t]*:[ \t]*(?:["'“{\[0-9-]|(?:true|false|null|True|False|None)\b)"""
)


def quote_stays_open(text: str, at: int, quote: str) -> bool:
    """Is the quote character at `at`, met inside a string opened by `quote`, part of the string?

    Only where no closing quote could stand: a `'` followed by a letter (`'Joe's Diner'`); a
    `"` followed by a letter or digit, or by one space and a letter or digit
    (`"says "hello" twice"`). A closing quote is always followed by a delimiter, whitespace
    before one, or the end. Never where a key follows (`"Ada" nickname: "Countess"`): that
    quote also reads as a close followed by a missing comma, so which string it ends is a guess.
    The scanner (`_spans`) and the tolerant parser share this rule.
    """
    nxt = text[at + 1 : at + 3]
    if not nxt or _KEY_AFTER.match(text, at + 1):
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
            elif s.startswith("//", self.i) or (c == "#" and HASH_COMMENT.match(s, self.i)):
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
        if c in OPEN_QUOTES:
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
        exact = written_integer(text, number)  # `12345678901234567890.0`: no float is that integer
        return number if exact is None else exact

    def string(self, path: str) -> str:
        s = self.s
        open_q = s[self.i]
        close_q = OPEN_QUOTES[open_q]
        if open_q == "'":
            self.repairs.add("single_quotes")
        elif open_q != '"':
            self.repairs.add("smart_quotes")
        stop = _STRING_STOP[close_q]
        parts: list[str] = []
        inner = 0  # quotes kept inside the string (see `quote_stays_open`)
        letters = kept = False  # a `\n`-style escape, a backslash kept (`\d`)
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
                e = s[j + 1 : j + 2]
                letters = letters or e in _LETTER_ESCAPES
                i = self.escape(j, parts, path)
                kept = kept or i == j + 1
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
        if letters and kept:
            # `"C:\data\new"`: whoever left `\d` unescaped did not escape backslashes, so the
            # `\n` is as likely a backslash and an n as a line break
            raise self.fail("a string mixes an invalid escape with \\n-style ones: two readings", path)
        if inner:
            if close_q == "'":
                self.repairs.add("apostrophe_in_single_quotes")
            elif inner % 2:  # `"5" tall"`: an odd quote has no partner; where it belongs is a guess
                raise self.fail("an unescaped quote inside a string has no partner", path)
            else:
                self.repairs.add("inner_quotes")
        text = "".join(parts)
        if len(text) <= 9 and ELISION_STRING.fullmatch(text):
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
        if c in OPEN_QUOTES:
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
        if broke or (after_string and self.s[self.i] in OPEN_QUOTES):
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
