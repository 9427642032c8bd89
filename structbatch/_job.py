"""`Job`: the public orchestration of one batch extraction job over its store.

A job is a typed config (`_config`), a store (`_store`), and the engine's parts: adding inputs
(`_adding`), creating batches exactly once (`_submit`), polling and collecting (`_collect`,
deciding with `_policy`), under one driver lease (`_lease`). Every step reads and writes the
store, so any step can run in another process, later, or again after a crash.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import orjson

from . import _batching as batching
from ._adding import Adder, Item
from ._config import REQUEST_FIELDS, JobConfig, change_refused, show_setting
from ._errors import JobError, StoreError
from ._jobtypes import ENDED, INTENT, OPEN, PENDING, FinalOutcome, PollPolicy, Progress, Summary
from ._lease import Lease
from ._modes import Mode
from ._outcome import FailureKind, Result
from ._plan import BatchInfo, Plan, batch_info
from ._plan import plan as _plan
from ._reading import progress_snapshot, read_outcomes, summarize
from ._retry import RetryPolicy as RetryPolicy  # re-exported: part of Job's signature
from ._retry import no_sdk_retries, sdk
from ._retrying import Retried
from ._retrying import retry as _retry
from ._schema import Spec, compile
from ._store import Store
from ._submit import Submitter
from ._tries import Try, history

if TYPE_CHECKING:
    import anthropic
    import polars

    from ._collect import Collector
    from ._export import ArrowTable, PandasFrame

__all__ = ["Job", "PollPolicy", "Progress", "RetryPolicy", "Summary"]

log = logging.getLogger("structbatch")
T = TypeVar("T")
_S = TypeVar("_S")


class Job(Generic[T]):
    """One extraction job over a SQLite store.

    `Job(spec, model=..., store="job.db")` creates the store, or reopens it when it exists. The
    settings are validated (the mode resolved for the model) before the store is touched. On an
    existing store, request settings (spec, model, mode, max_tokens, system, params) may differ
    only while nothing was submitted — the keys added under the old ones are then dropped, to be
    added again — and raise `ConfigChangeError` after that. `client` defaults to
    `anthropic.Anthropic()` from the environment (so `ANTHROPIC_BASE_URL` can point it at the
    emulator); the engine uses a copy with the SDK's retries off (one retry layer: `_retry`).
    Extra keyword arguments (`temperature`, `metadata`, ...) go into every request's params.
    `wait`: when another process drives the job, wait for it (True, or up to that many seconds)
    instead of raising `JobBusyError`.
    """

    # Overloads only carry the spec's type into `Job[...]`; the full keyword list is the
    # implementation's (unknown keywords are request params, so they were never checked anyway).
    @overload
    def __init__(self: Job[_S], spec: Spec[_S], *, model: str, **options: Any) -> None: ...
    @overload
    def __init__(
        self: Job[dict[str, Any]],
        spec: Mapping[str, Any] | str | os.PathLike[str],
        *,
        model: str,
        **options: Any,
    ) -> None: ...
    @overload
    def __init__(self: Job[_S], spec: type[_S], *, model: str, **options: Any) -> None: ...
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
        wait: bool | float = False,
        sleep: Callable[[float], None] = time.sleep,
        **params: Any,
    ) -> None:
        self.spec: Spec[T] = spec if isinstance(spec, Spec) else compile(spec)
        given = JobConfig.for_spec(
            self.spec,
            model=model,
            mode=Mode(mode),
            max_tokens=max_tokens,
            system=system,
            params=params,
            max_attempts=max_attempts,
            max_reasks=max_reasks,
            limits=limits or batching.Limits(),
            max_queued_requests=max_queued_requests,
            preflight=preflight,
        )
        self._mode = given.resolved_mode(self.spec)  # a refused mode raises before any file exists
        self.store = Store(store)
        self._lease = Lease(self.store, wait=wait, sleep=sleep)
        try:
            self.config = self._bind(given)
        except BaseException:
            self.store.close()
            raise
        self._client = client
        self._api: anthropic.Anthropic | None = None
        self.poll = poll or PollPolicy()
        self.retry_policy = retry or RetryPolicy()  # `retry` is the method sending failed keys again
        self.on_progress = on_progress
        self.allow_key_change = allow_key_change
        self._sleep = sleep
        self._started = time.monotonic()
        self._adder = Adder(self.store, self.spec, self.config, self._mode, self.store.next_session())
        self._submitter = Submitter(
            self.store,
            self.config,
            self._client_for_calls,
            retry=self.retry_policy,
            sleep=sleep,
            progress=self._progress,
            check=self._lease.check,
            allow_key_change=allow_key_change,
        )

    # The spec's type as for `__init__`; without one, what the stored schema decodes to: Any.
    @overload
    @classmethod
    def open(cls, path: str | Path, *, spec: Spec[_S] | type[_S], **options: Any) -> Job[_S]: ...
    @overload
    @classmethod
    def open(
        cls, path: str | Path, *, spec: Mapping[str, Any] | str | os.PathLike[str], **options: Any
    ) -> Job[dict[str, Any]]: ...
    @overload
    @classmethod
    def open(cls, path: str | Path, *, spec: None = None, **options: Any) -> Job[Any]: ...
    @classmethod
    def open(
        cls, path: str | Path, *, client: anthropic.Anthropic | None = None, spec: Any = None, **options: Any
    ) -> Job[Any]:
        """Reopen a job from its store. Without `spec`, values come back as dicts (the spec is
        rebuilt from the stored schema); with it (e.g. the model class), typed — it must match.
        `options` override stored settings (see `Job` for which may still change)."""
        store = Store(path, create=False)
        try:
            config = store.config()
        finally:
            store.close()
        if config is None:
            raise StoreError(f"{path}: the store has no job settings (was it created by Job(...)?)")
        stored = (
            *("model", "mode", "max_tokens", "system", "max_attempts", "max_reasks"),
            *("limits", "max_queued_requests", "preflight"),
        )
        settings = {**{name: getattr(config, name) for name in stored}, **config.params, **options}
        return cls(spec if spec is not None else config.rebuild_spec(), store=path, client=client, **settings)

    def _bind(self, given: JobConfig) -> JobConfig:
        """Store `given` in a new store, or reconcile it with the stored settings."""
        stored = self.store.init_config(given)
        if stored is given:
            return given
        given = given.replace(salt=stored.salt)  # the salt is the job's identity: it never changes
        changed = stored.differences(given)
        if not changed:
            return stored
        with self._lease.hold():
            shaping = [name for name in changed if name in REQUEST_FIELDS]
            if shaping and self.store.submitted():
                raise change_refused(self.store.path, stored, given, shaping[0])
            if shaping:
                counts = self.store.count_requests()
                log.warning(
                    "%s: settings changed before anything was submitted (%s); the %d key(s) added under the "
                    "old settings were dropped: add them again",
                    self.store.path,
                    ", ".join(f"{n}: {show_setting(stored, n)} -> {show_setting(given, n)}" for n in shaping),
                    sum(counts.values()),
                )
            else:
                log.info("%s: settings updated (%s)", self.store.path, ", ".join(changed))
            self.store.set_config(given, reset_requests=bool(shaping))
        return given

    # -- the client ------------------------------------------------------------------------------

    @property
    def client(self) -> anthropic.Anthropic:
        """The client given (or `anthropic.Anthropic()` from the environment, made on first use)."""
        if self._client is None:
            self._client = sdk().Anthropic()
        return self._client

    @functools.cached_property
    def _collector(self) -> Collector:
        """Polling and collecting, made on first use: reading a job never imports the parser."""
        from ._collect import Collector

        return Collector(
            self.store,
            self.spec,
            self.config,
            self._client_for_calls,
            retry=self.retry_policy,
            poll=self.poll,
            sleep=self._sleep,
            progress=self._progress,
            check=self._lease.check,
        )

    def _client_for_calls(self) -> anthropic.Anthropic:
        if self._api is None:
            self._api = no_sdk_retries(self.client)
        return self._api

    @property
    def key_suffix(self) -> str:
        """The last four characters of the client's API key (what the store records per batch)."""
        return self._submitter.key_suffix()

    @property
    def path(self) -> Path:
        """The job's store file (what `Job.open` and the CLI's read-only commands take)."""
        return self.store.path

    @property
    def model(self) -> str:
        return self.config.model

    @property
    def mode(self) -> Mode:
        """The concrete mode new requests use (AUTO resolved for this model)."""
        return self._mode

    @property
    def limits(self) -> batching.Limits:
        return self.config.limits

    @property
    def max_queued_requests(self) -> int:
        return self.config.max_queued_requests

    @property
    def preflight_enabled(self) -> bool:
        return self.config.preflight

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Job[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- adding inputs ---------------------------------------------------------------------------

    def add(
        self,
        key: str,
        messages: str | Sequence[Mapping[str, Any]] | None = None,
        *,
        system: str | None = None,
        **params: Any,
    ) -> str:
        """Add one input under `key` and return its custom_id; durable when it returns. See
        `add_many` for the rules."""
        if system is None and not params:
            return self._adder.add_one((key, messages))
        return self._adder.add_one({"key": key, "messages": messages, "system": system, **params})

    def add_many(self, items: Iterable[Item]) -> list[str]:
        """Add inputs in bulk: `(key, messages)` pairs or mappings with `key`, `messages` and
        optional `system` and params. Returns the custom_ids, in order.

        A key already added in this session, or stored with different params, raises
        `DuplicateKeyError` (naming the param that differs) and nothing of that chunk is added.
        Re-adding a stored key with identical params is a no-op, so a script can simply be run
        again after a crash. Items are written in chunks of a few thousand, each one transaction.
        """
        return self._adder.add_many(items)

    # -- driving ---------------------------------------------------------------------------------

    def run(self, *, progress: bool = False) -> Summary:
        """Submit, poll and collect until every key has its final outcome; safe to call again.

        `progress=True` shows a live display on stderr for this run (bars on a terminal, plain
        throttled lines elsewhere) unless an `on_progress` callback is already set."""
        if progress and self.on_progress is None:
            from ._progress import ProgressDisplay

            with ProgressDisplay() as display:
                self.on_progress = display
                try:
                    return self.run()
                finally:
                    self.on_progress = None
        with self._driving():
            while True:
                self._submitter.submit()
                self._collector.collect()
                counts = self.store.count_requests()
                if not counts.get(PENDING) and not self.store.batches(OPEN, ENDED, INTENT):
                    break
                if self.store.batches(OPEN):
                    self._collector.wait(until="any")
                elif counts.get(PENDING) and not self._submitter.queue_room():
                    raise JobError(
                        "requests are pending but no batch is open and the queue cap leaves no room"
                    )
        self._progress("done")
        return self.summary()

    def submit(self) -> list[str]:
        """Create batches for every pending request (within the queue cap); returns new batch ids."""
        with self._driving():
            return self._submitter.submit()

    def preflight(self) -> int:
        """Validate one pending request of each distinct shape with the free `count_tokens`:
        a bad model name, a rejected mode or a malformed param fails in seconds, not after a
        batch. Returns the number of shapes checked; raises `PreflightError`."""
        with self._driving():
            return self._submitter.preflight()

    def wait(self, *, timeout: float | None = None, until: str = "all") -> bool:
        """Poll open batches until all (or, with `until="any"`, one) have ended; False on timeout."""
        with self._driving():
            return self._collector.wait(timeout=timeout, until=until)

    def collect(self) -> int:
        """Download, parse and record the results of every ended batch; returns results recorded.

        Failed attempts that can be retried become pending again (call `submit`, or `run`).
        """
        with self._driving():
            return self._collector.collect()

    def cancel(self, *, wait: bool = True) -> int:
        """Cancel every open batch and every request not yet submitted; record what comes back.

        Requests finished before the cancel keep their results; the rest end `canceled` (never
        resubmitted). With `wait`, polls until the canceled batches end and collects them.
        Returns the number of batches canceled.
        """
        with self._driving():
            # An intent may or may not have become a batch: adopt it if it did (and cancel it
            # below); otherwise forget it, so its requests end canceled without a batch.
            self._submitter.forget_intents()
            n = self._collector.cancel_open()
            self._cancel_pending()
            if wait:
                self._collector.wait()
                self._collector.collect()
                self._submitter.forget_intents()  # a rejected adoption is an intent again
                self._cancel_pending()
        return n

    @contextlib.contextmanager
    def _driving(self) -> Iterator[None]:
        """Hold the driver lease, and check the API key matches the job's batches."""
        with self._lease.hold():
            self._submitter.check_key()
            yield

    def _cancel_pending(self) -> None:
        failure = orjson.dumps(
            {"message": "canceled by the user before it was (re)submitted", "details": {"by_user": True}}
        )
        self.store.finish_pending(
            FinalOutcome(seq, False, FailureKind.CANCELED.value, None, failure, "[]", None)
            for seq in self.store.pending_seqs()
        )

    # -- reading (never waits for the lease) -----------------------------------------------------

    def outcomes(
        self, *, kinds: Iterable[FailureKind | str] | None = None, failed: bool = False
    ) -> Iterator[Result[T]]:
        """Stream the final outcomes, one per finished key, in the order keys were added.

        After `run()` every added key has one. `kinds` filters by kind (`"ok"` for successes);
        `failed=True` keeps failures only (with `kinds`: the failures of those kinds). For a
        retried key, `attempts` counts the sends of every try and a failure's `details` lists the
        earlier tries' failures under `"earlier_tries"` (`history(key)` has them all).
        """
        return read_outcomes(self.store, self.spec, kinds=kinds, failed=failed)

    def to_arrow(self) -> ArrowTable:
        """The outcomes as a `pyarrow.Table`, one row per key (needs `structbatch[arrow]`)."""
        from ._export import outcomes_to_arrow

        return outcomes_to_arrow(self.outcomes(), self.spec, model=self.model)

    def to_pandas(self) -> PandasFrame:
        """The outcomes as a pandas DataFrame (through Arrow)."""
        from ._export import to_pandas

        return to_pandas(self.outcomes(), self.spec, model=self.model)

    def to_polars(self) -> polars.DataFrame:
        """The outcomes as a polars DataFrame (through Arrow)."""
        from ._export import to_polars

        return to_polars(self.outcomes(), self.spec, model=self.model)

    # -- retry, plan, batches (the logic is in `_retrying` and `_plan`) ---------------------------

    def retry(
        self,
        *,
        kinds: Iterable[FailureKind | str] | None = None,
        keys: Iterable[str] | None = None,
        include_ok: bool = False,
        **changes: Any,
    ) -> Retried:
        """Send finished keys again with changed params, e.g. `retry(kinds=["truncated"],
        max_tokens=4096)`; returns what was queued (pending: `run()` or `submit()` sends it).

        `kinds` chooses failures by kind, `keys` by key (both: the listed keys of those kinds).
        A listed key that is ok is refused unless `include_ok=True`; kinds never choose ok keys.
        `changes` are Messages API params (None removes one); the turns, model, system, tool and
        mode cannot change. Each retried key gets a fresh custom_id and a full attempt budget;
        its earlier tries stay in the store (`history`), tokens and cost accumulate.
        """
        with self._lease.hold():
            return _retry(
                self.store,
                self.spec,
                self.config,
                kinds=kinds,
                keys=keys,
                include_ok=include_ok,
                changes=changes,
            )

    def history(self, key: str) -> list[Try]:
        """The earlier tries of `key` (oldest first; empty if it was never retried)."""
        return history(self.store, key)

    def plan(self, *, count_tokens: bool | None = None) -> Plan:
        """The dry run of what `run()` would send now: pending keys, bytes, batches, estimated
        tokens and cost, computed by the code that submits. `count_tokens` (free) estimates the
        input tokens from a few samples; by default only when a client was given to the job."""
        use = self._client is not None if count_tokens is None else count_tokens
        return _plan(
            self.store,
            self.config,
            self._mode,
            api=self._client_for_calls() if use else None,
            retry=self.retry_policy,
            sleep=self._sleep,
            queue_room=self._submitter.queue_room(),
        )

    def batches(self) -> list[BatchInfo]:
        """The job's batches, oldest first, as last seen (`wait(timeout=0)` polls them once)."""
        return [batch_info(row) for row in self.store.batches()]

    def summary(self) -> Summary:
        """Counts per outcome kind, tokens over all attempts, and the estimated batch cost."""
        return summarize(self.store, self.model)

    def _progress(self, phase: str) -> None:
        if self.on_progress is not None:
            self.on_progress(
                progress_snapshot(self.store, self.model, phase, time.monotonic() - self._started)
            )
