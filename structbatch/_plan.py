"""What a job will send and what it has sent: `Job.plan()` (the dry run) and `Job.batches()`.

The plan is computed from the store, by the code that submits: the pending requests are the
exact bytes `_adding` built and stored (same params building, system merge, salted custom_ids,
entry sizes), split by `_batching.shard` under the job's limits as `_submit` does, each batch's
body size counted with `_batching.body_overhead`, and priced with `_cost`. So a dry run of a job
file is: add its inputs to a scratch store, then `plan()`.

Input tokens are an estimate either way, and the plan says which one it is:
- `count_tokens` (free) on up to `SAMPLES` pending requests spread over the job, scaled by bytes
  to the whole job, when a client is available;
- otherwise 4 bytes of request JSON per token (the schema, system and turns all count).
Output tokens are bounded by each request's `max_tokens`: the plan gives that upper bound.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import orjson

from . import _batching as batching
from ._config import JobConfig
from ._cost import PRICES_CHECKED, Price, batch_cost, price_for
from ._jobtypes import DONE, INFLIGHT, BatchRow, BatchState
from ._modes import Mode
from ._outcome import Usage
from ._retry import RetryPolicy, call_with_retry, sdk
from ._store import Store
from ._submit import _COUNT_TOKENS_KEYS

if TYPE_CHECKING:
    import anthropic

log = logging.getLogger("structbatch")

#: Pending requests `plan()` sends to `count_tokens`, at most.
SAMPLES = 5
#: Bytes of request JSON per token, for the estimate without `count_tokens`.
BYTES_PER_TOKEN = 4

#: Where a plan's input-token estimate came from.
TokenSource = Literal["count_tokens", "bytes"]


@dataclass(frozen=True, slots=True)
class PlannedBatch:
    """One batch the next submissions would create: its request count and body bytes."""

    requests: int
    bytes: int


@dataclass(frozen=True, slots=True)
class Plan:
    """What `run()` would send now, and what it would cost (see the module docstring).

    `keys` are the pending keys (to be sent), `done` the finished ones (never sent again),
    `inflight` those in open batches. `request_bytes` is the sum of the request entries,
    `body_bytes` of the batch bodies (entries, commas and wrappers) as POSTed. `too_large` keys
    fit no batch: they are final `api_error`s, never sent. `first_submit` is how many of the
    batches one `submit()` creates under the queue cap (`max_queued_requests`).
    `token_method` says how `input_tokens` was estimated, and `token_source` in one word:
    `"count_tokens"` (samples counted by the API) or `"bytes"`. Costs are US$ at batch prices (None
    for a model without a price); `max_output_cost` assumes every answer uses its `max_tokens`.
    """

    model: str
    mode: Mode
    keys: int
    done: int
    inflight: int
    too_large: int
    request_bytes: int
    body_bytes: int
    batches: tuple[PlannedBatch, ...]
    first_submit: int
    limits: batching.Limits
    input_tokens: int
    token_method: str
    max_output_tokens: int
    input_cost: float | None
    max_output_cost: float | None
    price: Price | None = field(default=None)
    token_source: TokenSource = "bytes"

    @property
    def cost(self) -> float | None:
        """Input cost plus the output upper bound: the most this plan can cost (estimated)."""
        if self.input_cost is None or self.max_output_cost is None:
            return None
        return self.input_cost + self.max_output_cost

    def as_dict(self) -> dict[str, Any]:
        price = self.price
        return {
            "model": self.model,
            "mode": self.mode.value,
            "keys": self.keys,
            "done": self.done,
            "inflight": self.inflight,
            "too_large": self.too_large,
            "request_bytes": self.request_bytes,
            "body_bytes": self.body_bytes,
            "batches": len(self.batches),
            "batch_sizes": [{"requests": b.requests, "bytes": b.bytes} for b in self.batches],
            "first_submit": self.first_submit,
            "batch_caps": {"requests": self.limits.max_requests, "bytes": self.limits.max_bytes},
            "estimated_input_tokens": self.input_tokens,
            "token_estimate": self.token_method,
            "token_source": self.token_source,
            "max_output_tokens": self.max_output_tokens,
            "estimated_input_cost_usd": self.input_cost,
            "max_output_cost_usd": self.max_output_cost,
            "max_cost_usd": self.cost,
            "price": None
            if price is None
            else {
                "input_per_mtok": price.input,
                "output_per_mtok": price.output,
                "batch_discount": 0.5,
                "checked": PRICES_CHECKED,
                "note": price.note,
            },
        }


def plan(
    store: Store,
    config: JobConfig,
    mode: Mode,
    *,
    api: anthropic.Anthropic | None,
    retry: RetryPolicy,
    sleep: Callable[[float], None],
    queue_room: int,
) -> Plan:
    """The plan of `store`'s pending requests; `api` (SDK retries off) enables `count_tokens`."""
    sizes = list(store.pending_sizes())
    groups = list(batching.shard(sizes, config.limits))
    size_of = dict(sizes)
    planned = tuple(
        PlannedBatch(len(g), batching.body_overhead(len(g)) + sum(size_of[s] for s in g)) for g in groups
    )
    first, room = 0, queue_room
    for b in planned:  # `_submit.submit` takes pending requests in order up to the room
        if room <= 0:
            break
        first += 1
        room -= b.requests
    request_bytes = sum(size_of.values())
    counts = store.count_requests()
    input_tokens, source, method = _estimate_tokens(
        store, [s for s, _ in sizes], request_bytes, api, retry, sleep
    )
    max_out = _max_output_tokens(store)
    return Plan(
        model=config.model,
        mode=mode,
        keys=len(sizes),
        done=counts.get(DONE, 0),
        inflight=counts.get(INFLIGHT, 0),
        too_large=_too_large(store),
        request_bytes=request_bytes,
        body_bytes=sum(b.bytes for b in planned),
        batches=planned,
        first_submit=first,
        limits=config.limits,
        input_tokens=input_tokens,
        token_method=method,
        token_source=source,
        max_output_tokens=max_out,
        input_cost=batch_cost(config.model, Usage(input_tokens=input_tokens)),
        max_output_cost=batch_cost(config.model, Usage(output_tokens=max_out)),
        price=price_for(config.model),
    )


