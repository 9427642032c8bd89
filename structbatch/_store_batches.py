"""The batch half of the job store: intents, batches, attempts, results and final outcomes.

`Store` (in `_store`) is this plus the connection, the schema, settings, requests and the lease;
the split only keeps each file readable. Every method is one transaction (or a read).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import orjson

from ._jobtypes import (
    DONE,
    INTENT,
    OPEN,
    AttemptResult,
    BatchRow,
    BatchState,
    FinalOutcome,
    InflightRequest,
    OutcomeRow,
    Usage4,
)


def chunks(items: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class BatchTables:
    """Batch, attempt, result and outcome rows (mixed into `Store`, which opens `_db`)."""

    _db: sqlite3.Connection

    # -- transactions ---------------------------------------------------------------------------

    def transaction(self) -> _Transaction:
        """`with store.transaction():` — BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error)."""
        return _Transaction(self._db)

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
        """Record the batch id and put its requests in flight, in one transaction. An adopted batch
        starts unconfirmed: its results must prove it ours before any is recorded."""
        with self.transaction():
            self._db.execute(
                "UPDATE batches SET batch_id=?, state=?, created_at=?, processing_status='in_progress', adopted=?, "
                "confirmed=? WHERE local_id=?",
                (batch_id, OPEN, created_at, int(adopted), int(not adopted), local_id),
            )
            self._db.execute(
                "UPDATE requests SET state='inflight', attempts=attempts+1 "
                "WHERE seq IN (SELECT seq FROM attempts WHERE local_id=?)",
                (local_id,),
            )

    def confirm(self, local_id: int) -> None:
        """An adopted batch's results proved it ours."""
        with self.transaction():
            self._db.execute("UPDATE batches SET confirmed=1 WHERE local_id=?", (local_id,))

    def drop_intent(self, local_id: int) -> None:
        """Forget an intent whose create certainly did not happen; its requests stay pending."""
        with self.transaction():
            self._db.execute("DELETE FROM attempts WHERE local_id=?", (local_id,))
            self._db.execute("DELETE FROM rejected WHERE local_id=?", (local_id,))
            self._db.execute("DELETE FROM batches WHERE local_id=? AND state=?", (local_id, INTENT))

    def batches(self, *states: BatchState) -> list[BatchRow]:
        sql = "SELECT * FROM batches"
        args: tuple[Any, ...] = ()
        if states:
            sql += f" WHERE state IN ({','.join('?' * len(states))})"
            args = states
        return [_batch_row(r) for r in self._db.execute(sql + " ORDER BY local_id", args)]

    def batch(self, local_id: int) -> BatchRow:
        return _batch_row(self._db.execute("SELECT * FROM batches WHERE local_id=?", (local_id,)).fetchone())

    def known_batch_ids(self, local_id: int | None = None) -> set[str]:
        """Batch ids reconciliation must not adopt for intent `local_id`: every batch this job
        knows, those found not to be this job's, and those found not to be this intent's."""
        ids = {str(r[0]) for r in self._db.execute("SELECT batch_id FROM batches WHERE batch_id IS NOT NULL")}
        ids.update(
            str(r[0])
            for r in self._db.execute(
                "SELECT batch_id FROM rejected WHERE local_id IN (0, ?)", (local_id or 0,)
            )
        )
        return ids

    def update_batch(
        self,
        local_id: int,
        *,
        state: BatchState | None = None,
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

    def unadopt(self, local_id: int, batch_id: str, *, everywhere: bool) -> None:
        """An adopted batch is not this intent's: nothing of it was recorded. The batch is
        remembered as rejected (for this intent, or `everywhere` when it is not this job's at all),
        and the intent is an intent again, to be reconciled or created anew."""
        with self.transaction():
            self._db.execute(
                "INSERT OR IGNORE INTO rejected (local_id, batch_id) VALUES (?, ?)",
                (0 if everywhere else local_id, batch_id),
            )
            self._db.execute(
                "UPDATE requests SET state='pending', attempts=attempts-1 "
                "WHERE seq IN (SELECT seq FROM attempts WHERE local_id=?) AND state='inflight'",
                (local_id,),
            )
            self._db.execute("UPDATE attempts SET result=NULL WHERE local_id=?", (local_id,))
            self._db.execute(
                "UPDATE batches SET batch_id=NULL, state=?, created_at=NULL, ended_at=NULL, processing_status=NULL, "
                "request_counts=NULL, adopted=0, confirmed=1 WHERE local_id=?",
                (INTENT, local_id),
            )

    # -- results --------------------------------------------------------------------------------

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
                if res.next_state is DONE:
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

    def _insert_outcome(self, o: FinalOutcome, *, seq: int | None = None) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO outcomes (seq, ok, kind, value, failure, repairs, raw) VALUES (?,?,?,?,?,?,?)",
            (o.seq if seq is None else seq, int(o.ok), o.kind, o.value, o.failure, o.repairs, o.raw),
        )

    def finish_pending(self, outcomes: Iterable[FinalOutcome]) -> int:
        """Record final outcomes for requests never (re)submitted, e.g. after a user cancel."""
        n = 0
        with self.transaction():
            for o in outcomes:
                self._db.execute("UPDATE requests SET state='done' WHERE seq=? AND state='pending'", (o.seq,))
                self._insert_outcome(o)
                n += 1
        return n

    # -- reading outcomes -----------------------------------------------------------------------

    def outcome_rows(self, *, kinds: Sequence[str] | None = None) -> Iterator[OutcomeRow]:
        """Final outcomes with their requests, in insertion order; `kinds` filters by label
        (`"ok"` for successes)."""
        sql = (
            "SELECT r.seq, r.key, r.custom_id, r.mode, r.attempts, r.in_tok, r.out_tok, r.cw_tok, r.cr_tok, "
            "o.ok, o.kind, o.value, o.failure, o.repairs, o.raw FROM requests r JOIN outcomes o ON o.seq=r.seq"
        )
        args: tuple[Any, ...] = ()
        if kinds is not None:
            wanted = [k for k in kinds if k != "ok"]
            clauses = [f"o.kind IN ({','.join('?' * len(wanted))})"] if wanted else []
            if "ok" in kinds:
                clauses.append("o.ok=1")
            sql += " WHERE " + (" OR ".join(clauses) or "0")
            args = tuple(wanted)
        cur = self._db.execute(sql + " ORDER BY r.seq", args)
        while rows := cur.fetchmany(2000):
            for r in rows:
                yield OutcomeRow(
                    seq=int(r[0]),
                    key=str(r[1]),
                    custom_id=str(r[2]),
                    mode=str(r[3]),
                    attempts=int(r[4]),
                    usage=(int(r[5]), int(r[6]), int(r[7]), int(r[8])),
                    ok=bool(r[9]),
                    kind=r[10],
                    value=None if r[11] is None else bytes(r[11]),
                    failure=orjson.loads(r[12]) if r[12] else {},
                    repairs=tuple(orjson.loads(r[13] or "[]")),
                    raw=None if r[14] is None else bytes(r[14]),
                )

    def outcome_counts(self) -> dict[str, int]:
        return {
            ("ok" if k is None else str(k)): int(n)
            for k, n in self._db.execute("SELECT kind, COUNT(*) FROM outcomes GROUP BY kind")
        }

    def token_totals(self) -> Usage4:
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


def _batch_row(r: Sequence[Any]) -> BatchRow:
    return BatchRow(
        local_id=int(r[0]),
        batch_id=r[1],
        state=BatchState(r[2]),
        n_requests=int(r[3]),
        n_bytes=int(r[4]),
        key_suffix=str(r[5]),
        intent_at=float(r[6]),
        created_at=r[7],
        ended_at=r[8],
        processing_status=r[9],
        request_counts=orjson.loads(r[10]) if r[10] else None,
        adopted=bool(r[11]),
        confirmed=bool(r[12]),
        user_canceled=bool(r[13]),
    )


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("ROLLBACK" if exc_type is not None else "COMMIT")
