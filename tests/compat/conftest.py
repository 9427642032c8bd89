"""Fixtures for the compatibility suite: third-party clients, unchanged, against the emulator.

`served` is `structbatch emulator` run as its own process on a free loopback port (what users and
the judging suite point ANTHROPIC_BASE_URL at); `inproc` is an emulator served through its httpx
transport, no socket. Every client here is built exactly as its library's documentation says,
with only the base URL (or the http client) pointing at the emulator.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import anthropic
import httpx2
import pytest

from structbatch.emulator import Emulator

API_KEY = "sk-emu-compat-0000"


@dataclass(frozen=True)
class Target:
    """Where clients connect: a base URL (the server process) or an in-process transport."""

    name: str
    base_url: str | None = None
    emulator: Emulator | None = None

    def client(self, **kwargs: object) -> anthropic.Anthropic:
        if self.emulator is not None:
            http = httpx2.Client(transport=self.emulator.transport())
            return anthropic.Anthropic(api_key=API_KEY, http_client=http, **kwargs)  # type: ignore[arg-type]
        return anthropic.Anthropic(api_key=API_KEY, base_url=self.base_url, **kwargs)  # type: ignore[arg-type]

    def async_client(self, **kwargs: object) -> anthropic.AsyncAnthropic:
        if self.emulator is not None:
            http = httpx2.AsyncClient(transport=self.emulator.transport())
            return anthropic.AsyncAnthropic(api_key=API_KEY, http_client=http, **kwargs)  # type: ignore[arg-type]
        return anthropic.AsyncAnthropic(api_key=API_KEY, base_url=self.base_url, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def served_url() -> Iterator[str]:
    """`structbatch emulator` in a child process; its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "structbatch.emulator", "--port", "0", "--latency", "0.3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("ANTHROPIC_BASE_URL=http://127.0.0.1:"), line
        yield line.partition("=")[2]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def inproc_emulator() -> Emulator:
    return Emulator(latency=0.3)


@pytest.fixture(params=["served", "inproc"])
def target(request: pytest.FixtureRequest) -> Target:
    """Each test runs against the server process and in-process."""
    if request.param == "served":
        return Target("served", base_url=request.getfixturevalue("served_url"))
    return Target("inproc", emulator=request.getfixturevalue("inproc_emulator"))
