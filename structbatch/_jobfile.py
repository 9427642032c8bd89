"""Job files: a TOML description of an extraction job, read into a typed `JobFile`.

```toml
schema = "../schemas/recipe.json"      # or "examples.models:Recipe" (an importable Pydantic model)
model = "claude-haiku-4-5"
prompt = "Extract the recipe from this post:\n\n$text"

[input]
path = "../data/recipes.jsonl"         # .jsonl, .csv, or a folder of .txt/.md files
key = "id"
# recursive = true                     # a folder: read its subfolders too
# glob = ["*.txt", "*.md"]             # a folder: which file names to read
```

Relative paths are relative to the job file. The prompt is a `string.Template`: `$field` or
`${field}` names a field of the input row; `$$` is a literal dollar sign. Every problem is an
`InputError` naming the file, the line and the field, found before anything is submitted:
`JobFile.check_inputs` streams every row once and renders its prompt, and reports up to
`MAX_PROBLEMS` problems of the input in one go.

Read-only commands (`results`, `status --offline`, `export`) load a job file with
`check_paths=False`: they need only its store, so a moved input or an edited schema does not lock
anyone out of a finished job.
"""

from __future__ import annotations

import functools
import string
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import anthropic

import orjson

from . import _batching as batching
from ._errors import InputError
from ._inputs import (
    DEFAULT_GLOBS,
    FORMATS,
    Format,
    Problems,
    Row,
    TooManyProblems,
    infer_format,
    read_rows,
    scan_folder,
)
from ._job import Job
from ._modes import Mode
from ._schema import Spec
from ._schemafile import load_schema
from ._tomldoc import REQUIRED, TomlDocument, located

# Every key a job file may have, per table ("" is the top level). Anything else is an error,
# because a misspelt key silently falling back to a default is the worst kind of mistake.
_KEYS: dict[str, frozenset[str]] = {
    "": frozenset(
        {
            "schema",
            "model",
            "mode",
            "max_tokens",
            "system",
            "prompt",
            "store",
            "preflight",
            "input",
            "output",
            "limits",
            "params",
            "wrap",
            "tool_name",
            "allow_key_change",
        }
    ),
    "input": frozenset({"path", "format", "key", "text", "recursive", "glob"}),
    "output": frozenset({"results", "failures", "summary"}),
    "limits": frozenset({"max_attempts", "max_reasks", "max_requests", "max_bytes", "max_queued_requests"}),
}


@dataclass(frozen=True, slots=True)
class InputConfig:
    """`[input]`: where rows come from. `text` names the field the default prompt uses;
    `recursive` and `globs` say which files of a folder input are read."""

    path: Path
    format: Format
    key: str
    text: str = "text"
    recursive: bool = False
    globs: tuple[str, ...] = DEFAULT_GLOBS


@dataclass(frozen=True, slots=True)
class OutputConfig:
    """`[output]`: results JSONL (one line per key), failures JSONL, summary JSON."""

    results: Path
    failures: Path
    summary: Path


@dataclass(frozen=True, slots=True)
class LimitsConfig:
    """`[limits]`: attempts per key, re-asks per key, and per-batch and queue caps."""

    max_attempts: int = 3
    max_reasks: int = 1
    max_requests: int = batching.MAX_BATCH_REQUESTS
    max_bytes: int = batching.MAX_BATCH_BYTES
    max_queued_requests: int = 100_000

    def batch_limits(self) -> batching.Limits:
        return batching.Limits(max_requests=self.max_requests, max_bytes=self.max_bytes)


@dataclass(frozen=True, slots=True)
class InputStats:
    """What `check_inputs` found: rows, characters of rendered prompts, and for a folder input
    the files not read, by reason."""

    rows: int
    prompt_chars: int
    skipped: Mapping[str, list[Path]] = field(default_factory=dict)

    def skipped_report(self) -> list[str]:
        """One line per reason: how many files were not read, a few of their names, and why."""
        lines = []
        for reason, paths in self.skipped.items():
            names = ", ".join(p.name + ("/" if p.is_dir() else "") for p in paths[:3])
            more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
            lines.append(f"skipped {len(paths)}: {names}{more}: {reason}")
        return lines


