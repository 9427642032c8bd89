"""pydantic-ai, unchanged, against the emulator: the default Agent (which streams: its default
max_tokens is the model maximum), ToolOutput, NativeOutput, PromptedOutput, run_stream, function
tools, and BatchModelRequests over the Message Batches API."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from compat_models import City, check
from conftest import Target
from pydantic_ai import Agent
from pydantic_ai.capabilities import BatchModelRequests
from pydantic_ai.models.anthropic import AnthropicModel
from pydantic_ai.output import NativeOutput, PromptedOutput, ToolOutput
from pydantic_ai.providers.anthropic import AnthropicProvider

from structbatch.emulator import Emulator

# Haiku 4.5 takes forced tools; Sonnet 5.5 refuses them (pydantic-ai adapts); Opus 5.5 always thinks.
MODELS = ["claude-haiku-4-5", "claude-sonnet-5-5", "claude-opus-5-5"]
OUTPUTS = {
    "default": City,
    "ToolOutput": ToolOutput(City),
    "NativeOutput": NativeOutput(City),
    "PromptedOutput": PromptedOutput(City),
}


def _model(target: Target, name: str) -> AnthropicModel:
    return AnthropicModel(name, provider=AnthropicProvider(anthropic_client=target.async_client()))


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("output", list(OUTPUTS))
def test_agent_run_returns_the_validated_output(target: Target, model: str, output: str) -> None:
    agent = Agent(_model(target, model), output_type=OUTPUTS[output])
    result = agent.run_sync("Tell me about Paris.")
    check(result.output)


def test_plain_text_agent_gets_prose(target: Target) -> None:
    result = Agent(_model(target, "claude-haiku-4-5")).run_sync("Say hello.")
    assert isinstance(result.output, str) and result.output and "{" not in result.output


@pytest.mark.parametrize("output", list(OUTPUTS))
def test_run_stream_partials_and_final_output(target: Target, output: str) -> None:
    agent = Agent(_model(target, "claude-haiku-4-5"), output_type=OUTPUTS[output])

    async def go() -> tuple[list[object], City]:
        async with agent.run_stream("Tell me about Lyon.") as run:
            partials = [p async for p in run.stream_output(debounce_by=None)]
            return partials, await run.get_output()

    partials, final = asyncio.run(go())
    assert partials
    check(final)


def test_function_tool_then_output_tool(target: Target) -> None:
    agent = Agent(_model(target, "claude-haiku-4-5"), output_type=City)
    looked_up: list[str] = []

    @agent.tool_plain
    def lookup(city: str) -> str:
        """Look up facts about a city."""
        looked_up.append(city)
        return f"{city} is large."

    result = agent.run_sync("Tell me about Nice.")
    check(result.output)
    assert len(looked_up) == 1  # the model called the tool once, then answered


def _batched(target: Target, count: int, *, resubmissions: int = 2) -> list[City]:
    async def go() -> list[City]:
        batching = BatchModelRequests(
            max_wait=timedelta(seconds=0.2),
            max_resubmissions=resubmissions,
            poll_interval=timedelta(seconds=0.05),
            max_poll_interval=timedelta(seconds=0.2),
        )
        async with batching:
            agent = Agent(_model(target, "claude-haiku-4-5"), output_type=City, capabilities=[batching])
            runs = await asyncio.gather(*(agent.run(f"City number {i}.") for i in range(count)))
        return [r.output for r in runs]

    return asyncio.run(go())


def test_batch_model_requests_go_through_one_message_batch(target: Target) -> None:
    cities = _batched(target, 6)
    assert len(cities) == 6 and all(check(c) for c in cities)


def test_batch_model_requests_recover_by_resubmission() -> None:
    # 40% of attempts error or expire; a resubmitted custom_id draws afresh, so every run ends
    # with its output, as against the real API (a request failing 13 times in a row: ~1e-4).
    with Emulator(latency=0.2, rates="errored=0.35:overloaded_error,expired=0.05", seed=7) as emu:
        cities = _batched(Target("inproc", emulator=emu), 20, resubmissions=12)
        batches = emu.created_batches()
    assert len(cities) == 20 and all(check(c) for c in cities)
    first = batches[0].request_counts
    assert first["errored"] + first["expired"] > 0 and len(batches) >= 2
    assert sum(b.request_counts["succeeded"] for b in batches) == 20
