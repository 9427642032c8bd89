"""Text -> JSON candidates: every place a model may have put its answer, parsed without lying.

A model's text answer may hold JSON as the whole text, in a code fence (any style, possibly
unterminated), inside an XML-ish tag, or somewhere between a preamble and a postamble. `extract`
gathers all of them; the parser of answers decides which one (if any) is the answer.

Each region is parsed strictly first and tolerantly second (`_jsonload`, `_lenient`: lossless
repairs only, each recorded by name). One more repair belongs to the search itself:
closed_final_brace (only with `close_final`: the text ends in an object whose last value is
complete and only its final `}` is missing). Whatever would invent or lose data makes a
candidate unusable instead (a `Rejected` region). Nothing else is auto-closed: an opening
bracket that never closes is reported as `cut_at`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ._jsonload import load_any, loads_json, loads_strict
from ._jsonload import loads_document as loads_document  # re-exported for _collect
from ._jsonload import may_hold_elision as may_hold_elision  # re-exported for tests/test_fast_paths
from ._jsonload import suspect_finder as suspect_finder  # re-exported for tests/test_fast_paths
from ._lenient import HASH_COMMENT, OPEN_QUOTES, SYNTAX, BareWord, JSONProblem, quote_stays_open

_MAX_RESTARTS = 64
_MAX_DESCENT = 3
#: words that may start a bare scalar answer (NaN and friends only to be refused by name)
_LITERAL_START = re.compile(r"(?:true|false|null|True|False|None|NaN|Infinity)\b")


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


#: a closing code fence after the unclosed object (```` ```json\n{...\n``` ````), maybe with
#: prose after it
_FENCE_CLOSE = re.compile(r"\n[ \t]*(?:`{3,}|~{3,})[ \t]*(?=\n|\Z)")
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
    fence = _FENCE_CLOSE.search(body)
    if fence is not None:
        # the fence ends the value; prose may follow it, but no other bracket (which the open
        # object would have swallowed as its own content)
        if any(c in body[fence.end() :] for c in "{}[]"):
            return
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
        value, _repairs, dumped = loads_strict(text[lo:hi])
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
        value, repairs, dumped = loads_strict(chunk) if strict_only else load_any(chunk, out.words)
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
                if lo < hi and text[lo:hi] in out.words:  # ```\nnegative\n```: the whole body
                    word = BareWord(text[lo:hi])
                    out.candidates.append(Candidate(word, lo, hi, source, ("unquoted_enum_value",)))
                    continue
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
                quote = OPEN_QUOTES[c]
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
    if text.startswith("//", p) or HASH_COMMENT.match(text, p):
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