def _estimate_tokens(
    store: Store,
    seqs: list[int],
    request_bytes: int,
    api: anthropic.Anthropic | None,
    retry: RetryPolicy,
    sleep: Callable[[float], None],
) -> tuple[int, TokenSource, str]:
    by_bytes: tuple[int, TokenSource, str] = (
        request_bytes // BYTES_PER_TOKEN,
        "bytes",
        f"estimated from {request_bytes:,} bytes of request JSON ({BYTES_PER_TOKEN} bytes per token)",
    )
    if api is None or not seqs or request_bytes == 0:
        return by_bytes
    anthropic = sdk()
    step = max(len(seqs) // SAMPLES, 1)
    picked = seqs[::step][:SAMPLES]
    sample_tokens = sample_bytes = 0
    sizes = dict(store.sizes(picked))
    for seq in picked:
        params = orjson.loads(store.params_of(seq))
        body = {k: params[k] for k in _COUNT_TOKENS_KEYS if k in params}
        try:
            counted = call_with_retry(
                functools.partial(api.messages.count_tokens, **body),
                what="plan: count_tokens",
                policy=retry,
                sleep=sleep,
            )
        except (anthropic.APIStatusError, anthropic.APIConnectionError) as exc:
            log.warning("plan: count_tokens failed (%s); estimating tokens from bytes", exc)
            return by_bytes[0], "bytes", by_bytes[2] + f"; count_tokens failed: {type(exc).__name__}"
        sample_tokens += int(counted.input_tokens)
        sample_bytes += sizes[seq]
    tokens = round(sample_tokens * request_bytes / sample_bytes)
    return (
        tokens,
        "count_tokens",
        f"count_tokens on {len(picked)} sample(s), scaled by bytes to {len(seqs):,} requests",
    )


def _max_output_tokens(store: Store) -> int:
    """The sum of `max_tokens` over pending requests (it lives in each request's shape)."""
    total = 0
    for shape, n in store._db.execute(
        "SELECT shape, COUNT(*) FROM requests WHERE state='pending' GROUP BY shape"
    ):
        rest = orjson.loads(store._rest(int(shape)))
        total += int(rest.get("max_tokens") or 0) * int(n)
    return total


def _too_large(store: Store) -> int:
    row = store._db.execute(
        "SELECT COUNT(*) FROM outcomes o JOIN requests r ON r.seq=o.seq WHERE o.kind='api_error' "
        "AND r.attempts=0 AND o.failure LIKE '%\"request_too_large\"%'"
    ).fetchone()
    return int(row[0])


# -- batches -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BatchInfo:
    """One of the job's batches, as the store last saw it (`Job.wait`/`status` poll to refresh).

    `batch_id` is None while the batch is being created (an intent: created exactly once, or
    reconciled after a crash). `state` is the job's view (`intent`, `open`, `ended`,
    `collected`); `processing_status` and `request_counts` are the API's, as last polled.
    `key_suffix` is the last four characters of the API key that created it. `adopted`: found by
    reconciliation after a lost create response; `confirmed` once its results proved it ours.
    """

    batch_id: str | None
    state: BatchState
    processing_status: str | None
    requests: int
    bytes: int
    request_counts: Mapping[str, int] | None
    created_at: str | None
    ended_at: str | None
    key_suffix: str
    adopted: bool
    confirmed: bool
    canceled_by_user: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "state": self.state.value,
            "processing_status": self.processing_status,
            "requests": self.requests,
            "bytes": self.bytes,
            "request_counts": None if self.request_counts is None else dict(self.request_counts),
            "created_at": self.created_at,
            "ended_at": self.ended_at,
            "key_suffix": self.key_suffix,
            "adopted": self.adopted,
            "confirmed": self.confirmed,
            "canceled_by_user": self.canceled_by_user,
        }


def batch_info(row: BatchRow) -> BatchInfo:
    return BatchInfo(
        batch_id=row.batch_id,
        state=row.state,
        processing_status=row.processing_status,
        requests=row.n_requests,
        bytes=row.n_bytes,
        request_counts=row.request_counts,
        created_at=row.created_at,
        ended_at=row.ended_at,
        key_suffix=row.key_suffix,
        adopted=row.adopted,
        confirmed=row.confirmed,
        canceled_by_user=row.user_canceled,
    )
