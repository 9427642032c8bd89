"""Deterministic benchmark inputs: invoices with line items, as batch result lines and as params."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

PREAMBLES = (
    "Here's the invoice data you asked for:\n\n",
    "Sure! I extracted the following invoice:\n```json\n",
    "<json>\n",
)
POSTAMBLES = (
    "\n\nLet me know if you need anything else.",
    "\n```\nAll amounts are in the invoice currency.",
    "\n</json>",
)


def invoice(rng: random.Random, i: int) -> dict[str, Any]:
    """A realistic invoice value matching examples.models.Invoice (3-12 line items)."""
    items: list[dict[str, Any]] = []
    for j in range(rng.randint(3, 12)):
        qty = rng.randint(1, 20)
        price = round(rng.uniform(1, 400), 2)
        items.append(
            {
                "description": f"Item {j} of order {i}: widget type {rng.choice('ABCDEFG')}-{rng.randint(10, 99)}",
                "quantity": qty,
                "unit_price": price,
                "total": round(qty * price, 2),
            }
        )
    subtotal = round(sum(x["total"] for x in items), 2)
    tax = round(subtotal * 0.2, 2)
    return {
        "invoice_number": f"INV-{2026}-{i:06d}",
        "issue_date": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "due_date": None,
        "vendor": {"name": f"Vendor {rng.randint(1, 999)} GmbH", "address": f"{rng.randint(1, 200)} Main St"},
        "currency": rng.choice(["USD", "EUR", "GBP"]),
        "line_items": items,
        "subtotal": subtotal,
        "tax": tax,
        "total": round(subtotal + tax, 2),
    }


def _message(i: int, content: list[dict[str, Any]], stop: str) -> dict[str, Any]:
    return {
        "id": f"msg_{i:024d}",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5",
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {
            "input_tokens": 900,
            "output_tokens": 300,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "service_tier": "batch",
        },
    }


def tool_line(rng: random.Random, i: int) -> bytes:
    value = invoice(rng, i)
    block = {"type": "tool_use", "id": f"toolu_{i:020d}", "name": "Invoice", "input": value}
    return orjson.dumps(
        {"custom_id": f"k{i}", "result": {"type": "succeeded", "message": _message(i, [block], "tool_use")}}
    )


def text_line(rng: random.Random, i: int) -> bytes:
    value = invoice(rng, i)
    k = i % len(PREAMBLES)
    text = PREAMBLES[k] + orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + POSTAMBLES[k]
    block = {"type": "text", "text": text}
    return orjson.dumps(
        {"custom_id": f"k{i}", "result": {"type": "succeeded", "message": _message(i, [block], "end_turn")}}
    )


def other_line(i: int) -> bytes:
    if i % 2:
        return orjson.dumps({"custom_id": f"k{i}", "result": {"type": "expired"}})
    err = {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
        "request_id": f"req_{i}",
    }
    return orjson.dumps({"custom_id": f"k{i}", "result": {"type": "errored", "error": err}})


def lines(kind: str, n: int, seed: int = 7) -> Iterator[bytes]:
    """`kind`: tool | text | mixed (80% tool, 10% text, 10% errored/expired)."""
    rng = random.Random(seed)
    for i in range(n):
        if kind == "tool" or (kind == "mixed" and i % 10 < 8):
            yield tool_line(rng, i)
        elif kind == "text" or (kind == "mixed" and i % 10 == 8):
            yield text_line(rng, i)
        else:
            yield other_line(i)


def write_file(path: Path, kind: str, n: int) -> Path:
    return write_lines(path, lambda: lines(kind, n))


def write_lines(path: Path, make: Callable[[], Iterable[bytes]]) -> Path:
    """The lines `make()` yields, one per line, at `path`; kept between runs (the data is
    deterministic), written under a temporary name so a killed run leaves no half file."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as f:
        for line in make():
            f.write(line + b"\n")
    tmp.replace(path)
    return path
