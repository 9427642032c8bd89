"""Input readers for job files: JSONL, CSV and a folder of text files, streamed row by row.

Every reader yields `Row`s that remember where they came from (file and line), so any later
problem (a missing template field, a duplicate key) can name the exact spot to fix. Nothing is
read whole: JSONL and CSV are read a record at a time, a folder a file at a time.

No row is ever dropped silently. CSV is read strictly (an unterminated quote, a ragged row, a
duplicate or empty header name is an error naming `file:line`); a UTF-8 byte-order mark is
accepted in every format; a folder input reports every file it did not read and why. Given a
`Problems` collector, the readers keep going after a bad row so one run can report up to
`Problems.limit` of them; without one, the first problem raises.
"""

from __future__ import annotations

import csv
import fnmatch
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson

from ._errors import InputError

Format = Literal["jsonl", "csv", "folder"]
FORMATS: tuple[Format, ...] = ("jsonl", "csv", "folder")
#: Files a folder input reads by default (matched against the file name, case-insensitive).
DEFAULT_GLOBS: tuple[str, ...] = ("*.txt", "*.md")
BOM = b"\xef\xbb\xbf"
#: How many problems of one input are reported in one run before reading stops.
MAX_PROBLEMS = 20


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


class TooManyProblems(Exception):
    """Raised inside a reader once `Problems.limit` problems are collected (stops reading)."""


@dataclass
class Problems:
    """Problems found while reading one input, each one line starting `file:line:`."""

    limit: int = MAX_PROBLEMS
    messages: list[str] = field(default_factory=list)
    truncated: bool = False

    def add(self, message: str) -> None:
        if len(self.messages) >= self.limit:
            self.truncated = True
            raise TooManyProblems
        self.messages.append(message)

    def error(self, source: Path) -> InputError:
        """One `InputError` listing every problem (and whether reading stopped early)."""
        if len(self.messages) == 1 and not self.truncated:
            return InputError(self.messages[0])
        head = f"{source}: {len(self.messages)} problems" + (
            f" (stopped at the first {self.limit}; fix these and run again)" if self.truncated else ""
        )
        return InputError(head + "\n" + "\n".join(f"  {m}" for m in self.messages))


def _bad(problems: Problems | None, message: str) -> None:
    if problems is None:
        raise InputError(message)
    problems.add(message)


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


def read_rows(
    path: Path,
    fmt: Format,
    key_field: str,
    *,
    problems: Problems | None = None,
    recursive: bool = False,
    globs: Sequence[str] = DEFAULT_GLOBS,
) -> Iterator[Row]:
    """Stream the rows of one input. Malformed records raise `InputError` naming file and line,
    or, with `problems`, are recorded there and skipped (reading stops after its limit).

    For a folder, the key is the file's path below the folder without its suffix (`a` for
    `a.txt`, `sub/b` for `sub/b.md`), the fields are `text` (its content), `name` (the file name)
    and `path`; `key_field` is ignored.
    """
    if not path.exists():
        raise InputError(f"{path}: input not found")
    try:
        if fmt == "folder":
            yield from _read_folder(path, problems, recursive, globs)
        elif fmt == "jsonl":
            yield from _read_jsonl(path, key_field, problems)
        elif fmt == "csv":
            yield from _read_csv(path, key_field, problems)
        else:  # pragma: no cover - the job file loader checks the format
            raise InputError(f"{path}: unknown format {fmt!r}")
    except TooManyProblems:
        return


def _key_of(value: Any, where: str, key_field: str) -> str | None:
    # Integers are accepted as keys (a numeric id column); floats, bools and nulls are not,
    # because their text form is ambiguous ("1.0" vs "1", "True").
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _key_problem(where: str, key_field: str, value: Any) -> str:
    return f"{where}: key field {key_field!r} must be a non-empty string, got {value!r:.60}"


