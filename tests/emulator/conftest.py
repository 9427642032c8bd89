"""Fixtures for the emulator suite: a small-limit emulator and an SDK client without retries."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import pytest
from emulator_helpers import SMALL

from structbatch.emulator import Emulator, EmulatorConfig


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(limits=SMALL)) as emulator:
        yield emulator


@pytest.fixture
def client(emu: Emulator) -> anthropic.Anthropic:
    # No SDK retries: each test sees exactly what the emulator answered.
    return emu.client(max_retries=0)
