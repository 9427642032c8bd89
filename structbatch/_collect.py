"""Collection: poll open batches, stream the results of ended ones, record outcomes idempotently.

Results are streamed line by line (never a whole file in memory) and recorded in chunks, each
chunk one transaction keyed by (batch, request): a download cut mid-stream, or a crash, resumes
by reading the file again, and a line recorded before is skipped. What each result does to its
request — final, resubmit, re-ask — is `_policy`'s decision.

An adopted batch (see `_submit`) is unconfirmed until its results prove it ours: the first line
whose custom_id can be read must be one of the intent's own, else nothing of the batch is
recorded and the intent goes back to reconciliation.

A bug of ours while reading one line (an exception from parsing or decoding it) becomes an
`internal` outcome for that request, logged with its traceback: final, never re-asked or
resubmitted, and the other lines are recorded as usual.
"""

from __future__ import annotations

import functools
import logging
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import orjson

from . import _parse
from ._config import JobConfig
from ._errors import JobError
from ._extract import loads_document
from ._jobtypes import (
    COLLECTED,
    DONE,
    ENDED,
    OPEN,
    PENDING,
    AttemptResult,
    BatchRow,
    FinalOutcome,
    InflightRequest,
    PollPolicy,
)
from ._modes import MODES, Mode
from ._outcome import FailureKind, Outcome
from ._policy import Attempt, Step, next_step, reask_request
from ._retry import RetryPolicy, call_with_retry, sdk
from ._schema import Spec
from ._store import Store

if TYPE_CHECKING:
    import anthropic

log = logging.getLogger("structbatch")

_RESULT_CHUNK = 1000
_MAX_RAW = 65_536
_NO_USAGE = (0, 0, 0, 0)


