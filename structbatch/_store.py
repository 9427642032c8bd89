"""The SQLite job store: every request, batch, attempt and outcome, crash-safe.

One file per job, WAL mode. Each state change is one transaction, and the hot paths (adding keys,
recording results) write in bulk. The store owns the row encoding: callers see enums and
dataclasses, never positional rows. The rules that make resumption safe:

- A request's params are stored as the exact bytes sent, so a resubmission is byte-identical:
  its turns per request, and everything else (model, tools, system...) once per distinct shape,
  which keeps a million-request store close to the size of the turns alone.
- Before a batch is created, an *intent* row lists its requests; the batch id is recorded in the
  same transaction that marks those requests in flight. An intent without a batch id after a
  crash means "a create may or may not have happened": the job reconciles it with the API.
- Results are keyed by (batch, request): recording the same line twice changes nothing, so a cut
  download can simply be read again from the start.
- The job's settings are one value (`JobConfig`, as JSON in `meta`); the driver lease is one row
  (see `_lease`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ._batching import join_params
from ._config import JobConfig
from ._errors import StoreError
from ._jobtypes import (
    FinalOutcome,
    LeaseRow,
    NewRequest,
    RequestState,
)
from ._store_batches import BatchTables, chunks

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE shapes (id INTEGER PRIMARY KEY, rest BLOB NOT NULL UNIQUE);
CREATE TABLE requests (
    seq INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    custom_id TEXT NOT NULL UNIQUE,
    mode TEXT NOT NULL,
    messages BLOB NOT NULL,
    shape INTEGER NOT NULL,
    prefilled INTEGER NOT NULL DEFAULT 0,
    size INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    reasks INTEGER NOT NULL DEFAULT 0,
    session INTEGER NOT NULL,
    in_tok INTEGER NOT NULL DEFAULT 0,
    out_tok INTEGER NOT NULL DEFAULT 0,
    cw_tok INTEGER NOT NULL DEFAULT 0,
    cr_tok INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX requests_by_state ON requests(state, seq);
CREATE TABLE batches (
    local_id INTEGER PRIMARY KEY,
    batch_id TEXT UNIQUE,
    state TEXT NOT NULL,
    n_requests INTEGER NOT NULL,
    n_bytes INTEGER NOT NULL,
    key_suffix TEXT NOT NULL,
    intent_at REAL NOT NULL,
    created_at TEXT,
    ended_at TEXT,
    processing_status TEXT,
    request_counts TEXT,
    adopted INTEGER NOT NULL DEFAULT 0,
    confirmed INTEGER NOT NULL DEFAULT 1,
    user_canceled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE attempts (
    local_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    result TEXT,
    PRIMARY KEY (local_id, seq)
) WITHOUT ROWID;
CREATE TABLE outcomes (
    seq INTEGER PRIMARY KEY,
    ok INTEGER NOT NULL,
    kind TEXT,
    value BLOB,
    failure BLOB,
    repairs TEXT,
    raw BLOB
);
CREATE TABLE strays (local_id INTEGER NOT NULL, custom_id TEXT, line BLOB NOT NULL);
CREATE INDEX strays_by_batch ON strays(local_id, custom_id);
CREATE TABLE rejected (local_id INTEGER NOT NULL, batch_id TEXT NOT NULL, PRIMARY KEY (local_id, batch_id));
CREATE TABLE lease (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    token TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    since REAL NOT NULL,
    renewed REAL NOT NULL
);
"""


