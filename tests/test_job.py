"""The batch engine end to end against the emulator, with the real SDK: every FailureKind the
engine produces, every mode, attempts, summary counts, tokens, cost, keys, preflight, cancel,
expiry, key-suffix mismatch and store/spec mismatch."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from helpers.jobsupport import (
    FAST_POLL,
    FAST_RETRY,
    Person,
    Seq,
    custom_id_of,
    fast_job,
    key_of,
    rewriting_client,
)

import structbatch as sb
from structbatch import FailureKind, Mode
from structbatch._batching import CUSTOM_ID_PATTERN
from structbatch._cost import batch_cost
from structbatch.emulator import Emulator, Scripted

VALID = {"name": "Ann", "age": 3}

# key -> (script per attempt, expected kind or "ok", expected attempts)
MIXED: dict[str, tuple[list[Scripted | None], str, int]] = {
    "ok": ([None], "ok", 1),
    "badreq": ([Scripted.errored("invalid_request_error")], "api_error", 1),
    "overloaded": ([Scripted.errored("overloaded_error"), None], "ok", 2),
    "expired": ([Scripted.expired(), None], "ok", 2),
    "canceled": ([Scripted.canceled()], "canceled", 3),  # API-canceled: resubmitted up to max_attempts
    "truncated": ([Scripted.truncated()], "truncated", 1),
    "refusal": ([Scripted.refusal()], "refusal", 1),
    "nojson": ([Scripted.text("Nothing to extract here, sorry friend.")], "no_json", 2),  # re-asked once
    "invalid": ([Scripted.invalid(), None], "ok", 2),  # re-asked, then fine
    "wrong": ([Scripted.tool(VALID, name="other_tool")], "wrong_tool", 1),
    "ambiguous": ([Scripted.text('{"name": "A", "age": 1} or {"name": "B", "age": 2}')], "ambiguous", 1),
    "missing": ([None], "missing", 1),  # its result line is dropped on the way to the client
    "malformed": ([None], "malformed_result", 1),  # its result line is replaced by garbage
}


def _rewrite(line: bytes) -> list[bytes]:
    cid = custom_id_of(line)
    if key_of(cid) == "missing":
        return []
    if key_of(cid) == "malformed":
        return [b'{"custom_id": "%s", "result": {"type": "succeeded", "message": 17}}' % str(cid).encode()]
    return [line]


@pytest.mark.parametrize("mode", list(Mode))
def test_mixed_job_every_kind_every_mode(mode: Mode, tmp_path: Path) -> None:
    responder = Seq({k: v[0] for k, v in MIXED.items()})
    with Emulator(responder=responder) as emu:
        client = rewriting_client(emu, _rewrite)
        job = sb.Job(
            Person,
            model="claude-haiku-4-5",
            store=tmp_path / "mixed.db",
            client=client,
            mode=mode,
            poll=FAST_POLL,
            retry=FAST_RETRY,
        )
        for key in MIXED:
            job.add(key, messages=f"Text about {key}.")
        summary = job.run()
        outcomes = list(job.outcomes())

        # exactly one outcome per key, in the order added
        assert [o.key for o in outcomes] == list(MIXED)
        for o in outcomes:
            _script, want, attempts = MIXED[str(o.key)]
            assert ("ok" if o.ok else o.kind) == want, (o.key, o.failure)
            assert o.attempts == attempts, (o.key, o.attempts)
            assert responder.calls.get(str(o.key), 0) == attempts or o.key in ("missing", "malformed")
            if o.ok:
                assert isinstance(o.value, Person)
                assert o.failure is None
            else:
                assert o.failure is not None and o.failure.message
            assert o.mode == job.mode.value
        by_key = {o.key: o for o in outcomes}
        bad = by_key["badreq"].failure
        assert bad is not None and bad.details.get("error_type") == "invalid_request_error"

        # summary counts
        want_counts = Counter(v[1] for v in MIXED.values())
        assert summary.counts == dict(want_counts)
        assert summary.total == len(MIXED)
        assert summary.ok == want_counts["ok"]
        assert summary.pending == summary.inflight == 0

        # tokens: summed over every attempt, per key and in total
        assert by_key["invalid"].usage.input_tokens > by_key["ok"].usage.input_tokens
        total_in = sum(o.usage.input_tokens for o in outcomes)
        total_out = sum(o.usage.output_tokens for o in outcomes)
        assert summary.usage.input_tokens == total_in > 0
        assert summary.usage.output_tokens == total_out > 0
        assert summary.cost == pytest.approx(batch_cost("claude-haiku-4-5", summary.usage))
        # haiku 4.5 lists at $1/$5 per MTok; batches cost half
        assert summary.cost == pytest.approx((total_in * 1.0 + total_out * 5.0) / 1e6 * 0.5)

        # nothing submitted twice except the legitimate resubmissions and re-asks
        submitted = Counter(key_of(cid) for b in emu.created_batches() for cid in b.custom_ids)
        for key, (_s, _w, attempts) in MIXED.items():
            assert submitted[key] == attempts, key
        assert str(summary).startswith(f"{len(MIXED)} keys")


def test_reask_request_shapes(tmp_path: Path) -> None:
    """The re-ask conversation: tool mode answers the tool_use with an is_error tool_result;
    prompt mode adds a user turn; both keep the original turns and the model's answer."""
    for mode in (Mode.TOOL, Mode.PROMPT, Mode.PREFILL):
        responder = Seq({"k": [Scripted.invalid(), None]})
        with Emulator(responder=responder) as emu:
            job = sb.Job(
                Person,
                model="claude-haiku-4-5",
                store=tmp_path / f"{mode.value}.db",
                client=emu.client(),
                mode=mode,
                poll=FAST_POLL,
                retry=FAST_RETRY,
            )
            job.add("k", messages="Ann is 3.")
            job.run()
            (o,) = job.outcomes()
            assert o.ok and o.attempts == 2
            first, second = responder.seen["k"]
            n = len(first["messages"])
            if mode is Mode.PREFILL:
                n -= 1  # the prefill turn is replaced by the glued answer
            assert second["messages"][:n] == first["messages"][:n]
            answer, feedback = second["messages"][n], second["messages"][n + 1]
            assert answer["role"] == "assistant"
            assert feedback["role"] == "user"
            if mode is Mode.TOOL:
                (tool_use,) = [b for b in answer["content"] if b["type"] == "tool_use"]
                (result,) = feedback["content"]
                assert result["type"] == "tool_result"
                assert result["is_error"] is True
                assert result["tool_use_id"] == tool_use["id"]
                assert "could not be used" in result["content"]
            else:
                assert isinstance(feedback["content"], str)
                assert "could not be used" in feedback["content"]
            if mode is Mode.PREFILL:
                assert second["messages"][-1] == {"role": "assistant", "content": "{"}
                assert answer["content"][0]["text"].startswith("{")


