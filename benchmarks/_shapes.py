"""Model shapes for the parse benchmark: the clean-line speed must hold on any model, not one.

The parse ratio (structbatch `spec.parse` over the raw `orjson.loads` + `model_validate` loop)
depends on the model: how many strings against numbers, how deep, which types need a JSON-mode
reading (dates, enums, UUIDs). Each shape here is a model and a generator of realistic values,
written as batch result lines exactly as the API writes them: compact JSON, one per line, the
envelope with every field the Message carries (ids, model, `stop_sequence: null`, a `usage` whose
token counts differ from line to line, `cache_creation`, `service_tier`).

The shapes: `invoice` (examples' Invoice: dates, a Literal, numbers), `order` (`_orders.Order`,
nested line items with floats and nulls), `purchase` (another order: more strings per line item,
an optional field left null, floats), `strings` (long and many strings), `numbers` (many floats,
ints and bools), `typed` (enums, dates, datetimes, a UUID, Literal, nested optional models), and
`small` (three fields: the fixed cost of a line weighs most there).
"""

from __future__ import annotations

import datetime as dt
import enum
import random
import string
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel

from . import _data, _orders

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))

from models import Invoice  # type: ignore[import-not-found]

# ---- the models ---------------------------------------------------------------------------------


class PurchaseItem(BaseModel):
    sku: str
    name: str
    category: str
    quantity: float
    unit_price: float
    tax_rate: float
    discount: float | None = None


class PurchaseOrder(BaseModel):
    po_number: str
    buyer: str
    buyer_email: str
    ship_to: str
    notes: str | None
    items: list[PurchaseItem]
    subtotal: float
    tax: float
    total: float


class Section(BaseModel):
    heading: str
    text: str


class Article(BaseModel):
    title: str
    authors: list[str]
    venue: str
    doi: str
    url: str
    abstract: str
    keywords: list[str]
    sections: list[Section]
    language: str | None = None


class Reading(BaseModel):
    t: int
    temperature: float
    humidity: float
    pressure: float
    battery: float
    ok: bool


class SensorReport(BaseModel):
    device: str
    readings: list[Reading]
    minimum: float
    maximum: float
    mean: float
    count: int


class Status(enum.Enum):
    OPEN = "open"
    PENDING = "pending"
    CLOSED = "closed"


class Severity(enum.IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3


class Person(BaseModel):
    name: str
    email: str | None = None


class Event(BaseModel):
    at: dt.datetime
    actor: Person
    action: Literal["created", "commented", "assigned", "closed"]
    detail: str | None = None


class Ticket(BaseModel):
    ticket_id: uuid.UUID
    status: Status
    severity: Severity
    channel: Literal["email", "chat", "phone"]
    opened: dt.date
    due: dt.date | None = None
    reporter: Person
    assignee: Person | None = None
    events: list[Event]
    tags: list[str]


class Contact(BaseModel):
    name: str
    age: int
    email: str | None


# ---- realistic values ---------------------------------------------------------------------------

_WORDS = [
    "alpha",
    "beta",
    "delta",
    "steel",
    "oak",
    "blue",
    "red",
    "north",
    "south",
    "valve",
    "pump",
    "sensor",
    "cable",
    "bracket",
    "housing",
    "panel",
    "review",
    "results",
    "method",
    "data",
    "model",
    "batch",
    "growth",
    "market",
    "policy",
    "energy",
    "water",
    "system",
    "network",
]


def _words(rng: random.Random, lo: int, hi: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(lo, hi)))