class Collector:
    """Polls and collects the batches of one job (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        spec: Spec[Any],
        config: JobConfig,
        api: Callable[[], anthropic.Anthropic],
        *,
        retry: RetryPolicy,
        poll: PollPolicy,
        sleep: Callable[[float], None],
        progress: Callable[[str], None],
        check: Callable[[], None],
    ) -> None:
        self.store = store
        self.spec = spec
        self.config = config
        self.api = api
        self.retry = retry
        self.poll = poll
        self.sleep = sleep
        self.progress = progress
        self.check = check

    # -- polling ---------------------------------------------------------------------------------

    def wait(self, *, timeout: float | None = None, until: str = "all") -> bool:
        """Poll open batches until all (or, with `until="any"`, one) have ended; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = self.poll.initial
        while True:
            open_rows = self.store.batches(OPEN)
            if not open_rows:
                return True
            ended_now = sum(self._poll(row) for row in open_rows)
            self.progress("wait")
            if ended_now and (until == "any" or len(open_rows) == ended_now):
                return True
            if deadline is not None and time.monotonic() + delay > deadline:
                return False
            self.check()
            self.sleep(delay)
            delay = min(delay * self.poll.factor, self.poll.maximum)

    def _poll(self, row: BatchRow) -> bool:
        assert row.batch_id is not None
        batch = call_with_retry(
            functools.partial(self.api().messages.batches.retrieve, row.batch_id),
            what=f"polling batch {row.batch_id}",
            policy=self.retry,
            sleep=self.sleep,
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
            return True
        if batch.processing_status != row.processing_status:
            self.store.update_batch(
                row.local_id, processing_status=batch.processing_status, request_counts=counts
            )
        return False

    def cancel_open(self) -> int:
        """Ask the API to cancel every open batch; mark every unfinished batch user-canceled."""
        anthropic = sdk()
        n = 0
        for row in self.store.batches(OPEN):
            assert row.batch_id is not None
            try:
                call_with_retry(
                    functools.partial(self.api().messages.batches.cancel, row.batch_id),
                    what=f"canceling {row.batch_id}",
                    policy=self.retry,
                    sleep=self.sleep,
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
        return n

    # -- collection ------------------------------------------------------------------------------

    def collect(self) -> int:
        """Download, parse and record the results of every ended batch; returns results recorded."""
        total = 0
        for row in self.store.batches(ENDED):
            total += self._collect_batch(row)
            self.progress("collect")
        return total

    def _collect_batch(self, row: BatchRow) -> int:
        anthropic = sdk()
        import httpx2

        assert row.batch_id is not None
        inflight = self.store.inflight_of(row.local_id)
        # `seen`: custom_ids whose result is persisted. A line joins it only once its chunk is
        # committed, so a download cut mid-chunk re-reads (and records) that chunk's lines.
        seen: set[str] = {cid for cid, r in inflight.items() if r.recorded}
        confirmed = row.confirmed
        recorded = 0
        for attempt in range(self.retry.attempts):
            chunk: list[AttemptResult] = []
            chunk_ids: set[str] = set()
            strays: list[tuple[str | None, bytes]] = []
            try:
                for line in self._result_lines(row.batch_id):
                    if not confirmed:
                        verdict = self._ownership(row, line, inflight)
                        if verdict is None:
                            continue  # no readable custom_id yet: nothing recorded, read on
                        if not verdict:
                            return 0
                        confirmed = True
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
                        self.check()
                        self.store.record_results(row.local_id, chunk, strays)
                        recorded += len(chunk)
                        seen |= chunk_ids
                        chunk, chunk_ids, strays = [], set(), []
                self.check()
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
                self.sleep(self.retry.delay(attempt))
        if not confirmed:  # the whole file without one readable custom_id: not provably ours
            self._reject(row, None)
            return 0
        missing = [r for cid, r in inflight.items() if cid not in seen]
        if missing:
            self.store.record_results(row.local_id, [self._missing(r, row) for r in missing])
            recorded += len(missing)
        self.store.update_batch(row.local_id, state=COLLECTED)
        return recorded

    def _ownership(self, row: BatchRow, line: bytes, inflight: Mapping[str, InflightRequest]) -> bool | None:
        """For an unconfirmed adopted batch: True (ours: confirmed in the store), False (not this
        intent's: rejected, nothing recorded), or None (this line has no readable custom_id)."""
        cid = _custom_id_only(line)
        if cid is None:
            return None
        if cid in inflight:
            self.store.confirm(row.local_id)
            log.info("adopted batch %s confirmed ours by its results", row.batch_id)
            return True
        self._reject(row, cid)
        return False

    def _reject(self, row: BatchRow, cid: str | None) -> None:
        assert row.batch_id is not None
        ours = cid is not None and cid.endswith(f"-{self.config.salt}")
        log.warning(
            "adopted batch %s is %s (its results name %s): nothing of it recorded; looking for our own batch again",
            row.batch_id,
            "another of this job's batches" if ours else "not this job's",
            repr(cid) if cid else "no readable custom_id",
        )
        self.store.unadopt(row.local_id, row.batch_id, everywhere=not ours)

    def _result_lines(self, batch_id: str) -> Iterator[bytes]:
        """Stream the raw JSONL lines of a batch's results, without building SDK objects."""
        with self.api().messages.batches.with_streaming_response.results(batch_id) as response:
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

    # -- one line --------------------------------------------------------------------------------

    def _handle_line(
        self, line: bytes, inflight: Mapping[str, InflightRequest], seen: set[str], row: BatchRow
    ) -> tuple[AttemptResult | None, str | None]:
        """The attempt result of one line (None for a stray or a repeat) and its custom_id."""
        try:
            req, outcome, obj, cid = self._parse_line(line, inflight, seen)
        except Exception as exc:  # a bug of ours in parsing/decoding: `internal`, never the model's fault
            cid = _custom_id_only(line)
            found = inflight.get(cid) if cid is not None else None
            if found is None or cid in seen:
                log.error("internal error reading a result line of batch %s", row.batch_id, exc_info=True)
                return None, cid
            return self._internal(found, row, line, exc), cid
        if req is None or outcome is None:
            return None, cid
        try:
            return self._decide(req, outcome, obj, row, line), cid
        except Exception as exc:  # e.g. dumping the value: still ours, still `internal`
            return self._internal(req, row, line, exc), cid

    def _parse_line(
        self, line: bytes, inflight: Mapping[str, InflightRequest], seen: set[str]
    ) -> tuple[InflightRequest | None, Outcome[Any] | None, Mapping[str, Any] | None, str | None]:
        """`(request, outcome, parsed line, custom_id)`; no request for a stray or a repeat."""
        fast = _parse.fast_result_line(self.spec, line)  # a clean tool answer, read in one pass
        if fast is not None:
            cid = fast.custom_id
            req = inflight.get(cid) if cid is not None else None
            if req is None or cid in seen:
                return None, None, None, cid
            if MODES[Mode(req.mode)].prefill is None:  # a prefilled answer is read with its prefill, below
                return req, fast, None, cid
        try:
            obj = loads_document(line)  # integers of a tool input stay exact (orjson alone would not)
        except ValueError:
            obj = None
        cid = obj.get("custom_id") if isinstance(obj, dict) else None
        if not isinstance(cid, str):
            return None, None, None, None
        req = inflight.get(cid)
        if req is None or cid in seen:
            return None, None, None, cid
        assert isinstance(obj, dict)
        prefill = MODES[Mode(req.mode)].prefill
        return req, _parse.parse_result_line(self.spec, obj, prefill=prefill), obj, cid

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
        u = outcome.usage
        usage = (u.input_tokens, u.output_tokens, u.cache_creation_input_tokens, u.cache_read_input_tokens)
        kind = outcome.kind
        label = "succeeded" if outcome.ok else f"{_result_type(obj)}:{kind.value if kind else ''}"
        step = next_step(
            outcome,
            Attempt(req.attempts, req.reasks, row.user_canceled),
            max_attempts=self.config.max_attempts,
            max_reasks=self.config.max_reasks,
        )
        if step is Step.RESUBMIT:
            return AttemptResult(req.seq, label, usage, PENDING)
        if step is Step.REASK and outcome.failure is not None:
            reask = reask_request(
                orjson.loads(self.store.params_of(req.seq)),
                mode=Mode(req.mode),
                message=_message_of(obj),
                failure=outcome.failure,
                custom_id=req.custom_id,
                limits=self.config.limits,
            )
            if reask is not None:
                return AttemptResult(
                    req.seq,
                    label,
                    usage,
                    PENDING,
                    new_messages=reask.messages,
                    new_size=reask.size,
                    reask=True,
                )
        return AttemptResult(req.seq, label, usage, DONE, outcome=self._final(req, outcome, line))

    def _final(self, req: InflightRequest, outcome: Outcome[Any], line: bytes | None) -> FinalOutcome:
        repairs = orjson.dumps(list(outcome.repairs)).decode()
        if outcome.ok:
            return FinalOutcome(req.seq, True, None, self.spec.dump_value(outcome.value), None, repairs, None)
        failure = outcome.failure
        assert failure is not None
        message = failure.message
        if req.attempts > 1:
            message += f" (after {req.attempts} attempts)"
        payload = orjson.dumps({"message": message, "details": failure.details}, default=str)
        return FinalOutcome(
            req.seq, False, failure.kind.value, None, payload, repairs, (line or b"")[:_MAX_RAW] or None
        )

    def _internal(self, req: InflightRequest, row: BatchRow, line: bytes, exc: Exception) -> AttemptResult:
        log.error(
            "internal error (a bug in structbatch) reading the result for key %r in batch %s; recorded as "
            "'internal', not re-asked",
            req.key,
            row.batch_id,
            exc_info=exc,
        )
        outcome: Outcome[Any] = Outcome.fail(
            FailureKind.INTERNAL,
            f"structbatch failed reading this result ({type(exc).__name__}: {exc}); please report it",
            {"exception": type(exc).__name__, "traceback": "".join(traceback.format_exception(exc))[-4000:]},
        )
        return AttemptResult(req.seq, "internal", _NO_USAGE, DONE, outcome=self._final(req, outcome, line))

    def _missing(self, req: InflightRequest, row: BatchRow) -> AttemptResult:
        outcome: Outcome[Any] = Outcome.fail(
            FailureKind.MISSING,
            f"batch {row.batch_id} ended without a result for this request",
            {"batch_id": row.batch_id},
        )
        return AttemptResult(req.seq, "missing", _NO_USAGE, DONE, outcome=self._final(req, outcome, None))


def _custom_id_only(line: bytes) -> str | None:
    """The custom_id of a result line, read with nothing but orjson (for ownership and bug paths)."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    cid = obj.get("custom_id") if isinstance(obj, dict) else None
    return cid if isinstance(cid, str) else None


def _result_type(obj: Mapping[str, Any] | None) -> str:
    result = obj.get("result") if obj is not None else None
    return str(result.get("type")) if isinstance(result, Mapping) else "malformed"


def _message_of(obj: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    result = obj.get("result") if obj is not None else None
    if isinstance(result, Mapping) and isinstance(result.get("message"), Mapping):
        return result["message"]  # type: ignore[no-any-return]
    return None
