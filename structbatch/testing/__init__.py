"""Testing helpers for users' own tests: hypothesis strategies and a pytest plugin.

`structbatch.testing.strategies` (re-exported here, imported on first use) needs the
`structbatch[testing]` extra (hypothesis, hypothesis-jsonschema). The pytest plugin
(`structbatch.testing.plugin`, entry point `structbatch`) needs only pytest, so importing this
package imports nothing heavy until a strategy is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .strategies import (
        BrokenOutput,
        ModelOutput,
        ResultLine,
        Sent,
        batch_requests,
        broken_outputs,
        instances,
        model_outputs,
        object_schemas,
        result_lines,
    )

__all__ = [
    "BrokenOutput",
    "ModelOutput",
    "ResultLine",
    "Sent",
    "batch_requests",
    "broken_outputs",
    "instances",
    "model_outputs",
    "object_schemas",
    "result_lines",
]


def __getattr__(name: str) -> Any:
    if name in __all__ or name == "strategies":
        import importlib

        strategies = importlib.import_module(f"{__name__}.strategies")
        return strategies if name == "strategies" else getattr(strategies, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
