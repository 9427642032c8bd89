"""Sending failed keys again: `Job.retry`, and the history of every earlier try of a key.

A key's *try* is everything sent for it under one set of params: the first send, resubmissions
after an expiry or an overload, and re-asks. Its final outcome ends the try. `retry` starts a new
try for chosen finished keys, with changed params (say `max_tokens=4096` after truncations):

- The finished try is archived in the `tries` table (`_tries`; created on first use, so older
  stores need no migration): its custom_id, params as built (re-ask turns removed), attempts,
  token usage, and its outcome (failure, or value for an ok key sent again). Nothing is ever
  deleted.
- The request row is rebuilt from the same stored bytes — the original turns, the same mode,
  system and tool — with the changes applied, gets a *fresh* custom_id (`<key>-r<n>` plus the
  job's salt, or a hashed form), and becomes pending. The engine then submits it like any other
  pending request (intent, create exactly once, reconcile), so no custom_id is ever sent in two
  batches, nothing already answered is sent again by accident, and a result of an old batch can
  never be recorded for the new try.
- Attempt counters restart (each try has the full `max_attempts` / `max_reasks` budget);
  tokens keep accumulating on the request, so the summary's usage and cost cover every try.
  `Outcome.attempts` counts sends across all tries; a still-failed outcome lists the earlier
  failures in `failure.details["earlier_tries"]`; `Job.history(key)` returns every earlier try.

Re-adding a retried key with the params of any of its tries (a script run again) is a no-op, as
for any stored key; `DuplicateKeyError` is only raised for params no try had.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from . import _batching as batching
from ._config import JobConfig
from ._errors import InputError, JobError, ModeError
from ._modes import Mode, resolve_mode
from ._outcome import FailureKind
from ._schema import Spec
from ._store import Store
from ._store_batches import chunks
from ._tries import archive, as_built_params, ever_sent, next_try_numbers, usage_of_tries

# This module writes request rows directly (through the store's connection, within the store's
# transactions), and the earlier tries into the `tries` table that `_tries` owns: the store's own
# methods stay as they are.

#: Params a retry may not change: they are the spec's and the mode's (or the job's identity).
#: A different prompt, model or schema is a new job.
FIXED_PARAMS = {
    "messages": "the turns are the key's input",
    "model": "the model is the job's",
    "system": "the system prompt is the job's (and the mode's)",
    "tools": "the tool is compiled from the spec",
    "tool_choice": "the tool choice is the mode's",
    "output_config": "the output format is the mode's",
    "mode": "the mode is the request's",
}

# Params that `check_mode` must not see as mode-relevant extras (they are built by the mode).
_BUILT = frozenset({"messages", "model", "max_tokens", "system", "tools", "tool_choice", "output_config"})


@dataclass(frozen=True, slots=True)
class Retried:
    """What `Job.retry` queued: the keys (in the order added), how many per earlier outcome
    kind, and the param changes. The keys are pending: `run()` (or `submit()`) sends them."""

    keys: tuple[str, ...]
    counts: Mapping[str, int]
    changes: Mapping[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.keys)

    def as_dict(self) -> dict[str, Any]:
        return {"retried": len(self.keys), "counts": dict(self.counts), "changes": dict(self.changes)}


@dataclass(frozen=True, slots=True)
class _Finished:
    seq: int
    key: str
    custom_id: str
    mode: str
    state: str
    attempts: int
    reasks: int
    usage: tuple[int, int, int, int]
    ok: bool | None
    kind: str | None
    value: bytes | None
    failure: bytes | None
    raw: bytes | None

    @property
    def label(self) -> str:
        return "ok" if self.ok else str(self.kind)


_SELECT = (
    "SELECT r.seq, r.key, r.custom_id, r.mode, r.state, r.attempts, r.reasks, r.in_tok, r.out_tok, "
    "r.cw_tok, r.cr_tok, o.ok, o.kind, o.value, o.failure, o.raw FROM requests r "
    "LEFT JOIN outcomes o ON o.seq=r.seq"
)


def _finished(row: Sequence[Any]) -> _Finished:
    return _Finished(
        seq=int(row[0]),
        key=str(row[1]),
        custom_id=str(row[2]),
        mode=str(row[3]),
        state=str(row[4]),
        attempts=int(row[5]),
        reasks=int(row[6]),
        usage=(int(row[7]), int(row[8]), int(row[9]), int(row[10])),
        ok=None if row[11] is None else bool(row[11]),
        kind=row[12],
        value=None if row[13] is None else bytes(row[13]),
        failure=None if row[14] is None else bytes(row[14]),
        raw=None if row[15] is None else bytes(row[15]),
    )


# -- retry -----------------------------------------------------------------------------------------


def retry(
    store: Store,
    spec: Spec[Any],
    config: JobConfig,
    *,
    kinds: Iterable[FailureKind | str] | None,
    keys: Iterable[str] | None,
    include_ok: bool,
    changes: Mapping[str, Any],
) -> Retried:
    """Start a new try for the chosen finished keys (see the module docstring). The caller holds
    the driver lease. Raises `InputError` for a wrong choice or change, `JobError` when a chosen
    key's batch is not collected yet; nothing is changed then."""
    wanted = _kinds(kinds)
    if wanted is None and keys is None:
        raise InputError(
            "retry: say which keys to send again: kinds=[...] (e.g. ['truncated']) or keys=[...]"
        )
    _check_changes(changes)
    rows = _choose(store, wanted, None if keys is None else list(keys), include_ok=include_ok)
    if not rows:
        return Retried((), {}, dict(changes))
    _check_collected(store, [r.seq for r in rows])
    numbers = next_try_numbers(store, [r.seq for r in rows])
    earlier_usage = usage_of_tries(store, [r.seq for r in rows])
    taken: set[str] = set()
    updates: list[tuple[Any, ...]] = []
    archived: list[tuple[Any, ...]] = []
    changes_json = orjson.dumps(dict(changes)).decode()
    now = time.time()
    for r in rows:
        as_built = as_built_params(orjson.loads(store.params_of(r.seq)), reasks=r.reasks, mode=r.mode)
        new = _changed(as_built, changes, spec=spec, config=config, mode=r.mode, key=r.key)
        messages_json, rest = batching.split_params(new)
        params_json = batching.join_params(messages_json, rest)
        n = numbers[r.seq]
        cid = _fresh_custom_id(store, r.key, n + 1, config.salt, taken)
        taken.add(cid)
        size = batching.entry_size(cid, params_json)
        if not config.limits.fits_alone(size):
            raise InputError(
                f"retry: key {r.key!r} would be {size:,} bytes with these changes; no batch can hold it "
                f"(limit {config.limits.max_bytes:,} bytes)"
            )
        turns = new.get("messages") or []
        prefilled = bool(turns) and turns[-1].get("role") == "assistant"
        # A shape row is committed on its own, before the transaction (see `Store.add_requests`).
        shape = store._shape_id(rest)
        prev = earlier_usage.get(r.seq, (0, 0, 0, 0))
        this_try = tuple(a - b for a, b in zip(r.usage, prev, strict=True))
        archived.append(
            (
                r.seq,
                n,
                r.key,
                r.custom_id,
                batching.encode_params(as_built),
                r.attempts,
                r.reasks,
                *this_try,
                int(bool(r.ok)),
                r.kind,
                r.value,
                r.failure,
                r.raw,
                changes_json,
                now,
            )
        )
        updates.append((cid, messages_json, shape, int(prefilled), size, r.seq))
    with store.transaction():
        db = store._db
        archive(db, archived)
        db.executemany(
            "UPDATE requests SET custom_id=?, messages=?, shape=?, prefilled=?, size=?, state='pending', "
            "attempts=0, reasks=0 WHERE seq=? AND state='done'",
            updates,
        )
        db.executemany("DELETE FROM outcomes WHERE seq=?", [(r.seq,) for r in rows])
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.label] = counts.get(r.label, 0) + 1
    return Retried(tuple(r.key for r in rows), counts, dict(changes))


