"""The SQLite job store: every request, batch, attempt and outcome, crash-safe.

One file per job, WAL mode. Each state change is one transaction, and the hot paths (adding keys,
recording results) write in bulk. The rules that make resumption safe:

- A request's params are stored as the exact bytes sent, so a resubmission is byte-identical:
  its turns per request, and everything else (model, tools, system...) once per distinct shape,
  which keeps a million-request store close to the size of the turns alone.
- Before a batch is created, an *intent* row lists its requests; the batch id is recorded in the
  same transaction that marks those requests in flight. An intent without a batch id after a
  crash means "a create may or may not have happened": the job reconciles it with the API.
- Results are keyed by (batch, request): recording the same line twice changes nothing, so a cut
  download can simply be read again from the start.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ._batching import join_params
from ._errors import StoreError

SCHEMA_VERSION = 1

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
CREATE INDEX IF NOT EXISTS strays_by_batch ON strays(local_id, custom_id);
"""

# Batch states. `intent`: about to be created (maybe created, if we crashed); `open`: created,
# not ended; `ended`: ended, results not all recorded; `collected`: done; `foreign`: a batch
# adopted during reconciliation whose results turned out not to be ours.
INTENT, OPEN, ENDED, COLLECTED, FOREIGN = "intent", "open", "ended", "collected", "foreign"
# Request states.
PENDING, INFLIGHT, DONE = "pending", "inflight", "done"


@dataclass(frozen=True, slots=True)
class BatchRow:
    """One batch as the store knows it."""

    local_id: int
    batch_id: str | None
    state: str
    n_requests: int
    n_bytes: int
    key_suffix: str
    intent_at: float
    created_at: str | None
    ended_at: str | None
    processing_status: str | None
    request_counts: dict[str, int] | None
    adopted: bool
    user_canceled: bool


@dataclass(frozen=True, slots=True)
class InflightRequest:
    """What collection needs to know about one request of a batch."""

    seq: int
    key: str
    custom_id: str
    mode: str
    attempts: int
    reasks: int
    usage: tuple[int, int, int, int]
    recorded: bool


@dataclass(frozen=True, slots=True)
class NewRequest:
    """A request to add: the user key, its custom_id, mode, and its params split in two
    (`batching.split_params`): the turns, and the rest shared by requests of the same shape."""

    key: str
    custom_id: str
    mode: str
    messages: bytes
    rest: bytes
    size: int
    prefilled: bool = False

    @property
    def params(self) -> bytes:
        return join_params(self.messages, self.rest)


