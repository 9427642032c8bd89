"""The pytest plugin's in-process fixtures: the transport and the clients built on it."""

from __future__ import annotations

import asyncio

import anthropic
from emulator_helpers import params, request

from structbatch.emulator import Emulator


def test_inprocess_client_streams_and_batches(
    structbatch_inprocess_client: anthropic.Anthropic, structbatch_inprocess_emulator: Emulator
) -> None:
    with structbatch_inprocess_client.messages.stream(**params()) as stream:
        assert stream.get_final_message().stop_reason == "end_turn"
    batch = structbatch_inprocess_client.messages.batches.create(requests=[request("a")])  # type: ignore[list-item]
    assert [b.id for b in structbatch_inprocess_emulator.created_batches()] == [batch.id]


def test_inprocess_async_client(structbatch_inprocess_async_client: anthropic.AsyncAnthropic) -> None:
    async def go() -> str | None:
        message = await structbatch_inprocess_async_client.messages.create(**params())
        return message.stop_reason

    assert asyncio.run(go()) == "end_turn"
