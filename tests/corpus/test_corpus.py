"""The parser corpus: hand-written, real-style Claude outputs with the verdict each must get.

Every `*.jsonl` file beside this one holds cases, one per line:

    {"id": "fence-7", "spec": "contact", "text": "...", "stop_reason": "max_tokens", "prefill": "{",
     "expect": "ok" | "<FailureKind value>", "value": <expected value when ok>,
     "repairs": [<repairs the outcome must list>], "note": "why"}

A case gives exactly one of `text` (parsed with `parse_text`), `message` (a Messages API message,
`parse_message`) or `line` (a batch result line, as an object or a raw string).
The test asserts every verdict: the good outputs recovered with the exact value, and every
output that must be rejected rejected with the right kind.

`spec` names a Python spec of `SPECS` or a JSON Schema of `SCHEMAS` (compiled as given, with no
option: any root). Instead of `spec` a case may give `"schema": {...}`, a JSON Schema of its own.
Specs compile on first use, so one spec that fails to compile fails only its own cases.
Two optional checks beyond `repairs` (exact names, a subset of what the outcome lists):
`"repair_kinds": ["wrap_list", ...]` - each must be the kind (the part before the first `:`) of
some listed repair, for repairs whose path spelling the case does not pin; `"no_repairs": true` -
the outcome lists no repair at all (clean JSON must come back untouched).

The `heldout_*.jsonl` files were written apart from the parser, from the rules of issue 15 alone
(each verdict decided from the rule, not from what the code did).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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


class LineItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str
    quantity: int
    unit_price: float


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["person"]
    name: str
    age: int


class Company(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["company"]
    name: str
    employees: int


class Review(BaseModel):
    """Bounds, a Literal, lists and a bool, closed (extra="forbid")."""

    model_config = ConfigDict(extra="forbid")
    product: str
    rating: Annotated[int, Field(ge=1, le=5)]
    sentiment: Literal["positive", "negative", "mixed"]
    pros: list[str]
    cons: list[str]
    would_recommend: bool


class Shirt(BaseModel):
    """Pydantic's default `extra="ignore"`: unknown keys are neither an error nor kept."""

    size: Literal["small", "medium", "large"]
    color: str


class Inventory(BaseModel):
    """A dict of ints (an open mapping inside a closed model) and an optional date."""

    model_config = ConfigDict(extra="forbid")
    warehouse: str
    counts: dict[str, int]
    updated: dt.date | None = None


class Payment(BaseModel):
    """Python-only rules a JSON Schema cannot carry: every path (the fast line path too) must run them."""

    model_config = ConfigDict(extra="forbid")
    code: str
    amount: float
    low: int
    high: int

    @field_validator("amount")
    @classmethod
    def _positive(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("amount must be positive")
        return v

    @field_validator("code")
    @classmethod
    def _upper(cls, v: str) -> str:
        return v.upper()

    @model_validator(mode="after")
    def _ordered(self) -> Payment:
        if self.low > self.high:
            raise ValueError("low must not exceed high")
        return self


def _nested_arrays(depth: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer"}
    for _ in range(depth):
        schema = {"type": "array", "items": schema}
    return schema


_CLOSED_ADDRESS = {
    "type": "object",
    "properties": {"street": {"type": "string"}, "city": {"type": "string"}, "country": {"type": "string"}},
    "required": ["street", "city", "country"],
    "additionalProperties": False,
}

SCHEMAS: dict[str, dict[str, Any]] = {
    # closed at every depth, as the API's structured outputs require
    "invoice_schema": {
        "title": "Invoice",
        "type": "object",
        "properties": {
            "invoice_number": {"type": "string"},
            "vendor": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "address": _CLOSED_ADDRESS},
                "required": ["name", "address"],
                "additionalProperties": False,
            },
            "line_items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "description": {"type": "string"},
                        "quantity": {"type": "integer"},
                        "unit_price": {"type": "number"},
                    },
                    "required": ["description", "quantity", "unit_price"],
                    "additionalProperties": False,
                },
            },
            "currency": {"type": "string", "enum": ["USD", "EUR", "GBP"]},
            "total": {"type": "number"},
            "paid": {"type": "boolean"},
            "notes": {"type": ["string", "null"]},
        },
        "required": ["invoice_number", "vendor", "line_items", "currency", "total", "paid", "notes"],
        "additionalProperties": False,
    },
    # a top-level array of closed objects
    "people_schema": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "role": {"type": "string", "enum": ["engineer", "manager", "designer"]},
                "years": {"type": "integer"},
            },
            "required": ["name", "role", "years"],
            "additionalProperties": False,
        },
    },
    "score_schema": {"type": "integer"},
    "price_schema": {"type": "number"},
    "label_schema": {"type": "string", "enum": ["positive", "negative", "neutral"]},
    "flag_schema": {"type": "boolean"},
    "keywords_schema": {"type": "array", "items": {"type": "string"}},
    # a root union: one closed object or a list of integers
    "union_schema": {
        "anyOf": [
            {
                "type": "object",
                "properties": {"error": {"type": "string"}},
                "required": ["error"],
                "additionalProperties": False,
            },
            {"type": "array", "items": {"type": "integer"}},
        ]
    },
    # a recursive closed object (deep nesting through a $ref)
    "tree_schema": {
        "title": "Tree",
        "$defs": {
            "node": {
                "type": "object",
                "properties": {
                    "label": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
                },
                "required": ["label"],
                "additionalProperties": False,
            }
        },
        "$ref": "#/$defs/node",
    },
    "deep32": _nested_arrays(32),
    "deep100": _nested_arrays(100),
}

