"""Constraints a schema states only in words, and strings that match a `pattern`.

Structured-output transforms move what the API's subset cannot express into `description`:
the SDK's `transform_schema` appends `{minimum: 0, maximum: 1}` (Python `str()` values, after a
blank line), structbatch's own subset appends the JSON `{"minimum": 0, "maximum": 1}`. A real
model reads those words and honours them; so does the emulator: `described()` folds them back
into the schema before a value is made, so answers satisfy the *original* constraints.

`pattern_string()` builds a string matching a regular expression from its parsed form (literals,
classes, `\\d \\w \\s`, groups, alternation, bounded and open repeats): the simple patterns the
API's structured outputs support. Anything it cannot satisfy returns None and the caller falls
back to an ordinary word.
"""

from __future__ import annotations

import importlib
import json
import random
import re
from typing import Any, Final

from .._jsonschema_walk import CONSTRAINT_KEYWORDS

_parser: Any = importlib.import_module("re._parser")  # the stdlib regex parser (sre_parse)
_const: Any = importlib.import_module("re._constants")

# Keywords a transform may move into the description, and that the value maker understands.
DESCRIBED: Final = CONSTRAINT_KEYWORDS
_KEY_ALT: Final = "|".join(sorted(DESCRIBED | {"format"}, key=len, reverse=True))
_SDK_TAIL: Final = re.compile(r"\{((?:" + _KEY_ALT + r"): .*)\}\s*$", re.DOTALL)
_SDK_SPLIT: Final = re.compile(r", (?=(?:" + _KEY_ALT + r"|[A-Za-z]+): )")
_NUMBER: Final = re.compile(r"^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$")


def described(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with the constraints its description states merged in (explicit keywords win)."""
    text = schema.get("description")
    if not isinstance(text, str) or "{" not in text:
        return schema
    found = _json_tail(text) or _sdk_tail(text)
    extra = {k: v for k, v in found.items() if k in DESCRIBED and k not in schema}
    return {**schema, **extra} if extra else schema


def _json_tail(text: str) -> dict[str, Any]:
    """The JSON object on the description's last line (structbatch's subset writes it so)."""
    last = text.rstrip().rsplit("\n", 1)[-1].strip()
    if not (last.startswith("{") and last.endswith("}")):
        return {}
    try:
        value = json.loads(last)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _sdk_tail(text: str) -> dict[str, Any]:
    """`{key: value, key: value}` as the SDK's transform_schema appends it (values unquoted)."""
    match = _SDK_TAIL.search(text)
    if match is None:
        return {}
    out: dict[str, Any] = {}
    for item in _SDK_SPLIT.split(match.group(1)):
        key, sep, value = item.partition(": ")
        if sep:
            out[key.strip()] = _scalar(value)
    return out


def _scalar(text: str) -> Any:
    if text in ("True", "False"):
        return text == "True"
    if _NUMBER.match(text):
        number = float(text)
        return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number
    return text


# -- strings for a pattern ------------------------------------------------------------------------

_DIGITS: Final = "0123456789"
_WORD: Final = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" + _DIGITS + "_"
_CATEGORIES: Final = {
    "CATEGORY_DIGIT": _DIGITS,
    "CATEGORY_WORD": _WORD,
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_DIGIT": "abcxyz",
    "CATEGORY_NOT_WORD": "-.",
    "CATEGORY_NOT_SPACE": "abc123",
}
_PRINTABLE: Final = _WORD + "-. "


class _Unsupported(Exception):
    """A construct the generator does not model (backreferences, lookarounds)."""


def pattern_string(
    pattern: str, rng: random.Random, *, min_length: int = 0, max_length: int | None = None
) -> str | None:
    """A string that `re.search(pattern)` accepts (and within the lengths), or None."""
    try:
        tree = _parser.parse(pattern)
        compiled = re.compile(pattern)
    except (re.error, RecursionError):
        return None
    for _ in range(16):
        try:
            text = _emit(tree, rng)
        except _Unsupported:
            return None
        if (
            compiled.search(text)
            and len(text) >= min_length
            and (max_length is None or len(text) <= max_length)
        ):
            return text
    return None


def _emit(tree: Any, rng: random.Random) -> str:
    return "".join(_emit_one(op, arg, rng) for op, arg in tree)


def _emit_one(op: Any, arg: Any, rng: random.Random) -> str:
    name = str(op)
    if name == "LITERAL":
        return chr(arg)
    if name == "NOT_LITERAL":
        return next(c for c in _PRINTABLE if ord(c) != arg)
    if name == "ANY":
        return rng.choice(_WORD)
    if name == "IN":
        return _emit_class(arg, rng)
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, high, sub = arg
        top = low + 3 if high == _const.MAXREPEAT else high
        return "".join(_emit(sub, rng) for _ in range(rng.randint(low, max(low, top))))
    if name == "SUBPATTERN":
        return _emit(arg[-1], rng)
    if name == "ATOMIC_GROUP":
        return _emit(arg, rng)
    if name == "BRANCH":
        return _emit(rng.choice(arg[1]), rng)
    if name == "AT":
        return ""
    if name == "CATEGORY":
        return rng.choice(_CATEGORIES.get(str(arg), "a"))
    raise _Unsupported(name)


def _emit_class(items: Any, rng: random.Random) -> str:
    negated = bool(items) and str(items[0][0]) == "NEGATE"
    choices: list[str] = []
    for op, arg in items[1:] if negated else items:
        name = str(op)
        if name == "LITERAL":
            choices.append(chr(arg))
        elif name == "RANGE":
            low, high = arg
            choices.extend(chr(c) for c in range(low, min(high, low + 200) + 1))
        elif name == "CATEGORY":
            choices.extend(_CATEGORIES.get(str(arg), "a"))
        else:
            raise _Unsupported(name)
    if negated:
        excluded = set(choices)
        choices = [c for c in _PRINTABLE if c not in excluded]
    if not choices:
        raise _Unsupported("empty class")
    return rng.choice(choices)