class Store(BatchTables):
    """A job's SQLite file. Not thread-safe: one `Store` per thread or process (the lease renewer
    has its own)."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        exists = self.path.exists() and self.path.stat().st_size > 0
        if not exists and not create:
            raise StoreError(f"{self.path}: no such job store")
        self._shape_ids: dict[bytes, int] = {}
        self._shape_rest: dict[int, bytes] = {}
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
            # 16 KiB pages: rows of a few KB (turns, result values) waste far less space than on
            # 4 KiB pages. Only takes effect on a new file.
            self._db.execute("PRAGMA page_size=16384")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=OFF")
            tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a structbatch job store ({exc})") from exc
        if not tables:
            with self.transaction():  # two processes may create one store at once: re-check inside
                if self._db.execute("SELECT 1 FROM sqlite_master WHERE name='meta'").fetchone() is None:
                    for stmt in _SCHEMA.split(";"):
                        if stmt.strip():
                            self._db.execute(stmt)
                    self._db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif "meta" not in tables:
            self._db.close()
            raise StoreError(f"{self.path}: an SQLite file, but not a structbatch job store")
        version = int(self.meta("schema_version") or 0)
        if version != SCHEMA_VERSION:
            self._db.close()
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: written by a newer structbatch (store schema v{version}; this version "
                    f"reads v{SCHEMA_VERSION}); upgrade structbatch to open it"
                )
            raise StoreError(
                f"{self.path}: store schema v{version} is older than this version reads (v{SCHEMA_VERSION}); "
                "finish it with the structbatch that wrote it, or start a new store"
            )

    def close(self) -> None:
        self._db.close()

    # -- meta and config ------------------------------------------------------------------------

    def meta(self, name: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE name=?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, values: dict[str, str]) -> None:
        with self.transaction():
            self._db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(values.items()))

    def config(self) -> JobConfig | None:
        """The job's settings, or None for a store no `Job` has configured yet."""
        text = self.meta("config")
        return None if text is None else JobConfig.from_json(text)

    def init_config(self, config: JobConfig) -> JobConfig:
        """Store `config` if the store has none yet, and return the stored one: of two processes
        creating one job at once, the first one's settings (and salt) win."""
        with self.transaction():
            stored = self.config()
            if stored is None:
                self._db.execute("INSERT INTO meta VALUES ('config', ?)", (config.to_json(),))
                return config
        return stored

    def set_config(self, config: JobConfig, *, reset_requests: bool = False) -> None:
        """Store the settings; with `reset_requests`, drop every request built under the old ones
        (only while nothing was submitted: the caller checks `submitted()` in the same lease)."""
        with self.transaction():
            if reset_requests:
                for table in ("requests", "shapes", "outcomes", "attempts", "batches", "rejected", "strays"):
                    self._db.execute(f"DELETE FROM {table}")
                self._db.execute("DELETE FROM meta WHERE name='preflight_checked'")
                self._shape_ids.clear()
                self._shape_rest.clear()
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('config', ?)", (config.to_json(),))

    def submitted(self) -> bool:
        """Whether any batch was (or may have been) created: intents count, as they may have."""
        return self._db.execute("SELECT 1 FROM batches LIMIT 1").fetchone() is not None

    def next_session(self) -> int:
        with self.transaction():
            session = int(self.meta("session") or 0) + 1
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('session', ?)", (str(session),))
        return session

    # -- requests -------------------------------------------------------------------------------

    def existing(self, keys: Sequence[str]) -> dict[str, tuple[bytes, int, str]]:
        """`{key: (params, session, custom_id)}` for those of `keys` already stored."""
        out: dict[str, tuple[bytes, int, str]] = {}
        for chunk in chunks(keys):
            marks = ",".join("?" * len(chunk))
            for key, messages, shape, session, cid in self._db.execute(
                f"SELECT key, messages, shape, session, custom_id FROM requests WHERE key IN ({marks})", chunk
            ):
                out[key] = (join_params(bytes(messages), self._rest(int(shape))), int(session), str(cid))
        return out

    def _shape_id(self, rest: bytes) -> int:
        """The id of a shape, created (and committed, outside any transaction) on first use."""
        found = self._shape_ids.get(rest)
        if found is None:
            self._db.execute("INSERT OR IGNORE INTO shapes (rest) VALUES (?)", (rest,))
            row = self._db.execute("SELECT id FROM shapes WHERE rest=?", (rest,)).fetchone()
            found = self._shape_ids[rest] = int(row[0])
            self._shape_rest[found] = rest
        return found

    def _rest(self, shape: int) -> bytes:
        rest = self._shape_rest.get(shape)
        if rest is None:
            row = self._db.execute("SELECT rest FROM shapes WHERE id=?", (shape,)).fetchone()
            rest = self._shape_rest[shape] = bytes(row[0])
        return rest

    def custom_ids_taken(self, ids: Sequence[str]) -> set[str]:
        taken: set[str] = set()
        for chunk in chunks(ids):
            marks = ",".join("?" * len(chunk))
            taken.update(
                r[0]
                for r in self._db.execute(
                    f"SELECT custom_id FROM requests WHERE custom_id IN ({marks})", chunk
                )
            )
        return taken

    def insert_request(self, r: NewRequest, session: int) -> None:
        """Add one pending request: a single INSERT, its own transaction (the `add` hot path).
        Raises `sqlite3.IntegrityError` if its key or custom_id is taken."""
        self._db.execute(_INSERT_PENDING, (*_request_values(r, self._shape_id(r.rest)), session))

    def add_requests(
        self,
        rows: Sequence[NewRequest],
        session: int,
        failed: Sequence[tuple[NewRequest, FinalOutcome]] = (),
    ) -> None:
        """Add requests in one transaction; `failed` ones (e.g. too large) are recorded done with
        their outcome, never sent. Raises `sqlite3.IntegrityError` (adding nothing) if a key or
        custom_id is taken."""
        # Shapes first, each committed on its own: a rolled-back chunk must not leave the cache
        # naming a shape row that no longer exists.
        values = [(*_request_values(r, self._shape_id(r.rest)), session) for r in rows]
        failed_values = [(*_request_values(r, self._shape_id(r.rest)), session) for r, _ in failed]
        with self.transaction():
            self._db.executemany(_INSERT_PENDING, values)
            for (_req, outcome), vals in zip(failed, failed_values, strict=True):
                cur = self._db.execute(_INSERT_PENDING.replace("'pending'", "'done'"), vals)
                self._insert_outcome(outcome, seq=int(cur.lastrowid or 0))

    def count_requests(self) -> dict[RequestState, int]:
        return {
            RequestState(s): int(n)
            for s, n in self._db.execute("SELECT state, COUNT(*) FROM requests GROUP BY state")
        }

    def pending_sizes(self) -> Iterator[tuple[int, int]]:
        """`(seq, size)` of every pending request, in insertion order."""
        cur = self._db.execute("SELECT seq, size FROM requests WHERE state='pending' ORDER BY seq")
        while rows := cur.fetchmany(5000):
            yield from ((int(s), int(n)) for s, n in rows)

    def pending_shapes(self) -> list[tuple[str, int]]:
        """`(shape, first seq)` for each distinct request shape among pending requests.

        A shape is the shared params plus whether the turns end with an assistant turn (a prefill,
        which some models reject): what decides whether the API accepts a request.
        """
        return [
            (f"{sh}:{pre}", int(seq))
            for sh, pre, seq in self._db.execute(
                "SELECT shape, prefilled, MIN(seq) FROM requests WHERE state='pending' "
                "GROUP BY shape, prefilled ORDER BY 3"
            )
        ]

    def key_of(self, seq: int) -> str:
        row = self._db.execute("SELECT key FROM requests WHERE seq=?", (seq,)).fetchone()
        return str(row[0]) if row else "?"

    def entries(self, seqs: Sequence[int]) -> Iterator[tuple[str, bytes]]:
        """`(custom_id, params)` for `seqs`, in the given order."""
        for chunk in chunks(seqs):
            marks = ",".join("?" * len(chunk))
            found = {
                int(s): (str(c), join_params(bytes(m), self._rest(int(sh))))
                for s, c, m, sh in self._db.execute(
                    f"SELECT seq, custom_id, messages, shape FROM requests WHERE seq IN ({marks})", chunk
                )
            }
            for s in chunk:
                yield found[s]

    def sizes(self, seqs: Sequence[int]) -> Iterator[tuple[int, int]]:
        """`(seq, entry size)` for `seqs` (any order)."""
        for chunk in chunks(seqs):
            marks = ",".join("?" * len(chunk))
            for s, n in self._db.execute(f"SELECT seq, size FROM requests WHERE seq IN ({marks})", chunk):
                yield int(s), int(n)

    def params_of(self, seq: int) -> bytes:
        """The exact params bytes of a request's latest attempt."""
        row = self._db.execute("SELECT messages, shape FROM requests WHERE seq=?", (seq,)).fetchone()
        return join_params(bytes(row[0]), self._rest(int(row[1])))

    def pending_seqs(self) -> list[int]:
        return [
            int(r[0]) for r in self._db.execute("SELECT seq FROM requests WHERE state='pending' ORDER BY seq")
        ]

    # -- the driver lease (the rules are in `_lease`) ---------------------------------------------

    def lease(self) -> LeaseRow | None:
        row = self._db.execute("SELECT token, pid, host, since, renewed FROM lease WHERE id=1").fetchone()
        return (
            None
            if row is None
            else LeaseRow(str(row[0]), int(row[1]), str(row[2]), float(row[3]), float(row[4]))
        )

    def take_lease(self, new: LeaseRow, *, replacing: str | None) -> bool:
        """Write `new` as the lease if the lease is free (`replacing=None`) or still held by the
        token `replacing`; False if someone else changed it first."""
        with self.transaction():
            current = self.lease()
            if (None if current is None else current.token) != replacing:
                return False
            self._db.execute(
                "INSERT OR REPLACE INTO lease (id, token, pid, host, since, renewed) VALUES (1, ?, ?, ?, ?, ?)",
                (new.token, new.pid, new.host, new.since, new.renewed),
            )
        return True

    def renew_lease(self, token: str, now: float) -> bool:
        """Mark the lease renewed; False if `token` no longer holds it."""
        with self.transaction():
            cur = self._db.execute("UPDATE lease SET renewed=? WHERE id=1 AND token=?", (now, token))
        return cur.rowcount == 1

    def release_lease(self, token: str) -> None:
        with self.transaction():
            self._db.execute("DELETE FROM lease WHERE id=1 AND token=?", (token,))


_INSERT_PENDING = (
    "INSERT INTO requests (key, custom_id, mode, messages, shape, prefilled, size, state, session) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)"
)


def _request_values(r: NewRequest, shape: int) -> tuple[Any, ...]:
    return (r.key, r.custom_id, r.mode, r.messages, shape, r.prefilled, r.size)
