"""A batch extraction job: add inputs, submit, poll, collect, resubmit, re-ask, resume.

Every step reads and writes the job's `Store`, so any step can run in another process, later, or
again after a crash. The exactly-once rule for batch creation:

1. Before creating a batch, record an *intent* (which requests, how many, when).
2. Create it without the SDK's automatic retries (the API takes no idempotency key, so a retried
   POST could create a second, double-billed batch).
3. On success, record the batch id and mark its requests in flight in one transaction.
4. If the outcome is unknown (connection dropped, timeout, 5xx, or a crash before step 3),
   *reconcile* before any retry: list the batches created since the intent with the same request
   count that the store does not know; adopt the oldest. Only if there is none is the create retried.
   When an adopted batch's results arrive, its custom_ids confirm it was ours; if none match,
   its requests go back to pending.

The one residual risk: the API commits a batch but does not list it yet when we reconcile (or
another client with the same key creates a batch of exactly the same size in the same window and
we adopt it; that costs time, never a result, because custom_ids are checked).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import anthropic
import httpx2
import orjson
from anthropic.types.messages import MessageBatch

from . import _batching as batching
from . import _parse
from ._cost import batch_cost
from ._errors import DuplicateKeyError, InputError, JobError, KeyMismatchError, PreflightError, StoreError
from ._extract import loads_document
from ._modes import PREFILL_TEXT, Mode, resolve_mode
from ._outcome import RESUBMITTABLE_API_ERRORS, Failure, FailureKind, Outcome, Usage
from ._reask import reask_params
from ._retry import RetryPolicy as RetryPolicy  # re-exported: part of Job's signature
from ._retry import call_with_retry, is_spend_limit, retry_after_seconds
from ._schema import Spec, compile
from ._store import (
    COLLECTED,
    DONE,
    ENDED,
    INTENT,
    OPEN,
    PENDING,
    AttemptResult,
    BatchRow,
    FinalOutcome,
    InflightRequest,
    NewRequest,
    Store,
)

log = logging.getLogger("structbatch")
T = TypeVar("T")

_COUNT_TOKENS_KEYS = ("messages", "model", "output_config", "system", "thinking", "tool_choice", "tools")
_RECONCILE_SKEW = 600.0  # seconds of clock skew tolerated between us and the API
_RESULT_CHUNK = 1000
_MAX_RAW = 65_536


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


@dataclass
class _Settings:
    model: str
    mode: Mode
    max_tokens: int
    system: str | None
    params: dict[str, Any] = field(default_factory=dict)
    max_attempts: int = 3
    max_reasks: int = 1

    def to_meta(self) -> dict[str, str]:
        return {
            "model": self.model,
            "mode": self.mode.value,
            "max_tokens": str(self.max_tokens),
            "system": orjson.dumps(self.system).decode(),
            "params": orjson.dumps(self.params).decode(),
            "max_attempts": str(self.max_attempts),
            "max_reasks": str(self.max_reasks),
        }


class Job(Generic[T]):
    """One extraction job over a SQLite store. See the module docstring for the guarantees.

    `Job(spec, model=..., store="job.db")` creates the store, or reopens it when it exists (the
    spec must be the same). `client` defaults to `anthropic.Anthropic()` from the environment, so
    `ANTHROPIC_BASE_URL` can point it at the emulator. Extra keyword arguments (`temperature`,
    `metadata`, ...) go into every request's params.
    """

    def __init__(
        self,
        spec: Spec[T] | Any,
        *,
        model: str,
        store: str | Path = "structbatch.db",
        client: anthropic.Anthropic | None = None,
        mode: Mode | str = Mode.AUTO,
        max_tokens: int = 1024,
        system: str | None = None,
        max_attempts: int = 3,
        max_reasks: int = 1,
        limits: batching.Limits | None = None,
        max_queued_requests: int = 100_000,
        preflight: bool = True,
        poll: PollPolicy | None = None,
        retry: RetryPolicy | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        allow_key_change: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        **params: Any,
    ) -> None:
        self.spec: Spec[T] = spec if isinstance(spec, Spec) else compile(spec)
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if max_reasks < 0:
            raise ValueError("max_reasks must be >= 0")
        self._settings = _Settings(
            model=model,
            mode=Mode(mode),
            max_tokens=max_tokens,
            system=system,
            params=dict(params),
            max_attempts=max_attempts,
            max_reasks=max_reasks,
        )
        self.store = Store(store)
        self._client = client
        self.limits = limits or batching.Limits()
        self.max_queued_requests = max_queued_requests
        self.preflight_enabled = preflight
        self.poll = poll or PollPolicy()
        self.retry = retry or RetryPolicy()
        self.on_progress = on_progress
        self.allow_key_change = allow_key_change
        self._sleep = sleep
        self._started = time.monotonic()
        self._bind_store()
        self._session = self.store.next_session()
        # Resolve once: refuse an impossible mode before a single key is added.
        self._mode = resolve_mode(self.spec, model, self._settings.mode, **params)

    # -- construction -----------------------------------------------------------------------------

    @classmethod
    def open(
        cls, path: str | Path, *, client: anthropic.Anthropic | None = None, spec: Any = None, **options: Any
    ) -> Job[Any]:
        """Reopen a job from its store. Without `spec`, values come back as dicts (the spec is
        rebuilt from the stored schema); with it (e.g. the model class), typed — it must match."""
        store = Store(path, create=False)
        try:
            tool_json = store.meta("spec_tool")
            if tool_json is None:
                raise StoreError(f"{path}: the store has no job settings (was it created by Job(...)?)")
            meta = {
                k: store.meta(k)
                for k in (
                    "model",
                    "mode",
                    "max_tokens",
                    "system",
                    "params",
                    "max_attempts",
                    "max_reasks",
                    "wrap",
                    "limits",
                    "max_queued_requests",
                    "preflight",
                )
            }
        finally:
            store.close()
        if spec is None:
            tool = orjson.loads(tool_json)
            spec = compile(
                tool["input_schema"], name=tool["name"], description=tool.get("description"), wrap=None
            )
            if meta["wrap"]:
                spec = Spec(
                    name=spec.name,
                    description=spec.description,
                    schema=spec.schema,
                    model=None,
                    wrap=meta["wrap"],
                )
        kwargs: dict[str, Any] = {
            "model": meta["model"],
            "mode": meta["mode"],
            "max_tokens": int(meta["max_tokens"] or 1024),
            "system": orjson.loads(meta["system"] or "null"),
            "max_attempts": int(meta["max_attempts"] or 3),
            "max_reasks": int(meta["max_reasks"] or 1),
            **orjson.loads(meta["params"] or "{}"),
        }
        if meta["limits"]:
            kwargs["limits"] = batching.Limits(**orjson.loads(meta["limits"]))
        if meta["max_queued_requests"]:
            kwargs["max_queued_requests"] = int(meta["max_queued_requests"])
        if meta["preflight"]:
            kwargs["preflight"] = meta["preflight"] == "1"
        kwargs.update(options)
        return cls(spec, store=path, client=client, **kwargs)

    def _bind_store(self) -> None:
        stored = self.store.meta("spec_fingerprint")
        if stored is None:
            self.store.set_meta(
                {
                    "spec_fingerprint": self.spec.fingerprint,
                    "spec_tool": orjson.dumps(self.spec.tool).decode(),
                    "wrap": self.spec.wrap or "",
                    "created_at": str(time.time()),
                    **self._settings.to_meta(),
                    "limits": orjson.dumps(
                        {"max_requests": self.limits.max_requests, "max_bytes": self.limits.max_bytes}
                    ).decode(),
                    "max_queued_requests": str(self.max_queued_requests),
                    "preflight": "1" if self.preflight_enabled else "0",
                }
            )
            return
        if stored != self.spec.fingerprint:
            name = orjson.loads(self.store.meta("spec_tool") or "{}").get("name")
            raise StoreError(
                f"{self.store.path}: this store belongs to a job with a different spec (tool {name!r}, "
                f"fingerprint {stored}); this spec is {self.spec.name!r} ({self.spec.fingerprint}). "
                "Use another store file, or Job.open() without a spec"
            )
        if self.store.meta("model") != self._settings.model:
            raise StoreError(
                f"{self.store.path}: the job was created for model {self.store.meta('model')!r}, "
                f"not {self._settings.model!r}"
            )

    @property
    def client(self) -> anthropic.Anthropic:
        if self._client is None:
            self._client = anthropic.Anthropic()
        return self._client

    @property
    def model(self) -> str:
        return self._settings.model

    @property
    def mode(self) -> Mode:
        """The concrete mode new requests use (AUTO resolved for this model)."""
        return self._mode

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Job[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- adding inputs -------------------------------------------------------------------------------

    def add(
        self,
        key: str,
        messages: str | Sequence[Mapping[str, Any]] | None = None,
        *,
        system: str | None = None,
        **params: Any,
    ) -> str:
        """Add one input under `key` and return its custom_id. See `add_many` for the rules."""
        ids = self.add_many([{"key": key, "messages": messages, "system": system, **params}])
        return ids[0]

    def add_many(self, items: Iterable[Mapping[str, Any] | tuple[str, Any]]) -> list[str]:
        """Add inputs in bulk: `(key, messages)` pairs or mappings with `key`, `messages` and
        optional `system` and params. Returns the custom_ids, in order.

        A key already added in this session, or stored with different params, raises
        `DuplicateKeyError` and nothing of that chunk is added. Re-adding a stored key with
        identical params is a no-op, so a script can simply be run again after a crash.
        """
        out: list[str] = []
        chunk: list[NewRequest] = []
        failed: list[tuple[NewRequest, FinalOutcome]] = []
        for index, item in enumerate(items):
            req, too_big = self._build_request(index, item)
            if too_big is not None:
                failed.append((req, too_big))
            else:
                chunk.append(req)
            if len(chunk) + len(failed) >= 1000:
                out.extend(self._flush(chunk, failed))
                chunk, failed = [], []
        out.extend(self._flush(chunk, failed))
        return out

    def _build_request(
        self, index: int, item: Mapping[str, Any] | tuple[str, Any]
    ) -> tuple[NewRequest, FinalOutcome | None]:
        if isinstance(item, tuple):
            if len(item) != 2:
                raise InputError(f"item {index}: expected (key, messages), got a tuple of {len(item)}")
            fields: dict[str, Any] = {"key": item[0], "messages": item[1]}
        elif isinstance(item, Mapping):
            fields = dict(item)
        else:
            raise InputError(
                f"item {index}: expected a mapping or a (key, messages) pair, got {type(item).__name__}"
            )
        key = fields.pop("key", None)
        if not isinstance(key, str) or not key:
            raise InputError(f"item {index}: key must be a non-empty string, got {key!r}")
        messages = fields.pop("messages", None)
        if messages is None:
            raise InputError(f"key {key!r}: no messages given")
        system = _merge_system_text(self._settings.system, fields.pop("system", None))
        s = self._settings
        try:
            params = self.spec.params(
                messages,
                model=s.model,
                max_tokens=int(fields.pop("max_tokens", s.max_tokens)),
                mode=self._mode,
                system=system,
                **{**s.params, **fields},
            )
        except InputError as exc:
            raise InputError(f"key {key!r}: {exc}") from exc
        messages_json, rest = batching.split_params(params)
        custom_id = batching.custom_id_for(key)
        turns = params.get("messages") or []
        req = NewRequest(
            key=key,
            custom_id=custom_id,
            mode=self._mode.value,
            messages=messages_json,
            rest=rest,
            size=0,
            prefilled=bool(turns) and turns[-1].get("role") == "assistant",
        )
        size = batching.entry_size(custom_id, req.params)
        req = dataclasses.replace(req, size=size)
        if self.limits.fits_alone(size):
            return req, None
        failure = {
            "message": f"request is {size:,} bytes; no batch can hold it (limit {self.limits.max_bytes:,} "
            "bytes); never submitted",
            "details": {"error_type": "request_too_large", "size": size, "submitted": False},
        }
        return req, FinalOutcome(
            0, False, FailureKind.API_ERROR.value, None, orjson.dumps(failure), "[]", None
        )

    def _flush(self, chunk: list[NewRequest], failed: list[tuple[NewRequest, FinalOutcome]]) -> list[str]:
        if not chunk and not failed:
            return []
        every = [*chunk, *(r for r, _ in failed)]
        keys = [r.key for r in every]
        seen: set[str] = set()
        for k in keys:
            if k in seen:
                raise DuplicateKeyError(f"key {k!r} is added twice")
            seen.add(k)
        existing = self.store.existing(keys)
        failed_by_key = {pair[0].key: pair for pair in failed}
        fresh: list[NewRequest] = []
        fresh_failed: list[tuple[NewRequest, FinalOutcome]] = []
        for req in every:
            if req.key in existing:
                params, session = existing[req.key]
                if session == self._session:
                    raise DuplicateKeyError(f"key {req.key!r} is added twice")
                if params != req.params:
                    raise DuplicateKeyError(
                        f"key {req.key!r} is already in {self.store.path} with different params; keys must be "
                        "unique (use a new store for a new job)"
                    )
            elif req.key in failed_by_key:
                fresh_failed.append(failed_by_key[req.key])
            else:
                fresh.append(req)
        fresh = self._unique_custom_ids(fresh)
        self.store.add_requests(fresh, self._session)
        if fresh_failed:
            self.store.add_failed_requests(fresh_failed, self._session)
        by_key = {r.key: r.custom_id for r in fresh}
        by_key.update({r.key: r.custom_id for r, _ in fresh_failed})
        return [by_key.get(k) or batching.custom_id_for(k) for k in keys]

    def _unique_custom_ids(self, reqs: list[NewRequest]) -> list[NewRequest]:
        """Re-derive a custom_id on the rare collision of two keys' hashed forms."""
        taken = self.store.custom_ids_taken([r.custom_id for r in reqs])
        local: set[str] = set()
        out: list[NewRequest] = []
        for r in reqs:
            salt = 0
            cid = r.custom_id
            while cid in taken or cid in local:
                salt += 1
                cid = batching.custom_id_for(r.key, salt=salt)
            local.add(cid)
            if cid != r.custom_id:
                r = dataclasses.replace(r, custom_id=cid, size=batching.entry_size(cid, r.params))
            out.append(r)
        return out

    # -- the whole run -----------------------------------------------------------------------------

    def run(self) -> Summary:
        """Submit, poll and collect until every key has its final outcome; safe to call again."""
        while True:
            self.submit()
            self.collect()
            counts = self.store.count_requests()
            if not counts.get(PENDING) and not self.store.batches(OPEN, ENDED, INTENT):
                break
            if self.store.batches(OPEN):
                self.wait(until="any")
            elif counts.get(PENDING) and not self._queue_room():
                raise JobError("requests are pending but no batch is open and the queue cap leaves no room")
        self._progress("done")
        return self.summary()

    # -- submission --------------------------------------------------------------------------------

    @property
    def key_suffix(self) -> str:
        key = getattr(self.client, "api_key", None)
        return key[-4:] if isinstance(key, str) and len(key) >= 4 else "none"

    def _check_key(self) -> None:
        current = self.key_suffix
        for b in self.store.batches(INTENT, OPEN, ENDED):
            if b.key_suffix != current and not self.allow_key_change:
                raise KeyMismatchError(
                    f"batch {b.batch_id or '(being created)'} was created with an API key ending in "
                    f"...{b.key_suffix}, but this client's key ends in ...{current}: the batch belongs to the other "
                    "key. Use that key, or pass allow_key_change=True if both keys are in the same workspace"
                )

    def _queue_room(self) -> int:
        inflight = sum(b.n_requests for b in self.store.batches(INTENT, OPEN))
        return max(self.max_queued_requests - inflight, 0)

    def submit(self) -> list[str]:
        """Create batches for every pending request (within the queue cap); returns new batch ids."""
        self._check_key()
        created: list[str] = []
        for row in self.store.batches(INTENT):
            batch_id = self._create(row.local_id, reconcile_first=True)
            created.append(batch_id)
        if self.preflight_enabled:
            self.preflight()
        room = self._queue_room()
        sizes: list[tuple[int, int]] = []
        for seq, size in self.store.pending_sizes():
            if len(sizes) >= room:
                break
            sizes.append((seq, size))
        size_of = dict(sizes)
        for group in batching.shard(sizes, self.limits):
            n_bytes = batching.body_overhead(len(group)) + sum(size_of[seq] for seq in group)
            local_id = self.store.record_intent(group, n_bytes, self.key_suffix)
            created.append(self._create(local_id, reconcile_first=False))
            self._progress("submit")
        held = self.store.count_requests().get(PENDING, 0)
        if held and created:
            log.info(
                "holding back %d requests until queued ones finish (queue cap %d)",
                held,
                self.max_queued_requests,
            )
        return created

    def _create(self, local_id: int, *, reconcile_first: bool) -> str:
        seqs = self.store.intent_seqs(local_id)
        row = next(b for b in self.store.batches(INTENT) if b.local_id == local_id)
        if reconcile_first:  # after a crash: the create may have been sent just before it
            adopted = self._reconcile_settled(row, row.intent_at)
            if adopted is not None:
                return adopted
        n_bytes = batching.body_overhead(len(seqs)) + sum(size for _, size in self.store.sizes(seqs))

        def body() -> Iterator[bytes]:
            return batching.iter_body(batching.entry_bytes(cid, p) for cid, p in self.store.entries(seqs))

        attempt = 0
        while True:
            sent_at = time.time()
            try:
                batch = self.client.post(
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
                    wait = self.retry.delay(attempt)
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
            self._sleep(wait)

    def _reconcile_settled(self, row: BatchRow, sent_at: float) -> str | None:
        """`_reconcile`, and if nothing is found yet, again once `retry.settle` seconds have passed
        since the create was sent: a create still in flight on the server may commit late."""
        adopted = self._reconcile(row)
        wait = sent_at + self.retry.settle - time.time()
        if adopted is None and wait > 0:
            log.info("no batch for the unconfirmed create yet; checking again in %.1fs", wait)
            self._sleep(wait)
            adopted = self._reconcile(row)
        return adopted

    def _reconcile(self, row: BatchRow) -> str | None:
        """Find a batch that a lost create response may have created; adopt it if found."""
        known = self.store.known_batch_ids()
        since = row.intent_at - _RECONCILE_SKEW

        def find() -> list[MessageBatch]:
            found: list[MessageBatch] = []
            for batch in self.client.messages.batches.list(limit=100):
                if batch.created_at.timestamp() < since:
                    break
                counts = batch.request_counts
                total = (
                    counts.processing + counts.succeeded + counts.errored + counts.canceled + counts.expired
                )
                if batch.id not in known and total == row.n_requests:
                    found.append(batch)
            return found

        candidates = call_with_retry(
            find, what="listing batches to reconcile", policy=self.retry, sleep=self._sleep
        )
        if not candidates:
            return None
        candidates.sort(key=lambda b: b.created_at)
        chosen = candidates[0]
        if len(candidates) > 1:
            log.warning(
                "reconcile: %d unknown batches of %d requests since the intent; adopting the oldest, %s",
                len(candidates),
                row.n_requests,
                chosen.id,
            )
        self.store.mark_created(row.local_id, chosen.id, chosen.created_at.isoformat(), adopted=True)
        log.warning(
            "reconciled: batch %s was created although its create response was lost; adopted it", chosen.id
        )
        return chosen.id

    # -- preflight ---------------------------------------------------------------------------------

    def preflight(self) -> int:
        """Validate one pending request of each distinct shape with `count_tokens` (free).

        The Batches API validates params only after a whole batch has ended; this catches a bad
        model name, a rejected mode or a malformed param in seconds. Returns the number checked.
        """
        checked = set(orjson.loads(self.store.meta("preflight_checked") or "[]"))
        samples: dict[str, tuple[int, dict[str, Any]]] = {}
        for shape, seq in self.store.pending_shapes():
            if shape not in checked and len(samples) < 16:
                samples[shape] = (seq, orjson.loads(self.store.params_of(seq)))
        for digest, (seq, params) in samples.items():
            body = {k: params[k] for k in _COUNT_TOKENS_KEYS if k in params}
            try:
                call_with_retry(
                    functools.partial(self.client.messages.count_tokens, **body),
                    what="preflight count_tokens",
                    policy=self.retry,
                    sleep=self._sleep,
                )
            except anthropic.BadRequestError as exc:
                key = self.store.key_of(seq)
                raise PreflightError(
                    f"preflight: the API rejected the request for key {key!r} (and every request "
                    f"shaped like it); nothing was submitted: {exc.message}"
                ) from exc
            except anthropic.NotFoundError as exc:
                raise PreflightError(
                    f"preflight: {exc.message} (model {self.model!r}); nothing was submitted"
                ) from exc
            except (anthropic.APIStatusError, anthropic.APIConnectionError) as exc:
                log.warning("preflight skipped for one request shape: %s", exc)
                continue
            checked.add(digest)
        self.store.set_meta({"preflight_checked": orjson.dumps(sorted(checked)).decode()})
        return len(samples)

    # -- polling -----------------------------------------------------------------------------------

    def wait(self, *, timeout: float | None = None, until: str = "all") -> bool:
        """Poll open batches until all (or, with `until="any"`, one) have ended; False on timeout."""
        self._check_key()
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = self.poll.initial
        while True:
            open_rows = self.store.batches(OPEN)
            if not open_rows:
                return True
            ended_now = 0
            for row in open_rows:
                assert row.batch_id is not None
                batch = call_with_retry(
                    functools.partial(self.client.messages.batches.retrieve, row.batch_id),
                    what=f"polling batch {row.batch_id}",
                    policy=self.retry,
                    sleep=self._sleep,
                )
                counts = batch.request_counts.model_dump()
                if batch.processing_status == "ended":
                    self.store.update_batch(
                        row.local_id,
                        state=ENDED,
                        processing_status="ended",
                        ended_at=batch.ended_at.isoformat() if batch.ended_at else None,
                        request_counts=counts,
                    )
                    ended_now += 1
                elif batch.processing_status != row.processing_status:
                    self.store.update_batch(
                        row.local_id, processing_status=batch.processing_status, request_counts=counts
                    )
            self._progress("wait")
            if ended_now and (until == "any" or len(open_rows) == ended_now):
                return True
            if deadline is not None and time.monotonic() + delay > deadline:
                return False
            self._sleep(delay)
            delay = min(delay * self.poll.factor, self.poll.maximum)

    # -- collection --------------------------------------------------------------------------------

    def collect(self) -> int:
        """Download, parse and record the results of every ended batch; returns results recorded.

        Failed attempts that can be retried become pending again (call `submit`, or `run`).
        """
        self._check_key()
        total = 0
        for row in self.store.batches(ENDED):
            total += self._collect_batch(row)
            self._progress("collect")
        return total

    def _collect_batch(self, row: BatchRow) -> int:
        assert row.batch_id is not None
        inflight = self.store.inflight_of(row.local_id)
        # `seen`: custom_ids whose result is persisted. A line joins it only once its chunk is
        # committed, so a download cut mid-chunk re-reads (and records) that chunk's lines.
        seen: set[str] = {cid for cid, r in inflight.items() if r.recorded}
        recorded = 0
        for attempt in range(self.retry.attempts):
            chunk: list[AttemptResult] = []
            chunk_ids: set[str] = set()
            strays: list[tuple[str | None, bytes]] = []
            try:
                for line in self._result_lines(row.batch_id):
                    res, cid = self._handle_line(line, inflight, seen, row)
                    if res is None:
                        if cid is None or cid not in inflight:
                            strays.append((cid, line[:_MAX_RAW]))
                        continue
                    assert cid is not None
                    if cid in chunk_ids:
                        continue  # the same custom_id twice in one results file: the first counts
                    chunk_ids.add(cid)
                    chunk.append(res)
                    if len(chunk) >= _RESULT_CHUNK:
                        self.store.record_results(row.local_id, chunk, strays)
                        recorded += len(chunk)
                        seen |= chunk_ids
                        chunk, chunk_ids, strays = [], set(), []
                self.store.record_results(row.local_id, chunk, strays)
                recorded += len(chunk)
                seen |= chunk_ids
                break
            except (
                anthropic.APIConnectionError,
                anthropic.APIStatusError,
                httpx2.TransportError,
                OSError,
            ) as exc:
                if isinstance(exc, anthropic.APIStatusError) and not (
                    exc.status_code >= 500 or exc.status_code == 429
                ):
                    raise
                # Every line read before the cut is whole: keep it, so a resumed download (now or
                # in a later `collect`) only has the rest to record.
                self.store.record_results(row.local_id, chunk, strays)
                recorded += len(chunk)
                seen |= chunk_ids
                if attempt + 1 >= self.retry.attempts:
                    raise JobError(
                        f"downloading results of {row.batch_id} failed {attempt + 1} times: {exc}; "
                        "what was read is kept; collect again to resume"
                    ) from exc
                log.warning("results download of %s cut (%s); resuming", row.batch_id, exc)
                self._sleep(self.retry.delay(attempt))
        if row.adopted and not seen and inflight:
            log.warning(
                "adopted batch %s returned none of our custom_ids: not ours; its requests are pending again",
                row.batch_id,
            )
            self.store.unforeign(row.local_id)
            return recorded
        missing = [r for cid, r in inflight.items() if cid not in seen]
        if missing:
            self.store.record_results(row.local_id, [self._missing(r, row) for r in missing])
            recorded += len(missing)
        self.store.update_batch(row.local_id, state=COLLECTED)
        return recorded

    def _result_lines(self, batch_id: str) -> Iterator[bytes]:
        """Stream the raw JSONL lines of a batch's results, without building SDK objects."""
        with self.client.messages.batches.with_streaming_response.results(batch_id) as response:
            pending = b""
            for piece in response.iter_bytes():
                pending += piece
                if b"\n" not in piece:
                    continue
                lines = pending.split(b"\n")
                pending = lines.pop()
                for line in lines:
                    if line.strip():
                        yield line
            if pending.strip():
                yield pending

    def _handle_line(
        self, line: bytes, inflight: Mapping[str, InflightRequest], seen: set[str], row: BatchRow
    ) -> tuple[AttemptResult | None, str | None]:
        fast = _parse.fast_result_line(self.spec, line)  # a clean tool answer, read in one pass
        if fast is not None:
            cid = fast.custom_id
            req = inflight.get(cid) if cid is not None else None
            if req is None or cid in seen:
                return None, cid
            if req.mode != Mode.PREFILL.value:  # a prefilled answer is read with its prefill, below
                return self._decide(req, fast, None, row, line), cid
        try:
            obj = loads_document(line)  # integers of a tool input stay exact (orjson alone would not)
        except ValueError:
            obj = None
        cid = obj.get("custom_id") if isinstance(obj, dict) else None
        if not isinstance(cid, str) or cid not in inflight:
            return None, cid if isinstance(cid, str) else None
        if cid in seen:
            return None, cid
        req = inflight[cid]
        prefill = PREFILL_TEXT if req.mode == Mode.PREFILL.value else None
        outcome = _parse.parse_result_line(self.spec, obj, prefill=prefill)
        return self._decide(req, outcome, obj, row, line), cid

    def _decide(
        self,
        req: InflightRequest,
        outcome: Outcome[Any],
        obj: Mapping[str, Any] | None,
        row: BatchRow,
        line: bytes,
    ) -> AttemptResult:
        """The attempt's result and the request's next step; `obj` (the parsed line) is only read
        for a failure, so a success from the fast path passes None."""
        usage = outcome.usage
        u = (
            usage.input_tokens,
            usage.output_tokens,
            usage.cache_creation_input_tokens,
            usage.cache_read_input_tokens,
        )
        kind = outcome.kind
        s = self._settings
        label = "succeeded" if outcome.ok else f"{_result_type(obj)}:{kind.value if kind else ''}"
        if kind is not None and not row.user_canceled:  # after a user cancel, what came back is final
            resubmits_used = req.attempts - req.reasks
            retryable = (
                kind is FailureKind.EXPIRED
                or (kind is FailureKind.CANCELED and not row.user_canceled)
                or (
                    kind is FailureKind.API_ERROR
                    and outcome.failure is not None
                    and outcome.failure.details.get("error_type") in RESUBMITTABLE_API_ERRORS
                )
            )
            if retryable and resubmits_used < s.max_attempts:
                return AttemptResult(req.seq, label, u, PENDING)
            if kind in (FailureKind.INVALID, FailureKind.NO_JSON) and req.reasks < s.max_reasks:
                message = _message_of(obj)
                if message is not None and outcome.failure is not None:
                    params = orjson.loads(self.store.params_of(req.seq))
                    new = reask_params(params, Mode(req.mode), message, outcome.failure)
                    size = batching.entry_size(req.custom_id, batching.encode_params(new))
                    if self.limits.fits_alone(size):
                        return AttemptResult(
                            req.seq,
                            label,
                            u,
                            PENDING,
                            new_messages=orjson.dumps(new["messages"]),
                            new_size=size,
                            reask=True,
                        )
        final = self._final(req, outcome, line)
        return AttemptResult(req.seq, label, u, DONE, outcome=final)

    def _final(
        self,
        req: InflightRequest,
        outcome: Outcome[Any],
        line: bytes | None,
    ) -> FinalOutcome:
        if outcome.ok:
            return FinalOutcome(
                req.seq,
                True,
                None,
                self.spec.dump_value(outcome.value),
                None,
                orjson.dumps(list(outcome.repairs)).decode(),
                None,
            )
        failure = outcome.failure
        assert failure is not None
        message = failure.message
        if req.attempts > 1:
            message += f" (after {req.attempts} attempts)"
        payload = orjson.dumps({"message": message, "details": failure.details}, default=str)
        return FinalOutcome(
            req.seq,
            False,
            failure.kind.value,
            None,
            payload,
            orjson.dumps(list(outcome.repairs)).decode(),
            (line or b"")[:_MAX_RAW] or None,
        )

    def _missing(self, req: InflightRequest, row: BatchRow) -> AttemptResult:
        outcome: Outcome[Any] = Outcome.fail(
            FailureKind.MISSING,
            f"batch {row.batch_id} ended without a result for this request",
            {"batch_id": row.batch_id},
        )
        return AttemptResult(req.seq, "missing", (0, 0, 0, 0), DONE, outcome=self._final(req, outcome, None))

    # -- cancel ------------------------------------------------------------------------------------

    def cancel(self, *, wait: bool = True) -> int:
        """Cancel every open batch and every request not yet submitted; record what comes back.

        Requests finished before the cancel keep their results; the rest end `canceled` (never
        resubmitted). With `wait`, polls until the canceled batches end and collects them.
        Returns the number of batches canceled.
        """
        self._check_key()
        # An intent may or may not have become a batch: adopt it if it did (and cancel it below);
        # otherwise forget it, so its requests end canceled without a batch being created.
        for row in self.store.batches(INTENT):
            if self._reconcile(row) is None:
                self.store.drop_intent(row.local_id)
        n = 0
        for row in self.store.batches(OPEN):
            assert row.batch_id is not None
            try:
                call_with_retry(
                    functools.partial(self.client.messages.batches.cancel, row.batch_id),
                    what=f"canceling {row.batch_id}",
                    policy=self.retry,
                    sleep=self._sleep,
                )
            except anthropic.BadRequestError as exc:
                # The batch ended since we last looked ("has already ended and cannot be
                # canceled"): nothing to cancel; its results are collected as usual.
                log.info("cancel %s: %s", row.batch_id, exc.message)
                self.store.update_batch(row.local_id, user_canceled=True)
                continue
            self.store.update_batch(row.local_id, processing_status="canceling", user_canceled=True)
            n += 1
        for row in self.store.batches(ENDED):
            self.store.update_batch(row.local_id, user_canceled=True)
        self._cancel_pending()
        if wait:
            self.wait()
            self.collect()
            self._cancel_pending()
        return n

    def _cancel_pending(self) -> None:
        failure = orjson.dumps(
            {"message": "canceled by the user before it was (re)submitted", "details": {"by_user": True}}
        )
        self.store.finish_pending(
            FinalOutcome(seq, False, FailureKind.CANCELED.value, None, failure, "[]", None)
            for seq in self.store.pending_seqs()
        )

    # -- reading -----------------------------------------------------------------------------------

    def outcomes(self, *, kinds: Iterable[FailureKind | str] | None = None) -> Iterator[Outcome[T]]:
        """Stream the final outcomes, one per finished key, in the order keys were added.

        After `run()` every added key has one. `kinds` filters failures by kind (`"ok"` for
        successes).
        """
        wanted = None if kinds is None else {str(k) for k in kinds}
        for row in self.store.outcome_rows():
            (_seq, key, custom_id, mode, attempts, i, o, cw, cr, ok, kind, value, failure, repairs, raw) = row
            label = "ok" if ok else str(kind)
            if wanted is not None and label not in wanted:
                continue
            usage = Usage(int(i), int(o), int(cw), int(cr))
            common: dict[str, Any] = {
                "usage": usage,
                "key": key,
                "custom_id": custom_id,
                "mode": mode,
                "attempts": int(attempts),
                "repairs": tuple(orjson.loads(repairs or "[]")),
            }
            if ok:
                yield Outcome(ok=True, value=self.spec.load_value(bytes(value)), **common)
            else:
                data = orjson.loads(failure) if failure else {}
                yield Outcome(
                    ok=False,
                    failure=Failure(
                        FailureKind(kind), str(data.get("message", "")), data.get("details") or {}
                    ),
                    raw=bytes(raw).decode("utf-8", "replace") if raw else None,
                    **common,
                )

    def summary(self) -> Summary:
        """Counts per outcome kind, tokens over all attempts, and the estimated batch cost."""
        counts = self.store.count_requests()
        usage = Usage(*self.store.token_totals())
        return Summary(
            total=sum(counts.values()),
            counts=self.store.outcome_counts(),
            pending=counts.get(PENDING, 0),
            inflight=counts.get("inflight", 0),
            usage=usage,
            cost=batch_cost(self.model, usage),
            batches=len(self.store.batches(OPEN, ENDED, COLLECTED)),
            strays=self.store.stray_count(),
            model=self.model,
        )

    def _progress(self, phase: str) -> None:
        if self.on_progress is None:
            return
        counts = self.store.count_requests()
        outcome_counts = self.store.outcome_counts()
        usage = Usage(*self.store.token_totals())
        ok = outcome_counts.get("ok", 0)
        self.on_progress(
            Progress(
                phase=phase,
                total=sum(counts.values()),
                pending=counts.get(PENDING, 0),
                inflight=counts.get("inflight", 0),
                done=counts.get(DONE, 0),
                ok=ok,
                failed=sum(outcome_counts.values()) - ok,
                batches_open=len(self.store.batches(OPEN)),
                batches_ended=len(self.store.batches(ENDED, COLLECTED)),
                usage=usage,
                cost=batch_cost(self.model, usage),
                elapsed=time.monotonic() - self._started,
            )
        )


def _merge_system_text(job_system: str | None, item_system: Any) -> Any:
    if item_system is None:
        return job_system
    if job_system is None:
        return item_system
    if isinstance(item_system, str):
        return f"{job_system}\n\n{item_system}"
    return [{"type": "text", "text": job_system}, *item_system]


def _result_type(obj: Mapping[str, Any] | None) -> str:
    result = obj.get("result") if obj is not None else None
    return str(result.get("type")) if isinstance(result, Mapping) else "malformed"


def _message_of(obj: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    result = obj.get("result") if obj is not None else None
    if isinstance(result, Mapping) and isinstance(result.get("message"), Mapping):
        return result["message"]  # type: ignore[no-any-return]
    return None
