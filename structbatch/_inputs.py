"""Input readers for job files: JSONL, CSV and a folder of text files, streamed row by row.

Every reader yields `Row`s that remember where they came from (file and line), so any later
problem (a missing template field, a duplicate key) can name the exact spot to fix. Nothing is
read whole: JSONL and CSV are read a record at a time, a folder a file at a time.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson

from ._errors import InputError

Format = Literal["jsonl", "csv", "folder"]
FORMATS: tuple[Format, ...] = ("jsonl", "csv", "folder")
#: Files a folder input reads (by suffix, case-insensitive); anything else is skipped.
FOLDER_SUFFIXES = (".txt", ".md")


@dataclass(frozen=True, slots=True)
class Row:
    """One input record: its key, its fields, and where it was read (`line` is 1-based)."""

    key: str
    fields: Mapping[str, Any]
    file: Path
    line: int

    @property
    def where(self) -> str:
        """`file:line`, the way editors and compilers name a spot."""
        return f"{self.file}:{self.line}"


def infer_format(path: Path) -> Format:
    """The format a path implies: a directory is a folder, else the suffix decides."""
    if path.is_dir():
        return "folder"
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    raise InputError(
        f"{path}: cannot tell the input format from the name; set format = "
        f"{' | '.join(repr(f) for f in FORMATS)} in [input]"
    )


def read_rows(path: Path, fmt: Format, key_field: str) -> Iterator[Row]:
    """Stream the rows of one input. Malformed records raise `InputError` naming file and line.

    For a folder, the key is the file's stem and the fields are `text` (its content), `name`
    (the file name) and `path`; `key_field` is ignored.
    """
    if not path.exists():
        raise InputError(f"{path}: input not found")
    if fmt == "folder":
        yield from _read_folder(path)
    elif fmt == "jsonl":
        yield from _read_jsonl(path, key_field)
    elif fmt == "csv":
        yield from _read_csv(path, key_field)
    else:  # pragma: no cover - the job file loader checks the format
        raise InputError(f"{path}: unknown format {fmt!r}")


def _key_of(value: Any, where: str, key_field: str) -> str:
    # Integers are accepted as keys (a numeric id column); floats, bools and nulls are not,
    # because their text form is ambiguous ("1.0" vs "1", "True").
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise InputError(f"{where}: key field {key_field!r} must be a non-empty string, got {value!r:.60}")


def _read_jsonl(path: Path, key_field: str) -> Iterator[Row]:
    with path.open("rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            where = f"{path}:{line_no}"
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise InputError(f"{where}: not valid JSON ({exc})") from None
            if not isinstance(obj, dict):
                raise InputError(f"{where}: expected a JSON object per line, got {type(obj).__name__}")
            if key_field not in obj:
                raise InputError(
                    f"{where}: key field {key_field!r} is missing (fields: {', '.join(obj) or 'none'})"
                )
            yield Row(_key_of(obj[key_field], where, key_field), obj, path, line_no)


def _read_csv(path: Path, key_field: str) -> Iterator[Row]:
    # utf-8-sig drops the byte-order mark spreadsheet programs write; newline="" lets the csv
    # module handle quoted fields with embedded newlines.
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        try:
            header = reader.fieldnames
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InputError(f"{path}:1: cannot read the CSV header ({exc})") from None
        if not header:
            raise InputError(f"{path}: empty CSV file (no header line)")
        if key_field not in header:
            raise InputError(f"{path}:1: key column {key_field!r} not in the header ({', '.join(header)})")
        start = reader.line_num + 1
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as exc:
                raise InputError(f"{path}:{start}: cannot read this CSV record ({exc})") from None
            where = f"{path}:{start}"
            if None in record:
                raise InputError(f"{where}: more fields than the header has columns ({len(header)})")
            missing = [name for name, value in record.items() if value is None]
            if missing:
                raise InputError(f"{where}: too few fields; column {missing[0]!r} is missing")
            yield Row(_key_of(record[key_field], where, key_field), record, path, start)
            start = reader.line_num + 1


def _read_folder(path: Path) -> Iterator[Row]:
    if not path.is_dir():
        raise InputError(f"{path}: format 'folder' needs a directory")
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in FOLDER_SUFFIXES)
    if not files:
        raise InputError(f"{path}: no {' or '.join(FOLDER_SUFFIXES)} files in this folder")
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{file}: not UTF-8 text ({exc})") from None
        yield Row(file.stem, {"text": text, "name": file.name, "path": str(file)}, file, 1)
