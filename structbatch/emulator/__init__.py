"""A local Anthropic Messages + Message Batches API, with fault injection.

The official `anthropic` SDK talks to it unchanged, so any program can be developed and tested
offline: `with Emulator() as emu: client = emu.client()`, or `structbatch emulator --port 8765`
and `ANTHROPIC_BASE_URL=http://127.0.0.1:8765`. See the README section "The emulator".

Names load on first use (PEP 562), so `structbatch --help` and the CLI's option definitions
(`_options`) do not pay for importing the SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr

if TYPE_CHECKING:
    from ._cli import main
    from ._emulator import DEFAULT_API_KEY, Emulator, EmulatorConfig
    from ._faults import Decision, FaultRule, Faults
    from ._models import CATALOGUE, Catalogue, ModelSpec
    from ._options import add_emulator_options, embedded_emulator
    from ._rates import Rates, RatesResponder
    from ._responders import (
        EndedReply,
        ErrorReply,
        Reply,
        Responder,
        SchemaResponder,
        Scripted,
        ScriptedResponder,
    )
    from ._store import BatchInfo
    from ._transport import EmulatorTransport
    from ._validation import Limits
    from ._values import example_value, invalid_value

_WHERE: dict[str, str] = {
    "main": "._cli",
    "DEFAULT_API_KEY": "._emulator",
    "Emulator": "._emulator",
    "EmulatorConfig": "._emulator",
    "Decision": "._faults",
    "FaultRule": "._faults",
    "Faults": "._faults",
    "CATALOGUE": "._models",
    "Catalogue": "._models",
    "ModelSpec": "._models",
    "add_emulator_options": "._options",
    "embedded_emulator": "._options",
    "Rates": "._rates",
    "RatesResponder": "._rates",
    "EndedReply": "._responders",
    "ErrorReply": "._responders",
    "Reply": "._responders",
    "Responder": "._responders",
    "SchemaResponder": "._responders",
    "Scripted": "._responders",
    "ScriptedResponder": "._responders",
    "BatchInfo": "._store",
    "EmulatorTransport": "._transport",
    "Limits": "._validation",
    "example_value": "._values",
    "invalid_value": "._values",
}

__all__ = [
    "CATALOGUE",
    "DEFAULT_API_KEY",
    "BatchInfo",
    "Catalogue",
    "Decision",
    "Emulator",
    "EmulatorConfig",
    "EmulatorTransport",
    "EndedReply",
    "ErrorReply",
    "FaultRule",
    "Faults",
    "Limits",
    "ModelSpec",
    "Rates",
    "RatesResponder",
    "Reply",
    "Responder",
    "SchemaResponder",
    "Scripted",
    "ScriptedResponder",
    "add_emulator_options",
    "embedded_emulator",
    "example_value",
    "invalid_value",
    "main",
]


__getattr__ = lazy_getattr(__name__, _WHERE, globals())


def __dir__() -> list[str]:
    return sorted(__all__)
