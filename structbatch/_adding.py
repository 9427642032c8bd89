"""Adding inputs: user items → validated, byte-exact, salted requests in the store.

Every add is durable when it returns: `add` is one INSERT (its own transaction), `add_many`
writes chunks of `CHUNK` items per transaction, so a crash loses nothing an earlier call returned
and at most the chunk being written by the call that was interrupted (which raised nothing and
returned nothing). The hot path is the INSERT itself: the UNIQUE constraints on key and custom_id
detect the rare cases (a re-added key, a custom_id collision), which then take the slow path.

Rules: a key added twice in one session (one `Job` object), or stored with different params,
raises `DuplicateKeyError` (naming the param that differs) and nothing of that chunk is added.
Re-adding a stored key with identical params is a no-op, so a script can simply run again.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import orjson

from . import _batching as batching
from ._config import JobConfig
from ._errors import DuplicateKeyError, InputError
from ._jobtypes import FinalOutcome, NewRequest
from ._modes import Mode
from ._outcome import FailureKind
from ._schema import Spec
from ._store import Store
from ._tries import matches_a_try

CHUNK = 5000

Item = Mapping[str, Any] | tuple[str, Any]


class Adder:
    """Builds and stores the requests of one job session (see the module docstring)."""

    def __init__(self, store: Store, spec: Spec[Any], config: JobConfig, mode: Mode, session: int) -> None:
        self.store = store
        self.spec = spec
        self.config = config
        self.mode = mode
        self.session = session
        self._defaults: dict[str, Any] = dict(config.params)

    def add_many(self, items: Iterable[Item]) -> list[str]:
        out: list[str] = []
        for chunk in _chunked(items, CHUNK):
            out.extend(self._store_chunk([self.build(i, item) for i, item in chunk]))
        return out

    def add_one(self, item: Item) -> str:
        req, failed = self.build(0, item)
        if failed is None:
            try:
                self.store.insert_request(req, self.session)
                return req.custom_id
            except sqlite3.IntegrityError:
                pass  # the key or custom_id is taken: the careful path decides
        return self._careful([(req, failed)])[0]

    # -- building --------------------------------------------------------------------------------

    def build(self, index: int, item: Item) -> tuple[NewRequest, FinalOutcome | None]:
        """The request for one item, and its final outcome if no batch could ever hold it."""
        if isinstance(item, tuple):
            if len(item) != 2:
                raise InputError(f"item {index}: expected (key, messages), got a tuple of {len(item)}")
            key, messages, fields = item[0], item[1], None
        elif isinstance(item, Mapping):
            fields = dict(item)
            key = fields.pop("key", None)
            messages = fields.pop("messages", None)
        else:
            raise InputError(
                f"item {index}: expected a mapping or a (key, messages) pair, got {type(item).__name__}"
            )
        if not isinstance(key, str) or not key:
            raise InputError(f"item {index}: key must be a non-empty string, got {key!r}")
        if messages is None:
            raise InputError(f"key {key!r}: no messages given")
        c = self.config
        if fields:
            system = _merge_system_text(c.system, fields.pop("system", None))
            max_tokens = int(fields.pop("max_tokens", c.max_tokens))
            extra = {**self._defaults, **fields} if fields else self._defaults
        else:
            system, max_tokens, extra = c.system, c.max_tokens, self._defaults
        try:
            params = self.spec.params(
                messages, model=c.model, max_tokens=max_tokens, mode=self.mode, system=system, **extra
            )
        except InputError as exc:
            raise InputError(f"key {key!r}: {exc}") from exc
        messages_json, rest = batching.split_params(params)
        custom_id = batching.custom_id_for(key, job=c.salt)
        turns = params.get("messages") or ()
        prefilled = isinstance(turns, Sequence) and bool(turns) and turns[-1].get("role") == "assistant"
        size = batching.entry_size(custom_id, batching.join_params(messages_json, rest))
        req = NewRequest(
            key=key,
            custom_id=custom_id,
            mode=self.mode.value,
            messages=messages_json,
            rest=rest,
            size=size,
            prefilled=prefilled,
        )
        if c.limits.fits_alone(size):
            return req, None
        failure = {
            "message": f"request is {size:,} bytes; no batch can hold it (limit {c.limits.max_bytes:,} "
            "bytes); never submitted",
            "details": {"error_type": "request_too_large", "size": size, "submitted": False},
        }
        return req, FinalOutcome(
            0, False, FailureKind.API_ERROR.value, None, orjson.dumps(failure), "[]", None
        )

    # -- storing ---------------------------------------------------------------------------------

    def _store_chunk(self, built: list[tuple[NewRequest, FinalOutcome | None]]) -> list[str]:
        if not built:
            return []
        if all(f is None for _, f in built):
            try:
                self.store.add_requests([r for r, _ in built], self.session)
                return [r.custom_id for r, _ in built]
            except sqlite3.IntegrityError:
                pass  # a key seen before, a duplicate in the chunk or a custom_id collision
        return self._careful(built)

    def _careful(self, built: Sequence[tuple[NewRequest, FinalOutcome | None]]) -> list[str]:
        """The slow path: duplicates, re-added keys and custom_id collisions, all checked."""
        keys = [r.key for r, _ in built]
        seen: set[str] = set()
        for k in keys:
            if k in seen:
                raise DuplicateKeyError(f"key {k!r} is added twice")
            seen.add(k)
        existing = self.store.existing(keys)
        fresh: list[NewRequest] = []
        failed: list[tuple[NewRequest, FinalOutcome]] = []
        for req, outcome in built:
            if req.key in existing:
                params, session, _cid = existing[req.key]
                if session == self.session:
                    raise DuplicateKeyError(f"key {req.key!r} is added twice")
                if params != req.params and not matches_a_try(self.store, req.key, req.params):
                    raise DuplicateKeyError(
                        f"key {req.key!r} is already in {self.store.path} with different params "
                        f"({_first_difference(params, req.params)}); keys must be unique (to send a finished "
                        "key again with other params, use job.retry(keys=[...], ...); or a new store for a "
                        "new job)"
                    )
            elif outcome is not None:
                failed.append((req, outcome))
            else:
                fresh.append(req)
        fresh = self._unique_custom_ids(fresh)
        self.store.add_requests(fresh, self.session, failed)
        by_key = {r.key: r.custom_id for r in fresh}
        by_key.update({r.key: r.custom_id for r, _ in failed})
        by_key.update({k: cid for k, (_p, _s, cid) in existing.items()})
        return [by_key[k] for k in keys]

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
                cid = batching.custom_id_for(r.key, salt=salt, job=self.config.salt)
            local.add(cid)
            if cid != r.custom_id:
                r = dataclasses.replace(r, custom_id=cid, size=batching.entry_size(cid, r.params))
            out.append(r)
        return out


def _chunked(items: Iterable[Item], size: int) -> Iterator[list[tuple[int, Item]]]:
    chunk: list[tuple[int, Item]] = []
    for pair in enumerate(items):
        chunk.append(pair)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _first_difference(stored: bytes, given: bytes) -> str:
    """Which param differs between two params JSONs, for the duplicate-key message."""
    a, b = orjson.loads(stored), orjson.loads(given)
    for name in sorted(set(a) | set(b)):
        if a.get(name) != b.get(name):
            return f"{name!r} differs: stored {_short(a.get(name))}, now {_short(b.get(name))}"
    return "byte order differs"


def _short(value: Any) -> str:
    text = orjson.dumps(value).decode()
    return text if len(text) <= 60 else text[:57] + "..."


def _merge_system_text(job_system: str | None, item_system: Any) -> Any:
    if item_system is None:
        return job_system
    if job_system is None:
        return item_system
    if isinstance(item_system, str):
        return f"{job_system}\n\n{item_system}"
    return [{"type": "text", "text": job_system}, *item_system]
