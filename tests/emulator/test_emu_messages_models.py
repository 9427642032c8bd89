"""`/v1/messages`, `/v1/messages/count_tokens` and `/v1/models`: shapes and behaviour."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import anthropic
import pytest
from anthropic.types import Message, MessageTokensCount, ModelInfo
from emulator_helpers import RECIPE_TOOL, assert_exact, params, raw

from structbatch.emulator import CATALOGUE, Emulator, main


def test_message_matches_the_sdk_type_exactly(emu: Emulator) -> None:
    for body in (params(), params(tools=[RECIPE_TOOL], tool_choice={"type": "any"})):
        status, head, message = raw(emu, "POST", "/v1/messages", body)
        assert status == 200 and head["request-id"].startswith("req_")
        parsed = assert_exact(Message, message)
        assert parsed.usage.service_tier == "standard"
        assert parsed.id.startswith("msg_")


def test_count_tokens_shape(emu: Emulator) -> None:
    body = {k: v for k, v in params().items() if k != "max_tokens"}
    status, _, counted = raw(emu, "POST", "/v1/messages/count_tokens", body)
    assert status == 200
    assert_exact(MessageTokensCount, counted)


def test_models_list_and_retrieve(emu: Emulator, client: anthropic.Anthropic) -> None:
    models = list(client.models.list(limit=5))  # auto-paginates
    assert len(models) == len(CATALOGUE) and len({m.id for m in models}) == len(CATALOGUE)
    created = [m.created_at for m in models]
    assert created == sorted(created, reverse=True)  # newest first
    _, _, page = raw(emu, "GET", "/v1/models?limit=2")
    assert page["has_more"] is True and len(page["data"]) == 2
    for info in page["data"]:
        assert_exact(ModelInfo, info)
    haiku = client.models.retrieve("claude-haiku-4-5")
    assert haiku.id == "claude-haiku-4-5-20251001" and haiku.max_tokens == 64_000
    assert haiku.capabilities is not None and haiku.capabilities.batch.supported
    opus55 = client.models.retrieve("claude-opus-5-5")
    assert opus55.capabilities is not None and not opus55.capabilities.thinking.types.disabled.supported
    with pytest.raises(anthropic.NotFoundError):
        client.models.retrieve("claude-unknown")


def test_models_lifecycle_filter(client: anthropic.Anthropic) -> None:
    deprecated = client.models.list(lifecycle=["deprecated"]).data
    assert deprecated and {m.lifecycle for m in deprecated} == {"deprecated"}
    assert "claude-sonnet-4-5-20250929" in {m.id for m in deprecated}


def test_async_client_works(emu: Emulator) -> None:
    async def go() -> str:
        async with emu.async_client(max_retries=0) as client:
            message = await client.messages.create(**params())
            return message.role

    assert asyncio.run(go()) == "assistant"


def test_env_points_any_sdk_program_at_the_emulator(emu: Emulator) -> None:
    code = "import anthropic; print(anthropic.Anthropic().models.retrieve('claude-opus-5').display_name)"
    env = {**os.environ, **emu.env()}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "Claude Opus 5", out.stderr


def test_command_line_prints_the_base_url_and_serves_until_interrupted() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "structbatch.emulator",
            "--port",
            "0",
            "--latency",
            "0",
            "--faults",
            "models:529",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("ANTHROPIC_BASE_URL=http://127.0.0.1:")
        client = anthropic.Anthropic(base_url=line.split("=", 1)[1], api_key="sk-x", max_retries=0)
        with pytest.raises(anthropic.OverloadedError):
            client.models.list()
        assert client.models.list().data
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0


def test_command_line_rejects_a_bad_spec(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--port", "0", "--faults", "create:418"]) == 2
    assert "bad fault rule 'create:418'" in capsys.readouterr().err
