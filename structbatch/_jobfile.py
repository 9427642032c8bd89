"""Job files: a TOML description of an extraction job, read into a typed `JobFile`.

```toml
schema = "../schemas/recipe.json"      # or "examples.models:Recipe" (an importable Pydantic model)
model = "claude-haiku-4-5"
prompt = "Extract the recipe from this post:\n\n$text"

[input]
path = "../data/recipes.jsonl"         # .jsonl, .csv, or a folder of .txt/.md files
key = "id"
```

Relative paths are relative to the job file. The prompt is a `string.Template`: `$field` or
`${field}` names a field of the input row; `$$` is a literal dollar sign. Every problem is an
`InputError` naming the file, the line and the field, found before anything is submitted:
`JobFile.check_inputs` streams every row once and renders its prompt.
"""

from __future__ import annotations

import importlib
import re
import string
import sys
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import anthropic

import orjson

from . import _batching as batching
from ._errors import InputError, SchemaError
from ._inputs import FORMATS, Format, Row, infer_format, read_rows
from ._job import Job
from ._modes import Mode
from ._schema import Spec, compile

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
        }
    ),
    "input": frozenset({"path", "format", "key", "text"}),
    "output": frozenset({"results", "failures", "summary"}),
    "limits": frozenset({"max_attempts", "max_reasks", "max_requests", "max_bytes", "max_queued_requests"}),
}
_MODULE_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


@dataclass(frozen=True, slots=True)
class InputConfig:
    """`[input]`: where rows come from. `text` names the field the default prompt uses."""

    path: Path
    format: Format
    key: str
    text: str = "text"


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
    """What `check_inputs` found: rows, and characters of rendered prompts."""

    rows: int
    prompt_chars: int


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

    @property
    def name(self) -> str:
        return self.path.stem

    def spec(self) -> Spec[Any]:
        """Compile the schema: a JSON Schema file (relative to the job file) or `module:Model`."""
        return load_schema(self.schema, base=self.path.parent, where=self._where("schema"))

    def rows(self) -> Iterator[Row]:
        """Stream the input rows (no template or duplicate checks; see `check_inputs`)."""
        return read_rows(self.input.path, self.input.format, self.input.key)

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
        """Read every row once: formats, template fields, duplicate keys. Submits nothing."""
        first_seen: dict[str, str] = {}
        rows = chars = 0
        for row in self.rows():
            if row.key in first_seen:
                raise InputError(
                    f"{row.where}: duplicate key {row.key!r} (first at {first_seen[row.key]}); "
                    "keys must be unique"
                )
            first_seen[row.key] = row.where
            chars += len(self.render(row))
            rows += 1
        if rows == 0:
            raise InputError(f"{self.input.path}: no input rows")
        return InputStats(rows, chars)

    def job(self, client: anthropic.Anthropic | None = None, **options: Any) -> Job[Any]:
        """A `Job` with this file's settings on its store (created, with parent folders, if
        missing). `options` (client-side: `poll`, `on_progress`, `retry`...) go to `Job`."""
        self.store.parent.mkdir(parents=True, exist_ok=True)
        return Job(
            self.spec(),
            model=self.model,
            store=self.store,
            client=client,
            mode=self.mode,
            max_tokens=self.max_tokens,
            system=self.system,
            max_attempts=self.limits.max_attempts,
            max_reasks=self.limits.max_reasks,
            **self._client_side(),
            **options,
            **self.params,
        )

    def open_job(self, client: anthropic.Anthropic | None = None, **options: Any) -> Job[Any]:
        """The job already in the store; its stored settings (model, mode, prompt params) win
        over an edited job file. Raises `InputError` when the store does not exist yet."""
        if not self.store.exists():
            raise InputError(
                f"{self.store}: no job store yet for {self.path}; start the job with "
                "`structbatch run` or `structbatch submit`"
            )
        return Job.open(self.store, client=client, spec=self.spec(), **self._client_side(), **options)

    def _client_side(self) -> dict[str, Any]:
        return {
            "limits": self.limits.batch_limits(),
            "max_queued_requests": self.limits.max_queued_requests,
            "preflight": self.preflight,
        }

    def _where(self, key: str, table: str = "") -> str:
        line = _line_of(self.path.read_text(encoding="utf-8"), table, key)
        return f"{self.path}:{line}" if line else str(self.path)


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