def _kinds(kinds: Iterable[FailureKind | str] | None) -> list[str] | None:
    if kinds is None:
        return None
    out: list[str] = []
    for k in kinds:
        name = str(k.value if isinstance(k, FailureKind) else k)
        if name == "ok":
            raise InputError("retry: kinds selects failures only; to send ok keys again, list them in keys=")
        try:
            out.append(FailureKind(name).value)
        except ValueError:
            raise InputError(
                f"retry: unknown kind {name!r}; one of {', '.join(k.value for k in FailureKind)}"
            ) from None
    return out


def _check_changes(changes: Mapping[str, Any]) -> None:
    from ._modes import _request_keys  # the SDK's own list of request params (loads the SDK)

    for name, value in changes.items():
        if name in FIXED_PARAMS:
            raise InputError(f"retry cannot change {name!r}: {FIXED_PARAMS[name]}; use a new job for that")
        if name not in _request_keys():
            raise InputError(
                f"retry: {name!r} is not a Messages API request parameter in the installed anthropic SDK"
            )
        if name == "max_tokens" and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise InputError(f"retry: max_tokens must be a positive integer, got {value!r}")


def _choose(
    store: Store, kinds: list[str] | None, keys: list[str] | None, *, include_ok: bool
) -> list[_Finished]:
    db = store._db
    if keys is None:
        assert kinds is not None
        if not kinds:
            return []
        marks = ",".join("?" * len(kinds))
        cur = db.execute(
            f"{_SELECT} WHERE r.state='done' AND o.ok=0 AND o.kind IN ({marks}) ORDER BY r.seq", kinds
        )
        return [_finished(row) for row in cur]
    seen: dict[str, _Finished] = {}
    for chunk in chunks(list(dict.fromkeys(keys))):
        for row in db.execute(f"{_SELECT} WHERE r.key IN ({','.join('?' * len(chunk))})", chunk):
            found = _finished(row)
            seen[found.key] = found
    chosen: list[_Finished] = []
    for key in dict.fromkeys(keys):
        f = seen.get(key)
        if f is None:
            raise InputError(f"retry: key {key!r} is not in {store.path}")
        if f.state != "done" or f.ok is None:
            raise InputError(f"retry: key {key!r} is not finished yet ({f.state}); nothing to retry")
        if f.ok and not include_ok:
            raise InputError(
                f"retry: key {key!r} is ok; sending it again costs tokens and replaces its value "
                "(kept in its history): pass include_ok=True to do it anyway"
            )
        if kinds is not None and (f.ok or f.kind not in kinds):
            continue  # keys and kinds together: the listed keys that have one of the kinds
        chosen.append(f)
    return sorted(chosen, key=lambda f: f.seq)


