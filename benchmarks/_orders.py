"""The second model shape of `make bench`: purchase orders, string-heavy nested line items.

Invoice (the first shape) is number-heavy; this one has several strings per line item, floats,
and optional fields the model leaves null, written as compact JSONL as the API writes it. Parse
speed relative to the raw orjson + pydantic loop differs between such shapes (pydantic-core's
one-pass JSON validation builds strings more slowly than orjson), so both are measured.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel


class OrderLine(BaseModel):
    sku: str
    description: str
    quantity: float
    unit_price: float
    discount: float | None = None


class Order(BaseModel):
    order_id: str
    customer: str
    note: str | None
    lines: list[OrderLine]
    total: float
    shipping: float | None = None


def order(rng: random.Random, i: int) -> dict[str, Any]:
    lines: list[dict[str, Any]] = [
        {
            "sku": f"SKU-{rng.randint(10_000, 99_999)}",
            "description": f"{rng.choice(['Blue', 'Red', 'Steel', 'Oak'])} part {j} for order {i}",
            "quantity": round(rng.uniform(1, 20), 3),
            "unit_price": round(rng.uniform(1, 400), 2),
            "discount": None,
        }
        for j in range(rng.randint(2, 10))
    ]
    total = round(sum(x["quantity"] * x["unit_price"] for x in lines), 2)
    return {
        "order_id": f"PO-{i:07d}",
        "customer": f"Customer {rng.randint(1, 5000)} Ltd",
        "note": None,
        "lines": lines,
        "total": total,
        "shipping": None,
    }


def tool_line(rng: random.Random, i: int) -> bytes:
    block = {"type": "tool_use", "id": f"toolu_{i:020d}", "name": "Order", "input": order(rng, i)}
    message = {
        "id": f"msg_{i:024d}",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5",
        "content": [block],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 700,
            "output_tokens": 250,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "service_tier": "batch",
        },
    }
    return orjson.dumps({"custom_id": f"o{i}", "result": {"type": "succeeded", "message": message}})


def lines(n: int, seed: int = 11) -> Iterator[bytes]:
    rng = random.Random(seed)
    for i in range(n):
        yield tool_line(rng, i)


def write_file(path: Path, n: int) -> Path:
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as f:
        for line in lines(n):
            f.write(line + b"\n")
    tmp.replace(path)
    return path
