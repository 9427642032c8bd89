"""The parser corpus: hand-written, real-style Claude outputs with the verdict each must get.

Every `*.jsonl` file beside this one holds cases, one per line:

    {"id": "fence-7", "spec": "contact", "text": "...", "stop_reason": "max_tokens", "prefill": "{",
     "expect": "ok" | "<FailureKind value>", "value": <expected value when ok>,
     "repairs": [<repairs the outcome must list>], "note": "why"}

A case gives exactly one of `text` (parsed with `parse_text`), `message` (a Messages API message,
`parse_message`) or `line` (a batch result line, as an object or a raw string).
The test asserts every verdict: the good outputs recovered with the exact value, and every
output that must be rejected rejected with the right kind.
"""

from __future__ import annotations

import json
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict

import structbatch as sb
from structbatch._parse import parse_message, parse_result_line, parse_text

HERE = Path(__file__).parent


class Difficulty(StrEnum):
    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


class Ingredient(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    quantity: float
    unit: str | None


class Recipe(BaseModel):
    """A recipe: the nested model with lists, an enum and an optional field."""

    model_config = ConfigDict(extra="forbid")
    title: str
    servings: int
    vegetarian: bool
    difficulty: Difficulty
    ingredients: list[Ingredient]
    steps: list[str]
    prep_minutes: int | None = None


class OrderItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str
    qty: int
    unit_price: float


class Order(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_id: str
    status: Literal["pending", "shipped", "delivered"]
    items: list[OrderItem]
    total: float


CONTACT_SCHEMA = {
    "title": "Contact",
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "email": {"type": "string"},
        "age": {"type": "integer"},
        "subscribed": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["name", "email"],
    "additionalProperties": False,
}

TICKET_SCHEMA = {
    "title": "Ticket",
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "size": {"enum": ["small", "medium", "large"]},
        "priority": {"type": "string", "enum": ["Low", "High"]},
        "summary": {"type": "string"},
        "pattern": {"type": "string"},
        "labels": {"type": "array", "items": {"type": "string"}},
        "meta": {
            "type": "object",
            "properties": {"source": {"type": "string"}},
            "additionalProperties": False,
        },
    },
    "required": ["id", "size"],
    "additionalProperties": False,
}

SPECS: dict[str, sb.Spec[Any]] = {
    "recipe": sb.compile(Recipe),
    "order": sb.compile(Order),
    "contact": sb.compile(CONTACT_SCHEMA),
    "tags": sb.compile(list[str], wrap="tags", name="tags"),
    "count": sb.compile(int, wrap="count", name="count"),
    "ticket": sb.compile(TICKET_SCHEMA),
}


def load_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for path in sorted(HERE.glob("*.jsonl")):
        for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if raw.strip():
                case = json.loads(raw)
                case["where"] = f"{path.name}:{n}"
                cases.append(case)
    return cases


CASES = load_cases()


def run(case: dict[str, Any]) -> sb.Outcome[Any]:
    spec = SPECS[case["spec"]]
    if "message" in case:
        return parse_message(spec, case["message"], prefill=case.get("prefill"))
    if "line" in case:
        raw = case["line"]
        data = raw.encode() if isinstance(raw, str) else json.dumps(raw).encode()
        return parse_result_line(spec, data)
    return parse_text(spec, case["text"], stop_reason=case.get("stop_reason"), prefill=case.get("prefill"))


def as_json(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [as_json(v) for v in value]
    return value


def test_corpus_is_large_and_well_formed() -> None:
    assert len(CASES) >= 150
    ids = Counter(c["id"] for c in CASES)
    assert not [i for i, n in ids.items() if n > 1], "duplicate case ids"
    kinds = {k.value for k in sb.FailureKind}
    for case in CASES:
        assert case["expect"] == "ok" or case["expect"] in kinds, case["id"]
        assert sum(k in case for k in ("text", "message", "line")) == 1, case["id"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    out = run(case)
    got = "ok" if out.ok else str(out.kind)
    assert got == case["expect"], f"{case['where']}: {out.failure}"
    if out.ok:
        assert as_json(out.value) == case["value"], case["where"]
        assert set(case.get("repairs", ())) <= set(out.repairs), (case["where"], out.repairs)


def test_corpus_scores() -> None:
    """The headline numbers: share of good outputs recovered, count of false accepts."""
    good = [c for c in CASES if c["expect"] == "ok"]
    bad = [c for c in CASES if c["expect"] != "ok"]
    recovered = sum(1 for c in good if (o := run(c)).ok and as_json(o.value) == c["value"])
    false_accepts = [c["id"] for c in bad if run(c).ok]
    assert recovered == len(good)
    assert false_accepts == []
