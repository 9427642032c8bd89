"""The command line end to end against the emulator: run, dry run, status, results, cancel,
resume after kill -9, exit codes, --json, and errors found before anything is submitted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from structbatch.cli import main
from structbatch.emulator import Emulator, Scripted, ScriptedResponder

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "schemas" / "recipe.json"
KEY = "sk-emu-secret-material-WXYZ"
FAST = ["--poll", "0.05"]


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    with Emulator(latency=0) as emulator:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", emulator.base_url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        yield emulator


def make_job(tmp_path: Path, n: int = 5, extra: str = "", tables: str = "") -> Path:
    rows = "".join(
        json.dumps({"id": f"k{i}", "text": f"Recipe {i}: toast and butter."}) + "\n" for i in range(n)
    )
    (tmp_path / "in.jsonl").write_text(rows, encoding="utf-8")
    job = tmp_path / "job.toml"
    job.write_text(
        f'schema = "{SCHEMA}"\nmodel = "claude-haiku-4-5"\nprompt = "Extract: $text"\n{extra}\n'
        '[input]\npath = "in.jsonl"\nkey = "id"\n' + tables,
        encoding="utf-8",
    )
    return job


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_run_writes_results_failures_and_summary(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emu.responder = ScriptedResponder({"k2": Scripted.truncated()})
    job = make_job(tmp_path)
    assert main(["run", str(job), *FAST]) == 1  # some keys failed
    out, err = capsys.readouterr()
    results = lines(tmp_path / "job.results.jsonl")
    assert [r["key"] for r in results] == ["k0", "k1", "k2", "k3", "k4"]
    ok = results[0]
    assert (
        ok["ok"] is True and isinstance(ok["value"], dict) and ok["custom_id"].startswith("k0-")
    )  # the key, then the job salt
    assert {"attempts", "usage", "repairs", "mode"} <= set(ok)
    failures = lines(tmp_path / "job.failures.jsonl")
    assert [(f["key"], f["failure"]["kind"]) for f in failures] == [("k2", "truncated")]  # type: ignore[index]
    summary = json.loads((tmp_path / "job.summary.json").read_text())
    assert summary["counts"] == {"ok": 4, "truncated": 1} and summary["total"] == 5
    assert "5 keys: 4 ok, 1 failed" in out and "k2" in out  # summary and the failure listed on stdout
    assert "done" in err and "keys 5/5 done" in err  # progress on stderr
    assert KEY not in out + err and "...WXYZ" in err  # the key is never printed, only its last four


def test_run_all_ok_exits_0_and_json_for_scripts(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(make_job(tmp_path)), "--json", "-q", *FAST]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"]["ok"] == 5 and doc["outputs"]["results"].endswith("job.results.jsonl")
    # Running the same job again is safe: nothing new is submitted.
    assert main(["run", str(tmp_path / "job.toml"), "-q", *FAST]) == 0
    assert len(emu.created_batches()) == 1


def test_dry_run_submits_nothing(emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    job = make_job(tmp_path, n=25, tables="[limits]\nmax_requests = 10\n")
    assert main(["run", str(job), "--dry-run", "--json", "--no-count-tokens"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["keys"] == 25 and doc["batches"] == 3 and doc["mode"] == "tool"
    assert doc["request_bytes"] > 0 and doc["estimated_input_tokens"] == doc["request_bytes"] // 4
    assert doc["estimated_input_cost_usd"] > 0 and "bytes of request JSON" in doc["token_estimate"]
    assert doc["token_source"] == "bytes"
    assert emu.call_counts().get("create", 0) == 0 and emu.call_counts().get("count_tokens", 0) == 0
    assert not (tmp_path / "job.db").exists()


def test_dry_run_counts_tokens_when_a_key_is_set(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With a client at hand the dry run asks the free count_tokens for 5 samples (spread over
    the 25 keys) and says so; still nothing is created."""
    job = make_job(tmp_path, n=25)
    assert main(["run", str(job), "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert "count_tokens on 5 sample(s), scaled by bytes to 25 requests" in out
    assert "...WXYZ" in err and KEY not in out + err
    assert emu.call_counts()["count_tokens"] == 5 and emu.call_counts().get("create", 0) == 0
    assert main(["run", str(job), "--dry-run", "--json", "--count-tokens"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["token_source"] == "count_tokens" and doc["estimated_input_tokens"] > 0
    assert doc["estimated_input_tokens"] != doc["request_bytes"] // 4  # counted, not the bytes rule
    assert emu.call_counts()["count_tokens"] == 10 and not (tmp_path / "job.db").exists()


def test_dry_run_counts_tokens_with_the_embedded_emulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No key: --emulator's count_tokens counts (and leaves no state file); without either the
    estimate is from bytes and stderr says how to count; --count-tokens then is a usage error."""
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    job = make_job(tmp_path, n=3)
    assert main(["run", str(job), "--dry-run", "--json", "--emulator"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["token_source"] == "count_tokens" and "embedded emulator" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "job.toml"]
    assert main(["run", str(job), "--dry-run", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["token_source"] == "bytes" and "count_tokens (free) counts samples" in err
    assert main(["run", str(job), "--dry-run", "--count-tokens"]) == 2
    assert "ANTHROPIC_API_KEY is not set" in capsys.readouterr().err
    assert main(["run", str(job), "--no-count-tokens", "--emulator"]) == 2  # only with --dry-run
    assert "go with --dry-run" in capsys.readouterr().err


def test_submit_status_collect_results(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emu.latency = 3600
    emu.responder = ScriptedResponder({"k1": Scripted.invalid(), "k3": Scripted.refusal()})
    job = str(make_job(tmp_path))
    assert main(["submit", job, "--json"]) == 0
    batches = json.loads(capsys.readouterr().out)["batches"]
    assert len(batches) == 1
    assert main(["status", job, "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["batches"][0]["processing_status"] == "in_progress" and status["summary"]["inflight"] == 5
    assert main(["collect", job]) == 4  # not finished yet
    capsys.readouterr()
    emu.advance(hours=1)
    # k1 is invalid and gets re-asked, so collect leaves it pending: resume finishes the job.
    assert main(["collect", job, "-q"]) == 4
    assert "keys wait for resubmission" in capsys.readouterr().err
    emu.latency = 0
    assert main(["resume", job, "-q", *FAST]) == 1
    capsys.readouterr()
    assert main(["results", job, "--failed"]) == 0
    failed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted((f["key"], f["failure"]["kind"]) for f in failed) == [("k1", "invalid"), ("k3", "refusal")]
    assert main(["results", job, "--kind", "refusal"]) == 0
    assert [json.loads(line)["key"] for line in capsys.readouterr().out.splitlines()] == ["k3"]
    assert main(["results", job, "--table"]) == 0
    table = capsys.readouterr().out
    assert "k0" in table and "refusal" in table and "invalid" in table
    assert main(["status", job, "--offline"]) == 0
    assert "5 keys: 3 ok, 2 failed" in capsys.readouterr().out


def test_cancel(emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    emu.latency = 3600
    job = str(make_job(tmp_path))
    assert main(["submit", job]) == 0
    capsys.readouterr()
    assert main(["cancel", job, "--json", *FAST]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"]["counts"] == {"canceled": 5}
    assert {r["failure"]["kind"] for r in lines(tmp_path / "job.results.jsonl")} == {"canceled"}  # type: ignore[index]


def test_resume_after_kill_9_submits_nothing_twice(emu: Emulator, tmp_path: Path) -> None:
    emu.latency = 3600
    job = make_job(tmp_path, n=8)
    env = {**os.environ, "ANTHROPIC_BASE_URL": emu.base_url, "ANTHROPIC_API_KEY": KEY}
    child = subprocess.Popen(
        [sys.executable, "-m", "structbatch.cli", "run", str(job), "--poll", "0.1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not emu.created_batches() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert emu.created_batches(), "the child never created a batch"
        time.sleep(0.3)  # let it poll once
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    emu.advance(hours=1)
    assert main(["resume", str(job), "-q", *FAST]) == 0
    assert len(emu.created_batches()) == 1 and emu.duplicate_custom_ids() == {}
    assert [r["key"] for r in lines(tmp_path / "job.results.jsonl")] == [f"k{i}" for i in range(8)]


def test_input_errors_exit_2_before_anything_is_submitted(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job = make_job(tmp_path, n=60)
    data = tmp_path / "in.jsonl"
    rows = data.read_text().splitlines()
    rows[49] = '{"id": "k49", "body": "no text field"}'
    data.write_text("\n".join(rows) + "\n")
    assert main(["run", str(job)]) == 2
    err = capsys.readouterr().err
    assert f"{data}:50: key 'k49': prompt template field 'text' is not in this row" in err
    rows[49] = '{"id": "k49", "text": "fine"'
    data.write_text("\n".join(rows) + "\n")
    assert main(["submit", str(job)]) == 2
    assert f"{data}:50: not valid JSON" in capsys.readouterr().err
    assert emu.call_counts().get("create", 0) == 0 and emu.call_counts().get("count_tokens", 0) == 0


def test_bad_job_file_exits_2_naming_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    job = make_job(tmp_path, extra="temprature = 0.5")
    assert main(["run", str(job)]) == 2
    assert f"{job}:4: temprature: unknown key" in capsys.readouterr().err


def test_missing_api_key_and_missing_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    job = str(make_job(tmp_path))
    assert main(["run", job]) == 2
    assert "ANTHROPIC_API_KEY is not set" in capsys.readouterr().err
    assert main(["results", job]) == 2
    assert "no job store yet" in capsys.readouterr().err


def test_run_with_an_embedded_emulator_needs_no_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    assert main(["run", "--emulator", str(make_job(tmp_path)), "-q"]) == 0
    assert "embedded emulator" in capsys.readouterr().err


def test_api_errors_exit_3(emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    job = make_job(tmp_path)
    job.write_text(job.read_text().replace("claude-haiku-4-5", "claude-nonexistent-9"))
    assert main(["run", str(job), "-q"]) == 3
    err = capsys.readouterr().err
    assert "preflight" in err and "nothing was submitted" in err
    assert emu.call_counts().get("create", 0) == 0


def test_schema_check(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["schema", "check", "schemas/recipe.json", "--model", "claude-sonnet-5-5", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["tool"]["name"] and "input_schema" in doc["tool"]
    assert doc["auto_mode"] == {"claude-sonnet-5-5": "json_schema"}  # forced tools are refused there
    assert main(["schema", "check", "examples.models:Invoice"]) == 0
    out = capsys.readouterr().out
    assert "compiles to tool" in out and "mode AUTO with claude-haiku-4-5: tool" in out
    (tmp_path / "bad.json").write_text("{not json")
    assert main(["schema", "check", str(tmp_path / "bad.json")]) == 2


def test_usage_errors_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["frobnicate"]) == 2
    assert main(["--help"]) == 0
    assert "Exit codes" in capsys.readouterr().out
    assert main(["emulator", "--help"]) == 0
    assert "ANTHROPIC_BASE_URL" in capsys.readouterr().out
