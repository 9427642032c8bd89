"""In-memory Message Batches with their requests and results spilled to disk.

Memory per batch is its custom_ids and one file offset per request; the request params and the
results live in one directory per batch. Results are written once, when the batch ends, already
in their final (seeded, shuffled) order, and served by streaming the file, so a 100,000-request
batch never needs memory proportional to its results.

Timing follows the API [BP, SDK message_batch.py]: a batch is `in_progress` until it ends (after
`latency` virtual seconds, or at `expires_at` = created + 24 h, whichever comes first); a cancel
makes it `canceling` and then `ended`. Each request gets a deterministic completion time inside
the batch's latency; at the end, requests completed before the cut-off (the cancel, or the
expiry) are answered by the responder and the rest become `canceled` / `expired`.
`request_counts` only move when the whole batch ends. Processing is lazy: the first look at a
batch after its end time writes the results.
"""

from __future__ import annotations

import logging
import random
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal

from ._clock import Clock
from ._messages import complete_message
from ._models import Catalogue
from ._pages import page_body, paginate
from ._responders import EndedReply, ErrorReply, Responder
from ._state import StateFile
from ._validation import check_message_params
from ._wire import (
    ApiError,
    IdMaker,
    dumps,
    error_body,
    invalid_request,
    loads,
    rfc3339,
    stable_id,
    unit_float,
)

log = logging.getLogger(__name__)

Status = Literal["in_progress", "canceling", "ended"]
EXPIRY: Final = timedelta(hours=24)  # expires_at = created_at + 24 h [BP]
RETENTION: Final = timedelta(days=29)  # results downloadable 29 days after created_at [BP]
_CHUNK: Final = 64 * 1024


@dataclass
class _Batch:
    id: str
    created_at: datetime
    latency: float
    custom_ids: list[str]
    offsets: list[int]
    directory: Path
    processing_status: Status = "in_progress"
    cancel_initiated_at: datetime | None = None
    ended_at: datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)
    results_size: int = 0
    deleted: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def expires_at(self) -> datetime:
        return self.created_at + EXPIRY

    @property
    def natural_end(self) -> datetime:
        return self.created_at + timedelta(seconds=self.latency)


@dataclass(frozen=True)
class BatchInfo:
    """A snapshot of one created batch, for tests that inspect what a client submitted."""

    id: str
    custom_ids: tuple[str, ...]
    created_at: datetime
    processing_status: Status
    request_counts: Mapping[str, int]
    deleted: bool


