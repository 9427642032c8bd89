"""End to end through the emulator: N inputs, a bare SDK loop against a structbatch Job.

Both sides start from the same N input texts (generated lazily, so neither holds the inputs in
memory) and end with N typed `Invoice` values:

- *bare*: what a careful user writes with the SDK alone: build `Spec.params` per input, cut
  batches at the API's limits (100,000 requests, 256 MiB of body), create them all, poll each
  until it ended, stream `results()` and validate each succeeded tool answer into the model.
- *ours*: `Job.add_many`, `Job.run`, then iterate `Job.outcomes()`.

Each side runs in a fresh child process (`python -m benchmarks._e2e SIDE N URL DIR`, one JSON
line on stdout), so its peak RSS (VmHWM) is its own, against its own fresh emulator process with
the same settings. Every input must end ok on both sides: a side that measured nothing fails.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from ._serve import ROOT, Server, peak_rss_mb

MODEL = "claude-haiku-4-5"
MAX_TOKENS = 1024
API_KEY = "sk-emu-bench0000"
MAX_REQUESTS = 100_000  # per batch [API]
MAX_BYTES = 256 * 1024 * 1024  # per batch create body [API]
_ENVELOPE = len(b'{"requests":[]}')
BARE = "bare SDK loop (create, poll, results(), model_validate)"
OURS = "structbatch Job (add_many, run, outcomes)"


def texts(n: int) -> Iterator[str]:
    """The N inputs, the same on both sides."""
    for i in range(n):
        yield f"Invoice {i}: Vendor {i % 97} GmbH, 3 widgets at 12.50 EUR"


def _log(side: str, what: str, t0: float) -> None:
    print(f"[e2e {side}] {time.perf_counter() - t0:8.1f}s {what}", file=sys.stderr, flush=True)


def _client(url: str) -> Any:
    import anthropic

    return anthropic.Anthropic(base_url=url, api_key=API_KEY, max_retries=2, timeout=1800)


def _invoice() -> type[Any]:
    sys.path.insert(0, str(ROOT / "examples"))
    from models import Invoice  # type: ignore[import-not-found]

    return Invoice  # type: ignore[no-any-return]


def run_bare(n: int, url: str) -> dict[str, Any]:
    """The hand-written loop; its wall time covers building, creating, polling and parsing."""
    import pydantic

    import structbatch as sb

    invoice = _invoice()
    spec = sb.compile(invoice)
    client = _client(url)
    t0 = time.perf_counter()
    ids: list[str] = []
    chunk: list[dict[str, Any]] = []
    chunk_bytes = _ENVELOPE
    request_bytes = 0
    for i, text in enumerate(texts(n)):
        request = {"custom_id": f"k{i}", "params": spec.params(text, model=MODEL, max_tokens=MAX_TOKENS)}
        size = len(orjson.dumps(request))  # the SDK sends compact JSON, as orjson writes it
        if chunk and (len(chunk) == MAX_REQUESTS or chunk_bytes + size + 1 > MAX_BYTES):
            ids.append(client.messages.batches.create(requests=chunk).id)
            _log("bare", f"created batch {len(ids)} ({len(chunk):,} requests)", t0)
            chunk, chunk_bytes = [], _ENVELOPE
        chunk.append(request)
        chunk_bytes += size + 1
        request_bytes += size
    if chunk:
        ids.append(client.messages.batches.create(requests=chunk).id)
    del chunk
    created = time.perf_counter() - t0
    _log("bare", f"created {len(ids)} batches", t0)
    ended = ok = 0
    for batch_id in ids:
        while client.messages.batches.retrieve(batch_id).processing_status != "ended":
            time.sleep(0.05)
        for r in client.messages.batches.results(batch_id):
            ended += 1
            if r.result.type == "succeeded":
                for block in r.result.message.content:
                    if block.type == "tool_use":
                        with contextlib.suppress(pydantic.ValidationError):  # a bad answer: not ok
                            ok += isinstance(invoice.model_validate(block.input), invoice)
                        break
        _log("bare", f"read {batch_id}: {ended:,} ended, {ok:,} ok", t0)
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "create_seconds": created,
        "results_seconds": seconds - created,
        "batches": len(ids),
        "ended": ended,
        "ok": ok,
        "peak_rss_mb": peak_rss_mb(),
        "request_mb": request_bytes / 1e6,
    }


def _store_mb(directory: Path) -> float:
    return sum(p.stat().st_size for p in directory.glob("e2e.db*")) / 1e6


def run_ours(n: int, url: str, directory: Path) -> dict[str, Any]:
    """add_many + run + outcomes; the wall time covers all three (split reported)."""
    import structbatch as sb

    invoice = _invoice()
    spec = sb.compile(invoice)
    client = _client(url)
    store = directory / "e2e.db"
    t0 = time.perf_counter()
    job = sb.Job(
        spec,
        model=MODEL,
        max_tokens=MAX_TOKENS,
        store=store,
        client=client,
        poll=sb.PollPolicy(initial=0.05, factor=1.5, maximum=0.5),
    )
    job.add_many((f"k{i}", text) for i, text in enumerate(texts(n)))
    added = time.perf_counter()
    _log("ours", f"added {n:,}", t0)
    summary = job.run()
    ran = time.perf_counter()
    _log("ours", f"ran: {summary.ok:,} ok", t0)
    ended = ok = 0
    for outcome in job.outcomes():
        ended += 1
        if outcome.ok:
            ok += isinstance(outcome.value, invoice)
    done = time.perf_counter()
    _log("ours", f"read {ended:,} outcomes, {ok:,} ok", t0)
    peak = peak_rss_mb()
    store_open = _store_mb(directory)
    batches = len(job.batches())
    job.close()
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    (request_bytes,) = db.execute("SELECT SUM(size) FROM requests").fetchone()
    db.close()
    return {
        "seconds": done - t0,
        "add_seconds": added - t0,
        "run_seconds": ran - added,
        "outcomes_seconds": done - ran,
        "batches": batches,
        "ended": ended,
        "ok": ok,
        "peak_rss_mb": peak,
        "request_mb": request_bytes / 1e6,
        "store_mb": _store_mb(directory),
        "store_mb_before_close": store_open,
    }


def bench_e2e(n: int, *, rates: str | None = None) -> dict[str, Any]:
    """Both sides, one after the other, each with its own process and its own fresh emulator.

    `rates` (an emulator failure-rate spec) is for the test that a side with failed inputs is
    refused rather than reported.
    """
    sides: dict[str, dict[str, Any]] = {}
    serve_args = ("--rates", rates) if rates else ()
    for side in ("bare", "ours"):
        with Server(*serve_args) as server, tempfile.TemporaryDirectory(prefix="structbatch-e2e-") as tmp:
            out = subprocess.run(
                [sys.executable, "-m", "benchmarks._e2e", side, str(n), server.url, tmp],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                text=True,
                check=True,
            )
            row: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
            row["emulator_peak_rss_mb"] = server.peak_rss_mb()
        if row["ended"] != n or row["ok"] != n:
            raise AssertionError(f"e2e {side}: {row['ended']:,} ended and {row['ok']:,} ok of {n:,} inputs")
        sides[side] = row
    bare, ours = sides["bare"], sides["ours"]
    return {
        "n": n,
        "rows": {BARE: bare, OURS: ours},
        "ratios": {
            "e2e_vs_bare_sdk": ours["seconds"] / bare["seconds"],
            "e2e_peak_rss_vs_bare_sdk": ours["peak_rss_mb"] / bare["peak_rss_mb"],
            "store_size_vs_request_bytes": ours["store_mb"] / ours["request_mb"],
        },
    }


def main(argv: list[str]) -> int:
    side, n, url = argv[0], int(argv[1]), argv[2]
    row = run_bare(n, url) if side == "bare" else run_ours(n, url, Path(argv[3]))
    print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