def _check_collected(store: Store, seqs: Sequence[int]) -> None:
    """A final outcome may be recorded while its batch is still being read (a download cut): that
    batch must be collected first, so no line of it is ever read against the new try."""
    for chunk in chunks(seqs):
        row = store._db.execute(
            "SELECT r.key, b.batch_id FROM attempts a JOIN batches b ON b.local_id=a.local_id "
            "JOIN requests r ON r.seq=a.seq WHERE b.state IN ('intent', 'open', 'ended') "
            f"AND a.seq IN ({','.join('?' * len(chunk))}) LIMIT 1",
            chunk,
        ).fetchone()
        if row is not None:
            raise JobError(
                f"retry: key {row[0]!r} is in batch {row[1] or '(being created)'}, which is not collected yet; "
                "run collect() (or run()) first"
            )


def _fresh_custom_id(store: Store, key: str, number: int, job_salt: str, taken: set[str]) -> str:
    """`<key>-r<number>-<salt>` (a hashed form for long keys), never used before in this job."""
    base = f"{key}-r{number}"
    cid = batching.custom_id_for(base, job=job_salt)
    salt = 0
    while cid in taken or store.custom_ids_taken([cid]) or ever_sent(store, cid):
        salt += 1
        cid = batching.custom_id_for(base, salt=salt, job=job_salt)
    return cid


def _changed(
    params: Mapping[str, Any],
    changes: Mapping[str, Any],
    *,
    spec: Spec[Any],
    config: JobConfig,
    mode: str,
    key: str,
) -> dict[str, Any]:
    """`params` with `changes` applied (None removes a param), checked against the request's mode
    (e.g. `thinking` with a forced tool raises `ModeError` naming the mode to use)."""
    new = dict(params)
    for name, value in changes.items():
        if value is None:
            new.pop(name, None)
        else:
            new[name] = value
    extra = {k: v for k, v in new.items() if k not in _BUILT}
    try:
        resolve_mode(spec, config.model, Mode(mode), **extra)
    except ModeError as exc:
        raise ModeError(f"retry: key {key!r}: {exc}") from exc
    return new
