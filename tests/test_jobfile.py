"""Job files: typed config, paths relative to the file, and errors naming file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from structbatch import InputError, Mode, SchemaError
from structbatch._jobfile import load_jobfile, load_schema

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "schemas" / "recipe.json"


def write_job(
    tmp_path: Path, body: str, rows: str = '{"id": "a", "text": "Toast: bread, butter."}\n'
) -> Path:
    (tmp_path / "in.jsonl").write_text(rows, encoding="utf-8")
    job = tmp_path / "job.toml"
    job.write_text(body, encoding="utf-8")
    return job


BASIC = f"""schema = "{SCHEMA}"
model = "claude-haiku-4-5"
prompt = "Extract: $text"

[input]
path = "in.jsonl"
key = "id"
"""


def test_a_minimal_job_file_gets_defaults_relative_to_itself(tmp_path: Path) -> None:
    cfg = load_jobfile(write_job(tmp_path, BASIC))
    assert cfg.model == "claude-haiku-4-5" and cfg.mode is Mode.AUTO and cfg.max_tokens == 1024
    assert cfg.input.path == tmp_path / "in.jsonl" and cfg.input.format == "jsonl"
    assert cfg.store == tmp_path / "job.db"
    assert cfg.output.results == tmp_path / "job.results.jsonl"
    assert cfg.output.failures == tmp_path / "job.failures.jsonl"
    assert cfg.output.summary == tmp_path / "job.summary.json"
    assert cfg.limits.max_attempts == 3 and cfg.limits.max_reasks == 1 and cfg.preflight
    assert list(cfg.items()) == [{"key": "a", "messages": "Extract: Toast: bread, butter."}]
    assert cfg.check_inputs().rows == 1


def test_every_setting_is_read(tmp_path: Path) -> None:
    body = f"""schema = "{SCHEMA}"
model = "claude-haiku-4-5"
mode = "prompt"
max_tokens = 99
system = "S"
prompt = "${{id}}: $text costs $$5"
store = "s/x.db"
preflight = false

[input]
path = "in.jsonl"
format = "jsonl"
key = "id"
text = "text"

[output]
results = "o/r.jsonl"
failures = "o/f.jsonl"
summary = "o/s.json"

[limits]
max_attempts = 5
max_reasks = 0
max_requests = 10
max_bytes = 100000
max_queued_requests = 20

