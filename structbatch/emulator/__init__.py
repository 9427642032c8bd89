"""A local Anthropic Messages + Message Batches API, with fault injection.

The official `anthropic` SDK talks to it unchanged, so any program can be developed and tested
offline: `with Emulator() as emu: client = emu.client()`, or `structbatch emulator --port 8765`
and `ANTHROPIC_BASE_URL=http://127.0.0.1:8765`. See the README section "The emulator".
"""

from __future__ import annotations

from ._cli import main
from ._emulator import DEFAULT_API_KEY, Emulator, EmulatorConfig
from ._faults import Decision, FaultRule, Faults
from ._models import CATALOGUE, Catalogue, ModelSpec
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
from ._validation import Limits
from ._values import example_value, invalid_value

__all__ = [
    "CATALOGUE",
    "DEFAULT_API_KEY",
    "BatchInfo",
    "Catalogue",
    "Decision",
    "Emulator",
    "EmulatorConfig",
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
    "example_value",
    "invalid_value",
    "main",
]
