"""`Job.retry`: failed (and canceled) keys sent again with changed params, through the real SDK
and the emulator — fresh custom_ids, exactly one extra request per retried key, attempts and
tokens accumulated across tries, earlier failures kept, re-adding after a retry, refusals."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from helpers.jobsupport import Person, fast_job

import structbatch as sb
from structbatch import FailureKind
from structbatch._batching import without_job_salt
from structbatch.emulator import Emulator, SchemaResponder, Scripted
from structbatch.emulator._responders import apply_script

KEYS = [f"k{i}" for i in range(8)]
SHORT = {"k1", "k4", "k6"}  # truncated unless max_tokens >= 4096


def base_key(custom_id: str | None) -> str:
    """The user key of a custom_id: the job salt and a retry's `-r<n>` removed."""
    return re.sub(r"-r\d+$", "", without_job_salt(custom_id or ""))


class ByParams:
    """Truncates the `SHORT` keys while max_tokens < 4096, answers `invalid` for keys in
    `invalid` (always), and records every request's params per user key."""

    def __init__(self, short: set[str], invalid: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.short = short
        self.invalid = invalid
        self.fallback = SchemaResponder()
        self.seen: dict[str, list[Mapping[str, Any]]] = {}
        self._lock = threading.Lock()

    def respond(self, params: Mapping[str, Any], *, custom_id: str | None) -> Any:
        key = base_key(custom_id)
        with self._lock:
            self.seen.setdefault(key, []).append(params)
        if key in self.short and int(params["max_tokens"]) < 4096:
            return apply_script(Scripted.truncated(), params, key, self.fallback)
        if key in self.invalid:
            return apply_script(Scripted.invalid(), params, key, self.fallback)
        return self.fallback.respond(params, custom_id=key)


def sent_custom_ids(emu: Emulator) -> list[str]:
    return [cid for b in emu.created_batches() for cid in b.custom_ids]


def test_truncated_keys_retried_with_more_max_tokens(tmp_path: Path) -> None:
    responder = ByParams(SHORT)
    with Emulator(responder=responder) as emu:
        job = fast_job(emu, tmp_path / "r.db")
        for k in KEYS:
            job.add(k, messages=f"About {k}.")
        first = job.run()
        assert first.counts == {"ok": 5, "truncated": 3}
        before = {o.key: o for o in job.outcomes()}
        sent_before = sent_custom_ids(emu)
        assert len(sent_before) == len(KEYS)

        # DuplicateKeyError names the param, and points at retry
        with pytest.raises(
            sb.DuplicateKeyError, match=r"'max_tokens' differs: stored 1024, now 4096.*job\.retry"
        ):
            job2 = fast_job(emu, tmp_path / "r.db")
            job2.add("k1", messages="About k1.", max_tokens=4096)

        queued = job.retry(kinds=["truncated"], max_tokens=4096)
        assert list(queued.keys) == ["k1", "k4", "k6"] and queued.counts == {"truncated": 3}
        assert job.summary().pending == 3
        after = job.run()
        assert after.counts == {"ok": 8}

        # exactly one extra request per retried key, each under a fresh custom_id
        sent = sent_custom_ids(emu)
        extra = sent[len(sent_before) :]
        assert sorted(base_key(c) for c in extra) == ["k1", "k4", "k6"]
        assert not set(extra) & set(sent_before) and not emu.duplicate_custom_ids()
        assert [int(p["max_tokens"]) for p in responder.seen["k1"]] == [1024, 4096]
        assert responder.seen["k1"][0]["messages"] == responder.seen["k1"][1]["messages"]

        outcomes = {o.key: o for o in job.outcomes()}
        for key in SHORT:
            o = outcomes[key]
            assert o.ok and isinstance(o.value, Person)
            assert o.attempts == 2  # one send per try
            assert o.custom_id != before[key].custom_id and o.custom_id is not None
            assert o.custom_id.startswith(f"{key}-r2-")
            (earlier,) = job.history(key)
            assert earlier.number == 1 and earlier.custom_id == before[key].custom_id
            assert earlier.failure is not None and earlier.failure.kind is FailureKind.TRUNCATED
            assert earlier.changes == {"max_tokens": 4096} and earlier.params["max_tokens"] == 1024
            assert earlier.usage == before[key].usage  # that try's tokens alone
            assert o.usage.output_tokens > earlier.usage.output_tokens  # both tries summed
            assert o.usage.input_tokens == 2 * earlier.usage.input_tokens
        for key in set(KEYS) - SHORT:
            assert outcomes[key] == before[key] and job.history(key) == []
        # tokens and cost accumulate over tries
        assert after.usage.input_tokens > first.usage.input_tokens
        assert after.cost is not None and first.cost is not None and after.cost > first.cost
        assert after.usage.output_tokens == sum(o.usage.output_tokens for o in outcomes.values())

        # nothing left to retry: a second retry of the kind queues nothing
        assert len(job.retry(kinds=["truncated"], max_tokens=8192)) == 0
        job.close()


def test_still_failing_retry_keeps_earlier_failures_in_details(tmp_path: Path) -> None:
    with Emulator(responder=ByParams({"k1"})) as emu:
        job = fast_job(emu, tmp_path / "r.db")
        job.add_many([(k, f"About {k}.") for k in ("k0", "k1")])
        job.run()
        job.retry(keys=["k1"], max_tokens=2000)  # still below 4096: truncated again
        job.run()
        (o,) = list(job.outcomes(failed=True))
        assert o.key == "k1" and o.kind is FailureKind.TRUNCATED and o.attempts == 2
        assert o.failure is not None
        (earlier,) = o.failure.details["earlier_tries"]
        assert earlier["kind"] == "truncated" and earlier["try"] == 1
        job.retry(keys=["k1"], max_tokens=4096)
        job.run()
        assert [t.number for t in job.history("k1")] == [1, 2]
        assert [t.changes for t in job.history("k1")] == [{"max_tokens": 2000}, {"max_tokens": 4096}]
        final = next(job.outcomes(kinds=["ok"]))
        assert final.key == "k0"
        assert {o.key: o.attempts for o in job.outcomes()} == {"k0": 1, "k1": 3}
        assert len(sent_custom_ids(emu)) == 4 and not emu.duplicate_custom_ids()
        job.close()


def test_canceled_keys_can_be_retried(tmp_path: Path) -> None:
    with Emulator(latency=3600) as emu:
        job = fast_job(emu, tmp_path / "c.db")
        job.add_many([(k, f"About {k}.") for k in KEYS[:4]])
        job.submit()
        job.cancel(wait=True)
        assert job.summary().counts == {"canceled": 4}
        emu.latency = 0
        queued = job.retry(kinds=[FailureKind.CANCELED])
        assert len(queued) == 4 and queued.changes == {}
        summary = job.run()
        assert summary.counts == {"ok": 4}
        sent = sent_custom_ids(emu)
        assert len(sent) == 8 and not emu.duplicate_custom_ids()
        for o in job.outcomes():
            (earlier,) = job.history(o.key or "")
            assert earlier.failure is not None and earlier.failure.kind is FailureKind.CANCELED
            assert o.attempts == 2
        job.close()


def test_keys_canceled_before_any_submit_can_be_retried(tmp_path: Path) -> None:
    with Emulator() as emu:
        job = fast_job(emu, tmp_path / "c.db")
        job.add_many([(k, f"About {k}.") for k in KEYS[:3]])
        job.cancel()
        assert job.summary().counts == {"canceled": 3} and not emu.created_batches()
        job.retry(keys=["k0", "k2"], kinds=["canceled"])
        assert job.run().counts == {"ok": 2, "canceled": 1}
        assert {o.key: o.attempts for o in job.outcomes()} == {"k0": 1, "k1": 0, "k2": 1}
        assert job.history("k0")[0].attempts == 0
        job.close()


def test_rerunning_the_script_after_a_retry_is_a_no_op(tmp_path: Path) -> None:
    with Emulator(responder=ByParams(SHORT)) as emu:
        with fast_job(emu, tmp_path / "r.db") as job:
            job.add_many([(k, f"About {k}.") for k in KEYS])
            job.run()
            job.retry(kinds=["truncated"], max_tokens=4096)
            job.run()
        n_sent = len(sent_custom_ids(emu))
        with fast_job(emu, tmp_path / "r.db") as again:  # the same script, run again
            ids = again.add_many([(k, f"About {k}.") for k in KEYS])
            assert again.run().counts == {"ok": 8}
            assert ids == [o.custom_id for o in again.outcomes()]
            with pytest.raises(sb.DuplicateKeyError, match="'max_tokens' differs"):
                again.add("k1", messages="About k1.", max_tokens=3000)
        assert len(sent_custom_ids(emu)) == n_sent


def test_retry_after_reasks_sends_the_original_turns(tmp_path: Path) -> None:
    responder = ByParams(set(), invalid={"bad"})
    with Emulator(responder=responder) as emu:
        job = fast_job(emu, tmp_path / "r.db")
        job.add("bad", messages="About bad.")
        job.run()
        (o,) = list(job.outcomes())
        assert o.kind is FailureKind.INVALID and o.attempts == 2  # sent, then re-asked once
        first_turns = responder.seen["bad"][0]["messages"]
        assert len(responder.seen["bad"][1]["messages"]) == len(first_turns) + 2
        responder.invalid = set()
        job.retry(kinds=["invalid"], stop_sequences=["END"])
        assert job.run().counts == {"ok": 1}
        retried = responder.seen["bad"][2]
        assert retried["messages"] == first_turns and retried["stop_sequences"] == ["END"]
        assert next(job.outcomes()).attempts == 3
        # re-adding the key with its original params is still a no-op
        job2 = fast_job(emu, tmp_path / "r.db")
        job2.add("bad", messages="About bad.")
        job2.close()
        job.close()


def test_retry_refusals(tmp_path: Path) -> None:
    with Emulator(responder=ByParams({"k1"})) as emu:
        job = fast_job(emu, tmp_path / "r.db")
        job.add_many([(k, f"About {k}.") for k in ("k0", "k1")])
        with pytest.raises(sb.InputError, match="not finished yet"):
            job.retry(keys=["k1"])
        job.run()
        with pytest.raises(sb.InputError, match=r"kinds=\[...\].* or keys="):
            job.retry(max_tokens=4096)
        with pytest.raises(sb.InputError, match="unknown kind 'truncate'"):
            job.retry(kinds=["truncate"])
        with pytest.raises(sb.InputError, match="to send ok keys again, list them in keys="):
            job.retry(kinds=["ok"])
        with pytest.raises(sb.InputError, match=r"key 'k0' is ok.*include_ok=True"):
            job.retry(keys=["k0"])
        with pytest.raises(sb.InputError, match="key 'nope' is not in"):
            job.retry(keys=["nope"])
        with pytest.raises(sb.InputError, match="cannot change 'model'"):
            job.retry(kinds=["truncated"], model="claude-opus-4-5")
        with pytest.raises(sb.InputError, match="cannot change 'system'"):
            job.retry(kinds=["truncated"], system="be brief")
        with pytest.raises(sb.InputError, match="'max_token' is not a Messages API request parameter"):
            job.retry(kinds=["truncated"], max_token=4096)
        with pytest.raises(sb.ModeError, match="key 'k1'"):  # a forced tool refuses thinking
            job.retry(kinds=["truncated"], thinking={"type": "enabled", "budget_tokens": 2048})
        assert job.summary().counts == {"ok": 1, "truncated": 1}  # every refusal changed nothing
        assert job.history("k1") == []

        # an ok key is sent again only when asked to, and its old value stays in its history
        queued = job.retry(keys=["k0"], include_ok=True, metadata={"user_id": "u1"})
        assert queued.counts == {"ok": 1}
        job.run()
        (earlier,) = job.history("k0")
        assert earlier.ok and earlier.failure is None and earlier.outcome_kind == "ok"
        assert len(sent_custom_ids(emu)) == 3
        job.close()


def test_cli_retry_sends_truncated_keys_again_with_more_max_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from structbatch.cli import main

    rows = "".join(json.dumps({"id": f"k{i}", "text": f"person {i}"}) + "\n" for i in range(8))
    (tmp_path / "in.jsonl").write_text(rows, encoding="utf-8")
    schema = tmp_path / "person.json"
    schema.write_text(json.dumps(Person.model_json_schema()), encoding="utf-8")
    job = tmp_path / "job.toml"
    job.write_text(
        f'schema = "{schema}"\nmodel = "claude-haiku-4-5"\nprompt = "Extract: $text"\n'
        '[input]\npath = "in.jsonl"\nkey = "id"\n',
        encoding="utf-8",
    )
    responder = ByParams(SHORT)
    with Emulator(responder=responder, latency=0) as emu:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", emu.base_url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-emu-cli-retry-ABCD")
        assert main(["run", str(job), "--poll", "0.05"]) == 1  # three keys truncated
        assert main(["retry", str(job), "--poll", "0.05"]) == 2  # nothing chosen: a usage error
        assert main(["retry", str(job), "--kind", "truncated", "--max-tokens", "4096", "--poll", "0.05"]) == 0
        capsys.readouterr()
        assert main(["results", str(job), "--json"]) == 0
        doc = json.loads(capsys.readouterr().out)
        sent = sent_custom_ids(emu)
    assert {r["key"]: r["ok"] for r in doc["outcomes"]} == {f"k{i}": True for i in range(8)}
    assert len(sent) == 8 + len(SHORT) and len(set(sent)) == len(sent)  # one extra send per retried key
    assert [int(p["max_tokens"]) for p in responder.seen["k1"]] == [1024, 4096]