def purchase(rng: random.Random, i: int) -> dict[str, Any]:
    items: list[dict[str, Any]] = [
        {
            "sku": f"{rng.choice('ABCDEFGH')}{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
            "name": _words(rng, 2, 5).title(),
            "category": rng.choice(["hardware", "tools", "electrical", "plumbing", "garden"]),
            "quantity": round(rng.uniform(1, 50), 2),
            "unit_price": round(rng.uniform(0.5, 900), 2),
            "tax_rate": rng.choice([0.0, 0.07, 0.19, 0.2]),
            "discount": None if rng.random() < 0.7 else round(rng.uniform(0, 0.3), 2),
        }
        for _ in range(rng.randint(2, 9))
    ]
    subtotal = round(sum(x["quantity"] * x["unit_price"] for x in items), 2)
    tax = round(sum(x["quantity"] * x["unit_price"] * x["tax_rate"] for x in items), 2)
    return {
        "po_number": f"PO-{2026}-{i:06d}",
        "buyer": f"{rng.choice(['Acme', 'Globex', 'Initech', 'Umbrella'])} {_words(rng, 1, 2).title()} Inc.",
        "buyer_email": f"buyer{rng.randint(1, 9999)}@example.com",
        "ship_to": f"{rng.randint(1, 999)} {_words(rng, 1, 2).title()} Road, Springfield",
        "notes": None,
        "items": items,
        "subtotal": subtotal,
        "tax": tax,
        "total": round(subtotal + tax, 2),
    }


def article(rng: random.Random, i: int) -> dict[str, Any]:
    return {
        "title": _words(rng, 6, 14).capitalize(),
        "authors": [f"{rng.choice(string.ascii_uppercase)}. {_words(rng, 1, 1).title()}" for _ in range(5)],
        "venue": f"Journal of {_words(rng, 1, 3).title()}",
        "doi": f"10.{rng.randint(1000, 9999)}/{rng.randint(10**6, 10**7)}",
        "url": f"https://example.org/papers/{i}/{rng.randint(1, 10**6)}",
        "abstract": _words(rng, 40, 90).capitalize() + ".",
        "keywords": [_words(rng, 1, 2) for _ in range(rng.randint(3, 8))],
        "sections": [
            {"heading": _words(rng, 1, 4).title(), "text": _words(rng, 20, 60).capitalize() + "."}
            for _ in range(rng.randint(2, 5))
        ],
        "language": None,
    }


def sensor(rng: random.Random, i: int) -> dict[str, Any]:
    readings = [
        {
            "t": 1_780_000_000 + 60 * k,
            "temperature": round(rng.gauss(21, 4), 3),
            "humidity": round(rng.uniform(20, 90), 2),
            "pressure": round(rng.gauss(1013, 8), 2),
            "battery": round(rng.uniform(3.0, 4.2), 3),
            "ok": rng.random() > 0.05,
        }
        for k in range(rng.randint(8, 24))
    ]
    temps = [r["temperature"] for r in readings]
    return {
        "device": f"dev-{i % 500:04d}",
        "readings": readings,
        "minimum": min(temps),
        "maximum": max(temps),
        "mean": round(sum(temps) / len(temps), 3),
        "count": len(readings),
    }


def ticket(rng: random.Random, i: int) -> dict[str, Any]:
    def person() -> dict[str, Any]:
        email = f"p{rng.randint(1, 999)}@example.com" if rng.random() < 0.6 else None
        return {"name": _words(rng, 2, 2).title(), "email": email}

    opened = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 300))
    events = [
        {
            "at": f"{opened.isoformat()}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z",
            "actor": person(),
            "action": rng.choice(["created", "commented", "assigned", "closed"]),
            "detail": _words(rng, 3, 12) if rng.random() < 0.5 else None,
        }
        for _ in range(rng.randint(1, 6))
    ]
    return {
        "ticket_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "status": rng.choice(["open", "pending", "closed"]),
        "severity": rng.randint(1, 3),
        "channel": rng.choice(["email", "chat", "phone"]),
        "opened": opened.isoformat(),
        "due": None,
        "reporter": person(),
        "assignee": person() if rng.random() < 0.5 else None,
        "events": events,
        "tags": [rng.choice(_WORDS) for _ in range(rng.randint(0, 4))],
    }


def contact(rng: random.Random, i: int) -> dict[str, Any]:
    return {"name": _words(rng, 2, 2).title(), "age": rng.randint(18, 90), "email": None}


@dataclass(frozen=True)
class Shape:
    name: str
    model: type[BaseModel]
    value: Callable[[random.Random, int], dict[str, Any]]


