"""Finding the JSON Schema a prompt carries, whatever the wording around it.

Client libraries put the schema for prompt-based structured output in different places and words:
structbatch fences it in the system prompt, instructor's JSON mode appends it pretty-printed after
"...match the following json_schema:", pydantic-ai's PromptedOutput inlines it compactly, others
put it in the user turn. A real model finds it in any of these, so the emulator does too: every
JSON object in the system prompt and the user turns is a candidate, and the one that looks most
like a schema wins (an example instance or a config blob next to it does not).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from ._validation import text_of

_TYPES: Final = frozenset({"object", "array", "string", "integer", "number", "boolean", "null"})
_SCHEMA_WORDS: Final = frozenset(
    {"properties", "$defs", "definitions", "anyOf", "oneOf", "allOf", "$ref", "$schema", "items", "enum"}
)
_DECODER: Final = json.JSONDecoder()
_MAX_TEXT: Final = 2_000_000  # characters scanned per request; more is not a prompt, it is a dump


@dataclass(frozen=True)
class FoundSchema:
    """A schema found in a prompt; `fenced_in_system` is structbatch's own prompt channel."""

    schema: dict[str, Any]
    fenced_in_system: bool


def _objects(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Every top-level JSON object in `text` with its start offset, skipping what is inside one."""
    index = text.find("{")
    while 0 <= index < len(text):
        try:
            value, end = _DECODER.raw_decode(text, index)
        except ValueError:
            index = text.find("{", index + 1)
            continue
        if isinstance(value, dict):
            yield index, value
        index = text.find("{", end)


def schema_score(candidate: Any) -> int:
    """How much `candidate` looks like a JSON Schema (0 = not one)."""
    if not isinstance(candidate, dict) or not candidate:
        return 0
    score = 0
    kind = candidate.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if kind is not None:
        if not all(isinstance(k, str) and k in _TYPES for k in kinds):
            return 0  # {"type": "person", ...} is data, not a schema
        score += 2
    properties = candidate.get("properties")
    if properties is not None:
        if not isinstance(properties, dict) or not all(
            isinstance(v, (dict, bool)) for v in properties.values()
        ):
            return 0
        score += 3 + sum(
            1 for v in properties.values() if isinstance(v, dict) and (_SCHEMA_WORDS | {"type"}) & set(v)
        )
    for key in ("$defs", "definitions"):
        if isinstance(candidate.get(key), dict):
            score += 2
    for key in ("anyOf", "oneOf", "allOf"):
        if isinstance(candidate.get(key), list) and all(isinstance(b, dict) for b in candidate[key]):
            score += 2
    if "$schema" in candidate:
        score += 3
    required = candidate.get("required")
    if isinstance(required, list) and all(isinstance(r, str) for r in required):
        score += 1
    if "$ref" in candidate and isinstance(candidate["$ref"], str):
        score += 1
    return score if score >= 2 else 0


def _texts(params: Mapping[str, Any]) -> Iterator[tuple[str, bool]]:
    """(text, is_system) for the system prompt and every user turn."""
    yield text_of(params.get("system") or ""), True
    for message in params.get("messages") or []:
        if isinstance(message, dict) and message.get("role") == "user":
            yield text_of(message.get("content")), False


def find_schema(params: Mapping[str, Any]) -> FoundSchema | None:
    """The most schema-like JSON object in the system prompt or the user turns, if any."""
    best: tuple[int, int, FoundSchema] | None = None
    for text, is_system in _texts(params):
        if "{" not in text:
            continue
        text = text[:_MAX_TEXT]
        for start, candidate in _objects(text):
            score = schema_score(candidate)
            if not score:
                continue
            fenced = is_system and "```json" in text[max(0, start - 12) : start]
            found = FoundSchema(candidate, fenced_in_system=fenced)
            rank = (score, len(candidate))
            if best is None or rank > best[:2]:
                best = (*rank, found)
    return best[2] if best is not None else None