def load_jobfile(path: str | Path, *, overrides: Mapping[str, Any] | None = None) -> JobFile:
    """Read and check a job file. `overrides` replaces top-level values after reading
    (e.g. `{"store": ..., "output": {...}}`) the way the demo points outputs elsewhere."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: job file not found") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from None
    data.update(overrides or {})
    return _build(path, text, data)


def _build(path: Path, text: str, data: dict[str, Any]) -> JobFile:
    base = path.parent

    def where(key: str, table: str = "") -> str:
        line = _line_of(text, table, key)
        return f"{path}:{line}" if line else str(path)

    def fail(key: str, problem: str, table: str = "") -> InputError:
        name = f"{table}.{key}" if table else key
        return InputError(f"{where(key, table)}: {name}: {problem}")

    for table, allowed in _KEYS.items():
        section = data if not table else data.get(table, {})
        if not isinstance(section, dict):
            raise fail(table, f"must be a table, e.g. [{table}]")
        for key in section:
            if key not in allowed:
                hint = _closest(key, allowed)
                raise fail(
                    key,
                    "unknown key"
                    + (f" (did you mean {hint!r}?)" if hint else "")
                    + f"; allowed: {', '.join(sorted(allowed))}",
                    table,
                )

    def get(key: str, kind: type | tuple[type, ...], default: Any = None, table: str = "") -> Any:
        section = data if not table else data.get(table, {})
        if key not in section:
            if default is _REQUIRED:
                raise InputError(
                    f"{path}: {f'{table}.{key}' if table else key}: required"
                    + (f" (add it to [{table}])" if table else "")
                )
            return default
        value = section[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise fail(key, f"expected {names}, got {value!r:.60}", table)
        return value

    schema = get("schema", str, _REQUIRED)
    model = get("model", str, _REQUIRED)
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
    in_path = base / get("path", str, _REQUIRED, "input")
    if not in_path.exists():
        raise fail("path", f"{in_path} does not exist", "input")
    fmt_name = get("format", str, None, "input")
    if fmt_name is not None and fmt_name not in FORMATS:
        raise fail("format", f"unknown format {fmt_name!r}; one of {', '.join(FORMATS)}", "input")
    fmt: Format = fmt_name if fmt_name is not None else infer_format(in_path)
    # A folder's keys are its file stems, so only JSONL and CSV name a key field.
    key_field = "" if fmt == "folder" else get("key", str, _REQUIRED, "input")
    text_field = get("text", str, "text", "input")
    inp = InputConfig(in_path, fmt, key_field, text_field)

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
    )


_REQUIRED = object()


def load_schema(source: str, *, base: Path = Path("."), where: str = "schema") -> Spec[Any]:
    """Compile `source`: a JSON Schema file path (relative to `base`) or an importable
    `module:Model`. Errors are `SchemaError`/`InputError` naming `where`."""
    if _MODULE_REF.match(source) and not source.lower().endswith(".json"):
        module_name, _, attr = source.partition(":")
        model = _import_model(module_name, attr, base, where)
        try:
            return compile(model)
        except SchemaError as exc:
            raise SchemaError(f"{where}: {source}: {exc}") from None
    file = base / source
    if not file.exists():
        raise InputError(
            f"{where}: schema file {file} does not exist (a path relative to the job file, "
            "or module:Model for a Pydantic model)"
        )
    try:
        return compile(str(file))
    except SchemaError as exc:
        raise SchemaError(f"{where}: {file}: {exc}") from None


def _import_model(module_name: str, attr: str, base: Path, where: str) -> Any:
    # Models are looked up as `python -m` would (the current directory first), then beside the
    # job file, so a job file next to its models.py works from anywhere.
    added = [p for p in (str(Path.cwd()), str(base.resolve())) if p not in sys.path]
    sys.path[:0] = added
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(
            f"{where}: cannot import {module_name!r} ({exc}); the module must be importable from the "
            "current directory or the job file's directory"
        ) from None
    finally:
        for p in added:
            if p in sys.path:
                sys.path.remove(p)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise InputError(f"{where}: module {module_name!r} has no {attr!r}") from None


def _line_of(text: str, table: str, key: str) -> int | None:
    """The 1-based line where `key` is set in `[table]` ("" = top level), or where `[key]` opens."""
    current = ""
    assign = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    header = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    for number, line in enumerate(text.splitlines(), start=1):
        m = header.match(line)
        if m:
            current = m.group(1).strip()
            if not table and current == key:
                return number
            continue
        if current == table and assign.match(line):
            return number
    return None


def _closest(word: str, choices: frozenset[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return found[0] if found else None