def test_max_reasks_zero_and_max_attempts_one(tmp_path: Path) -> None:
    responder = Seq({"inv": [Scripted.invalid(), None], "exp": [Scripted.expired(), None]})
    with Emulator(responder=responder) as emu:
        job = sb.Job(
            Person,
            model="claude-haiku-4-5",
            store=tmp_path / "j.db",
            client=emu.client(),
            max_reasks=0,
            max_attempts=1,
            poll=FAST_POLL,
            retry=FAST_RETRY,
        )
        job.add("inv", messages="x")
        job.add("exp", messages="y")
        job.run()
        kinds = {o.key: (o.kind, o.attempts) for o in job.outcomes()}
        assert kinds == {"inv": (FailureKind.INVALID, 1), "exp": (FailureKind.EXPIRED, 1)}
        assert len(emu.created_batches()) == 1


def test_cost_unknown_price_is_none(tmp_path: Path) -> None:
    with Emulator() as emu:
        job = sb.Job(
            Person,
            model="claude-mythos-5",  # a real model with no entry in the price table
            store=tmp_path / "j.db",
            client=emu.client(),
            poll=FAST_POLL,
            retry=FAST_RETRY,
        )
        job.add_many([("a", "x"), ("b", "y")])
        summary = job.run()
        assert summary.ok == 2
        assert summary.usage.input_tokens > 0
        assert summary.cost is None
        assert "unknown" in str(summary)