SHAPES: dict[str, Shape] = {
    s.name: s
    for s in (
        Shape("invoice", Invoice, _data.invoice),
        Shape("order", _orders.Order, _orders.order),
        Shape("purchase", PurchaseOrder, purchase),
        Shape("strings", Article, article),
        Shape("numbers", SensorReport, sensor),
        Shape("typed", Ticket, ticket),
        Shape("small", Contact, contact),
    )
}


# ---- result lines -------------------------------------------------------------------------------

_ID_CHARS = string.ascii_letters + string.digits


def _api_id(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choice(_ID_CHARS) for _ in range(24))


def tool_line(shape: Shape, rng: random.Random, i: int) -> bytes:
    """One succeeded batch result line with a lone tool_use block, as the API writes it."""
    block: dict[str, Any] = {"type": "tool_use", "id": _api_id(rng, "toolu_01"), "name": shape.model.__name__}
    block["input"] = shape.value(rng, i)
    message = {
        "id": _api_id(rng, "msg_01"),
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [block],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": rng.randint(300, 3000),
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
            "output_tokens": rng.randint(50, 900),
            "service_tier": "batch",
        },
    }
    return orjson.dumps({"custom_id": f"req-{i:07d}", "result": {"type": "succeeded", "message": message}})


def lines(shape: Shape, n: int, seed: int = 5) -> Iterator[bytes]:
    rng = random.Random(seed)
    for i in range(n):
        yield tool_line(shape, rng, i)


def write_file(path: Path, shape: Shape, n: int) -> Path:
    """`n` lines of `shape` at `path` (kept between runs: the data is deterministic)."""
    return _data.write_lines(path, lambda: lines(shape, n))


# ---- the measurement ----------------------------------------------------------------------------

#: a parse variant as `benchmarks.__main__.interleaved` takes it: (path, start, end) -> lines read
Reader = Callable[[Path, int, int], int]


def measure(
    data: Path,
    n: int,
    rounds: int,
    interleaved: Callable[[dict[str, tuple[Path, Reader]], int], dict[str, list[float]]],
    segment_lines: Callable[[Path, int, int], Iterator[bytes]],
) -> dict[str, dict[str, float]]:
    """Per shape, the raw limit and `spec.parse` taking turns on the same 2,000-line segments of
    `n` lines, `rounds` passes: lines/s of each (median pass) and the paired ratios raw/ours.

    Raw limit: `orjson.loads(line)`, then `Model.model_validate` of the first block's input (no
    check at all). Ours: the public call, `sb.compile(Model).parse(line)`, whose every outcome
    must be a success (checked on the whole file before timing).
    """
    import statistics

    import structbatch as sb

    rows: dict[str, dict[str, float]] = {}
    for shape in SHAPES.values():
        path = write_file(data / f"shape-{shape.name}-{n}.jsonl", shape, n)
        validate = shape.model.model_validate
        parse = sb.compile(shape.model).parse

        def raw(path: Path, start: int, end: int, validate: Any = validate) -> int:
            c = 0
            for line in segment_lines(path, start, end):
                validate(orjson.loads(line)["result"]["message"]["content"][0]["input"])
                c += 1
            return c

        def ours(path: Path, start: int, end: int, parse: Any = parse) -> int:
            return sum(parse(line).ok for line in segment_lines(path, start, end))

        size = path.stat().st_size
        assert ours(path, 0, size) == raw(path, 0, size) == n, (
            f"{shape.name}: not every line read as a success"
        )
        seconds = interleaved({"raw": (path, raw), "ours": (path, ours)}, rounds)
        ratios = [r / o for r, o in zip(seconds["raw"], seconds["ours"], strict=True)]
        rows[shape.name] = {
            "raw_lines_per_s": n / statistics.median(seconds["raw"]),
            "lines_per_s": n / statistics.median(seconds["ours"]),
            "ratio": statistics.median(ratios),
            "ratio_min": min(ratios),
            "ratio_max": max(ratios),
        }
    return rows