def _read_jsonl(path: Path, key_field: str, problems: Problems | None) -> Iterator[Row]:
    with path.open("rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            if line_no == 1 and raw.startswith(BOM):
                raw = raw[len(BOM) :]
            if not raw.strip():
                continue
            where = f"{path}:{line_no}"
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                _bad(problems, f"{where}: not valid JSON ({exc})")
                continue
            if not isinstance(obj, dict):
                _bad(problems, f"{where}: expected a JSON object per line, got {type(obj).__name__}")
                continue
            if key_field not in obj:
                _bad(
                    problems,
                    f"{where}: key field {key_field!r} is missing (fields: {', '.join(obj) or 'none'})",
                )
                continue
            key = _key_of(obj[key_field], where, key_field)
            if key is None:
                _bad(problems, _key_problem(where, key_field, obj[key_field]))
                continue
            yield Row(key, obj, path, line_no)


def _read_csv(path: Path, key_field: str, problems: Problems | None) -> Iterator[Row]:
    # utf-8-sig drops the byte-order mark spreadsheet programs write; newline="" lets the csv
    # module handle quoted fields with embedded newlines; strict=True turns an unterminated or
    # misplaced quote into an error instead of one field that swallows the rest of the file.
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, strict=True)
        try:
            header = next(reader, None)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InputError(f"{path}:1: cannot read the CSV header ({exc})") from None
        if not header:
            raise InputError(f"{path}: empty CSV file (no header line)")
        _check_header(path, header, key_field)
        start = reader.line_num + 1
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as exc:
                raise InputError(f"{path}:{start}: not UTF-8 text ({exc})") from None
            except csv.Error as exc:
                if "unexpected end of data" in str(exc):
                    _bad(
                        problems,
                        f"{path}:{start}: unterminated quoted field: a '\"' opened in the record starting "
                        "here is never closed, so every line after it would be one field",
                    )
                    return
                _bad(
                    problems,
                    f"{path}:{start}: malformed CSV record ({exc}); quote fields that contain quotes",
                )
                start = reader.line_num + 1
                continue
            where = f"{path}:{start}"
            start = reader.line_num + 1
            if not record or record == [""]:
                continue  # a blank line
            if len(record) != len(header):
                more = len(record) > len(header)
                _bad(
                    problems,
                    f"{where}: {len(record)} fields, the header has {len(header)} columns"
                    + (" (an unquoted comma?)" if more else f"; column {header[len(record)]!r} is missing"),
                )
                continue
            row = dict(zip(header, record, strict=True))
            key = _key_of(row[key_field], where, key_field)
            if key is None:
                _bad(problems, _key_problem(where, key_field, row[key_field]))
                continue
            yield Row(key, row, path, int(where.rsplit(":", 1)[1]))


def _check_header(path: Path, header: list[str], key_field: str) -> None:
    where = f"{path}:1"
    seen: dict[str, int] = {}
    for i, name in enumerate(header, start=1):
        if not name.strip():
            raise InputError(f"{where}: column {i} of the header has no name; every column needs one")
        if name in seen:
            raise InputError(
                f"{where}: duplicate column name {name!r} (columns {seen[name]} and {i}); "
                "rename one so each field has one value"
            )
        seen[name] = i
    if key_field not in seen:
        raise InputError(f"{where}: key column {key_field!r} not in the header ({', '.join(header)})")


@dataclass(frozen=True)
class FolderScan:
    """What a folder input reads, and what it skips with the reason (for the report)."""

    root: Path
    files: list[Path]
    skipped: dict[str, list[Path]]


def scan_folder(path: Path, *, recursive: bool = False, globs: Sequence[str] = DEFAULT_GLOBS) -> FolderScan:
    """The files of a folder input, sorted, and every file or folder not read with the reason."""
    if not path.is_dir():
        raise InputError(f"{path}: format 'folder' needs a directory")
    patterns = [g.lower() for g in globs]
    files: list[Path] = []
    skipped: dict[str, list[Path]] = {}

    def skip(reason: str, p: Path) -> None:
        skipped.setdefault(reason, []).append(p)

    def walk(folder: Path) -> Iterator[Path]:
        for p in sorted(folder.iterdir()):
            if p.name.startswith("."):
                skip("hidden (name starts with a dot)", p)
            elif p.is_dir():
                if recursive:
                    yield from walk(p)
                else:
                    skip("subfolder (set recursive = true in [input], or pass --recursive)", p)
            else:
                yield p

    for p in walk(path):
        if not p.is_file():
            skip("not a regular file", p)
        elif not any(fnmatch.fnmatch(p.name.lower(), g) for g in patterns):
            skip(f"name does not match {' or '.join(globs)} (set glob in [input], or pass --glob)", p)
        else:
            files.append(p)
    return FolderScan(path, files, skipped)


def _read_folder(
    path: Path, problems: Problems | None, recursive: bool, globs: Sequence[str]
) -> Iterator[Row]:
    scan = scan_folder(path, recursive=recursive, globs=globs)
    if not scan.files:
        raise InputError(
            f"{path}: no files matching {' or '.join(globs)} in this folder"
            + ("" if recursive else " (subfolders are read with recursive = true)")
        )
    for file in scan.files:
        try:
            text = file.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            _bad(problems, f"{file}: not UTF-8 text ({exc})")
            continue
        if not text.strip():
            _bad(problems, f"{file}: empty file; there is nothing to extract from it (remove it or fill it)")
            continue
        key = file.relative_to(path).with_suffix("").as_posix()
        yield Row(key, {"text": text, "name": file.name, "path": str(file)}, file, 1)
