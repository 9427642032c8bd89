"""A parsed TOML file whose every complaint names the file, the line and the key.

A job file is hand-written, so a mistake in it must be easy to find: `TomlDocument` checks the
keys of each table against the allowed ones (with a "did you mean" for a misspelling) and reads
values with their type checked, and each `InputError` it raises says `path:line: table.key: ...`.
Kept apart from `_jobfile`, which says what a job file holds; this says how its values are read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._errors import InputError

#: `get`'s default for a key that must be present
REQUIRED: Any = object()


class TomlDocument:
    """`data` parsed from `text` (the file at `path`), read key by key with located errors."""

    def __init__(self, path: Path, text: str, data: dict[str, Any]) -> None:
        self.path = path
        self.text = text
        self.data = data

    def where(self, key: str, table: str = "") -> str:
        """`path:line` of `key` in `[table]` ("" = top level), or the path when it is not written."""
        return located(self.path, self.text, key, table)

    def fail(self, key: str, problem: str, table: str = "") -> InputError:
        """The error for a bad value: where it is, its dotted name, and the problem."""
        name = f"{table}.{key}" if table else key
        return InputError(f"{self.where(key, table)}: {name}: {problem}")

    def check_keys(self, allowed: Mapping[str, frozenset[str]]) -> None:
        """Every table named in `allowed` is a table and holds only allowed keys: a misspelt key
        silently falling back to a default is the worst kind of mistake."""
        for table, keys in allowed.items():
            section = self.data if not table else self.data.get(table, {})
            if not isinstance(section, dict):
                raise self.fail(table, f"must be a table, e.g. [{table}]")
            for key in section:
                if key not in keys:
                    hint = _closest(key, keys)
                    raise self.fail(
                        key,
                        "unknown key"
                        + (f" (did you mean {hint!r}?)" if hint else "")
                        + f"; allowed: {', '.join(sorted(keys))}",
                        table,
                    )

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None, table: str = "") -> Any:
        """The value of `key` in `[table]` if it is a `kind` (a bool is not an int), else `default`
        when absent; `default=REQUIRED` makes an absent key an error."""
        section = self.data if not table else self.data.get(table, {})
        if key not in section:
            if default is REQUIRED:
                raise InputError(
                    f"{self.path}: {f'{table}.{key}' if table else key}: required"
                    + (f" (add it to [{table}])" if table else "")
                )
            return default
        value = section[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self.fail(key, f"expected {names}, got {value!r:.60}", table)
        return value


def located(path: Path, text: str, key: str, table: str = "") -> str:
    """`path:line` where `key` is set in `[table]` of `text`, or just `path` when it is not."""
    line = _line_of(text, table, key)
    return f"{path}:{line}" if line else str(path)


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