# -- keys ----------------------------------------------------------------------------------------

WEIRD_KEYS = [
    "plain",
    "with space",
    "a/b/c",
    "ünïcödé ключ 鍵",
    "x" * 200,
    "y" * 64,
    "y" * 65,
    "-",
    "!!!",
    "dots.and:colons",
    "a/b",
    "a_b",  # sanitises like "a/b": must still get a distinct custom_id
]


def test_any_string_key_gets_a_valid_unique_custom_id(tmp_path: Path) -> None:
    with Emulator() as emu:
        job = fast_job(emu, tmp_path / "j.db")
        ids = job.add_many({"key": k, "messages": f"text {i}"} for i, k in enumerate(WEIRD_KEYS))
        assert len(set(ids)) == len(WEIRD_KEYS)
        assert all(CUSTOM_ID_PATTERN.match(c) for c in ids)
        # valid keys of up to 55 characters are kept as they are, followed by the job's salt
        salt = job.config.salt
        assert ids[0] == f"plain-{salt}"
        assert ids[5].startswith("y" * 38 + "-") and len(ids[5]) == 64  # too long to keep: hashed
        assert all(c.endswith(f"-{salt}") for c in ids)
        summary = job.run()
        assert summary.ok == len(WEIRD_KEYS)
        outs = list(job.outcomes())
        assert [o.key for o in outs] == WEIRD_KEYS
        assert [o.custom_id for o in outs] == ids
        (batch,) = emu.created_batches()
        assert sorted(batch.custom_ids) == sorted(ids)


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    with Emulator() as emu:
        job = sb.Job(Person, model="claude-haiku-4-5", store=tmp_path / "j.db", client=emu.client())
        job.add("a", messages="x")
        with pytest.raises(sb.DuplicateKeyError, match="'a'"):
            job.add("a", messages="x")
        with pytest.raises(sb.DuplicateKeyError, match="'b'"):
            job.add_many([("b", "x"), ("b", "y")])
        # the failed chunk added nothing
        assert job.summary().total == 1
        with pytest.raises(sb.InputError):
            job.add("", messages="x")


