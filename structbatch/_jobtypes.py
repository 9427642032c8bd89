"""Leaf value types of a job: polling policy, progress, summaries, and the store's row types.

They import nothing of the engine, so displays (`_progress`), the CLI and the engine modules can
all share them without cycles. `structbatch._job` re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ._batching import join_params
from ._outcome import Usage


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """How often to poll open batches: `initial`, growing by `factor`, capped at `maximum` seconds.

    The defaults suit real jobs (most batches end within an hour; all within 24 h). Tests against
    the emulator use tiny values.
    """

    initial: float = 5.0
    factor: float = 1.5
    maximum: float = 60.0


@dataclass(frozen=True, slots=True)
class Progress:
    """A snapshot for progress displays, passed to `on_progress` after every step."""

    phase: str
    total: int
    pending: int
    inflight: int
    done: int
    ok: int
    failed: int
    batches_open: int
    batches_ended: int
    usage: Usage
    cost: float | None
    elapsed: float


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts per outcome kind, tokens and estimated cost of a job."""

    total: int
    counts: dict[str, int]
    pending: int
    inflight: int
    usage: Usage
    cost: float | None
    batches: int
    strays: int
    model: str

    @property
    def ok(self) -> int:
        return self.counts.get("ok", 0)

    @property
    def failed(self) -> int:
        return sum(n for k, n in self.counts.items() if k != "ok")

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "ok": self.ok,
            "failed": self.failed,
            "counts": dict(self.counts),
            "pending": self.pending,
            "inflight": self.inflight,
            "usage": self.usage.as_dict(),
            "cost_usd": self.cost,
            "batches": self.batches,
            "strays": self.strays,
            "model": self.model,
        }

    def __str__(self) -> str:
        lines = [
            f"{self.total} keys: {self.ok} ok, {self.failed} failed"
            + (f", {self.pending + self.inflight} unfinished" if self.pending + self.inflight else "")
        ]
        for kind, n in sorted(self.counts.items(), key=lambda kv: (kv[0] != "ok", kv[0])):
            lines.append(f"  {kind:<17} {n:>8}")
        u = self.usage
        lines.append(
            f"tokens: {u.input_tokens} in, {u.output_tokens} out, {u.cache_read_input_tokens} cache read, "
            f"{u.cache_creation_input_tokens} cache write"
        )
        lines.append(
            "cost: "
            + (
                f"${self.cost:.4f} (batch prices)"
                if self.cost is not None
                else f"unknown (no price for {self.model})"
            )
        )
        if self.strays:
            lines.append(f"results for unknown custom_ids: {self.strays} (kept in the store)")
        return "\n".join(lines)


# -- what the store reads and writes (`_store` owns the encoding) ----------------------------


class BatchState(StrEnum):
    """Where a batch is in its life, as the store records it."""

    INTENT = "intent"
    """About to be created (maybe created, if we crashed or the create response was lost)."""
    OPEN = "open"
    """Created, not ended."""
    ENDED = "ended"
    """Ended at the API; results not all recorded."""
    COLLECTED = "collected"
    """Every result recorded."""
    FOREIGN = "foreign"
    """Adopted during reconciliation, then found not to be this job's (nothing of it recorded)."""


class RequestState(StrEnum):
    """Where a request is: waiting to be sent, in a batch, or finished with its outcome."""

    PENDING = "pending"
    INFLIGHT = "inflight"
    DONE = "done"


# Short names used throughout the engine.
INTENT, OPEN, ENDED, COLLECTED, FOREIGN = (
    BatchState.INTENT,
    BatchState.OPEN,
    BatchState.ENDED,
    BatchState.COLLECTED,
    BatchState.FOREIGN,
)
PENDING, INFLIGHT, DONE = RequestState.PENDING, RequestState.INFLIGHT, RequestState.DONE

Usage4 = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class BatchRow:
    """One batch as the store knows it. `confirmed` is False for an adopted batch whose results
    have not yet proven it ours (see `_submit`)."""

    local_id: int
    batch_id: str | None
    state: BatchState
    n_requests: int
    n_bytes: int
    key_suffix: str
    intent_at: float
    created_at: str | None
    ended_at: str | None
    processing_status: str | None
    request_counts: dict[str, int] | None
    adopted: bool
    confirmed: bool
    user_canceled: bool


@dataclass(frozen=True, slots=True)
class InflightRequest:
    """What collection needs to know about one request of a batch."""

    seq: int
    key: str
    custom_id: str
    mode: str
    attempts: int
    reasks: int
    usage: Usage4
    recorded: bool


@dataclass(frozen=True, slots=True)
class NewRequest:
    """A request to add: the user key, its custom_id, mode, and its params split in two
    (`batching.split_params`): the turns, and the rest shared by requests of the same shape."""

    key: str
    custom_id: str
    mode: str
    messages: bytes
    rest: bytes
    size: int
    prefilled: bool = False

    @property
    def params(self) -> bytes:
        return join_params(self.messages, self.rest)


@dataclass(frozen=True, slots=True)
class FinalOutcome:
    """A final outcome row, as persisted (`value` and `failure` are JSON bytes)."""

    seq: int
    ok: bool
    kind: str | None
    value: bytes | None
    failure: bytes | None
    repairs: str
    raw: bytes | None


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What one result line did to its request: the attempt's result and the request's next step.

    `next_state` is PENDING (resubmit, or re-ask with `new_messages`: the extended turns) or DONE
    (with `outcome`).
    """

    seq: int
    result: str
    usage: Usage4
    next_state: RequestState
    outcome: FinalOutcome | None = None
    new_messages: bytes | None = None
    new_size: int | None = None
    reask: bool = False


@dataclass(frozen=True, slots=True)
class OutcomeRow:
    """A final outcome with its request, decoded: what `Job.outcomes` turns into an `Outcome`."""

    seq: int
    key: str
    custom_id: str
    mode: str
    attempts: int
    usage: Usage4
    ok: bool
    kind: str | None
    value: bytes | None
    failure: dict[str, Any]
    repairs: tuple[str, ...]
    raw: bytes | None


@dataclass(frozen=True, slots=True)
class LeaseRow:
    """The driver lease as stored: who holds it, since when, last renewed when."""

    token: str
    pid: int
    host: str
    since: float
    renewed: float
