"""Submission: intent → create exactly once → reconcile. The only code that creates batches.

The exactly-once rule for batch creation:

1. Before creating a batch, record an *intent* (which requests, how many, when).
2. Create it without any automatic retry (the API takes no idempotency key, so a retried POST
   could create a second, double-billed batch).
3. On success, record the batch id and mark its requests in flight in one transaction.
4. If the outcome is unknown (connection dropped, timeout, 5xx, or a crash before step 3),
   *reconcile* before any retry: list the batches created around the intent with the same request
   count that the store does not know (and has not rejected); adopt the one created closest to the
   intent. If there is none, wait until `RetryPolicy.settle` seconds have passed since the create
   was sent (a create still in flight may commit late) and look again; only then create anew.

An adopted batch is *unconfirmed*: the API shows nothing of a batch's content until it ends, so
ownership is proven from its results, before any answer is recorded (`_collect`). Every custom_id
of a job ends with the job's random salt (`_config.JobConfig.salt`), which no other job sends:
a first result line with one of this intent's custom_ids proves the batch ours; any other proves
it is not, and the intent goes back to reconciliation with that batch excluded — so a job that
adopted another job's batch still finds, and collects, its own.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import orjson

from . import _batching as batching
from ._config import JobConfig
from ._errors import JobError, KeyMismatchError, PreflightError
from ._jobtypes import ENDED, INTENT, OPEN, PENDING, BatchRow
from ._retry import RetryPolicy, call_with_retry, is_spend_limit, retry_after_seconds, sdk
from ._store import Store

if TYPE_CHECKING:
    import anthropic
    from anthropic.types.messages import MessageBatch

log = logging.getLogger("structbatch")

_COUNT_TOKENS_KEYS = ("messages", "model", "output_config", "system", "thinking", "tool_choice", "tools")
_RECONCILE_SKEW = 600.0  # seconds of clock skew tolerated between us and the API
_PREFLIGHT_SHAPES = 16  # request shapes checked per submit, at most


class Submitter:
    """Creates the batches of one job. `api()` returns the client (SDK retries off); `check()`
    raises if this process no longer holds the job's driver lease (called right before a create)."""

    def __init__(
        self,
        store: Store,
        config: JobConfig,
        api: Callable[[], anthropic.Anthropic],
        *,
        retry: RetryPolicy,
        sleep: Callable[[float], None],
        progress: Callable[[str], None],
        check: Callable[[], None],
        allow_key_change: bool = False,
    ) -> None:
        self.store = store
        self.config = config
        self.api = api
        self.retry = retry
        self.sleep = sleep
        self.progress = progress
        self.check = check
        self.allow_key_change = allow_key_change

    # -- keys and room ---------------------------------------------------------------------------

    def key_suffix(self) -> str:
        key = getattr(self.api(), "api_key", None)
        return key[-4:] if isinstance(key, str) and len(key) >= 4 else "none"

    def check_key(self) -> None:
        """Refuse to touch batches created with another API key (unless allowed)."""
        current = self.key_suffix()
        for b in self.store.batches(INTENT, OPEN, ENDED):
            if b.key_suffix != current and not self.allow_key_change:
                raise KeyMismatchError(
                    f"batch {b.batch_id or '(being created)'} was created with an API key ending in "
                    f"...{b.key_suffix}, but this client's key ends in ...{current}: the batch belongs to the "
                    "other key. Use that key, or pass allow_key_change=True if both keys are in the same "
                    "workspace"
                )

    def queue_room(self) -> int:
        inflight = sum(b.n_requests for b in self.store.batches(INTENT, OPEN))
        return max(self.config.max_queued_requests - inflight, 0)

    # -- submit ----------------------------------------------------------------------------------

    def submit(self) -> list[str]:
        """Resolve leftover intents, preflight, then create batches for pending requests within
        the queue cap; returns the ids of the batches created (or adopted)."""
        created = self.resolve_intents()
        if self.config.preflight:
            self.preflight()
        room = self.queue_room()
        sizes: list[tuple[int, int]] = []
        for seq, size in self.store.pending_sizes():
            if len(sizes) >= room:
                break
            sizes.append((seq, size))
        size_of = dict(sizes)
        for group in batching.shard(sizes, self.config.limits):
            n_bytes = batching.body_overhead(len(group)) + sum(size_of[seq] for seq in group)
            self.check()
            local_id = self.store.record_intent(group, n_bytes, self.key_suffix())
            created.append(self._create(local_id, reconcile_first=False))
            self.progress("submit")
        held = self.store.count_requests().get(PENDING, 0)
        if held and created:
            log.info(
                "holding back %d requests until queued ones finish (queue cap %d)",
                held,
                self.config.max_queued_requests,
            )
        return created

    def resolve_intents(self) -> list[str]:
        """Turn every leftover intent (a crash, a lost create, a rejected adoption) into a batch:
        reconciled first, created only if no batch of ours turns up."""
        return [self._create(row.local_id, reconcile_first=True) for row in self.store.batches(INTENT)]

    def forget_intents(self) -> None:
        """For a cancel: adopt what an intent became, or forget it if nothing did."""
        for row in self.store.batches(INTENT):
            if self.reconcile(row) is None:
                self.store.drop_intent(row.local_id)

    def _create(self, local_id: int, *, reconcile_first: bool) -> str:
        anthropic = sdk()
        from anthropic.types.messages import MessageBatch

        seqs = self.store.intent_seqs(local_id)
        row = self.store.batch(local_id)
        if reconcile_first:  # after a crash: the create may have been sent just before it
            adopted = self._reconcile_settled(row, row.intent_at)
            if adopted is not None:
                return adopted
        n_bytes = batching.body_overhead(len(seqs)) + sum(size for _, size in self.store.sizes(seqs))

        def body() -> Iterator[bytes]:
            return batching.iter_body(batching.entry_bytes(cid, p) for cid, p in self.store.entries(seqs))

        attempt = 0
        while True:
            self.check()
            sent_at = time.time()
            try:
                batch = self.api().post(
                    "/v1/messages/batches",
                    cast_to=MessageBatch,
                    content=body(),
                    options={
                        "max_retries": 0,
                        "headers": {"Content-Type": "application/json", "Content-Length": str(n_bytes)},
                    },
                )
            except anthropic.APIStatusError as exc:
                if is_spend_limit(exc):
                    self.store.drop_intent(local_id)
                    raise JobError(f"batch create refused: spend limit reached ({exc.message})") from exc
                if exc.status_code == 429:
                    wait = self.retry.delay(attempt, retry_after_seconds(exc))
                    log.warning("batch create: 429 (%s); waiting %.1fs", exc.message, wait)
                elif 400 <= exc.status_code < 500:
                    self.store.drop_intent(local_id)
                    raise JobError(
                        f"the API refused to create a batch of {len(seqs)} requests: "
                        f"{exc.status_code} {exc.message}"
                    ) from exc
                else:
                    adopted = self._reconcile_settled(row, sent_at)
                    if adopted is not None:
                        return adopted
                    wait = self.retry.delay(attempt, retry_after_seconds(exc))
                    log.warning(
                        "batch create: HTTP %s; no batch was created; retrying in %.1fs",
                        exc.status_code,
                        wait,
                    )
            except anthropic.APIConnectionError:
                adopted = self._reconcile_settled(row, sent_at)
                if adopted is not None:
                    return adopted
                wait = self.retry.delay(attempt)
                log.warning("batch create: connection lost and no batch was created; retrying in %.1fs", wait)
            else:
                self.store.mark_created(local_id, batch.id, batch.created_at.isoformat())
                log.info("created batch %s with %d requests", batch.id, len(seqs))
                return batch.id
            attempt += 1
            if attempt >= self.retry.attempts:
                raise JobError(
                    f"could not create a batch after {attempt} attempts; the intent is kept, so "
                    "running the job again reconciles before creating"
                )
            self.sleep(wait)

    # -- reconcile -------------------------------------------------------------------------------

    def _reconcile_settled(self, row: BatchRow, sent_at: float) -> str | None:
        """`reconcile`, and if nothing is found yet, again once `retry.settle` seconds have passed
        since the create was sent: a create still in flight on the server may commit late."""
        adopted = self.reconcile(row)
        wait = sent_at + self.retry.settle - time.time()
        if adopted is None and wait > 0:
            log.info("no batch for the unconfirmed create yet; checking again in %.1fs", wait)
            self.sleep(wait)
            adopted = self.reconcile(row)
        return adopted

    def reconcile(self, row: BatchRow) -> str | None:
        """Find a batch that a lost create response may have created; adopt it (unconfirmed)."""
        known = self.store.known_batch_ids(row.local_id)
        since = row.intent_at - _RECONCILE_SKEW

        def find() -> list[MessageBatch]:
            found: list[MessageBatch] = []
            for batch in self.api().messages.batches.list(limit=100):
                if batch.created_at.timestamp() < since:
                    break
                c = batch.request_counts
                total = c.processing + c.succeeded + c.errored + c.canceled + c.expired
                if batch.id not in known and total == row.n_requests:
                    found.append(batch)
            return found

        candidates = call_with_retry(
            find, what="listing batches to reconcile", policy=self.retry, sleep=self.sleep
        )
        if not candidates:
            return None
        # Ours was created right after the intent was recorded: try the closest first.
        candidates.sort(key=lambda b: abs(b.created_at.timestamp() - row.intent_at))
        chosen = candidates[0]
        if len(candidates) > 1:
            log.warning(
                "reconcile: %d unknown batches of %d requests around the intent; adopting %s (closest in "
                "time) until its results show whose it is",
                len(candidates),
                row.n_requests,
                chosen.id,
            )
        self.check()
        self.store.mark_created(row.local_id, chosen.id, chosen.created_at.isoformat(), adopted=True)
        log.warning(
            "reconciled: batch %s may be ours (its create response was lost); adopted it, to be confirmed by "
            "its results",
            chosen.id,
        )
        return chosen.id

    # -- preflight -------------------------------------------------------------------------------

    def preflight(self) -> int:
        """Validate one pending request of each distinct shape with `count_tokens` (free).

        The Batches API validates params only after a whole batch has ended; this catches a bad
        model name, a rejected mode or a malformed param in seconds. Returns the number checked.
        """
        anthropic = sdk()
        checked = set(orjson.loads(self.store.meta("preflight_checked") or "[]"))
        samples: dict[str, tuple[int, dict[str, Any]]] = {}
        for shape, seq in self.store.pending_shapes():
            if shape not in checked and len(samples) < _PREFLIGHT_SHAPES:
                samples[shape] = (seq, orjson.loads(self.store.params_of(seq)))
        for digest, (seq, params) in samples.items():
            body = {k: params[k] for k in _COUNT_TOKENS_KEYS if k in params}
            try:
                call_with_retry(
                    functools.partial(self.api().messages.count_tokens, **body),
                    what="preflight count_tokens",
                    policy=self.retry,
                    sleep=self.sleep,
                )
            except anthropic.BadRequestError as exc:
                key = self.store.key_of(seq)
                raise PreflightError(
                    f"preflight: the API rejected the request for key {key!r} (and every request "
                    f"shaped like it); nothing was submitted: {exc.message}"
                ) from exc
            except anthropic.NotFoundError as exc:
                raise PreflightError(
                    f"preflight: {exc.message} (model {self.config.model!r}); nothing was submitted"
                ) from exc
            except (anthropic.APIStatusError, anthropic.APIConnectionError) as exc:
                log.warning("preflight skipped for one request shape: %s", exc)
                continue
            checked.add(digest)
        self.store.set_meta({"preflight_checked": orjson.dumps(sorted(checked)).decode()})
        return len(samples)
