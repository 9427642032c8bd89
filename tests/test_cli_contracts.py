"""The command line's contracts for people and scripts: closed pipes, exit codes, one JSON
document, hints that name real flags, read-only commands on a finished store, strict inputs,
prices, file modes and export — each as a user meets it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from structbatch import _clicmds, cli
from structbatch._cliutil import EXIT_CODES, Context, all_flags, cli_terms
from structbatch._cost import PRICE_TABLE, price_for
from structbatch._modes import CAPABILITY_TABLE
from structbatch.cli import main
from structbatch.emulator import Emulator

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


def make_job(tmp_path: Path, n: int = 5, *, schema: Path = SCHEMA, model: str = "claude-haiku-4-5") -> Path:
    rows = "".join(
        json.dumps({"id": f"k{i}", "text": f"Recipe {i}: toast and butter."}) + "\n" for i in range(n)
    )
    (tmp_path / "in.jsonl").write_text(rows, encoding="utf-8")
    job = tmp_path / "job.toml"
    job.write_text(
        f'schema = "{schema}"\nmodel = "{model}"\nprompt = "Extract: $text"\n[input]\npath = "in.jsonl"\nkey = "id"\n',
        encoding="utf-8",
    )
    return job


def child_env(emu: Emulator) -> dict[str, str]:
    return {**os.environ, "ANTHROPIC_BASE_URL": emu.base_url, "ANTHROPIC_API_KEY": KEY}


# -- clean exits ---------------------------------------------------------------------------------


def test_a_closed_pipe_ends_quietly_with_the_commands_own_code(emu: Emulator, tmp_path: Path) -> None:
    job = make_job(tmp_path, n=300)  # ~200 kB of JSONL: more than a pipe buffer holds
    assert main(["run", str(job), "-q", *FAST]) == 0
    shell = f'{sys.executable} -m structbatch.cli results {job} | head -1; echo "rc=${{PIPESTATUS[0]}}" >&2'
    done = subprocess.run(
        ["bash", "-c", shell], capture_output=True, text=True, env=child_env(emu), timeout=120
    )
    assert json.loads(done.stdout)["key"] == "k0"
    assert done.stderr.strip() == "rc=0", done.stderr  # no BrokenPipeError, no "Exception ignored"
    # `run` whose reader is gone before it prints: the job still finishes and exits 0.
    child = subprocess.Popen(
        [sys.executable, "-m", "structbatch.cli", "run", str(job), "--poll", "0.05"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(emu),
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()
    err = child.stderr.read().decode()
    assert child.wait(timeout=120) == 0 and "Traceback" not in err and "BrokenPipe" not in err


def test_an_unexpected_error_is_one_line_a_log_and_its_own_exit_code(
    emu: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def broken(ctx: Context) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(_clicmds, "cmd_results", broken)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    job = str(make_job(tmp_path))
    assert main(["results", job]) == 70
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error" in err and "RuntimeError: boom" in err
    (log,) = tmp_path.glob("structbatch-crash-*.log")
    assert str(log) in err and 'raise RuntimeError("boom")' in log.read_text()
    assert main(["results", job, "--debug"]) == 70
    assert "Traceback (most recent call last)" in capsys.readouterr().err
    assert main(["results", job, "--json"]) == 70
    doc = json.loads(capsys.readouterr().out)
    assert doc["exit_code"] == 70 and doc["error"]["type"] == "RuntimeError"


def test_the_exit_code_table_is_the_one_in_help_and_readme(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    codes = [code for code, _, _ in EXIT_CODES]
    assert len(set(codes)) == len(codes) and 1 in codes and 70 in codes
    for code, short, _ in EXIT_CODES:
        assert f"{code} {short}" in help_text
        assert f"| {code} |" in readme, f"README's exit-code table lacks {code}"


# -- one JSON document -----------------------------------------------------------------------------


def test_json_is_one_document_everywhere_and_jsonl_streams(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job = str(make_job(tmp_path))
    assert main(["results", job, "--json"]) == 2  # no store yet: still one document
    doc = json.loads(capsys.readouterr().out)
    assert doc["exit_code"] == 2 and "no job store yet" in doc["error"]["message"]
    assert main(["run", job, "--json", "-q", *FAST]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["ok"] == 5
    for command in (
        ["results", job],
        ["status", job, "--offline"],
        ["status", job],
        ["run", job, "--dry-run"],
    ):
        assert main([*command, "--json"]) == 0, command
        json.loads(capsys.readouterr().out)  # exactly one document, nothing else on stdout
    assert main(["results", job, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["count"] == 5 and [o["key"] for o in doc["outcomes"]] == [f"k{i}" for i in range(5)]
    assert main(["results", job, "--jsonl"]) == 0
    assert [json.loads(line)["key"] for line in capsys.readouterr().out.splitlines()] == [
        f"k{i}" for i in range(5)
    ]
    assert main(["results", job, "--json", "--jsonl"]) == 2


# -- hints name flags and keys that exist -------------------------------------------------------


@pytest.mark.parametrize(
    ("library", "cli_text"),
    [
        (
            "root must be an object; pass wrap='items' (or another key) to wrap",
            'set wrap = "items" in the job file',
        ),
        (
            "belongs to the other key. Use that key, or pass allow_key_change=True if",
            "pass --allow-key-change",
        ),
        (
            "refused for this model; use Mode.JSON_SCHEMA or Mode.AUTO",
            "use --mode json_schema or --mode auto",
        ),
        ("a different spec. Use another store file, or Job.open() without a spec", "`status --offline`"),
        ("would collide (pass name= to compile to rename it)", 'tool_name = "..." in the job file'),
    ],
)
def test_library_hints_are_rephrased_as_flags_and_job_file_keys(library: str, cli_text: str) -> None:
    parser = cli.build_parser()
    flags = all_flags(parser)
    text = cli_terms(library, flags.__contains__)
    assert cli_text in text
    assert "Mode." not in text and "=True" not in text and "Job.open" not in text and "name=" not in text
    for word in text.split():
        if word.startswith("--"):
            assert word.strip("`.,;()") in flags, word


def test_wrap_and_mode_flags_exist_where_the_hints_send_you(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job = str(make_job(tmp_path, model="claude-sonnet-5-5"))
    assert main(["run", job, "--dry-run", "--mode", "tool"]) == 2  # forced tools are refused there
    err = capsys.readouterr().err
    assert "use --mode json_schema or --mode auto" in err and "Mode." not in err
    assert main(["run", job, "--dry-run", "--mode", "json_schema", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["mode"] == "json_schema"
    schema = tmp_path / "list.json"
    schema.write_text(json.dumps({"type": "array", "items": {"type": "string"}}), encoding="utf-8")
    assert main(["schema", "check", str(schema), "--wrap", "names", "--json"]) == 0
    assert list(json.loads(capsys.readouterr().out)["tool"]["input_schema"]["properties"]) == ["names"]
    wrapped = make_job(tmp_path, schema=schema)
    wrapped.write_text('wrap = "names"\n' + wrapped.read_text(), encoding="utf-8")
    assert main(["run", str(wrapped), "--dry-run", "--json"]) == 0


def test_a_schema_error_names_the_schema_file_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = tmp_path / "broken.json"
    schema.write_text('{"type": "object", "properties": {"a": {"$ref": "#/nowhere"}}}', encoding="utf-8")
    assert main(["run", str(make_job(tmp_path, schema=schema)), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.count(str(schema)) == 1 and "job.toml:1" in err


# -- read-only commands on a finished store -----------------------------------------------------


def test_read_only_commands_work_whatever_the_job_file_says_now(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = tmp_path / "recipe.json"
    schema.write_bytes(SCHEMA.read_bytes())
    job = make_job(tmp_path, schema=schema)
    assert main(["run", str(job), "-q", *FAST]) == 0
    capsys.readouterr()
    schema.write_text('{"type": "object", "properties": {"other": {"type": "string"}}}', encoding="utf-8")
    (tmp_path / "in.jsonl").unlink()  # the input moved away too
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    assert main(["results", str(job)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 5
    assert main(["status", str(job), "--offline"]) == 0
    assert "5 keys: 5 ok" in capsys.readouterr().out
    assert main(["results", str(tmp_path / "job.db"), "--table"]) == 0  # the store itself as JOB
    assert "k4" in capsys.readouterr().out
    assert main(["export", str(job), "-o", str(tmp_path / "r.jsonl")]) == 0
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == 5


def test_status_without_an_api_key(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    job = str(make_job(tmp_path))
    assert main(["run", job, "-q", *FAST]) == 0
    capsys.readouterr()
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    assert main(["status", job]) == 0  # finished: nothing to poll, so the store is the answer
    out, err = capsys.readouterr()
    assert "--offline" in err and "5 keys: 5 ok" in out
    emu.latency = 3600
    other = tmp_path / "other"
    other.mkdir()
    job2 = str(make_job(other))
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    assert main(["submit", job2, "-q"]) == 0
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    capsys.readouterr()
    assert main(["status", job2]) == 2
    assert f"`structbatch status --offline {job2}`" in capsys.readouterr().err


def test_output_files_respect_the_umask(emu: Emulator, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        assert main(["run", str(make_job(tmp_path)), "-q", *FAST]) == 0
    finally:
        os.umask(old)
    for name in ("job.results.jsonl", "job.failures.jsonl", "job.summary.json"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644, name


# -- inputs --------------------------------------------------------------------------------------


def test_bad_csv_and_bom_inputs_through_the_cli(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "in.csv"
    job = tmp_path / "job.toml"
    job.write_text(
        f'schema = "{SCHEMA}"\nmodel = "claude-haiku-4-5"\nprompt = "$text"\n[input]\npath = "in.csv"\nkey = "id"\n',
        encoding="utf-8",
    )
    data.write_text('id,text\na,fine\nb,"never closed\nc,swallowed\n', encoding="utf-8")
    assert main(["run", str(job), "--dry-run"]) == 2
    assert f"{data}:3: unterminated quoted field" in capsys.readouterr().err
    data.write_text("id,id,text\n", encoding="utf-8")
    assert main(["run", str(job), "--dry-run"]) == 2
    assert "duplicate column name 'id'" in capsys.readouterr().err
    data.write_text("id,text\n" + "".join(f"k{i},x,extra\n" for i in range(30)), encoding="utf-8")
    assert main(["run", str(job), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "20 problems (stopped at the first 20" in err and f"{data}:21:" in err and f"{data}:22:" not in err
    data.write_text("\ufeffid,text\na,x\n\nb,\n", encoding="utf-8")  # a BOM, a blank line, an empty text
    assert main(["run", str(job), "--dry-run"]) == 2
    assert f"{data}:4: key 'b': empty input" in capsys.readouterr().err
    data.write_text("\ufeffid,text\na,x\nb,y\n", encoding="utf-8")
    assert main(["run", str(job), "--dry-run", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["keys"] == 2
    assert emu.call_counts().get("create", 0) == 0


def test_folder_input_reports_what_it_skipped(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "a.txt").write_text("A recipe", encoding="utf-8")
    (docs / "b.rst").write_text("B recipe", encoding="utf-8")
    (docs / "sub" / "c.txt").write_text("C recipe", encoding="utf-8")
    job = tmp_path / "job.toml"
    job.write_text(
        f'schema = "{SCHEMA}"\nmodel = "claude-haiku-4-5"\n[input]\npath = "docs"\n', encoding="utf-8"
    )
    assert main(["run", str(job), "--dry-run", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["keys"] == 1
    assert any("--recursive" in reason for reason in doc["skipped"]) and any(
        "--glob" in r for r in doc["skipped"]
    )
    assert main(["run", str(job), "--dry-run", "--recursive", "--glob", "*.txt", "--glob", "*.rst"]) == 0
    assert "keys            3" in capsys.readouterr().out


# -- prices ----------------------------------------------------------------------------------------

UNPRICED = {"fable-5", "mythos"}  # no published price in the reference (see _cost.py)


def test_every_model_of_the_capability_table_has_a_price() -> None:
    samples = {
        "3": [
            "claude-3-haiku-20240307",
            "claude-3-5-haiku-20241022",
            "claude-3-7-sonnet-20250219",
            "claude-3-opus-20240229",
        ],
        "opus-4": ["claude-opus-4-20250514"],
        "sonnet-4": ["claude-sonnet-4-20250514"],
        "opus-4-1": ["claude-opus-4-1-20250805"],
    }
    for family in CAPABILITY_TABLE:
        if family in UNPRICED:
            continue
        for model in samples.get(family, [f"claude-{family}"]):
            assert price_for(model) is not None, model
    assert price_for("claude-opus-4-5-20251101") == PRICE_TABLE["opus-4-5"]
    assert price_for("anthropic.claude-3-5-sonnet-20241022-v2:0") == PRICE_TABLE["3-5-sonnet"]
    assert price_for("claude-opus-4-9") is None  # an unknown neighbour is never guessed


@pytest.mark.parametrize(
    "model",
    ["claude-sonnet-4-6", "claude-sonnet-4-5", "claude-opus-4-5", "claude-opus-5-5", "claude-haiku-5-5"],
)
def test_dry_run_shows_cost_for_current_models(
    tmp_path: Path, model: str, capsys: pytest.CaptureFixture[str]
) -> None:
    job = make_job(tmp_path, model=model)
    assert main(["run", str(job), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "cost unknown" not in out and "input cost      ≈ $" in out
    assert main(["run", str(job), "--dry-run", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["estimated_input_cost_usd"] > 0 and doc["price"]["checked"]


# -- export ----------------------------------------------------------------------------------------


def test_export_parquet_csv_jsonl(emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pyarrow.parquet as pq

    job = str(make_job(tmp_path))
    assert main(["run", job, "-q", *FAST]) == 0
    capsys.readouterr()
    assert main(["export", job, "--format", "parquet", "-o", str(tmp_path / "out.parquet"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 5
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.num_rows == 5 and table.column("key").to_pylist() == [f"k{i}" for i in range(5)]
    assert {"ok", "kind", "message", "attempts", "input_tokens", "cost", "title", "ingredients"} <= set(
        table.column_names
    )
    assert all(c is not None and c > 0 for c in table.column("cost").to_pylist())
    assert main(["export", job, "-o", str(tmp_path / "out.csv")]) == 0  # the format from the suffix
    assert "wrote 5 rows" in capsys.readouterr().out
    header = (tmp_path / "out.csv").read_text().splitlines()[0].split(",")
    assert header[:3] == ["key", "custom_id", "ok"] and "title" in header
    assert main(["export", job, "--format", "jsonl", "-o", "-"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 5
    assert main(["export", job, "--format", "parquet", "-o", "-"]) == 2


def test_export_without_pyarrow_names_the_extra(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    job = str(make_job(tmp_path))
    assert main(["run", job, "-q", *FAST]) == 0
    capsys.readouterr()
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # what an environment without it looks like
    assert main(["export", job, "-o", str(tmp_path / "x.parquet")]) == 2
    assert "pip install 'structbatch[arrow]'" in capsys.readouterr().err
    assert main(["export", job, "-o", str(tmp_path / "x.csv")]) == 0  # CSV and JSONL need no pyarrow


# -- engine refusals, in command-line terms ------------------------------------------------------


def test_a_changed_setting_after_submission_says_which_key_to_restore(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emu.latency = 3600
    job = make_job(tmp_path)
    assert main(["submit", str(job), "-q"]) == 0
    job.write_text(job.read_text().replace("claude-haiku-4-5", "claude-sonnet-4-5"), encoding="utf-8")
    capsys.readouterr()
    assert main(["run", str(job), "-q", *FAST]) == 3
    err = capsys.readouterr().err
    assert 'set model = "claude-haiku-4-5" in the job file back' in err and "point `store`" in err


def test_a_second_driver_exits_5_naming_the_wait_flag(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emu.latency = 3600
    job = make_job(tmp_path)
    child = subprocess.Popen(
        [sys.executable, "-m", "structbatch.cli", "run", str(job), "--poll", "0.1", "-q"],
        env=child_env(emu),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not emu.created_batches() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert emu.created_batches(), "the first driver never created its batch"
        assert main(["resume", str(job), "-q", *FAST]) == 5
        err = capsys.readouterr().err
        assert "another process drives this job" in err and "(pass --wait)" in err
        assert main(["status", str(job), "--offline"]) == 0  # reading never waits
    finally:
        child.kill()
        child.wait(timeout=30)


def test_a_folder_given_as_the_job_is_a_usage_error_naming_its_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "job.db").write_bytes(b"")
    assert main(["results", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "a folder, not a job file" in err and str(folder / "job.db") in err
    assert "internal error" not in err


def _reaches(source: str) -> list[str]:
    """Where CLI code reads a private attribute (`x._y`) or a job's store (`job.store...`)."""
    import ast

    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute):
            continue
        private = node.attr.startswith("_") and not node.attr.startswith("__")
        store = node.attr == "store" and isinstance(node.value, ast.Name) and node.value.id != "cfg"
        if private or store:
            found.append((node.lineno, f"line {node.lineno}: {ast.unparse(node)}"))
    return [text for _, text in sorted(found)]


def test_commands_use_only_public_seams() -> None:
    """Every command is load, one public library call, render: no `job.store` rows, no
    `job._...` (the job file's `cfg.store` is its path, which is public)."""
    import inspect

    from structbatch import _cliplan

    assert _reaches(inspect.getsource(_clicmds)) == [] and _reaches(inspect.getsource(_cliplan)) == []
    assert _reaches("job.store.batches()\ncfg.store.exists()\njob._mode\n") == [
        "line 1: job.store",
        "line 3: job._mode",
    ]


def test_status_names_the_store_by_its_public_path(tmp_path: Path) -> None:
    import structbatch as sb

    with sb.Job({"type": "object"}, model="claude-haiku-4-5", store=tmp_path / "j.db") as job:
        assert job.path == tmp_path / "j.db" == job.store.path
