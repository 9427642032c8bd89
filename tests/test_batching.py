"""custom_ids, byte-exact entries and sharding, alone and through a job against the emulator."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from helpers.jobsupport import fast_job
from hypothesis import given
from hypothesis import strategies as st

import structbatch as sb
from structbatch import FailureKind
from structbatch import _batching as b
from structbatch.emulator import Emulator


@given(st.text(min_size=1, max_size=300))
def test_custom_id_always_valid(key: str) -> None:
    cid = b.custom_id_for(key)
    assert b.CUSTOM_ID_PATTERN.match(cid)
    assert (cid == key) == bool(b.CUSTOM_ID_PATTERN.match(key))
    assert b.custom_id_for(key, salt=1) != cid and b.CUSTOM_ID_PATTERN.match(b.custom_id_for(key, salt=1))


def test_custom_ids_distinct_for_similar_keys() -> None:
    keys = ["a/b", "a b", "a_b", "a\tb", "A/B", "x" * 200, "x" * 201, "ключ", "鍵", "-", "_"]
    ids = [b.custom_id_for(k) for k in keys]
    assert len(set(ids)) == len(keys)


@given(
    st.text(max_size=50),
    st.dictionaries(st.text(max_size=5), st.integers(-(2**63), 2**63 - 1) | st.text(max_size=8)),
)
def test_entry_size_is_byte_exact(cid: str, params: dict[str, object]) -> None:
    body = b.encode_params(params)
    entry = b.entry_bytes(cid, body)
    assert len(entry) == b.entry_size(cid, body)
    assert json.loads(entry) == {"custom_id": cid, "params": params}


@given(
    st.lists(st.integers(min_value=1, max_value=500), max_size=60), st.integers(1, 7), st.integers(64, 2000)
)
def test_shard_respects_both_caps(sizes: list[int], max_requests: int, max_bytes: int) -> None:
    limits = b.Limits(max_requests=max_requests, max_bytes=max_bytes)
    items = [(i, n) for i, n in enumerate(sizes) if limits.fits_alone(n)]
    groups = list(b.shard(items, limits))
    assert [i for g in groups for i in g] == [i for i, _ in items]  # order kept, nothing lost
    size_of = dict(items)
    for g in groups:
        assert 1 <= len(g) <= max_requests
        assert b.body_overhead(len(g)) + sum(size_of[i] for i in g) <= max_bytes
        entries = [b"x" * size_of[i] for i in g]
        assert len(b.build_body(entries)) == b.body_overhead(len(g)) + sum(size_of[i] for i in g)


def test_limits_validation() -> None:
    with pytest.raises(ValueError):
        b.Limits(max_requests=0)
    with pytest.raises(ValueError):
        b.Limits(max_requests=100_001)
    with pytest.raises(ValueError):
        b.Limits(max_bytes=256 * 1024 * 1024 + 1)


def _capture_bodies(emu: Emulator) -> list[bytes]:
    """The raw create bodies the emulator received, via a recording wrapper on its handler."""
    from structbatch.emulator import _server

    bodies: list[bytes] = []
    real = _server._Handler._read_body

    def recording(self: object, endpoint: str, limits: object) -> bytes:
        raw: bytes = real(self, endpoint, limits)  # type: ignore[arg-type]
        if endpoint == "create":
            bodies.append(raw)
        return raw

    _server._Handler._read_body = recording  # type: ignore[method-assign,assignment]
    return bodies


def test_sharding_by_count_and_bytes_through_the_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from structbatch.emulator import _server

    monkeypatch.setattr(_server._Handler, "_read_body", _server._Handler._read_body)
    bodies = _capture_bodies(None)  # type: ignore[arg-type]
    with Emulator() as emu:
        job = fast_job(emu, tmp_path / "j.db", limits=sb.Limits(max_requests=7, max_bytes=6000))
        texts = ["x"] * 14 + ["word " * (200 + i) for i in range(16)]  # 7 small fit; ~3 big do
        job.add_many((f"k{i}", t) for i, t in enumerate(texts))
        # one request too large for any batch: a failure for that key, never submitted
        job.add("huge", messages="y" * 8000)
        summary = job.run()
        assert summary.ok == 30 and summary.counts.get("api_error") == 1
        outs = {o.key: o for o in job.outcomes()}
        huge = outs["huge"]
        assert huge.kind is FailureKind.API_ERROR and huge.attempts == 0
        assert huge.failure is not None and huge.failure.details["error_type"] == "request_too_large"
        assert "never submitted" in huge.failure.message
        created = emu.created_batches()
        assert all("huge" not in c.custom_ids for c in created)
        assert len(created) == len(bodies) >= 30 // 7 + 1
        rows = job.store.batches()
        for batch, body, row in zip(created, bodies, rows, strict=True):
            assert len(batch.custom_ids) <= 7
            assert len(body) <= 6000
            assert len(body) == row.n_bytes  # the size we measured is the size that was sent
            sent = orjson.loads(body)["requests"]
            assert [r["custom_id"] for r in sent] == list(batch.custom_ids)
            # byte-exact: each entry is the stored params, unchanged
            for r in sent:
                (seq,) = [
                    o for o in range(1, 32) if r["custom_id"] == f"{job.store.key_of(o)}-{job.config.salt}"
                ]
                assert orjson.dumps(r["params"]) == job.store.params_of(seq)
        assert sum(len(c.custom_ids) for c in created) == 30
        by_count = [len(c.custom_ids) for c in created]
        assert by_count[:2] == [7, 7]  # the count cap
        assert all(n < 7 for n in by_count[2:])  # the byte cap