def test_readding_identical_keys_on_reopened_store_is_a_noop(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    with Emulator() as emu:
        rows = [(f"k{i}", f"text {i}") for i in range(5)]
        job = sb.Job(Person, model="claude-haiku-4-5", store=path, client=emu.client())
        first = job.add_many(rows)
        job.close()
        again = fast_job(emu, path)
        assert again.add_many(rows) == first
        assert again.summary().total == 5
        with pytest.raises(sb.DuplicateKeyError, match="different params"):
            again.add("k0", messages="another text")
        again.run()
        again.close()
        # after the run, re-adding is still a no-op and submits nothing new
        third = fast_job(emu, path)
        third.add_many(rows)
        third.run()
        assert len(emu.created_batches()) == 1
        assert third.summary().ok == 5
        third.close()


# -- preflight -----------------------------------------------------------------------------------


def test_preflight_rejects_prefill_on_a_model_that_refuses_it(tmp_path: Path) -> None:
    with Emulator() as emu:
        job = sb.Job(
            Person,
            model="claude-opus-4-6",
            store=tmp_path / "j.db",
            client=emu.client(),
            mode=Mode.PROMPT,
            retry=FAST_RETRY,
        )
        job.add("fine", messages="Ann is 3.")
        # a conversation that ends with an assistant turn is a prefill, which opus 4.6 answers 400
        job.add(
            "prefilled",
            messages=[{"role": "user", "content": "Ann is 3."}, {"role": "assistant", "content": "{"}],
        )
        with pytest.raises(sb.PreflightError, match="prefilled") as err:
            job.run()
        assert "prefill" in str(err.value)
        assert emu.created_batches() == []
        assert emu.call_counts()["create"] == 0


def test_preflight_rejects_unknown_model_and_can_be_skipped(tmp_path: Path) -> None:
    with Emulator() as emu:
        job = sb.Job(
            Person,
            model="claude-nonexistent-9",
            store=tmp_path / "a.db",
            client=emu.client(),
            retry=FAST_RETRY,
        )
        job.add("a", messages="x")
        with pytest.raises(sb.PreflightError, match="claude-nonexistent-9"):
            job.submit()
        assert emu.created_batches() == []

        skipped = sb.Job(
            Person,
            model="claude-nonexistent-9",
            store=tmp_path / "b.db",
            client=emu.client(),
            preflight=False,
            poll=FAST_POLL,
            retry=FAST_RETRY,
        )
        skipped.add("a", messages="x")
        summary = skipped.run()
        assert emu.call_counts()["count_tokens"] == 1  # only the first job's preflight
        assert len(emu.created_batches()) == 1
        (o,) = skipped.outcomes()
        assert o.kind is FailureKind.API_ERROR  # the batch validated the params afterwards
        assert summary.counts == {"api_error": 1}


def test_preflight_checks_each_shape_once(tmp_path: Path) -> None:
    with Emulator() as emu:
        job = fast_job(emu, tmp_path / "j.db")
        job.add_many((f"k{i}", f"text {i}") for i in range(20))
        job.add("hot", messages="x", stop_sequences=["END"])  # another shape
        job.run()
        assert emu.call_counts()["count_tokens"] == 2


# -- submit now, fetch later; expiry; cancel ------------------------------------------------------


def test_submit_now_collect_later_in_another_job(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    with Emulator(latency=3600) as emu:
        job = sb.Job(Person, model="claude-haiku-4-5", store=path, client=emu.client(), retry=FAST_RETRY)
        job.add_many((f"k{i}", f"t{i}") for i in range(7))
        (batch_id,) = job.submit()
        assert job.wait(timeout=0.05) is False
        assert job.collect() == 0
        job.close()
        emu.advance(hours=2)
        later = sb.Job.open(path, client=emu.client(), poll=FAST_POLL, retry=FAST_RETRY)
        assert later.wait() is True
        assert later.collect() == 7
        outs = list(later.outcomes())
        assert len(outs) == 7 and all(o.ok for o in outs)
        assert all(isinstance(o.value, dict) for o in outs)  # reopened without a spec: dicts
        assert [b.id for b in emu.created_batches()] == [batch_id]
        typed = sb.Job.open(path, client=emu.client(), spec=Person)
        assert all(isinstance(o.value, Person) for o in typed.outcomes())


def test_expiry_resubmits_then_gives_up(tmp_path: Path) -> None:
    with Emulator(latency=1e9) as emu:  # far beyond the 24 h expiry: nothing finishes in time
        job = fast_job(emu, tmp_path / "j.db", max_attempts=2)
        job.add_many((f"k{i}", f"t{i}") for i in range(4))
        job.submit()
        emu.advance(hours=25)
        assert job.wait() and job.collect() == 4
        assert job.summary().pending == 4  # expired -> pending again
        emu.latency = 0
        job.add("late", messages="also this")
        summary = job.run()
        assert summary.ok == 5
        assert [o.attempts for o in job.outcomes()] == [2, 2, 2, 2, 1]
        assert len(emu.created_batches()) == 2

        # with the latency back above 24 h every attempt expires: final `expired`
        emu.latency = 1e9
        job2 = fast_job(emu, tmp_path / "k.db", max_attempts=2)
        job2.add("x", messages="t")
        for _ in range(2):
            job2.submit()
            emu.advance(hours=25)
            job2.wait()
            job2.collect()
        summary = job2.run()
        (o,) = job2.outcomes()
        assert o.kind is FailureKind.EXPIRED and o.attempts == 2
        assert summary.counts == {"expired": 1}


def test_cancel_keeps_finished_results_and_never_resubmits(tmp_path: Path) -> None:
    with Emulator(latency=100) as emu:
        job = fast_job(emu, tmp_path / "j.db", limits=sb.Limits(max_requests=10))
        job.add_many((f"k{i}", f"t{i}") for i in range(20))
        job.submit()  # two batches of 10
        emu.advance(seconds=50)  # about half of each batch's requests have finished
        job.cancel()
        summary = job.run()  # nothing left to do
        outs = list(job.outcomes())
        assert len(outs) == 20
        kinds = Counter("ok" if o.ok else o.kind for o in outs)
        assert kinds["ok"] > 0 and kinds[FailureKind.CANCELED] > 0
        assert kinds["ok"] + kinds[FailureKind.CANCELED] == 20
        assert all(o.attempts == 1 for o in outs)
        assert len(emu.created_batches()) == 2
        assert emu.duplicate_custom_ids() == {}
        assert summary.counts == {"ok": kinds["ok"], "canceled": kinds[FailureKind.CANCELED]}


def test_cancel_pending_and_already_ended_batches(tmp_path: Path) -> None:
    """Cancel right after submit, when the API has already ended the batch (latency 0): the
    results are kept, and requests never submitted end `canceled`."""
    with Emulator() as emu:
        job = fast_job(emu, tmp_path / "j.db", max_queued_requests=3)
        job.add_many((f"k{i}", f"t{i}") for i in range(5))
        job.submit()  # 3 submitted (queue cap), 2 held back
        job.cancel()
        outs = {o.key: o for o in job.outcomes()}
        assert len(outs) == 5
        assert [outs[f"k{i}"].ok for i in range(3)] == [True] * 3
        for k in ("k3", "k4"):
            assert outs[k].kind is FailureKind.CANCELED and outs[k].attempts == 0
        job.run()
        assert len(emu.created_batches()) == 1


def test_queue_cap_holds_back_batches(tmp_path: Path) -> None:
    with Emulator() as emu:
        job = fast_job(emu, tmp_path / "j.db", max_queued_requests=4)
        job.add_many((f"k{i}", f"t{i}") for i in range(10))
        summary = job.run()
        assert summary.ok == 10
        sizes = [len(b.custom_ids) for b in emu.created_batches()]
        assert sizes == [4, 4, 2]


# -- keys, stores and specs ------------------------------------------------------------------------


def test_key_suffix_mismatch_on_resume(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    with Emulator(latency=3600) as emu:
        job = sb.Job(Person, model="claude-haiku-4-5", store=path, client=emu.client(api_key="sk-one-AAAA"))
        job.add("a", messages="x")
        job.submit()
        job.close()
        other = emu.client(api_key="sk-two-BBBB")
        reopened = sb.Job.open(path, client=other, poll=FAST_POLL, retry=FAST_RETRY)
        for step in (reopened.wait, reopened.collect, reopened.submit, reopened.run):
            with pytest.raises(sb.KeyMismatchError) as err:
                step()
            assert "AAAA" in str(err.value) and "BBBB" in str(err.value)
        reopened.close()
        emu.advance(hours=2)
        allowed = sb.Job.open(path, client=other, allow_key_change=True, poll=FAST_POLL, retry=FAST_RETRY)
        assert allowed.run().ok == 1
        allowed.close()
        # the key's last four characters are all the store keeps
        assert b"sk-one" not in path.read_bytes() and b"sk-two" not in path.read_bytes()


def test_store_with_a_different_spec_or_model_is_refused_after_submission(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    schema = {"type": "object", "properties": {"x": {"type": "string"}}, "required": ["x"]}
    with Emulator(latency=3600) as emu:
        job = sb.Job(Person, model="claude-haiku-4-5", store=path, client=emu.client(), retry=FAST_RETRY)
        job.add("a", messages="x")
        job.submit()
        job.close()
        with pytest.raises(sb.StoreError, match="different spec") as err:
            sb.Job(schema, model="claude-haiku-4-5", store=path, client=emu.client())
        assert err.value.setting == "spec"  # type: ignore[attr-defined]
        with pytest.raises(sb.StoreError, match="model") as err:
            sb.Job(Person, model="claude-opus-4-8", store=path, client=emu.client())
        assert err.value.setting == "model"  # type: ignore[attr-defined]
        assert "claude-haiku-4-5" in str(err.value) and "new store" in str(err.value)
        with pytest.raises(sb.StoreError, match="different spec"):
            sb.Job.open(path, client=emu.client(), spec=schema)
        with pytest.raises(sb.StoreError, match="max_tokens"):
            sb.Job.open(path, client=emu.client(), max_tokens=99)
        with pytest.raises(sb.StoreError, match="no such"):
            sb.Job.open(tmp_path / "nope.db", client=emu.client())
        # policy settings may change at any time, and are stored
        sb.Job.open(path, client=emu.client(), max_attempts=7).close()
        assert sb.Job.open(path, client=emu.client()).config.max_attempts == 7


def test_open_roundtrips_settings(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    with Emulator() as emu:
        job = sb.Job(
            Person,
            model="claude-haiku-4-5",
            store=path,
            client=emu.client(),
            mode=Mode.PROMPT,
            max_tokens=321,
            system="Be precise.",
            max_attempts=5,
            max_reasks=0,
            stop_sequences=["END"],
        )
        job.add("a", messages="x")
        params = orjson.loads(job.store.params_of(1))
        job.close()
        again = sb.Job.open(path, client=emu.client(), poll=FAST_POLL, retry=FAST_RETRY)
        assert again.mode is Mode.PROMPT
        assert again.config.max_tokens == 321
        assert again.config.max_attempts == 5
        assert again.config.max_reasks == 0
        assert again.config.params == {"stop_sequences": ["END"]}
        again.add("a", messages="x")  # identical params: no-op
        assert orjson.loads(again.store.params_of(1)) == params
        assert params["stop_sequences"] == ["END"] and params["max_tokens"] == 321
        assert again.run().ok == 1


def test_progress_callback(tmp_path: Path) -> None:
    seen: list[Any] = []
    with Emulator() as emu:
        job = fast_job(emu, tmp_path / "j.db", on_progress=seen.append)
        job.add_many((f"k{i}", "t") for i in range(3))
        job.run()
    assert seen[-1].phase == "done" and seen[-1].ok == 3 and seen[-1].total == 3
    assert {p.phase for p in seen} >= {"submit", "wait", "collect", "done"}


def test_open_restores_limits_queue_cap_and_preflight(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    job = sb.Job(
        Person,
        model="claude-haiku-4-5",
        store=path,
        limits=sb.Limits(max_requests=7, max_bytes=10_000),
        max_queued_requests=50,
        preflight=False,
    )
    job.close()
    again = sb.Job.open(path)
    assert (again.limits.max_requests, again.limits.max_bytes) == (7, 10_000)
    assert again.max_queued_requests == 50
    assert again.preflight_enabled is False
    again.close()
    override = sb.Job.open(path, preflight=True)
    assert override.preflight_enabled is True
    override.close()


def test_integers_beyond_64_bits_in_a_tool_answer_stay_exact(tmp_path: Path) -> None:
    """A tool answer the fast path leaves to the general one (here: text before the tool call)
    keeps an integer beyond 64 bits exact; read with orjson alone it became a float and then a
    'coerced' integer of another value."""
    big = 123456789012345678901234
    message = {
        "content": [
            {"type": "text", "text": "Here is the person."},
            {"type": "tool_use", "id": "toolu_1", "name": "Person", "input": {"name": "Ann", "age": 777777}},
        ],
        "stop_reason": "tool_use",
    }
    with Emulator(responder=Seq({"k": [Scripted.message(message)]})) as emu:
        # the emulator writes JSON with orjson, which refuses such integers: put it in on the way
        client = rewriting_client(emu, lambda line: [line.replace(b"777777", str(big).encode())])
        job = sb.Job(
            Person,
            model="claude-haiku-4-5",
            store=tmp_path / "big.db",
            client=client,
            mode=Mode.TOOL,
            poll=FAST_POLL,
            retry=FAST_RETRY,
        )
        job.add("k", messages="Ann is very old.")
        job.run()
        (outcome,) = job.outcomes()
        job.close()
    assert outcome.ok, outcome.failure
    assert outcome.value is not None and outcome.value.age == big
    assert outcome.repairs == ()
