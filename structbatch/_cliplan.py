"""The command line's dry run: what `run` would submit (keys, bytes, batches, tokens, cost).

The job file's inputs are added to a scratch in-memory job (`cfg.job(client, store=":memory:")`,
which the command makes) and `Job.plan()` is asked, so the numbers come from the code that
submits (params building, system merge, salted custom_ids, sizing, sharding, pricing). Nothing is
submitted. Given a client (the environment's key, or
`--emulator`), the input tokens come from the free `count_tokens` on a few samples; without one,
from bytes; the output says which.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._jobfile import InputStats, JobFile
from ._progress import human

if TYPE_CHECKING:
    from ._job import Job


def plan(scratch: Job[Any], cfg: JobFile, stats: InputStats) -> dict[str, Any]:
    """The dry run as one JSON-ready document: `cfg`'s inputs added to the empty `scratch` job,
    then its plan; tokens are counted on samples when the scratch job has a client."""
    scratch.add_many(cfg.items())
    planned = scratch.plan()
    return {
        "command": "run --dry-run",
        "job": str(cfg.path),
        **planned.as_dict(),
        "keys": stats.rows,
        "max_tokens": cfg.max_tokens,
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
    lines.append(f"  input tokens    ≈ {doc['estimated_input_tokens']:,} ({doc['token_estimate']})")
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