_PY_SPECS: dict[str, Any] = {
    "recipe": lambda: sb.compile(Recipe),
    "order": lambda: sb.compile(Order),
    "contact": lambda: sb.compile(CONTACT_SCHEMA),
    "tags": lambda: sb.compile(list[str], wrap="tags", name="tags"),
    "count": lambda: sb.compile(int, wrap="count", name="count"),
    "ticket": lambda: sb.compile(TICKET_SCHEMA),
    "lineitems": lambda: sb.compile(list[LineItem]),
    "entity": lambda: sb.compile(Person | Company),
    "review": lambda: sb.compile(Review),
    "shirt": lambda: sb.compile(Shirt),
    "sentiment": lambda: sb.compile(Literal["positive", "negative", "neutral"]),
    "ints": lambda: sb.compile(list[int]),
    "flag": lambda: sb.compile(bool),
    "inventory": lambda: sb.compile(Inventory),
    "payment": lambda: sb.compile(Payment),
}


class _Specs(dict[str, "sb.Spec[Any]"]):
    """Name -> compiled spec, compiled on first use (a compile error fails only that spec's cases)."""

    def __missing__(self, name: str) -> sb.Spec[Any]:
        spec = _PY_SPECS[name]() if name in _PY_SPECS else sb.compile(SCHEMAS[name])
        self[name] = spec
        return spec


SPECS: dict[str, sb.Spec[Any]] = _Specs()


def spec_of(case: dict[str, Any]) -> sb.Spec[Any]:
    if "schema" in case:
        return sb.compile(case["schema"])
    return SPECS[case["spec"]]


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
    spec = spec_of(case)
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
        assert sum(k in case for k in ("spec", "schema")) == 1, case["id"]
        assert "spec" not in case or case["spec"] in _PY_SPECS or case["spec"] in SCHEMAS, case["id"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    out = run(case)
    got = "ok" if out.ok else str(out.kind)
    assert got == case["expect"], f"{case['where']}: {out.failure}"
    if out.ok:
        assert as_json(out.value) == case["value"], case["where"]
        assert set(case.get("repairs", ())) <= set(out.repairs), (case["where"], out.repairs)
        kinds = {r.split(":", 1)[0] for r in out.repairs}
        assert set(case.get("repair_kinds", ())) <= kinds, (case["where"], out.repairs)
        assert not (case.get("no_repairs") and out.repairs), (case["where"], out.repairs)


def test_corpus_scores() -> None:
    """The headline numbers: share of good outputs recovered, count of false accepts."""
    good = [c for c in CASES if c["expect"] == "ok"]
    bad = [c for c in CASES if c["expect"] != "ok"]
    recovered = sum(1 for c in good if (o := run(c)).ok and as_json(o.value) == c["value"])
    false_accepts = [c["id"] for c in bad if run(c).ok]
    assert recovered == len(good)
    assert false_accepts == []