[params]
temperature = 0.5
"""
    cfg = load_jobfile(write_job(tmp_path, body))
    assert cfg.mode is Mode.PROMPT and cfg.max_tokens == 99 and cfg.system == "S" and not cfg.preflight
    assert cfg.store == tmp_path / "s" / "x.db" and cfg.output.summary == tmp_path / "o" / "s.json"
    assert (cfg.limits.max_attempts, cfg.limits.max_reasks, cfg.limits.max_requests) == (5, 0, 10)
    assert cfg.limits.batch_limits().max_bytes == 100000 and cfg.limits.max_queued_requests == 20
    assert cfg.params == {"temperature": 0.5}
    assert next(cfg.items())["messages"] == "a: Toast: bread, butter. costs $5"


def test_unknown_key_names_file_line_and_a_suggestion(tmp_path: Path) -> None:
    job = write_job(
        tmp_path, BASIC.replace('model = "claude-haiku-4-5"', 'model = "claude-haiku-4-5"\nmax_token = 5')
    )
    with pytest.raises(InputError) as err:
        load_jobfile(job)
    assert f"{job}:3: max_token: unknown key (did you mean 'max_tokens'?)" in str(err.value)


def test_unknown_key_in_a_table_names_the_table(tmp_path: Path) -> None:
    job = write_job(tmp_path, BASIC + 'text_field = "body"\n')
    with pytest.raises(
        InputError,
        match=rf"{job}:8: input.text_field: unknown key.*allowed: format, glob, key, path, recursive, text",
    ):
        load_jobfile(job)
    job = write_job(tmp_path, BASIC + "\n[limit]\nmax_attempts = 2\n")
    with pytest.raises(InputError, match=rf"{job}:9: limit: unknown key \(did you mean 'limits'\?\)"):
        load_jobfile(job)


def test_missing_files_are_named(tmp_path: Path) -> None:
    job = write_job(tmp_path, BASIC.replace(str(SCHEMA), "nope/schema.json"))
    cfg = load_jobfile(job)
    with pytest.raises(InputError, match=rf"{job}:1: schema file {tmp_path}/nope/schema.json does not exist"):
        cfg.spec()
    job = write_job(tmp_path, BASIC.replace('path = "in.jsonl"', 'path = "missing.jsonl"'))
    with pytest.raises(InputError, match=rf"{job}:6: input.path: {tmp_path}/missing.jsonl does not exist"):
        load_jobfile(job)
    with pytest.raises(InputError, match="job file not found"):
        load_jobfile(tmp_path / "nothing.toml")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('model = "claude-haiku-4-5"\n', ""), r"model: required"),
        (('key = "id"\n', ""), r"input.key: required \(add it to \[input\]\)"),
        (('model = "claude-haiku-4-5"', "model = 5"), r":2: model: expected str, got 5"),
        (('prompt = "Extract: $text"', 'prompt = "costs $5"'), r":3: prompt: invalid \$-placeholder.*\$\$"),
        (('prompt = "Extract: $text"', 'mode = "json"'), r":3: mode: unknown mode 'json'"),
        (
            ('path = "in.jsonl"', 'path = "in.jsonl"\nformat = "xml"'),
            r":7: input.format: unknown format 'xml'",
        ),
        (("[input]", "max_tokens = 0\n[input]"), r":5: max_tokens: must be a positive integer"),
    ],
)
def test_bad_values(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    job = write_job(tmp_path, BASIC.replace(*change))
    with pytest.raises(InputError, match=message):
        load_jobfile(job)


def test_bad_limits_and_bad_toml(tmp_path: Path) -> None:
    job = write_job(tmp_path, BASIC + "\n[limits]\nmax_attempts = 0\n")
    with pytest.raises(InputError, match=rf"{job}:10: limits.max_attempts: must be >= 1, got 0"):
        load_jobfile(job)
    job = write_job(tmp_path, BASIC + "\n[limits]\nmax_requests = 200000\n")
    with pytest.raises(InputError, match=r"\[limits\]: max_requests must be 1..100000"):
        load_jobfile(job)
    job = write_job(tmp_path, BASIC + "oops =\n")
    with pytest.raises(InputError, match=r"not valid TOML: .*line 8"):
        load_jobfile(job)


def test_a_template_field_missing_from_a_row_names_file_line_key_and_field(tmp_path: Path) -> None:
    rows = '{"id": "a", "text": "x"}\n{"id": "b", "body": "y"}\n'
    job = write_job(tmp_path, BASIC, rows)
    cfg = load_jobfile(job)
    with pytest.raises(InputError) as err:
        cfg.check_inputs()
    message = str(err.value)
    assert f"{tmp_path / 'in.jsonl'}:2: key 'b': prompt template field 'text' is not in this row" in message
    assert "(fields: id, body)" in message and str(job) in message


def test_duplicate_keys_name_both_lines(tmp_path: Path) -> None:
    rows = '{"id": "a", "text": "x"}\n{"id": "b", "text": "y"}\n{"id": "a", "text": "z"}\n'
    cfg = load_jobfile(write_job(tmp_path, BASIC, rows))
    with pytest.raises(InputError, match=r"in.jsonl:3: duplicate key 'a' \(first at .*in.jsonl:1\)"):
        cfg.check_inputs()


def test_null_and_non_string_fields_render(tmp_path: Path) -> None:
    rows = '{"id": "a", "text": null, "n": [1, 2]}\n'
    body = BASIC.replace('prompt = "Extract: $text"', 'prompt = "[$text] $n"')
    cfg = load_jobfile(write_job(tmp_path, body, rows))
    assert next(cfg.items())["messages"] == "[] [1,2]"


def test_folder_input_needs_no_key_and_defaults_the_prompt_to_the_text(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "one.txt").write_text("hello", encoding="utf-8")
    job = tmp_path / "job.toml"
    job.write_text(f'schema = "{SCHEMA}"\nmodel = "m"\n[input]\npath = "docs"\n', encoding="utf-8")
    cfg = load_jobfile(job)
    assert cfg.input.format == "folder"
    assert list(cfg.items()) == [{"key": "one", "messages": "hello"}]


def test_schema_as_module_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    spec = load_schema("examples.models:Recipe")
    assert spec.model is not None and spec.model.__name__ == "Recipe"
    with pytest.raises(InputError, match=r"cannot import 'examples\.nothing'"):
        load_schema("examples.nothing:Recipe")
    with pytest.raises(InputError, match=r"module 'examples\.models' has no 'Nope'"):
        load_schema("examples.models:Nope")


def test_a_broken_schema_file_is_a_schema_error(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"type": "object", "properties": {"a": {"type": "wat"}}}')
    with pytest.raises(SchemaError, match=r"bad\.json"):
        load_schema("bad.json", base=tmp_path)


@pytest.mark.parametrize("name", ["recipes", "invoices", "citations", "job_postings"])
def test_the_example_job_files_load_and_their_inputs_check(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    cfg = load_jobfile(ROOT / "examples" / "jobs" / f"{name}.toml")
    cfg.spec()
    assert cfg.check_inputs().rows >= 45
