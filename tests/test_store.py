"""The SQLite store: versioning, refusals, idempotent recording, bulk paths, and a 100k smoke run."""

from __future__ import annotations

import os
import resource
import sqlite3
import time
from pathlib import Path

import pytest
from helpers.jobsupport import fast_job

import structbatch as sb
from structbatch._jobtypes import (
    DONE,
    PENDING,
    AttemptResult,
    BatchState,
    FinalOutcome,
    NewRequest,
    RequestState,
)
from structbatch._store import SCHEMA_VERSION, Store
from structbatch.emulator import Emulator


def _req(i: int) -> NewRequest:
    return NewRequest(f"key{i}", f"cid{i}", "tool", b'[{"p":%d}]' % i, b'{"model":"m"}', 20)


def test_new_store_is_wal_and_versioned(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    assert store.meta("schema_version") == str(SCHEMA_VERSION)
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()


def test_newer_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value=? WHERE name='schema_version'", (str(SCHEMA_VERSION + 1),))
    db.commit()
    db.close()
    with pytest.raises(sb.StoreError, match="newer"):
        Store(path)
    with pytest.raises(sb.StoreError, match="newer"):
        sb.Job.open(path)


def test_not_a_store_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(sb.StoreError):
        Store(junk)
    other = tmp_path / "other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    with pytest.raises(sb.StoreError, match="not a structbatch"):
        Store(other)
    with pytest.raises(sb.StoreError, match="no such"):
        Store(tmp_path / "missing.db", create=False)


def test_record_results_is_idempotent_per_batch_and_request(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    store.add_requests([_req(i) for i in range(3)], session=1)
    local = store.record_intent([1, 2, 3], 100, "abcd")
    store.mark_created(local, "msgbatch_1", "2026-01-01T00:00:00Z")
    assert store.count_requests() == {"inflight": 3}
    ok = FinalOutcome(1, True, None, b"{}", None, "[]", None)
    results = [
        AttemptResult(1, "succeeded", (10, 5, 0, 0), DONE, outcome=ok),
        AttemptResult(2, "errored:api_error", (0, 0, 0, 0), PENDING),
        AttemptResult(
            3, "succeeded", (7, 1, 2, 3), PENDING, new_messages=b'[{"re":1}]', new_size=9, reask=True
        ),
    ]
    store.record_results(local, results, [("stray", b"line")])
    store.record_results(local, results, [("stray", b"line")])  # the same download read again
    assert store.count_requests() == {"done": 1, "pending": 2}
    assert store.token_totals() == (17, 6, 2, 3)
    assert len(store.stray_rows()) == 1
    assert store.params_of(3) == b'{"messages":[{"re":1}],"model":"m"}'
    assert store.inflight_of(local)["cid2"].reasks == 1
    assert store.attempt_count() == 3
    store.close()


def test_drop_intent_and_unadopt(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    store.add_requests([_req(i) for i in range(2)], session=1)
    a = store.record_intent([1, 2], 50, "abcd")
    store.drop_intent(a)
    assert store.batches() == [] and store.count_requests() == {RequestState.PENDING: 2}
    b = store.record_intent([1, 2], 50, "abcd")
    store.mark_created(b, "msgbatch_x", "2026-01-01T00:00:00Z", adopted=True)
    (row,) = store.batches()
    assert row.adopted and not row.confirmed and row.state is BatchState.OPEN
    # not this job's: the intent is an intent again, and the batch is never adopted again
    store.unadopt(b, "msgbatch_x", everywhere=True)
    (row,) = store.batches()
    assert row.state is BatchState.INTENT and row.batch_id is None
    assert store.count_requests() == {RequestState.PENDING: 2}
    assert store.intent_seqs(b) == [1, 2]
    assert "msgbatch_x" in store.known_batch_ids(b) and "msgbatch_x" in store.known_batch_ids(99)
    # another intent's batch of this job: rejected for this intent only
    store.mark_created(b, "msgbatch_y", "2026-01-01T00:00:00Z", adopted=True)
    store.unadopt(b, "msgbatch_y", everywhere=False)
    assert "msgbatch_y" in store.known_batch_ids(b) and "msgbatch_y" not in store.known_batch_ids(99)
    store.close()


def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    with pytest.raises(sqlite3.IntegrityError):
        store.add_requests([_req(1), _req(1)], session=1)  # the duplicate aborts the whole chunk
    assert store.count_requests() == {}
    store.close()


def test_100k_keys_smoke(tmp_path: Path) -> None:
    """100,000 tiny requests through one batch. Not timed (runs in `make test`, about 60 s; skip
    it with `-k "not 100k"`); the numbers are printed with `-s`."""
    n = 100_000
    path = tmp_path / "big.db"
    with Emulator() as emu:
        t0 = time.perf_counter()
        job = fast_job(emu, path)
        job.add_many((f"k{i}", f"Ann {i}") for i in range(n))
        t1 = time.perf_counter()
        summary = job.run()
        t2 = time.perf_counter()
        assert summary.ok == n and summary.total == n
        (batch,) = emu.created_batches()
        assert len(batch.custom_ids) == n
        assert emu.duplicate_custom_ids() == {}
        count = sum(1 for _ in job.outcomes())
        assert count == n
        request_bytes = job.store._db.execute("SELECT SUM(size) FROM requests").fetchone()[0]
        job.close()
    size = sum(p.stat().st_size for p in tmp_path.iterdir() if p.name.startswith("big.db"))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\n100k smoke: add {t1 - t0:.1f}s, run {t2 - t1:.1f}s; store {size / 1e6:.1f} MB for "
        f"{request_bytes / 1e6:.1f} MB of requests ({size / request_bytes:.2f}x); peak RSS {rss:.0f} MB "
        f"(test process, emulator included); pid {os.getpid()}"
    )
