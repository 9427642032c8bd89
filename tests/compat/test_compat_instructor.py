"""instructor, unchanged, against the emulator: TOOLS, JSON, JSON_SCHEMA, partial and iterable
streaming, the async client, and a validation re-ask."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import instructor
import pytest
from compat_models import City, check
from conftest import Target
from instructor.core import InstructorRetryException
from pydantic import BaseModel, field_validator

MODEL = "claude-haiku-4-5"
ASK: dict[str, Any] = {
    "model": MODEL,
    "max_tokens": 2048,
    "messages": [{"role": "user", "content": "Paris."}],
}


@pytest.mark.parametrize("mode", [instructor.Mode.TOOLS, instructor.Mode.JSON])
def test_create_returns_the_validated_model(target: Target, mode: instructor.Mode) -> None:
    client = instructor.from_anthropic(target.client(), mode=mode)
    check(client.messages.create(response_model=City, **ASK))


def test_json_schema_mode(target: Target) -> None:
    client = instructor.from_anthropic(target.client(), mode=instructor.Mode.JSON_SCHEMA)
    with pytest.warns(UserWarning):  # instructor falls back to JSON instructions with this SDK
        check(client.messages.create(response_model=City, **ASK))


@pytest.mark.parametrize("mode", [instructor.Mode.TOOLS, instructor.Mode.JSON])
def test_create_partial_streams_growing_objects(target: Target, mode: instructor.Mode) -> None:
    client = instructor.from_anthropic(target.client(), mode=mode)
    parts = list(client.messages.create_partial(response_model=City, **ASK))
    assert len(parts) >= 2
    check(City.model_validate(parts[-1].model_dump()))


def test_create_iterable(target: Target) -> None:
    client = instructor.from_anthropic(target.client(), mode=instructor.Mode.TOOLS)
    cities = list(client.messages.create_iterable(response_model=City, **ASK))
    assert cities and all(check(c) for c in cities)


def test_async_client(target: Target) -> None:
    async def go() -> City:
        client = instructor.from_anthropic(target.async_client(), mode=instructor.Mode.TOOLS)
        return await client.messages.create(response_model=City, **ASK)

    check(asyncio.run(go()))


class Shouted(BaseModel):
    word: str

    @field_validator("word")
    @classmethod
    def _upper(cls, value: str) -> str:
        if value != value.upper():
            raise ValueError("the word must be upper case")
        return value


def test_validation_errors_are_re_asked_until_retries_run_out(target: Target) -> None:
    # The emulator answers lower-case words; instructor re-asks with the error in a tool_result
    # turn, which the emulator must accept as the API does.
    client = instructor.from_anthropic(target.client(), mode=instructor.Mode.TOOLS)
    with pytest.raises(InstructorRetryException) as caught:
        client.messages.create(response_model=Shouted, max_retries=2, **ASK)
    assert caught.value.n_attempts == 3  # the first try and two re-asks, each accepted by the emulator


def test_list_response_model(target: Target) -> None:
    client = instructor.from_anthropic(target.client(), mode=instructor.Mode.TOOLS)
    cities = client.messages.create(response_model=Iterable[City], **ASK)
    assert all(check(c) for c in cities)
