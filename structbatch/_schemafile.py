"""Schema sources of job files and `schema check`: a JSON Schema file or an importable
`module:Model`, compiled with the job file's `wrap` and `tool_name`, errors naming the file once.

Pydantic models are looked up as `python -m` would (the current directory first), then beside the
job file, so a job file next to its models.py works from anywhere. A schema file may start with a
UTF-8 byte-order mark.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path
from typing import Any

import orjson

from ._errors import InputError, SchemaError
from ._schema import Spec, compile

_MODULE_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def load_schema(
    source: str,
    *,
    base: Path = Path("."),
    where: str = "schema",
    wrap: str | None = None,
    name: str | None = None,
) -> Spec[Any]:
    """Compile `source`: a JSON Schema file path (relative to `base`) or an importable
    `module:Model`, with the job file's `wrap` and `tool_name`. Errors are
    `SchemaError`/`InputError` naming `where` and the schema file once."""
    if _MODULE_REF.match(source) and not source.lower().endswith(".json"):
        module_name, _, attr = source.partition(":")
        model = _import_model(module_name, attr, base, where)
        try:
            return compile(model, name=name, wrap=wrap)
        except SchemaError as exc:
            raise SchemaError(f"{where}: {_named(source, str(exc))}") from None
    file = base / source
    if not file.exists():
        raise InputError(
            f"{where}: schema file {file} does not exist (a path relative to the job file, "
            "or module:Model for a Pydantic model)"
        )
    try:
        if file.read_bytes()[:3] == b"\xef\xbb\xbf":  # a byte-order mark some editors write
            try:
                document = orjson.loads(file.read_bytes()[3:])
            except orjson.JSONDecodeError as exc:
                raise SchemaError(f"{file}: not valid JSON ({exc})") from None
            if not isinstance(document, dict):
                raise SchemaError(f"{file}: a JSON Schema must be a JSON object")
            return compile(document, name=name or document.get("title") or file.stem, wrap=wrap)
        return compile(str(file), name=name, wrap=wrap)
    except SchemaError as exc:
        raise SchemaError(f"{where}: {_named(str(file), str(exc))}") from None


def _named(source: str, message: str) -> str:
    """`message` starting with `source` exactly once (the compiler often names it already)."""
    return message if message.startswith(source) else f"{source}: {message}"


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
