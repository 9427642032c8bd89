"""Adding inputs to a job against a hand-written floor, in the same run (issue: fast adds).

The floor is what a careful user would write without structbatch: the request params built once
from `Spec.params` and specialised per row (only the user turn changes), encoded with orjson and
bulk-inserted into SQLite (WAL) with one `executemany` in one transaction. structbatch's `add_many`
and an `add` loop do more per item (key checks, custom_id salting, sizing, duplicate detection),
and must reach 0.5x and 0.25x of the floor's rate. The floor is measured before and after the
library runs and its best time is used, so machine drift does not flatter the ratios.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

import structbatch as sb

MODEL = "claude-haiku-4-5"


def _texts(n: int) -> list[str]:
    return [
        f"Invoice {i}: ACME Corp billed 3 widgets at 19.99 each on 2026-11-{i % 28 + 1:02d}."
        for i in range(n)
    ]


def _floor(spec: sb.Spec[Any], texts: list[str], path: Path) -> float:
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE requests (seq INTEGER PRIMARY KEY, key TEXT UNIQUE, params BLOB, size INTEGER)")
    t = time.perf_counter()
    base = spec.params("x", model=MODEL, max_tokens=1024)
    rows = []
    for i, text in enumerate(texts):
        body = orjson.dumps({**base, "messages": [{"role": "user", "content": text}]})
        rows.append((f"k{i}", body, len(body)))
    with db:
        db.executemany("INSERT INTO requests (key, params, size) VALUES (?, ?, ?)", rows)
    elapsed = time.perf_counter() - t
    db.close()
    return elapsed


def bench_add(model: type[Any], n: int) -> dict[str, Any]:
    """Items per second for the floor, `add_many` and an `add` loop over `n` inputs."""
    spec = sb.compile(model)
    texts = _texts(n)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        floor_before = _floor(spec, texts, d / "floor1.db")
        job = sb.Job(spec, model=MODEL, store=d / "many.db", preflight=False)
        t = time.perf_counter()
        job.add_many((f"k{i}", text) for i, text in enumerate(texts))
        many = time.perf_counter() - t
        job.close()
        job = sb.Job(spec, model=MODEL, store=d / "loop.db", preflight=False)
        t = time.perf_counter()
        for i, text in enumerate(texts):
            job.add(f"k{i}", messages=text)
        loop = time.perf_counter() - t
        job.close()
        floor = min(floor_before, _floor(spec, texts, d / "floor2.db"))
    return {
        "rows": {
            "hand-written floor (params + orjson + executemany)": {"seconds": floor, "per_s": n / floor},
            "structbatch add_many": {"seconds": many, "per_s": n / many},
            "structbatch add loop": {"seconds": loop, "per_s": n / loop},
        },
        "ratios": {"add_many_vs_floor": floor / many, "add_loop_vs_floor": floor / loop},
    }
