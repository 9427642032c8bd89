"""Names of a package loaded on first use (PEP 562), for `structbatch` and `structbatch.emulator`.

Both packages export many names whose modules pull in pydantic, jsonschema or the SDK; a program
that only needs `structbatch --help` or one parser must not pay for the rest. Standard library
only, so importing it costs nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_getattr(package: str, where: Mapping[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package`: `where[name]` is the (relative) module defining
    `name`; the value is imported on first use and stored in `namespace`, so later look-ups
    never reach this function again."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    return __getattr__
