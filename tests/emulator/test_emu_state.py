"""State across restarts (`--state`), ids that never repeat, `--emulator-*` options of run/resume,
per-attempt failure draws, and the in-process transport."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import anthropic
import httpx2
import pytest
from emulator_helpers import params, request

from structbatch.emulator import (
    Emulator,
    ErrorReply,
    Rates,
    RatesResponder,
    SchemaResponder,
    add_emulator_options,
)
from structbatch.emulator._options import embedded_emulator, state_path

ROOT = Path(__file__).resolve().parents[2]


def test_batches_and_results_survive_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "emu.state"
    with Emulator(latency=0, state=state) as first:
        client = first.client()
        done = client.messages.batches.create(requests=[request("a"), request("b")])  # type: ignore[list-item]
        before = {r.custom_id: r.result.to_dict() for r in client.messages.batches.results(done.id)}
        first.latency = 3600
        open_ = client.messages.batches.create(requests=[request("c")])  # type: ignore[list-item]
    with Emulator(state=state) as second:
        client = second.client()
        after = {r.custom_id: r.result.to_dict() for r in client.messages.batches.results(done.id)}
        assert after == before  # the same bytes, not answered again
        assert client.messages.batches.retrieve(open_.id).processing_status == "in_progress"
        second.advance(hours=1)
        assert client.messages.batches.retrieve(open_.id).processing_status == "ended"
        new = client.messages.batches.create(requests=[request("a")])  # type: ignore[list-item]
        assert new.id not in {done.id, open_.id}
        listed = [b.id for b in client.messages.batches.list()]
        assert listed == [new.id, open_.id, done.id]
        client.messages.batches.delete(done.id)
    with Emulator(state=state) as third:
        with pytest.raises(anthropic.NotFoundError):
            third.client(max_retries=0).messages.batches.retrieve(done.id)
        assert [b.id for b in third.created_batches()] == [done.id, open_.id, new.id]


def test_a_bad_state_file_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "not-a-state"
    state.write_text('{"something": "else"}')
    with pytest.raises(ValueError, match="not a structbatch emulator state file"):
        Emulator(state=state)


def test_ids_never_repeat_across_restarts_with_the_same_seed(tmp_path: Path) -> None:
    """A job store keeps batch ids UNIQUE: an emulator restart must not hand the same id out again."""
    db = sqlite3.connect(tmp_path / "jobs.db")
    db.execute("CREATE TABLE batches (batch_id TEXT PRIMARY KEY)")
    for _ in range(3):
        with Emulator(seed=0) as emu:
            client = emu.client()
            for _ in range(3):
                batch = client.messages.batches.create(requests=[request("a")])  # type: ignore[list-item]
                db.execute("INSERT INTO batches VALUES (?)", (batch.id,))  # IntegrityError on a repeat
            message = client.messages.create(**params())
            assert message.id.startswith("msg_01")
    assert db.execute("SELECT count(*) FROM batches").fetchone() == (9,)


def test_rates_are_drawn_per_attempt_so_resubmission_recovers() -> None:
    responder = RatesResponder(SchemaResponder(), Rates(errored=0.5, seed=3))
    attempts: dict[str, int] = {}
    for key in (f"k{i}" for i in range(40)):
        n = 1
        while isinstance(responder.respond(params(), custom_id=key), ErrorReply):
            n += 1
            assert n < 30
        attempts[key] = n
    assert 1 in attempts.values() and max(attempts.values()) > 1  # some failed first, then recovered
    again = RatesResponder(SchemaResponder(), Rates(errored=0.5, seed=3))
    first_try = {k: not isinstance(again.respond(params(), custom_id=k), ErrorReply) for k in attempts}
    assert first_try == {k: n == 1 for k, n in attempts.items()}  # the same draws for the same seed


def test_retries_of_a_rated_message_recover() -> None:
    with Emulator(rates="errored=0.6:overloaded_error", seed=1) as emu:
        client = emu.client(max_retries=0)  # retried here, without the SDK's back-off sleeps
        for i in range(10):
            for _ in range(30):
                try:
                    assert client.messages.create(**params(f"Question {i}")).stop_reason == "end_turn"
                    break
                except anthropic.OverloadedError:
                    continue
            else:
                pytest.fail("a retried request never recovered")
        assert emu.call_counts()["messages"] > 10  # some answers needed retries


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_emulator_options(parser)
    parser.add_argument("job", nargs="?")
    return parser.parse_args(list(argv))


def test_emulator_options_configure_the_embedded_emulator(tmp_path: Path) -> None:
    args = _parse(
        "--emulator",
        "--emulator-latency",
        "0",
        "--emulator-faults",
        "create:429x1~0",
        "--emulator-rates",
        "errored=1",
        "--emulator-seed",
        "4",
        str(tmp_path / "job.toml"),
    )
    assert state_path(args) == tmp_path / "job.emulator"
    with embedded_emulator(args) as emu:
        assert (
            emu.config.latency == 0
            and emu.config.seed == 4
            and emu.faults.rules[0].spec() == "create:429x1~0"
        )
        client = emu.client(max_retries=1)
        batch = client.messages.batches.create(requests=[request("a")])  # type: ignore[list-item]
        (result,) = client.messages.batches.results(batch.id)
        assert result.result.type == "errored"
    assert (tmp_path / "job.emulator").exists() and (tmp_path / "job.emulator.d").is_dir()
    assert state_path(_parse("--emulator-state", "x.state")) == Path("x.state")


def test_emulator_command_with_state_keeps_batches_across_restarts(tmp_path: Path) -> None:
    state = tmp_path / "served.state"

    def serve() -> tuple[subprocess.Popen[str], str]:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "structbatch.emulator",
                "--port",
                "0",
                "--latency",
                "0",
                "--state",
                str(state),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        return proc, proc.stdout.readline().strip().partition("=")[2]

    proc, url = serve()
    try:
        client = anthropic.Anthropic(api_key="k", base_url=url)
        batch = client.messages.batches.create(requests=[request("a")])  # type: ignore[list-item]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    proc, url = serve()
    try:
        client = anthropic.Anthropic(api_key="k", base_url=url)
        assert client.messages.batches.retrieve(batch.id).processing_status == "ended"
        assert [r.custom_id for r in client.messages.batches.results(batch.id)] == ["a"]
        assert client.messages.batches.create(requests=[request("a")]).id != batch.id  # type: ignore[list-item]
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    assert "1 batches kept" in err


def test_run_killed_under_emulator_resumes_against_it(tmp_path: Path) -> None:
    rows = "".join(json.dumps({"id": f"k{i}", "text": f"Recipe {i}: toast."}) + "\n" for i in range(4))
    (tmp_path / "in.jsonl").write_text(rows)
    job = tmp_path / "job.toml"
    job.write_text(
        f'schema = "{ROOT / "schemas" / "recipe.json"}"\nmodel = "claude-haiku-4-5"\nprompt = "Extract: $text"\n'
        '[input]\npath = "in.jsonl"\nkey = "id"\n'
    )
    code = "import sys\nfrom structbatch.cli import main\nsys.exit(main(sys.argv[1:]))"
    run = subprocess.Popen(
        [
            sys.executable,
            "-c",
            code,
            "run",
            str(job),
            "-q",
            "--poll",
            "0.1",
            "--emulator",
            "--emulator-latency",
            "2",
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    index = tmp_path / "job.emulator"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (index.exists() and json.loads(index.read_text())["order"]):
        time.sleep(0.05)
    os.kill(run.pid, signal.SIGKILL)  # the process dies with its embedded emulator, mid-batch
    run.wait(timeout=10)
    assert json.loads(index.read_text())["order"], "the run never created its batch"
    from structbatch.cli import main

    assert main(["resume", str(job), "-q", "--poll", "0.1", "--emulator"]) == 0
    results = [json.loads(line) for line in (tmp_path / "job.results.jsonl").read_text().splitlines()]
    assert [r["key"] for r in results] == ["k0", "k1", "k2", "k3"] and all(r["ok"] for r in results)
    assert len(json.loads(index.read_text())["order"]) == 1  # resumed the same batch, nothing resubmitted


def test_in_process_transport_sync_and_async_without_a_socket() -> None:
    emu = Emulator(latency=0)  # never started: no port is bound
    client = anthropic.Anthropic(api_key="k", http_client=httpx2.Client(transport=emu.transport()))
    batch = client.messages.batches.create(requests=[request("a")])  # type: ignore[list-item]
    assert batch.results_url is None
    ended = client.messages.batches.retrieve(batch.id)
    assert ended.results_url == f"https://api.anthropic.com/v1/messages/batches/{batch.id}/results"
    assert [r.custom_id for r in client.messages.batches.results(batch.id)] == ["a"]
    with client.messages.stream(**params()) as stream:
        assert stream.get_final_message().stop_reason == "end_turn"

    async def go() -> str:
        aclient = anthropic.AsyncAnthropic(
            api_key="k", http_client=httpx2.AsyncClient(transport=emu.transport())
        )
        async with aclient.messages.stream(**params()) as stream:
            return (await stream.get_final_message()).stop_reason or ""

    assert asyncio.run(go()) == "end_turn"
    assert emu.call_counts()["create"] == 1
    with pytest.raises(RuntimeError, match="not running"):
        _ = emu.base_url
    emu.stop()


def test_in_process_faults_behave_as_on_the_wire() -> None:
    emu = Emulator(latency=0, faults="create:lost,results:cut~0.5,messages:529x1~0")
    client = anthropic.Anthropic(
        api_key="k", max_retries=0, http_client=httpx2.Client(transport=emu.transport())
    )
    with pytest.raises(anthropic.APIConnectionError):
        client.messages.batches.create(requests=[request("a")])  # type: ignore[list-item]
    (committed,) = emu.created_batches()  # lost after the work was done, as on the wire
    with pytest.raises((anthropic.APIConnectionError, httpx2.RemoteProtocolError)):
        list(client.messages.batches.results(committed.id))
    with pytest.raises(anthropic.OverloadedError):
        client.messages.create(**params())
    assert client.messages.create(**params()).stop_reason == "end_turn"
    emu.stop()
