"""The command line's dry run: what `run` would submit (keys, bytes, batches, tokens, cost),
computed from the job file without a client. Nothing is sent anywhere.

Until the library's own `Job.plan()` exists this builds the same params the job would (same
`Spec.params`, same sizing and sharding from `_batching`); a plan from the library replaces it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from . import _batching as batching
from ._cost import PRICES_CHECKED, batch_price_per_million, price_for
from ._jobfile import InputStats, JobFile
from ._modes import resolve_mode
from ._progress import human


def plan(cfg: JobFile, spec: Any, stats: InputStats) -> dict[str, Any]:
    """The dry run as one JSON-ready document."""
    mode = resolve_mode(spec, cfg.model, cfg.mode, **cfg.params)
    limits = cfg.limits.batch_limits()
    totals = {"bytes": 0, "json_chars": 0, "too_large": 0}

    def sizes() -> Iterator[tuple[int, int]]:
        for i, item in enumerate(cfg.items()):
            params = spec.params(
                item["messages"],
                model=cfg.model,
                max_tokens=cfg.max_tokens,
                mode=mode,
                system=cfg.system,
                **cfg.params,
            )
            body = batching.encode_params(params)
            size = batching.entry_size(batching.custom_id_for(item["key"]), body)
            totals["json_chars"] += len(body.decode())
            if not limits.fits_alone(size):
                totals["too_large"] += 1
                continue
            totals["bytes"] += size
            yield i, size

    n_batches = sum(1 for _ in batching.shard(sizes(), limits))
    # Estimate: ~4 characters per token of the request JSON (prompt, system, tool schema). The
    # real count differs by language and schema; `count_tokens` on a sample would be exact.
    tokens_in = totals["json_chars"] // 4
    price = price_for(cfg.model)
    per_m = batch_price_per_million(cfg.model)
    cost_in = tokens_in * per_m[0] / 1e6 if per_m else None
    cost_out_max = stats.rows * cfg.max_tokens * per_m[1] / 1e6 if per_m else None
    return {
        "command": "run --dry-run",
        "job": str(cfg.path),
        "keys": stats.rows,
        "model": cfg.model,
        "mode": mode.value,
        "request_bytes": totals["bytes"],
        "too_large": totals["too_large"],
        "batches": n_batches,
        "batch_caps": {"requests": limits.max_requests, "bytes": limits.max_bytes},
        "max_tokens": cfg.max_tokens,
        "estimated_input_tokens": tokens_in,
        "token_estimate": "request JSON characters / 4",
        "estimated_input_cost_usd": cost_in,
        "max_output_cost_usd": cost_out_max,
        "price": None
        if price is None
        else {
            "input_per_mtok": price.input,
            "output_per_mtok": price.output,
            "batch_discount": 0.5,
            "checked": PRICES_CHECKED,
            "note": price.note,
        },
        "skipped": {reason: [str(p) for p in paths] for reason, paths in stats.skipped.items()},
    }


def plan_text(doc: dict[str, Any]) -> str:
    """The dry run for people."""
    lines = [
        f"dry run of {doc['job']}: nothing submitted",
        f"  keys            {doc['keys']}",
        f"  model / mode    {doc['model']} / {doc['mode']}",
        f"  request bytes   {doc['request_bytes']:,} ({human(doc['request_bytes'])}B)",
    ]
    if doc["too_large"]:
        lines.append(f"  too large       {doc['too_large']} (would fail as api_error, never submitted)")
    caps = doc["batch_caps"]
    lines.append(
        f"  batches         {doc['batches']} (caps: {caps['requests']:,} requests, {caps['bytes']:,} bytes)"
    )
    lines.append(f"  input tokens    ≈ {doc['estimated_input_tokens']:,} (request JSON characters / 4)")
    price = doc["price"]
    if price is not None and doc["estimated_input_cost_usd"] is not None:
        lines.append(
            f"  input cost      ≈ ${doc['estimated_input_cost_usd']:.4f} "
            f"(batch price ${price['input_per_mtok'] / 2:g}/MTok, list ${price['input_per_mtok']:g})"
        )
        lines.append(
            f"  output cost     ≤ ${doc['max_output_cost_usd']:.4f} "
            f"(if every answer used max_tokens={doc['max_tokens']}; batch ${price['output_per_mtok'] / 2:g}/MTok)"
        )
        lines.append(
            f"  prices          checked {price['checked']}" + (f"; {price['note']}" if price["note"] else "")
        )
    else:
        lines.append(f"  cost            unknown (no price for {doc['model']} in the price table)")
    return "\n".join(lines)