@dataclass(frozen=True)
class JobFile:
    """A validated job file. Build it with `load_jobfile`; `spec()` compiles the schema."""

    path: Path
    schema: str
    model: str
    input: InputConfig
    output: OutputConfig
    store: Path
    prompt: string.Template
    mode: Mode = Mode.AUTO
    max_tokens: int = 1024
    system: str | None = None
    preflight: bool = True
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    params: Mapping[str, Any] = field(default_factory=dict)
    wrap: str | None = None
    tool_name: str | None = None
    allow_key_change: bool = False

    @property
    def name(self) -> str:
        return self.path.stem

    def spec(self) -> Spec[Any]:
        """The schema compiled: a JSON Schema file (relative to the job file) or `module:Model`.

        Compiled once per JobFile, so a command's up-front schema check and the job it then
        builds share one Spec (a failure is not cached: it raises again)."""
        return self._spec

    @functools.cached_property
    def _spec(self) -> Spec[Any]:
        return load_schema(
            self.schema,
            base=self.path.parent,
            where=self._where("schema"),
            wrap=self.wrap,
            name=self.tool_name,
        )

    def rows(self, problems: Problems | None = None) -> Iterator[Row]:
        """Stream the input rows (no template or duplicate checks; see `check_inputs`)."""
        return read_rows(
            self.input.path,
            self.input.format,
            self.input.key,
            problems=problems,
            recursive=self.input.recursive,
            globs=self.input.globs,
        )

    def render(self, row: Row) -> str:
        """The user message for one row; a template field the row lacks is an `InputError`."""
        try:
            return self.prompt.substitute(_TemplateFields(row.fields))
        except KeyError as exc:
            name = exc.args[0]
            raise InputError(
                f"{row.where}: key {row.key!r}: prompt template field {name!r} is not in this row "
                f"(fields: {', '.join(row.fields)}); fix the row or the prompt in {self.path}"
            ) from None

    def items(self) -> Iterator[dict[str, Any]]:
        """`Job.add_many` items: one `{"key", "messages"}` per row, streamed."""
        for row in self.rows():
            yield {"key": row.key, "messages": self.render(row)}

    def check_inputs(self) -> InputStats:
        """Read every row once: formats, template fields, duplicate keys, empty inputs. Submits
        nothing. Up to `MAX_PROBLEMS` problems are reported together in one `InputError`."""
        problems = Problems()
        first_seen: dict[str, str] = {}
        used = [name for name in self.prompt.get_identifiers() if name]
        rows = chars = 0
        try:
            for row in self.rows(problems):
                if row.key in first_seen:
                    problems.add(
                        f"{row.where}: duplicate key {row.key!r} (first at {first_seen[row.key]}); "
                        "keys must be unique"
                    )
                    continue
                first_seen[row.key] = row.where
                try:
                    text = self.render(row)
                except InputError as exc:
                    problems.add(str(exc))
                    continue
                if used and all(not _TemplateFields(row.fields).get(n, "").strip() for n in used):
                    problems.add(
                        f"{row.where}: key {row.key!r}: empty input: the prompt's field"
                        f"{'s' if len(used) > 1 else ''} {', '.join(used)} "
                        f"{'are' if len(used) > 1 else 'is'} empty, so there is nothing to extract"
                    )
                    continue
                chars += len(text)
                rows += 1
        except TooManyProblems:
            pass
        if problems.messages:
            raise problems.error(self.input.path)
        if rows == 0:
            raise InputError(f"{self.input.path}: empty input: no rows to extract from")
        skipped: dict[str, list[Path]] = {}
        if self.input.format == "folder":
            skipped = scan_folder(
                self.input.path, recursive=self.input.recursive, globs=self.input.globs
            ).skipped
        return InputStats(rows, chars, skipped)

    def job(
        self, client: anthropic.Anthropic | None = None, *, store: str | None = None, **options: Any
    ) -> Job[Any]:
        """A `Job` with this file's settings on its store (created, with parent folders, if
        missing), or on `store` (the dry run's ":memory:"). `options` (client-side: `poll`,
        `on_progress`, `retry`...) go to `Job`."""
        if store is None:
            self.store.parent.mkdir(parents=True, exist_ok=True)
        return Job(
            self.spec(),
            model=self.model,
            store=self.store if store is None else store,
            client=client,
            mode=self.mode,
            max_tokens=self.max_tokens,
            system=self.system,
            max_attempts=self.limits.max_attempts,
            max_reasks=self.limits.max_reasks,
            **self.client_options(),
            **options,
            **self.params,
        )

    def existing_store(self) -> Path:
        """The job's store, which must exist already: an `InputError` says how to start the job
        (commands that only continue or read a job never create a store)."""
        if not self.store.exists():
            raise InputError(
                f"{self.store}: no job store yet for {self.path}; start the job with "
                "`structbatch run` or `structbatch submit`"
            )
        return self.store

    def open_job(self, client: anthropic.Anthropic | None = None, **options: Any) -> Job[Any]:
        """The job already in the store; its stored settings (model, mode, prompt params) win
        over an edited job file. Raises `InputError` when the store does not exist yet."""
        store = self.existing_store()
        return Job.open(store, client=client, spec=self.spec(), **self.client_options(), **options)

    def client_options(self) -> dict[str, Any]:
        """`Job` options that are this process's business, not the stored job's (limits, queue
        cap, preflight, allow_key_change): they apply when reopening a store too."""
        side: dict[str, Any] = {
            "limits": self.limits.batch_limits(),
            "max_queued_requests": self.limits.max_queued_requests,
            "preflight": self.preflight,
        }
        if self.allow_key_change:
            side["allow_key_change"] = True
        return side

    def _where(self, key: str, table: str = "") -> str:
        return located(self.path, self.path.read_text(encoding="utf-8"), key, table)