@dataclass(frozen=True, slots=True)
class FinalOutcome:
    """A final outcome row, as persisted."""

    seq: int
    ok: bool
    kind: str | None
    value: bytes | None
    failure: bytes | None
    repairs: str
    raw: bytes | None


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What one result line did to its request: the attempt's result and the request's next step.

    `next_state` is PENDING (resubmit, or re-ask with `new_messages`: the extended turns) or DONE
    (with `outcome`).
    """

    seq: int
    result: str
    usage: tuple[int, int, int, int]
    next_state: str
    outcome: FinalOutcome | None = None
    new_messages: bytes | None = None
    new_size: int | None = None
    reask: bool = False


class Store:
    """A job's SQLite file. Not thread-safe: one `Store` per thread or process."""

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
            with self.transaction():
                for stmt in _SCHEMA.split(";"):
                    if stmt.strip():
                        self._db.execute(stmt)
                self._db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif "meta" not in tables:
            raise StoreError(f"{self.path}: an SQLite file, but not a structbatch job store")
        version = int(self.meta("schema_version") or 0)
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: written by a newer structbatch (store schema v{version}; this version reads "
                f"v{SCHEMA_VERSION}); upgrade structbatch to open it"
            )
        if version < SCHEMA_VERSION:
            raise StoreError(f"{self.path}: store schema v{version} is older than any this version reads")
        if tables:  # stores written before this index existed (same schema version, additive)
            self._db.execute("CREATE INDEX IF NOT EXISTS strays_by_batch ON strays(local_id, custom_id)")

    def close(self) -> None:
        self._db.close()

    # -- transactions ---------------------------------------------------------------------------

    def transaction(self) -> _Transaction:
        """`with store.transaction():` — BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error)."""
        return _Transaction(self._db)

    # -- meta -----------------------------------------------------------------------------------

    def meta(self, name: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE name=?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, values: dict[str, str]) -> None:
        with self.transaction():
            self._db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(values.items()))

    def next_session(self) -> int:
        with self.transaction():
            session = int(self.meta("session") or 0) + 1
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('session', ?)", (str(session),))
        return session

    # -- requests -------------------------------------------------------------------------------

    def existing(self, keys: Sequence[str]) -> dict[str, tuple[bytes, int]]:
        """`{key: (params, session)}` for those of `keys` already stored."""
        out: dict[str, tuple[bytes, int]] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for key, messages, shape, session in self._db.execute(
                f"SELECT key, messages, shape, session FROM requests WHERE key IN ({marks})", chunk
            ):
                out[key] = (join_params(bytes(messages), self._rest(int(shape))), int(session))
        return out

    def _shape_id(self, rest: bytes) -> int:
        """The id of a shape (inside the caller's transaction), creating it on first use."""
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
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            taken.update(
                r[0]
                for r in self._db.execute(
                    f"SELECT custom_id FROM requests WHERE custom_id IN ({marks})", chunk
                )
            )
        return taken

    def add_requests(self, rows: Sequence[NewRequest], session: int) -> None:
        with self.transaction():
            self._db.executemany(
                "INSERT INTO requests (key, custom_id, mode, messages, shape, prefilled, size, state, session) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
                [
                    (
                        r.key,
                        r.custom_id,
                        r.mode,
                        r.messages,
                        self._shape_id(r.rest),
                        r.prefilled,
                        r.size,
                        session,
                    )
                    for r in rows
                ],
            )

    def add_failed_requests(self, rows: Sequence[tuple[NewRequest, FinalOutcome]], session: int) -> None:
        """Add requests that failed before submission (e.g. too large): recorded, never sent."""
        with self.transaction():
            for req, outcome in rows:
                cur = self._db.execute(
                    "INSERT INTO requests (key, custom_id, mode, messages, shape, size, state, session) "
                    "VALUES (?, ?, ?, ?, ?, ?, 'done', ?)",
                    (
                        req.key,
                        req.custom_id,
                        req.mode,
                        req.messages,
                        self._shape_id(req.rest),
                        req.size,
                        session,
                    ),
                )
                self._insert_outcome(
                    FinalOutcome(
                        int(cur.lastrowid or 0),
                        outcome.ok,
                        outcome.kind,
                        outcome.value,
                        outcome.failure,
                        outcome.repairs,
                        outcome.raw,
                    )
                )

    def count_requests(self) -> dict[str, int]:
        return {s: int(n) for s, n in self._db.execute("SELECT state, COUNT(*) FROM requests GROUP BY state")}

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
        for i in range(0, len(seqs), 500):
            chunk = seqs[i : i + 500]
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
        for i in range(0, len(seqs), 500):
            chunk = seqs[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for s, n in self._db.execute(f"SELECT seq, size FROM requests WHERE seq IN ({marks})", chunk):
                yield int(s), int(n)

    # -- batches --------------------------------------------------------------------------------

    def record_intent(self, seqs: Sequence[int], n_bytes: int, key_suffix: str) -> int:
        with self.transaction():
            cur = self._db.execute(
                "INSERT INTO batches (state, n_requests, n_bytes, key_suffix, intent_at) VALUES (?, ?, ?, ?, ?)",
                (INTENT, len(seqs), n_bytes, key_suffix, time.time()),
            )
            local_id = int(cur.lastrowid or 0)
            self._db.executemany(
                "INSERT INTO attempts (local_id, seq) VALUES (?, ?)", [(local_id, s) for s in seqs]
            )
        return local_id

    def intent_seqs(self, local_id: int) -> list[int]:
        return [
            int(r[0])
            for r in self._db.execute("SELECT seq FROM attempts WHERE local_id=? ORDER BY seq", (local_id,))
        ]

    def mark_created(self, local_id: int, batch_id: str, created_at: str, *, adopted: bool = False) -> None:
        """Record the batch id and put its requests in flight, in one transaction."""
        with self.transaction():
            self._db.execute(
                "UPDATE batches SET batch_id=?, state=?, created_at=?, processing_status='in_progress', adopted=? "
                "WHERE local_id=?",
                (batch_id, OPEN, created_at, int(adopted), local_id),
            )
            self._db.execute(
                "UPDATE requests SET state='inflight', attempts=attempts+1 "
                "WHERE seq IN (SELECT seq FROM attempts WHERE local_id=?)",
                (local_id,),
            )

    def drop_intent(self, local_id: int) -> None:
        """Forget an intent whose create certainly did not happen; its requests stay pending."""
        with self.transaction():
            self._db.execute("DELETE FROM attempts WHERE local_id=?", (local_id,))
            self._db.execute("DELETE FROM batches WHERE local_id=? AND state=?", (local_id, INTENT))

    def batches(self, *states: str) -> list[BatchRow]:
        sql = "SELECT * FROM batches"
        args: tuple[Any, ...] = ()
        if states:
            sql += f" WHERE state IN ({','.join('?' * len(states))})"
            args = states
        return [_batch_row(r) for r in self._db.execute(sql + " ORDER BY local_id", args)]

    def known_batch_ids(self) -> set[str]:
        return {
            str(r[0]) for r in self._db.execute("SELECT batch_id FROM batches WHERE batch_id IS NOT NULL")
        }

    def update_batch(
        self,
        local_id: int,
        *,
        state: str | None = None,
        processing_status: str | None = None,
        ended_at: str | None = None,
        request_counts: dict[str, int] | None = None,
        user_canceled: bool | None = None,
    ) -> None:
        sets: list[str] = []
        args: list[Any] = []
        for col, val in (("state", state), ("processing_status", processing_status), ("ended_at", ended_at)):
            if val is not None:
                sets.append(f"{col}=?")
                args.append(val)
        if request_counts is not None:
            sets.append("request_counts=?")
            args.append(orjson.dumps(request_counts).decode())
        if user_canceled is not None:
            sets.append("user_canceled=?")
            args.append(int(user_canceled))
        if not sets:
            return
        with self.transaction():
            self._db.execute(f"UPDATE batches SET {', '.join(sets)} WHERE local_id=?", (*args, local_id))

    def inflight_of(self, local_id: int) -> dict[str, InflightRequest]:
        """The requests of a batch by custom_id, with whether this attempt's result is recorded."""
        out: dict[str, InflightRequest] = {}
        for row in self._db.execute(
            "SELECT r.seq, r.key, r.custom_id, r.mode, r.attempts, r.reasks, r.in_tok, r.out_tok, r.cw_tok, "
            "r.cr_tok, a.result IS NOT NULL FROM attempts a JOIN requests r ON r.seq=a.seq WHERE a.local_id=?",
            (local_id,),
        ):
            out[str(row[2])] = InflightRequest(
                int(row[0]),
                str(row[1]),
                str(row[2]),
                str(row[3]),
                int(row[4]),
                int(row[5]),
                (int(row[6]), int(row[7]), int(row[8]), int(row[9])),
                bool(row[10]),
            )
        return out

    def params_of(self, seq: int) -> bytes:
        """The exact params bytes of a request's latest attempt."""
        row = self._db.execute("SELECT messages, shape FROM requests WHERE seq=?", (seq,)).fetchone()
        return join_params(bytes(row[0]), self._rest(int(row[1])))

    def record_results(
        self, local_id: int, results: Sequence[AttemptResult], strays: Sequence[tuple[str | None, bytes]] = ()
    ) -> None:
        """Persist a chunk of result lines in one transaction (idempotent per (batch, request))."""
        with self.transaction():
            for res in results:
                cur = self._db.execute(
                    "UPDATE attempts SET result=? WHERE local_id=? AND seq=? AND result IS NULL",
                    (res.result, local_id, res.seq),
                )
                if cur.rowcount == 0:
                    continue  # already recorded by an earlier, interrupted download
                u = res.usage
                if res.next_state == DONE:
                    self._db.execute(
                        "UPDATE requests SET state='done', in_tok=in_tok+?, out_tok=out_tok+?, cw_tok=cw_tok+?, "
                        "cr_tok=cr_tok+? WHERE seq=?",
                        (*u, res.seq),
                    )
                    assert res.outcome is not None
                    self._insert_outcome(res.outcome)
                elif res.new_messages is not None:
                    self._db.execute(
                        "UPDATE requests SET state='pending', messages=?, size=?, reasks=reasks+?, in_tok=in_tok+?, "
                        "out_tok=out_tok+?, cw_tok=cw_tok+?, cr_tok=cr_tok+? WHERE seq=?",
                        (res.new_messages, res.new_size, int(res.reask), *u, res.seq),
                    )
                else:
                    self._db.execute(
                        "UPDATE requests SET state='pending', in_tok=in_tok+?, out_tok=out_tok+?, cw_tok=cw_tok+?, "
                        "cr_tok=cr_tok+? WHERE seq=?",
                        (*u, res.seq),
                    )
            # A re-read download (after a cut or a crash) sees the same stray lines again.
            self._db.executemany(
                "INSERT INTO strays (local_id, custom_id, line) SELECT ?, ?, ? WHERE NOT EXISTS "
                "(SELECT 1 FROM strays WHERE local_id=? AND custom_id IS ? AND line=?)",
                [(local_id, cid, line, local_id, cid, line) for cid, line in strays],
            )

    def _insert_outcome(self, o: FinalOutcome) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO outcomes (seq, ok, kind, value, failure, repairs, raw) VALUES (?,?,?,?,?,?,?)",
            (o.seq, int(o.ok), o.kind, o.value, o.failure, o.repairs, o.raw),
        )

    def unforeign(self, local_id: int) -> None:
        """An adopted batch was not ours: its requests go back to pending, uncounted."""
        with self.transaction():
            self._db.execute(
                "UPDATE requests SET state='pending', attempts=attempts-1 "
                "WHERE seq IN (SELECT seq FROM attempts WHERE local_id=?) AND state='inflight'",
                (local_id,),
            )
            self._db.execute("DELETE FROM attempts WHERE local_id=?", (local_id,))
            self._db.execute("UPDATE batches SET state=? WHERE local_id=?", (FOREIGN, local_id))

    def finish_pending(self, outcomes: Iterable[FinalOutcome]) -> int:
        """Record final outcomes for requests never (re)submitted, e.g. after a user cancel."""
        n = 0
        with self.transaction():
            for o in outcomes:
                self._db.execute("UPDATE requests SET state='done' WHERE seq=? AND state='pending'", (o.seq,))
                self._insert_outcome(o)
                n += 1
        return n

    def pending_seqs(self) -> list[int]:
        return [
            int(r[0]) for r in self._db.execute("SELECT seq FROM requests WHERE state='pending' ORDER BY seq")
        ]

    # -- reading outcomes -----------------------------------------------------------------------

    def outcome_rows(self, *, kinds: Sequence[str] | None = None) -> Iterator[tuple[Any, ...]]:
        """Rows of (seq, key, custom_id, mode, attempts, in, out, cw, cr, ok, kind, value, failure,
        repairs, raw), final outcomes only, in insertion order."""
        sql = (
            "SELECT r.seq, r.key, r.custom_id, r.mode, r.attempts, r.in_tok, r.out_tok, r.cw_tok, r.cr_tok, "
            "o.ok, o.kind, o.value, o.failure, o.repairs, o.raw FROM requests r JOIN outcomes o ON o.seq=r.seq"
        )
        args: tuple[Any, ...] = ()
        if kinds is not None:
            sql += f" WHERE o.kind IN ({','.join('?' * len(kinds))})"
            args = tuple(kinds)
        cur = self._db.execute(sql + " ORDER BY r.seq", args)
        while rows := cur.fetchmany(2000):
            yield from rows

    def outcome_counts(self) -> dict[str, int]:
        return {
            ("ok" if k is None else str(k)): int(n)
            for k, n in self._db.execute("SELECT kind, COUNT(*) FROM outcomes GROUP BY kind")
        }

    def token_totals(self) -> tuple[int, int, int, int]:
        row = self._db.execute(
            "SELECT COALESCE(SUM(in_tok),0), COALESCE(SUM(out_tok),0), COALESCE(SUM(cw_tok),0), "
            "COALESCE(SUM(cr_tok),0) FROM requests"
        ).fetchone()
        return int(row[0]), int(row[1]), int(row[2]), int(row[3])

    def stray_count(self) -> int:
        """How many result lines named a custom_id this job never sent (or none)."""
        return int(self._db.execute("SELECT COUNT(*) FROM strays").fetchone()[0])

    def stray_rows(self) -> list[tuple[int, str | None, bytes]]:
        return [
            (int(a), b, bytes(c))
            for a, b, c in self._db.execute("SELECT local_id, custom_id, line FROM strays")
        ]

    def attempt_count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM attempts").fetchone()[0])


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("ROLLBACK" if exc_type is not None else "COMMIT")


def _batch_row(r: Sequence[Any]) -> BatchRow:
    return BatchRow(
        local_id=int(r[0]),
        batch_id=r[1],
        state=str(r[2]),
        n_requests=int(r[3]),
        n_bytes=int(r[4]),
        key_suffix=str(r[5]),
        intent_at=float(r[6]),
        created_at=r[7],
        ended_at=r[8],
        processing_status=r[9],
        request_counts=orjson.loads(r[10]) if r[10] else None,
        adopted=bool(r[11]),
        user_canceled=bool(r[12]),
    )
