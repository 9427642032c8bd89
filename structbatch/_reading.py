"""Reading a job's store without driving it: one `Outcome` per finished key (with the history
of earlier tries folded in: attempts counted across tries, earlier failures listed), the summary
and the progress snapshot.

Kept apart from `_retrying` (which writes tries) and `_job` (which only orchestrates) so the
read path, which never takes the driver lease, has one small home.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from ._cost import batch_cost
from ._jobtypes import COLLECTED, DONE, ENDED, INFLIGHT, OPEN, PENDING, OutcomeRow, Progress, Summary
from ._outcome import FailureKind, Outcome, Result, Usage
from ._tries import failure_of, tries_exist

if TYPE_CHECKING:
    from ._schema import Spec
    from ._store import Store

T = TypeVar("T")


def summarize(store: Store, model: str) -> Summary:
    """`Job.summary()`: counts per outcome kind, tokens over all attempts, estimated batch cost."""
    counts = store.count_requests()
    usage = Usage(*store.token_totals())
    return Summary(
        total=sum(counts.values()),
        counts=store.outcome_counts(),
        pending=counts.get(PENDING, 0),
        inflight=counts.get(INFLIGHT, 0),
        usage=usage,
        cost=batch_cost(model, usage),
        batches=len(store.batches(OPEN, ENDED, COLLECTED)),
        strays=store.stray_count(),
        model=model,
    )


def progress_snapshot(store: Store, model: str, phase: str, elapsed: float) -> Progress:
    """The `Progress` passed to `on_progress` after every step of a driving call."""
    counts = store.count_requests()
    outcome_counts = store.outcome_counts()
    usage = Usage(*store.token_totals())
    ok = outcome_counts.get("ok", 0)
    return Progress(
        phase=phase,
        total=sum(counts.values()),
        pending=counts.get(PENDING, 0),
        inflight=counts.get(INFLIGHT, 0),
        done=counts.get(DONE, 0),
        ok=ok,
        failed=sum(outcome_counts.values()) - ok,
        batches_open=len(store.batches(OPEN)),
        batches_ended=len(store.batches(ENDED, COLLECTED)),
        usage=usage,
        cost=batch_cost(model, usage),
        elapsed=elapsed,
    )


def read_outcomes(
    store: Store, spec: Spec[T], *, kinds: Iterable[FailureKind | str] | None = None, failed: bool = False
) -> Iterator[Result[T]]:
    """The outcomes `Job.outcomes` yields (see its docstring for `kinds` and `failed`)."""
    wanted = None if kinds is None else [str(k) for k in kinds]
    if failed:
        every = [k.value for k in FailureKind]
        wanted = every if wanted is None else [k for k in wanted if k != "ok"]
    for row, earlier in with_earlier(store, store.outcome_rows(kinds=wanted)):
        common: dict[str, Any] = {
            "usage": Usage(*row.usage),
            "key": row.key,
            "custom_id": row.custom_id,
            "mode": row.mode,
            "attempts": row.attempts + (earlier.attempts if earlier else 0),
            "repairs": row.repairs,
        }
        if row.ok:
            assert row.value is not None
            yield Outcome.success(spec.load_value(row.value), **common)
            continue
        data = row.failure
        details = data.get("details") or {}
        if earlier is not None and earlier.failures:
            details = {**details, "earlier_tries": list(earlier.failures)}
        raw = row.raw.decode("utf-8", "replace") if row.raw else None
        yield Outcome.fail(
            FailureKind(str(row.kind)), str(data.get("message", "")), details, raw=raw, **common
        )


@dataclass(frozen=True, slots=True)
class Earlier:
    """What `Job.outcomes` adds to an outcome of a retried key: earlier sends, earlier failures."""

    attempts: int
    failures: tuple[dict[str, Any], ...]


def with_earlier(store: Store, rows: Iterable[OutcomeRow]) -> Iterator[tuple[OutcomeRow, Earlier | None]]:
    """Pair each outcome row (in seq order) with its key's earlier tries, by a merge over the two
    seq-ordered streams: one pass, no per-key query, nothing held for keys never retried."""
    if not tries_exist(store):
        for row in rows:
            yield row, None
        return
    cur = store._db.execute(
        "SELECT t.seq, t.n, t.custom_id, t.ok, t.kind, t.failure, t.attempts FROM tries t "
        "JOIN requests r ON r.seq=t.seq AND r.key=t.key ORDER BY t.seq, t.n"
    )
    grouped = _group_tries(cur.fetchall())  # tries are few next to outcomes; read them once
    it = iter(grouped)
    nxt = next(it, None)
    for row in rows:
        while nxt is not None and nxt[0] < row.seq:
            nxt = next(it, None)
        if nxt is not None and nxt[0] == row.seq:
            yield row, nxt[1]
        else:
            yield row, None


def _group_tries(rows: Sequence[Sequence[Any]]) -> list[tuple[int, Earlier]]:
    out: list[tuple[int, Earlier]] = []
    i = 0
    while i < len(rows):
        seq = int(rows[i][0])
        attempts = 0
        failures: list[dict[str, Any]] = []
        while i < len(rows) and int(rows[i][0]) == seq:
            _seq, n, cid, ok, kind, failure, tries_attempts = rows[i]
            attempts += int(tries_attempts)
            if not ok:
                f = failure_of(kind, failure)
                failures.append(
                    {"try": int(n), "custom_id": str(cid), "kind": f.kind.value, "message": f.message}
                )
            i += 1
        out.append((seq, Earlier(attempts, tuple(failures))))
    return out
