"""The `tries` table: every earlier try of a key, archived when the key is retried.

`_retrying` decides which keys are sent again and rebuilds their requests; this module owns the
table those keys' earlier tries are kept in (created on first use, so older stores need no
migration), and answers the questions the rest of the engine asks of it: a key's history, the
number and tokens of its earlier tries, whether a custom_id was ever sent, and whether params
being re-added are those of one of its tries. It reads and writes through the store's connection,
within the store's transactions, so the store's own methods stay as they are.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from . import _batching as batching
from ._modes import MODES, Mode
from ._outcome import Failure, FailureKind, Usage
from ._store import Store
from ._store_batches import chunks

_TRIES_SCHEMA = """
CREATE TABLE IF NOT EXISTS tries (
    seq INTEGER NOT NULL,
    n INTEGER NOT NULL,
    key TEXT NOT NULL,
    custom_id TEXT NOT NULL,
    params BLOB NOT NULL,
    attempts INTEGER NOT NULL,
    reasks INTEGER NOT NULL,
    in_tok INTEGER NOT NULL,
    out_tok INTEGER NOT NULL,
    cw_tok INTEGER NOT NULL,
    cr_tok INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    kind TEXT,
    value BLOB,
    failure BLOB,
    raw BLOB,
    changes TEXT NOT NULL,
    retried_at REAL NOT NULL,
    PRIMARY KEY (seq, n)
)
"""


@dataclass(frozen=True, slots=True)
class Try:
    """One earlier try of a key, archived when the key was retried.

    `number` is 1 for the first try. `outcome_kind` is the try's final kind (`"ok"` for a
    success sent again), `failure` its `Failure` (None for ok). `usage` covers this try alone.
    `changes` are the param changes the retry applied after this try (None: param removed).
    """

    number: int
    custom_id: str
    ok: bool
    failure: Failure | None
    attempts: int
    usage: Usage
    params: Mapping[str, Any]
    changes: Mapping[str, Any]
    retried_at: float

    @property
    def outcome_kind(self) -> str:
        return "ok" if self.failure is None else self.failure.kind.value

    def as_dict(self) -> dict[str, Any]:
        return {
            "try": self.number,
            "custom_id": self.custom_id,
            "ok": self.ok,
            "kind": None if self.failure is None else self.failure.kind.value,
            "message": None if self.failure is None else self.failure.message,
            "attempts": self.attempts,
            "usage": self.usage.as_dict(),
            "changes": dict(self.changes),
            "retried_at": self.retried_at,
        }


def archive(db: sqlite3.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert finished tries (one tuple per `tries` column, in order), creating the table on first
    use. The caller holds the store's transaction, which also makes the requests pending again."""
    db.execute(_TRIES_SCHEMA)
    db.executemany(f"INSERT INTO tries VALUES ({','.join('?' * 18)})", rows)


def tries_exist(store: Store) -> bool:
    """Whether any key was ever retried (the table exists): readers skip the join otherwise."""
    return store._db.execute("SELECT 1 FROM sqlite_master WHERE name='tries'").fetchone() is not None


def next_try_numbers(store: Store, seqs: Sequence[int]) -> dict[int, int]:
    """The number the current try of each request gets when archived (1 for the first)."""
    out = dict.fromkeys(seqs, 1)
    for seq, n in _per_request(store, seqs, "MAX(n)"):
        out[int(seq)] = int(n) + 1
    return out


def usage_of_tries(store: Store, seqs: Sequence[int]) -> dict[int, tuple[int, int, int, int]]:
    """Tokens of the earlier tries per request (the request row holds the running total)."""
    rows = _per_request(store, seqs, "SUM(in_tok), SUM(out_tok), SUM(cw_tok), SUM(cr_tok)")
    return {int(seq): (int(a), int(b), int(c), int(d)) for seq, a, b, c, d in rows}


def _per_request(store: Store, seqs: Sequence[int], aggregates: str) -> Iterator[Sequence[Any]]:
    """`seq, <aggregates>` over the earlier tries of each of `seqs` that has any (none at all
    while no key was ever retried)."""
    if not tries_exist(store):
        return
    for chunk in chunks(seqs):
        marks = ",".join("?" * len(chunk))
        yield from store._db.execute(
            f"SELECT seq, {aggregates} FROM tries WHERE seq IN ({marks}) GROUP BY seq", chunk
        )


def ever_sent(store: Store, custom_id: str) -> bool:
    """Whether an earlier try of any key went out under `custom_id` (a fresh one must not)."""
    if not tries_exist(store):
        return False
    return (
        store._db.execute("SELECT 1 FROM tries WHERE custom_id=? LIMIT 1", (custom_id,)).fetchone()
        is not None
    )


def as_built_params(params: dict[str, Any], *, reasks: int, mode: str) -> dict[str, Any]:
    """A request's params as first built for its try: without the turns re-asks appended.

    Each re-ask appends two turns, the model's answer and the feedback (`_reask`); in PREFILL mode
    the prefill turn stays last. The conversation is only ever extended, so this is exact.
    """
    if not reasks:
        return params
    turns = list(params.get("messages") or [])
    extra = 2 * reasks
    if MODES[Mode(mode)].prefill is not None and turns and turns[-1].get("role") == "assistant":
        turns = turns[: -(extra + 1)] + turns[-1:]
    else:
        turns = turns[:-extra]
    return {**params, "messages": turns}


def history(store: Store, key: str) -> list[Try]:
    """Every earlier try of `key`, oldest first (empty for a key never retried)."""
    if not tries_exist(store):
        return []
    cur = store._db.execute(
        "SELECT t.n, t.custom_id, t.ok, t.kind, t.failure, t.attempts, t.in_tok, t.out_tok, t.cw_tok, t.cr_tok, "
        "t.params, t.changes, t.retried_at FROM tries t JOIN requests r ON r.seq=t.seq AND r.key=t.key "
        "WHERE t.key=? ORDER BY t.n",
        (key,),
    )
    return [
        Try(
            number=int(n),
            custom_id=str(cid),
            ok=bool(ok),
            failure=None if ok else failure_of(kind, failure),
            attempts=int(attempts),
            usage=Usage(int(a), int(b), int(c), int(d)),
            params=orjson.loads(params),
            changes=orjson.loads(changes),
            retried_at=float(at),
        )
        for n, cid, ok, kind, failure, attempts, a, b, c, d, params, changes, at in cur
    ]


def failure_of(kind: str | None, payload: bytes | None) -> Failure:
    """The `Failure` stored as an outcome kind and its JSON payload (message, details)."""
    data = orjson.loads(payload) if payload else {}
    return Failure(FailureKind(str(kind)), str(data.get("message", "")), data.get("details") or {})


def matches_a_try(store: Store, key: str, params: bytes) -> bool:
    """Whether `params` are what `key` was built with for one of its tries: re-adding the key
    with them is a no-op (a script run again after a retry or a re-ask)."""
    row = store._db.execute("SELECT seq, mode, reasks FROM requests WHERE key=?", (key,)).fetchone()
    if row is None:
        return False
    seq, mode, reasks = int(row[0]), str(row[1]), int(row[2])
    current = as_built_params(orjson.loads(store.params_of(seq)), reasks=reasks, mode=mode)
    if batching.encode_params(current) == params:
        return True
    if not tries_exist(store):
        return False
    return (
        store._db.execute(
            "SELECT 1 FROM tries WHERE seq=? AND key=? AND params=? LIMIT 1", (seq, key, params)
        ).fetchone()
        is not None
    )