class _TemplateFields(dict[str, str]):
    """Row fields as template values: strings as they are, null as "", the rest as JSON."""

    def __init__(self, fields: Mapping[str, Any]) -> None:
        super().__init__()
        for name, value in fields.items():
            if value is None:
                self[name] = ""
            elif isinstance(value, str):
                self[name] = value
            else:
                self[name] = orjson.dumps(value).decode()


def load_jobfile(
    path: str | Path, *, overrides: Mapping[str, Any] | None = None, check_paths: bool = True
) -> JobFile:
    """Read and check a job file. `overrides` replaces values after reading (a table's keys
    one by one, e.g. `{"store": ..., "output": {...}}`), the way the demo points outputs elsewhere
    and command-line flags (`--mode`, `--recursive`, ...) win over the file. `check_paths=False`
    skips checking the input path (read-only commands need only the store)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: job file not found") from None
    except IsADirectoryError:
        stores = sorted(str(p) for p in path.glob("*.db"))
        hint = f"; its job store is {stores[0]}" if len(stores) == 1 else ""
        raise InputError(f"{path}: a folder, not a job file: give the job's .toml file{hint}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from None
    for key, value in (overrides or {}).items():
        if isinstance(value, Mapping) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return _build(path, text, data, check_paths=check_paths)


def _build(path: Path, text: str, data: dict[str, Any], *, check_paths: bool = True) -> JobFile:
    base = path.parent
    doc = TomlDocument(path, text, data)
    doc.check_keys(_KEYS)
    get, fail, where = doc.get, doc.fail, doc.where

    schema = get("schema", str, REQUIRED)
    model = get("model", str, REQUIRED)
    mode_name = get("mode", str, "auto")
    try:
        mode = Mode(mode_name)
    except ValueError:
        raise fail("mode", f"unknown mode {mode_name!r}; one of {', '.join(m.value for m in Mode)}") from None
    max_tokens = get("max_tokens", int, 1024)
    if max_tokens < 1:
        raise fail("max_tokens", "must be a positive integer")
    system = get("system", str)

    if "input" not in data:
        raise InputError(f'{path}: [input] table required (path = "...", key = "...")')
    in_path = base / get("path", str, REQUIRED, "input")
    if check_paths and not in_path.exists():
        raise fail("path", f"{in_path} does not exist", "input")
    fmt_name = get("format", str, None, "input")
    if fmt_name is not None and fmt_name not in FORMATS:
        raise fail("format", f"unknown format {fmt_name!r}; one of {', '.join(FORMATS)}", "input")
    fmt: Format
    if fmt_name is not None:
        fmt = fmt_name
    elif check_paths:
        fmt = infer_format(in_path)
    else:
        try:
            fmt = infer_format(in_path)
        except InputError:
            fmt = "jsonl"  # only the store matters to a read-only command
    # A folder's keys come from its file names, so only JSONL and CSV name a key field.
    key_field = "" if fmt == "folder" else get("key", str, "" if not check_paths else REQUIRED, "input")
    text_field = get("text", str, "text", "input")
    recursive = get("recursive", bool, False, "input")
    glob_value = get("glob", (str, list), None, "input")
    if glob_value is None:
        globs = DEFAULT_GLOBS
    elif isinstance(glob_value, str):
        globs = (glob_value,)
    elif glob_value and all(isinstance(g, str) and g for g in glob_value):
        globs = tuple(glob_value)
    else:
        raise fail("glob", 'expected a pattern or a list of patterns, e.g. glob = ["*.txt", "*.md"]', "input")
    if (recursive or glob_value is not None) and fmt != "folder":
        raise fail(
            "recursive" if recursive else "glob",
            f"only a folder input reads files (this input is {fmt})",
            "input",
        )
    inp = InputConfig(in_path, fmt, key_field, text_field, recursive, globs)

    prompt_text = get("prompt", str, f"${{{text_field}}}")
    prompt = string.Template(prompt_text)
    if not prompt.is_valid():
        raise fail(
            "prompt",
            "invalid $-placeholder; use $field or ${field} for input fields and $$ for a literal dollar sign",
        )

    stem = path.stem
    output = OutputConfig(
        results=base / get("results", str, f"{stem}.results.jsonl", "output"),
        failures=base / get("failures", str, f"{stem}.failures.jsonl", "output"),
        summary=base / get("summary", str, f"{stem}.summary.json", "output"),
    )
    store = base / get("store", str, f"{stem}.db")

    lim: dict[str, int] = {}
    for key in _KEYS["limits"]:
        value = get(key, int, None, "limits")
        if value is not None:
            lim[key] = value
    try:
        limits = LimitsConfig(**lim)
        limits.batch_limits()
    except ValueError as exc:
        raise InputError(f"{where('limits')}: [limits]: {exc}") from None
    for key, value in lim.items():
        if value < (0 if key == "max_reasks" else 1):
            raise fail(key, f"must be {'>= 0' if key == 'max_reasks' else '>= 1'}, got {value}", "limits")

    params = get("params", dict, {})
    return JobFile(
        path=path,
        schema=schema,
        model=model,
        input=inp,
        output=output,
        store=store,
        prompt=prompt,
        mode=mode,
        max_tokens=max_tokens,
        system=system,
        preflight=get("preflight", bool, True),
        limits=limits,
        params=dict(params),
        wrap=get("wrap", str),
        tool_name=get("tool_name", str),
        allow_key_change=get("allow_key_change", bool, False),
    )