class BatchStore:
    """Every batch of one emulator run, keyed by id, in creation order."""

    def __init__(
        self,
        directory: Path,
        *,
        clock: Clock,
        catalogue: Catalogue,
        responder: Callable[[], Responder],
        ids: IdMaker,
        seed: int,
        strict_models: bool,
        state: StateFile | None = None,
    ) -> None:
        self.directory = state.directory if state is not None else directory
        self.state = state
        self.clock = clock
        self.catalogue = catalogue
        self.responder = responder
        self.ids = ids
        self.seed = seed
        self.strict_models = strict_models
        self.latency = 0.0
        self.cancel_latency = 0.0
        self.base_url = ""
        self._batches: dict[str, _Batch] = {}
        self._order: list[str] = []  # creation order, deleted ones kept as pagination cursors
        self._lock = threading.Lock()
        if state is not None:
            self._load(state)

    # -- persistence (only with a state file) -----------------------------------------------------
    def _load(self, state: StateFile) -> None:
        order, _ = state.load()
        for batch_id in order:
            meta = state.load_batch(self.directory / batch_id)
            if meta is None:
                continue
            batch = _Batch(
                id=meta["id"],
                created_at=datetime.fromisoformat(meta["created_at"]),
                latency=float(meta["latency"]),
                custom_ids=list(meta["custom_ids"]),
                offsets=list(meta["offsets"]),
                directory=self.directory / batch_id,
                processing_status=meta["processing_status"],
                cancel_initiated_at=_when(meta["cancel_initiated_at"]),
                ended_at=_when(meta["ended_at"]),
                counts=dict(meta["counts"]),
                results_size=int(meta["results_size"]),
                deleted=bool(meta["deleted"]),
            )
            self._batches[batch.id] = batch
            self._order.append(batch.id)

    def _save(self, batch: _Batch, *, index: bool = False) -> None:
        """Write `batch`'s metadata (and the index) to the state file, if there is one."""
        if self.state is None:
            return
        meta = {
            "id": batch.id,
            "created_at": batch.created_at.isoformat(),
            "latency": batch.latency,
            "custom_ids": batch.custom_ids,
            "offsets": batch.offsets,
            "processing_status": batch.processing_status,
            "cancel_initiated_at": _iso(batch.cancel_initiated_at),
            "ended_at": _iso(batch.ended_at),
            "counts": batch.counts,
            "results_size": batch.results_size,
            "deleted": batch.deleted,
        }
        if batch.directory.exists():
            self.state.save_batch(batch.directory, meta)
        if index:
            with self._lock:
                order = list(self._order)
            self.state.save_index(order, self.clock.now())

    # -- endpoints -------------------------------------------------------------------------------
    def create(self, requests: list[tuple[str, Any]]) -> dict[str, Any]:
        """Commit a validated batch (its requests spilled to disk) and return its JSON."""
        batch_id = self.ids.new("msgbatch")
        directory = self.directory / batch_id
        directory.mkdir(parents=True)
        offsets: list[int] = []
        with open(directory / "requests.jsonl", "wb") as out:
            for _, params in requests:
                offsets.append(out.tell())
                out.write(dumps(params) + b"\n")
        batch = _Batch(
            id=batch_id,
            created_at=self.clock.now(),
            latency=self.latency,
            custom_ids=[custom_id for custom_id, _ in requests],
            offsets=offsets,
            directory=directory,
        )
        with self._lock:
            self._batches[batch_id] = batch
            self._order.append(batch_id)
        self._save(batch, index=True)
        # The create response always shows the batch as committed: in_progress, nothing counted.
        return self._json(batch)

    def retrieve(self, batch_id: str) -> dict[str, Any]:
        return self._json(self._get(batch_id))

    def list_page(self, *, limit: int, after_id: str | None, before_id: str | None) -> dict[str, Any]:
        """One page of batches, newest first; deleted batches stay usable as cursors."""
        with self._lock:
            newest_first = list(reversed(self._order))
        ids, has_more = paginate(
            newest_first,
            limit=limit,
            after_id=after_id,
            before_id=before_id,
            visible=lambda batch_id: not self._batches[batch_id].deleted,
        )
        batches = [self._batches[batch_id] for batch_id in ids]
        for batch in batches:
            self._refresh(batch)
        return page_body([self._json(batch) for batch in batches], has_more)

    def cancel(self, batch_id: str) -> dict[str, Any]:
        batch = self._get(batch_id)
        with batch.lock:
            if batch.processing_status == "ended":
                raise invalid_request(f"Message Batch {batch_id} has already ended and cannot be canceled.")
            if batch.processing_status == "in_progress":
                batch.processing_status = "canceling"
                batch.cancel_initiated_at = self.clock.now()
                self._save(batch)
        return self._json(batch)

    def delete(self, batch_id: str) -> dict[str, Any]:
        batch = self._get(batch_id)
        with batch.lock:
            if batch.processing_status != "ended":
                raise invalid_request(
                    f"Message Batch {batch_id} cannot be deleted while its processing_status is "
                    f"'{batch.processing_status}'; cancel it and wait until it has ended."
                )
            batch.deleted = True
            for name in ("requests.jsonl", "results.jsonl"):
                (batch.directory / name).unlink(missing_ok=True)
            self._save(batch)
        return {"id": batch_id, "type": "message_batch_deleted"}

    def results(self, batch_id: str) -> tuple[Path, int]:
        """The results file and its size; 400 before the batch ended, 404 once archived."""
        batch = self._get(batch_id)
        if batch.processing_status != "ended":
            raise invalid_request(
                f"Message Batch {batch_id} has not finished processing (processing_status "
                f"'{batch.processing_status}'); results are available once it has ended."
            )
        if self.clock.now() >= batch.created_at + RETENTION:
            raise ApiError(
                404,
                "not_found_error",
                f"The results of Message Batch {batch_id} were archived 29 days after it was created.",
            )
        return batch.directory / "results.jsonl", batch.results_size

    # -- introspection ----------------------------------------------------------------------------
    def snapshot(self) -> list[BatchInfo]:
        with self._lock:
            batches = [self._batches[b] for b in self._order]
        for batch in batches:
            self._refresh(batch)
        return [
            BatchInfo(
                id=b.id,
                custom_ids=tuple(b.custom_ids),
                created_at=b.created_at,
                processing_status=b.processing_status,
                request_counts=self._counts(b),
                deleted=b.deleted,
            )
            for b in batches
        ]

    def close(self) -> None:
        """Delete the spilled files, unless they are the state kept across restarts."""
        if self.state is None:
            shutil.rmtree(self.directory, ignore_errors=True)

    # -- lifecycle --------------------------------------------------------------------------------
    def _get(self, batch_id: str) -> _Batch:
        with self._lock:
            batch = self._batches.get(batch_id)
        if batch is None or batch.deleted:
            raise ApiError(404, "not_found_error", f"Message Batch {batch_id} not found.")
        self._refresh(batch)
        return batch

    def _refresh(self, batch: _Batch) -> None:
        """End the batch if its time has come (writing its results)."""
        with batch.lock:
            if batch.processing_status == "ended" or batch.deleted:
                return
            now = self.clock.now()
            if batch.processing_status == "canceling" and batch.cancel_initiated_at is not None:
                cancel_end = batch.cancel_initiated_at + timedelta(seconds=self.cancel_latency)
                end = min(cancel_end, batch.natural_end, batch.expires_at)
                if now >= end:
                    cutoff = min(batch.cancel_initiated_at, batch.expires_at)
                    self._finish(batch, cutoff=cutoff, ended_at=end, unfinished="canceled")
                return
            end = min(batch.natural_end, batch.expires_at)
            if now >= end:
                self._finish(batch, cutoff=end, ended_at=end, unfinished="expired")

    def _finish(
        self,
        batch: _Batch,
        *,
        cutoff: datetime,
        ended_at: datetime,
        unfinished: Literal["canceled", "expired"],
    ) -> None:
        counts = dict.fromkeys(("succeeded", "errored", "canceled", "expired"), 0)
        order = list(range(len(batch.custom_ids)))
        # Draws are keyed by the batch's ordinal, not its id: ids are salted per process (so they
        # never repeat across restarts), and a seeded emulator must still replay the same run.
        ordinal = f"batch{self._order.index(batch.id)}"
        # The API returns results in any order [BP]; a seeded shuffle keeps runs reproducible.
        random.Random(f"{self.seed}:{ordinal}").shuffle(order)
        responder = self.responder()
        with (
            open(batch.directory / "requests.jsonl", "rb") as requests,
            open(batch.directory / "results.jsonl", "wb") as out,
        ):
            for index in order:
                custom_id = batch.custom_ids[index]
                done_at = batch.created_at + timedelta(
                    seconds=batch.latency * (1.0 - unit_float(self.seed, ordinal, custom_id))
                )
                if done_at > cutoff:
                    result: dict[str, Any] = {"type": unfinished}
                else:
                    requests.seek(batch.offsets[index])
                    result = self._answer(batch.id, custom_id, loads(requests.readline()), responder)
                counts[result["type"]] += 1
                out.write(dumps({"custom_id": custom_id, "result": result}) + b"\n")
            batch.results_size = out.tell()
        batch.counts = counts
        batch.processing_status = "ended"
        batch.ended_at = ended_at
        self._save(batch, index=True)

    def _answer(self, batch_id: str, custom_id: str, params: Any, responder: Responder) -> dict[str, Any]:
        """One request's result object; its params are validated here, as the API does [BP]."""
        request_id = stable_id("req", batch_id, custom_id)
        try:
            check_message_params(params, self.catalogue, endpoint="batch", strict_models=self.strict_models)
            reply = responder.respond(params, custom_id=custom_id)
        except ApiError as error:
            return {"type": "errored", "error": error_body(error.type, error.message, request_id)}
        except Exception:
            log.exception("responder failed on %s/%s", batch_id, custom_id)
            return {"type": "errored", "error": error_body("api_error", "Internal server error", request_id)}
        if isinstance(reply, ErrorReply):
            return {"type": "errored", "error": error_body(reply.type, reply.message, request_id)}
        if isinstance(reply, EndedReply):
            return {"type": reply.status}
        message = complete_message(
            reply,
            params,
            msg_id=stable_id("msg", batch_id, custom_id),
            service_tier="batch",
            model=self.catalogue.canonical(str(params.get("model"))),
        )
        return {"type": "succeeded", "message": message}

    # -- wire shape -------------------------------------------------------------------------------
    def _counts(self, batch: _Batch) -> dict[str, int]:
        if batch.processing_status != "ended":
            total = len(batch.custom_ids)
            return {"canceled": 0, "errored": 0, "expired": 0, "processing": total, "succeeded": 0}
        return {**batch.counts, "processing": 0}

    def _json(self, batch: _Batch) -> dict[str, Any]:
        """The `MessageBatch` object, every field present as the API sends it."""
        ended = batch.processing_status == "ended"
        archived = batch.created_at + RETENTION
        return {
            "id": batch.id,
            "archived_at": rfc3339(archived) if ended and self.clock.now() >= archived else None,
            "cancel_initiated_at": rfc3339(batch.cancel_initiated_at) if batch.cancel_initiated_at else None,
            "created_at": rfc3339(batch.created_at),
            "ended_at": rfc3339(batch.ended_at) if batch.ended_at else None,
            "expires_at": rfc3339(batch.expires_at),
            "processing_status": batch.processing_status,
            "request_counts": self._counts(batch),
            "results_url": f"{self.base_url}/v1/messages/batches/{batch.id}/results" if ended else None,
            "type": "message_batch",
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def file_chunks(path: Path, size: int, *, stop_after: int | None = None) -> Iterator[bytes]:
    """`path` in 64 KiB chunks, optionally stopping after `stop_after` bytes (a cut download)."""
    remaining = size if stop_after is None else min(size, stop_after)
    with open(path, "rb") as source:
        while remaining > 0:
            chunk = source.read(min(_CHUNK, remaining))
            if not chunk:
                break
            yield chunk
            remaining -= len(chunk)
